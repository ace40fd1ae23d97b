/* mod_presence.c: presence (RFC 6121 §4) and subscriptions (§3), as hooks
 * on the router's presence events: broadcasts to shared and subscribed
 * contacts, probes answered from the routing table, directed presence
 * tracked per session, unavailable when a session ends for any reason. It
 * fires EV_AVAILABLE after a session's initial presence (offline delivery
 * hangs there).
 * Who receives a user's presence: the user's own available resources, the
 * shared-roster contacts (no subscription needed, directory.md), personal
 * contacts with subscription from/both, and whoever got directed presence.
 * Every stanza still goes through router_route(), so the policy step
 * (plucs/mod/filter) sees each one.
 *
 * Remote contacts (federation) are personal roster items like any other:
 * the user's presence reaches those with from/both through the router
 * (s2s), initial presence probes those with to/both, and presence from a
 * remote server arrives on EV_REMOTE_PRESENCE: subscription stanzas run the
 * same state machine as local ones (stored while the user is offline),
 * probes are answered by the server from the roster (RFC 6121 §4.3.2:
 * current presence, or unavailable, for from/both; unsubscribed
 * otherwise; nothing to someone the user blocked), and availability is
 * delivered only from contacts the user subscribed to (to/both), or when
 * directed to a full JID. */
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/alloc.h"
#include "core/log.h"
#include "modules/module.h"
#include "modules/privacy.h"
#include "modules/roster.h"
#include "modules/shared_roster.h"
#include "router/policy.h"
#include "router/router.h"
#include "router/routes.h"
#include "modules/blocklist.h"
#include "store/store_blocklist.h"
#include "store/store_pending.h"
#include "xml/xml_fragment.h"
#include "xmpp/jid.h"

static int slot = -1;   /* per session: directed presence recipients */

/* Recipients remembered per session: beyond this a client spraying
 * directed presence is still served but no longer tracked. */
#define MAX_DIRECTED 1024

typedef struct directed {
    char **jids;
    size_t n;
} directed;

static void directed_free(void *p)
{
    directed *d = p;
    for (size_t i = 0; i < d->n; i++)
        free(d->jids[i]);
    free(d->jids);
    free(d);
}

static void directed_set(session *s, const char *to, bool on)
{
    directed *d = s->slots[slot];
    if (!d) {
        if (!on)
            return;
        d = s->slots[slot] = xcalloc(1, sizeof *d);
    }
    for (size_t i = 0; i < d->n; i++) {
        if (!strcmp(d->jids[i], to)) {
            if (!on) {
                free(d->jids[i]);
                d->jids[i] = d->jids[--d->n];
            }
            return;
        }
    }
    if (on && d->n < MAX_DIRECTED) {
        d->jids = xrealloc(d->jids, (d->n + 1) * sizeof *d->jids);
        d->jids[d->n++] = xstrdup(to);
    }
}

/* The directory account of the session, or NULL. */
static const dir_account *me(session *s)
{
    const dir_snapshot *snap = router_snapshot();
    return snap ? dir_snapshot_account(snap, s->node, s->domain) : NULL;
}

static void send_copy(const xnode *st, const char *to)
{
    xnode *c = xnode_copy(st);
    xnode_set_attr(c, "to", to);
    router_route(c);
}

/* ---- broadcast ---- */

static void to_observer(const dir_account *c, void *st) { send_copy(st, c->bare); }

static bool is_remote(const char *bare);

static void broadcast(session *s, const xnode *st)
{
    send_copy(st, s->bare);   /* the user's own resources, the sender included */
    const dir_account *u = me(s);
    enum roster_scope scope = config_current()->roster_scope;
    if (u)
        shared_observers_each(router_snapshot(), scope, u, to_observer, (void *)st);
    char **from = roster_personal_list(s->bare, true, false);
    for (char **p = from; *p; p++)
        if (!roster_is_shared(*p, s->bare) &&   /* not already an observer above */
            (!is_remote(*p) || privacy_broadcast_allowed(s, st, *p)))
            send_copy(st, *p);
    roster_list_free(from);
}

