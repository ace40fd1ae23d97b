/* store_push.c: the push registration operations of store_push.h
 * (XEP-0357): their requests, argument checks and delivery. The storage
 * itself is the back end's store_push_ops (store_sqlite_push.c). */
#include "store/store_push.h"

#include <stdlib.h>

#include "core/alloc.h"
#include "store/store_ctx.h"

void store_push_regs_free(store_push_regs *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].jid);
        free(r->items[i].node);
        free(r->items[i].form);
    }
    free(r->items);
    free(r);
}

static const store_push_ops *push_ops(store_conn *c)
{
    if (!c->backend->push)
        store_kind_missing(c, "push registrations");
    return c->backend->push;
}

/* ---- list ---- */

typedef struct {
    store_ctx_req ctx;
    store_push_regs_fn cb;
    char *user;
    store_push_regs *res;
} push_list_req;

static store_status push_list_exec(store_req *r, store_conn *c)
{
    push_list_req *q = (push_list_req *)r;
    const store_push_ops *ops = push_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "push list"))
        return STORE_ERROR;
    return ops->list(c, q->user, q->res);
}

static void push_list_free(store_req *r)
{
    push_list_req *q = (push_list_req *)r;
    store_ctx_release(&q->ctx);
    store_push_regs_free(q->res);
    free(q->user);
    free(q);
}

static void push_list_deliver(store_req *r)
{
    push_list_req *q = (push_list_req *)r;
    store_push_regs *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->ctx), res);
    else
        store_push_regs_free(res);
    push_list_free(r);
}

static const store_op push_list_op = {
    "push list", push_list_exec, push_list_deliver, push_list_free,
};

void store_push_list(worker *reply_to, const char *user, store_push_regs_fn cb, void *arg,
                     store_arg_free_fn arg_free)
{
    push_list_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &push_list_op, reply_to, arg, arg_free);
    q->cb = cb;
    q->user = store_strdup_or_null(user);
    q->res = xcalloc(1, sizeof *q->res);
    store_submit(&q->ctx.base);
}

/* ---- add / remove ---- */

typedef struct {
    store_ctx_done_req done;
    char *user, *jid, *node, *form;
    int64_t max;
    bool remove;
} push_change_req;

static store_status push_change_exec(store_req *r, store_conn *c)
{
    push_change_req *q = (push_change_req *)r;
    const store_push_ops *ops = push_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, q->remove ? "push remove" : "push add"))
        return STORE_ERROR;
    q->done.value = 0;
    if (q->remove)
        return ops->del(c, q->user, q->jid, q->node, &q->done.value);
    store_status st = ops->put(c, q->user, q->jid, q->node, q->form ? q->form : "");
    if (st != STORE_OK)
        return st;
    if (ops->count(c, q->user, &q->done.value) != STORE_OK)
        return STORE_ERROR;
    if (q->max > 0 && q->done.value > q->max)
        return STORE_FULL;      /* the savepoint undoes the write */
    return STORE_OK;
}

static void push_change_free(store_req *r)
{
    push_change_req *q = (push_change_req *)r;
    store_ctx_release(&q->done.ctx);
    free(q->user);
    free(q->jid);
    free(q->node);
    free(q->form);
    free(q);
}

static const store_op push_change_op = {
    "push change", push_change_exec, store_ctx_done_deliver, push_change_free,
};

static void push_change(worker *reply_to, const char *user, const char *jid, const char *node,
                        const char *form, int64_t max, bool remove, store_done_fn cb,
                        void *arg, store_arg_free_fn arg_free)
{
    push_change_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->done.ctx, &push_change_op, reply_to, arg, arg_free);
    q->done.cb = cb;
    q->user = store_strdup_or_null(user);
    q->jid = store_strdup_or_null(jid ? jid : "");
    q->node = remove ? store_strdup_or_null(node) : store_strdup_or_null(node ? node : "");
    q->form = store_strdup_or_null(form);
    q->max = max;
    q->remove = remove;
    store_submit(&q->done.ctx.base);
}

void store_push_add(worker *reply_to, const char *user, const char *jid, const char *node,
                    const char *form, int64_t max, store_done_fn cb, void *arg,
                    store_arg_free_fn arg_free)
{
    push_change(reply_to, user, jid, node, form, max, false, cb, arg, arg_free);
}

void store_push_remove(worker *reply_to, const char *user, const char *jid, const char *node,
                       store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    push_change(reply_to, user, jid, node, NULL, 0, true, cb, arg, arg_free);
}
