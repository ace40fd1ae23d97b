/* account_table.h: the process-wide table of online accounts that the
 * XEP-0191 blocklist cache (block_cache.c) and the XEP-0016 privacy list
 * cache (privacy_cache.c) share: a chained hash table keyed by bare JID,
 * grown by doubling; each entry is reference-counted by the account's
 * sessions, created empty and not loaded, and remembers the sessions that
 * wait for it to be loaded from the store.
 *
 * A cache embeds account_entry first in its own entry struct and declares
 * one table with ACCOUNT_TABLE(its struct, its clear function). The table's
 * mutex guards the table and every entry's payload: the cache takes it for
 * its own operations.
 *
 * account_flow.c holds what mod_blocking.c and mod_privacy.c share around
 * it: resuming the sessions that waited for the load, posting stanzas
 * straight to the account's sessions, the addresses never blocked. */
#ifndef PLUCS_ACCOUNT_TABLE_H
#define PLUCS_ACCOUNT_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xmpp/jid.h"

typedef struct account_waiter {
    int worker;
    uint64_t sid;
} account_waiter;

typedef struct account_entry {
    struct account_entry *next;   /* hash chain */
    char *bare;
    int refs;
    bool loaded;
    account_waiter *waiters;
    size_t nwaiters;
} account_entry;

typedef struct account_table {
    pthread_mutex_t lock;
    account_entry **buckets;
    size_t nbuckets, count;
    size_t size;                          /* of the cache's entry struct */
    void (*clear)(account_entry *e);      /* frees the payload (not e), under the lock */
} account_table;

#define ACCOUNT_TABLE(type, clear_fn) \
    { .lock = PTHREAD_MUTEX_INITIALIZER, .size = sizeof(type), .clear = (clear_fn) }

/* One more reference to bare's entry, created zeroed and not loaded when
 * nobody held it; *created tells the caller to load it from the store. */
account_entry *account_table_acquire(account_table *t, const char *bare, bool *created);
/* Drops a reference (NULL is fine); the last one frees the entry. */
void account_table_release(account_table *t, account_entry *e);
/* When e is not loaded yet, remembers (worker, sid) and returns true. */
bool account_table_wait(account_table *t, account_entry *e, int worker, uint64_t sid);
bool account_table_loaded(account_table *t, account_entry *e);
/* Under t->lock: bare's entry or NULL. */
account_entry *account_table_find(account_table *t, const char *bare);
/* Under t->lock: marks e loaded and hands over its waiters (malloc'ed, *n
 * of them; NULL when none). */
account_waiter *account_table_set_loaded(account_entry *e, size_t *n);
/* Frees every entry (at shutdown, after the workers stopped). */
void account_table_shutdown(account_table *t);

struct session;
struct xnode;
/* Writes st (taken) straight to the session sid on worker wid (no hooks),
 * 'to' set to the session's full JID; nothing when the session is gone or
 * closing, or when want (NULL: every session) says no. */
void account_post(int wid, uint64_t sid, struct xnode *st, bool (*want)(struct session *s));
/* A copy of st, as account_post, to every resource of bare
 * (only_available: those that sent presence); returns how many were
 * posted (a session may still end before its copy arrives). */
size_t account_send_all(const char *bare, const struct xnode *st, bool only_available,
                        bool (*want)(struct session *s));
/* A copy of st to every resource of bare, 'to' set as account_post, but
 * delivered as a routed stanza is (router_deliver_session: the EV_INBOUND
 * hooks, e.g. client state indication, push, run first); the count as
 * account_send_all. */
size_t account_deliver_all(const char *bare, const struct xnode *st);

/* Resumes each waiting session on its worker (paused by the bound hook
 * while the entry was loading) and frees w. */
void account_table_resume(account_waiter *w, size_t n);

/* Never blocked by a blocklist or privacy list: the user's own JIDs and a
 * served domain itself, so a user cannot lock themselves out. */
bool account_exempt(const char *own_bare, const jid *addr);

#endif
