/* mod_blocking.c: XEP-0191 blocking command. The protocol side of the
 * blocklists kept in block_cache.c:
 *
 * - iq (urn:xmpp:blocking): get the list, block, unblock (listed items or
 *   all). Changes apply to the in-memory list at once, are written through
 *   to the store (fire-and-forget: the list is read back only when the
 *   account's next first session binds, after the write in queue order),
 *   answered, and pushed to every resource of the user that asked for the
 *   list.
 * - bound hook: the session takes a reference to its account's list; the
 *   first session loads it from the store and every session of the account
 *   is paused until it is loaded, so nothing it sends or asks for can slip
 *   past a list that is still on its way.
 * - inbound hook (stanzas about to reach a session): from a JID the user
 *   blocked, presence is dropped silently, a chat/normal message and an iq
 *   get/set are answered with service-unavailable (XEP-0191 §3.3: the user
 *   appears offline), anything else is dropped. Also, presence from someone
 *   who blocked this user is dropped unless it is 'unavailable' (broadcasts
 *   never pass an outbound hook with a 'to', so they are caught here).
 * - outbound hook (the user's own stanzas with a 'to'): to a blocked JID,
 *   a message or iq is answered with not-acceptable + <blocked/>, presence
 *   is dropped.
 * - On block, the contact and the user see each other go unavailable; on
 *   unblock, their current presence flows again where presence may flow.
 *
 * Stanzas from or to the user's own JIDs and the served domain itself are
 * never blocked, so a user cannot lock themselves out of their server. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/i18n.h"
#include "core/alloc.h"
#include "core/log.h"
#include "modules/blocklist.h"
#include "modules/module.h"
#include "modules/quota.h"
#include "modules/roster.h"
#include "router/router.h"
#include "router/routes.h"
#include "store/store_blocklist.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

#define NS_BLOCKING "urn:xmpp:blocking"
#define NS_BLOCKING_ERRORS "urn:xmpp:blocking:errors"

static int slot = -1;
static atomic_uint_fast64_t push_seq;
static blocking_observer observer;     /* mod_privacy: XEP-0191 §4 */

void blocking_set_observer(blocking_observer fn) { observer = fn; }

typedef struct bsess {
    block_list *list;        /* a reference, released with the session */
    bool requested;          /* asked for the blocklist: gets pushes */
} bsess;

static void bsess_free(void *p)
{
    bsess *x = p;
    block_cache_release(x->list);
    free(x);
}

static bsess *bsess_of(session *s) { return slot >= 0 ? s->slots[slot] : NULL; }

/* Pushes go only to sessions that asked for the list. */
static bool requested(session *s)
{
    bsess *x = bsess_of(s);
    return x && x->requested;
}

/* ---- loading at bind ---- */

static void list_loaded(void *arg, store_blocklist *res)
{
    if (res->status != STORE_OK)
        log_err("blocking: cannot read the blocklist of %s; it is empty until the next login",
                res->user);
    size_t nw = 0;
    block_waiter *w = block_cache_install(res->user, res->items, res->n, &nw);
    account_table_resume(w, nw);
    store_blocklist_free(res);
}

static void blocking_bound(session *s)
{
    bool created = false;
    bsess *x = xcalloc(1, sizeof *x);
    x->list = block_cache_acquire(s->bare, &created);
    s->slots[slot] = x;
    if (block_cache_wait(x->list, worker_id(s->w), s->id))
        s->ops->pause(s);
    if (created)
        store_block_get(s->w, s->bare, list_loaded, NULL, NULL);
}

/* ---- matching helpers ---- */

/* Whether s's user blocks the address text a. */
static bool session_blocks(session *s, const char *a)
{
    bsess *x = bsess_of(s);
    if (!x || !a || !block_cache_any())
        return false;
    jid j;
    if (jid_parse(a, &j) != 0)
        return false;
    bool r = !account_exempt(s->bare, &j) && block_cache_blocks(x->list, &j);
    jid_clear(&j);
    return r;
}

/* ---- enforcement ---- */