/* Current presence of contact's available resources, to the session. */
static void probe_one(session *s, const char *contact)
{
    xnode *pres[ROUTES_MAX_RESOURCES];
    size_t n = routes_presences(contact, pres, ROUTES_MAX_RESOURCES);
    for (size_t i = 0; i < n; i++) {
        xnode_set_attr(pres[i], "to", s->full);
        router_route(pres[i]);
    }
}

/* Whether a bare JID's domain is served elsewhere (a remote contact). */
static bool is_remote(const char *bare)
{
    const char *at = strchr(bare, '@');
    return !router_serves(at ? at + 1 : bare);
}

/* RFC 6121 §4.3.1: a remote contact's server answers a probe with the
 * contact's presence, to the session that came online. */
static void probe_remote(session *s, const char *contact)
{
    xnode *p = xnode_new("presence", NS_CLIENT);
    xnode_set_attr(p, "type", "probe");
    xnode_set_attr(p, "from", s->full);
    xnode_set_attr(p, "to", contact);
    router_route(p);
}

static void probe_shared(const dir_account *c, void *ud) { probe_one(ud, c->bare); }

static void probe_all(session *s)
{
    const dir_account *u = me(s);
    if (u)
        shared_each(router_snapshot(), config_current()->roster_scope, u, probe_shared, s);
    char **to = roster_personal_list(s->bare, false, true);
    for (char **p = to; *p; p++)
        if (is_remote(*p))
            probe_remote(s, *p);
        else if (!roster_is_shared(s->bare, *p))
            probe_one(s, *p);
    roster_list_free(to);
    /* the user's other resources */
    xnode *pres[ROUTES_MAX_RESOURCES];
    size_t n = routes_presences(s->bare, pres, ROUTES_MAX_RESOURCES);
    for (size_t i = 0; i < n; i++) {
        const char *from = xnode_attr(pres[i], "from");
        if (from && strcmp(from, s->full)) {
            xnode_set_attr(pres[i], "to", s->full);
            router_route(pres[i]);
        } else {
            xnode_free(pres[i]);
        }
    }
}

/* The router's policy step for presence the server generates or processes
 * itself (subscription handling): the same rule as for routed presence. */
static bool presence_allowed(const xnode *st)
{
    const char *to_s = xnode_attr(st, "to");
    jid to;
    if (!to_s || jid_parse(to_s, &to) != 0)
        return true;
    bool ok = policy_check(router_snapshot(), st, STANZA_PRESENCE, &to, NULL) == POLICY_ALLOW;
    jid_clear(&to);
    return ok;
}

/* Stored inbound subscription requests, delivered at initial presence. */
static void pending_delivered(void *arg, store_pending *p)
{
    session *s = session_find(worker_self(), (uint64_t)(uintptr_t)arg);
    for (size_t i = 0; s && p->status == STORE_OK && i < p->n; i++) {
        if (!p->items[i].stanza || !*p->items[i].stanza)
            continue;
        xnode *st = xml_fragment_parse(p->items[i].stanza, strlen(p->items[i].stanza),
                                       NS_CLIENT, 64);
        /* Today's rules decide (plucs/mod/filter may have changed since);
         * a request not shown now stays stored. */
        if (st && presence_allowed(st) && events_stanza(EV_INBOUND, s, st) == HOOK_CONTINUE)
            session_send(s, st);
        xnode_free(st);
    }
    store_pending_free(p);
}

static void send_unavailable_to_directed(session *s, const xnode *unavail)
{
    directed *d = s->slots[slot];
    for (size_t i = 0; d && i < d->n; i++)
        send_copy(unavail, d->jids[i]);
}

