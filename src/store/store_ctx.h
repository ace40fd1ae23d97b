/* store_ctx.h: the request base of the operations that take an arg_free
 * (store_private.h, store_blocklist.h, store_last.h), shared by their files
 * only. It adds what store.h promises for them on top of store_req: arg is
 * consumed exactly once, by the callback or by arg_free. */
#ifndef PLUCS_STORE_CTX_H
#define PLUCS_STORE_CTX_H

#include "store/store_internal.h"

typedef struct store_ctx_req {
    store_req base;
    void *arg;                  /* owned until handed to the callback */
    store_arg_free_fn arg_free;
} store_ctx_req;

/* A request answered with a store_done_fn. */
typedef struct store_ctx_done_req {
    store_ctx_req ctx;
    store_done_fn cb;
    int64_t value;
} store_ctx_done_req;

void store_ctx_init(store_ctx_req *q, const store_op *op, worker *reply_to, void *arg,
                    store_arg_free_fn arg_free);
/* Hands arg to the caller (the callback now owns it). */
void *store_ctx_take_arg(store_ctx_req *q);
/* Frees arg with arg_free when it was never handed over; call from op->free. */
void store_ctx_release(store_ctx_req *q);
/* deliver() for store_ctx_done_req operations: cb(arg, status, value), then
 * r->op->free(r). */
void store_ctx_done_deliver(store_req *r);
/* Whether user is a usable key (logs op when not). */
bool store_ctx_user_ok(const char *user, const char *op);

#endif
