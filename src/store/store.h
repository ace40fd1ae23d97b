/* store.h: the storage thread, the only owner of the database (plucs/store,
 * "sqlite:/path"). Workers never wait for the disk: every operation here
 * copies its arguments into a request, queues it (one short lock) and
 * returns. The storage thread executes queued requests in batches, one
 * transaction per batch (group commit: one fsync for many requests), and
 * hands each result back to the requesting worker with worker_post_drop().
 *
 * Conventions for every operation:
 * - reply_to is the worker whose thread runs cb(arg, ...). reply_to == NULL
 *   makes the request fire-and-forget: cb is ignored (may be NULL).
 * - cb runs only after the batch holding the request has been committed,
 *   with synchronous=FULL: once cb ran, the data survives a crash or kill.
 * - Result structs passed to a callback belong to the callback; it frees
 *   them with the matching _free function (or keeps them).
 * - If reply_to stops before the result arrives, cb does not run, the
 *   result is freed by the store and arg is not touched (pass something the
 *   worker owns anyway, e.g. a session id to look up, never a pointer only
 *   the callback would free).
 * - String arguments are copied; the caller keeps ownership of its own.
 * - User and contact are bare JIDs, already prepared (lower case etc.).
 * - When the store is not running, a request fails with STORE_ERROR.
 */
#ifndef PLUCS_STORE_H
#define PLUCS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/worker.h"

typedef enum {
    STORE_OK = 0,
    STORE_FULL,        /* offline_push: the user's offline storage is full, not stored */
    STORE_NOT_FOUND,   /* roster_del / pending_del: there was no such entry */
    STORE_ERROR,       /* database error (logged on the storage thread) or store stopped */
} store_status;

const char *store_status_name(store_status st);

/* Opens (or creates, with its folder, mode 0750) the database named by spec
 * ("sqlite:/absolute/path"), brings its schema up to date and starts the
 * storage thread. On failure returns -1 with a message in err. */
int store_start(const char *spec, char *err, size_t errlen);
/* Executes everything still queued, posts the last results, closes the
 * database and joins the thread. Call before workers_stop() so that the
 * last results still find their workers (they are dropped otherwise). */
void store_stop(void);
bool store_running(void);
/* Blocks until every request queued before the call has been executed and
 * its result posted. For tests and shutdown paths; never on a worker. */
void store_sync_wait(void);
/* The schema version this build creates and understands. */
int store_schema_version(void);

/* Generic completion: status plus one number whose meaning the operation
 * documents (new roster version, row id, count, rows deleted). */
typedef void (*store_done_fn)(void *arg, store_status st, int64_t value);

/* ---- personal roster (RFC 6121) ---- */

typedef enum {
    STORE_SUB_NONE = 0,
    STORE_SUB_TO,
    STORE_SUB_FROM,
    STORE_SUB_BOTH,
} store_sub;

const char *store_sub_name(store_sub s);           /* "none", "to", "from", "both" */
int store_sub_parse(const char *s, store_sub *out); /* 0 or -1 */

typedef struct store_roster_item {
    char *contact;         /* bare JID */
    char *name;            /* NULL: no name attribute */
    store_sub subscription;
    bool ask;              /* ask='subscribe': an outbound request is pending */
    bool approved;         /* pre-approved inbound subscription (RFC 6121 3.4) */
    char **groups;         /* NULL-terminated, never NULL in results; may be NULL in requests */
} store_roster_item;

typedef struct store_roster {
    store_status status;
    int64_t version;       /* the user's roster version; 0 if never changed */
    store_roster_item *items;
    size_t n;
} store_roster;

void store_roster_free(store_roster *r);           /* NULL is fine */

typedef void (*store_roster_fn)(void *arg, store_roster *res);

/* All items of user (sorted by contact) and the roster version. */
void store_roster_get(worker *reply_to, const char *user, store_roster_fn cb, void *arg);
/* The single item user/contact (res->n is 0 or 1) and the version. */
void store_roster_get_item(worker *reply_to, const char *user, const char *contact,
                           store_roster_fn cb, void *arg);
/* Inserts or replaces the item (item->contact names it). A newline in a
 * group name is stored as a space. value: the new roster version. */
void store_roster_set(worker *reply_to, const char *user, const store_roster_item *item,
                      store_done_fn cb, void *arg);
/* Removes the item. value: the new roster version (STORE_NOT_FOUND and the
 * unchanged version when there was no such item). */
void store_roster_del(worker *reply_to, const char *user, const char *contact,
                      store_done_fn cb, void *arg);

/* ---- stored inbound subscription requests (RFC 6121 3.1.3) ---- */

typedef struct store_pending_item {
    char *contact;         /* bare JID of the requester */
    char *stanza;          /* the <presence type='subscribe'/> as received */
} store_pending_item;

typedef struct store_pending {
    store_status status;
    store_pending_item *items;   /* sorted by contact */
    size_t n;
} store_pending;

void store_pending_free(store_pending *p);         /* NULL is fine */

typedef void (*store_pending_fn)(void *arg, store_pending *res);

/* Stores (or replaces: one per contact) a request from contact to user. */
void store_pending_add(worker *reply_to, const char *user, const char *contact,
                       const char *stanza_xml, store_done_fn cb, void *arg);
void store_pending_del(worker *reply_to, const char *user, const char *contact,
                       store_done_fn cb, void *arg);
void store_pending_list(worker *reply_to, const char *user, store_pending_fn cb, void *arg);

/* ---- offline messages ---- */

typedef struct store_offline_msg {
    int64_t id;            /* increasing in arrival order */
    int64_t stamp;         /* unix time in ms when store_offline_push was called */
    char *stanza;
} store_offline_msg;

typedef struct store_offline {
    store_status status;
    store_offline_msg *msgs;     /* in arrival order */
    size_t n;
    int64_t max_id;              /* id of the last message, 0 when none: pass to ack */
} store_offline;

void store_offline_free(store_offline *o);         /* NULL is fine */

typedef void (*store_offline_fn)(void *arg, store_offline *res);

/* Stores a message for user unless user already has max or more stored
 * (max <= 0: offline storage disabled). STORE_OK once durably committed
 * (value: the message id), STORE_FULL when not stored (value: the count),
 * STORE_ERROR. */
void store_offline_push(worker *reply_to, const char *user, const char *stanza_xml, int max,
                        store_done_fn cb, void *arg);
/* Every stored message of user, oldest first. Nothing is deleted: once the
 * messages have been handed to the client, call store_offline_ack() with
 * res->max_id, so a crash in between loses nothing (they come again). */
void store_offline_pop_all(worker *reply_to, const char *user, store_offline_fn cb, void *arg);
/* Deletes user's messages with id <= max_id. value: rows deleted. */
void store_offline_ack(worker *reply_to, const char *user, int64_t max_id,
                       store_done_fn cb, void *arg);
/* value: the number of messages stored for user. */
void store_offline_count(worker *reply_to, const char *user, store_done_fn cb, void *arg);

/* ---- accounts ---- */

/* Deletes everything stored for user (roster items and version, pending
 * requests, offline messages), e.g. when the account left the directory.
 * value: rows deleted. */
void store_user_forget(worker *reply_to, const char *user, store_done_fn cb, void *arg);

#endif