/* EV_PRESENCE_BROADCAST: a presence without 'to' from s. */
static hook_result presence_broadcast(session *s, xnode *st)
{
    const char *type = xnode_attr(st, "type");
    xnode_set_attr(st, "to", NULL);
    if (!type) {
        int prio = 0;
        xnode *p = xnode_child(st, "priority", NULL);
        if (p) {
            char *t = xnode_text(p);
            long v = t ? strtol(t, NULL, 10) : 0;
            prio = v < -128 ? -128 : v > 127 ? 127 : (int)v;
            free(t);
        }
        bool initial = !s->available;
        s->available = true;
        s->priority = prio;
        routes_set_presence(s->bare, s->id, true, prio, st);
        broadcast(s, st);
        if (initial) {
            probe_all(s);
            store_pending_list(s->w, s->bare, pending_delivered, (void *)(uintptr_t)s->id);
            events_session(EV_AVAILABLE, s);
        }
    } else if (!strcmp(type, "unavailable")) {
        if (s->available) {
            broadcast(s, st);
            send_unavailable_to_directed(s, st);
            directed *d = s->slots[slot];
            if (d) {
                directed_free(d);
                s->slots[slot] = NULL;
            }
        }
        s->available = false;
        routes_set_presence(s->bare, s->id, false, s->priority, NULL);
    }
    /* probe, error and subscription types without 'to' are ignored */
    return HOOK_STOP;
}

/* ---- subscriptions ---- */

typedef struct sub_ctx {
    char *user;        /* the side whose roster changes in this step */
    char *contact;
    xnode *st;         /* the stanza as it travels: from = requester bare */
    roster_op op;
} sub_ctx;

static void ctx_free(void *p)
{
    sub_ctx *c = p;
    free(c->user);
    free(c->contact);
    xnode_free(c->st);
    free(c);
}

static sub_ctx *ctx_new(const char *user, const char *contact, const xnode *st, roster_op op)
{
    sub_ctx *c = xcalloc(1, sizeof *c);
    c->user = xstrdup(user);
    c->contact = xstrdup(contact);
    c->st = xnode_copy(st);
    c->op = op;
    return c;
}

/* user's current presence (every available resource) to contact. */
static void presence_to(const char *user, const char *contact, bool unavailable)
{
    xnode *pres[ROUTES_MAX_RESOURCES];
    size_t n = routes_presences(user, pres, ROUTES_MAX_RESOURCES);
    for (size_t i = 0; i < n; i++) {
        if (unavailable) {
            xnode *u = xnode_new("presence", NS_CLIENT);
            xnode_set_attr(u, "type", "unavailable");
            xnode_set_attr(u, "from", xnode_attr(pres[i], "from"));
            xnode_free(pres[i]);
            pres[i] = u;
        }
        xnode_set_attr(pres[i], "to", contact);
        router_route(pres[i]);
    }
}

static void inbound_then(void *ud, unsigned acts);

/* The contact's side of a subscription stanza from user (both local). */
static void inbound(const char *contact, const char *user, const xnode *st, roster_op op)
{
    sub_ctx *c = ctx_new(contact, user, st, op);
    roster_subscription(contact, user, op, st, inbound_then, ctx_free, c);
}

static void inbound_then(void *ud, unsigned acts)
{
    sub_ctx *c = ud;   /* c->user received the stanza from c->contact */
    if (acts & RS_ACT_DELIVER)
        send_copy(c->st, c->user);
    if (acts & RS_ACT_AUTOREPLY) {
        xnode *r = xnode_new("presence", NS_CLIENT);
        xnode_set_attr(r, "type", "subscribed");
        xnode_set_attr(r, "from", c->user);
        xnode_set_attr(r, "to", c->contact);
        if (!presence_allowed(r))
            xnode_free(r);
        else if (!router_account(c->contact))
            router_route(r);   /* a remote requester: through federation */
        else {
            inbound(c->contact, c->user, r, RS_IN_SUBSCRIBED);
            xnode_free(r);
        }
    }
    if (acts & RS_ACT_PRESENCE)
        presence_to(c->user, c->contact, false);
    if (c->op == RS_IN_UNSUBSCRIBE && (acts & RS_ACT_STORE))
        presence_to(c->user, c->contact, true);
    ctx_free(c);
}

