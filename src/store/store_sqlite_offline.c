/* store_sqlite_offline.c: offline messages in SQLite (table offline, the
 * rowid being the message id; rules: store_offline.h). The limit check and
 * the insert run in the same transaction: the storage thread is the only
 * writer, so concurrent pushes cannot overshoot the limit. */
#include "store/store_sqlite.h"
#include "core/alloc.h"

/* Number of messages stored for user, -1 on error. */
static int64_t count_of(store_db *d, const char *user)
{
    sqlite3_stmt *st = store_db_stmt(d, "SELECT COUNT(*) FROM offline WHERE user = ?1");
    if (!st)
        return -1;
    store_bind_text(st, 1, user);
    if (sqlite3_step(st) != SQLITE_ROW) {
        store_db_fail(d, "offline count");
        return -1;
    }
    return sqlite3_column_int64(st, 0);
}

static store_status offline_push(store_conn *c, const char *user, int64_t stamp,
                                 const char *stanza, int64_t max, int64_t *value)
{
    store_db *d = store_db_of(c);
    int64_t have = count_of(d, user);
    if (have < 0)
        return STORE_ERROR;
    if (have >= max) {
        *value = have;
        return STORE_FULL;
    }
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO offline (user, stamp, stanza) VALUES (?1, ?2, ?3)");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    sqlite3_bind_int64(st, 2, stamp);
    store_bind_text(st, 3, stanza);
    if (store_db_done(d, st, "offline push") != STORE_OK)
        return STORE_ERROR;
    *value = sqlite3_last_insert_rowid(d->db);
    return STORE_OK;
}

static store_status offline_fetch(store_conn *c, const char *user, store_offline *res)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT id, stamp, stanza FROM offline WHERE user = ?1 ORDER BY id");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        res->msgs = store_grow(res->msgs, res->n, &cap, 16, sizeof *res->msgs);
        store_offline_msg *m = &res->msgs[res->n++];
        m->id = sqlite3_column_int64(st, 0);
        m->stamp = sqlite3_column_int64(st, 1);
        m->stanza = store_column_strdup(st, 2);
        if (!m->stanza)
            m->stanza = xstrdup("");
        res->max_id = m->id;
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "offline fetch");
    return STORE_OK;
}

static store_status offline_ack(store_conn *c, const char *user, int64_t max_id,
                                int64_t *removed)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d, "DELETE FROM offline WHERE user = ?1 AND id <= ?2");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    sqlite3_bind_int64(st, 2, max_id);
    if (store_db_done(d, st, "offline ack") != STORE_OK)
        return STORE_ERROR;
    *removed = sqlite3_changes(d->db);
    return STORE_OK;
}

static store_status offline_count(store_conn *c, const char *user, int64_t *count)
{
    *count = count_of(store_db_of(c), user);
    return *count < 0 ? STORE_ERROR : STORE_OK;
}

static store_status offline_forget(store_conn *c, const char *user, int64_t *removed)
{
    return store_db_run_user(store_db_of(c), "DELETE FROM offline WHERE user = ?1", user,
                             removed, "offline forget");
}

const store_offline_ops store_sqlite_offline = {
    .push = offline_push,
    .fetch = offline_fetch,
    .ack = offline_ack,
    .count = offline_count,
    .forget = offline_forget,
};
