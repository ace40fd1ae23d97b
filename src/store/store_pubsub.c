/* store_pubsub.c: the requests of store_pubsub.h. Every write is
 * fire-and-forget (the engine in memory is the truth while plucsd runs, the
 * store what survives it); the load runs its sink on the storage thread. */
#include "store/store_pubsub.h"

#include <stdlib.h>

#include "core/alloc.h"
#include "store/store_ctx.h"
#include "store/store_internal.h"

typedef enum { PS_LOAD, PS_NODE_PUT, PS_NODE_DEL, PS_ITEM_PUT, PS_ITEM_DEL } ps_kind;

typedef struct {
    store_req base;
    ps_kind kind;
    store_pubsub_sink sink;
    char *host, *node, *owner_or_id, *config_or_pub, *affs_or_payload, *subs;
    int64_t seq, ts;
    int keep;
} ps_req;

static store_status ps_exec(store_req *r, store_conn *c)
{
    ps_req *q = (ps_req *)r;
    const store_pubsub_ops *ops = c->backend->pubsub;
    if (!ops) {
        if (q->kind == PS_LOAD && q->sink.done)
            q->sink.done(q->sink.ud, false);
        return store_kind_missing(c, "pubsub");
    }
    switch (q->kind) {
    case PS_LOAD: {
        store_status st = ops->load(c, &q->sink);
        if (q->sink.done)
            q->sink.done(q->sink.ud, st == STORE_OK);
        return st;
    }
    case PS_NODE_PUT:
        return ops->node_put(c, q->host, q->node, q->owner_or_id, q->config_or_pub,
                             q->affs_or_payload, q->subs);
    case PS_NODE_DEL:
        return ops->node_del(c, q->host, q->node);
    case PS_ITEM_PUT:
        return ops->item_put(c, q->host, q->node, q->owner_or_id, q->config_or_pub, q->seq, q->ts,
                             q->affs_or_payload, q->keep);
    case PS_ITEM_DEL:
        return ops->item_del(c, q->host, q->node, q->owner_or_id);
    }
    return STORE_ERROR;
}

static void ps_free(store_req *r)
{
    ps_req *q = (ps_req *)r;
    free(q->host);
    free(q->node);
    free(q->owner_or_id);
    free(q->config_or_pub);
    free(q->affs_or_payload);
    free(q->subs);
    free(q);
}

static void ps_deliver(store_req *r) { ps_free(r); }

static const store_op ps_op = { "pubsub", ps_exec, ps_deliver, ps_free };

static ps_req *ps_new(ps_kind kind, const char *host, const char *node)
{
    ps_req *q = xcalloc(1, sizeof *q);
    q->base.op = &ps_op;
    q->base.reply_to = NULL;
    q->kind = kind;
    q->host = store_strdup_or_null(host);
    q->node = store_strdup_or_null(node);
    return q;
}

void store_pubsub_load(const store_pubsub_sink *sink)
{
    ps_req *q = ps_new(PS_LOAD, NULL, NULL);
    q->sink = *sink;
    if (!store_running()) {
        if (sink->done)
            sink->done(sink->ud, false);
        ps_free(&q->base);
        return;
    }
    store_submit(&q->base);
}

void store_pubsub_node_put(const char *host, const char *node, const char *owner,
                           const char *config, const char *affs, const char *subs)
{
    ps_req *q = ps_new(PS_NODE_PUT, host, node);
    q->owner_or_id = store_strdup_or_null(owner ? owner : "");
    q->config_or_pub = store_strdup_or_null(config ? config : "");
    q->affs_or_payload = store_strdup_or_null(affs ? affs : "");
    q->subs = store_strdup_or_null(subs ? subs : "");
    store_submit(&q->base);
}

void store_pubsub_node_del(const char *host, const char *node)
{
    store_submit(&ps_new(PS_NODE_DEL, host, node)->base);
}

void store_pubsub_item_put(const char *host, const char *node, const char *id,
                           const char *publisher, int64_t seq, int64_t ts, const char *payload,
                           int keep)
{
    ps_req *q = ps_new(PS_ITEM_PUT, host, node);
    q->owner_or_id = store_strdup_or_null(id);
    q->config_or_pub = store_strdup_or_null(publisher ? publisher : "");
    q->affs_or_payload = store_strdup_or_null(payload ? payload : "");
    q->seq = seq;
    q->ts = ts;
    q->keep = keep;
    store_submit(&q->base);
}

void store_pubsub_item_del(const char *host, const char *node, const char *id)
{
    ps_req *q = ps_new(PS_ITEM_DEL, host, node);
    q->owner_or_id = store_strdup_or_null(id);
    store_submit(&q->base);
}

/* ---- barrier ---- */

static store_status barrier_exec(store_req *r, store_conn *c)
{
    (void)r;
    (void)c;
    return STORE_OK;
}

static void barrier_free(store_req *r)
{
    store_ctx_done_req *q = (store_ctx_done_req *)r;
    store_ctx_release(&q->ctx);
    free(q);
}

static const store_op barrier_op = {
    "pubsub barrier", barrier_exec, store_ctx_done_deliver, barrier_free,
};

void store_pubsub_barrier(worker *reply_to, store_done_fn cb, void *arg,
                          store_arg_free_fn arg_free)
{
    store_ctx_done_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &barrier_op, reply_to, arg, arg_free);
    q->cb = cb;
    store_submit(&q->ctx.base);
}
