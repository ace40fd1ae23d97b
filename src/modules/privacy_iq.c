/* privacy_iq.c: the jabber:iq:privacy protocol (XEP-0016 1.7 §2) and the
 * link with the blocking command (XEP-0191 §4).
 *
 * - get: the names (<active/>, <default/>, every <list/>), or one list;
 *   more than one element asked for is bad-request (§2.3, §2.4).
 * - set: exactly one element (else bad-request): <active/> (§2.5),
 *   <default/> (§2.6: conflict while another session uses the default),
 *   <list/> with items creates or replaces (§2.7; pushes to every
 *   resource, §2.6), an empty <list/> removes (§2.8: conflict when another
 *   session has it active, or it is the default another session uses).
 *   Malformed items are bad-request, a group not in the roster (personal
 *   or shared) item-not-found; more than PRIVACY_MAX_ITEMS items is
 *   not-acceptable and more than PRIVACY_MAX_LISTS lists
 *   resource-constraint, each with a log line.
 * - XEP-0191 §4: the blocklist is the jid/deny/every-kind items of the
 *   default list. Blocking adds such items at the top of the default list
 *   (creating a list "blocklist" and making it the default when there is
 *   none); unblocking removes them; any change of the default list or of
 *   which list is the default makes the blocklist follow
 *   (blocking_sync(): blocklist pushes, presence).
 *
 * Every change is applied to the cache at once, written through to the
 * store (fire-and-forget, in queue order) and answered; presence then
 * follows the sessions whose list changed (privacy_presence.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/blocklist.h"
#include "modules/privacy.h"
#include "modules/quota.h"
#include "modules/roster.h"
#include "modules/shared_roster.h"
#include "router/router.h"
#include "store/store_privacy.h"
#include "xmpp/stanza.h"

static atomic_uint_fast64_t push_seq;

static void reply_error(session *s, const xnode *iq, const char *type, const char *cond)
{
    session_send_free(s, stanza_error_reply(iq, type, cond, NULL));
}

/* §2.6: <iq type='set'><query><list name='..'/></query></iq> to every resource. */
static void push_list(const char *bare, const char *name)
{
    xnode *iq = xnode_new("iq", NS_CLIENT);
    char id[40];
    snprintf(id, sizeof id, "privacy-push-%llu",
             (unsigned long long)atomic_fetch_add(&push_seq, 1));
    xnode_set_attr(iq, "type", "set");
    xnode_set_attr(iq, "id", id);
    xnode *q = xnode_add_child(iq, "query", NS_PRIVACY);
    xnode_set_attr(xnode_add_child(q, "list", NS_PRIVACY), "name", name);
    privacy_send_all(bare, iq);
    xnode_free(iq);
}

/* The blocklist follows the default list (XEP-0191 §4). */
static void sync_blocklist(session *s, privacy_sess *x)
{
    privacy_list *d = pcache_default(x->a);
    size_t n;
    char **v = privacy_list_blocks(d, &n);
    blocking_sync(s, v, n);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    privacy_list_unref(d);
}

/* ---- roster groups (for item-not-found) ---- */

typedef struct group_ctx {
    const dir_account *u;
    const char *want;
    bool found;
} group_ctx;

static void shared_has_group(const dir_account *c, void *ud)
{
    group_ctx *g = ud;
    if (g->found)
        return;
    xnode *it = shared_item(router_snapshot(), config_current()->roster_scope, g->u, c);
    for (const xnode *e = xnode_first_element(it); e && !g->found; e = xnode_next_element(e)) {
        if (strcmp(e->name, "group"))
            continue;
        char *t = xnode_text(e);
        g->found = t && !strcmp(t, g->want);
        free(t);
    }
    xnode_free(it);
}

/* Whether user has a roster group called name (personal or shared). */
static bool roster_has_group(const char *user, const char *name)
{
    bool found = false;
    acct *a = acct_find(user);
    if (a) {
        pthread_mutex_lock(&a->lock);
        for (size_t i = 0; a->loaded && i < a->n && !found; i++)
            for (char **p = a->items[i].groups; p && *p && !found; p++)
                found = !strcmp(*p, name);
        pthread_mutex_unlock(&a->lock);
        acct_release(a);
    }
    if (!found) {
        group_ctx g = { router_account(user), name, false };
        if (g.u)
            shared_each(router_snapshot(), config_current()->roster_scope, g.u,
                        shared_has_group, &g);
        found = g.found;
    }
    return found;
}

/* ---- get ---- */

