/* privacy_presence.c: presence follows a change of privacy lists. When the
 * list that applies to a session changes (another list made active, the
 * default changed, a list in use edited or removed), what that change
 * blocks or lets through from now on is made true at once, so nobody is
 * left with a stale view:
 * - presence-out: contacts who may see the user and are online get the
 *   session's 'unavailable' when they are newly blocked, its current
 *   presence when they are no longer blocked;
 * - presence-in: the session gets the 'unavailable' of each available
 *   resource of a contact it sees that is newly blocked (written straight
 *   to the session: the list would hold it back), and the contact's
 *   current presence when no longer blocked (routed, so every other rule
 *   still applies).
 * Contacts are the user's shared roster (both directions) and personal
 * items with the right subscription, at this server (routes_presences);
 * a contact at another server is told of presence-out changes by its bare
 * JID (its own presences are not known here).
 * Runs on the worker of the session that made the change; bounded by the
 * roster size. XEP-0191 changes do their own presence (mod_blocking.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "modules/privacy.h"
#include "modules/roster.h"
#include "modules/shared_roster.h"
#include "router/router.h"
#include "router/routes.h"
#include "xmpp/stanza.h"

typedef struct bares {
    char **v;
    size_t n, cap;
} bares;

static void bares_add(bares *b, const char *s)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->v[i], s))
            return;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    b->v[b->n++] = xstrdup(s);
}

static void bares_free(bares *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->v[i]);
    free(b->v);
}

static void add_account(const dir_account *c, void *ud) { bares_add(ud, c->bare); }

/* out: who may see user (observers, personal from/both); else whom user
 * sees (shared contacts, personal to/both). */
static void contacts_of(const char *user, bool out, bares *b)
{
    const dir_account *u = router_account(user);
    if (u) {
        if (out)
            shared_observers_each(router_snapshot(), config_current()->roster_scope, u,
                                  add_account, b);
        else
            shared_each(router_snapshot(), config_current()->roster_scope, u, add_account, b);
    }
    char **p = roster_personal_list(user, out, !out);
    for (char **q = p; q && *q; q++)
        bares_add(b, *q);
    roster_list_free(p);
}

static xnode *unavailable_from(const char *from, const char *to)
{
    xnode *u = xnode_new("presence", NS_CLIENT);
    xnode_set_attr(u, "type", "unavailable");
    xnode_set_attr(u, "from", from);
    if (to)
        xnode_set_attr(u, "to", to);
    return u;
}

/* What each_change() reports: one current presence (*pres, from 'from';
 * the callback may take it and set *pres NULL) whose fate changed, and
 * whether it now passes. */
typedef void (*change_fn)(xnode **pres, const char *from, bool passes, void *ud);

/* For each available resource of user's contacts (out: who may see user,
 * else whom user sees), whether old and new (either may be NULL) treat a
 * presence of kind to/from it differently; calls fn when they do. */
static void each_change(const char *user, bool out, unsigned kind, const privacy_list *old,
                        const privacy_list *new, change_fn fn, void *ud)
{
    bares b = { 0 };
    contacts_of(user, out, &b);
    for (size_t i = 0; i < b.n; i++) {
        if (!strcmp(b.v[i], user))
            continue;
        jid bj;
        if (out && jid_parse(b.v[i], &bj) == 0) {
            if (!router_serves(bj.domain)) {
                /* a contact at another server: its presences are not
                 * known here; it is told by its bare JID */
                bool was = privacy_allows(old, user, &bj, kind);
                bool is = privacy_allows(new, user, &bj, kind);
                xnode *none = NULL;
                if (was != is)
                    fn(&none, b.v[i], is, ud);
                jid_clear(&bj);
                continue;
            }
            jid_clear(&bj);
        }
        xnode *cp[ROUTES_MAX_RESOURCES];
        size_t m = routes_presences(b.v[i], cp, ROUTES_MAX_RESOURCES);
        for (size_t k = 0; k < m; k++) {
            const char *cf = xnode_attr(cp[k], "from");
            jid j;
            if (cf && jid_parse(cf, &j) == 0) {
                bool was = privacy_allows(old, user, &j, kind);
                bool is = privacy_allows(new, user, &j, kind);
                if (was != is)
                    fn(&cp[k], cf, is, ud);
                jid_clear(&j);
            }
            xnode_free(cp[k]);
        }
    }
    bares_free(&b);
}

/* presence-out: the contact gets the session's unavailable or its current
 * presence (mine). */
typedef struct out_ctx {
    const char *full;
    const xnode *mine;
} out_ctx;

static void out_changed(xnode **pres, const char *from, bool passes, void *ud)
{
    const out_ctx *o = ud;
    (void)pres;
    if (!passes) {
        router_route(unavailable_from(o->full, from));
    } else {
        xnode *c = xnode_copy(o->mine);
        xnode_set_attr(c, "to", from);
        router_route(c);
    }
}

/* presence-in: the session (me) gets the contact's unavailable straight,
 * or its current presence routed. */
typedef struct in_ctx {
    const char *full;
    route_ref me;
} in_ctx;

static void in_changed(xnode **pres, const char *from, bool passes, void *ud)
{
    const in_ctx *c = ud;
    if (!passes) {
        privacy_post(c->me.worker, c->me.sid, unavailable_from(from, NULL));
    } else {
        xnode_set_attr(*pres, "to", c->full);
        router_route(*pres);
        *pres = NULL;
    }
}

/* A change of one session's list: old -> new (either may be NULL). */
static void session_changed(const char *user, const char *resource, uint64_t sid,
                            const privacy_list *old, const privacy_list *new)
{
    size_t len = strlen(user) + strlen(resource) + 2;
    char *full = xmalloc(len);
    snprintf(full, len, "%s/%s", user, resource);
    /* the session's own current presence (none: it is not available) */
    xnode *mine = NULL;
    xnode *pres[ROUTES_MAX_RESOURCES];
    size_t n = routes_presences(user, pres, ROUTES_MAX_RESOURCES);
    for (size_t i = 0; i < n; i++) {
        const char *f = xnode_attr(pres[i], "from");
        if (!mine && f && !strcmp(f, full))
            mine = pres[i];
        else
            xnode_free(pres[i]);
    }
    if (mine) {
        out_ctx o = { full, mine };
        each_change(user, true, PRIV_K_PRESENCE_OUT, old, new, out_changed, &o);
        xnode_free(mine);
    }
    /* what the session sees */
    in_ctx c = { .full = full };
    if (routes_find(user, resource, &c.me) && c.me.sid == sid)
        each_change(user, false, PRIV_K_PRESENCE_IN, old, new, in_changed, &c);
    free(full);
}

void privacy_presence_update(const char *bare, privacy_acct *a, const privacy_eff *before,
                             size_t nb)
{
    size_t na;
    privacy_eff *after = pcache_effective_all(a, &na);
    for (size_t i = 0; i < na; i++) {
        const privacy_list *old = NULL;
        bool found = false;
        for (size_t k = 0; k < nb && !found; k++)
            if (before[k].sid == after[i].sid) {
                old = before[k].l;
                found = true;
            }
        if (found && old != after[i].l)
            session_changed(bare, after[i].resource, after[i].sid, old, after[i].l);
    }
    privacy_eff_free(after, na);
}
