/* store_private.c: the private XML operations of store_private.h
 * (XEP-0049): their requests, argument checks and delivery. The module
 * checks what may be stored; the stanza size limit bounds each element. The
 * storage itself is the back end's store_private_ops
 * (store_sqlite_private.c for SQLite). */
#include "store/store_private.h"
#include "core/alloc.h"

#include "store/store_ctx.h"

#include <stdlib.h>

void store_private_free(store_private *p)
{
    if (!p)
        return;
    free(p->xml);
    free(p);
}

static const store_private_ops *private_ops(store_conn *c)
{
    if (!c->backend->private_xml)
        store_kind_missing(c, "private XML");
    return c->backend->private_xml;
}

/* ---- get ---- */

typedef struct {
    store_ctx_req ctx;
    store_private_fn cb;
    char *user;
    char *name;
    char *ns;
    store_private *res;
} private_get_req;

static store_status private_get_exec(store_req *r, store_conn *c)
{
    private_get_req *q = (private_get_req *)r;
    const store_private_ops *ops = private_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "private get"))
        return STORE_ERROR;
    return ops->get(c, q->user, q->ns ? q->ns : "", q->name ? q->name : "", &q->res->xml);
}

static void private_get_free(store_req *r)
{
    private_get_req *q = (private_get_req *)r;
    store_ctx_release(&q->ctx);
    store_private_free(q->res);
    free(q->user);
    free(q->name);
    free(q->ns);
    free(q);
}

static void private_get_deliver(store_req *r)
{
    private_get_req *q = (private_get_req *)r;
    store_private *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status != STORE_OK) {
        free(res->xml);
        res->xml = NULL;
    }
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->ctx), res);
    else
        store_private_free(res);
    private_get_free(r);
}

static const store_op private_get_op = {
    "private get", private_get_exec, private_get_deliver, private_get_free,
};

void store_private_get(worker *reply_to, const char *user, const char *name, const char *ns,
                       store_private_fn cb, void *arg, store_arg_free_fn arg_free)
{
    private_get_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &private_get_op, reply_to, arg, arg_free);
    q->cb = cb;
    q->user = store_strdup_or_null(user);
    q->name = store_strdup_or_null(name);
    q->ns = store_strdup_or_null(ns);
    q->res = xcalloc(1, sizeof *q->res);
    store_submit(&q->ctx.base);
}

/* ---- set ---- */

typedef struct {
    char *name, *ns, *xml;
} private_row;

typedef struct {
    store_ctx_done_req done;
    char *user;
    private_row *rows;
    size_t n;
    int64_t max_bytes;     /* 0: no quota */
} private_set_req;

static store_status private_set_exec(store_req *r, store_conn *c)
{
    private_set_req *q = (private_set_req *)r;
    const store_private_ops *ops = private_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "private set"))
        return STORE_ERROR;
    q->done.value = 0;
    for (size_t i = 0; i < q->n; i++) {
        store_status st = ops->put(c, q->user, q->rows[i].ns, q->rows[i].name, q->rows[i].xml);
        if (st != STORE_OK)
            return STORE_ERROR;     /* the savepoint undoes the entries written */
        q->done.value++;
    }
    int64_t bytes = 0;
    if (q->max_bytes > 0 && ops->usage) {
        if (ops->usage(c, q->user, &bytes) != STORE_OK)
            return STORE_ERROR;
        if (bytes > q->max_bytes) {
            q->done.value = 0;
            return STORE_FULL;      /* the savepoint undoes the entries written */
        }
    }
    return STORE_OK;
}

static void private_set_free(store_req *r)
{
    private_set_req *q = (private_set_req *)r;
    store_ctx_release(&q->done.ctx);
    for (size_t i = 0; i < q->n; i++) {
        free(q->rows[i].name);
        free(q->rows[i].ns);
        free(q->rows[i].xml);
    }
    free(q->rows);
    free(q->user);
    free(q);
}

static const store_op private_set_op = {
    "private set", private_set_exec, store_ctx_done_deliver, private_set_free,
};

void store_private_set(worker *reply_to, const char *user, const store_private_entry *entries,
                       size_t n, int64_t max_bytes, store_done_fn cb, void *arg,
                       store_arg_free_fn arg_free)
{
    private_set_req *q = xcalloc(1, sizeof *q);
    q->max_bytes = max_bytes;
    store_ctx_init(&q->done.ctx, &private_set_op, reply_to, arg, arg_free);
    q->done.cb = cb;
    q->user = store_strdup_or_null(user);
    q->rows = xcalloc(n, sizeof *q->rows);
    q->n = n;
    for (size_t i = 0; i < n; i++) {
        q->rows[i].name = store_strdup_or_null(entries[i].name ? entries[i].name : "");
        q->rows[i].ns = store_strdup_or_null(entries[i].ns ? entries[i].ns : "");
        q->rows[i].xml = store_strdup_or_null(entries[i].xml ? entries[i].xml : "");
    }
    store_submit(&q->done.ctx.base);
}