static void do_get(session *s, privacy_sess *x, const xnode *iq, const xnode *q)
{
    const xnode *el = xnode_first_element(q);
    if (el && xnode_next_element(el)) {
        log_info("privacy: %s asked for more than one list: bad-request", s->full);
        reply_error(s, iq, ERR_MODIFY, "bad-request");
        return;
    }
    xnode *r = iq_result(iq);
    xnode *out = xnode_add_child(r, "query", NS_PRIVACY);
    if (!el) {
        privacy_names nm;
        pcache_names(x->a, x->sid, &nm);
        if (nm.active)
            xnode_set_attr(xnode_add_child(out, "active", NS_PRIVACY), "name", nm.active);
        if (nm.dflt)
            xnode_set_attr(xnode_add_child(out, "default", NS_PRIVACY), "name", nm.dflt);
        for (size_t i = 0; i < nm.n; i++)
            xnode_set_attr(xnode_add_child(out, "list", NS_PRIVACY), "name", nm.names[i]);
        pcache_names_free(&nm);
        session_send_free(s, r);
        return;
    }
    const char *name = xnode_attr(el, "name");
    if (strcmp(el->name, "list") || strcmp(el->ns, NS_PRIVACY) || !name) {
        xnode_free(r);
        reply_error(s, iq, ERR_MODIFY, "bad-request");
        return;
    }
    privacy_list *l = pcache_get(x->a, name);
    if (!l) {
        xnode_free(r);
        reply_error(s, iq, ERR_CANCEL, "item-not-found");
        return;
    }
    xnode_append(out, privacy_list_xml(l));
    privacy_list_unref(l);
    session_send_free(s, r);
}

/* ---- set ---- */

static void do_active(session *s, privacy_sess *x, const xnode *iq, const char *name)
{
    size_t nb;
    privacy_eff *before = pcache_effective_all(x->a, &nb);
    if (pcache_set_active(x->a, x->sid, name) != PC_OK) {
        reply_error(s, iq, ERR_CANCEL, "item-not-found");
    } else {
        session_send_free(s, iq_result(iq));
        privacy_presence_update(s->bare, x->a, before, nb);
    }
    privacy_eff_free(before, nb);
}

static void do_default(session *s, privacy_sess *x, const xnode *iq, const char *name)
{
    size_t nb;
    privacy_eff *before = pcache_effective_all(x->a, &nb);
    pcache_res r = pcache_set_default(x->a, x->sid, name);
    if (r == PC_NOT_FOUND) {
        reply_error(s, iq, ERR_CANCEL, "item-not-found");
    } else if (r == PC_CONFLICT) {
        log_info("privacy: %s cannot change the default list: another session uses it",
                 s->full);
        reply_error(s, iq, ERR_CANCEL, "conflict");
    } else {
        store_privacy_set_default(NULL, s->bare, name, NULL, NULL, NULL);
        session_send_free(s, iq_result(iq));
        sync_blocklist(s, x);
        privacy_presence_update(s->bare, x->a, before, nb);
    }
    privacy_eff_free(before, nb);
}

static void do_remove(session *s, privacy_sess *x, const xnode *iq, const char *name)
{
    bool was_default = false;
    size_t nb;
    privacy_eff *before = pcache_effective_all(x->a, &nb);
    pcache_res r = pcache_remove(x->a, name, x->sid, &was_default);
    if (r == PC_NOT_FOUND) {
        reply_error(s, iq, ERR_CANCEL, "item-not-found");
    } else if (r == PC_CONFLICT) {
        log_info("privacy: %s cannot remove list '%s': another session uses it", s->full, name);
        reply_error(s, iq, ERR_CANCEL, "conflict");
    } else {
        privacy_store_list(s->bare, name, NULL);
        session_send_free(s, iq_result(iq));
        push_list(s->bare, name);
        if (was_default)
            sync_blocklist(s, x);
        privacy_presence_update(s->bare, x->a, before, nb);
        log_info("privacy: %s removed list '%s'", s->bare, name);
    }
    privacy_eff_free(before, nb);
}

