/* blocklist.h: XEP-0191 blocklists. Two parts:
 *
 * - The JID matching rule (XEP-0191 §2, as XEP-0016): a pure function.
 * - The process-wide cache of online accounts' lists (block_cache.c): one
 *   list per account, shared by the account's sessions on every worker,
 *   reference-counted by those sessions, loaded once from the store when
 *   the first session binds. One mutex guards the table and every list;
 *   stanza paths ask block_cache_any() first, a lock-free counter, so a
 *   server where nobody blocks anyone never takes the lock.
 *
 * mod_blocking.c is the protocol (iq, pushes, enforcement hooks). */
#ifndef PLUCS_BLOCKLIST_H
#define PLUCS_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/account_table.h"
#include "xmpp/jid.h"

/* Whether the blocklist item matches the address:
 *   user@domain/resource  only that full JID
 *   user@domain           that bare JID with any resource
 *   domain/resource       only that JID (no localpart)
 *   domain                the domain itself and every address at it or at
 *                         one of its subdomains */
bool blocklist_item_matches(const jid *item, const jid *addr);

/* ---- the cache ---- */

typedef struct block_list block_list;

typedef account_waiter block_waiter;

/* One more reference to bare's list, created empty and not loaded when
 * nobody held it; *created tells the caller to load it from the store. */
block_list *block_cache_acquire(const char *bare, bool *created);
void block_cache_release(block_list *b);
/* When b is not loaded yet, remembers (worker, sid) to be resumed by
 * block_cache_install() and returns true. */
bool block_cache_wait(block_list *b, int worker, uint64_t sid);
bool block_cache_loaded(block_list *b);
/* Installs the stored items of bare unless its list is gone or loaded
 * already (then nothing changes). Returns the waiters to resume (*n of
 * them, malloc'ed, caller frees; NULL when none). Items are borrowed. */
block_waiter *block_cache_install(const char *bare, char *const *items, size_t n,
                                  size_t *nwaiters);

/* Whether b blocks addr. */
bool block_cache_blocks(block_list *b, const jid *addr);
/* Whether the online account bare blocks addr (false when bare has no
 * loaded list, i.e. is not online). */
bool block_cache_bare_blocks(const char *bare, const jid *addr);
/* False while no account has a non-empty list (lock-free). */
bool block_cache_any(void);

/* A copy of b's items, sorted (free each and the array). */
char **block_cache_items(block_list *b, size_t *n);
/* Adds the prepared JIDs unless b would then hold more than max items
 * (plucs/quota/blocklist; 0: no limit): then nothing is added and NULL is
 * returned. The check and the addition are one step, so two sessions of
 * the account cannot both pass the limit. Returns the items that were not
 * blocked before (malloc'ed array of malloc'ed strings, *nadded of them). */
char **block_cache_add(block_list *b, char *const *items, size_t n, size_t max, size_t *nadded);
/* Removes the listed items (n == 0: all); returns the ones that were there. */
char **block_cache_remove(block_list *b, char *const *items, size_t n, size_t *nremoved);
/* How many items b would hold after adding these. */
size_t block_cache_count_after_add(block_list *b, char *const *items, size_t n);
void block_cache_strv_free(char **v, size_t n);

/* Frees whatever is left (at shutdown, after the workers stopped). */
void block_cache_shutdown(void);

/* ---- the link with privacy lists (XEP-0191 §4; mod_privacy.c) ---- */

/* Told after a XEP-0191 change of s's account: block (the JIDs newly
 * blocked) or unblock (the JIDs asked for; n == 0: all). */
struct session;
typedef void (*blocking_observer)(struct session *s, bool block, char *const *items, size_t n);
/* From a module's init (one observer). */
void blocking_set_observer(blocking_observer fn);
/* Makes the blocklist of s's account the n sorted, distinct prepared JIDs
 * of want: blocks and unblocks the difference as a XEP-0191 request would
 * (store, blocklist pushes, presence), without telling the observer. No
 * limit applies (the privacy list's own limit bounds it). */
void blocking_sync(struct session *s, char *const *want, size_t n);

#endif
