/* store_internal.h: what the files of src/store share and nobody else sees:
 * the request base every operation embeds, the queue entry point, and the
 * SQLite connection with its statement cache. Requests execute on the
 * storage thread only; deliver() runs on the requesting worker. */
#ifndef PLUCS_STORE_INTERNAL_H
#define PLUCS_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "store/store.h"

typedef struct store_db store_db;
typedef struct store_req store_req;

typedef struct store_op {
    const char *name;                              /* for log lines */
    /* Storage thread, inside a transaction (savepoint). Fills the result. */
    store_status (*exec)(store_req *r, store_db *db);
    /* reply_to's thread: hands the result to the callback, frees r. */
    void (*deliver)(store_req *r);
    /* Frees r and everything it still owns (results included). */
    void (*free)(store_req *r);
} store_op;

struct store_req {
    store_req *next;
    const store_op *op;
    worker *reply_to;
    store_status status;   /* set after exec (and after commit) */
};

/* The request of every operation that answers with a store_done_fn. */
typedef struct store_done_req {
    store_req base;
    store_done_fn cb;
    void *arg;
    int64_t value;
} store_done_req;

/* deliver() for store_done_req based operations: cb(arg, status, value),
 * then r->op->free(r). */
void store_done_deliver(store_req *r);

/* Queues r (the storage thread owns it from now on). If the store is not
 * running, r fails at once with STORE_ERROR. */
void store_submit(store_req *r);

/* Allocation helpers: allocation failure aborts, as everywhere in plucsd. */
void *store_xcalloc(size_t n, size_t size);
char *store_xstrdup(const char *s);               /* NULL stays NULL */
int64_t store_now_ms(void);

/* ---- the SQLite side (store_sqlite.c) ---- */

#define STORE_STMT_CACHE 64

struct store_db {
    sqlite3 *db;
    char *path;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[STORE_STMT_CACHE];
    int ncache;
};

/* Opens path (creating its folder 0750 and the file 0640 if missing), sets
 * WAL and synchronous=FULL, runs migrations. NULL with err filled on failure. */
store_db *store_db_open(const char *path, char *err, size_t errlen);
void store_db_close(store_db *d);
/* A cached prepared statement for sql (a string literal: the cache is keyed
 * by its address), reset and with bindings cleared. NULL on error (logged). */
sqlite3_stmt *store_db_stmt(store_db *d, const char *sql);
/* Resets every cached statement (after each request: no statement keeps a
 * read snapshot open or points at freed bindings). */
void store_db_reset_all(store_db *d);
/* Runs sql without results; 0 or -1 (logged with what). */
int store_db_exec(store_db *d, const char *sql, const char *what);
/* Logs the connection's last error for operation what; returns STORE_ERROR. */
store_status store_db_fail(store_db *d, const char *what);
/* Binds a C string (NULL binds SQL NULL). */
void store_bind_text(sqlite3_stmt *st, int idx, const char *s);
char *store_column_strdup(sqlite3_stmt *st, int col);  /* NULL for SQL NULL */

/* ---- migrations (store_schema.c) ---- */

/* Brings the schema of db up to date; refuses a newer one. 0 or -1 + err. */
int store_schema_migrate(sqlite3 *db, const char *path, char *err, size_t errlen);

#endif
