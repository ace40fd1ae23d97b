/* account_table.c: the refcounted per-account table shared by the
 * blocklist and privacy list caches (see account_table.h). */
#include "modules/account_table.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void grow(account_table *t)
{
    size_t nb = t->nbuckets ? t->nbuckets * 2 : 64;
    account_entry **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < t->nbuckets; i++) {
        account_entry *e = t->buckets[i];
        while (e) {
            account_entry *next = e->next;
            size_t k = hash(e->bare) & (nb - 1);
            e->next = b[k];
            b[k] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

account_entry *account_table_find(account_table *t, const char *bare)
{
    if (!t->nbuckets)
        return NULL;
    for (account_entry *e = t->buckets[hash(bare) & (t->nbuckets - 1)]; e; e = e->next)
        if (!strcmp(e->bare, bare))
            return e;
    return NULL;
}

static void entry_free(account_table *t, account_entry *e)
{
    t->clear(e);
    free(e->waiters);
    free(e->bare);
    free(e);
}

account_entry *account_table_acquire(account_table *t, const char *bare, bool *created)
{
    pthread_mutex_lock(&t->lock);
    account_entry *e = account_table_find(t, bare);
    *created = !e;
    if (!e) {
        if (t->count + 1 > t->nbuckets)
            grow(t);
        e = xcalloc(1, t->size);
        e->bare = xstrdup(bare);
        size_t k = hash(bare) & (t->nbuckets - 1);
        e->next = t->buckets[k];
        t->buckets[k] = e;
        t->count++;
    }
    e->refs++;
    pthread_mutex_unlock(&t->lock);
    return e;
}

void account_table_release(account_table *t, account_entry *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&t->lock);
    if (--e->refs == 0) {
        account_entry **pp = &t->buckets[hash(e->bare) & (t->nbuckets - 1)];
        while (*pp != e)
            pp = &(*pp)->next;
        *pp = e->next;
        t->count--;
        entry_free(t, e);
    }
    pthread_mutex_unlock(&t->lock);
}

bool account_table_wait(account_table *t, account_entry *e, int worker, uint64_t sid)
{
    pthread_mutex_lock(&t->lock);
    bool wait = !e->loaded;
    if (wait) {
        e->waiters = xrealloc(e->waiters, (e->nwaiters + 1) * sizeof *e->waiters);
        e->waiters[e->nwaiters].worker = worker;
        e->waiters[e->nwaiters].sid = sid;
        e->nwaiters++;
    }
    pthread_mutex_unlock(&t->lock);
    return wait;
}

bool account_table_loaded(account_table *t, account_entry *e)
{
    pthread_mutex_lock(&t->lock);
    bool l = e->loaded;
    pthread_mutex_unlock(&t->lock);
    return l;
}

account_waiter *account_table_set_loaded(account_entry *e, size_t *n)
{
    account_waiter *w = e->waiters;
    *n = e->nwaiters;
    e->loaded = true;
    e->waiters = NULL;
    e->nwaiters = 0;
    return w;
}

void account_table_shutdown(account_table *t)
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->nbuckets; i++) {
        while (t->buckets[i]) {
            account_entry *e = t->buckets[i];
            t->buckets[i] = e->next;
            entry_free(t, e);
        }
    }
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = t->count = 0;
    pthread_mutex_unlock(&t->lock);
}
