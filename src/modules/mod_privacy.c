/* mod_privacy.c: privacy lists (XEP-0016 1.7), kept consistent with the
 * blocking command (XEP-0191 §4). This file is the session side and the
 * enforcement; privacy_iq.c is the jabber:iq:privacy protocol and the
 * XEP-0191 link; privacy_cache.c holds the lists of online accounts.
 *
 * - bound hook: the session takes a reference to its account's entry and
 *   registers itself (no active list); the account's first session loads
 *   the lists from the store, and every session of the account is paused
 *   until they are loaded, so nothing slips past a list on its way.
 * - inbound hook (stanzas about to reach a session): the list that applies
 *   to the session (its active list, else the default) decides by kind:
 *   message, iq, presence-in (notifications: no type or unavailable;
 *   subscription presence only by items covering every kind). A refused
 *   iq get/set and chat/normal message are answered service-unavailable
 *   (as if the user were offline, XEP-0016 §2.11/§2.12, like XEP-0191),
 *   anything else is dropped. Presence from another online account is
 *   also checked against that sender's own list (presence-out): a
 *   broadcast never passes an outbound hook with a 'to'.
 * - outbound hook (the user's own stanzas with a 'to'): a message or iq to
 *   a contact the list blocks with an item covering every kind gets
 *   not-acceptable (§2.14), presence blocked by presence-out is not sent.
 *   'unavailable' is never held back by presence-out, so a contact never
 *   keeps seeing a user online who has just blocked them.
 *
 * Stanzas from or to the user's own JIDs and the served domains
 * themselves are never blocked. A chat/normal message for an account with
 * no available resource meets the account's default list before archive,
 * push and offline storage (privacy_offline.c); broadcast presence to
 * remote contacts meets presence-out (privacy_remote.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/blocklist.h"
#include "modules/module.h"
#include "modules/privacy.h"
#include "modules/roster.h"
#include "modules/shared_roster.h"
#include "router/router.h"
#include "router/routes.h"
#include "store/store_blocklist.h"
#include "store/store_privacy.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

static int slot = -1;

static void psess_free(void *p)
{
    privacy_sess *x = p;
    pcache_session_del(x->a, x->sid);
    pcache_release(x->a);
    free(x);
}

privacy_sess *privacy_sess_of(session *s) { return slot >= 0 && s ? s->slots[slot] : NULL; }

void privacy_post(int wid, uint64_t sid, xnode *st) { account_post(wid, sid, st, NULL); }

void privacy_send_all(const char *bare, const xnode *st)
{
    account_send_all(bare, st, false, NULL);
}

/* ---- store ---- */

static void stored(void *arg, store_status st, int64_t value)
{
    (void)value;
    char *what = arg;
    if (st != STORE_OK)
        log_err("privacy: %s could not be stored (%s)", what, store_status_name(st));
    free(what);
}

void privacy_store_list(const char *bare, const char *name, const privacy_list *l)
{
    char *text = l ? privacy_list_encode(l) : NULL;
    size_t len = strlen(bare) + strlen(name) + 32;
    char *what = xmalloc(len);
    snprintf(what, len, "list '%s' of %s", name, bare);
    store_privacy_put(NULL, bare, name, text, stored, what, free);
    free(text);
}

/* ---- loading at bind ---- */

/* The decoded lists of an account on their way into the cache. */
typedef struct loading {
    char *user;
    privacy_list **lists;
    size_t n;
    char *dflt;
} loading;

static void loading_free(void *p)
{
    loading *ld = p;
    for (size_t i = 0; i < ld->n; i++)
        privacy_list_unref(ld->lists[i]);
    free(ld->lists);
    free(ld->dflt);
    free(ld->user);
    free(ld);
}

static void install(loading *ld)
{
    size_t nw = 0;
    privacy_waiter *w = pcache_install(ld->user, ld->lists, ld->n, ld->dflt, &nw);
    ld->n = 0;      /* taken */
    account_table_resume(w, nw);
    privacy_offline_loaded(ld->user);
    loading_free(ld);
}

/* An account without a default list may have a XEP-0191 blocklist from
 * before privacy lists existed: it becomes the default list "blocklist"
 * (XEP-0191 §4), once. */
static void legacy_blocklist(void *arg, store_blocklist *res)
{
    loading *ld = arg;
    if (res->status == STORE_OK && res->n) {
        size_t k = 0;
        while (k < ld->n && strcmp(ld->lists[k]->name, PRIVACY_BLOCKLIST_NAME))
            k++;
        privacy_list *base = k < ld->n ? ld->lists[k] : NULL;
        privacy_list *l = privacy_list_with_blocks(base, PRIVACY_BLOCKLIST_NAME, res->items,
                                                   res->n);
        if (base) {
            privacy_list_unref(base);
            ld->lists[k] = l;
        } else {
            ld->lists = xrealloc(ld->lists, (ld->n + 1) * sizeof *ld->lists);
            ld->lists[ld->n++] = l;
        }
        ld->dflt = xstrdup(PRIVACY_BLOCKLIST_NAME);
        privacy_store_list(ld->user, l->name, l);
        store_privacy_set_default(NULL, ld->user, l->name, NULL, NULL, NULL);
        log_info("privacy: %s's blocklist (%zu JIDs) becomes the default privacy list '%s'",
                 ld->user, res->n, l->name);
    }
    store_blocklist_free(res);
    install(ld);
}

