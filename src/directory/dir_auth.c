/* dir_auth.c: users' password checks on the directory thread. A request
 * (copied by directory_auth() on the worker) takes one of two paths:
 *
 *   fast:   the snapshot names the account's DN -> wait in a FIFO for a
 *           free auth connection -> simple bind as that DN. One LDAP
 *           operation per login.
 *   search: search the account entry on the service connection -> FIFO ->
 *           simple bind as the entry's DN (two operations).
 *
 * The fast path is taken only while the snapshot is known to be current:
 * its first read is complete, the change feed (dir_sync.c) is running and
 * out of its refresh phase, and no entry change waits to be published
 * (d->nchanges == 0; with plucs/restart/listener false changes wait for a
 * reload, so logins search until then). Otherwise, and for a name the
 * snapshot does not know (a new account whose entry the feed has not
 * brought yet, a disabled one, a typo), the search path decides as before.
 * The same conditions are checked again when the bind answers: if the
 * snapshot moved meanwhile (another serial, or changes pending), the
 * answer is not trusted and the request starts over on the search path.
 *
 * Safety without the search: a removed entry cannot bind (slapd answers
 * invalidCredentials for a DN that does not exist), a renamed one neither
 * under its old DN, a wrong password neither, and a locked account
 * (ppolicy's pwdAccountLockedTime) is refused by the bind itself as today.
 * What the bind cannot see is xmppEnabled=FALSE, a changed xmppDomain or
 * uid, or a lost objectClass: the snapshot decides those, so the window in
 * which such an account can still log in is the time from the LDAP write
 * until the feed's message for it reaches the directory thread (it then
 * counts as a pending change and every later login searches). slapd's
 * syncprov sends that message as soon as the write is committed; measured
 * (tests/integration/test_login_one_op.py, local slapd, loaded 2-core
 * machine): a login started right after ldapmodify returned was refused in
 * 6 of 6 runs, i.e. the window was shorter than a login's TCP + TLS +
 * SASL round trips (about 0.1 s there). The test prints it and bounds it
 * loosely (30 s). Without a feed (a server without syncprov: polling)
 * every login searches.
 *
 * Each request has a deadline; anything that is the directory's fault
 * (unreachable, timeout, connection lost) is DIR_AUTH_UNAVAILABLE, anything
 * that is the user's (no account, wrong password) is DIR_AUTH_FAILED.
 * A request that comes while the directory is not ready (not connected yet
 * after the start, reconnecting after a loss, first full read incomplete)
 * is held, not failed: it starts when the directory is ready, or fails as
 * unavailable at its deadline (DIR_AUTH_DEADLINE_S from its arrival).
 *
 * Identity: the search matches with the directory's rules (caseIgnoreMatch
 * on uid, any of the entry's uid values), the snapshot names an account by
 * the nodeprep of its entry's first uid value. A check goes ahead only when
 * the two agree (nodeprep(first uid) == the login's localpart), so nobody
 * logs in under a name the snapshot (and with it the filter) does not
 * know: a second uid value, a look-alike that the directory matches but
 * stringprep does not, or the reverse. The fast path looks the localpart up
 * in the snapshot, which is that rule by construction. */
#include "directory/dir_internal.h"
#include "core/alloc.h"
#include "core/log.h"
#include "metrics/metrics.h"
#include "xmpp/jid.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct auth_reply {
    void (*done)(void *arg, dir_auth_result r);
    void *arg;
    dir_auth_result r;
} auth_reply;

static void reply_run(void *p)
{
    auth_reply *a = p;
    a->done(a->arg, a->r);
    free(a);
}

void dir_req_free(dir_req *r)
{
    if (!r)
        return;
    if (r->deadline)
        event_free(r->deadline);
    if (r->password) {
        explicit_bzero(r->password, r->pwlen);
        free(r->password);
    }
    free(r->localpart);
    free(r->domain);
    free(r->dn);
    free(r->uid);
    free(r);
}

void dir_req_reply(dir_req *r, dir_auth_result res)
{
    auth_reply *a = xmalloc(sizeof *a);
    if (a) {
        a->done = r->done;
        a->arg = r->arg;
        a->r = res;
        worker_post_drop(r->reply_to, reply_run, free, a);
    }
    dir_req_free(r);
}

