/* routes.h: the process-wide table of bound resources, keyed by bare JID.
 * It answers "where are alice@a.test's resources" for any worker: each entry
 * names the worker and session id, plus what routing needs (priority,
 * availability). Sharded by hash with one mutex per shard; lookups copy the
 * few entries out so no lock is held while delivering. */
#ifndef PLUCS_ROUTES_H
#define PLUCS_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xml/xml.h"

typedef struct route_ref {
    uint64_t sid;
    int worker;
    int priority;
    bool available;
    uint64_t seq;       /* increases with every presence change */
    bool interested;    /* requested the roster (RFC 6121 §2.1.6 pushes) */
    bool carbons;       /* enabled message carbons (XEP-0280) */
    bool detached;      /* stream management: connection lost, resumable (XEP-0198) */
} route_ref;

#define ROUTES_MAX_RESOURCES 64

/* Adds bare/resource -> (sid, worker). When that full JID was taken, the old
 * entry is replaced and returned in *replaced (true is returned). */
bool routes_add(const char *bare, const char *resource, uint64_t sid, int worker,
                route_ref *replaced);
/* The same, keeping at most max resources per user (0 or more than
 * ROUTES_MAX_RESOURCES: ROUTES_MAX_RESOURCES, the most a lookup returns).
 * A new resource beyond it removes the user's oldest entries (by bind
 * order) until max remain with the new one, and copies them to evicted
 * (room for ROUTES_MAX_RESOURCES; *nevicted of them): the caller ends those
 * sessions. Replacing a taken full JID never evicts. */
bool routes_add_limited(const char *bare, const char *resource, uint64_t sid, int worker,
                        size_t max, route_ref *replaced, route_ref *evicted, size_t *nevicted);
/* Removes the entry of sid (no-op when it was replaced meanwhile). */
void routes_remove(const char *bare, const char *resource, uint64_t sid);
/* Records the resource's availability, priority and its last broadcast
 * presence (copied; NULL clears it) so that others can answer probes. */
void routes_set_presence(const char *bare, uint64_t sid, bool available, int priority,
                         const xnode *presence);
void routes_set_interested(const char *bare, uint64_t sid);
/* Per-resource flags other workers route by: carbons enabled, detached. */
void routes_set_carbons(const char *bare, uint64_t sid, bool on);
void routes_set_detached(const char *bare, uint64_t sid, bool on);
/* Copies of the last presence of every available resource of bare (caller
 * frees each); returns the count. */
size_t routes_presences(const char *bare, xnode **out, size_t max);
/* Copies up to max entries of bare into out; returns the count. */
size_t routes_lookup(const char *bare, route_ref *out, size_t max);
/* The entry for bare/resource; false when none. */
bool routes_find(const char *bare, const char *resource, route_ref *out);
/* Number of resources bound for bare (does the user resource limit). */
size_t routes_count(const char *bare);

/* RFC 6121 §8.5.2.1.1: the resources a chat/normal message to the bare JID
 * goes to: every available one with the highest non-negative priority (as
 * ejabberd and Prosody do, so a desktop and a phone at equal priority both
 * see it). Writes their indexes into out (room for n) and returns how
 * many; 0 when there is none. Pure. */
size_t routes_pick_top(const route_ref *refs, size_t n, size_t *out);

void routes_init(void);
void routes_shutdown(void);

#endif