static void lists_loaded(void *arg, store_privacy *res)
{
    (void)arg;
    loading *ld = xcalloc(1, sizeof *ld);
    ld->user = xstrdup(res->user);
    if (res->status != STORE_OK)
        log_err("privacy: cannot read the privacy lists of %s; none apply until the next login",
                res->user);
    ld->lists = xcalloc(res->n ? res->n : 1, sizeof *ld->lists);
    for (size_t i = 0; i < res->n; i++) {
        privacy_list *l = privacy_list_decode(res->lists[i].name, res->lists[i].text);
        if (l)
            ld->lists[ld->n++] = l;
        else
            log_err("privacy: stored list '%s' of %s is damaged; it is ignored",
                    res->lists[i].name, res->user);
    }
    ld->dflt = res->dflt ? xstrdup(res->dflt) : NULL;
    bool check_legacy = res->status == STORE_OK && !res->dflt;
    store_privacy_free(res);
    if (check_legacy)
        store_block_get(worker_self(), ld->user, legacy_blocklist, ld, loading_free);
    else
        install(ld);
}

static void privacy_bound(session *s)
{
    bool created = false;
    privacy_sess *x = xcalloc(1, sizeof *x);
    x->a = pcache_acquire(s->bare, &created);
    x->sid = s->id;
    s->slots[slot] = x;
    pcache_session_add(x->a, s->id, s->resource);
    if (pcache_wait(x->a, worker_id(s->w), s->id))
        s->ops->pause(s);
    if (created)
        privacy_load(s->w, s->bare);
}

void privacy_load(worker *w, const char *bare)
{
    store_privacy_get(w, bare, lists_loaded, NULL, NULL);
}

/* ---- matching ---- */

typedef struct groups {
    char **v;
    size_t n, cap;
} groups;

static void groups_add(groups *g, const char *name)
{
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->v[i], name))
            return;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 8;
        g->v = xrealloc(g->v, g->cap * sizeof *g->v);
    }
    g->v[g->n++] = xstrdup(name);
}

static void groups_free(groups *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->v[i]);
    free(g->v);
}

static void shared_groups_of(const dir_account *u, const dir_account *c, groups *g)
{
    xnode *it = shared_item(router_snapshot(), config_current()->roster_scope, u, c);
    for (const xnode *e = xnode_first_element(it); e; e = xnode_next_element(e)) {
        if (strcmp(e->name, "group"))
            continue;
        char *t = xnode_text(e);
        if (t && *t)
            groups_add(g, t);
        free(t);
    }
    xnode_free(it);
}

/* What owner's roster (personal and shared) says about addr. */
static void contact_of(const char *owner, const jid *addr, privacy_contact *c, groups *g)
{
    memset(c, 0, sizeof *c);
    c->addr = addr;
    c->sub = PRIV_SUB_NONE;
    char *cb = jid_bare_string(addr);
    if (!cb)
        return;
    const dir_account *u = router_account(owner), *ca = router_account(cb);
    bool shared = u && ca && shared_visible(router_snapshot(), config_current()->roster_scope,
                                            u, ca);
    if (shared) {
        c->sub = PRIV_SUB_BOTH;
        shared_groups_of(u, ca, g);
    }
    acct *a = acct_find(owner);
    if (a) {
        pthread_mutex_lock(&a->lock);
        store_roster_item *it = a->loaded ? acct_item(a, cb) : NULL;
        if (it) {
            if (!shared)
                c->sub = (privacy_sub)it->subscription;
            for (char **p = it->groups; p && *p; p++)
                groups_add(g, *p);
        }
        pthread_mutex_unlock(&a->lock);
        acct_release(a);
    }
    free(cb);
    c->groups = g->v;
    c->ngroups = g->n;
}

bool privacy_allows(const privacy_list *l, const char *owner, const jid *addr, unsigned kind)
{
    if (!l)
        return true;
    privacy_contact c;
    groups g = { 0 };
    if (l->needs_roster) {
        contact_of(owner, addr, &c, &g);
    } else {
        memset(&c, 0, sizeof c);
        c.addr = addr;
    }
    bool r = privacy_list_allows(l, &c, kind);
    groups_free(&g);
    return r;
}

