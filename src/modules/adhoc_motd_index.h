/* adhoc_motd_index.h: which served domains have a message of the day, in
 * memory, so that a login asks the store (store_motd_take, a transaction on
 * the storage thread) only when its domain has one (adhoc_motd.c). One
 * table for every worker, behind a mutex; loaded from the store once, on
 * worker 0's first directory snapshot. Until it is loaded (or when loading
 * failed) every domain counts as having a message, as before.
 *
 * Set and delete go through here so that the table follows the store in
 * the store's own order: each request takes a sequence number under the
 * table's mutex while it is queued (the storage thread runs requests in
 * queue order), and an answer changes a domain only when it is newer than
 * what the table holds. So a set whose answer arrives before the load's is
 * not undone by the load, nor a delete by an older set answered later. */
#ifndef PLUCS_ADHOC_MOTD_INDEX_H
#define PLUCS_ADHOC_MOTD_INDEX_H

#include <stdbool.h>

#include "store/store_motd.h"

/* Forgets everything (module init and shutdown, no worker running). */
void motd_index_reset(void);
/* Queues the load (once; again after a failed one), answered on w. */
void motd_index_load(worker *w);
/* Whether logins of domain must ask the store. */
bool motd_index_may_have(const char *domain);
/* store_motd_set / store_motd_delete with the same contract, keeping the
 * table up to date before cb runs. */
void motd_index_set(worker *w, const char *domain, const char *text, store_done_fn cb, void *arg,
                    store_arg_free_fn arg_free);
void motd_index_delete(worker *w, const char *domain, store_done_fn cb, void *arg,
                       store_arg_free_fn arg_free);

#endif