static void do_list(session *s, privacy_sess *x, const xnode *iq, const xnode *el)
{
    const char *name = xnode_attr(el, "name");
    if (!name || !*name || strlen(name) > PRIVACY_MAX_NAME) {
        log_info("privacy: %s sent a list without a valid name: bad-request", s->full);
        reply_error(s, iq, ERR_MODIFY, "bad-request");
        return;
    }
    if (!xnode_first_element(el)) {
        do_remove(s, x, iq, name);
        return;
    }
    privacy_err err;
    const char *why = NULL;
    privacy_list *l = privacy_list_parse(el, PRIVACY_MAX_ITEMS, &err, &why);
    if (!l) {
        if (err == PRIV_TOO_MANY) {
            quota_refused(s->bare, "privacy list items", PRIVACY_MAX_ITEMS);
            reply_error(s, iq, ERR_MODIFY, "not-acceptable");
        } else {
            log_info("privacy: %s sent list '%s' with a %s: bad-request", s->full, name, why);
            reply_error(s, iq, ERR_MODIFY, "bad-request");
        }
        return;
    }
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].type == PRIV_GROUP && !roster_has_group(s->bare, l->items[i].value)) {
            log_info("privacy: %s sent list '%s' naming group '%s', not in the roster: "
                     "item-not-found", s->full, name, l->items[i].value);
            privacy_list_unref(l);
            reply_error(s, iq, ERR_CANCEL, "item-not-found");
            return;
        }
    privacy_list_ref(l);
    size_t nb;
    privacy_eff *before = pcache_effective_all(x->a, &nb);
    if (pcache_put(x->a, l, PRIVACY_MAX_LISTS) != PC_OK) {
        quota_refused(s->bare, "privacy lists", PRIVACY_MAX_LISTS);
        reply_error(s, iq, ERR_WAIT, "resource-constraint");
        privacy_list_unref(l);
        privacy_eff_free(before, nb);
        return;
    }
    privacy_store_list(s->bare, l->name, l);
    session_send_free(s, iq_result(iq));
    push_list(s->bare, l->name);
    char *d = pcache_default_name(x->a);
    if (d && !strcmp(d, l->name))
        sync_blocklist(s, x);
    free(d);
    privacy_presence_update(s->bare, x->a, before, nb);
    privacy_eff_free(before, nb);
    log_info("privacy: %s stored list '%s' (%zu items)", s->bare, l->name, l->n);
    privacy_list_unref(l);
}

void privacy_iq(session *s, const xnode *iq, const xnode *q)
{
    const char *type = xnode_attr(iq, "type");
    const char *to = xnode_attr(iq, "to");
    if (to && s->bare && strcmp(to, s->bare)) {
        reply_error(s, iq, ERR_AUTH, "forbidden");
        return;
    }
    privacy_sess *x = privacy_sess_of(s);
    if (!x || !pcache_loaded(x->a)) {
        reply_error(s, iq, ERR_WAIT, "internal-server-error");
        return;
    }
    if (strcmp(q->name, "query")) {
        reply_error(s, iq, ERR_MODIFY, "bad-request");
        return;
    }
    if (type && !strcmp(type, "get")) {
        do_get(s, x, iq, q);
        return;
    }
    const xnode *el = xnode_first_element(q);
    if (!el || xnode_next_element(el) || strcmp(el->ns, NS_PRIVACY)) {
        log_info("privacy: %s sent a set without exactly one element: bad-request", s->full);
        reply_error(s, iq, ERR_MODIFY, "bad-request");
        return;
    }
    const char *name = xnode_attr(el, "name");
    if (!strcmp(el->name, "active"))
        do_active(s, x, iq, name);
    else if (!strcmp(el->name, "default"))
        do_default(s, x, iq, name);
    else if (!strcmp(el->name, "list"))
        do_list(s, x, iq, el);
    else
        reply_error(s, iq, ERR_MODIFY, "bad-request");
}

/* ---- XEP-0191 §4 ---- */

static bool in(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

void privacy_on_blocking(session *s, bool block, char *const *items, size_t n)
{
    privacy_sess *x = privacy_sess_of(s);
    if (!x || !pcache_loaded(x->a))
        return;
    privacy_list *d = pcache_default(x->a);
    if (!d && !block)
        return;
    if (!d) {
        d = pcache_get(x->a, PRIVACY_BLOCKLIST_NAME);
        if (!d)
            d = privacy_list_new(PRIVACY_BLOCKLIST_NAME, NULL, 0);
    }
    privacy_list *l;
    bool changed;
    if (block) {
        l = privacy_list_with_blocks(d, d->name, items, n);
        changed = l->n != d->n;
    } else {
        privacy_item *v = xcalloc(d->n + 1, sizeof *v);
        size_t k = 0;
        for (size_t j = 0; j < d->n; j++) {
            if (privacy_item_is_block(&d->items[j]) && (n == 0 || in(items, n, d->items[j].value)))
                continue;
            privacy_item_copy(&v[k++], &d->items[j]);
        }
        changed = k != d->n;
        l = privacy_list_new(d->name, v, k);
    }
    char *dname = pcache_default_name(x->a);
    bool was_default = dname && !strcmp(dname, d->name);
    free(dname);
    privacy_list_unref(d);
    if (!changed && was_default) {
        privacy_list_unref(l);
        return;
    }
    pcache_force_default(x->a, l);
    privacy_store_list(s->bare, l->name, l);
    if (!was_default)
        store_privacy_set_default(NULL, s->bare, l->name, NULL, NULL, NULL);
    push_list(s->bare, l->name);
    log_info("privacy: %s's default list '%s' follows the blocklist (%zu items)", s->bare,
             l->name, l->n);
    privacy_list_unref(l);
    sync_blocklist(s, x);
}
