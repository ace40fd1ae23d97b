/* store_pubsub.h: PubSub nodes and items (XEP-0060 service pubsub.D and
 * XEP-0163 PEP on accounts). Key of a node: (host, node), host being the
 * service JID or the owning account's bare JID; items are keyed by
 * (host, node, id) and ordered by seq (publish order, process-wide
 * counter). The engine (modules/pubsub_engine.c) keeps everything in
 * memory and writes through: every write here is fire-and-forget and
 * applied in submission order. Reading is one load at start (the storage
 * thread calls the callbacks itself, the caller waits with
 * store_sync_wait() before the workers start). */
#ifndef PLUCS_STORE_PUBSUB_H
#define PLUCS_STORE_PUBSUB_H

#include "store/store.h"

typedef struct store_pubsub_sink {
    void *ud;
    /* Both run on the storage thread, strings borrowed. */
    void (*node)(void *ud, const char *host, const char *node, const char *owner,
                 const char *config, const char *affs, const char *subs);
    void (*item)(void *ud, const char *host, const char *node, const char *id,
                 const char *publisher, int64_t seq, int64_t ts, const char *payload);
    /* After the last row (ok false: the load failed). */
    void (*done)(void *ud, bool ok);
} store_pubsub_sink;

/* Nodes first, then items oldest first. sink is copied. */
void store_pubsub_load(const store_pubsub_sink *sink);
/* Inserts or replaces a node (config, affiliations, subscriptions are the
 * engine's serialized text). */
void store_pubsub_node_put(const char *host, const char *node, const char *owner,
                           const char *config, const char *affs, const char *subs);
/* Removes a node and its items. */
void store_pubsub_node_del(const char *host, const char *node);
/* Inserts or replaces an item, then keeps only the keep newest of the node
 * (keep <= 0: no trimming). */
void store_pubsub_item_put(const char *host, const char *node, const char *id,
                           const char *publisher, int64_t seq, int64_t ts, const char *payload,
                           int keep);
/* Removes one item (id) or all of the node's items (id NULL). */
void store_pubsub_item_del(const char *host, const char *node, const char *id);

/* Runs cb(arg, status) on reply_to once every pubsub write submitted before
 * it is committed (the queue is executed in order and results are handed
 * back after the batch's commit): the engine answers a client only when
 * what it changed is durable. arg_free: store.h rules. */
void store_pubsub_barrier(worker *reply_to, store_done_fn cb, void *arg,
                          store_arg_free_fn arg_free);

#endif
