/* store_sqlite_pending.c: stored inbound subscription requests in SQLite
 * (table pending_in, one row per (user, contact); rules: store_pending.h). */
#include "store/store_sqlite.h"

static store_status pending_add(store_conn *c, const char *user, const char *contact,
                                const char *stanza)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO pending_in (user, contact, stanza) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (user, contact) DO UPDATE SET stanza = excluded.stanza");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, contact);
    store_bind_text(st, 3, stanza);
    return store_db_done(d, st, "pending add");
}

static store_status pending_del(store_conn *c, const char *user, const char *contact)
{
    int64_t removed = 0;
    if (store_db_run_user_key(store_db_of(c),
                              "DELETE FROM pending_in WHERE user = ?1 AND contact = ?2", user,
                              contact, &removed, "pending del") != STORE_OK)
        return STORE_ERROR;
    return removed ? STORE_OK : STORE_NOT_FOUND;
}

static store_status pending_list(store_conn *c, const char *user, store_pending *res)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT contact, stanza FROM pending_in WHERE user = ?1 ORDER BY contact");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        res->items = store_grow(res->items, res->n, &cap, 8, sizeof *res->items);
        store_pending_item *it = &res->items[res->n++];
        it->contact = store_column_strdup(st, 0);
        it->stanza = store_column_strdup(st, 1);
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "pending list");
    return STORE_OK;
}

static store_status pending_forget(store_conn *c, const char *user, int64_t *removed)
{
    return store_db_run_user(store_db_of(c), "DELETE FROM pending_in WHERE user = ?1", user,
                             removed, "pending forget");
}

const store_pending_ops store_sqlite_pending = {
    .add = pending_add,
    .del = pending_del,
    .list = pending_list,
    .forget = pending_forget,
};
