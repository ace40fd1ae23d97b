/* router.c: stanza routing, see router.h. Runs on the worker of the sending
 * session. It resolves the destination, asks the policy stage for a verdict
 * and delivers through the locator; every IM-specific step is an event
 * (router/events.h) that modules handle. */
#include "router/router.h"
#include "transport/s2s.h"
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/i18n.h"
#include "core/log.h"
#include "router/events.h"
#include "router/policy.h"
#include "router/policy_index.h"
#include "router/routes.h"
#include "router/services.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

static dir_snapshot **snaps;   /* per worker, replaced only on that worker */
static int nsnaps;
static const dir_snapshot *no_worker_snap;   /* router_set_snapshot() */
static const session_locator *loc = &locator_local;

void router_set_locator(const session_locator *l) { loc = l ? l : &locator_local; }
void router_set_snapshot(const dir_snapshot *snap) { no_worker_snap = snap; }

/* ---- directory snapshots, one reference per worker ---- */

typedef struct snap_job {
    int worker;
    dir_snapshot *snap;
} snap_job;

static _Atomic uint64_t latest_serial;   /* of the last snapshot published */

/* Installs snap (reference passed) as worker i's snapshot unless it is not
 * newer than the one installed; sessions catch up with what changed
 * (rosters, presence, accounts). */
static void install(int i, dir_snapshot *snap)
{
    dir_snapshot *old = snaps[i];
    if (old && snap->serial <= old->serial) {
        dir_snapshot_unref(snap);
        return;
    }
    snaps[i] = snap;
    events_snapshot(old, config_current(), snap);
    if (old)
        dir_snapshot_unref(old);
}

static void snap_install(void *arg)
{
    snap_job *j = arg;
    install(j->worker, j->snap);
    free(j);
}

/* Before a stanza from a client or a peer is acted on: a worker whose
 * inbox still holds a newer snapshot installs it now, so a user removed
 * from a group on another worker's view is removed on this one too before
 * their next presence is broadcast. Called at the top of the stanza path
 * only (hooks run here as at a loop turn). */
static void catch_up(void)
{
    worker *w = worker_self();
    if (!w || !snaps)
        return;
    int i = worker_id(w);
    if (snaps[i] && snaps[i]->serial >= atomic_load(&latest_serial))
        return;
    dir_snapshot *latest = directory_snapshot();
    if (latest)
        install(i, latest);
}

static void cfg_changed(void *arg)
{
    const dir_snapshot *s = router_snapshot();
    if (s)
        events_snapshot(s, arg, s);
}

void router_config_changed(const config *old)
{
    for (int i = 0; i < nsnaps && worker_get(i); i++)
        worker_post(worker_get(i), cfg_changed, (void *)old);
}

static void snap_drop(void *arg)
{
    snap_job *j = arg;
    dir_snapshot_unref(j->snap);
    free(j);
}

static void on_snapshot(dir_snapshot *snap, void *ud)
{
    atomic_store(&latest_serial, snap->serial);
    for (int i = 0; i < nsnaps && worker_get(i); i++) {
        snap_job *j = xmalloc(sizeof *j);
        j->worker = i;
        j->snap = dir_snapshot_ref(snap);
        worker_post_drop(worker_get(i), snap_install, snap_drop, j);
    }
    dir_snapshot_unref(snap);
}

void router_init(int nworkers)
{
    nsnaps = nworkers;
    snaps = xcalloc((size_t)nworkers, sizeof *snaps);
    policy_index_init(nworkers);
    directory_on_snapshot(on_snapshot, NULL);
}

void router_shutdown(void)
{
    for (int i = 0; i < nsnaps; i++)
        if (snaps[i])
            dir_snapshot_unref(snaps[i]);
    free(snaps);
    snaps = NULL;
    nsnaps = 0;
    policy_index_shutdown();
}

const dir_snapshot *router_snapshot(void)
{
    worker *w = worker_self();
    if (!w || !snaps)
        return no_worker_snap;
    int i = worker_id(w);
    if (!snaps[i])
        snaps[i] = directory_snapshot();
    return snaps[i];
}

