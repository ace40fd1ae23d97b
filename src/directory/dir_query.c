/* dir_query.c: the directory thread's side of dir_query.h. A worker builds
 * the filter (pure, dir_query_filter.c) and appends the query to this
 * file's own inbox (a locked list plus a wake-up event on the directory's
 * event base); the directory thread sends it as an asynchronous search on
 * the service connection, collects the entries into dir_records and posts
 * the result back with worker_post_drop. Queries have a deadline and a
 * global cap; a lost connection or a stop fails them as UNAVAILABLE, so a
 * worker always gets exactly one answer (or its drop function). Only four
 * hooks connect this to directory.c and dir_service.c. */
#include "directory/dir_query.h"
#include "core/alloc.h"
#include "directory/dir_internal.h"
#include "core/log.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DQ_MAX_QUERIES   2000      /* queued + in flight; beyond: UNAVAILABLE */
#define DQ_DEADLINE_S    DIR_AUTH_DEADLINE_S

typedef enum { DQ_ACCOUNT, DQ_SEARCH } dq_kind;

typedef struct dq {
    struct dq *next, *prev;       /* inbox (next only), then the active list */
    worker *reply_to;
    dir_query_done done;
    void (*drop)(void *arg);
    void *arg;
    dq_kind kind;
    char *what;                   /* for the log: "alice@a.test", "search in a.test" */
    char *filter;
    char **attrs;                 /* NULL-terminated, owned */
    size_t max;                   /* records kept */
    int msgid;
    int nentries;
    struct event *deadline;
    dir_query_result res;
} dq;

static struct {
    pthread_mutex_t lock;
    dir *d;                       /* lock: NULL when not attached */
    struct event *ev_wake;        /* lock (pointer), created on attach */
    dq *inbox_head, *inbox_tail;  /* lock */
    size_t count;                 /* lock: queued + in flight */
    dq *active;                   /* directory thread only */
} Q = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- replies (run on the worker) ---- */

static void result_clear(dir_query_result *res)
{
    for (size_t i = 0; i < res->nrecords; i++)
        dir_record_clear(&res->records[i]);
    free(res->records);
    res->records = NULL;
    res->nrecords = 0;
}

static void dq_free(dq *q)
{
    if (q->deadline)
        event_free(q->deadline);
    for (size_t i = 0; q->attrs && q->attrs[i]; i++)
        free(q->attrs[i]);
    free(q->attrs);
    free(q->filter);
    free(q->what);
    result_clear(&q->res);
    free(q);
}

static void reply_run(void *p)
{
    dq *q = p;
    q->done(q->arg, &q->res);
    dq_free(q);
}

static void reply_drop(void *p)
{
    dq *q = p;
    if (q->drop)
        q->drop(q->arg);
    dq_free(q);
}

/* Posts q's answer. Everything that belongs to the directory thread (the
 * deadline event) is released here, on that thread. */
static void reply(dq *q, dir_query_status st)
{
    if (q->deadline) {
        event_free(q->deadline);
        q->deadline = NULL;
    }
    q->res.status = st;
    if (st != DIR_QUERY_OK)
        result_clear(&q->res);
    worker_post_drop(q->reply_to, reply_run, reply_drop, q);
}

/* Answers a query that has left the count (inbox or active) behind. */
static void finish(dq *q, dir_query_status st)
{
    pthread_mutex_lock(&Q.lock);
    Q.count--;
    pthread_mutex_unlock(&Q.lock);
    reply(q, st);
}

static void active_remove(dq *q)
{
    if (q->prev) q->prev->next = q->next; else Q.active = q->next;
    if (q->next) q->next->prev = q->prev;
    q->next = q->prev = NULL;
}

/* ---- submission (any worker) ---- */

static char **attrs_copy(const char *const *attrs)
{
    size_t n = 0;
    while (attrs && attrs[n])
        n++;
    char **c = xcalloc(n + 1, sizeof *c);
    for (size_t i = 0; c && i < n; i++) {
        if (!(c[i] = xstrdup(attrs[i]))) {
            for (size_t j = 0; j < i; j++)
                free(c[j]);
            free(c);
            return NULL;
        }
    }
    return c;
}

static dq *dq_new(worker *w, dq_kind kind, dir_query_done done, void (*drop)(void *), void *arg)
{
    dq *q = xcalloc(1, sizeof *q);
    q->reply_to = w;
    q->kind = kind;
    q->done = done;
    q->drop = drop;
    q->arg = arg;
    q->msgid = -1;
    return q;
}

