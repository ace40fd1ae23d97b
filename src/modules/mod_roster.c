/* mod_roster.c: jabber:iq:roster (RFC 6121 §2) — roster get (shared items
 * from the directory plus personal items), roster set/remove of personal
 * items, pushes to interested resources, versioning (XEP-0237) — and the
 * driver that applies subscription state changes to the cached roster
 * (roster_subscription). */
#include "modules/roster.h"
#include "core/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/i18n.h"
#include "core/log.h"
#include "modules/module.h"
#include "modules/quota.h"
#include "modules/shared_roster.h"
#include "router/router.h"
#include "router/routes.h"
#include "store/store_pending.h"
#include "store/store_roster.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

static int slot = -1;
static unsigned long push_id;

static acct *session_acct(session *s) { return slot >= 0 ? s->slots[slot] : NULL; }

bool roster_is_shared(const char *user_bare, const char *contact_bare)
{
    const dir_snapshot *snap = router_snapshot();
    const dir_account *u = router_account(user_bare), *c = router_account(contact_bare);
    return u && c && shared_visible(snap, config_current()->roster_scope, u, c);
}

static void version_string(char *out, size_t len, const char *user, int64_t version)
{
    const dir_account *u = router_account(user);
    unsigned long long h = 0;
    if (u)
        h = shared_hash(router_snapshot(), config_current()->roster_scope, u);
    snprintf(out, len, "%" PRId64 "-%llx", version, h);
}

static xnode *personal_item(const store_roster_item *it)
{
    xnode *item = xnode_new("item", NS_ROSTER);
    xnode_set_attr(item, "jid", it->contact);
    if (it->name)
        xnode_set_attr(item, "name", it->name);
    xnode_set_attr(item, "subscription", store_sub_name(it->subscription));
    if (it->ask)
        xnode_set_attr(item, "ask", "subscribe");
    if (it->approved)
        xnode_set_attr(item, "approved", "true");
    for (char **g = it->groups; g && *g; g++)
        xnode_add_text(xnode_add_child(item, "group", NS_ROSTER), *g, strlen(*g));
    return item;
}

/* ---- pushes ---- */

xnode *roster_push_iq(const char *user, const xnode *item, int64_t version)
{
    if (version < 0) {
        acct *a = acct_find(user);
        version = 0;
        if (a) {
            pthread_mutex_lock(&a->lock);
            version = a->version;
            pthread_mutex_unlock(&a->lock);
            acct_release(a);
        }
    }
    char ver[64], id[32];
    version_string(ver, sizeof ver, user, version);
    snprintf(id, sizeof id, "push%lu", __atomic_add_fetch(&push_id, 1, __ATOMIC_RELAXED));
    xnode *iq = xnode_new("iq", NS_CLIENT);
    xnode_set_attr(iq, "type", "set");
    xnode_set_attr(iq, "id", id);
    xnode *q = xnode_add_child(iq, "query", NS_ROSTER);
    xnode_set_attr(q, "ver", ver);
    xnode_append(q, xnode_copy(item));
    return iq;
}

void roster_push_node(const char *user, const xnode *item, int64_t version)
{
    route_ref refs[ROUTES_MAX_RESOURCES];
    size_t n = router_resources(user, refs, ROUTES_MAX_RESOURCES);
    if (!n)
        return;
    xnode *iq = roster_push_iq(user, item, version);
    for (size_t i = 0; i < n; i++)
        if (refs[i].interested)
            router_deliver_ref(&refs[i], xnode_copy(iq));
    xnode_free(iq);
}

void roster_push(const char *user, const store_roster_item *item, const char *contact,
                 int64_t version)
{
    xnode *x;
    if (item) {
        x = personal_item(item);
    } else {
        x = xnode_new("item", NS_ROSTER);
        xnode_set_attr(x, "jid", contact);
        xnode_set_attr(x, "subscription", "remove");
    }
    roster_push_node(user, x, version);
    xnode_free(x);
}

/* ---- roster get ---- */

typedef struct get_ctx {
    const dir_snapshot *snap;
    enum roster_scope scope;
    const dir_account *u;
    xnode *query;
} get_ctx;

static void add_shared(const dir_account *c, void *ud)
{
    get_ctx *g = ud;
    xnode_append(g->query, shared_item(g->snap, g->scope, g->u, c));
}