static hook_result blocking_inbound(session *s, xnode *st)
{
    if (!block_cache_any())
        return HOOK_CONTINUE;
    const char *from = xnode_attr(st, "from");
    if (!from)
        return HOOK_CONTINUE;
    stanza_kind kind = stanza_kind_of(st);
    const char *type = xnode_attr(st, "type");
    if (session_blocks(s, from)) {
        if ((kind == STANZA_IQ && type && (!strcmp(type, "get") || !strcmp(type, "set"))) ||
            (kind == STANZA_MESSAGE && (!type || !strcmp(type, "chat") || !strcmp(type, "normal"))))
            router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
        return HOOK_STOP;
    }
    if (kind == STANZA_PRESENCE && !(type && !strcmp(type, "unavailable"))) {
        /* Presence of someone who blocked this user. */
        jid f;
        if (jid_parse(from, &f) == 0) {
            char *fb = jid_bare_string(&f);
            jid me;
            bool blocked = false;
            if (strcmp(fb, s->bare) && jid_parse(s->full, &me) == 0) {
                blocked = block_cache_bare_blocks(fb, &me);
                jid_clear(&me);
            }
            free(fb);
            jid_clear(&f);
            if (blocked)
                return HOOK_STOP;
        }
    }
    return HOOK_CONTINUE;
}

static xnode *blocked_error(session *s, const xnode *st)
{
    const char *lang = xnode_attr(st, "xml:lang");
    if (!lang || !*lang)
        lang = s->lang;
    xnode *r = stanza_error_reply(st, ERR_CANCEL, "not-acceptable", i18n(lang, T_BLOCKED));
    xnode *e = r ? xnode_child(r, "error", NULL) : NULL;
    if (e) {
        xnode *t = xnode_child(e, "text", NS_STANZAS);
        if (t)
            xnode_set_attr(t, "xml:lang", i18n_lang(lang));
        xnode_add_child(e, "blocked", NS_BLOCKING_ERRORS);
    }
    return r;
}

static hook_result blocking_outbound(session *s, xnode *st)
{
    const char *to = xnode_attr(st, "to");
    if (!to || !block_cache_any() || !session_blocks(s, to))
        return HOOK_CONTINUE;
    stanza_kind kind = stanza_kind_of(st);
    const char *type = xnode_attr(st, "type");
    bool answer = kind == STANZA_MESSAGE ||
                  (kind == STANZA_IQ && type && (!strcmp(type, "get") || !strcmp(type, "set")));
    if (answer)
        session_send_free(s, blocked_error(s, st));
    log_debug("blocking: %s -> %s refused (blocked by the sender)", s->full, to);
    return HOOK_STOP;
}

/* ---- presence when the list changes ---- */

/* May contact see user's presence (shared roster or personal from/both)? */
static bool may_see(const char *user, const char *contact)
{
    if (roster_is_shared(user, contact))
        return true;
    char **from = roster_personal_list(user, true, false);
    bool r = false;
    for (char **p = from; *p && !r; p++)
        r = !strcmp(*p, contact);
    roster_list_free(from);
    return r;
}

/* Current presence of bare's available resources (only `resource` when
 * set): as unavailable when `unavailable`. Each copy has 'from' set. */
static size_t presences_of(const char *bare, const char *resource, bool unavailable,
                           xnode **out)
{
    xnode *pres[ROUTES_MAX_RESOURCES];
    size_t n = routes_presences(bare, pres, ROUTES_MAX_RESOURCES), k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *from = xnode_attr(pres[i], "from");
        jid f;
        bool keep = from && jid_parse(from, &f) == 0;
        if (keep) {
            keep = !resource || (f.resource && !strcmp(f.resource, resource));
            jid_clear(&f);
        }
        if (!keep) {
            xnode_free(pres[i]);
            continue;
        }
        if (unavailable) {
            xnode *u = xnode_new("presence", NS_CLIENT);
            xnode_set_attr(u, "type", "unavailable");
            xnode_set_attr(u, "from", from);
            xnode_free(pres[i]);
            pres[i] = u;
        }
        xnode_set_attr(pres[i], "to", NULL);
        out[k++] = pres[i];
    }
    return k;
}

