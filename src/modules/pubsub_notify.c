/* pubsub_notify.c: who hears of what happens on a node, and the
 * requester's relationship to a node's owner (for the access models).
 * - explicit subscribers (XEP-0060 §6.1) get every event;
 * - on PEP (XEP-0163 §4.3): the owner's own resources and the contacts with
 *   a subscription to the owner's presence (personal from/both, and every
 *   account that has the owner in its shared roster), each resource only
 *   when its entity capabilities (pubsub_caps.c) advertise NODE+notify, and
 *   only contacts the access model admits (whitelist: the owner alone);
 * - last published item (send_last_published_item) when a resource's
 *   caps are known after its first available presence.
 * The personal roster is cached only while its owner is online: a PEP
 * event of an offline owner (the server publishing the directory's photo
 * or label, a retract after the account left) and the last items of an
 * offline owner's nodes first load it from the store (with_roster:
 * acct_when_loaded, asynchronous, on this worker), so that personal
 * contacts are not taken for strangers.
 * Contacts on other servers are not notified implicitly (no remote caps). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "core/worker.h"
#include "modules/pubsub_internal.h"
#include "modules/roster.h"
#include "modules/shared_roster.h"
#include "router/router.h"
#include "xml/xml_fragment.h"

#define PAYLOAD_MAX_DEPTH 64

/* ---- relationship ---- */

typedef struct strlist {
    char **v;
    size_t n;
} strlist;

static void sl_add(strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return;
    l->v = xrealloc(l->v, (l->n + 2) * sizeof *l->v);
    l->v[l->n++] = xstrdup(s);
    l->v[l->n] = NULL;
}

static void sl_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void ps_groups_free(char **groups)
{
    for (char **g = groups; g && *g; g++)
        free(*g);
    free(groups);
}

bool ps_rel_compute(const char *owner, const char *requester, ps_rel *rel, char ***groups)
{
    memset(rel, 0, sizeof *rel);
    *groups = NULL;
    rel->owner = !strcmp(owner, requester);
    if (rel->owner)
        return true;
    strlist gl = {0};
    bool complete = true;
    const dir_snapshot *snap = router_snapshot();
    const dir_account *u = router_account(owner), *c = router_account(requester);
    const config *cfg = config_current();
    if (snap && u && c && shared_visible(snap, cfg->roster_scope, u, c)) {
        rel->presence_sub = true;
        xnode *it = shared_item(snap, cfg->roster_scope, u, c);
        for (const xnode *g = xnode_first_element(it); g; g = xnode_next_element(g)) {
            char *t = xnode_text(g);
            if (t && *t && !strcmp(g->name, "group"))
                sl_add(&gl, t);
            free(t);
        }
        xnode_free(it);
    }
    if (u) {
        acct *a = acct_find(owner);
        if (a) {
            pthread_mutex_lock(&a->lock);
            if (a->loaded) {
                store_roster_item *it = acct_item(a, requester);
                if (it && (it->subscription == STORE_SUB_FROM ||
                           it->subscription == STORE_SUB_BOTH))
                    rel->presence_sub = true;
                for (char **g = it ? it->groups : NULL; g && *g; g++)
                    sl_add(&gl, *g);
            } else {
                complete = false;
            }
            pthread_mutex_unlock(&a->lock);
            acct_release(a);
        } else {
            complete = false;
        }
    }
    *groups = gl.v;
    rel->groups = (const char *const *)gl.v;
    return complete;
}

/* ---- the owner's roster first ---- */

/* At most this many jobs wait for an owner's roster at once (a directory
 * change touching every account must not queue a load per account without
 * bound); beyond it a job runs with what the cache knows, and a log says so. */
#define ROSTER_WAITS_MAX 4096

typedef struct roster_wait {
    acct *a;
    void (*fn)(void *ud);
    void (*free_ud)(void *ud);
    void *ud;
} roster_wait;

static _Atomic int roster_waits;

static void wait_done(roster_wait *w)
{
    acct_release(w->a);
    free(w);
    atomic_fetch_sub(&roster_waits, 1);
}

static void wait_run(void *p)
{
    roster_wait *w = p;
    w->fn(w->ud);
    wait_done(w);
}

static void wait_free(void *p)
{
    roster_wait *w = p;
    w->free_ud(w->ud);      /* the worker stopped: nobody to tell */
    wait_done(w);
}

/* Runs fn(ud) once owner's personal roster is cached: at once when it is
 * (or off a worker, or with too many waiting: then with the shared roster
 * only), else on this worker after the store answered (free_ud(ud) instead
 * when the worker stops first). The roster stays cached while fn runs. */