static void roster_get(session *s, const xnode *iq, const xnode *q)
{
    acct *a = session_acct(s);
    const dir_snapshot *snap = router_snapshot();
    enum roster_scope scope = config_current()->roster_scope;
    const dir_account *u = router_account(s->bare);
    char ver[64];
    pthread_mutex_lock(&a->lock);
    version_string(ver, sizeof ver, s->bare, a->version);
    routes_set_interested(s->bare, s->id);
    s->interested = true;
    const char *want = xnode_attr(q, "ver");
    xnode *r = iq_result(iq);
    if (!want || strcmp(want, ver)) {
        xnode *query = xnode_add_child(r, "query", NS_ROSTER);
        xnode_set_attr(query, "ver", ver);
        get_ctx g = { snap, scope, u, query };
        if (u)
            shared_each(snap, scope, u, add_shared, &g);
        for (size_t i = 0; i < a->n; i++) {
            const dir_account *c = router_account(a->items[i].contact);
            if (u && c && shared_visible(snap, scope, u, c))
                continue;   /* the directory's item wins */
            xnode_append(query, personal_item(&a->items[i]));
        }
    }
    pthread_mutex_unlock(&a->lock);
    session_send_free(s, r);
}

/* ---- roster set ---- */

static void route_subscription(session *s, const char *contact, const char *type);

static void roster_set(session *s, const xnode *iq, const xnode *q)
{
    xnode *item = xnode_child(q, "item", NS_ROSTER);
    if (!item || xnode_next_element(item)) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    jid j;
    const char *js = xnode_attr(item, "jid");
    if (!js || jid_parse(js, &j) != 0 || j.resource) {
        if (js && jid_parse(js, &j) == 0)
            jid_clear(&j);
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    char *contact = jid_bare_string(&j);
    jid_clear(&j);
    if (!strcmp(contact, s->bare)) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "not-allowed", NULL));
        free(contact);
        return;
    }
    if (roster_is_shared(s->bare, contact)) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "not-allowed",
                                                i18n(s->lang, T_SHARED_ITEM)));
        free(contact);
        return;
    }
    acct *a = session_acct(s);
    const char *sub = xnode_attr(item, "subscription");
    if (sub && !strcmp(sub, "remove")) {
        pthread_mutex_lock(&a->lock);
        store_roster_item *cur = acct_item(a, contact);
        bool had = cur != NULL;
        bool to = cur && (cur->subscription == STORE_SUB_TO || cur->subscription == STORE_SUB_BOTH || cur->ask);
        bool from = cur && (cur->subscription == STORE_SUB_FROM || cur->subscription == STORE_SUB_BOTH);
        pthread_mutex_unlock(&a->lock);
        if (!had) {
            session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "item-not-found", NULL));
            free(contact);
            return;
        }
        /* RFC 6121 §2.5.2: cancel both directions, then remove. */
        if (to)
            route_subscription(s, contact, "unsubscribe");
        if (from)
            route_subscription(s, contact, "unsubscribed");
        pthread_mutex_lock(&a->lock);
        acct_item_del(a, contact);
        int64_t v = ++a->version;
        pthread_mutex_unlock(&a->lock);
        store_roster_del(NULL, s->bare, contact, NULL, NULL);
        session_send_free(s, iq_result(iq));
        roster_push(s->bare, NULL, contact, v);
        free(contact);
        return;
    }
    /* name and groups (RFC 6121 §2.1.2.4-5) */
    const char *name = xnode_attr(item, "name");
    size_t ng = 0;
    for (xnode *g = xnode_first_element(item); g; g = xnode_next_element(g))
        ng++;
    char **groups = xcalloc(ng + 1, sizeof *groups);
    size_t k = 0;
    for (xnode *g = xnode_first_element(item); g; g = xnode_next_element(g)) {
        if (strcmp(g->name, "group"))
            continue;
        char *t = xnode_text(g);
        if (!t)
            t = xstrdup("");
        bool dup = false;
        for (size_t i = 0; !dup && i < k; i++)
            dup = !strcmp(groups[i], t);
        if (dup) {
            free(t);
            continue;
        }
        groups[k++] = t;
    }
    /* RFC 6121 §2.3.3: empty or oversized group names, an oversized name or
     * too many groups are refused */
    if (!roster_item_fits(name, groups, k)) {
        for (size_t i = 0; i < k; i++)
            free(groups[i]);
        free(groups);
        free(contact);
        quota_refused(s->bare, "the roster item name/group limits", ROSTER_NAME_MAX);
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "not-acceptable",
                                                i18n(s->lang, T_ROSTER_ITEM_LIMITS)));
        return;
    }
    int quota = config_current()->quota_roster;
    pthread_mutex_lock(&a->lock);
    store_roster_item it = { 0 };
    bool exists = false;
    store_roster_item *cur = acct_item(a, contact);
    if (!roster_quota_allows(a->n, cur != NULL, quota)) {
        pthread_mutex_unlock(&a->lock);
        for (size_t i = 0; i < k; i++)
            free(groups[i]);
        free(groups);
        free(contact);
        quota_refused(s->bare, "plucs/quota/roster", quota);
        session_send_free(s, stanza_error_reply(iq, ERR_WAIT, "resource-constraint",
                                                i18n(s->lang, T_ROSTER_FULL)));
        return;
    }
    if (cur) {
        roster_item_copy(&it, cur);
        exists = true;
    } else {
        it.contact = xstrdup(contact);
    }
    roster_apply(&it, &exists, false, RS_SET);
    free(it.name);
    it.name = name && *name ? xstrdup(name) : NULL;
    for (char **g = it.groups; g && *g; g++)
        free(*g);
    free(it.groups);
    it.groups = groups;
    acct_item_put(a, &it);
    int64_t v = ++a->version;
    pthread_mutex_unlock(&a->lock);
    store_roster_set(NULL, s->bare, &it, NULL, NULL);
    session_send_free(s, iq_result(iq));
    roster_push(s->bare, &it, NULL, v);
    roster_item_clear(&it);
    free(contact);
}