bool router_serves(const char *domain)
{
    const dir_snapshot *s = router_snapshot();
    if (s && dir_snapshot_serves(s, domain))
        return true;
    if (!worker_self())
        return false;
    /* The directory may have published a domain this worker has not
     * installed yet (its inbox is a loop turn behind): ask the latest. */
    dir_snapshot *latest = directory_snapshot();
    bool served = latest && latest != s && dir_snapshot_serves(latest, domain);
    if (latest)
        dir_snapshot_unref(latest);
    return served;
}

const dir_account *router_account(const char *bare)
{
    const dir_snapshot *snap = router_snapshot();
    const char *at = bare ? strchr(bare, '@') : NULL;
    if (!snap || !at || (size_t)(at - bare) > JID_PART_MAX)
        return NULL;
    char node[JID_PART_MAX + 1];
    memcpy(node, bare, (size_t)(at - bare));
    node[at - bare] = 0;
    return dir_snapshot_account(snap, node, at + 1);
}

/* The account a prepared JID names in the calling worker's snapshot. */
static const dir_account *account_of(const jid *j)
{
    const dir_snapshot *snap = router_snapshot();
    return snap && j->node ? dir_snapshot_account(snap, j->node, j->domain) : NULL;
}

size_t router_resources(const char *bare, route_ref *out, size_t max)
{
    return loc->resources(bare, out, max);
}

void router_deliver_ref(const route_ref *r, xnode *st) { loc->deliver(r, st); }

/* ---- the path: resolve, policy, deliver ---- */

static bool is_get_or_set(const xnode *st)
{
    const char *type = xnode_attr(st, "type");
    return type && (!strcmp(type, "get") || !strcmp(type, "set"));
}

static void route_to(xnode *st, const jid *to, session *origin, bool trusted);

void router_bounce(const xnode *st, const char *type, const char *condition, const char *text)
{
    xnode *r = stanza_error_reply(st, type, condition, text);
    const char *to_s = r ? xnode_attr(r, "to") : NULL;
    jid to;
    if (to_s && jid_parse(to_s, &to) == 0) {
        route_to(r, &to, NULL, true);   /* an error reply is never filtered */
        jid_clear(&to);
    } else {
        xnode_free(r);
    }
}

void router_deliver_session(session *s, xnode *st)
{
    if (!xnode_attr(st, "to"))
        xnode_set_attr(st, "to", s->full);
    if (events_stanza(EV_INBOUND, s, st) == HOOK_CONTINUE)
        session_send(s, st);
    xnode_free(st);
}

/* RFC 6121 §8.5: a stanza to a bare JID (st owned). */
static void deliver_bare(xnode *st, const char *bare, stanza_kind kind, session *origin)
{
    route_ref refs[ROUTES_MAX_RESOURCES];
    size_t n = loc->resources(bare, refs, ROUTES_MAX_RESOURCES);
    const char *type = xnode_attr(st, "type");
    if (!type)
        type = kind == STANZA_MESSAGE ? "normal" : "";

    if (kind != STANZA_MESSAGE) {
        /* presence (and server-generated iq) to a bare JID: every available
         * resource */
        for (size_t i = 0; i < n; i++)
            if (refs[i].available)
                loc->deliver(&refs[i], xnode_copy(st));
        xnode_free(st);
        return;
    }
    if (!strcmp(type, "groupchat")) {
        router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
        xnode_free(st);
        return;
    }
    if (!strcmp(type, "headline") || !strcmp(type, "error")) {
        for (size_t i = 0; i < n; i++)
            if (refs[i].available && refs[i].priority >= 0)
                loc->deliver(&refs[i], xnode_copy(st));
        xnode_free(st);
        return;
    }
    /* chat and normal: every resource at the top non-negative priority */
    size_t top[ROUTES_MAX_RESOURCES];
    size_t k = routes_pick_top(refs, n, top);
    if (k) {
        for (size_t i = 0; i + 1 < k; i++)
            loc->deliver(&refs[top[i]], xnode_copy(st));
        loc->deliver(&refs[top[k - 1]], st);
        return;
    }
    if (!router_account(bare) || events_undeliverable(origin, st, bare) == HOOK_CONTINUE)
        router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
    xnode_free(st);
}

