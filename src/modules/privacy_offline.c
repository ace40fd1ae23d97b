/* privacy_offline.c: XEP-0016 §2.2 says the default list applies when the
 * user has no session. A chat or normal message for an account that has no
 * available resource to take it (it would go to push and offline storage)
 * meets the account's default list at EV_MESSAGE_ROUTED, before the
 * archive (mod_mam) and carbons see it: privacy registers before them.
 * With XEP-0191 §4 the blocklist is the default list's block items, so
 * blocks apply too.
 *
 * When the account's lists are not in memory (nobody of it online) the
 * message is held (a copy; HOOK_STOP), the account's entry is acquired and
 * loaded from the store (privacy_load: asynchronous, the worker never
 * waits); once installed, every message held for the account is sent on
 * again from EV_MESSAGE_ROUTED on its own worker (router_reroute) while the
 * hold's reference keeps the entry, so the second pass decides at once.
 * The last reference drops the entry: an offline account's lists stay in
 * memory only for that. At most HELD_MAX messages are held in the whole
 * process; beyond, a message goes on unchecked (logged).
 *
 * A denied message gets service-unavailable, as for an unknown user; it is
 * neither archived nor stored nor pushed. Group and subscription items need
 * the owner's roster: when the default list has such items and the roster
 * is not in memory, the message is held again until the roster module
 * loaded it (acct_when_loaded), judged then and sent on past this hook. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/worker.h"
#include "modules/blocklist.h"
#include "modules/privacy.h"
#include "modules/roster.h"
#include "router/router.h"
#include "router/routes.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

#define HELD_MAX 1024

typedef struct held {
    struct held *next;
    char *bare;
    xnode *st;
    privacy_acct *a;      /* keeps the entry until the stanza went on */
    int worker;
    uint64_t origin;      /* the sending client session's id, 0: none */
} held;

static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static held *held_head, **held_tail = &held_head;
static atomic_size_t nheld;

size_t privacy_offline_held(void) { return atomic_load(&nheld); }

static void held_free(void *p)
{
    held *h = p;
    xnode_free(h->st);
    pcache_release(h->a);
    free(h->bare);
    free(h);
    atomic_fetch_sub(&nheld, 1);
}

/* On the holding worker: on its way again. */
static void held_run(void *p)
{
    held *h = p;
    session *origin = h->origin ? session_find(worker_self(), h->origin) : NULL;
    if (origin && (origin->closing || !origin->bound))
        origin = NULL;
    xnode *st = h->st;
    h->st = NULL;
    router_reroute(st, origin);
    held_free(h);
}

void privacy_offline_loaded(const char *bare)
{
    held *mine = NULL, **mt = &mine;
    pthread_mutex_lock(&held_lock);
    for (held **pp = &held_head; *pp;) {
        held *h = *pp;
        if (!strcmp(h->bare, bare)) {
            *pp = h->next;
            h->next = NULL;
            *mt = h;
            mt = &h->next;
        } else {
            pp = &h->next;
        }
    }
    held_tail = &held_head;
    while (*held_tail)
        held_tail = &(*held_tail)->next;
    pthread_mutex_unlock(&held_lock);
    while (mine) {
        held *h = mine;
        mine = h->next;
        worker_post_drop(worker_get(h->worker), held_run, held_free, h);
    }
}

void privacy_offline_shutdown(void)
{
    /* after the workers stopped: the store will not answer any more, and
     * the entries go with the table right after (no release) */
    pthread_mutex_lock(&held_lock);
    held *h = held_head;
    held_head = NULL;
    held_tail = &held_head;
    pthread_mutex_unlock(&held_lock);
    while (h) {
        held *next = h->next;
        xnode_free(h->st);
        free(h->bare);
        free(h);
        atomic_fetch_sub(&nheld, 1);
        h = next;
    }
}

/* Whether a message to bare (to: the parsed 'to') would find a resource. */
static bool has_taker(const char *bare, const jid *to)
{
    route_ref r;
    if (to->resource && routes_find(bare, to->resource, &r))
        return true;
    route_ref refs[ROUTES_MAX_RESOURCES];
    size_t top[ROUTES_MAX_RESOURCES];
    size_t n = router_resources(bare, refs, ROUTES_MAX_RESOURCES);
    return routes_pick_top(refs, n, top) > 0;
}

/* Whether owner's roster is in memory (group and subscription items). */
static bool roster_in_memory(const char *owner)
{
    acct *a = acct_find(owner);
    if (!a)
        return false;
    pthread_mutex_lock(&a->lock);
    bool r = a->loaded;
    pthread_mutex_unlock(&a->lock);
    acct_release(a);
    return r;
}

static bool hold(session *origin, xnode *st, const char *bare)
{
    worker *w = worker_self();
    if (!w)
        return false;
    if (atomic_fetch_add(&nheld, 1) >= HELD_MAX) {
        atomic_fetch_sub(&nheld, 1);
        log_warn("privacy: %d messages wait for privacy lists already; a message to %s goes "
                 "on without its default list", HELD_MAX, bare);
        return false;
    }
    held *h = xcalloc(1, sizeof *h);
    h->bare = xstrdup(bare);
    h->st = xnode_copy(st);
    h->worker = worker_id(w);
    h->origin = origin && !origin->remote && origin->bound ? origin->id : 0;
    bool created = false;
    h->a = pcache_acquire(bare, &created);
    pthread_mutex_lock(&held_lock);
    *held_tail = h;
    held_tail = &h->next;
    pthread_mutex_unlock(&held_lock);
    if (created)
        privacy_load(w, bare);
    else if (pcache_loaded(h->a))
        privacy_offline_loaded(bare);   /* loaded between the look and the hold */
    return true;
}

