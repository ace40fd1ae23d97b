/* router.c: stanza routing, see router.h. Runs on the worker of the sending
 * session; delivery to a session on another worker is a posted closure that
 * carries the target's (worker, session id) and the stanza. */
#include "router/router.h"

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "modules/module.h"
#include "modules/presence.h"
#include "router/policy.h"
#include "router/routes.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

static dir_snapshot **snaps;   /* per worker, replaced only on that worker */
static __thread session *origin;

session *router_origin(void) { return origin; }
static int nsnaps;

/* ---- directory snapshots, one reference per worker ---- */

typedef struct snap_job {
    int worker;
    dir_snapshot *snap;
} snap_job;

static void snap_install(void *arg)
{
    snap_job *j = arg;
    dir_snapshot *old = snaps[j->worker];
    snaps[j->worker] = j->snap;
    /* Sessions catch up with what changed (rosters, presence, accounts). */
    module_run_snapshot(old, config_current(), j->snap);
    if (old)
        dir_snapshot_unref(old);
    free(j);
}

static void cfg_changed(void *arg)
{
    const dir_snapshot *s = router_snapshot();
    if (s)
        module_run_snapshot(s, arg, s);
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
    for (int i = 0; i < nsnaps && worker_get(i); i++) {
        snap_job *j = malloc(sizeof *j);
        j->worker = i;
        j->snap = dir_snapshot_ref(snap);
        worker_post_drop(worker_get(i), snap_install, snap_drop, j);
    }
    dir_snapshot_unref(snap);
}

void router_init(int nworkers)
{
    nsnaps = nworkers;
    snaps = calloc((size_t)nworkers, sizeof *snaps);
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
}

const dir_snapshot *router_snapshot(void)
{
    worker *w = worker_self();
    if (!w)
        return NULL;
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
    /* The directory may have published a domain this worker has not
     * installed yet (its inbox is a loop turn behind): ask the latest. */
    dir_snapshot *latest = directory_snapshot();
    bool served = latest && latest != s && dir_snapshot_serves(latest, domain);
    if (latest)
        dir_snapshot_unref(latest);
    return served;
}

/* ---- delivery to a session, possibly on another worker ---- */

static void deliver_to(const route_ref *r, xnode *st);

typedef struct delivery {
    uint64_t sid;
    int worker;
    xnode *st;
} delivery;

static void deliver_bare(xnode *st, const char *bare, char kind);

static void deliver_run(void *arg)
{
    delivery *d = arg;
    session *s = session_find(worker_get(d->worker), d->sid);
    if (s && !s->closing) {
        if (!xnode_attr(d->st, "to"))
            xnode_set_attr(d->st, "to", s->full);
        if (module_run_inbound(s, d->st) == HOOK_CONTINUE)
            session_send(s, d->st);
    } else {
        /* The session ended while the stanza travelled. A message goes to
         * the account as if sent to its bare JID (RFC 6121 §8.5.3.2.1:
         * another resource, or offline storage); an iq is answered. */
        char k = stanza_kind(d->st);
        if (s && s->bound) /* closing: no longer a candidate for delivery */
            routes_set_presence(s->bare, s->id, false, s->priority, NULL);
        jid to;
        const char *to_s = xnode_attr(d->st, "to");
        if (k == 'm' && to_s && jid_parse(to_s, &to) == 0) {
            char *bare = jid_bare_string(&to);
            jid_clear(&to);
            deliver_bare(d->st, bare, k);
            free(bare);
            free(d);
            return;
        }
        if (k == 'i')
            router_bounce(d->st, ERR_CANCEL, "service-unavailable", NULL);
    }
    xnode_free(d->st);
    free(d);
}

static void deliver_drop(void *arg)
{
    delivery *d = arg;
    xnode_free(d->st);
    free(d);
}

void router_deliver_ref(const route_ref *r, xnode *st) { deliver_to(r, st); }

static void deliver_to(const route_ref *r, xnode *st)
{
    delivery *d = malloc(sizeof *d);
    d->sid = r->sid;
    d->worker = r->worker;
    d->st = st;
    worker *self = worker_self();
    if (self && worker_id(self) == r->worker)
        deliver_run(d);
    else
        worker_post_drop(worker_get(r->worker), deliver_run, deliver_drop, d);
}

static __thread bool server_generated;   /* errors the server itself answers */

void router_bounce(const xnode *st, const char *type, const char *condition, const char *text)
{
    xnode *r = stanza_error_reply(st, type, condition, text);
    if (r) {
        bool was = server_generated;
        server_generated = true;   /* an error reply is never filtered */
        router_route(r);
        server_generated = was;
    }
}

/* ---- local delivery (RFC 6121 §8.5) ---- */

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

