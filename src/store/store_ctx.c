/* store_ctx.c: the request base of the operations that take an arg_free
 * (see store_ctx.h): ownership of the caller's context across the storage
 * thread, so a worker that stops never leaks what it handed over. */
#include "store/store_ctx.h"

#include "core/log.h"

void store_ctx_init(store_ctx_req *q, const store_op *op, worker *reply_to, void *arg,
                    store_arg_free_fn arg_free)
{
    q->base.op = op;
    q->base.reply_to = reply_to;
    q->arg = arg;
    q->arg_free = arg_free;
}

void *store_ctx_take_arg(store_ctx_req *q)
{
    void *a = q->arg;
    q->arg = NULL;
    return a;
}

void store_ctx_release(store_ctx_req *q)
{
    if (q->arg && q->arg_free)
        q->arg_free(q->arg);
    q->arg = NULL;
}

void store_ctx_done_deliver(store_req *r)
{
    store_ctx_done_req *d = (store_ctx_done_req *)r;
    if (d->cb) {
        void *arg = store_ctx_take_arg(&d->ctx);
        d->cb(arg, r->status, d->value);
    }
    r->op->free(r);
}

bool store_ctx_user_ok(const char *user, const char *op)
{
    if (!user || !*user) {
        log_err("store: %s without a user", op);
        return false;
    }
    return true;
}
