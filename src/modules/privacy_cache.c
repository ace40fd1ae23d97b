/* privacy_cache.c: the process-wide table of online accounts' privacy
 * lists (see privacy.h). A chained hash table keyed by bare JID, grown by
 * doubling, one mutex for the table and every entry (as block_cache.c).
 * Lists are immutable and reference-counted: an edit swaps the pointer, a
 * stanza path holds its own reference while it matches, outside the lock.
 * Each entry also knows the account's bound sessions and their active list
 * names, which the conflict rules of XEP-0016 §2.5/§2.6/§2.8 need. */
#include "modules/privacy.h"
#include "core/alloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct psess {
    uint64_t sid;
    char *resource;
    char *active;        /* NULL: none, the default applies */
} psess;

struct privacy_acct {
    privacy_acct *next;
    char *bare;
    int refs;
    bool loaded;
    privacy_list **lists;
    size_t n, cap;
    char *dflt;
    psess *sess;
    size_t nsess;
    privacy_waiter *waiters;
    size_t nwaiters;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static privacy_acct **buckets;
static size_t nbuckets, count;
static atomic_size_t nonempty;   /* loaded entries with at least one list */
static atomic_size_t nlists;     /* lists in memory, for plucs status and /metrics */

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void grow(void)
{
    size_t nb = nbuckets ? nbuckets * 2 : 64;
    privacy_acct **t = xcalloc(nb, sizeof *t);
    for (size_t i = 0; i < nbuckets; i++) {
        privacy_acct *a = buckets[i];
        while (a) {
            privacy_acct *next = a->next;
            size_t k = hash(a->bare) & (nb - 1);
            a->next = t[k];
            t[k] = a;
            a = next;
        }
    }
    free(buckets);
    buckets = t;
    nbuckets = nb;
}

static privacy_acct *find(const char *bare)
{
    if (!nbuckets)
        return NULL;
    for (privacy_acct *a = buckets[hash(bare) & (nbuckets - 1)]; a; a = a->next)
        if (!strcmp(a->bare, bare))
            return a;
    return NULL;
}

static bool eq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

/* Under the lock: keeps `nonempty` right around a change of a->n. */
static void set_n(privacy_acct *a, size_t n)
{
    if (n > a->n)
        atomic_fetch_add(&nlists, n - a->n);
    else
        atomic_fetch_sub(&nlists, a->n - n);
    if (a->n == 0 && n > 0)
        atomic_fetch_add(&nonempty, 1);
    else if (a->n > 0 && n == 0)
        atomic_fetch_sub(&nonempty, 1);
    a->n = n;
}

static void acct_free(privacy_acct *a)
{
    for (size_t i = 0; i < a->n; i++)
        privacy_list_unref(a->lists[i]);
    set_n(a, 0);
    free(a->lists);
    for (size_t i = 0; i < a->nsess; i++) {
        free(a->sess[i].resource);
        free(a->sess[i].active);
    }
    free(a->sess);
    free(a->waiters);
    free(a->dflt);
    free(a->bare);
    free(a);
}

static int list_index(const privacy_acct *a, const char *name)
{
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->lists[i]->name, name))
            return (int)i;
    return -1;
}

static psess *sess_of(privacy_acct *a, uint64_t sid)
{
    for (size_t i = 0; i < a->nsess; i++)
        if (a->sess[i].sid == sid)
            return &a->sess[i];
    return NULL;
}

/* Whether a session other than sid applies the default (has no active). */
static bool default_used_by_other(const privacy_acct *a, uint64_t sid)
{
    if (!a->dflt)
        return false;
    for (size_t i = 0; i < a->nsess; i++)
        if (a->sess[i].sid != sid && !a->sess[i].active)
            return true;
    return false;
}

privacy_acct *pcache_acquire(const char *bare, bool *created)
{
    pthread_mutex_lock(&lock);
    privacy_acct *a = find(bare);
    *created = !a;
    if (!a) {
        if (count + 1 > nbuckets)
            grow();
        a = xcalloc(1, sizeof *a);
        a->bare = xstrdup(bare);
        size_t k = hash(bare) & (nbuckets - 1);
        a->next = buckets[k];
        buckets[k] = a;
        count++;
    }
    a->refs++;
    pthread_mutex_unlock(&lock);
    return a;
}

void pcache_release(privacy_acct *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&lock);
    if (--a->refs == 0) {
        privacy_acct **pp = &buckets[hash(a->bare) & (nbuckets - 1)];
        while (*pp != a)
            pp = &(*pp)->next;
        *pp = a->next;
        count--;
        acct_free(a);
    }
    pthread_mutex_unlock(&lock);
}

