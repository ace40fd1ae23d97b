/* store_roster.c: the personal roster operations of store_roster.h: their
 * requests, argument checks and delivery. The storage itself is the back
 * end's store_roster_ops (store_sqlite_roster.c for SQLite). Group names are
 * cleaned here (newlines become spaces, empty names are dropped), so every
 * back end stores the same thing. */
#include "store/store_roster.h"
#include "core/alloc.h"

#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static const char *const sub_names[] = { "none", "to", "from", "both" };

const char *store_sub_name(store_sub s)
{
    return (s >= STORE_SUB_NONE && s <= STORE_SUB_BOTH) ? sub_names[s] : "none";
}

int store_sub_parse(const char *s, store_sub *out)
{
    for (int i = 0; i < 4; i++) {
        if (s && strcmp(s, sub_names[i]) == 0) {
            *out = (store_sub)i;
            return 0;
        }
    }
    return -1;
}

static void item_clear(store_roster_item *it)
{
    free(it->contact);
    free(it->name);
    if (it->groups) {
        for (char **g = it->groups; *g; g++)
            free(*g);
        free(it->groups);
    }
}

void store_roster_free(store_roster *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        item_clear(&r->items[i]);
    free(r->items);
    free(r);
}

/* A copy of groups without empty names, newlines in a name as spaces. */
static char **groups_clean(char *const *groups)
{
    size_t n = 0;
    for (char *const *g = groups; g && *g; g++)
        n++;
    char **v = xcalloc(n + 1, sizeof *v);
    size_t k = 0;
    for (char *const *g = groups; g && *g; g++) {
        if (!**g)
            continue;
        char *c = store_strdup_or_null(*g);
        for (char *p = c; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        v[k++] = c;
    }
    return v;
}

static const store_roster_ops *roster_ops(store_conn *c)
{
    if (!c->backend->roster)
        store_kind_missing(c, "rosters");
    return c->backend->roster;
}

static bool check_user(const char *op, const char *user, const char *contact, bool need_contact)
{
    if (!user || !*user || (need_contact && (!contact || !*contact))) {
        log_err("store: %s without %s", op, (!user || !*user) ? "a user" : "a contact");
        return false;
    }
    return true;
}

/* ---- get / get_item ---- */

typedef struct {
    store_req base;
    store_roster_fn cb;
    void *arg;
    char *user;
    char *contact;          /* NULL: every item */
    store_roster *res;
} roster_get_req;

static store_status roster_get_exec(store_req *r, store_conn *c)
{
    roster_get_req *q = (roster_get_req *)r;
    const store_roster_ops *ops = roster_ops(c);
    if (!ops || !check_user("roster get", q->user, NULL, false))
        return STORE_ERROR;
    return ops->get(c, q->user, q->contact, q->res);
}

static void roster_get_free(store_req *r)
{
    roster_get_req *q = (roster_get_req *)r;
    store_roster_free(q->res);
    free(q->user);
    free(q->contact);
    free(q);
}

static void roster_get_deliver(store_req *r)
{
    roster_get_req *q = (roster_get_req *)r;
    store_roster *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status == STORE_ERROR) {   /* no partial rosters */
        for (size_t i = 0; i < res->n; i++)
            item_clear(&res->items[i]);
        res->n = 0;
    }
    if (q->cb)
        q->cb(q->arg, res);
    else
        store_roster_free(res);
    roster_get_free(r);
}

static const store_op roster_get_op = {
    "roster get", roster_get_exec, roster_get_deliver, roster_get_free,
};

static void roster_get_submit(worker *reply_to, const char *user, const char *contact,
                              store_roster_fn cb, void *arg)
{
    roster_get_req *q = xcalloc(1, sizeof *q);
    q->base.op = &roster_get_op;
    q->base.reply_to = reply_to;
    q->cb = cb;
    q->arg = arg;
    q->user = store_strdup_or_null(user);
    q->contact = store_strdup_or_null(contact);
    q->res = xcalloc(1, sizeof *q->res);
    store_submit(&q->base);
}

void store_roster_get(worker *reply_to, const char *user, store_roster_fn cb, void *arg)
{
    roster_get_submit(reply_to, user, NULL, cb, arg);
}

void store_roster_get_item(worker *reply_to, const char *user, const char *contact,
                           store_roster_fn cb, void *arg)
{
    /* "" rather than NULL keeps this a single-item query even without a contact */
    roster_get_submit(reply_to, user, contact ? contact : "", cb, arg);
}

/* ---- set / del ---- */

typedef struct {
    store_done_req done;
    char *user;
    store_roster_item item; /* a copy, groups cleaned */
} roster_set_req;

static store_status roster_set_exec(store_req *r, store_conn *c)
{
    roster_set_req *q = (roster_set_req *)r;
    const store_roster_ops *ops = roster_ops(c);
    if (!ops || !check_user("roster set", q->user, q->item.contact, true))
        return STORE_ERROR;
    return ops->set(c, q->user, &q->item, &q->done.value);
}

static void roster_set_free(store_req *r)
{
    roster_set_req *q = (roster_set_req *)r;
    free(q->user);
    item_clear(&q->item);
    free(q);
}

static const store_op roster_set_op = {
    "roster set", roster_set_exec, store_done_deliver, roster_set_free,
};

void store_roster_set(worker *reply_to, const char *user, const store_roster_item *item,
                      store_done_fn cb, void *arg)
{
    roster_set_req *q = xcalloc(1, sizeof *q);
    q->done.base.op = &roster_set_op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->user = store_strdup_or_null(user);
    if (item) {
        q->item.contact = store_strdup_or_null(item->contact);
        q->item.name = store_strdup_or_null(item->name);
        q->item.subscription = item->subscription;
        q->item.ask = item->ask;
        q->item.approved = item->approved;
        q->item.groups = groups_clean(item->groups);
    }
    store_submit(&q->done.base);
}

typedef struct {
    store_done_req done;
    char *user;
    char *contact;
} roster_del_req;

static store_status roster_del_exec(store_req *r, store_conn *c)
{
    roster_del_req *q = (roster_del_req *)r;
    const store_roster_ops *ops = roster_ops(c);
    if (!ops || !check_user("roster del", q->user, q->contact, true))
        return STORE_ERROR;
    return ops->del(c, q->user, q->contact, &q->done.value);
}

static void roster_del_free(store_req *r)
{
    roster_del_req *q = (roster_del_req *)r;
    free(q->user);
    free(q->contact);
    free(q);
}

static const store_op roster_del_op = {
    "roster del", roster_del_exec, store_done_deliver, roster_del_free,
};

void store_roster_del(worker *reply_to, const char *user, const char *contact,
                      store_done_fn cb, void *arg)
{
    roster_del_req *q = xcalloc(1, sizeof *q);
    q->done.base.op = &roster_del_op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->user = store_strdup_or_null(user);
    q->contact = store_strdup_or_null(contact);
    store_submit(&q->done.base);
}
