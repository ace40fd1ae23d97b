/* store_sqlite_last.c: last activity in SQLite (table last_activity, one row
 * per account; rules: store_last.h). */
#include "store/store_sqlite.h"

static store_status last_set(store_conn *c, const char *user, int64_t stamp, const char *text)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO last_activity (user, stamp, status) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (user) DO UPDATE SET stamp = excluded.stamp, status = excluded.status");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    sqlite3_bind_int64(st, 2, stamp);
    store_bind_text(st, 3, text);
    return store_db_done(d, st, "last set");
}

static store_status last_get(store_conn *c, const char *user, store_last *res)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d, "SELECT stamp, status FROM last_activity WHERE user = ?1");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    if (rc != SQLITE_ROW)
        return store_db_fail(d, "last get");
    res->stamp = sqlite3_column_int64(st, 0);
    res->text = store_column_strdup(st, 1);
    return STORE_OK;
}

static store_status last_forget(store_conn *c, const char *user, int64_t *removed)
{
    return store_db_run_user(store_db_of(c), "DELETE FROM last_activity WHERE user = ?1", user,
                             removed, "last forget");
}

const store_last_ops store_sqlite_last = {
    .set = last_set,
    .get = last_get,
    .forget = last_forget,
};
