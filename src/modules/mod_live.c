/* mod_live.c: directory and registry changes reach connected users at once
 * (issue "Live directory"). When a worker installs a new snapshot, each of
 * its sessions compares what it saw before with what it may see now:
 * - its account is gone (disabled, deleted, moved) → the stream ends with
 *   not-authorized; its domain is no longer served → host-gone;
 * - shared roster items added, changed (labels, groups) or removed → roster
 *   pushes to a session that asked for the roster;
 * - contacts that became visible (roster or plucs/mod/filter) → their
 *   current presence; contacts no longer visible → unavailable.
 * Every observer does this for itself, so both directions are covered. */
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/alloc.h"
#include "core/i18n.h"
#include "core/log.h"
#include "modules/module.h"
#include "modules/roster.h"
#include "modules/shared_roster.h"
#include "router/router.h"
#include "router/routes.h"
#include "xmpp/jid.h"

typedef struct entry {
    const dir_account *acc;
    char *xml;               /* the shared <item/> as sent */
} entry;

typedef struct view {
    entry *e;
    size_t n, cap;
    const dir_snapshot *snap;
    enum roster_scope scope;
    const dir_account *u;
} view;

static void view_add(const dir_account *c, void *ud)
{
    view *v = ud;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->e = xrealloc(v->e, v->cap * sizeof *v->e);
    }
    xnode *it = shared_item(v->snap, v->scope, v->u, c);
    v->e[v->n].acc = c;
    v->e[v->n].xml = xml_to_string(it, NS_ROSTER);
    xnode_free(it);
    v->n++;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->acc->bare, ((const entry *)b)->acc->bare);
}

static void view_build(view *v, const dir_snapshot *snap, enum roster_scope scope,
                       const dir_account *u)
{
    memset(v, 0, sizeof *v);
    v->snap = snap;
    v->scope = scope;
    v->u = u;
    if (snap && u)
        shared_each(snap, scope, u, view_add, v);
    qsort(v->e, v->n, sizeof *v->e, entry_cmp);
}

static void view_free(view *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->e[i].xml);
    free(v->e);
}

