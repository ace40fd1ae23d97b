/* store_last.c: the last activity operations of store_last.h (XEP-0012):
 * their requests, argument checks and delivery. The storage itself is the
 * back end's store_last_ops (store_sqlite_last.c for SQLite). */
#include "store/store_last.h"
#include "core/alloc.h"

#include "store/store_ctx.h"

#include <stdlib.h>

void store_last_free(store_last *l)
{
    if (!l)
        return;
    free(l->text);
    free(l);
}

static const store_last_ops *last_ops(store_conn *c)
{
    if (!c->backend->last)
        store_kind_missing(c, "last activity");
    return c->backend->last;
}

/* ---- set ---- */

typedef struct {
    store_ctx_done_req done;
    char *user;
    int64_t stamp;
    char *text;
} last_set_req;

static store_status last_set_exec(store_req *r, store_conn *c)
{
    last_set_req *q = (last_set_req *)r;
    const store_last_ops *ops = last_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "last set"))
        return STORE_ERROR;
    store_status st = ops->set(c, q->user, q->stamp, q->text ? q->text : "");
    q->done.value = st == STORE_OK;
    return st;
}

static void last_set_free(store_req *r)
{
    last_set_req *q = (last_set_req *)r;
    store_ctx_release(&q->done.ctx);
    free(q->user);
    free(q->text);
    free(q);
}

static const store_op last_set_op = {
    "last set", last_set_exec, store_ctx_done_deliver, last_set_free,
};

void store_last_set(worker *reply_to, const char *user, int64_t stamp, const char *text,
                    store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    last_set_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->done.ctx, &last_set_op, reply_to, arg, arg_free);
    q->done.cb = cb;
    q->user = store_strdup_or_null(user);
    q->stamp = stamp;
    q->text = store_strdup_or_null(text);
    store_submit(&q->done.ctx.base);
}

/* ---- get ---- */

typedef struct {
    store_ctx_req ctx;
    store_last_fn cb;
    char *user;
    store_last *res;
} last_get_req;

static store_status last_get_exec(store_req *r, store_conn *c)
{
    last_get_req *q = (last_get_req *)r;
    const store_last_ops *ops = last_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "last get"))
        return STORE_ERROR;
    return ops->get(c, q->user, q->res);
}

static void last_get_free(store_req *r)
{
    last_get_req *q = (last_get_req *)r;
    store_ctx_release(&q->ctx);
    store_last_free(q->res);
    free(q->user);
    free(q);
}

static void last_get_deliver(store_req *r)
{
    last_get_req *q = (last_get_req *)r;
    store_last *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status != STORE_OK) {
        res->stamp = 0;
        free(res->text);
        res->text = NULL;
    }
    if (!res->text)
        res->text = xstrdup("");
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->ctx), res);
    else
        store_last_free(res);
    last_get_free(r);
}

static const store_op last_get_op = {
    "last get", last_get_exec, last_get_deliver, last_get_free,
};

void store_last_get(worker *reply_to, const char *user, store_last_fn cb, void *arg,
                    store_arg_free_fn arg_free)
{
    last_get_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &last_get_op, reply_to, arg, arg_free);
    q->cb = cb;
    q->user = store_strdup_or_null(user);
    q->res = xcalloc(1, sizeof *q->res);
    store_submit(&q->ctx.base);
}