static void outbound_then(void *ud, unsigned acts)
{
    sub_ctx *c = ud;   /* c->user sent the stanza to c->contact */
    if (acts & RS_ACT_ROUTE) {
        roster_op in = c->op == RS_OUT_SUBSCRIBE     ? RS_IN_SUBSCRIBE
                       : c->op == RS_OUT_SUBSCRIBED  ? RS_IN_SUBSCRIBED
                       : c->op == RS_OUT_UNSUBSCRIBE ? RS_IN_UNSUBSCRIBE
                                                     : RS_IN_UNSUBSCRIBED;
        if (!presence_allowed(c->st)) {
            /* plucs/mod/filter: the contact may not see the user's presence,
             * so the request is neither delivered nor remembered. */
        } else if (router_account(c->contact)) {
            inbound(c->contact, c->user, c->st, in);
        } else {
            xnode *x = xnode_copy(c->st);
            router_route(x);   /* remote or unknown: the router decides */
        }
    }
    if (acts & RS_ACT_PRESENCE)
        presence_to(c->user, c->contact, false);
    if (acts & RS_ACT_UNAVAILABLE)
        presence_to(c->user, c->contact, true);
    ctx_free(c);
}

static void presence_subscription_out(session *s, const xnode *st)
{
    const char *type = xnode_attr(st, "type");
    const char *to_s = xnode_attr(st, "to");
    jid to;
    if (!type || !to_s || jid_parse(to_s, &to) != 0)
        return;
    char *contact = jid_bare_string(&to);
    jid_clear(&to);
    roster_op op = !strcmp(type, "subscribe")     ? RS_OUT_SUBSCRIBE
                   : !strcmp(type, "subscribed")  ? RS_OUT_SUBSCRIBED
                   : !strcmp(type, "unsubscribe") ? RS_OUT_UNSUBSCRIBE
                                                  : RS_OUT_UNSUBSCRIBED;
    if (!strcmp(contact, s->bare)) {
        free(contact);
        return;
    }
    if (roster_is_shared(s->bare, contact)) {
        /* Presence already flows between shared contacts: a request is
         * answered at once on the contact's behalf, the rest is moot. */
        if (op == RS_OUT_SUBSCRIBE) {
            xnode *r = xnode_new("presence", NS_CLIENT);
            xnode_set_attr(r, "type", "subscribed");
            xnode_set_attr(r, "from", contact);
            xnode_set_attr(r, "to", s->full);
            if (presence_allowed(r))
                session_send(s, r);
            xnode_free(r);
        }
        free(contact);
        return;
    }
    /* The stanza travels with the user's bare JID (RFC 6121 §3.1.2). */
    xnode *x = xnode_copy(st);
    xnode_set_attr(x, "from", s->bare);
    xnode_set_attr(x, "to", contact);
    sub_ctx *c = ctx_new(s->bare, contact, x, op);
    xnode_free(x);
    roster_subscription(s->bare, contact, op, st, outbound_then, ctx_free, c);
    free(contact);
}

/* EV_PRESENCE_DIRECTED: subscriptions and probes are handled here; other
 * directed presence is remembered, then routed by the router. */