static bool is_notification(const char *type)
{
    return !type || !strcmp(type, "unavailable");
}

static bool is_get_set(const char *type)
{
    return type && (!strcmp(type, "get") || !strcmp(type, "set"));
}

/* ---- enforcement ---- */

static hook_result privacy_inbound(session *s, xnode *st)
{
    if (!pcache_any())
        return HOOK_CONTINUE;
    const char *from = xnode_attr(st, "from");
    jid f;
    if (!from || jid_parse(from, &f) != 0)
        return HOOK_CONTINUE;
    stanza_kind kind = stanza_kind_of(st);
    const char *type = xnode_attr(st, "type");
    hook_result r = HOOK_CONTINUE;
    privacy_sess *x = privacy_sess_of(s);
    if (x && !account_exempt(s->bare, &f)) {
        privacy_list *l = pcache_effective(x->a, x->sid);
        unsigned k = kind == STANZA_MESSAGE ? PRIV_K_MESSAGE
                   : kind == STANZA_IQ ? PRIV_K_IQ
                   : is_notification(type) ? PRIV_K_PRESENCE_IN : 0;
        if (l && !privacy_allows(l, s->bare, &f, k)) {
            if ((kind == STANZA_IQ && is_get_set(type)) ||
                (kind == STANZA_MESSAGE &&
                 (!type || !strcmp(type, "chat") || !strcmp(type, "normal"))))
                router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
            log_debug("privacy: %s -> %s refused by list '%s'", from, s->full, l->name);
            privacy_stat_refused();
            r = HOOK_STOP;
        }
        privacy_list_unref(l);
    }
    if (r == HOOK_CONTINUE && kind == STANZA_PRESENCE && f.node &&
        !(type && !strcmp(type, "unavailable"))) {
        /* the sender's presence-out, when the sender is an online account;
         * 'unavailable' passes, so nobody is left seeing a stale presence
         * (as with XEP-0191 blocks) */
        char *fb = jid_bare_string(&f);
        privacy_list *l = strcmp(fb, s->bare) ? pcache_effective_bare(fb, f.resource) : NULL;
        jid me;
        if (l && jid_parse(s->full, &me) == 0) {
            if (!account_exempt(fb, &me) &&
                !privacy_allows(l, fb, &me, is_notification(type) ? PRIV_K_PRESENCE_OUT : 0)) {
                log_debug("privacy: presence %s -> %s refused by the sender's list '%s'", from,
                          s->full, l->name);
                privacy_stat_refused();
                r = HOOK_STOP;
            }
            jid_clear(&me);
        }
        privacy_list_unref(l);
        free(fb);
    }
    jid_clear(&f);
    return r;
}

static hook_result privacy_outbound(session *s, xnode *st)
{
    if (!pcache_any())
        return HOOK_CONTINUE;
    const char *to = xnode_attr(st, "to");
    privacy_sess *x = privacy_sess_of(s);
    jid t;
    if (!to || !x || jid_parse(to, &t) != 0)
        return HOOK_CONTINUE;
    hook_result r = HOOK_CONTINUE;
    privacy_list *l = account_exempt(s->bare, &t) ? NULL : pcache_effective(x->a, x->sid);
    stanza_kind kind = stanza_kind_of(st);
    const char *type = xnode_attr(st, "type");
    unsigned k = kind == STANZA_PRESENCE && is_notification(type) ? PRIV_K_PRESENCE_OUT : 0;
    bool unavailable = kind == STANZA_PRESENCE && type && !strcmp(type, "unavailable");
    if (l && !unavailable && !privacy_allows(l, s->bare, &t, k)) {
        if (kind == STANZA_MESSAGE || (kind == STANZA_IQ && is_get_set(type)))
            session_send_free(s, stanza_error_reply(st, ERR_CANCEL, "not-acceptable", NULL));
        log_debug("privacy: %s -> %s refused by the sender's list '%s'", s->full, to, l->name);
        privacy_stat_refused();
        r = HOOK_STOP;
    }
    privacy_list_unref(l);
    jid_clear(&t);
    return r;
}

static void privacy_shutdown(void)
{
    privacy_offline_shutdown();
    pcache_shutdown();
}

static void privacy_init(void)
{
    module_register_iq(NS_PRIVACY, privacy_iq);
    module_add_feature(NS_PRIVACY);
    module_hook_session(EV_BOUND, privacy_bound);
    module_hook_stanza(EV_INBOUND, privacy_inbound);
    module_hook_stanza(EV_OUTBOUND, privacy_outbound);
    module_hook_stanza(EV_MESSAGE_ROUTED, privacy_offline_routed);
    blocking_set_observer(privacy_on_blocking);
}

const module mod_privacy = {
    .name = "privacy",
    .init = privacy_init,
    .shutdown = privacy_shutdown,
    .slot = &slot,
    .slot_free = psess_free,
};
