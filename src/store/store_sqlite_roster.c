/* store_sqlite_roster.c: personal rosters in SQLite: items in table
 * roster_items, the per-user version in roster_version (rules:
 * store_roster.h). Groups are kept as one newline-separated column: a
 * roster is always read whole or by item, never searched by group. */
#include "store/store_sqlite.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* groups -> "a\nb" (the front already removed newlines and empty names). */
static char *groups_join(char *const *groups)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "");
    for (char *const *g = groups; g && *g; g++) {
        if (b.len)
            buf_puts(&b, "\n");
        buf_puts(&b, *g);
    }
    return buf_steal(&b);
}

static char **groups_split(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += *p == '\n';
    char **v = xcalloc(n + 2, sizeof *v);
    size_t k = 0;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (len) {
            v[k] = xcalloc(len + 1, 1);
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
    if (store_db_done(d, st, "roster version bump") != STORE_OK)
        return -1;
    return version_get(d, user);
}

static store_status roster_get(store_conn *c, const char *user, const char *contact,
                               store_roster *res)
{
    store_db *d = store_db_of(c);
    res->version = version_get(d, user);
    if (res->version < 0)
        return STORE_ERROR;
    sqlite3_stmt *st;
    if (contact) {
        st = store_db_stmt(d, "SELECT contact, name, subscription, ask, approved, groups "
                              "FROM roster_items WHERE user = ?1 AND contact = ?2");
    } else {
        st = store_db_stmt(d, "SELECT contact, name, subscription, ask, approved, groups "
                              "FROM roster_items WHERE user = ?1 ORDER BY contact");
    }
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    if (contact)
        store_bind_text(st, 2, contact);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        res->items = store_grow(res->items, res->n, &cap, 16, sizeof *res->items);
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
            it->contact = xstrdup("");
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "roster get");
    return STORE_OK;
}

static store_status roster_set(store_conn *c, const char *user, const store_roster_item *item,
                               int64_t *version)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO roster_items (user, contact, name, subscription, ask, approved, groups) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (user, contact) DO UPDATE SET name = excluded.name, "
        "subscription = excluded.subscription, ask = excluded.ask, "
        "approved = excluded.approved, groups = excluded.groups");
    if (!st)
        return STORE_ERROR;
    char *groups = groups_join(item->groups);
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, item->contact);
    store_bind_text(st, 3, item->name);
    store_bind_text(st, 4, store_sub_name(item->subscription));
    store_bind_text(st, 5, item->ask ? "subscribe" : "");
    sqlite3_bind_int(st, 6, item->approved ? 1 : 0);
    sqlite3_bind_text(st, 7, groups, -1, SQLITE_TRANSIENT);
    free(groups);
    if (store_db_done(d, st, "roster set") != STORE_OK)
        return STORE_ERROR;
    *version = version_bump(d, user);
    return *version < 0 ? STORE_ERROR : STORE_OK;
}

static store_status roster_del(store_conn *c, const char *user, const char *contact,
                               int64_t *version)
{
    store_db *d = store_db_of(c);
    int64_t removed = 0;
    if (store_db_run_user_key(d, "DELETE FROM roster_items WHERE user = ?1 AND contact = ?2", user,
                              contact, &removed, "roster del") != STORE_OK)
        return STORE_ERROR;
    if (removed == 0) {
        *version = version_get(d, user);
        return *version < 0 ? STORE_ERROR : STORE_NOT_FOUND;
    }
    *version = version_bump(d, user);
    return *version < 0 ? STORE_ERROR : STORE_OK;
}

static store_status roster_forget(store_conn *c, const char *user, int64_t *removed)
{
    store_db *d = store_db_of(c);
    if (store_db_run_user(d, "DELETE FROM roster_items WHERE user = ?1", user, removed,
                          "roster forget") != STORE_OK)
        return STORE_ERROR;
    return store_db_run_user(d, "DELETE FROM roster_version WHERE user = ?1", user, removed,
                             "roster forget");
}

const store_roster_ops store_sqlite_roster = {
    .get = roster_get,
    .set = roster_set,
    .del = roster_del,
    .forget = roster_forget,
};