/* Whether l lets a message from `from` to its offline owner through: its
 * own rules, and its block items as XEP-0191 matches them (a domain also
 * covers its subdomains), as the two inbound hooks do for an online user. */
static bool offline_allows(const privacy_list *l, const char *owner, const jid *from)
{
    if (!l)
        return true;
    for (size_t i = 0; i < l->n; i++)
        if (privacy_item_is_block(&l->items[i]) && blocklist_item_matches(&l->items[i].j, from))
            return false;
    return privacy_allows(l, owner, from, PRIV_K_MESSAGE);
}

/* A message held until the offline owner's roster is loaded (the default
 * list has group or subscription items). */
typedef struct rhold {
    xnode *st;
    char *bare;
    privacy_acct *p;      /* keeps the lists */
    acct *r;              /* keeps the roster once loaded */
    uint64_t origin;
} rhold;

static void rhold_free(void *x)
{
    rhold *h = x;
    xnode_free(h->st);
    free(h->bare);
    pcache_release(h->p);
    acct_release(h->r);
    free(h);
    atomic_fetch_sub(&nheld, 1);
}

/* The message sent on without this hook (the stanza it is on). */
static _Thread_local const xnode *pass_through;

static void roster_loaded(void *x)
{
    rhold *h = x;
    bool loaded = false, ok = true;
    privacy_list *l = pcache_default_bare(h->bare, &loaded);
    jid from;
    const char *from_s = xnode_attr(h->st, "from");
    if (l && from_s && jid_parse(from_s, &from) == 0) {
        ok = offline_allows(l, h->bare, &from);
        jid_clear(&from);
    }
    if (!ok) {
        router_bounce(h->st, ERR_CANCEL, "service-unavailable", NULL);
        log_debug("privacy: %s -> %s (offline) refused by the default list '%s'", from_s,
                  h->bare, l->name);
        privacy_stat_refused();
    } else {
        session *origin = h->origin ? session_find(worker_self(), h->origin) : NULL;
        if (origin && (origin->closing || !origin->bound))
            origin = NULL;
        xnode *st = h->st;
        h->st = NULL;
        pass_through = st;
        router_reroute(st, origin);
        pass_through = NULL;
    }
    privacy_list_unref(l);
    rhold_free(h);
}

static bool hold_for_roster(session *origin, xnode *st, const char *bare)
{
    if (!worker_self())
        return false;
    if (atomic_fetch_add(&nheld, 1) >= HELD_MAX) {
        atomic_fetch_sub(&nheld, 1);
        log_warn("privacy: %d messages wait for privacy lists already; a message to %s goes "
                 "on without its default list", HELD_MAX, bare);
        return false;
    }
    bool created = false;
    privacy_acct *p = pcache_acquire(bare, &created);
    if (created) {          /* gone meanwhile: as if not looked at */
        pcache_release(p);
        atomic_fetch_sub(&nheld, 1);
        return false;
    }
    rhold *h = xcalloc(1, sizeof *h);
    h->st = xnode_copy(st);
    h->bare = xstrdup(bare);
    h->p = p;
    h->r = acct_acquire(bare);
    h->origin = origin && !origin->remote && origin->bound ? origin->id : 0;
    acct_when_loaded(h->r, roster_loaded, rhold_free, h);
    return true;
}

hook_result privacy_offline_routed(session *origin, xnode *st)
{
    if (st == pass_through)
        return HOOK_CONTINUE;   /* judged already (roster_loaded) */
    const char *type = xnode_attr(st, "type");
    if (type && strcmp(type, "chat") && strcmp(type, "normal"))
        return HOOK_CONTINUE;   /* headline, error, groupchat: never stored */
    const char *from_s = xnode_attr(st, "from"), *to_s = xnode_attr(st, "to");
    jid from = { 0 }, to = { 0 };
    hook_result r = HOOK_CONTINUE;
    char *bare = NULL;
    if (!from_s || !to_s || jid_parse(from_s, &from) != 0 || jid_parse(to_s, &to) != 0)
        goto out;
    if (!to.node || !router_serves(to.domain))
        goto out;
    bare = jid_bare_string(&to);
    if (!bare || !router_account(bare) || account_exempt(bare, &from) || has_taker(bare, &to))
        goto out;
    bool loaded = false;
    privacy_list *l = pcache_default_bare(bare, &loaded);
    if (!loaded) {
        if (hold(origin, st, bare))
            r = HOOK_STOP;
    } else if (l && l->needs_roster && !roster_in_memory(bare)) {
        if (hold_for_roster(origin, st, bare))
            r = HOOK_STOP;
    } else if (l && !offline_allows(l, bare, &from)) {
        router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
        log_debug("privacy: %s -> %s (offline) refused by the default list '%s'", from_s, bare,
                  l->name);
        privacy_stat_refused();
        r = HOOK_STOP;
    }
    privacy_list_unref(l);
out:
    free(bare);
    jid_clear(&from);
    jid_clear(&to);
    return r;
}