static void roster_iq(session *s, const xnode *iq, const xnode *q)
{
    const char *to = xnode_attr(iq, "to");
    if (to && strcmp(to, s->bare)) {
        session_send_free(s, stanza_error_reply(iq, ERR_AUTH, "forbidden", NULL));
        return;
    }
    const char *type = xnode_attr(iq, "type");
    if (type && !strcmp(type, "get"))
        roster_get(s, iq, q);
    else
        roster_set(s, iq, q);
}

/* ---- subscriptions ---- */

typedef struct sub_job {
    acct *a;
    char *contact;
    roster_op op;
    char *stanza;          /* serialized, for stored pending requests */
    xnode *orig;           /* outbound: the user's stanza, to bounce when refused */
    void (*then)(void *, unsigned);
    void (*free_ud)(void *);
    void *ud;
} sub_job;

static void sub_free(void *arg)
{
    sub_job *j = arg;
    if (j->free_ud)
        j->free_ud(j->ud);
    acct_release(j->a);
    free(j->contact);
    free(j->stanza);
    xnode_free(j->orig);
    free(j);
}

static void sub_run(void *arg)
{
    sub_job *j = arg;
    acct *a = j->a;
    pthread_mutex_lock(&a->lock);
    store_roster_item it = { 0 };
    bool exists = false;
    store_roster_item *cur = acct_item(a, j->contact);
    if (cur) {
        roster_item_copy(&it, cur);
        exists = true;
    } else {
        it.contact = xstrdup(j->contact);
    }
    unsigned acts = roster_apply(&it, &exists, acct_pending_has(a, j->contact), j->op);
    int quota = config_current()->quota_roster;
    if (!cur && (acts & RS_ACT_STORE) && !roster_quota_allows(a->n, false, quota)) {
        /* The user's own subscribe / pre-approval would add an item beyond
         * plucs/quota/roster: nothing is stored or sent on. */
        pthread_mutex_unlock(&a->lock);
        quota_refused(a->bare, "plucs/quota/roster", quota);
        if (j->orig) {
            const char *lang = xnode_attr(j->orig, "xml:lang");
            router_bounce(j->orig, ERR_WAIT, "resource-constraint", i18n(lang, T_ROSTER_FULL));
        }
        roster_item_clear(&it);
        if (j->then)
            j->then(j->ud, 0);
        j->free_ud = NULL;
        sub_free(j);
        return;
    }
    int64_t v = a->version;
    if (acts & RS_ACT_STORE) {
        acct_item_put(a, &it);
        v = ++a->version;
    }
    if (acts & RS_ACT_PENDING_ADD)
        acct_pending_set(a, j->contact, true);
    if (acts & RS_ACT_PENDING_DEL)
        acct_pending_set(a, j->contact, false);
    pthread_mutex_unlock(&a->lock);
    if (acts & RS_ACT_STORE) {
        store_roster_set(NULL, a->bare, &it, NULL, NULL);
        roster_push(a->bare, &it, NULL, v);
    }
    if (acts & RS_ACT_PENDING_ADD)
        store_pending_add(NULL, a->bare, j->contact, j->stanza ? j->stanza : "", NULL, NULL);
    if (acts & RS_ACT_PENDING_DEL)
        store_pending_del(NULL, a->bare, j->contact, NULL, NULL);
    roster_item_clear(&it);
    if (j->then)
        j->then(j->ud, acts);
    j->free_ud = NULL;    /* then owned it */
    sub_free(j);
}

