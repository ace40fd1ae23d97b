/* store_sqlite_motd.c: the message of the day in SQLite (table motd, one
 * row per domain with its version; table motd_seen, the version each
 * account was shown; rules: store_motd.h). */
#include "store/store_sqlite.h"
#include "core/alloc.h"

static store_status motd_get(store_conn *c, const char *domain, store_motd *res)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d, "SELECT body, version FROM motd WHERE domain = ?1");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, domain);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    if (rc != SQLITE_ROW)
        return store_db_fail(d, "motd get");
    res->text = store_column_strdup(st, 0);
    res->version = sqlite3_column_int64(st, 1);
    return STORE_OK;
}

static store_status motd_take(store_conn *c, const char *domain, const char *user,
                              store_motd *res)
{
    store_db *d = store_db_of(c);
    store_status s = motd_get(c, domain, res);
    if (s != STORE_OK)
        return s;
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO motd_seen (user, domain, version) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (user) DO UPDATE SET domain = excluded.domain, version = excluded.version "
        "WHERE motd_seen.domain <> excluded.domain OR motd_seen.version < excluded.version");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    store_bind_text(st, 2, domain);
    sqlite3_bind_int64(st, 3, res->version);
    if (store_db_done(d, st, "motd take") != STORE_OK)
        return STORE_ERROR;
    /* no row written: this version was seen already */
    return sqlite3_changes(d->db) > 0 ? STORE_OK : STORE_NOT_FOUND;
}

static store_status motd_set(store_conn *c, const char *domain, const char *text,
                             int64_t *version)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO motd (domain, body, version) VALUES (?1, ?2, "
        "  (SELECT COALESCE(MAX(version), 0) + 1 FROM motd_seen WHERE domain = ?1)) "
        "ON CONFLICT (domain) DO UPDATE SET body = excluded.body, version = motd.version + 1");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, domain);
    store_bind_text(st, 2, text);
    if (store_db_done(d, st, "motd set") != STORE_OK)
        return STORE_ERROR;
    st = store_db_stmt(d, "SELECT version FROM motd WHERE domain = ?1");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, domain);
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_db_fail(d, "motd set");
    *version = sqlite3_column_int64(st, 0);
    return STORE_OK;
}

static store_status motd_del(store_conn *c, const char *domain, int64_t *removed)
{
    store_db *d = store_db_of(c);
    *removed = 0;
    if (store_db_run_user(d, "DELETE FROM motd WHERE domain = ?1", domain, removed,
                          "motd delete") != STORE_OK)
        return STORE_ERROR;
    int64_t seen = 0;
    return store_db_run_user(d, "DELETE FROM motd_seen WHERE domain = ?1", domain, &seen,
                             "motd delete");
}

static store_status motd_forget(store_conn *c, const char *user, int64_t *removed)
{
    return store_db_run_user(store_db_of(c), "DELETE FROM motd_seen WHERE user = ?1", user,
                             removed, "motd forget");
}

static store_status motd_domains(store_conn *c, store_motd_list *res)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d, "SELECT domain, version FROM motd ORDER BY domain");
    if (!st)
        return STORE_ERROR;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (res->n == cap) {
            cap = cap ? 2 * cap : 8;
            res->domains = xrealloc(res->domains, cap * sizeof *res->domains);
            res->versions = xrealloc(res->versions, cap * sizeof *res->versions);
        }
        char *domain = store_column_strdup(st, 0);
        if (!domain)
            continue;
        res->domains[res->n] = domain;
        res->versions[res->n++] = sqlite3_column_int64(st, 1);
    }
    return rc == SQLITE_DONE ? STORE_OK : store_db_fail(d, "motd domains");
}

const store_motd_ops store_sqlite_motd = {
    .get = motd_get,
    .take = motd_take,
    .set = motd_set,
    .del = motd_del,
    .forget = motd_forget,
    .domains = motd_domains,
};