/* user blocked (on) or unblocked (!on) the JID text item. */
static void presence_effects(session *s, const char *item, bool on)
{
    jid j;
    if (jid_parse(item, &j) != 0)
        return;
    if (!j.node || account_exempt(s->bare, &j)) {
        jid_clear(&j);     /* domains: no presence bookkeeping per domain */
        return;
    }
    char *contact = jid_bare_string(&j);
    xnode *pres[ROUTES_MAX_RESOURCES];
    size_t n;
    /* the user's presence to the contact */
    if (!on && may_see(s->bare, contact)) {
        n = presences_of(s->bare, NULL, false, pres);
        for (size_t i = 0; i < n; i++) {
            xnode_set_attr(pres[i], "to", item);
            router_route(pres[i]);
        }
    } else if (on) {
        n = presences_of(s->bare, NULL, true, pres);
        for (size_t i = 0; i < n; i++) {
            xnode_set_attr(pres[i], "to", item);
            router_route(pres[i]);   /* unavailable passes the inbound hook */
        }
    }
    /* the contact's presence to the user */
    n = (on || may_see(contact, s->bare)) ? presences_of(contact, j.resource, on, pres) : 0;
    for (size_t i = 0; i < n; i++) {
        if (on) {
            account_send_all(s->bare, pres[i], true, NULL);   /* past our own filter */
            xnode_free(pres[i]);
        } else {
            xnode_set_attr(pres[i], "to", s->bare);
            router_route(pres[i]);
        }
    }
    free(contact);
    jid_clear(&j);
}

/* ---- the iq ---- */

static void push(session *s, const char *what, char *const *items, size_t n)
{
    xnode *iq = xnode_new("iq", NS_CLIENT);
    char id[32];
    snprintf(id, sizeof id, "block-push-%llu",
             (unsigned long long)atomic_fetch_add(&push_seq, 1));
    xnode_set_attr(iq, "type", "set");
    xnode_set_attr(iq, "id", id);
    xnode *p = xnode_add_child(iq, what, NS_BLOCKING);
    for (size_t i = 0; i < n; i++)
        xnode_set_attr(xnode_add_child(p, "item", NS_BLOCKING), "jid", items[i]);
    account_send_all(s->bare, iq, false, requested);
    xnode_free(iq);
}

/* The prepared JIDs of payload's items; NULL with *bad set when one is
 * missing or invalid. */
static char **parse_items(const xnode *payload, size_t *n, bool *bad)
{
    size_t cap = 0;
    for (const xnode *c = xnode_first_element(payload); c; c = xnode_next_element(c))
        cap++;
    char **v = xcalloc(cap ? cap : 1, sizeof *v);
    *n = 0;
    *bad = false;
    for (const xnode *c = xnode_first_element(payload); c; c = xnode_next_element(c)) {
        if (strcmp(c->name, "item") || strcmp(c->ns, NS_BLOCKING))
            continue;
        const char *a = xnode_attr(c, "jid");
        jid j;
        if (!a || jid_parse(a, &j) != 0) {
            *bad = true;
            break;
        }
        char *str = jid_to_string(&j);
        jid_clear(&j);
        bool dup = false;
        for (size_t i = 0; i < *n && !dup; i++)
            dup = !strcmp(v[i], str);
        if (dup)
            free(str);
        else
            v[(*n)++] = str;
    }
    if (*bad) {
        block_cache_strv_free(v, *n);
        *n = 0;
        return NULL;
    }
    return v;
}

static void do_block(session *s, bsess *x, const xnode *iq, const xnode *payload)
{
    size_t n;
    bool bad;
    char **items = parse_items(payload, &n, &bad);
    if (bad || n == 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY,
                                                bad ? "jid-malformed" : "bad-request", NULL));
        block_cache_strv_free(items, n);
        return;
    }
    int quota = config_current()->quota_blocklist;
    size_t nadded;
    char **added = block_cache_add(x->list, items, n, quota > 0 ? (size_t)quota : 0, &nadded);
    if (!added) {
        quota_refused(s->bare, "plucs/quota/blocklist", quota);
        session_send_free(s, stanza_error_reply(iq, ERR_WAIT, "resource-constraint",
                                                i18n(s->lang, T_BLOCKLIST_FULL)));
        block_cache_strv_free(items, n);
        return;
    }
    if (nadded)
        store_block_add(NULL, s->bare, (const char *const *)added, nadded, NULL, NULL, NULL);
    session_send_free(s, iq_result(iq));
    push(s, "block", items, n);
    for (size_t i = 0; i < nadded; i++)
        presence_effects(s, added[i], true);
    if (observer && nadded)
        observer(s, true, added, nadded);
    log_info("blocking: %s blocked %zu JID(s)", s->bare, nadded);
    block_cache_strv_free(added, nadded);
    block_cache_strv_free(items, n);
}