static void with_roster(const char *owner, const char *what, void (*fn)(void *),
                        void (*free_ud)(void *), void *ud)
{
    acct *a = worker_self() ? acct_find(owner) : NULL;
    bool loaded = !worker_self();
    if (a) {
        pthread_mutex_lock(&a->lock);
        loaded = a->loaded;
        pthread_mutex_unlock(&a->lock);
    }
    if (loaded) {
        acct_release(a);
        fn(ud);
        return;
    }
    if (atomic_fetch_add(&roster_waits, 1) >= ROSTER_WAITS_MAX) {
        atomic_fetch_sub(&roster_waits, 1);
        acct_release(a);
        log_warn("pubsub: %d jobs wait for rosters; %s of %s reaches only shared-roster "
                 "contacts and subscribers", ROSTER_WAITS_MAX, what, owner);
        fn(ud);
        return;
    }
    roster_wait *w = xcalloc(1, sizeof *w);
    w->a = a ? a : acct_acquire(owner);
    w->fn = fn;
    w->free_ud = free_ud;
    w->ud = ud;
    log_debug("pubsub: loading the roster of %s first (%s)", owner, what);
    acct_when_loaded(w->a, wait_run, wait_free, w);
}

/* ---- events ---- */

xnode *ps_event_items(const char *node, const ps_item *it, bool with_payload)
{
    xnode *ev = xnode_new("event", NS_PUBSUB_EVENT);
    xnode *items = xnode_add_child(ev, "items", NS_PUBSUB_EVENT);
    xnode_set_attr(items, "node", node);
    if (!it)
        return ev;
    xnode *item = xnode_add_child(items, "item", NS_PUBSUB_EVENT);
    xnode_set_attr(item, "id", it->id);
    if (it->publisher && *it->publisher)
        xnode_set_attr(item, "publisher", it->publisher);
    if (with_payload && it->payload && *it->payload) {
        xnode *p = xml_fragment_parse(it->payload, strlen(it->payload), NULL, PAYLOAD_MAX_DEPTH);
        if (p)
            xnode_append(item, p);
    }
    return ev;
}

ps_event *ps_event_new(const ps_host *h, const ps_node *n, xnode *event)
{
    ps_event *ev = xcalloc(1, sizeof *ev);
    ev->host = xstrdup(h->jid);
    ev->pep = h->pep;
    ev->node = xstrdup(n->name);
    ev->owner = xstrdup(n->owner);
    ps_config_copy(&ev->cfg, &n->cfg);
    ev->subscribers = xcalloc(n->nsubs + 1, sizeof *ev->subscribers);
    for (size_t i = 0; i < n->nsubs; i++)
        ev->subscribers[i] = xstrdup(n->subs[i].jid);
    ev->event = event;
    return ev;
}

void ps_event_free(ps_event *ev)
{
    free(ev->host);
    free(ev->node);
    free(ev->owner);
    ps_config_clear(&ev->cfg);
    ps_groups_free(ev->subscribers);
    xnode_free(ev->event);
    free(ev);
}

void ps_route(bool pep, xnode *st)
{
    if (pep)
        router_route(st);
    else
        router_route_service(st);
}

static void send_event(const ps_event *ev, const char *to)
{
    static _Atomic unsigned long long counter;
    char id[32];
    snprintf(id, sizeof id, "ps%llx", ++counter);
    xnode *m = xnode_new("message", NS_CLIENT);
    xnode_set_attr(m, "from", ev->host);
    xnode_set_attr(m, "to", to);
    xnode_set_attr(m, "type", "headline");
    xnode_set_attr(m, "id", id);
    xnode_append(m, xnode_copy(ev->event));
    ps_route(ev->pep, m);
}

static void collect_observer(const dir_account *c, void *ud) { sl_add(ud, c->bare); }

/* May contact (not the owner) hear of a PEP node's events implicitly? */
static bool contact_admitted(const ps_event *ev, const char *contact)
{
    if (ev->cfg.access == PEP_ACCESS_WHITELIST)
        return false;
    if (ev->cfg.access != PEP_ACCESS_ROSTER)
        return true;     /* open, presence: contacts are subscribed */
    ps_rel rel;
    char **groups;
    ps_rel_compute(ev->host, contact, &rel, &groups);
    bool ok = ps_access_check(&ev->cfg, &rel) == PS_ACCESS_OK;
    ps_groups_free(groups);
    return ok;
}

