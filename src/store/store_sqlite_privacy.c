/* store_sqlite_privacy.c: privacy lists in SQLite (tables privacy_list,
 * one row per (user, list name) with the items as text, and
 * privacy_default, one row per user with a default list; rules:
 * store_privacy.h). */
#include "store/store_sqlite.h"
#include "core/alloc.h"

static store_status privacy_get(store_conn *c, const char *user, store_privacy *res)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT name, items FROM privacy_list WHERE user = ?1 ORDER BY name");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        res->lists = store_grow(res->lists, res->n, &cap, 4, sizeof *res->lists);
        char *name = store_column_strdup(st, 0), *text = store_column_strdup(st, 1);
        res->lists[res->n].name = name ? name : xstrdup("");
        res->lists[res->n].text = text ? text : xstrdup("");
        res->n++;
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "privacy get");
    st = store_db_stmt(d, "SELECT name FROM privacy_default WHERE user = ?1");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        res->dflt = store_column_strdup(st, 0);
    else if (rc != SQLITE_DONE)
        return store_db_fail(d, "privacy get default");
    return STORE_OK;
}

static store_status privacy_put(store_conn *c, const char *user, const char *name,
                                const char *text)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO privacy_list (user, name, items) VALUES (?1, ?2, ?3)"
        " ON CONFLICT (user, name) DO UPDATE SET items = excluded.items");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, name);
    store_bind_text(st, 3, text);
    return store_db_done(d, st, "privacy put");
}

static store_status privacy_del(store_conn *c, const char *user, const char *name,
                                int64_t *changed)
{
    store_db *d = store_db_of(c);
    *changed = 0;
    if (store_db_run_user_key(d, "DELETE FROM privacy_list WHERE user = ?1 AND name = ?2", user,
                              name, changed, "privacy remove") != STORE_OK)
        return STORE_ERROR;
    int64_t ignored = 0;
    return store_db_run_user_key(d, "DELETE FROM privacy_default WHERE user = ?1 AND name = ?2",
                                 user, name, &ignored, "privacy remove default");
}

static store_status privacy_set_default(store_conn *c, const char *user, const char *name)
{
    store_db *d = store_db_of(c);
    int64_t ignored = 0;
    if (!name)
        return store_db_run_user(d, "DELETE FROM privacy_default WHERE user = ?1", user,
                                 &ignored, "privacy default");
    return store_db_run_user_key(d,
        "INSERT INTO privacy_default (user, name) VALUES (?1, ?2)"
        " ON CONFLICT (user) DO UPDATE SET name = excluded.name",
        user, name, &ignored, "privacy default");
}

static store_status privacy_forget(store_conn *c, const char *user, int64_t *removed)
{
    store_db *d = store_db_of(c);
    if (store_db_run_user(d, "DELETE FROM privacy_list WHERE user = ?1", user, removed,
                          "privacy forget") != STORE_OK)
        return STORE_ERROR;
    return store_db_run_user(d, "DELETE FROM privacy_default WHERE user = ?1", user, removed,
                             "privacy forget");
}

const store_privacy_ops store_sqlite_privacy = {
    .get = privacy_get,
    .put = privacy_put,
    .del = privacy_del,
    .set_default = privacy_set_default,
    .forget = privacy_forget,
};
