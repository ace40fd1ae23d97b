/* routes.c: the sharded bare-JID -> resources table, see routes.h. Each
 * shard is a chained hash table of accounts; an account holds a small array
 * of resources (a user rarely has more than a handful). */
#include "router/routes.h"
#include "core/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NSHARDS 64
#define NBUCKETS 1024        /* per shard; grows are not needed at 10^5 users */

typedef struct res {
    char *resource;
    route_ref ref;
    xnode *presence;     /* last broadcast available presence, or NULL */
    uint64_t bound;      /* bind order: the smallest is the oldest session */
} res;

typedef struct account {
    struct account *next;
    char *bare;
    res *res;
    size_t n, cap;
} account;

typedef struct shard {
    pthread_mutex_t lock;
    account *buckets[NBUCKETS];
} shard;

static shard *shards;
static atomic_uint_fast64_t seq_counter;
static atomic_uint_fast64_t bind_counter;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

void routes_init(void)
{
    shards = xcalloc(NSHARDS, sizeof *shards);
    for (int i = 0; i < NSHARDS; i++)
        pthread_mutex_init(&shards[i].lock, NULL);
}

static void account_free(account *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->res[i].resource);
        xnode_free(a->res[i].presence);
    }
    free(a->res);
    free(a->bare);
    free(a);
}

void routes_shutdown(void)
{
    if (!shards)
        return;
    for (int i = 0; i < NSHARDS; i++) {
        for (int b = 0; b < NBUCKETS; b++) {
            account *a = shards[i].buckets[b];
            while (a) {
                account *next = a->next;
                account_free(a);
                a = next;
            }
        }
        pthread_mutex_destroy(&shards[i].lock);
    }
    free(shards);
    shards = NULL;
}

/* Locks the shard of bare and returns the bucket head pointer. */
static account **locate(const char *bare, shard **sh)
{
    uint64_t h = hash_str(bare);
    *sh = &shards[h % NSHARDS];
    pthread_mutex_lock(&(*sh)->lock);
    account **pp = &(*sh)->buckets[(h / NSHARDS) % NBUCKETS];
    while (*pp && strcmp((*pp)->bare, bare))
        pp = &(*pp)->next;
    return pp;
}

bool routes_add(const char *bare, const char *resource, uint64_t sid, int worker,
                route_ref *replaced)
{
    return routes_add_limited(bare, resource, sid, worker, 0, replaced, NULL, NULL);
}

/* Index of a's oldest resource. */
static size_t oldest(const account *a)
{
    size_t k = 0;
    for (size_t i = 1; i < a->n; i++)
        if (a->res[i].bound < a->res[k].bound)
            k = i;
    return k;
}

bool routes_add_limited(const char *bare, const char *resource, uint64_t sid, int worker,
                        size_t max, route_ref *replaced, route_ref *evicted, size_t *nevicted)
{
    if (max == 0 || max > ROUTES_MAX_RESOURCES)
        max = ROUTES_MAX_RESOURCES;
    if (nevicted)
        *nevicted = 0;
    shard *sh;
    account **pp = locate(bare, &sh);
    account *a = *pp;
    if (!a) {
        a = xcalloc(1, sizeof *a);
        a->bare = xstrdup(bare);
        *pp = a;
    }
    route_ref ref = { .sid = sid, .worker = worker, .priority = 0, .available = false,
                      .seq = atomic_fetch_add(&seq_counter, 1) };
    uint64_t bound = atomic_fetch_add(&bind_counter, 1);
    for (size_t i = 0; i < a->n; i++) {
        if (!strcmp(a->res[i].resource, resource)) {
            if (replaced)
                *replaced = a->res[i].ref;
            a->res[i].ref = ref;
            a->res[i].bound = bound;
            xnode_free(a->res[i].presence);
            a->res[i].presence = NULL;
            pthread_mutex_unlock(&sh->lock);
            return true;
        }
    }
    /* A new resource: make room by ending the oldest (max - 1 stay). */
    while (a->n >= max) {
        size_t k = oldest(a);
        if (evicted && nevicted && *nevicted < ROUTES_MAX_RESOURCES)
            evicted[(*nevicted)++] = a->res[k].ref;
        free(a->res[k].resource);
        xnode_free(a->res[k].presence);
        a->res[k] = a->res[--a->n];
    }
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 2;
        a->res = xrealloc(a->res, a->cap * sizeof *a->res);
    }
    a->res[a->n].resource = xstrdup(resource);
    a->res[a->n].ref = ref;
    a->res[a->n].presence = NULL;
    a->res[a->n].bound = bound;
    a->n++;
    pthread_mutex_unlock(&sh->lock);
    return false;
}

