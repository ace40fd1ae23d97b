/* store_blocklist.h: blocklists (XEP-0191): the JIDs each user blocks.
 * Key: (user, blocked JID). Rules: adding a JID already blocked keeps it
 * (no duplicates), lists are sorted, a result is never a partial list. The
 * blocking module keeps an online account's list in memory and writes every
 * change through to here; the list is read once when the account's first
 * session binds. Operations take an arg_free (store.h). */
#ifndef PLUCS_STORE_BLOCKLIST_H
#define PLUCS_STORE_BLOCKLIST_H

#include "store/store.h"

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

#endif