static void fifo_push(req_fifo *q, dir_req *r)
{
    r->qnext = NULL;
    r->qprev = q->tail;
    if (q->tail) q->tail->qnext = r; else q->head = r;
    q->tail = r;
    q->n++;
}

static void fifo_remove(req_fifo *q, dir_req *r)
{
    if (r->qprev) r->qprev->qnext = r->qnext; else q->head = r->qnext;
    if (r->qnext) r->qnext->qprev = r->qprev; else q->tail = r->qprev;
    r->qnext = r->qprev = NULL;
    q->n--;
}

/* Removes r from every structure of the thread and replies. The caller has
 * already dealt with what is in flight on the wire for r. */
static void finish(dir *d, dir_req *r, dir_auth_result res)
{
    if (r->state == REQ_HELD) {
        fifo_remove(&d->held, r);
        dir_req_reply(r, res);
        return;
    }
    if (r->state == REQ_WAITING)
        fifo_remove(&d->wait, r);
    if (r->state == REQ_BINDING && r->conn)
        r->conn->req = NULL;
    if (r->state != REQ_NEW) {
        if (r->prev) r->prev->next = r->next; else d->active = r->next;
        if (r->next) r->next->prev = r->prev;
        d->nactive--;
    }
    dir_req_reply(r, res);
}

static void dispatch(dir *d);

static void close_auth_conn(dir *d, dir_conn *c)
{
    for (size_t i = 0; i < DIR_AUTH_CONNS_MAX; i++)
        if (d->auth[i] == c)
            d->auth[i] = NULL;
    dir_conn_free(c);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    dir_req *r = arg;
    dir *d = r->d;
    if (r->state == REQ_HELD) {
        log_info("auth: directory not available within %d s for %s@%s", DIR_AUTH_DEADLINE_S,
                 r->localpart, r->domain);
        finish(d, r, DIR_AUTH_UNAVAILABLE);
        return;
    }
    log_info("auth: directory did not answer in time for %s@%s", r->localpart, r->domain);
    if (r->state == REQ_SEARCHING && d->svc) {
        /* A server that cannot answer a one-entry search in this time is as
         * good as down: fail over (this fails r and every other request). */
        char why[64];
        snprintf(why, sizeof why, "no answer to a search within %d s", DIR_AUTH_DEADLINE_S);
        dir_service_lost(d, why);
        return;
    }
    if (r->state == REQ_BINDING && r->conn) {
        dir_conn *c = r->conn;
        finish(d, r, DIR_AUTH_UNAVAILABLE);
        close_auth_conn(d, c);      /* a bind cannot be abandoned */
        dispatch(d);
        return;
    }
    finish(d, r, DIR_AUTH_UNAVAILABLE);
}

/* Ready for a search: connected, and the first full read is complete. */
static bool ready(dir *d)
{
    if (d->svc_state != SVC_UP || !d->svc)
        return false;
    pthread_mutex_lock(&d->snap_lock);
    bool complete = d->snap->complete;
    pthread_mutex_unlock(&d->snap_lock);
    return complete;
}

/* Puts r on d->active (every state past the inbox and the held FIFO). */
static void activate(dir *d, dir_req *r)
{
    r->next = d->active;
    r->prev = NULL;
    if (d->active)
        d->active->prev = r;
    d->active = r;
    d->nactive++;
}

/* Whether the published snapshot is current: complete, the change feed
 * running past its refresh, nothing read but not yet published. Only then
 * may it stand in for the search (see the header comment). */
static bool snapshot_current(dir *d)
{
    return d->sync_msgid >= 0 && !d->sync_refreshing && !d->loads_running &&
           atomic_load(&d->nchanges) == 0 && d->snap->complete;
}

/* The fast path: when the snapshot is current and knows the account, sets
 * r->dn to its DN (and r->serial) and returns true. d->snap is written only
 * on this thread, so reading it here needs no lock. */
static bool fast_dn(dir *d, dir_req *r)
{
    if (!snapshot_current(d))
        return false;
    const dir_account *a = dir_snapshot_account(d->snap, r->localpart, r->domain);
    if (!a || !a->dn)
        return false;
    free(r->dn);
    r->dn = xstrdup(a->dn);
    if (!r->dn)
        return false;
    r->fast = true;
    r->serial = d->snap->serial;
    return true;
}

/* The fast path's bind answered: whether that answer may stand, i.e. the
 * snapshot is still current and still names the same DN for the account. */