void router_session_gone(xnode *st)
{
    /* The session ended while the stanza travelled. A message goes to the
     * account as if sent to its bare JID (RFC 6121 §8.5.3.2.1: another
     * resource, or the undeliverable event); an iq is answered. */
    stanza_kind k = stanza_kind_of(st);
    const char *to_s = xnode_attr(st, "to");
    jid to;
    if (k == STANZA_MESSAGE && to_s && jid_parse(to_s, &to) == 0) {
        char *bare = jid_bare_string(&to);
        jid_clear(&to);
        deliver_bare(st, bare, k, NULL);
        free(bare);
        return;
    }
    if (k == STANZA_IQ && is_get_or_set(st))
        router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
    xnode_free(st);
}

static void route_local(xnode *st, const jid *to, stanza_kind kind, session *origin)
{
    char *bare = jid_bare_string(to);
    if (to->resource) {
        route_ref r;
        if (loc->resource(bare, to->resource, &r)) {
            loc->deliver(&r, st);
        } else if (kind == STANZA_MESSAGE) {
            deliver_bare(st, bare, kind, origin);
        } else {
            /* RFC 6121 §8.5.3.2.2: an iq get/set is answered; a result or
             * error for a gone resource is dropped (never an error for an
             * error), presence is dropped. */
            if (kind == STANZA_IQ && is_get_or_set(st))
                router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
            xnode_free(st);
        }
    } else {
        deliver_bare(st, bare, kind, origin);
    }
    free(bare);
}

/* Routing once the destination is parsed (to: st's prepared 'to'); st
 * owned. trusted: server-generated errors, never filtered. */
static void route_to(xnode *st, const jid *to, session *origin, bool trusted)
{
    stanza_kind kind = stanza_kind_of(st);
    service_handler_fn service = router_service(to->domain);
    if (service) {
        /* A service domain (MUC): the module judges and delivers; it
         * applies the policy stage itself where it belongs (private
         * messages by real JIDs), groupchat is not filtered. */
        service(st);
        return;
    }
    bool local = router_serves(to->domain);
    if (local && !to->node) {
        xnode_free(st);   /* server-generated traffic to the server itself */
        return;
    }
    /* The policy stage judges stanzas to local accounts and to remote
     * parties alike (a remote party is a user in no group); errors the
     * server generates are never filtered. */
    if (!trusted) {
        switch (policy_check(router_snapshot(), st, kind, to, origin)) {
        case POLICY_ALLOW:
            break;
        case POLICY_REFUSE:
            router_bounce(st, ERR_CANCEL, "policy-violation",
                           i18n(origin ? origin->lang : NULL, T_POLICY_MESSAGE));
            /* fall through */
        case POLICY_DROP:
            xnode_free(st);
            return;
        }
    }
    if (kind == STANZA_MESSAGE && events_stanza(EV_MESSAGE_ROUTED, origin, st) == HOOK_STOP) {
        xnode_free(st);
        return;
    }
    if (!local) {
        /* Another domain: federation's, when it is on. Otherwise
         * unreachable; presence is never answered with an error (it would
         * leak), nor is an error. */
        if (s2s_send(st))
            return;
        if (kind != STANZA_PRESENCE)
            router_bounce(st, ERR_CANCEL, "remote-server-not-found", NULL);
        xnode_free(st);
        return;
    }
    route_local(st, to, kind, origin);
}

void router_route(xnode *st)
{
    const char *to_s = xnode_attr(st, "to");
    jid to;
    if (!to_s || jid_parse(to_s, &to) != 0) {
        log_debug("router: dropping stanza with missing or invalid to='%s'", to_s ? to_s : "");
        xnode_free(st);
        return;
    }
    route_to(st, &to, NULL, false);
    jid_clear(&to);
}

void router_route_service(xnode *st)
{
    const char *to_s = xnode_attr(st, "to");
    jid to;
    if (!to_s || jid_parse(to_s, &to) != 0) {
        xnode_free(st);
        return;
    }
    route_to(st, &to, NULL, true);
    jid_clear(&to);
}

void router_reroute(xnode *st, session *origin)
{
    const char *to_s = xnode_attr(st, "to");
    jid to;
    if (!to_s || jid_parse(to_s, &to) != 0) {
        xnode_free(st);
        return;
    }
    route_to(st, &to, origin, true);   /* the policy stage passed it already */
    jid_clear(&to);
}

/* ---- stanzas from other servers ---- */

/* The remote-origin pseudo-session's answers go back through the router
 * (to the remote requester, via s2s_send) instead of onto a socket. */
