/* store_sqlite.h: what the SQLite back end's files share (store_sqlite.c
 * and store_sqlite_<kind>.c): the connection with its statement cache, the
 * helpers around it, the migrations and the per-kind tables that
 * store_sqlite_backend points at. */
#ifndef PLUCS_STORE_SQLITE_H
#define PLUCS_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/store_internal.h"

#define STORE_STMT_CACHE 64

typedef struct store_db {
    store_conn conn;        /* first: a store_conn * is a store_db * */
    sqlite3 *db;
    char *path;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[STORE_STMT_CACHE];
    int ncache;
} store_db;

static inline store_db *store_db_of(store_conn *c) { return (store_db *)c; }

/* A cached prepared statement for sql (a string literal: the cache is keyed
 * by its address), reset and with bindings cleared. NULL on error (logged). */
sqlite3_stmt *store_db_stmt(store_db *d, const char *sql);
/* Runs sql without results; 0 or -1 (logged with what). */
int store_db_exec(store_db *d, const char *sql, const char *what);
/* Logs the connection's last error for operation what; returns STORE_ERROR. */
store_status store_db_fail(store_db *d, const char *what);
/* Binds a C string (NULL binds SQL NULL). */
void store_bind_text(sqlite3_stmt *st, int idx, const char *s);
char *store_column_strdup(sqlite3_stmt *st, int col);  /* NULL for SQL NULL */
/* Steps st, a statement that returns no rows: STORE_OK when it is done,
 * else STORE_ERROR (logged with what). */
store_status store_db_done(store_db *d, sqlite3_stmt *st, const char *what);
/* Runs a one-parameter (?1 = user) statement that changes rows; adds the
 * rows changed to *changed. STORE_OK or STORE_ERROR (logged with what). */
store_status store_db_run_user(store_db *d, const char *sql, const char *user, int64_t *changed,
                               const char *what);
/* The same with two parameters, ?1 = user and ?2 = key (a contact, an item). */
store_status store_db_run_user_key(store_db *d, const char *sql, const char *user,
                                   const char *key, int64_t *changed, const char *what);
/* Room for item n of the array v (items of size bytes, capacity *cap, which
 * doubles from first): the array, reallocated when full. For the loops that
 * collect a result's rows. */
void *store_grow(void *v, size_t n, size_t *cap, size_t first, size_t size);

/* Brings the schema of db up to date; refuses a newer one. 0 or -1 + err
 * (store_sqlite_schema.c). */
int store_schema_migrate(sqlite3 *db, const char *path, char *err, size_t errlen);

/* The per-kind tables (store_sqlite_<kind>.c). */
extern const store_roster_ops store_sqlite_roster;
extern const store_pending_ops store_sqlite_pending;
extern const store_offline_ops store_sqlite_offline;
extern const store_private_ops store_sqlite_private;
extern const store_blocklist_ops store_sqlite_blocklist;
extern const store_privacy_ops store_sqlite_privacy;
extern const store_last_ops store_sqlite_last;
extern const store_muc_ops store_sqlite_muc;
extern const store_push_ops store_sqlite_push;
extern const store_mam_ops store_sqlite_mam;
extern const store_fast_ops store_sqlite_fast;
extern const store_pubsub_ops store_sqlite_pubsub;
extern const store_motd_ops store_sqlite_motd;

#endif