bool pcache_wait(privacy_acct *a, int worker, uint64_t sid)
{
    pthread_mutex_lock(&lock);
    bool wait = !a->loaded;
    if (wait) {
        a->waiters = xrealloc(a->waiters, (a->nwaiters + 1) * sizeof *a->waiters);
        a->waiters[a->nwaiters].worker = worker;
        a->waiters[a->nwaiters].sid = sid;
        a->nwaiters++;
    }
    pthread_mutex_unlock(&lock);
    return wait;
}

bool pcache_loaded(privacy_acct *a)
{
    pthread_mutex_lock(&lock);
    bool l = a->loaded;
    pthread_mutex_unlock(&lock);
    return l;
}

privacy_waiter *pcache_install(const char *bare, privacy_list **lists, size_t n,
                               const char *dflt, size_t *nw)
{
    privacy_waiter *w = NULL;
    *nw = 0;
    pthread_mutex_lock(&lock);
    privacy_acct *a = find(bare);
    if (a && !a->loaded) {
        a->lists = xcalloc(n ? n : 1, sizeof *a->lists);
        a->cap = n ? n : 1;
        for (size_t i = 0; i < n; i++)
            a->lists[i] = lists[i];
        set_n(a, n);
        n = 0;
        a->dflt = dflt && list_index(a, dflt) >= 0 ? xstrdup(dflt) : NULL;
        a->loaded = true;
        w = a->waiters;
        *nw = a->nwaiters;
        a->waiters = NULL;
        a->nwaiters = 0;
    }
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; i < n; i++)
        privacy_list_unref(lists[i]);
    return w;
}

size_t pcache_lists(void) { return atomic_load(&nlists); }

bool pcache_any(void) { return atomic_load_explicit(&nonempty, memory_order_relaxed) > 0; }

void pcache_session_add(privacy_acct *a, uint64_t sid, const char *resource)
{
    pthread_mutex_lock(&lock);
    a->sess = xrealloc(a->sess, (a->nsess + 1) * sizeof *a->sess);
    a->sess[a->nsess].sid = sid;
    a->sess[a->nsess].resource = xstrdup(resource ? resource : "");
    a->sess[a->nsess].active = NULL;
    a->nsess++;
    pthread_mutex_unlock(&lock);
}

void pcache_session_del(privacy_acct *a, uint64_t sid)
{
    pthread_mutex_lock(&lock);
    psess *p = sess_of(a, sid);
    if (p) {
        free(p->resource);
        free(p->active);
        *p = a->sess[--a->nsess];
    }
    pthread_mutex_unlock(&lock);
}

/* Under the lock. */
static privacy_list *effective(privacy_acct *a, const psess *p)
{
    const char *name = p && p->active ? p->active : a->dflt;
    int k = name ? list_index(a, name) : -1;
    return k >= 0 ? privacy_list_ref(a->lists[k]) : NULL;
}

privacy_list *pcache_effective(privacy_acct *a, uint64_t sid)
{
    if (!a || !pcache_any())
        return NULL;
    pthread_mutex_lock(&lock);
    privacy_list *l = a->n ? effective(a, sess_of(a, sid)) : NULL;
    pthread_mutex_unlock(&lock);
    return l;
}

privacy_list *pcache_effective_bare(const char *bare, const char *resource)
{
    if (!pcache_any())
        return NULL;
    pthread_mutex_lock(&lock);
    privacy_acct *a = find(bare);
    privacy_list *l = NULL;
    if (a && a->loaded && a->n) {
        const psess *p = NULL;
        for (size_t i = a->nsess; i-- > 0 && !p;)     /* the newest of that resource */
            if (eq(a->sess[i].resource, resource))
                p = &a->sess[i];
        l = effective(a, p);
    }
    pthread_mutex_unlock(&lock);
    return l;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

void pcache_names(privacy_acct *a, uint64_t sid, privacy_names *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&lock);
    psess *p = sess_of(a, sid);
    if (p && p->active)
        out->active = xstrdup(p->active);
    if (a->dflt)
        out->dflt = xstrdup(a->dflt);
    out->names = xcalloc(a->n ? a->n : 1, sizeof *out->names);
    for (size_t i = 0; i < a->n; i++)
        out->names[i] = xstrdup(a->lists[i]->name);
    out->n = a->n;
    pthread_mutex_unlock(&lock);
    qsort(out->names, out->n, sizeof *out->names, cmp_str);
}

void pcache_names_free(privacy_names *p)
{
    free(p->active);
    free(p->dflt);
    for (size_t i = 0; i < p->n; i++)
        free(p->names[i]);
    free(p->names);
    memset(p, 0, sizeof *p);
}

privacy_list *pcache_get(privacy_acct *a, const char *name)
{
    pthread_mutex_lock(&lock);
    int k = list_index(a, name);
    privacy_list *l = k >= 0 ? privacy_list_ref(a->lists[k]) : NULL;
    pthread_mutex_unlock(&lock);
    return l;
}