static void remote_route(session *s, const xnode *st)
{
    xnode *c = xnode_copy(st);
    if (!xnode_attr(c, "to") && s->full)
        xnode_set_attr(c, "to", s->full);
    router_route(c);
}

static void remote_write(session *s, const char *data, size_t len) {}
static void remote_close(session *s, const char *condition, const char *text) {}
static void remote_noop(session *s) {}

static const session_ops remote_ops = {
    .write = remote_write,
    .close = remote_close,
    .pause = remote_noop,
    .resume = remote_noop,
};

session *router_remote_session(const char *from, const char *domain)
{
    /* A thread without a worker (unit tests) gets one unregistered
     * pseudo-session: synchronous answers work, asynchronous ones find
     * nobody. */
    static __thread session detached = { .ops = &remote_ops, .remote = true };
    session *s = session_remote(&remote_ops, remote_route);
    if (!s)
        s = &detached;
    free(s->full);
    s->full = from ? xstrdup(from) : NULL;
    free(s->domain);
    s->domain = domain ? xstrdup(domain) : NULL;
    return s;
}

/* An iq from a remote entity for the server or an account's bare JID:
 * answered by the modules that answer local clients (EV_SERVER_IQ, with
 * the remote-origin pseudo-session as requester). */
static void remote_server_iq(xnode *st, const jid *to)
{
    if (!is_get_or_set(st)) {
        /* results and errors for the server are consumed, after the
         * modules that sent the request saw them */
        if (!to->node)
            events_stanza(EV_SERVER_IQ_REPLY,
                          router_remote_session(xnode_attr(st, "from"), to->domain), st);
        xnode_free(st);
        return;
    }
    if (to->node && !account_of(to)) {
        /* Nobody to answer on behalf of (RFC 6121 §8.5.1). */
        router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
        xnode_free(st);
        return;
    }
    session *s = router_remote_session(xnode_attr(st, "from"), to->domain);
    if (events_stanza(EV_SERVER_IQ, s, st) == HOOK_CONTINUE)
        router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
    xnode_free(st);
}

/* Replaces attribute name of st by the prepared form of j. */
static void set_prepared(xnode *st, const char *name, const jid *j)
{
    char *norm = jid_to_string(j);
    xnode_set_attr(st, name, norm);
    free(norm);
}

void router_from_remote(xnode *st)
{
    catch_up();
    const char *to_s = xnode_attr(st, "to"), *from_s = xnode_attr(st, "from");
    jid to = { 0 }, from = { 0 };
    if (!to_s || !from_s || jid_parse(to_s, &to) != 0 || jid_parse(from_s, &from) != 0) {
        log_debug("router: dropping a remote stanza with a missing or invalid from/to");
        jid_clear(&to);
        jid_clear(&from);
        xnode_free(st);
        return;
    }
    /* Never relayed between two other domains, and never accepted in the
     * name of a domain served here. */
    if (!router_accepts(to.domain) || router_accepts(from.domain)) {
        static __thread log_budget budget;   /* a peer cannot flood the log */
        int dropped;
        if (log_budget_take(&budget, 10, &dropped))
            log_info("router: dropping a stanza from %s to %s received over federation "
                     "(not for a domain served here, or claiming to be from one)%s",
                     from.domain, to.domain, dropped ? "; more were not logged" : "");
        jid_clear(&to);
        jid_clear(&from);
        xnode_free(st);
        return;
    }
    set_prepared(st, "to", &to);
    set_prepared(st, "from", &from);
    stanza_kind kind = stanza_kind_of(st);
    if (router_service(to.domain)) {
        route_to(st, &to, NULL, false);   /* the service (MUC) */
    } else if (kind == STANZA_IQ && !to.resource) {
        remote_server_iq(st, &to);
    } else if (kind == STANZA_PRESENCE && !to.node) {
        xnode_free(st);   /* presence to the server: nothing to track */
    } else if (kind == STANZA_PRESENCE &&
               events_stanza(EV_REMOTE_PRESENCE,
                             router_remote_session(xnode_attr(st, "from"), to.domain),
                             st) == HOOK_STOP) {
        xnode_free(st);
    } else {
        /* messages (offline storage through EV_UNDELIVERABLE with no
         * origin), iq for a full JID, presence the hooks let through: the
         * policy stage judges the sender as a user in no group */
        route_to(st, &to, NULL, false);
    }
    jid_clear(&to);
    jid_clear(&from);
}

