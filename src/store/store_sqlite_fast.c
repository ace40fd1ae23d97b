/* store_sqlite_fast.c: FAST tokens in SQLite (table fast_tokens; rules:
 * store_fast.h). */
#include "store/store_sqlite.h"
#include "core/alloc.h"

#include <stdlib.h>

static store_status fast_issue(store_conn *c, const char *user, const char *agent,
                               const char *nonce, const char *hash, const char *stamp,
                               int64_t expiry)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO fast_tokens (user, agent, nonce, hash, stamp, expiry) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, agent);
    store_bind_text(st, 3, nonce);
    store_bind_text(st, 4, hash);
    store_bind_text(st, 5, stamp);
    sqlite3_bind_int64(st, 6, expiry);
    store_status rc = store_db_done(d, st, "fast issue");
    if (rc != STORE_OK)
        return rc;
    /* the new token and the newest before it */
    st = store_db_stmt(d,
        "DELETE FROM fast_tokens WHERE user = ?1 AND agent = ?2 AND id NOT IN "
        "(SELECT id FROM fast_tokens WHERE user = ?1 AND agent = ?2 ORDER BY id DESC LIMIT 2)");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, agent);
    return store_db_done(d, st, "fast issue (rotation)");
}

static store_status fast_get(store_conn *c, const char *user, const char *agent, int64_t now,
                             store_fast_list *res)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d, "DELETE FROM fast_tokens WHERE user = ?1 AND expiry <= ?2");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    sqlite3_bind_int64(st, 2, now);
    if (store_db_done(d, st, "fast expire") != STORE_OK)
        return STORE_ERROR;
    st = store_db_stmt(d,
        "SELECT id, nonce, hash, stamp, expiry, count FROM fast_tokens "
        "WHERE user = ?1 AND agent = ?2 ORDER BY id DESC LIMIT 4");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, agent);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        res->v = store_grow(res->v, res->n + 1, &cap, 2, sizeof *res->v);
        store_fast_token *t = &res->v[res->n++];
        t->id = sqlite3_column_int64(st, 0);
        t->nonce = store_column_strdup(st, 1);
        t->hash = store_column_strdup(st, 2);
        t->stamp = store_column_strdup(st, 3);
        t->expiry = sqlite3_column_int64(st, 4);
        t->count = sqlite3_column_int64(st, 5);
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "fast get");
    return res->n ? STORE_OK : STORE_NOT_FOUND;
}

static store_status fast_used(store_conn *c, const char *user, const char *agent, int64_t id,
                              bool invalidate, int64_t count)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d, invalidate
        ? "DELETE FROM fast_tokens WHERE user = ?1 AND agent = ?2 AND id <= ?3"
        : "DELETE FROM fast_tokens WHERE user = ?1 AND agent = ?2 AND id < ?3");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, agent);
    sqlite3_bind_int64(st, 3, id);
    store_status rc = store_db_done(d, st, "fast used");
    if (rc != STORE_OK || invalidate || count < 0)
        return rc;
    st = store_db_stmt(d, "UPDATE fast_tokens SET count = ?2 WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, count);
    return store_db_done(d, st, "fast count");
}

static store_status fast_forget(store_conn *c, const char *user, int64_t *removed)
{
    return store_db_run_user(store_db_of(c), "DELETE FROM fast_tokens WHERE user = ?1", user,
                             removed, "fast forget");
}

const store_fast_ops store_sqlite_fast = {
    .issue = fast_issue,
    .get = fast_get,
    .used = fast_used,
    .forget = fast_forget,
};
