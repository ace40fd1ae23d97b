/* store_offline.c: the offline message operations of store_offline.h:
 * their requests, argument checks and delivery. A push takes its arrival
 * time when it is asked for, not when it is executed. The storage itself is
 * the back end's store_offline_ops (store_sqlite_offline.c for SQLite). */
#include "store/store_offline.h"
#include "core/alloc.h"

#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void store_offline_free(store_offline *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        free(o->msgs[i].stanza);
    free(o->msgs);
    free(o);
}

static bool user_ok(const char *user, const char *op)
{
    if (!user || !*user) {
        log_err("store: %s without a user", op);
        return false;
    }
    return true;
}

static const store_offline_ops *offline_ops(store_conn *c)
{
    if (!c->backend->offline)
        store_kind_missing(c, "offline messages");
    return c->backend->offline;
}

/* ---- push / ack / count: answered with store_done_fn ---- */

typedef struct {
    store_done_req done;
    char *user;
    char *stanza;           /* push */
    int64_t stamp;          /* push: when it was asked for */
    int64_t num;            /* push: max; ack: max_id */
} offline_req;

static store_status offline_push_exec(store_req *r, store_conn *c)
{
    offline_req *q = (offline_req *)r;
    const store_offline_ops *ops = offline_ops(c);
    if (!ops || !user_ok(q->user, "offline push"))
        return STORE_ERROR;
    if (q->num <= 0)
        return STORE_FULL;
    return ops->push(c, q->user, q->stamp, q->stanza ? q->stanza : "", q->num, &q->done.value);
}

static store_status offline_ack_exec(store_req *r, store_conn *c)
{
    offline_req *q = (offline_req *)r;
    const store_offline_ops *ops = offline_ops(c);
    if (!ops || !user_ok(q->user, "offline ack"))
        return STORE_ERROR;
    return ops->ack(c, q->user, q->num, &q->done.value);
}

static store_status offline_count_exec(store_req *r, store_conn *c)
{
    offline_req *q = (offline_req *)r;
    const store_offline_ops *ops = offline_ops(c);
    if (!ops || !user_ok(q->user, "offline count"))
        return STORE_ERROR;
    return ops->count(c, q->user, &q->done.value);
}

static void offline_req_free(store_req *r)
{
    offline_req *q = (offline_req *)r;
    free(q->user);
    free(q->stanza);
    free(q);
}

static const store_op offline_push_op = {
    "offline push", offline_push_exec, store_done_deliver, offline_req_free,
};
static const store_op offline_ack_op = {
    "offline ack", offline_ack_exec, store_done_deliver, offline_req_free,
};
static const store_op offline_count_op = {
    "offline count", offline_count_exec, store_done_deliver, offline_req_free,
};

static offline_req *offline_req_new(const store_op *op, worker *reply_to, const char *user,
                                    store_done_fn cb, void *arg)
{
    offline_req *q = xcalloc(1, sizeof *q);
    q->done.base.op = op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->user = store_strdup_or_null(user);
    return q;
}

void store_offline_push(worker *reply_to, const char *user, const char *stanza_xml, int max,
                        store_done_fn cb, void *arg)
{
    offline_req *q = offline_req_new(&offline_push_op, reply_to, user, cb, arg);
    q->stanza = store_strdup_or_null(stanza_xml);
    q->stamp = store_now_ms();
    q->num = max;
    store_submit(&q->done.base);
}

void store_offline_ack(worker *reply_to, const char *user, int64_t max_id,
                       store_done_fn cb, void *arg)
{
    offline_req *q = offline_req_new(&offline_ack_op, reply_to, user, cb, arg);
    q->num = max_id;
    store_submit(&q->done.base);
}

void store_offline_count(worker *reply_to, const char *user, store_done_fn cb, void *arg)
{
    store_submit(&offline_req_new(&offline_count_op, reply_to, user, cb, arg)->done.base);
}

/* ---- pop_all ---- */

typedef struct {
    store_req base;
    store_offline_fn cb;
    void *arg;
    char *user;
    store_offline *res;
} offline_pop_req;

static store_status offline_pop_exec(store_req *r, store_conn *c)
{
    offline_pop_req *q = (offline_pop_req *)r;
    const store_offline_ops *ops = offline_ops(c);
    if (!ops || !user_ok(q->user, "offline fetch"))
        return STORE_ERROR;
    return ops->fetch(c, q->user, q->res);
}

static void offline_pop_free(store_req *r)
{
    offline_pop_req *q = (offline_pop_req *)r;
    store_offline_free(q->res);
    free(q->user);
    free(q);
}

static void offline_pop_deliver(store_req *r)
{
    offline_pop_req *q = (offline_pop_req *)r;
    store_offline *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status == STORE_ERROR) {
        for (size_t i = 0; i < res->n; i++)
            free(res->msgs[i].stanza);
        res->n = 0;
        res->max_id = 0;
    }
    if (q->cb)
        q->cb(q->arg, res);
    else
        store_offline_free(res);
    offline_pop_free(r);
}

static const store_op offline_pop_op = {
    "offline fetch", offline_pop_exec, offline_pop_deliver, offline_pop_free,
};

void store_offline_pop_all(worker *reply_to, const char *user, store_offline_fn cb, void *arg)
{
    offline_pop_req *q = xcalloc(1, sizeof *q);
    q->base.op = &offline_pop_op;
    q->base.reply_to = reply_to;
    q->cb = cb;
    q->arg = arg;
    q->user = store_strdup_or_null(user);
    q->res = xcalloc(1, sizeof *q->res);
    store_submit(&q->base);
}