static hook_result presence_directed(session *s, xnode *st)
{
    const char *type = xnode_attr(st, "type");
    if (type && (!strcmp(type, "subscribe") || !strcmp(type, "subscribed") ||
                 !strcmp(type, "unsubscribe") || !strcmp(type, "unsubscribed"))) {
        presence_subscription_out(s, st);
        return HOOK_STOP;
    }
    if (type && !strcmp(type, "probe"))
        return HOOK_STOP;   /* the server answers probes itself */
    const char *to = xnode_attr(st, "to");
    if (to && (!type || !strcmp(type, "unavailable"))) {
        /* Remember recipients outside the broadcast set (RFC 6121 §4.6). */
        jid j;
        if (jid_parse(to, &j) == 0) {
            char *bare = jid_bare_string(&j);
            bool covered = !strcmp(bare, s->bare) || roster_is_shared(bare, s->bare);
            if (!covered) {
                char **from = roster_personal_list(s->bare, true, false);
                for (char **p = from; *p && !covered; p++)
                    covered = !strcmp(*p, bare);
                roster_list_free(from);
            }
            if (!covered)
                directed_set(s, to, !type);
            free(bare);
            jid_clear(&j);
        }
    }
    return HOOK_CONTINUE;
}

/* ---- presence from remote servers ---- */

static xnode *server_presence(const char *type, const char *from, const char *to)
{
    xnode *p = xnode_new("presence", NS_CLIENT);
    if (type)
        xnode_set_attr(p, "type", type);
    xnode_set_attr(p, "from", from);
    xnode_set_attr(p, "to", to);
    return p;
}

typedef struct probe_job {
    char *user;       /* the local account probed */
    char *prober;     /* the remote JID as it asked (answers go there) */
    char *prober_bare;
} probe_job;

static void probe_job_free(void *p)
{
    probe_job *j = p;
    free(j->user);
    free(j->prober);
    free(j->prober_bare);
    free(j);
}

/* RFC 6121 §4.3.2, once the user's roster is known. */
static void probe_answer(void *ud, store_sub sub)
{
    probe_job *j = ud;
    if (sub == STORE_SUB_FROM || sub == STORE_SUB_BOTH) {
        xnode *pres[ROUTES_MAX_RESOURCES];
        size_t n = routes_presences(j->user, pres, ROUTES_MAX_RESOURCES);
        size_t sent = 0;
        for (size_t i = 0; i < n; i++) {
            if (!privacy_probe_allowed(j->user, pres[i], j->prober)) {
                xnode_free(pres[i]);
                continue;
            }
            xnode_set_attr(pres[i], "to", j->prober);
            router_route(pres[i]);
            sent++;
        }
        if (!sent)
            router_route(server_presence("unavailable", j->user, j->prober));
    } else {
        /* no subscription (or no item): the prober's server learns to stop
         * asking, and nothing about the user's availability */
        router_route(server_presence("unsubscribed", j->user, j->prober_bare));
    }
    probe_job_free(j);
}

/* An offline user's stored blocklist, read before answering a probe. */
static void probe_blocklist_read(void *arg, store_blocklist *res)
{
    probe_job *j = arg;
    bool blocked = false;
    jid prober;
    if (res->n && jid_parse(j->prober, &prober) == 0) {
        for (size_t i = 0; i < res->n && !blocked; i++) {
            jid item;
            if (jid_parse(res->items[i], &item) == 0) {
                blocked = blocklist_item_matches(&item, &prober);
                jid_clear(&item);
            }
        }
        jid_clear(&prober);
    }
    store_blocklist_free(res);
    if (blocked)
        probe_job_free(j);
    else
        roster_subscription_state(j->user, j->prober_bare, probe_answer, probe_job_free, j);
}

static roster_op inbound_op(const char *type)
{
    return !strcmp(type, "subscribe")     ? RS_IN_SUBSCRIBE
           : !strcmp(type, "subscribed")  ? RS_IN_SUBSCRIBED
           : !strcmp(type, "unsubscribe") ? RS_IN_UNSUBSCRIBE
                                          : RS_IN_UNSUBSCRIBED;
}

static bool is_subscription(const char *type)
{
    return type && (!strcmp(type, "subscribe") || !strcmp(type, "subscribed") ||
                    !strcmp(type, "unsubscribe") || !strcmp(type, "unsubscribed"));
}