void routes_remove(const char *bare, const char *resource, uint64_t sid)
{
    shard *sh;
    account **pp = locate(bare, &sh);
    account *a = *pp;
    if (a) {
        for (size_t i = 0; i < a->n; i++) {
            if (a->res[i].ref.sid == sid && !strcmp(a->res[i].resource, resource)) {
                free(a->res[i].resource);
                xnode_free(a->res[i].presence);
                a->res[i] = a->res[--a->n];
                break;
            }
        }
        if (a->n == 0) {
            *pp = a->next;
            account_free(a);
        }
    }
    pthread_mutex_unlock(&sh->lock);
}

void routes_set_presence(const char *bare, uint64_t sid, bool available, int priority,
                         const xnode *presence)
{
    xnode *copy = presence && available ? xnode_copy(presence) : NULL;
    xnode *old = NULL;
    shard *sh;
    account **pp = locate(bare, &sh);
    account *a = *pp;
    for (size_t i = 0; a && i < a->n; i++) {
        if (a->res[i].ref.sid == sid) {
            a->res[i].ref.available = available;
            a->res[i].ref.priority = priority;
            a->res[i].ref.seq = atomic_fetch_add(&seq_counter, 1);
            old = a->res[i].presence;
            a->res[i].presence = copy;
            copy = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    xnode_free(old);
    xnode_free(copy);
}

void routes_set_interested(const char *bare, uint64_t sid)
{
    shard *sh;
    account **pp = locate(bare, &sh);
    for (size_t i = 0; *pp && i < (*pp)->n; i++)
        if ((*pp)->res[i].ref.sid == sid)
            (*pp)->res[i].ref.interested = true;
    pthread_mutex_unlock(&sh->lock);
}

void routes_set_carbons(const char *bare, uint64_t sid, bool on)
{
    shard *sh;
    account **pp = locate(bare, &sh);
    for (size_t i = 0; *pp && i < (*pp)->n; i++)
        if ((*pp)->res[i].ref.sid == sid)
            (*pp)->res[i].ref.carbons = on;
    pthread_mutex_unlock(&sh->lock);
}

void routes_set_detached(const char *bare, uint64_t sid, bool on)
{
    shard *sh;
    account **pp = locate(bare, &sh);
    for (size_t i = 0; *pp && i < (*pp)->n; i++)
        if ((*pp)->res[i].ref.sid == sid)
            (*pp)->res[i].ref.detached = on;
    pthread_mutex_unlock(&sh->lock);
}

size_t routes_presences(const char *bare, xnode **out, size_t max)
{
    shard *sh;
    account **pp = locate(bare, &sh);
    size_t n = 0;
    for (size_t i = 0; *pp && i < (*pp)->n && n < max; i++)
        if ((*pp)->res[i].ref.available && (*pp)->res[i].presence)
            out[n++] = xnode_copy((*pp)->res[i].presence);
    pthread_mutex_unlock(&sh->lock);
    return n;
}

size_t routes_lookup(const char *bare, route_ref *out, size_t max)
{
    shard *sh;
    account **pp = locate(bare, &sh);
    size_t n = 0;
    for (account *a = *pp; a && n < a->n && n < max; n++)
        out[n] = a->res[n].ref;
    pthread_mutex_unlock(&sh->lock);
    return n;
}

bool routes_find(const char *bare, const char *resource, route_ref *out)
{
    shard *sh;
    account **pp = locate(bare, &sh);
    bool found = false;
    for (size_t i = 0; *pp && i < (*pp)->n; i++) {
        if (!strcmp((*pp)->res[i].resource, resource)) {
            *out = (*pp)->res[i].ref;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    return found;
}

size_t routes_count(const char *bare)
{
    shard *sh;
    account **pp = locate(bare, &sh);
    size_t n = *pp ? (*pp)->n : 0;
    pthread_mutex_unlock(&sh->lock);
    return n;
}

size_t routes_pick_top(const route_ref *refs, size_t n, size_t *out)
{
    int top = -1;
    for (size_t i = 0; i < n; i++)
        if (refs[i].available && refs[i].priority > top)
            top = refs[i].priority;
    size_t k = 0;
    for (size_t i = 0; top >= 0 && i < n; i++)
        if (refs[i].available && refs[i].priority == top)
            out[k++] = i;
    return k;
}
