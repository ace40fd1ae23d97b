/* store_sqlite_push.c: push registrations (XEP-0357) in SQLite (table
 * push_registrations, one row per (user, jid, node); rules: store_push.h). */
#include "store/store_sqlite.h"

#include <stdlib.h>

static store_status push_list(store_conn *c, const char *user, store_push_regs *res)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT jid, node, form FROM push_registrations WHERE user = ?1 ORDER BY jid, node");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        res->items = store_grow(res->items, res->n, &cap, 4, sizeof *res->items);
        store_push_reg *r = &res->items[res->n++];
        r->jid = store_column_strdup(st, 0);
        r->node = store_column_strdup(st, 1);
        r->form = store_column_strdup(st, 2);
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "push list");
    return STORE_OK;
}

static store_status push_put(store_conn *c, const char *user, const char *jid, const char *node,
                             const char *form)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO push_registrations (user, jid, node, form) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (user, jid, node) DO UPDATE SET form = excluded.form");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, jid);
    store_bind_text(st, 3, node);
    store_bind_text(st, 4, form);
    return store_db_done(d, st, "push add");
}

static store_status push_del(store_conn *c, const char *user, const char *jid, const char *node,
                             int64_t *removed)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "DELETE FROM push_registrations WHERE user = ?1 AND jid = ?2 "
        "AND (?3 IS NULL OR node = ?3)");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, jid);
    store_bind_text(st, 3, node);
    if (store_db_done(d, st, "push remove") != STORE_OK)
        return STORE_ERROR;
    *removed += sqlite3_changes(d->db);
    return STORE_OK;
}

static store_status push_count(store_conn *c, const char *user, int64_t *count)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT COUNT(*) FROM push_registrations WHERE user = ?1");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_db_fail(d, "push count");
    *count = sqlite3_column_int64(st, 0);
    return STORE_OK;
}

static store_status push_forget(store_conn *c, const char *user, int64_t *removed)
{
    return store_db_run_user(store_db_of(c), "DELETE FROM push_registrations WHERE user = ?1",
                             user, removed, "push forget");
}

const store_push_ops store_sqlite_push = {
    .list = push_list,
    .put = push_put,
    .del = push_del,
    .count = push_count,
    .forget = push_forget,
};
