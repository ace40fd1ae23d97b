/* store_fast.c: the FAST token operations of store_fast.h (XEP-0484):
 * requests, argument checks and delivery. The storage is the back end's
 * store_fast_ops (store_sqlite_fast.c). */
#include "store/store_fast.h"
#include "core/alloc.h"

#include "store/store_ctx.h"

#include <stdlib.h>

void store_fast_list_free(store_fast_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].nonce);
        free(l->v[i].hash);
        free(l->v[i].stamp);
    }
    free(l->v);
    free(l);
}

static const store_fast_ops *fast_ops(store_conn *c)
{
    if (!c->backend->fast)
        store_kind_missing(c, "FAST tokens");
    return c->backend->fast;
}

/* ---- issue, used, revoke: answered with a store_done_fn ---- */

typedef struct {
    store_ctx_done_req done;
    int kind;   /* 0 issue, 1 used, 2 revoke */
    char *user, *agent, *nonce, *hash, *stamp;
    int64_t expiry, id, count;
    bool invalidate;
} fast_req;

static store_status fast_exec(store_req *r, store_conn *c)
{
    fast_req *q = (fast_req *)r;
    const store_fast_ops *ops = fast_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "fast"))
        return STORE_ERROR;
    store_status st;
    switch (q->kind) {
    case 0:
        st = ops->issue(c, q->user, q->agent, q->nonce, q->hash, q->stamp, q->expiry);
        break;
    case 1:
        st = ops->used(c, q->user, q->agent, q->id, q->invalidate, q->count);
        break;
    default:
        q->done.value = 0;
        return ops->forget(c, q->user, &q->done.value);
    }
    q->done.value = st == STORE_OK;
    return st;
}

static void fast_free(store_req *r)
{
    fast_req *q = (fast_req *)r;
    store_ctx_release(&q->done.ctx);
    free(q->user);
    free(q->agent);
    free(q->nonce);
    free(q->hash);
    free(q->stamp);
    free(q);
}

static const store_op fast_op = { "fast", fast_exec, store_ctx_done_deliver, fast_free };

static fast_req *fast_req_new(int kind, worker *reply_to, const char *user, const char *agent,
                              store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    fast_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->done.ctx, &fast_op, reply_to, arg, arg_free);
    q->done.cb = cb;
    q->kind = kind;
    q->user = store_strdup_or_null(user);
    q->agent = xstrdup(agent ? agent : "");
    return q;
}

void store_fast_issue(worker *reply_to, const char *user, const char *agent, const char *nonce,
                      const char *hash, const char *stamp, int64_t expiry, store_done_fn cb,
                      void *arg, store_arg_free_fn arg_free)
{
    fast_req *q = fast_req_new(0, reply_to, user, agent, cb, arg, arg_free);
    q->nonce = xstrdup(nonce);
    q->hash = xstrdup(hash);
    q->stamp = xstrdup(stamp ? stamp : "");
    q->expiry = expiry;
    store_submit(&q->done.ctx.base);
}

void store_fast_used(worker *reply_to, const char *user, const char *agent, int64_t id,
                     bool invalidate, int64_t count, store_done_fn cb, void *arg,
                     store_arg_free_fn arg_free)
{
    fast_req *q = fast_req_new(1, reply_to, user, agent, cb, arg, arg_free);
    q->id = id;
    q->invalidate = invalidate;
    q->count = count;
    store_submit(&q->done.ctx.base);
}

void store_fast_revoke(worker *reply_to, const char *user, store_done_fn cb, void *arg,
                       store_arg_free_fn arg_free)
{
    fast_req *q = fast_req_new(2, reply_to, user, NULL, cb, arg, arg_free);
    store_submit(&q->done.ctx.base);
}

/* ---- get ---- */

typedef struct {
    store_ctx_req ctx;
    store_fast_list_fn cb;
    char *user, *agent;
    int64_t now;
    store_fast_list *res;
} fast_get_req;

static store_status fast_get_exec(store_req *r, store_conn *c)
{
    fast_get_req *q = (fast_get_req *)r;
    const store_fast_ops *ops = fast_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "fast get"))
        return STORE_ERROR;
    return ops->get(c, q->user, q->agent, q->now, q->res);
}

static void fast_get_free(store_req *r)
{
    fast_get_req *q = (fast_get_req *)r;
    store_ctx_release(&q->ctx);
    store_fast_list_free(q->res);
    free(q->user);
    free(q->agent);
    free(q);
}

static void fast_get_deliver(store_req *r)
{
    fast_get_req *q = (fast_get_req *)r;
    store_fast_list *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->ctx), res);
    else
        store_fast_list_free(res);
    fast_get_free(r);
}

static const store_op fast_get_op = { "fast get", fast_get_exec, fast_get_deliver, fast_get_free };

void store_fast_get(worker *reply_to, const char *user, const char *agent, int64_t now,
                    store_fast_list_fn cb, void *arg, store_arg_free_fn arg_free)
{
    fast_get_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &fast_get_op, reply_to, arg, arg_free);
    q->cb = cb;
    q->user = store_strdup_or_null(user);
    q->agent = xstrdup(agent ? agent : "");
    q->now = now;
    q->res = xcalloc(1, sizeof *q->res);
    store_submit(&q->ctx.base);
}