static void deliver_bare(xnode *st, const char *bare, char kind)
{
    route_ref refs[ROUTES_MAX_RESOURCES];
    size_t n = routes_lookup(bare, refs, ROUTES_MAX_RESOURCES);
    const char *type = xnode_attr(st, "type");
    if (!type)
        type = kind == 'm' ? "normal" : "";

    if (kind == 'm') {
        if (!strcmp(type, "groupchat")) {
            router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
            xnode_free(st);
            return;
        }
        if (!strcmp(type, "headline") || !strcmp(type, "error")) {
            for (size_t i = 0; i < n; i++)
                if (refs[i].available && refs[i].priority >= 0)
                    deliver_to(&refs[i], xnode_copy(st));
            xnode_free(st);
            return;
        }
        const route_ref *best = routes_pick_best(refs, n);
        if (best) {
            deliver_to(best, st);
            return;
        }
        if (router_account(bare)) {
            offline_store(st, bare);
            return;
        }
        router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
        xnode_free(st);
        return;
    }
    /* presence to a bare JID: every available resource */
    for (size_t i = 0; i < n; i++)
        if (refs[i].available)
            deliver_to(&refs[i], xnode_copy(st));
    xnode_free(st);
}

static void route_local(xnode *st, const jid *to, char kind)
{
    char *bare = jid_bare_string(to);
    if (to->resource) {
        route_ref r;
        if (routes_find(bare, to->resource, &r)) {
            deliver_to(&r, st);
        } else if (kind == 'm') {
            deliver_bare(st, bare, kind);
        } else {
            if (kind == 'i')
                router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
            xnode_free(st);
        }
    } else {
        deliver_bare(st, bare, kind);
    }
    free(bare);
}

/* Routing once the destination is parsed (to: st's prepared 'to'). */
static void route_to(xnode *st, const jid *to)
{
    char kind = stanza_kind(st);
    if (!router_serves(to->domain)) {
        /* No federation yet: every other domain is unreachable. */
        if (kind != 'p')
            router_bounce(st, ERR_CANCEL, "remote-server-not-found", NULL);
        xnode_free(st);
    } else if (!to->node) {
        /* Server-generated traffic to the server itself: nothing to do. */
        xnode_free(st);
    } else if (!server_generated && !policy_allows(router_snapshot(), st, kind, to)) {
        xnode_free(st);
    } else {
        route_local(st, to, kind);
    }
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
    route_to(st, &to);
    jid_clear(&to);
}

/* An iq for the server or handled by the server on an account's behalf. */
static void server_iq(session *s, xnode *st)
{
    const char *type = xnode_attr(st, "type");
    if (type && (!strcmp(type, "get") || !strcmp(type, "set"))) {
        if (!module_handle_iq(s, st))
            session_send_free(s, stanza_error_reply(st, ERR_CANCEL, "service-unavailable", NULL));
    }
    /* results and errors addressed to the server are consumed */
    xnode_free(st);
}

static void route_from(session *s, xnode *st);

static bool account_exists(const jid *j)
{
    const dir_snapshot *snap = router_snapshot();
    return snap && j->node && dir_snapshot_account(snap, j->node, j->domain);
}

void router_from_session(session *s, xnode *st)
{
    origin = s;
    route_from(s, st);
    origin = NULL;
}

static void route_from(session *s, xnode *st)
{
    char kind = stanza_kind(st);
    xnode_set_attr(st, "from", s->full);
    const char *to_s = xnode_attr(st, "to");

    if (!to_s) {
        if (module_run_outbound(s, st) == HOOK_STOP) {
            xnode_free(st);
        } else if (kind == 'i') {
            server_iq(s, st);
        } else if (kind == 'p') {
            presence_outbound(s, st);
        } else {
            xnode_set_attr(st, "to", s->bare);   /* a message to oneself */
            router_route(st);
        }
        return;
    }

    jid to;
    if (jid_parse(to_s, &to) != 0) {
        session_send_free(s, stanza_error_reply(st, ERR_MODIFY, "jid-malformed", NULL));
        xnode_free(st);
        return;
    }
    /* Normalise the address so every later comparison is on prepared text. */
    char *norm = jid_to_string(&to);
    xnode_set_attr(st, "to", norm);
    free(norm);

    if (module_run_outbound(s, st) == HOOK_STOP) {
        xnode_free(st);
    } else if (kind == 'i' && !to.resource && to.node && router_serves(to.domain) &&
               !account_exists(&to)) {
        /* Nobody to answer on behalf of (RFC 6121 §8.5.1). */
        const char *type = xnode_attr(st, "type");
        if (type && (!strcmp(type, "get") || !strcmp(type, "set")))
            session_send_free(s, stanza_error_reply(st, ERR_CANCEL, "service-unavailable", NULL));
        xnode_free(st);
    } else if (kind == 'i' && !to.resource && router_serves(to.domain)) {
        server_iq(s, st);   /* the server itself or an account's bare JID */
    } else if (kind == 'p' && !to.node && router_serves(to.domain)) {
        xnode_free(st);     /* presence to the server: nothing to track yet */
    } else if (kind == 'p') {
        presence_directed(s, st);
    } else {
        route_to(st, &to);   /* already prepared: no second stringprep */
    }
    jid_clear(&to);
}