/* ---- client stanzas ---- */

/* An iq for the server or handled by the server on an account's behalf. */
static void server_iq(session *s, xnode *st)
{
    const char *type = xnode_attr(st, "type");
    if (type && (!strcmp(type, "get") || !strcmp(type, "set")) &&
        events_stanza(EV_SERVER_IQ, s, st) == HOOK_CONTINUE)
        session_send_free(s, stanza_error_reply(st, ERR_CANCEL, "service-unavailable", NULL));
    else if (type && (!strcmp(type, "result") || !strcmp(type, "error")) &&
             !strchr(xnode_attr(st, "to") ? xnode_attr(st, "to") : "", '@'))
        events_stanza(EV_SERVER_IQ_REPLY, s, st);   /* the modules' requests */
    /* results and errors addressed to the server are consumed */
    xnode_free(st);
}

static void route_from_to(session *s, xnode *st, stanza_kind kind, const jid *to)
{
    bool local = router_serves(to->domain);
    if (events_stanza(EV_OUTBOUND, s, st) == HOOK_STOP) {
        xnode_free(st);
    } else if (kind == STANZA_IQ && !to->resource && to->node && local &&
               !account_of(to)) {
        /* Nobody to answer on behalf of (RFC 6121 §8.5.1). */
        if (is_get_or_set(st))
            session_send_free(s, stanza_error_reply(st, ERR_CANCEL, "service-unavailable", NULL));
        xnode_free(st);
    } else if (kind == STANZA_IQ && !to->resource && local) {
        server_iq(s, st);   /* the server itself or an account's bare JID */
    } else if (kind == STANZA_PRESENCE && !to->node && local) {
        xnode_free(st);     /* presence to the server: nothing to track */
    } else if (kind == STANZA_PRESENCE &&
               events_stanza(EV_PRESENCE_DIRECTED, s, st) == HOOK_STOP) {
        xnode_free(st);
    } else {
        route_to(st, to, s, false);   /* already prepared: no second stringprep */
    }
}

void router_from_session(session *s, xnode *st)
{
    catch_up();
    if (s->closing) {   /* the new snapshot ended the account's sessions */
        xnode_free(st);
        return;
    }
    stanza_kind kind = stanza_kind_of(st);
    xnode_set_attr(st, "from", s->full);
    const char *to_s = xnode_attr(st, "to");

    if (!to_s) {
        if (events_stanza(EV_OUTBOUND, s, st) == HOOK_STOP) {
            xnode_free(st);
        } else if (kind == STANZA_IQ) {
            server_iq(s, st);
        } else if (kind == STANZA_PRESENCE) {
            events_stanza(EV_PRESENCE_BROADCAST, s, st);
            xnode_free(st);
        } else {
            xnode_set_attr(st, "to", s->bare);   /* a message to oneself */
            jid self = { 0 };
            if (jid_parse(s->bare, &self) == 0)
                route_to(st, &self, s, false);
            else
                xnode_free(st);
            jid_clear(&self);
        }
        return;
    }

    jid to;
    if (jid_parse(to_s, &to) != 0) {
        session_send_free(s, stanza_error_reply(st, ERR_MODIFY, "jid-malformed", NULL));
        xnode_free(st);
        return;
    }
    /* Normalise the address so every later comparison is on prepared text
     * (nearly always it is prepared already: then the attribute stays). */
    char *norm = jid_to_string(&to);
    if (strcmp(norm, to_s) != 0)
        xnode_set_attr(st, "to", norm);
    free(norm);
    route_from_to(s, st, kind, &to);
    jid_clear(&to);
}

void router_session_bound(session *s) { events_session(EV_BOUND, s); }

void router_session_presence(session *s, const xnode *st)
{
    xnode *c = xnode_copy(st);
    const char *to_s = xnode_attr(c, "to");
    jid to;
    if (!to_s || jid_parse(to_s, &to) != 0) {
        xnode_free(c);
        return;
    }
    if (events_stanza(EV_PRESENCE_DIRECTED, s, c) == HOOK_STOP)
        xnode_free(c);
    else
        route_to(c, &to, s, false);
    jid_clear(&to);
}
