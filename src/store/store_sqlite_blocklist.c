/* store_sqlite_blocklist.c: blocklists in SQLite (table blocklist, one row
 * per (user, blocked JID); rules: store_blocklist.h). */
#include "store/store_sqlite.h"
#include "core/alloc.h"

static store_status block_get(store_conn *c, const char *user, store_blocklist *res)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d, "SELECT item FROM blocklist WHERE user = ?1 ORDER BY item");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        res->items = store_grow(res->items, res->n, &cap, 8, sizeof *res->items);
        char *it = store_column_strdup(st, 0);
        res->items[res->n++] = it ? it : xstrdup("");
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "block get");
    return STORE_OK;
}

static store_status block_add(store_conn *c, const char *user, const char *item,
                              int64_t *changed)
{
    *changed = 0;
    return store_db_run_user_key(store_db_of(c),
        "INSERT INTO blocklist (user, item) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        user, item, changed, "block add");
}

static store_status block_remove(store_conn *c, const char *user, const char *item,
                                 int64_t *changed)
{
    *changed = 0;
    return store_db_run_user_key(store_db_of(c),
        "DELETE FROM blocklist WHERE user = ?1 AND item = ?2", user, item, changed, "block remove");
}

static store_status block_forget(store_conn *c, const char *user, int64_t *removed)
{
    return store_db_run_user(store_db_of(c), "DELETE FROM blocklist WHERE user = ?1", user,
                             removed, "block forget");
}

const store_blocklist_ops store_sqlite_blocklist = {
    .get = block_get,
    .add = block_add,
    .remove = block_remove,
    .forget = block_forget,
};
