/* store_sqlite_private.c: private XML storage in SQLite (table private_xml,
 * one row per (user, ns, name); rules: store_private.h). */
#include "store/store_sqlite.h"

static store_status private_get(store_conn *c, const char *user, const char *ns,
                                const char *name, char **xml)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT xml FROM private_xml WHERE user = ?1 AND ns = ?2 AND name = ?3");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, ns);
    store_bind_text(st, 3, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    if (rc != SQLITE_ROW)
        return store_db_fail(d, "private get");
    *xml = store_column_strdup(st, 0);
    return STORE_OK;
}

static store_status private_put(store_conn *c, const char *user, const char *ns,
                                const char *name, const char *xml)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO private_xml (user, ns, name, xml) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (user, ns, name) DO UPDATE SET xml = excluded.xml");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, ns);
    store_bind_text(st, 3, name);
    store_bind_text(st, 4, xml);
    return store_db_done(d, st, "private set");
}

static store_status private_usage(store_conn *c, const char *user, int64_t *bytes)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT COALESCE(SUM(length(CAST(xml AS BLOB)) + length(CAST(ns AS BLOB)) + "
        "length(CAST(name AS BLOB))), 0) FROM private_xml WHERE user = ?1");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_db_fail(d, "private usage");
    *bytes = sqlite3_column_int64(st, 0);
    return STORE_OK;
}

static store_status private_forget(store_conn *c, const char *user, int64_t *removed)
{
    return store_db_run_user(store_db_of(c), "DELETE FROM private_xml WHERE user = ?1", user,
                             removed, "private forget");
}

const store_private_ops store_sqlite_private = {
    .get = private_get,
    .put = private_put,
    .usage = private_usage,
    .forget = private_forget,
};
