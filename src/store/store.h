/* store.h: the storage thread, the only owner of the database (plucs/store,
 * "sqlite:/path"), and the conventions every stored record kind follows.
 * The operations live in one header per record kind:
 *
 *   store_roster.h    personal roster items and roster versions
 *   store_pending.h   inbound subscription requests not answered yet
 *   store_offline.h   messages for users who were offline
 *   store_private.h   private XML (XEP-0049)
 *   store_blocklist.h blocklists (XEP-0191)
 *   store_last.h      the last logout of an account (XEP-0012)
 *   store_muc.h       persistent group chat rooms and affiliations (XEP-0045)
 *   store_motd.h      the message of the day per domain (XEP-0133)
 *   store_mam.h       the message archive and its preferences (XEP-0313)
 *   store_user.h      everything stored for one account, across kinds
 *
 * Workers never wait for the disk: every operation copies its arguments into
 * a request, queues it (one short lock) and returns. The storage thread
 * executes queued requests in batches, one transaction per batch (group
 * commit: one fsync for many requests), through the back end the spec's
 * scheme selects (store_backend.h), and hands each result back to the
 * requesting worker with worker_post_drop().
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
 * - Operations that take an arg_free (private XML, blocklists, last
 *   activity) let a worker hand an allocated context to the callback:
 *   arg_free (may be NULL) is called with arg whenever cb will never run:
 *   the request was fire-and-forget (reply_to == NULL), or reply_to stopped
 *   before the result arrived. So arg is always consumed exactly once,
 *   either by cb (which then owns it) or by arg_free (on any thread).
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
    STORE_FULL,        /* a per-user limit (offline_push: plucs/offline/max; private_set:
                          plucs/quota/private) refused it: nothing stored */
    STORE_NOT_FOUND,   /* roster_del / pending_del / a get: there was no such entry */
    STORE_ERROR,       /* database error (logged on the storage thread) or store stopped */
} store_status;

const char *store_status_name(store_status st);

/* Opens the database named by spec ("sqlite:/absolute/path": the scheme
 * before the first ':' selects the back end), brings its schema up to date
 * and starts the storage thread. On failure returns -1 with a message in
 * err (an unknown scheme names plucs/store, the value and what is allowed). */
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

/* Frees a context handed to an operation that takes one (see above). */
typedef void (*store_arg_free_fn)(void *arg);

#endif