static void submit(dq *q)
{
    pthread_mutex_lock(&Q.lock);
    bool refuse = !Q.d || Q.count >= DQ_MAX_QUERIES;
    if (!refuse) {
        q->next = NULL;
        if (Q.inbox_tail)
            Q.inbox_tail->next = q;
        else
            Q.inbox_head = q;
        Q.inbox_tail = q;
        Q.count++;
        /* under the lock: detach frees the event only after taking it */
        event_active(Q.ev_wake, EV_TIMEOUT, 0);
    }
    pthread_mutex_unlock(&Q.lock);
    if (refuse) {
        log_info("directory: query (%s) refused: directory stopped or too many queries",
                 q->what ? q->what : "?");
        reply(q, DIR_QUERY_UNAVAILABLE);
    }
}

/* Fails a query that could not even be set up (allocation failure). */
static void submit_failed(worker *w, dir_query_done done, void (*drop)(void *), void *arg, dq *q)
{
    if (!q)
        q = dq_new(w, DQ_ACCOUNT, done, drop, arg);
    if (q)
        reply(q, DIR_QUERY_UNAVAILABLE);
    else if (drop)
        drop(arg);     /* nothing can carry the answer: at least do not leak */
}

void dir_query_account(worker *reply_to, const char *uid, const char *domain,
                       const char *const *attrs, dir_query_done done,
                       void (*drop)(void *arg), void *arg)
{
    dq *q = dq_new(reply_to, DQ_ACCOUNT, done, drop, arg);
    if (!q || !uid || !domain || !(q->filter = dir_account_filter(uid, domain)) ||
        !(q->attrs = attrs_copy(attrs)) || asprintf(&q->what, "%s@%s", uid, domain) < 0) {
        if (q)
            q->what = NULL;
        submit_failed(reply_to, done, drop, arg, q);
        return;
    }
    q->max = 1;
    submit(q);
}

void dir_query_search(worker *reply_to, const char *domain, const dir_search_terms *terms,
                      size_t max, const char *const *attrs, dir_query_done done,
                      void (*drop)(void *arg), void *arg)
{
    dq *q = dq_new(reply_to, DQ_SEARCH, done, drop, arg);
    if (!q || !domain || !terms || !(q->filter = dir_search_filter(domain, terms)) ||
        !(q->attrs = attrs_copy(attrs)) || asprintf(&q->what, "search in %s", domain) < 0) {
        if (q)
            q->what = NULL;
        submit_failed(reply_to, done, drop, arg, q);
        return;
    }
    q->max = max;
    submit(q);
}

/* ---- the directory thread ---- */

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    dq *q = arg;
    dir *d = Q.d;
    log_info("directory: no answer within %d s to a query (%s)", DQ_DEADLINE_S, q->what);
    if (d && d->svc && q->msgid >= 0)
        ldap_abandon_ext(d->svc->ld, q->msgid, NULL, NULL);
    active_remove(q);
    finish(q, DIR_QUERY_UNAVAILABLE);
}

static void begin(dir *d, dq *q)
{
    if (d->svc_state != SVC_UP || !d->svc) {
        log_debug("directory: unavailable for a query (%s)", q->what);
        finish(q, DIR_QUERY_UNAVAILABLE);
        return;
    }
    if (!(q->deadline = evtimer_new(d->base, deadline_cb, q))) {
        finish(q, DIR_QUERY_UNAVAILABLE);
        return;
    }
    /* account: 2 finds "more than one"; search: max + 1 finds truncation */
    int sizelimit = (int)q->max + 1;
    int rc = ldap_search_ext(d->svc->ld, d->set->base, LDAP_SCOPE_SUBTREE, q->filter,
                             q->attrs, 0, NULL, NULL, NULL, sizelimit, &q->msgid);
    if (rc != LDAP_SUCCESS) {
        char err[300];
        dir_conn_error(d->svc, rc, err, sizeof err);
        log_info("directory: cannot send a query (%s): %s", q->what, err);
        finish(q, DIR_QUERY_UNAVAILABLE);
        if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)
            dir_service_lost(d, err);
        return;
    }
    struct timeval tv = { DQ_DEADLINE_S, 0 };
    evtimer_add(q->deadline, &tv);
    q->prev = NULL;
    q->next = Q.active;
    if (Q.active)
        Q.active->prev = q;
    Q.active = q;
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    dir *d = arg;
    pthread_mutex_lock(&Q.lock);
    dq *q = Q.inbox_head;
    Q.inbox_head = Q.inbox_tail = NULL;
    pthread_mutex_unlock(&Q.lock);
    while (q) {
        dq *n = q->next;
        q->next = NULL;
        begin(d, q);
        q = n;
    }
}

