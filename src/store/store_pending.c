/* store_pending.c: the operations of store_pending.h on stored inbound
 * subscription requests: their requests, argument checks and delivery. The
 * storage itself is the back end's store_pending_ops
 * (store_sqlite_pending.c for SQLite). */
#include "store/store_pending.h"
#include "core/alloc.h"

#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void store_pending_free(store_pending *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].contact);
        free(p->items[i].stanza);
    }
    free(p->items);
    free(p);
}

typedef struct {
    store_done_req done;
    char *user;
    char *contact;
    char *stanza;           /* add only */
} pending_req;

static bool pending_args_ok(const pending_req *q, const char *op)
{
    if (!q->user || !*q->user || !q->contact || !*q->contact) {
        log_err("store: %s without a user or contact", op);
        return false;
    }
    return true;
}

static const store_pending_ops *pending_ops(store_conn *c)
{
    if (!c->backend->pending)
        store_kind_missing(c, "subscription requests");
    return c->backend->pending;
}

static store_status pending_add_exec(store_req *r, store_conn *c)
{
    pending_req *q = (pending_req *)r;
    const store_pending_ops *ops = pending_ops(c);
    if (!ops || !pending_args_ok(q, "pending add"))
        return STORE_ERROR;
    return ops->add(c, q->user, q->contact, q->stanza ? q->stanza : "");
}

static store_status pending_del_exec(store_req *r, store_conn *c)
{
    pending_req *q = (pending_req *)r;
    const store_pending_ops *ops = pending_ops(c);
    if (!ops || !pending_args_ok(q, "pending del"))
        return STORE_ERROR;
    return ops->del(c, q->user, q->contact);
}

static void pending_req_free(store_req *r)
{
    pending_req *q = (pending_req *)r;
    free(q->user);
    free(q->contact);
    free(q->stanza);
    free(q);
}

static const store_op pending_add_op = {
    "pending add", pending_add_exec, store_done_deliver, pending_req_free,
};
static const store_op pending_del_op = {
    "pending del", pending_del_exec, store_done_deliver, pending_req_free,
};

static void pending_submit(const store_op *op, worker *reply_to, const char *user,
                           const char *contact, const char *stanza, store_done_fn cb, void *arg)
{
    pending_req *q = xcalloc(1, sizeof *q);
    q->done.base.op = op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->user = store_strdup_or_null(user);
    q->contact = store_strdup_or_null(contact);
    q->stanza = store_strdup_or_null(stanza);
    store_submit(&q->done.base);
}

void store_pending_add(worker *reply_to, const char *user, const char *contact,
                       const char *stanza_xml, store_done_fn cb, void *arg)
{
    pending_submit(&pending_add_op, reply_to, user, contact, stanza_xml, cb, arg);
}

void store_pending_del(worker *reply_to, const char *user, const char *contact,
                       store_done_fn cb, void *arg)
{
    pending_submit(&pending_del_op, reply_to, user, contact, NULL, cb, arg);
}

/* ---- list ---- */

typedef struct {
    store_req base;
    store_pending_fn cb;
    void *arg;
    char *user;
    store_pending *res;
} pending_list_req;

static store_status pending_list_exec(store_req *r, store_conn *c)
{
    pending_list_req *q = (pending_list_req *)r;
    const store_pending_ops *ops = pending_ops(c);
    if (!ops)
        return STORE_ERROR;
    if (!q->user || !*q->user) {
        log_err("store: pending list without a user");
        return STORE_ERROR;
    }
    return ops->list(c, q->user, q->res);
}

static void pending_list_free(store_req *r)
{
    pending_list_req *q = (pending_list_req *)r;
    store_pending_free(q->res);
    free(q->user);
    free(q);
}

static void pending_list_deliver(store_req *r)
{
    pending_list_req *q = (pending_list_req *)r;
    store_pending *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status == STORE_ERROR) {
        for (size_t i = 0; i < res->n; i++) {
            free(res->items[i].contact);
            free(res->items[i].stanza);
        }
        res->n = 0;
    }
    if (q->cb)
        q->cb(q->arg, res);
    else
        store_pending_free(res);
    pending_list_free(r);
}

static const store_op pending_list_op = {
    "pending list", pending_list_exec, pending_list_deliver, pending_list_free,
};

void store_pending_list(worker *reply_to, const char *user, store_pending_fn cb, void *arg)
{
    pending_list_req *q = xcalloc(1, sizeof *q);
    q->base.op = &pending_list_op;
    q->base.reply_to = reply_to;
    q->cb = cb;
    q->arg = arg;
    q->user = store_strdup_or_null(user);
    q->res = xcalloc(1, sizeof *q->res);
    store_submit(&q->base);
}