/* Whether user's personal roster has contact with subscription to/both
 * (the user's sessions are online, so the roster is cached). */
static bool subscribed_to(const char *user, const char *contact)
{
    char **to = roster_personal_list(user, false, true);
    bool r = false;
    for (char **p = to; *p && !r; p++)
        r = !strcmp(*p, contact);
    roster_list_free(to);
    return r;
}

/* EV_REMOTE_PRESENCE: a presence from a remote JID to a local account
 * (from and to prepared by the router). */
static hook_result presence_remote(session *rs, xnode *st)
{
    (void)rs;
    const char *type = xnode_attr(st, "type");
    jid from, to;
    if (jid_parse(xnode_attr(st, "from"), &from) != 0)
        return HOOK_STOP;
    if (jid_parse(xnode_attr(st, "to"), &to) != 0) {
        jid_clear(&from);
        return HOOK_STOP;
    }
    char *user = jid_bare_string(&to), *contact = jid_bare_string(&from);
    bool full = to.resource != NULL;
    hook_result r = HOOK_STOP;
    if (!router_account(user)) {
        /* RFC 6121 §3.1.3, §4.3.2: no such account looks like no
         * subscription; anything else is dropped */
        if (type && (!strcmp(type, "subscribe") || !strcmp(type, "probe")))
            router_route(server_presence("unsubscribed", user, contact));
    } else if (is_subscription(type)) {
        /* RFC 6121 §3: from the remote user's bare JID to the account's */
        xnode *x = xnode_copy(st);
        xnode_set_attr(x, "from", contact);
        xnode_set_attr(x, "to", user);
        if (presence_allowed(x))
            inbound(user, contact, x, inbound_op(type));
        xnode_free(x);
    } else if (type && !strcmp(type, "probe")) {
        probe_job *j = xcalloc(1, sizeof *j);
        j->user = xstrdup(user);
        j->prober = xstrdup(xnode_attr(st, "from"));
        j->prober_bare = xstrdup(contact);
        if (routes_count(user) > 0) {
            /* online: the blocklist is cached (XEP-0191 §3.3: a blocked
             * prober learns nothing) */
            if (block_cache_bare_blocks(user, &from))
                probe_job_free(j);
            else
                roster_subscription_state(user, contact, probe_answer, probe_job_free, j);
        } else {
            store_block_get(worker_self(), user, probe_blocklist_read, j, probe_job_free);
        }
    } else if (full || (type && !strcmp(type, "unavailable"))) {
        r = HOOK_CONTINUE;   /* directed presence; unavailable leaks nothing */
    } else if (!type) {
        /* availability to the bare JID: from a contact the user sees */
        r = subscribed_to(user, contact) ? HOOK_CONTINUE : HOOK_STOP;
    }
    /* errors to the bare JID and unknown types: dropped */
    free(user);
    free(contact);
    jid_clear(&from);
    jid_clear(&to);
    return r;
}

static void presence_ended(session *s)
{
    if (s->available) {
        xnode *u = xnode_new("presence", NS_CLIENT);
        xnode_set_attr(u, "type", "unavailable");
        xnode_set_attr(u, "from", s->full);
        s->available = false;
        routes_set_presence(s->bare, s->id, false, s->priority, NULL);
        broadcast(s, u);
        send_unavailable_to_directed(s, u);
        xnode_free(u);
    }
}

static void presence_init(void)
{
    module_hook_stanza(EV_PRESENCE_BROADCAST, presence_broadcast);
    module_hook_stanza(EV_PRESENCE_DIRECTED, presence_directed);
    module_hook_session(EV_ENDED, presence_ended);
    module_hook_stanza(EV_REMOTE_PRESENCE, presence_remote);
}

const module mod_presence = {
    .name = "presence",
    .init = presence_init,
    .slot = &slot,
    .slot_free = directed_free,
};