static bool fast_still_valid(dir *d, dir_req *r)
{
    if (!snapshot_current(d))
        return false;
    if (d->snap->serial == r->serial)
        return true;
    const dir_account *a = dir_snapshot_account(d->snap, r->localpart, r->domain);
    return a && a->dn && !strcmp(a->dn, r->dn);
}

/* The search path: r is on d->active (state REQ_NEW, or a fast request
 * starting over); searches the account entry on the service connection. */
static void start_search(dir *d, dir_req *r)
{
    r->fast = false;
    free(r->dn);
    free(r->uid);
    r->dn = r->uid = NULL;
    r->nentries = 0;
    r->state = REQ_SEARCHING;   /* finish() below takes it off d->active */
    char *ul = ldap_filter_escape(r->localpart), *ud = ldap_filter_escape(r->domain), *filter = NULL;
    if (!ul || !ud || asprintf(&filter, "(&(objectClass=univentionXMPPAccount)(uid=%s)"
                               "(xmppEnabled=TRUE)(xmppDomain=%s))", ul, ud) < 0)
        filter = NULL;
    free(ul);
    free(ud);
    if (!filter || !d->svc) {
        free(filter);
        finish(d, r, DIR_AUTH_UNAVAILABLE);
        return;
    }
    char *attrs[] = { "uid", NULL };
    int rc = ldap_search_ext(d->svc->ld, d->set->base, LDAP_SCOPE_SUBTREE, filter,
                             attrs, 0, NULL, NULL, NULL, 2, &r->msgid);
    free(filter);
    if (rc != LDAP_SUCCESS) {
        char err[300];
        dir_conn_error(d->svc, rc, err, sizeof err);
        finish(d, r, DIR_AUTH_UNAVAILABLE);
        if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)
            dir_service_lost(d, err);
        return;
    }
    metrics_ldap_auth_op(true);
}

void dir_auth_begin(dir *d, dir_req *r)
{
    r->d = d;
    if (!r->deadline) {
        /* The deadline runs from the request's arrival, held or not. */
        struct timeval tv = { DIR_AUTH_DEADLINE_S, 0 };
        r->deadline = evtimer_new(d->base, deadline_cb, r);
        if (!r->deadline || evtimer_add(r->deadline, &tv) != 0) {
            finish(d, r, DIR_AUTH_UNAVAILABLE);
            return;
        }
    }
    if (d->nactive + d->held.n >= DIR_MAX_REQUESTS) {
        log_warn("auth: too many pending directory requests; refusing %s@%s", r->localpart, r->domain);
        finish(d, r, DIR_AUTH_UNAVAILABLE);
        return;
    }
    if (!ready(d)) {
        log_debug("auth: directory not ready; holding %s@%s", r->localpart, r->domain);
        r->state = REQ_HELD;
        fifo_push(&d->held, r);
        return;
    }
    pthread_mutex_lock(&d->snap_lock);
    bool served = dir_snapshot_serves(d->snap, r->domain);
    pthread_mutex_unlock(&d->snap_lock);
    if (!served) {
        log_info("auth: domain %s is not served (%s@%s)", r->domain, r->localpart, r->domain);
        finish(d, r, DIR_AUTH_FAILED);
        return;
    }
    activate(d, r);
    if (fast_dn(d, r)) {
        r->state = REQ_WAITING;
        fifo_push(&d->wait, r);
        dispatch(d);
        return;
    }
    start_search(d, r);
}

static dir_req *find_searching(dir *d, int msgid)
{
    for (dir_req *r = d->active; r; r = r->next)
        if (r->state == REQ_SEARCHING && r->msgid == msgid)
            return r;
    return NULL;
}

