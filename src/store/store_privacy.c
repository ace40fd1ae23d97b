/* store_privacy.c: the privacy list operations of store_privacy.h
 * (XEP-0016): their requests, argument checks and delivery. The storage
 * itself is the back end's store_privacy_ops (store_sqlite_privacy.c for
 * SQLite). */
#include "store/store_privacy.h"
#include "core/alloc.h"

#include "store/store_backend.h"
#include "store/store_ctx.h"

#include <stdlib.h>

void store_privacy_free(store_privacy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->lists[i].name);
        free(p->lists[i].text);
    }
    free(p->lists);
    free(p->dflt);
    free(p->user);
    free(p);
}

static const store_privacy_ops *privacy_ops(store_conn *c)
{
    if (!c->backend->privacy)
        store_kind_missing(c, "privacy lists");
    return c->backend->privacy;
}

/* ---- get ---- */

typedef struct {
    store_ctx_req ctx;
    store_privacy_fn cb;
    store_privacy *res;
} privacy_get_req;

static store_status privacy_get_exec(store_req *r, store_conn *c)
{
    privacy_get_req *q = (privacy_get_req *)r;
    const store_privacy_ops *ops = privacy_ops(c);
    if (!ops || !store_ctx_user_ok(q->res->user, "privacy get"))
        return STORE_ERROR;
    return ops->get(c, q->res->user, q->res);
}

static void privacy_get_free(store_req *r)
{
    privacy_get_req *q = (privacy_get_req *)r;
    store_ctx_release(&q->ctx);
    store_privacy_free(q->res);
    free(q);
}

static void privacy_get_deliver(store_req *r)
{
    privacy_get_req *q = (privacy_get_req *)r;
    store_privacy *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status != STORE_OK) {      /* never a partial result */
        for (size_t i = 0; i < res->n; i++) {
            free(res->lists[i].name);
            free(res->lists[i].text);
        }
        free(res->lists);
        res->lists = NULL;
        res->n = 0;
        free(res->dflt);
        res->dflt = NULL;
    }
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->ctx), res);
    else
        store_privacy_free(res);
    privacy_get_free(r);
}

static const store_op privacy_get_op = {
    "privacy get", privacy_get_exec, privacy_get_deliver, privacy_get_free,
};

void store_privacy_get(worker *reply_to, const char *user, store_privacy_fn cb, void *arg,
                       store_arg_free_fn arg_free)
{
    privacy_get_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &privacy_get_op, reply_to, arg, arg_free);
    q->cb = cb;
    q->res = xcalloc(1, sizeof *q->res);
    q->res->user = store_strdup_or_null(user);
    store_submit(&q->ctx.base);
}

/* ---- put / remove / default ---- */

typedef struct {
    store_ctx_done_req done;
    char *user;
    char *name;
    char *text;
} privacy_change_req;

static store_status privacy_put_exec(store_req *r, store_conn *c)
{
    privacy_change_req *q = (privacy_change_req *)r;
    const store_privacy_ops *ops = privacy_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "privacy put") || !q->name)
        return STORE_ERROR;
    q->done.value = 0;
    if (!q->text)
        return ops->del(c, q->user, q->name, &q->done.value);
    q->done.value = 1;
    return ops->put(c, q->user, q->name, q->text);
}

static store_status privacy_default_exec(store_req *r, store_conn *c)
{
    privacy_change_req *q = (privacy_change_req *)r;
    const store_privacy_ops *ops = privacy_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "privacy default"))
        return STORE_ERROR;
    q->done.value = 1;
    return ops->set_default(c, q->user, q->name);
}

static void privacy_change_free(store_req *r)
{
    privacy_change_req *q = (privacy_change_req *)r;
    store_ctx_release(&q->done.ctx);
    free(q->user);
    free(q->name);
    free(q->text);
    free(q);
}

static const store_op privacy_put_op = {
    "privacy put", privacy_put_exec, store_ctx_done_deliver, privacy_change_free,
};

static const store_op privacy_default_op = {
    "privacy default", privacy_default_exec, store_ctx_done_deliver, privacy_change_free,
};

static void change_submit(const store_op *op, worker *reply_to, const char *user,
                          const char *name, const char *text, store_done_fn cb, void *arg,
                          store_arg_free_fn arg_free)
{
    privacy_change_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->done.ctx, op, reply_to, arg, arg_free);
    q->done.cb = cb;
    q->user = store_strdup_or_null(user);
    q->name = name ? store_strdup_or_null(name) : NULL;
    q->text = text ? store_strdup_or_null(text) : NULL;
    store_submit(&q->done.ctx.base);
}

void store_privacy_put(worker *reply_to, const char *user, const char *name, const char *text,
                       store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    change_submit(&privacy_put_op, reply_to, user, name, text, cb, arg, arg_free);
}

void store_privacy_set_default(worker *reply_to, const char *user, const char *name,
                               store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    change_submit(&privacy_default_op, reply_to, user, name, NULL, cb, arg, arg_free);
}