int dir_query_attach(dir *d)
{
    struct event *ev = event_new(d->base, -1, 0, wake_cb, d);
    if (!ev)
        return -1;
    pthread_mutex_lock(&Q.lock);
    Q.d = d;
    Q.ev_wake = ev;
    pthread_mutex_unlock(&Q.lock);
    return 0;
}

void dir_query_detach(dir *d)
{
    pthread_mutex_lock(&Q.lock);
    if (Q.d != d) {
        pthread_mutex_unlock(&Q.lock);
        return;
    }
    Q.d = NULL;
    struct event *ev = Q.ev_wake;
    Q.ev_wake = NULL;
    dq *q = Q.inbox_head;
    Q.inbox_head = Q.inbox_tail = NULL;
    pthread_mutex_unlock(&Q.lock);
    /* The thread has ended (or never started): nothing else touches these. */
    while (q) {
        dq *n = q->next;
        finish(q, DIR_QUERY_UNAVAILABLE);
        q = n;
    }
    while (Q.active) {
        dq *a = Q.active;
        active_remove(a);
        finish(a, DIR_QUERY_UNAVAILABLE);
    }
    if (ev)
        event_free(ev);
}

void dir_query_fail_all(dir *d)
{
    while (Q.active) {
        dq *q = Q.active;
        if (d->svc && q->msgid >= 0)
            ldap_abandon_ext(d->svc->ld, q->msgid, NULL, NULL);
        active_remove(q);
        finish(q, DIR_QUERY_UNAVAILABLE);
    }
}

static dq *find_active(int msgid)
{
    for (dq *q = Q.active; q; q = q->next)
        if (q->msgid == msgid)
            return q;
    return NULL;
}

/* Copies every attribute of entry e into a new record of q's result. */
static void keep_entry(LDAP *ld, dq *q, LDAPMessage *e)
{
    dir_record *recs = xrealloc(q->res.records, (q->res.nrecords + 1) * sizeof *recs);
    q->res.records = recs;
    dir_record *r = &recs[q->res.nrecords++];
    memset(r, 0, sizeof *r);
    char *dn = ldap_get_dn(ld, e);
    r->dn = dn ? xstrdup(dn) : NULL;
    ldap_memfree(dn);
    BerElement *ber = NULL;
    for (char *a = ldap_first_attribute(ld, e, &ber); a; a = ldap_next_attribute(ld, e, ber)) {
        struct berval **vals = ldap_get_values_len(ld, e, a);
        for (size_t i = 0; vals && vals[i]; i++)
            dir_record_add(r, a, vals[i]->bv_val, vals[i]->bv_len);
        ldap_value_free_len(vals);
        ldap_memfree(a);
    }
    if (ber)
        ber_free(ber, 0);
}

static void search_done(dir *d, dq *q, LDAPMessage *msg)
{
    int rc = LDAP_OTHER;
    int prc = ldap_parse_result(d->svc->ld, msg, &rc, NULL, NULL, NULL, NULL, 1);
    if (prc != LDAP_SUCCESS)
        rc = prc;
    active_remove(q);
    bool limited = rc == LDAP_SIZELIMIT_EXCEEDED || rc == LDAP_ADMINLIMIT_EXCEEDED;
    if (rc != LDAP_SUCCESS && !limited && rc != LDAP_NO_SUCH_OBJECT) {
        log_info("directory: query (%s) failed: %s", q->what, ldap_err2string(rc));
        finish(q, DIR_QUERY_UNAVAILABLE);
        return;
    }
    if (q->kind == DQ_ACCOUNT) {
        if (q->nentries > 1)
            log_info("directory: %d entries match %s; not an account", q->nentries, q->what);
        finish(q, q->nentries == 1 && q->res.nrecords == 1 ? DIR_QUERY_OK : DIR_QUERY_NOT_FOUND);
        return;
    }
    q->res.truncated = limited || (size_t)q->nentries > q->max;
    log_debug("directory: %s: %d entries%s", q->what, q->nentries,
              q->res.truncated ? " (truncated)" : "");
    finish(q, DIR_QUERY_OK);
}

bool dir_query_message(dir *d, struct ldapmsg *msg)
{
    dq *q = find_active(ldap_msgid(msg));
    if (!q)
        return false;
    switch (ldap_msgtype(msg)) {
    case LDAP_RES_SEARCH_ENTRY:
        if ((size_t)q->nentries++ < q->max)
            keep_entry(d->svc->ld, q, msg);
        ldap_msgfree(msg);
        break;
    case LDAP_RES_SEARCH_RESULT:
        search_done(d, q, msg);
        break;
    default:                     /* references: not followed */
        ldap_msgfree(msg);
        break;
    }
    return true;
}