static void search_done(dir *d, dir_req *r, LDAPMessage *msg)
{
    int rc = LDAP_OTHER;
    int prc = ldap_parse_result(d->svc->ld, msg, &rc, NULL, NULL, NULL, NULL, 1);
    if (prc != LDAP_SUCCESS)
        rc = prc;
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_NO_SUCH_OBJECT) {
        log_info("auth: directory search failed for %s@%s: %s", r->localpart, r->domain,
                 ldap_err2string(rc));
        finish(d, r, DIR_AUTH_UNAVAILABLE);
        return;
    }
    if (r->nentries == 0 || !r->dn) {
        log_info("auth: no account %s@%s", r->localpart, r->domain);
        finish(d, r, DIR_AUTH_FAILED);
        return;
    }
    if (r->nentries > 1) {
        log_info("auth: %d entries match %s@%s; refusing", r->nentries, r->localpart, r->domain);
        finish(d, r, DIR_AUTH_FAILED);
        return;
    }
    char *prepped = r->uid ? jid_nodeprep(r->uid) : NULL;
    bool same = prepped && !strcmp(prepped, r->localpart);
    free(prepped);
    if (!same) {
        log_info("auth: %s: its uid '%s' is not the login name %s@%s after stringprep "
                 "(the snapshot knows the entry under its first uid); refusing", r->dn,
                 r->uid ? r->uid : "", r->localpart, r->domain);
        finish(d, r, DIR_AUTH_FAILED);
        return;
    }
    r->state = REQ_WAITING;
    fifo_push(&d->wait, r);
    dispatch(d);
}

bool dir_auth_search_message(dir *d, LDAPMessage *msg)
{
    dir_req *r = find_searching(d, ldap_msgid(msg));
    if (!r)
        return false;
    if (ldap_msgtype(msg) == LDAP_RES_SEARCH_ENTRY) {
        if (r->nentries++ == 0) {
            char *dn = ldap_get_dn(d->svc->ld, msg);
            r->dn = dn ? xstrdup(dn) : NULL;
            ldap_memfree(dn);
            struct berval **v = ldap_get_values_len(d->svc->ld, msg, "uid");
            if (v && v[0] && !memchr(v[0]->bv_val, 0, v[0]->bv_len))
                r->uid = xstrndup(v[0]->bv_val, v[0]->bv_len);
            ldap_value_free_len(v);
        }
        ldap_msgfree(msg);
    } else if (ldap_msgtype(msg) == LDAP_RES_SEARCH_RESULT) {
        search_done(d, r, msg);
    } else {
        ldap_msgfree(msg);
    }
    return true;
}

/* Starts the bind of r on auth slot i (connecting it if needed). */
static void start_bind(dir *d, size_t i, dir_req *r)
{
    char err[300] = "";
    fifo_remove(&d->wait, r);
    if (!d->auth[i])
        d->auth[i] = dir_conn_new(d, d->svc->uri, false, err, sizeof err);
    dir_conn *c = d->auth[i];
    if (!c) {
        r->state = REQ_SEARCHING;   /* off the FIFO; nothing on the wire */
        log_info("auth: cannot open an auth connection for %s@%s: %s", r->localpart, r->domain, err);
        finish(d, r, DIR_AUTH_UNAVAILABLE);
        return;
    }
    struct berval cred = { r->pwlen, r->password };
    int rc = ldap_sasl_bind(c->ld, r->dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, &c->msgid);
    if (!r->fast)   /* a fast request may still have to start over */
        explicit_bzero(r->password, r->pwlen);
    if (rc == LDAP_SUCCESS)
        metrics_ldap_auth_op(false);
    r->state = REQ_BINDING;
    r->conn = c;
    c->req = r;
    if (rc != LDAP_SUCCESS || dir_conn_watch(c) != 0) {
        dir_conn_error(c, rc, err, sizeof err);
        log_info("auth: cannot bind for %s@%s: %s", r->localpart, r->domain, err);
        finish(d, r, DIR_AUTH_UNAVAILABLE);
        close_auth_conn(d, c);
    }
}

static void dispatch(dir *d)
{
    size_t n = (size_t)d->set->auth_conns;
    for (size_t i = 0; i < n && d->wait.head && d->svc; i++)
        if (!d->auth[i] || !d->auth[i]->req)
            start_bind(d, i, d->wait.head);
}

/* An idle auth connection beyond plucs/ldap/auth_connections (lowered by
 * a reload) is closed once its bind has answered. */
static void trim_idle(dir *d, dir_conn *c)
{
    for (size_t i = (size_t)d->set->auth_conns; i < DIR_AUTH_CONNS_MAX; i++)
        if (d->auth[i] == c && !c->req) {
            close_auth_conn(d, c);
            return;
        }
}