static const entry *view_find(const view *v, const char *bare)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(v->e[mid].acc->bare, bare);
        if (!c)
            return &v->e[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool in_list(char **list, const char *s)
{
    for (char **p = list; p && *p; p++)
        if (!strcmp(*p, s))
            return true;
    return false;
}

/* May the session's user see contact's presence in this view? */
static bool visible(const view *v, char **personal_to, const char *contact)
{
    bool listed = view_find(v, contact) || in_list(personal_to, contact);
    if (!listed || !v->snap || !v->snap->filter || !v->u)
        return listed;
    char node[JID_PART_MAX + 1];
    const char *at = strchr(contact, '@');
    if (!at || (size_t)(at - contact) > JID_PART_MAX)
        return listed;
    memcpy(node, contact, (size_t)(at - contact));
    node[at - contact] = 0;
    const dir_account *c = dir_snapshot_account(v->snap, node, at + 1);
    return !c || dir_may_see(v->snap, v->u, c);
}

/* 'unavailable' from each available resource of contact (RFC 6121 sends
 * presence per resource; clients track it that way). Sent directly: the
 * policy step may no longer let contact's presence through. */
static void send_unavailable(session *s, const char *contact)
{
    xnode *pres[ROUTES_MAX_RESOURCES];
    size_t n = routes_presences(contact, pres, ROUTES_MAX_RESOURCES);
    for (size_t i = 0; i < n; i++) {
        xnode *p = xnode_new("presence", NS_CLIENT);
        xnode_set_attr(p, "type", "unavailable");
        xnode_set_attr(p, "from", xnode_attr(pres[i], "from"));
        xnode_set_attr(p, "to", s->full);
        session_send_free(s, p);
        xnode_free(pres[i]);
    }
}

/* The session's account left the directory: everyone who had it in their
 * roster (as the old snapshot says) learns it is gone before the stream
 * ends. */
typedef struct bye {
    xnode *p;
} bye;

static void bye_one(const dir_account *c, void *ud)
{
    bye *b = ud;
    route_ref refs[ROUTES_MAX_RESOURCES];
    size_t n = router_resources(c->bare, refs, ROUTES_MAX_RESOURCES);
    for (size_t k = 0; k < n; k++)
        if (refs[k].available)
            router_deliver_ref(&refs[k], xnode_copy(b->p));
}

static void goodbye(session *s, const dir_snapshot *old, enum roster_scope scope,
                    const dir_account *ou)
{
    if (!s->available)
        return;
    bye b = { xnode_new("presence", NS_CLIENT) };
    xnode_set_attr(b.p, "type", "unavailable");
    xnode_set_attr(b.p, "from", s->full);
    if (old && ou)
        shared_observers_each(old, scope, ou, bye_one, &b);
    xnode_free(b.p);
    s->available = false;
    routes_set_presence(s->bare, s->id, false, s->priority, NULL);
}

static void send_current(session *s, const char *contact)
{
    xnode *pres[ROUTES_MAX_RESOURCES];
    size_t n = routes_presences(contact, pres, ROUTES_MAX_RESOURCES);
    for (size_t i = 0; i < n; i++) {
        xnode_set_attr(pres[i], "to", s->full);
        router_route(pres[i]);   /* through the policy step like any presence */
    }
}

typedef struct ctx {
    const dir_snapshot *old, *snap;
    const config *old_cfg;
} ctx;

static void check_session(session *s, void *ud)
{
    ctx *x = ud;
    if (!s->bound || s->closing)
        return;
    const config *cfg = config_current();
    if (!dir_snapshot_serves(x->snap, s->domain)) {
        log_warn("live: %s: domain %s is no longer served, closing", s->full, s->domain);
        s->ops->close(s, "host-gone", i18n(s->lang, T_HOST_GONE));
        return;
    }
    const dir_account *ou = x->old ? dir_snapshot_account(x->old, s->node, s->domain) : NULL;
    const dir_account *nu = dir_snapshot_account(x->snap, s->node, s->domain);
    if (!nu && x->snap->complete && (ou || (x->old && x->old->complete))) {
        log_warn("live: %s: account no longer enabled for XMPP in %s, closing", s->full,
                 s->domain);
        goodbye(s, x->old, x->old_cfg ? x->old_cfg->roster_scope : cfg->roster_scope, ou);
        s->ops->close(s, "not-authorized", i18n(s->lang, T_ACCOUNT_DISABLED));
        return;
    }
    view ov, nv;
    view_build(&ov, x->old, x->old_cfg ? x->old_cfg->roster_scope : cfg->roster_scope, ou);
    view_build(&nv, x->snap, cfg->roster_scope, nu);
    char **personal_to = roster_personal_list(s->bare, false, true);

    /* roster pushes */
    if (s->interested) {
        for (size_t i = 0; i < nv.n; i++) {
            const entry *o = view_find(&ov, nv.e[i].acc->bare);
            if (o && !strcmp(o->xml, nv.e[i].xml))
                continue;
            xnode *it = shared_item(nv.snap, nv.scope, nu, nv.e[i].acc);
            session_send_free(s, roster_push_iq(s->bare, it, -1));
            xnode_free(it);
        }
        for (size_t i = 0; i < ov.n; i++) {
            if (view_find(&nv, ov.e[i].acc->bare))
                continue;
            xnode *it = xnode_new("item", NS_ROSTER);
            xnode_set_attr(it, "jid", ov.e[i].acc->bare);
            xnode_set_attr(it, "subscription", "remove");
            session_send_free(s, roster_push_iq(s->bare, it, -1));
            xnode_free(it);
        }
    }
    /* presence that became visible or invisible */
    if (s->available) {
        for (size_t i = 0; i < nv.n; i++) {
            const char *c = nv.e[i].acc->bare;
            if (!visible(&ov, personal_to, c) && visible(&nv, personal_to, c))
                send_current(s, c);
        }
        for (size_t i = 0; i < ov.n; i++) {
            const char *c = ov.e[i].acc->bare;
            if (visible(&ov, personal_to, c) && !visible(&nv, personal_to, c))
                send_unavailable(s, c);
        }
        for (char **p = personal_to; *p; p++) {
            if (view_find(&ov, *p) || view_find(&nv, *p))
                continue;   /* handled above */
            bool was = visible(&ov, personal_to, *p), is = visible(&nv, personal_to, *p);
            if (!was && is)
                send_current(s, *p);
            else if (was && !is)
                send_unavailable(s, *p);
        }
    }
    roster_list_free(personal_to);
    view_free(&ov);
    view_free(&nv);
}

static void on_snapshot(const dir_snapshot *old, const config *old_cfg, const dir_snapshot *snap)
{
    if (!snap || !old)
        return;   /* the first snapshot: nobody saw anything before */
    ctx x = { old, snap, old_cfg };
    sessions_each(worker_self(), check_session, &x);
}

static void live_init(void)
{
    module_hook_snapshot(on_snapshot);
}

const module mod_live = {
    .name = "live",
    .init = live_init,
};