privacy_list *pcache_default(privacy_acct *a)
{
    pthread_mutex_lock(&lock);
    int k = a->dflt ? list_index(a, a->dflt) : -1;
    privacy_list *l = k >= 0 ? privacy_list_ref(a->lists[k]) : NULL;
    pthread_mutex_unlock(&lock);
    return l;
}

char *pcache_default_name(privacy_acct *a)
{
    pthread_mutex_lock(&lock);
    char *d = a->dflt ? xstrdup(a->dflt) : NULL;
    pthread_mutex_unlock(&lock);
    return d;
}

/* Under the lock: replaces or appends; no limit. */
static void put(privacy_acct *a, privacy_list *l)
{
    int k = list_index(a, l->name);
    if (k >= 0) {
        privacy_list_unref(a->lists[k]);
        a->lists[k] = l;
        return;
    }
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 4;
        a->lists = xrealloc(a->lists, a->cap * sizeof *a->lists);
    }
    a->lists[a->n] = l;
    set_n(a, a->n + 1);
}

pcache_res pcache_put(privacy_acct *a, privacy_list *l, size_t max_lists)
{
    pthread_mutex_lock(&lock);
    if (list_index(a, l->name) < 0 && max_lists && a->n >= max_lists) {
        pthread_mutex_unlock(&lock);
        privacy_list_unref(l);
        return PC_TOO_MANY;
    }
    put(a, l);
    pthread_mutex_unlock(&lock);
    return PC_OK;
}

pcache_res pcache_remove(privacy_acct *a, const char *name, uint64_t sid, bool *was_default)
{
    *was_default = false;
    pcache_res r = PC_OK;
    pthread_mutex_lock(&lock);
    int k = list_index(a, name);
    if (k < 0) {
        r = PC_NOT_FOUND;
        goto out;
    }
    for (size_t i = 0; i < a->nsess; i++)
        if (a->sess[i].sid != sid && eq(a->sess[i].active, name)) {
            r = PC_CONFLICT;
            goto out;
        }
    if (eq(a->dflt, name) && default_used_by_other(a, sid)) {
        r = PC_CONFLICT;
        goto out;
    }
    privacy_list_unref(a->lists[k]);
    a->lists[k] = a->lists[a->n - 1];
    set_n(a, a->n - 1);
    psess *p = sess_of(a, sid);
    if (p && eq(p->active, name)) {
        free(p->active);
        p->active = NULL;
    }
    if (eq(a->dflt, name)) {
        free(a->dflt);
        a->dflt = NULL;
        *was_default = true;
    }
out:
    pthread_mutex_unlock(&lock);
    return r;
}

pcache_res pcache_set_active(privacy_acct *a, uint64_t sid, const char *name)
{
    pthread_mutex_lock(&lock);
    pcache_res r = PC_OK;
    psess *p = sess_of(a, sid);
    if (name && list_index(a, name) < 0)
        r = PC_NOT_FOUND;
    else if (p) {
        free(p->active);
        p->active = name ? xstrdup(name) : NULL;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

pcache_res pcache_set_default(privacy_acct *a, uint64_t sid, const char *name)
{
    pthread_mutex_lock(&lock);
    pcache_res r = PC_OK;
    if (name && list_index(a, name) < 0)
        r = PC_NOT_FOUND;
    else if ((name ? !eq(a->dflt, name) : a->dflt != NULL) && default_used_by_other(a, sid))
        r = PC_CONFLICT;
    else {
        free(a->dflt);
        a->dflt = name ? xstrdup(name) : NULL;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

privacy_eff *pcache_effective_all(privacy_acct *a, size_t *n)
{
    pthread_mutex_lock(&lock);
    privacy_eff *v = xcalloc(a->nsess ? a->nsess : 1, sizeof *v);
    for (size_t i = 0; i < a->nsess; i++) {
        v[i].sid = a->sess[i].sid;
        v[i].resource = xstrdup(a->sess[i].resource);
        v[i].l = effective(a, &a->sess[i]);
    }
    *n = a->nsess;
    pthread_mutex_unlock(&lock);
    return v;
}

void privacy_eff_free(privacy_eff *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].resource);
        privacy_list_unref(v[i].l);
    }
    free(v);
}

void pcache_force_default(privacy_acct *a, privacy_list *l)
{
    pthread_mutex_lock(&lock);
    put(a, privacy_list_ref(l));
    if (!eq(a->dflt, l->name)) {
        free(a->dflt);
        a->dflt = xstrdup(l->name);
    }
    pthread_mutex_unlock(&lock);
}

void pcache_shutdown(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nbuckets; i++) {
        while (buckets[i]) {
            privacy_acct *a = buckets[i];
            buckets[i] = a->next;
            acct_free(a);
        }
    }
    free(buckets);
    buckets = NULL;
    nbuckets = count = 0;
    pthread_mutex_unlock(&lock);
}