static void do_unblock(session *s, bsess *x, const xnode *iq, const xnode *payload)
{
    size_t n;
    bool bad;
    char **items = parse_items(payload, &n, &bad);
    if (bad) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "jid-malformed", NULL));
        return;
    }
    size_t nremoved;
    char **removed = block_cache_remove(x->list, items, n, &nremoved);
    if (nremoved)
        store_block_remove(NULL, s->bare, (const char *const *)items, n, NULL, NULL, NULL);
    session_send_free(s, iq_result(iq));
    push(s, "unblock", items, n);
    if (observer)      /* first: the default privacy list must let presence flow again */
        observer(s, false, items, n);
    for (size_t i = 0; i < nremoved; i++)
        presence_effects(s, removed[i], false);
    log_info("blocking: %s unblocked %zu JID(s)", s->bare, nremoved);
    block_cache_strv_free(removed, nremoved);
    block_cache_strv_free(items, n);
}

void blocking_sync(session *s, char *const *want, size_t n)
{
    bsess *x = bsess_of(s);
    if (!x || !block_cache_loaded(x->list))
        return;
    size_t nhave;
    char **have = block_cache_items(x->list, &nhave);
    char **add = xcalloc(n ? n : 1, sizeof *add), **rem = xcalloc(nhave ? nhave : 1, sizeof *rem);
    size_t nadd = 0, nrem = 0, i = 0, k = 0;
    while (i < n || k < nhave) {        /* both sorted */
        int c = i == n ? 1 : k == nhave ? -1 : strcmp(want[i], have[k]);
        if (c < 0)
            add[nadd++] = want[i++];
        else if (c > 0)
            rem[nrem++] = have[k++];
        else
            i++, k++;
    }
    if (nadd) {
        size_t nadded;
        char **added = block_cache_add(x->list, add, nadd, 0, &nadded);
        if (nadded)
            store_block_add(NULL, s->bare, (const char *const *)added, nadded, NULL, NULL, NULL);
        if (nadded)
            push(s, "block", added, nadded);
        for (size_t j = 0; j < nadded; j++)
            presence_effects(s, added[j], true);
        block_cache_strv_free(added, nadded);
    }
    if (nrem) {
        size_t nremoved;
        char **removed = block_cache_remove(x->list, rem, nrem, &nremoved);
        if (nremoved)
            store_block_remove(NULL, s->bare, (const char *const *)removed, nremoved, NULL, NULL,
                               NULL);
        if (nremoved)
            push(s, "unblock", removed, nremoved);
        for (size_t j = 0; j < nremoved; j++)
            presence_effects(s, removed[j], false);
        block_cache_strv_free(removed, nremoved);
    }
    if (nadd || nrem)
        log_info("blocking: %s's blocklist follows the default privacy list (+%zu -%zu)",
                 s->bare, nadd, nrem);
    free(add);
    free(rem);
    block_cache_strv_free(have, nhave);
}

static void blocking_iq(session *s, const xnode *iq, const xnode *payload)
{
    const char *type = xnode_attr(iq, "type");
    const char *to = xnode_attr(iq, "to");
    if (to && strcmp(to, s->bare)) {
        session_send_free(s, stanza_error_reply(iq, ERR_AUTH, "forbidden", NULL));
        return;
    }
    bsess *x = bsess_of(s);
    if (!x || !block_cache_loaded(x->list)) {
        session_send_free(s, stanza_error_reply(iq, ERR_WAIT, "internal-server-error", NULL));
        return;
    }
    bool get = type && !strcmp(type, "get");
    if (get && !strcmp(payload->name, "blocklist")) {
        size_t n;
        char **items = block_cache_items(x->list, &n);
        xnode *r = iq_result(iq);
        xnode *l = xnode_add_child(r, "blocklist", NS_BLOCKING);
        for (size_t i = 0; i < n; i++)
            xnode_set_attr(xnode_add_child(l, "item", NS_BLOCKING), "jid", items[i]);
        block_cache_strv_free(items, n);
        x->requested = true;
        session_send_free(s, r);
    } else if (!get && !strcmp(payload->name, "block")) {
        do_block(s, x, iq, payload);
    } else if (!get && !strcmp(payload->name, "unblock")) {
        do_unblock(s, x, iq, payload);
    } else {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
    }
}

static void blocking_init(void)
{
    module_register_iq(NS_BLOCKING, blocking_iq);
    module_add_feature(NS_BLOCKING);
    module_hook_session(EV_BOUND, blocking_bound);
    module_hook_stanza(EV_INBOUND, blocking_inbound);
    module_hook_stanza(EV_OUTBOUND, blocking_outbound);
}

const module mod_blocking = {
    .name = "blocking",
    .init = blocking_init,
    .shutdown = block_cache_shutdown,
    .slot = &slot,
    .slot_free = bsess_free,
};
