/* store_blocklist.c: the blocklist operations of store_blocklist.h
 * (XEP-0191): their requests, argument checks and delivery. The storage
 * itself is the back end's store_blocklist_ops (store_sqlite_blocklist.c
 * for SQLite). */
#include "store/store_blocklist.h"
#include "core/alloc.h"

#include "store/store_ctx.h"

#include <stdlib.h>

void store_blocklist_free(store_blocklist *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->items[i]);
    free(b->items);
    free(b->user);
    free(b);
}

static char **items_copy(const char *const *items, size_t n)
{
    if (!n)
        return NULL;
    char **v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = store_strdup_or_null(items[i] ? items[i] : "");
    return v;
}

static void items_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static const store_blocklist_ops *blocklist_ops(store_conn *c)
{
    if (!c->backend->blocklist)
        store_kind_missing(c, "blocklists");
    return c->backend->blocklist;
}

/* ---- get ---- */

typedef struct {
    store_ctx_req ctx;
    store_blocklist_fn cb;
    store_blocklist *res;
} block_get_req;

static store_status block_get_exec(store_req *r, store_conn *c)
{
    block_get_req *q = (block_get_req *)r;
    const store_blocklist_ops *ops = blocklist_ops(c);
    if (!ops || !store_ctx_user_ok(q->res->user, "block get"))
        return STORE_ERROR;
    return ops->get(c, q->res->user, q->res);
}

static void block_get_free(store_req *r)
{
    block_get_req *q = (block_get_req *)r;
    store_ctx_release(&q->ctx);
    store_blocklist_free(q->res);
    free(q);
}

static void block_get_deliver(store_req *r)
{
    block_get_req *q = (block_get_req *)r;
    store_blocklist *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status != STORE_OK) {      /* never a partial list */
        items_free(res->items, res->n);
        res->items = NULL;
        res->n = 0;
    }
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->ctx), res);
    else
        store_blocklist_free(res);
    block_get_free(r);
}

static const store_op block_get_op = {
    "block get", block_get_exec, block_get_deliver, block_get_free,
};

void store_block_get(worker *reply_to, const char *user, store_blocklist_fn cb, void *arg,
                     store_arg_free_fn arg_free)
{
    block_get_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &block_get_op, reply_to, arg, arg_free);
    q->cb = cb;
    q->res = xcalloc(1, sizeof *q->res);
    q->res->user = store_strdup_or_null(user);
    store_submit(&q->ctx.base);
}

/* ---- add / remove ---- */

typedef struct {
    store_ctx_done_req done;
    char *user;
    char **items;
    size_t n;
} block_change_req;

static store_status block_add_exec(store_req *r, store_conn *c)
{
    block_change_req *q = (block_change_req *)r;
    const store_blocklist_ops *ops = blocklist_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "block add"))
        return STORE_ERROR;
    q->done.value = 0;
    for (size_t i = 0; i < q->n; i++) {
        int64_t added = 0;
        if (ops->add(c, q->user, q->items[i], &added) != STORE_OK)
            return STORE_ERROR;
        q->done.value += added;
    }
    return STORE_OK;
}

static store_status block_remove_exec(store_req *r, store_conn *c)
{
    block_change_req *q = (block_change_req *)r;
    const store_blocklist_ops *ops = blocklist_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "block remove"))
        return STORE_ERROR;
    q->done.value = 0;
    if (q->n == 0)
        return ops->forget(c, q->user, &q->done.value);
    for (size_t i = 0; i < q->n; i++) {
        int64_t removed = 0;
        if (ops->remove(c, q->user, q->items[i], &removed) != STORE_OK)
            return STORE_ERROR;
        q->done.value += removed;
    }
    return STORE_OK;
}

static void block_change_free(store_req *r)
{
    block_change_req *q = (block_change_req *)r;
    store_ctx_release(&q->done.ctx);
    free(q->user);
    items_free(q->items, q->n);
    free(q);
}

static const store_op block_add_op = {
    "block add", block_add_exec, store_ctx_done_deliver, block_change_free,
};

static const store_op block_remove_op = {
    "block remove", block_remove_exec, store_ctx_done_deliver, block_change_free,
};

static void block_change_submit(const store_op *op, worker *reply_to, const char *user,
                                const char *const *items, size_t n, store_done_fn cb, void *arg,
                                store_arg_free_fn arg_free)
{
    block_change_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->done.ctx, op, reply_to, arg, arg_free);
    q->done.cb = cb;
    q->user = store_strdup_or_null(user);
    q->items = items_copy(items, n);
    q->n = n;
    store_submit(&q->done.ctx.base);
}

void store_block_add(worker *reply_to, const char *user, const char *const *items, size_t n,
                     store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    block_change_submit(&block_add_op, reply_to, user, items, n, cb, arg, arg_free);
}

void store_block_remove(worker *reply_to, const char *user, const char *const *items, size_t n,
                        store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    block_change_submit(&block_remove_op, reply_to, user, items, n, cb, arg, arg_free);
}
