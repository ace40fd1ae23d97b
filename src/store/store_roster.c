/* store_roster.c: personal roster items (RFC 6121) in table roster_items and
 * the per-user roster version in roster_version. Every change to a user's
 * items bumps the version in the same transaction, so the version a client
 * caches (roster versioning, RFC 6121 2.6) always names one exact state.
 * Groups are kept as one newline-separated column: a roster is always read
 * whole or by item, never searched by group. */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
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

/* groups -> "a\nb"; empty names are skipped, newlines inside become spaces. */
static char *groups_join(char *const *groups)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "");
    for (char *const *g = groups; g && *g; g++) {
        if (!**g)
            continue;
        if (b.len)
            buf_puts(&b, "\n");
        size_t start = b.len;
        buf_puts(&b, *g);
        for (size_t i = start; i < b.len; i++)
            if (b.data[i] == '\n' || b.data[i] == '\r')
                b.data[i] = ' ';
    }
    return buf_steal(&b);
}

static char **groups_split(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += *p == '\n';
    char **v = store_xcalloc(n + 2, sizeof *v);
    size_t k = 0;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (len) {
            v[k] = store_xcalloc(len + 1, 1);
            memcpy(v[k++], s, len);
        }
        s += len + (nl ? 1 : 0);
    }
    return v;
}

/* The user's roster version (0 when never changed), -1 on error. */
static int64_t version_get(store_db *d, const char *user)
{
    sqlite3_stmt *st = store_db_stmt(d, "SELECT version FROM roster_version WHERE user = ?1");
    if (!st)
        return -1;
    store_bind_text(st, 1, user);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return sqlite3_column_int64(st, 0);
    if (rc == SQLITE_DONE)
        return 0;
    store_db_fail(d, "roster version");
    return -1;
}

/* Increments the user's roster version; the new one, -1 on error. */
static int64_t version_bump(store_db *d, const char *user)
{
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO roster_version (user, version) VALUES (?1, 1) "
        "ON CONFLICT (user) DO UPDATE SET version = version + 1");
    if (!st)
        return -1;
    store_bind_text(st, 1, user);
    if (sqlite3_step(st) != SQLITE_DONE) {
        store_db_fail(d, "roster version bump");
        return -1;
    }
    return version_get(d, user);
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

static store_status roster_get_exec(store_req *r, store_db *d)
{
    roster_get_req *q = (roster_get_req *)r;
    store_roster *res = q->res;
    if (!check_user("roster get", q->user, NULL, false))
        return STORE_ERROR;
    res->version = version_get(d, q->user);
    if (res->version < 0)
        return STORE_ERROR;
    sqlite3_stmt *st;
    if (q->contact) {
        st = store_db_stmt(d, "SELECT contact, name, subscription, ask, approved, groups "
                              "FROM roster_items WHERE user = ?1 AND contact = ?2");
    } else {
        st = store_db_stmt(d, "SELECT contact, name, subscription, ask, approved, groups "
                              "FROM roster_items WHERE user = ?1 ORDER BY contact");
    }
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, q->user);
    if (q->contact)
        store_bind_text(st, 2, q->contact);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (res->n == cap) {
            cap = cap ? cap * 2 : 16;
            res->items = realloc(res->items, cap * sizeof *res->items);
            if (!res->items)
                abort();
        }
        store_roster_item *it = &res->items[res->n++];
        memset(it, 0, sizeof *it);
        it->contact = store_column_strdup(st, 0);
        it->name = store_column_strdup(st, 1);
        const char *sub = (const char *)sqlite3_column_text(st, 2);
        if (store_sub_parse(sub, &it->subscription) != 0)
            it->subscription = STORE_SUB_NONE;
        const char *ask = (const char *)sqlite3_column_text(st, 3);
        it->ask = ask && strcmp(ask, "subscribe") == 0;
        it->approved = sqlite3_column_int(st, 4) != 0;
        const char *groups = (const char *)sqlite3_column_text(st, 5);
        it->groups = groups_split(groups ? groups : "");
        if (!it->contact)
            it->contact = store_xstrdup("");
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "roster get");
    return STORE_OK;
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
    roster_get_req *q = store_xcalloc(1, sizeof *q);
    q->base.op = &roster_get_op;
    q->base.reply_to = reply_to;
    q->cb = cb;
    q->arg = arg;
    q->user = store_xstrdup(user);
    q->contact = store_xstrdup(contact);
    q->res = store_xcalloc(1, sizeof *q->res);
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
    char *contact;
    char *name;
    store_sub subscription;
    bool ask;
    bool approved;
    char *groups;           /* joined */
} roster_set_req;

static store_status roster_set_exec(store_req *r, store_db *d)
{
    roster_set_req *q = (roster_set_req *)r;
    if (!check_user("roster set", q->user, q->contact, true))
        return STORE_ERROR;
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO roster_items (user, contact, name, subscription, ask, approved, groups) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (user, contact) DO UPDATE SET name = excluded.name, "
        "subscription = excluded.subscription, ask = excluded.ask, "
        "approved = excluded.approved, groups = excluded.groups");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, q->user);
    store_bind_text(st, 2, q->contact);
    store_bind_text(st, 3, q->name);
    store_bind_text(st, 4, store_sub_name(q->subscription));
    store_bind_text(st, 5, q->ask ? "subscribe" : "");
    sqlite3_bind_int(st, 6, q->approved ? 1 : 0);
    store_bind_text(st, 7, q->groups);
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_db_fail(d, "roster set");
    q->done.value = version_bump(d, q->user);
    return q->done.value < 0 ? STORE_ERROR : STORE_OK;
}

static void roster_set_free(store_req *r)
{
    roster_set_req *q = (roster_set_req *)r;
    free(q->user);
    free(q->contact);
    free(q->name);
    free(q->groups);
    free(q);
}

static const store_op roster_set_op = {
    "roster set", roster_set_exec, store_done_deliver, roster_set_free,
};

void store_roster_set(worker *reply_to, const char *user, const store_roster_item *item,
                      store_done_fn cb, void *arg)
{
    roster_set_req *q = store_xcalloc(1, sizeof *q);
    q->done.base.op = &roster_set_op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->user = store_xstrdup(user);
    if (item) {
        q->contact = store_xstrdup(item->contact);
        q->name = store_xstrdup(item->name);
        q->subscription = item->subscription;
        q->ask = item->ask;
        q->approved = item->approved;
        q->groups = groups_join(item->groups);
    }
    store_submit(&q->done.base);
}

typedef struct {
    store_done_req done;
    char *user;
    char *contact;
} roster_del_req;

static store_status roster_del_exec(store_req *r, store_db *d)
{
    roster_del_req *q = (roster_del_req *)r;
    if (!check_user("roster del", q->user, q->contact, true))
        return STORE_ERROR;
    sqlite3_stmt *st = store_db_stmt(d, "DELETE FROM roster_items WHERE user = ?1 AND contact = ?2");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, q->user);
    store_bind_text(st, 2, q->contact);
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_db_fail(d, "roster del");
    if (sqlite3_changes(d->db) == 0) {
        q->done.value = version_get(d, q->user);
        return q->done.value < 0 ? STORE_ERROR : STORE_NOT_FOUND;
    }
    q->done.value = version_bump(d, q->user);
    return q->done.value < 0 ? STORE_ERROR : STORE_OK;
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
    roster_del_req *q = store_xcalloc(1, sizeof *q);
    q->done.base.op = &roster_del_op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->user = store_xstrdup(user);
    q->contact = store_xstrdup(contact);
    store_submit(&q->done.base);
}