void roster_subscription(const char *user, const char *contact, roster_op op, const xnode *st,
                         void (*then)(void *ud, unsigned acts), void (*free_ud)(void *ud),
                         void *ud)
{
    sub_job *j = xcalloc(1, sizeof *j);
    j->a = acct_acquire(user);
    j->contact = xstrdup(contact);
    j->op = op;
    j->stanza = st ? xml_to_string(st, NS_CLIENT) : NULL;
    if (st && (op == RS_OUT_SUBSCRIBE || op == RS_OUT_SUBSCRIBED))
        j->orig = xnode_copy(st);
    j->then = then;
    j->free_ud = free_ud;
    j->ud = ud;
    acct_when_loaded(j->a, sub_run, sub_free, j);
}

typedef struct state_job {
    acct *a;
    char *contact;
    void (*fn)(void *, store_sub);
    void (*free_ud)(void *);
    void *ud;
} state_job;

static void state_free(void *arg)
{
    state_job *j = arg;
    if (j->free_ud)
        j->free_ud(j->ud);
    acct_release(j->a);
    free(j->contact);
    free(j);
}

static void state_run(void *arg)
{
    state_job *j = arg;
    pthread_mutex_lock(&j->a->lock);
    store_roster_item *it = acct_item(j->a, j->contact);
    store_sub sub = it ? it->subscription : STORE_SUB_NONE;
    pthread_mutex_unlock(&j->a->lock);
    j->fn(j->ud, sub);
    j->free_ud = NULL;   /* fn owned it */
    state_free(j);
}

void roster_subscription_state(const char *user, const char *contact,
                               void (*fn)(void *ud, store_sub sub), void (*free_ud)(void *ud),
                               void *ud)
{
    state_job *j = xcalloc(1, sizeof *j);
    j->a = acct_acquire(user);
    j->contact = xstrdup(contact);
    j->fn = fn;
    j->free_ud = free_ud;
    j->ud = ud;
    acct_when_loaded(j->a, state_run, state_free, j);
}

/* roster remove: the cancellations go through the directed-presence event
 * (the presence module's subscription path) like client-sent ones. */
static void route_subscription(session *s, const char *contact, const char *type)
{
    xnode *p = xnode_new("presence", NS_CLIENT);
    xnode_set_attr(p, "type", type);
    xnode_set_attr(p, "to", contact);
    xnode_set_attr(p, "from", s->full);
    router_session_presence(s, p);
    xnode_free(p);
}

/* ---- session life ---- */

static void resume_session(void *ud)
{
    session *s = session_find(worker_self(), (uint64_t)(uintptr_t)ud);
    if (s)
        s->ops->resume(s);
}

static void roster_bound(session *s)
{
    acct *a = acct_acquire(s->bare);
    s->slots[slot] = a;
    pthread_mutex_lock(&a->lock);
    bool loaded = a->loaded;
    pthread_mutex_unlock(&a->lock);
    if (!loaded) {
        /* Nothing of this session is processed before its roster is known. */
        s->ops->pause(s);
        acct_when_loaded(a, resume_session, NULL, (void *)(uintptr_t)s->id);
    }
}

static void slot_release(void *data) { acct_release(data); }

static void roster_init(void)
{
    module_register_iq(NS_ROSTER, roster_iq);
    module_hook_session(EV_BOUND, roster_bound);
}

/* XEP-0237: roster versioning, offered once the client is authenticated. */
static void roster_stream_features(const session *s, buf *out)
{
    buf_puts(out, "<ver xmlns='urn:xmpp:features:rosterver'/>");
}

const module mod_roster = {
    .name = "roster",
    .init = roster_init,
    .thread_exit = roster_thread_exit,
    .stream_features = roster_stream_features,
    .slot = &slot,
    .slot_free = slot_release,
};
