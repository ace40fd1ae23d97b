/* store_extra.h: storage for the everyday XEPs, next to store.h: private
 * XML (XEP-0049), blocklists (XEP-0191) and the last logout of an account
 * (XEP-0012). Same storage thread, same rules as store.h, with one
 * addition that lets a worker hand an allocated context to the callback:
 *
 * - arg_free (may be NULL) is called with arg whenever cb will never run:
 *   the request was fire-and-forget (reply_to == NULL), or reply_to stopped
 *   before the result arrived. So arg is always consumed exactly once,
 *   either by cb (which then owns it) or by arg_free (on any thread).
 *
 * Tables (schema version 2): private_xml, blocklist, last_activity; all
 * keyed by the account's bare JID. */
#ifndef PLUCS_STORE_EXTRA_H
#define PLUCS_STORE_EXTRA_H

#include "store/store.h"

typedef void (*store_arg_free_fn)(void *arg);

/* ---- private XML storage (XEP-0049) ---- */

typedef struct store_private_entry {
    const char *name;      /* the stored element's local name */
    const char *ns;        /* its namespace */
    const char *xml;       /* the element serialized (with its xmlns) */
} store_private_entry;

typedef struct store_private {
    store_status status;
    char *xml;             /* NULL: nothing stored under (name, ns) */
} store_private;

void store_private_free(store_private *p);          /* NULL is fine */
typedef void (*store_private_fn)(void *arg, store_private *res);

/* The element stored for user under (name, ns). */
void store_private_get(worker *reply_to, const char *user, const char *name, const char *ns,
                       store_private_fn cb, void *arg, store_arg_free_fn arg_free);
/* Stores (replacing) every entry, all or none. value: entries written. */
void store_private_set(worker *reply_to, const char *user, const store_private_entry *entries,
                       size_t n, store_done_fn cb, void *arg, store_arg_free_fn arg_free);

/* ---- blocklists (XEP-0191) ---- */

typedef struct store_blocklist {
    store_status status;
    char *user;            /* whose list it is (the request's user) */
    char **items;          /* prepared JIDs, sorted; NULL when n == 0 */
    size_t n;
} store_blocklist;

void store_blocklist_free(store_blocklist *b);      /* NULL is fine */
typedef void (*store_blocklist_fn)(void *arg, store_blocklist *res);

void store_block_get(worker *reply_to, const char *user, store_blocklist_fn cb, void *arg,
                     store_arg_free_fn arg_free);
/* Adds items (prepared JIDs; ones already blocked are kept). value: rows added. */
void store_block_add(worker *reply_to, const char *user, const char *const *items, size_t n,
                     store_done_fn cb, void *arg, store_arg_free_fn arg_free);
/* Removes items; n == 0 removes every item of user. value: rows removed. */
void store_block_remove(worker *reply_to, const char *user, const char *const *items, size_t n,
                        store_done_fn cb, void *arg, store_arg_free_fn arg_free);

/* ---- last activity (XEP-0012) ---- */

typedef struct store_last {
    store_status status;   /* STORE_NOT_FOUND: nothing recorded for user */
    int64_t stamp;         /* unix time in seconds of the last logout */
    char *text;            /* the status text of the last unavailable presence, "" if none */
} store_last;

void store_last_free(store_last *l);                /* NULL is fine */
typedef void (*store_last_fn)(void *arg, store_last *res);

/* Records the logout of user at stamp (unix seconds) with its status text
 * (NULL: none), replacing what was recorded. */
void store_last_set(worker *reply_to, const char *user, int64_t stamp, const char *text,
                    store_done_fn cb, void *arg, store_arg_free_fn arg_free);
void store_last_get(worker *reply_to, const char *user, store_last_fn cb, void *arg,
                    store_arg_free_fn arg_free);

#endif