static void notify_now(void *arg)
{
    ps_event *ev = arg;
    strlist sent = {0};
    for (char **s = ev->subscribers; *s; s++) {
        sl_add(&sent, *s);
        send_event(ev, *s);
    }
    if (ev->pep) {
        strlist bares = {0};
        sl_add(&bares, ev->host);
        char **from = roster_personal_list(ev->host, true, false);
        for (char **p = from; *p; p++)
            sl_add(&bares, *p);
        roster_list_free(from);
        const dir_snapshot *snap = router_snapshot();
        const dir_account *u = router_account(ev->host);
        if (snap && u)
            shared_observers_each(snap, config_current()->roster_scope, u, collect_observer,
                                  &bares);
        for (size_t i = 0; i < bares.n; i++) {
            if (i > 0 && !contact_admitted(ev, bares.v[i]))
                continue;
            char **fulls = ps_caps_recipients(bares.v[i], ev->node);
            for (char **f = fulls; *f; f++) {
                size_t before = sent.n;
                sl_add(&sent, *f);
                if (sent.n > before)
                    send_event(ev, *f);
            }
            ps_groups_free(fulls);
        }
        sl_free(&bares);
    }
    sl_free(&sent);
    ps_event_free(ev);
}

static void event_free(void *p) { ps_event_free(p); }

void ps_notify(ps_event *ev)
{
    if (ev->pep)
        with_roster(ev->host, "an event", notify_now, event_free, ev);
    else
        notify_now(ev);
}

/* ---- last published item ---- */

static void collect_shared(const dir_account *c, void *ud) { sl_add(ud, c->bare); }

typedef struct last_job {
    char *hjid, *full;
} last_job;

static void last_free(void *p)
{
    last_job *j = p;
    free(j->hjid);
    free(j->full);
    free(j);
}

/* The newest item of every node of host hjid that full may see and wants
 * (+notify), as headline messages to full; with hjid's roster cached. */
static void last_now(void *arg)
{
    last_job *j = arg;
    const char *hjid = j->hjid, *full = j->full;
    const char *slash = strchr(full, '/');
    char *bare = slash ? xstrndup(full, (size_t)(slash - full)) : xstrdup(full);
    ps_rel rel;
    char **groups;
    ps_rel_compute(hjid, bare, &rel, &groups);
    xnode *msgs = xnode_new("list", NS_CLIENT);
    pthread_mutex_lock(&ps_lock);
    ps_host *h = ps_host_get(hjid, false);
    for (ps_node *n = h ? h->nodes : NULL; n; n = n->next) {
        if (!n->newest || n->cfg.send_last == PS_SEND_NEVER ||
            (!rel.owner && n->cfg.send_last != PS_SEND_ON_SUB_AND_PRESENCE))
            continue;
        rel.aff = ps_node_aff(n, bare);
        if (ps_access_check(&n->cfg, &rel) != PS_ACCESS_OK || !ps_caps_wants(full, n->name))
            continue;
        xnode *m = xnode_add_child(msgs, "message", NS_CLIENT);
        xnode_set_attr(m, "from", hjid);
        xnode_set_attr(m, "to", full);
        xnode_set_attr(m, "type", "headline");
        xnode_append(m, ps_event_items(n->name, n->newest, n->cfg.deliver_payloads));
    }
    pthread_mutex_unlock(&ps_lock);
    ps_groups_free(groups);
    for (xnode *m = xnode_first_element(msgs); m; m = xnode_first_element(msgs)) {
        xnode_unlink(m);
        router_route(m);
    }
    xnode_free(msgs);
    free(bare);
    last_free(j);
}

void ps_send_last_items_of(const char *hjid, const char *full)
{
    pthread_mutex_lock(&ps_lock);
    ps_host *h = ps_host_get(hjid, false);
    bool any = h && h->nnodes;
    pthread_mutex_unlock(&ps_lock);
    if (!any)
        return;
    last_job *j = xcalloc(1, sizeof *j);
    j->hjid = xstrdup(hjid);
    j->full = xstrdup(full);
    with_roster(hjid, "the last items", last_now, last_free, j);
}

void ps_send_last_items(const char *full)
{
    const char *slash = strchr(full, '/');
    if (!slash)
        return;
    char *bare = xstrndup(full, (size_t)(slash - full));
    strlist hosts = {0};
    if (!router_account(bare)) {
        /* a remote contact: the account it sent its presence to */
        char *via = ps_caps_via(full);
        if (via)
            ps_send_last_items_of(via, full);
        free(via);
        free(bare);
        return;
    }
    sl_add(&hosts, bare);
    char **to = roster_personal_list(bare, false, true);
    for (char **p = to; *p; p++)
        sl_add(&hosts, *p);
    roster_list_free(to);
    const dir_snapshot *snap = router_snapshot();
    const dir_account *u = router_account(bare);
    if (snap && u)
        shared_each(snap, config_current()->roster_scope, u, collect_shared, &hosts);
    for (size_t i = 0; i < hosts.n; i++)
        ps_send_last_items_of(hosts.v[i], full);
    sl_free(&hosts);
    free(bare);
}

