/* store_sqlite.c: the SQLite back end (plucs/store "sqlite:/absolute/path"):
 * its connection, the transaction steps of a batch, and store_sqlite_backend,
 * which points at the per-kind files store_sqlite_<kind>.c. Opening
 * creates what is missing (folder 0750, database file 0640 so offline
 * messages are not world-readable; SQLite gives its -wal and -shm files the
 * database file's mode), switches to WAL (readers such as `sqlite3 .backup`
 * never block the server) with synchronous=FULL (every COMMIT fsyncs the
 * WAL: a committed offline message survives a kill or a power cut), and
 * runs the schema migrations. Statements are prepared once and cached. */
#include "store/store_sqlite.h"
#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

/* mkdir -p of path's folder; components created 0750. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
    char *dir = store_strdup_or_null(path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) {             /* a file in / */
        free(dir);
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create folder %s: %s", dir, strerror(errno));
            free(dir);
            return -1;
        }
        if (saved == '\0')
            break;
        *p = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a folder", dir);
        free(dir);
        return -1;
    }
    free(dir);
    return 0;
}

static int create_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

static int wal_cb(void *ud, int ncol, char **vals, char **names)
{
    int *ok = ud;
    *ok = ncol > 0 && vals[0] && strcmp(vals[0], "wal") == 0;
    return 0;
}

static store_conn *sqlite_open(const char *path, char *err, size_t errlen)
{
    if (path[0] != '/' || path[1] == '\0') {
        snprintf(err, errlen, "plucs/store: '%s' is not an absolute file path", path);
        return NULL;
    }
    if (make_parent_dirs(path, err, errlen) != 0 || create_file(path, err, errlen) != 0)
        return NULL;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    /* Someone running `sqlite3` on the file may hold the write lock a moment. */
    sqlite3_busy_timeout(db, 5000);
    int wal = 0;
    char *msg = NULL;
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", wal_cb, &wal, &msg) != SQLITE_OK || !wal) {
        snprintf(err, errlen, "database %s: cannot switch to WAL mode: %s", path,
                 msg ? msg : "not a database, or on a file system without shared memory");
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    if (sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "database %s: %s", path, msg ? msg : "cannot set synchronous=FULL");
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    if (store_schema_migrate(db, path, err, errlen) != 0) {
        sqlite3_close(db);
        return NULL;
    }
    store_db *d = xcalloc(1, sizeof *d);
    d->db = db;
    d->path = store_strdup_or_null(path);
    d->conn.backend = &store_sqlite_backend;
    return &d->conn;
}

static void sqlite_close(store_conn *c)
{
    store_db *d = store_db_of(c);
    if (!d)
        return;
    for (int i = 0; i < d->ncache; i++)
        sqlite3_finalize(d->cache[i].st);
    /* The last connection's close checkpoints the WAL into the database. */
    if (sqlite3_close(d->db) != SQLITE_OK)
        log_err("store: closing %s: %s", d->path, sqlite3_errmsg(d->db));
    free(d->path);
    free(d);
}

store_status store_db_fail(store_db *d, const char *what)
{
    log_err("store: %s: %s (%s)", what, sqlite3_errmsg(d->db), d->path);
    return STORE_ERROR;
}

sqlite3_stmt *store_db_stmt(store_db *d, const char *sql)
{
    for (int i = 0; i < d->ncache; i++) {
        if (d->cache[i].sql == sql) {
            sqlite3_stmt *st = d->cache[i].st;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        store_db_fail(d, "prepare");
        return NULL;
    }
    if (d->ncache < STORE_STMT_CACHE) {
        d->cache[d->ncache].sql = sql;
        d->cache[d->ncache].st = st;
        d->ncache++;
    } else {
        /* A programming error: the statements are few and fixed. */
        log_crit("store: statement cache full; raise STORE_STMT_CACHE");
        abort();
    }
    return st;
}

/* Resets every cached statement (after each request: no statement keeps a
 * read snapshot open or points at freed bindings). */
static void reset_all(store_db *d)
{
    for (int i = 0; i < d->ncache; i++) {
        sqlite3_reset(d->cache[i].st);
        sqlite3_clear_bindings(d->cache[i].st);
    }
}

int store_db_exec(store_db *d, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_err("store: %s: %s (%s)", what, msg ? msg : sqlite3_errmsg(d->db), d->path);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

void store_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (s)
        sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, idx);
}

char *store_column_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? store_strdup_or_null((const char *)t) : NULL;
}

store_status store_db_done(store_db *d, sqlite3_stmt *st, const char *what)
{
    return sqlite3_step(st) == SQLITE_DONE ? STORE_OK : store_db_fail(d, what);
}

/* ?1 = user, and ?2 = key unless nkeys is 1. */
static store_status run_user(store_db *d, const char *sql, int nkeys, const char *user,
                             const char *key, int64_t *changed, const char *what)
{
    sqlite3_stmt *st = store_db_stmt(d, sql);
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    if (nkeys == 2)
        store_bind_text(st, 2, key);
    if (store_db_done(d, st, what) != STORE_OK)
        return STORE_ERROR;
    *changed += sqlite3_changes(d->db);
    return STORE_OK;
}

store_status store_db_run_user(store_db *d, const char *sql, const char *user, int64_t *changed,
                               const char *what)
{
    return run_user(d, sql, 1, user, NULL, changed, what);
}

store_status store_db_run_user_key(store_db *d, const char *sql, const char *user,
                                   const char *key, int64_t *changed, const char *what)
{
    return run_user(d, sql, 2, user, key, changed, what);
}

void *store_grow(void *v, size_t n, size_t *cap, size_t first, size_t size)
{
    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : first;
    return xrealloc(v, *cap * size);
}

/* ---- the batch transaction ---- */

static int sqlite_begin(store_conn *c)
{
    return store_db_exec(store_db_of(c), "BEGIN IMMEDIATE", "begin");
}

static int sqlite_req_begin(store_conn *c)
{
    return store_db_exec(store_db_of(c), "SAVEPOINT req", "savepoint");
}

static int sqlite_req_end(store_conn *c, bool failed)
{
    store_db *d = store_db_of(c);
    reset_all(d);
    if (sqlite3_get_autocommit(d->db))
        return -1;                  /* SQLite rolled back the whole transaction */
    if (failed)
        store_db_exec(d, "ROLLBACK TO req", "rollback to savepoint");
    store_db_exec(d, "RELEASE req", "release savepoint");
    return 0;
}

static int sqlite_commit(store_conn *c)
{
    store_db *d = store_db_of(c);
    if (store_db_exec(d, "COMMIT", "commit") == 0)
        return 0;
    if (!sqlite3_get_autocommit(d->db))
        store_db_exec(d, "ROLLBACK", "rollback");
    return -1;
}

const store_backend store_sqlite_backend = {
    .scheme = "sqlite",
    .form = "sqlite:/absolute/path",
    .open = sqlite_open,
    .close = sqlite_close,
    .begin = sqlite_begin,
    .req_begin = sqlite_req_begin,
    .req_end = sqlite_req_end,
    .commit = sqlite_commit,
    .roster = &store_sqlite_roster,
    .pending = &store_sqlite_pending,
    .offline = &store_sqlite_offline,
    .private_xml = &store_sqlite_private,
    .blocklist = &store_sqlite_blocklist,
    .privacy = &store_sqlite_privacy,
    .last = &store_sqlite_last,
    .muc = &store_sqlite_muc,
    .push = &store_sqlite_push,
    .mam = &store_sqlite_mam,
    .fast = &store_sqlite_fast,
    .pubsub = &store_sqlite_pubsub,
    .motd = &store_sqlite_motd,
};