void dir_auth_bind_message(dir_conn *c, LDAPMessage *msg)
{
    dir *d = c->d;
    dir_req *r = c->req;
    if (!r || ldap_msgtype(msg) != LDAP_RES_BIND || ldap_msgid(msg) != c->msgid) {
        ldap_msgfree(msg);
        return;
    }
    int rc = LDAP_OTHER;
    int prc = ldap_parse_result(c->ld, msg, &rc, NULL, NULL, NULL, NULL, 1);
    if (prc != LDAP_SUCCESS)
        rc = prc;
    c->msgid = -1;
    if (r->fast && (rc == LDAP_SUCCESS || rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_NO_SUCH_OBJECT ||
                    rc == LDAP_INVALID_DN_SYNTAX) && !fast_still_valid(d, r)) {
        /* The directory changed while the bind was on the wire: the
         * snapshot's word about the account is stale, ask the directory. */
        log_debug("auth: directory changed during the bind for %s@%s; searching", r->localpart,
                  r->domain);
        c->req = NULL;
        r->conn = NULL;
        trim_idle(d, c);            /* before: a failed search may close c */
        start_search(d, r);
        dispatch(d);
        return;
    }
    switch (rc) {
    case LDAP_SUCCESS:
        log_debug("auth: %s@%s authenticated", r->localpart, r->domain);
        finish(d, r, DIR_AUTH_OK);
        break;
    case LDAP_INVALID_CREDENTIALS:
        if (r->fast)    /* slapd says the same for a DN that no longer exists */
            log_info("auth: wrong password for %s@%s (or its entry %s is gone)", r->localpart,
                     r->domain, r->dn);
        else
            log_info("auth: wrong password for %s@%s", r->localpart, r->domain);
        finish(d, r, DIR_AUTH_FAILED);
        break;
    case LDAP_INAPPROPRIATE_AUTH: case LDAP_UNWILLING_TO_PERFORM: case LDAP_INSUFFICIENT_ACCESS:
    case LDAP_CONSTRAINT_VIOLATION: case LDAP_NO_SUCH_OBJECT: case LDAP_INVALID_DN_SYNTAX:
        log_info("auth: directory refused %s@%s: %s", r->localpart, r->domain, ldap_err2string(rc));
        finish(d, r, DIR_AUTH_FAILED);
        break;
    default:
        log_info("auth: directory error for %s@%s: %s", r->localpart, r->domain, ldap_err2string(rc));
        finish(d, r, DIR_AUTH_UNAVAILABLE);
        close_auth_conn(d, c);
        c = NULL;
        break;
    }
    if (c)
        trim_idle(d, c);
    dispatch(d);
}

void dir_auth_conn_lost(dir_conn *c, const char *reason)
{
    dir *d = c->d;
    if (c->req) {
        log_info("auth: lost the directory while checking %s@%s: %s", c->req->localpart,
                 c->req->domain, reason);
        finish(d, c->req, DIR_AUTH_UNAVAILABLE);
    }
    close_auth_conn(d, c);
    dispatch(d);
}

void dir_auth_close_conns(dir *d)
{
    for (size_t i = 0; i < DIR_AUTH_CONNS_MAX; i++) {
        dir_conn *c = d->auth[i];
        if (!c)
            continue;
        if (c->req)
            finish(d, c->req, DIR_AUTH_UNAVAILABLE);
        d->auth[i] = NULL;
        dir_conn_free(c);
    }
}

void dir_auth_fail_all(dir *d)
{
    dir_auth_close_conns(d);
    while (d->active) {
        dir_req *r = d->active;
        if (r->state == REQ_SEARCHING && d->svc)
            ldap_abandon_ext(d->svc->ld, r->msgid, NULL, NULL);
        finish(d, r, DIR_AUTH_UNAVAILABLE);
    }
}

void dir_auth_release_held(dir *d)
{
    if (!d->held.head || !ready(d))
        return;
    /* Detached first: a request may be held again (the connection can be
     * lost while they start) and must not be seen twice here. */
    dir_req *r = d->held.head;
    size_t n = d->held.n;
    d->held = (req_fifo){ 0 };
    log_debug("auth: directory ready; starting %zu held request%s", n, n == 1 ? "" : "s");
    while (r) {
        dir_req *next = r->qnext;
        r->qnext = r->qprev = NULL;
        r->state = REQ_NEW;
        dir_auth_begin(d, r);
        r = next;
    }
}

void dir_auth_fail_held(dir *d)
{
    while (d->held.head)
        finish(d, d->held.head, DIR_AUTH_UNAVAILABLE);
}
