/* store_internal.h: what the files of src/store share and nobody else sees:
 * the request base every operation embeds, the queue entry point and the
 * allocation helpers. A request's exec runs on the storage thread and talks
 * to the database only through the back end's tables (store_backend.h);
 * deliver() runs on the requesting worker. */
#ifndef PLUCS_STORE_INTERNAL_H
#define PLUCS_STORE_INTERNAL_H

#include <stdint.h>

#include "store/store.h"
#include "store/store_backend.h"

typedef struct store_req store_req;

typedef struct store_op {
    const char *name;                              /* for log lines */
    /* Storage thread, inside a transaction (savepoint). Fills the result. */
    store_status (*exec)(store_req *r, store_conn *c);
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
/* A copy of s (core/alloc.h policy); NULL stays NULL. */
char *store_strdup_or_null(const char *s);
int64_t store_now_ms(void);

#endif
