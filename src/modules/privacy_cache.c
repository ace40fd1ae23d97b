/* privacy_cache.c: the process-wide table of online accounts' privacy
 * lists (see privacy.h), an account_table (account_table.h, as
 * block_cache.c): its one mutex guards the table and every entry.
 * Lists are immutable and reference-counted: an edit swaps the pointer, a
 * stanza path holds its own reference while it matches, outside the lock.
 * Each entry also knows the account's bound sessions and their active list
 * names, which the conflict rules of XEP-0016 §2.5/§2.6/§2.8 need. */
#include "modules/privacy.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct psess {
    uint64_t sid;
    char *resource;
    char *active;        /* NULL: none, the default applies */
} psess;

struct privacy_acct {
    account_entry e;     /* first: the table's part */
    privacy_list **lists;
    size_t n, cap;
    char *dflt;
    psess *sess;
    size_t nsess;
};

static void acct_free(account_entry *e);

static account_table table = ACCOUNT_TABLE(privacy_acct, acct_free);
static atomic_size_t nonempty;   /* loaded entries with at least one list */
static atomic_size_t nlists;     /* lists in memory, for plucs status and /metrics */

static privacy_acct *find(const char *bare)
{
    return (privacy_acct *)account_table_find(&table, bare);
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

static void acct_free(account_entry *e)
{
    privacy_acct *a = (privacy_acct *)e;
    for (size_t i = 0; i < a->n; i++)
        privacy_list_unref(a->lists[i]);
    set_n(a, 0);
    free(a->lists);
    for (size_t i = 0; i < a->nsess; i++) {
        free(a->sess[i].resource);
        free(a->sess[i].active);
    }
    free(a->sess);
    free(a->dflt);
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
    return (privacy_acct *)account_table_acquire(&table, bare, created);
}

void pcache_release(privacy_acct *a) { account_table_release(&table, a ? &a->e : NULL); }

bool pcache_wait(privacy_acct *a, int wid, uint64_t sid)
{
    return account_table_wait(&table, &a->e, wid, sid);
}

bool pcache_loaded(privacy_acct *a) { return account_table_loaded(&table, &a->e); }

privacy_waiter *pcache_install(const char *bare, privacy_list **lists, size_t n,
                               const char *dflt, size_t *nw)
{
    privacy_waiter *w = NULL;
    *nw = 0;
    pthread_mutex_lock(&table.lock);
    privacy_acct *a = find(bare);
    if (a && !a->e.loaded) {
        a->lists = xcalloc(n ? n : 1, sizeof *a->lists);
        a->cap = n ? n : 1;
        for (size_t i = 0; i < n; i++)
            a->lists[i] = lists[i];
        set_n(a, n);
        n = 0;
        a->dflt = dflt && list_index(a, dflt) >= 0 ? xstrdup(dflt) : NULL;
        w = account_table_set_loaded(&a->e, nw);
    }
    pthread_mutex_unlock(&table.lock);
    for (size_t i = 0; i < n; i++)
        privacy_list_unref(lists[i]);
    return w;
}

size_t pcache_lists(void) { return atomic_load(&nlists); }

bool pcache_any(void) { return atomic_load_explicit(&nonempty, memory_order_relaxed) > 0; }

void pcache_session_add(privacy_acct *a, uint64_t sid, const char *resource)
{
    pthread_mutex_lock(&table.lock);
    a->sess = xrealloc(a->sess, (a->nsess + 1) * sizeof *a->sess);
    a->sess[a->nsess].sid = sid;
    a->sess[a->nsess].resource = xstrdup(resource ? resource : "");
    a->sess[a->nsess].active = NULL;
    a->nsess++;
    pthread_mutex_unlock(&table.lock);
}

void pcache_session_del(privacy_acct *a, uint64_t sid)
{
    pthread_mutex_lock(&table.lock);
    psess *p = sess_of(a, sid);
    if (p) {
        free(p->resource);
        free(p->active);
        *p = a->sess[--a->nsess];
    }
    pthread_mutex_unlock(&table.lock);
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
    pthread_mutex_lock(&table.lock);
    privacy_list *l = a->n ? effective(a, sess_of(a, sid)) : NULL;
    pthread_mutex_unlock(&table.lock);
    return l;
}

privacy_list *pcache_effective_bare(const char *bare, const char *resource)
{
    if (!pcache_any())
        return NULL;
    pthread_mutex_lock(&table.lock);
    privacy_acct *a = find(bare);
    privacy_list *l = NULL;
    if (a && a->e.loaded && a->n) {
        const psess *p = NULL;
        for (size_t i = a->nsess; i-- > 0 && !p;)     /* the newest of that resource */
            if (eq(a->sess[i].resource, resource))
                p = &a->sess[i];
        l = effective(a, p);
    }
    pthread_mutex_unlock(&table.lock);
    return l;
}

privacy_list *pcache_default_bare(const char *bare, bool *loaded)
{
    pthread_mutex_lock(&table.lock);
    privacy_acct *a = find(bare);
    *loaded = a && a->e.loaded;
    int k = *loaded && a->dflt ? list_index(a, a->dflt) : -1;
    privacy_list *l = k >= 0 ? privacy_list_ref(a->lists[k]) : NULL;
    pthread_mutex_unlock(&table.lock);
    return l;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

void pcache_names(privacy_acct *a, uint64_t sid, privacy_names *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&table.lock);
    psess *p = sess_of(a, sid);
    if (p && p->active)
        out->active = xstrdup(p->active);
    if (a->dflt)
        out->dflt = xstrdup(a->dflt);
    out->names = xcalloc(a->n ? a->n : 1, sizeof *out->names);
    for (size_t i = 0; i < a->n; i++)
        out->names[i] = xstrdup(a->lists[i]->name);
    out->n = a->n;
    pthread_mutex_unlock(&table.lock);
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
    pthread_mutex_lock(&table.lock);
    int k = list_index(a, name);
    privacy_list *l = k >= 0 ? privacy_list_ref(a->lists[k]) : NULL;
    pthread_mutex_unlock(&table.lock);
    return l;
}

privacy_list *pcache_default(privacy_acct *a)
{
    pthread_mutex_lock(&table.lock);
    int k = a->dflt ? list_index(a, a->dflt) : -1;
    privacy_list *l = k >= 0 ? privacy_list_ref(a->lists[k]) : NULL;
    pthread_mutex_unlock(&table.lock);
    return l;
}

char *pcache_default_name(privacy_acct *a)
{
    pthread_mutex_lock(&table.lock);
    char *d = a->dflt ? xstrdup(a->dflt) : NULL;
    pthread_mutex_unlock(&table.lock);
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
    pthread_mutex_lock(&table.lock);
    if (list_index(a, l->name) < 0 && max_lists && a->n >= max_lists) {
        pthread_mutex_unlock(&table.lock);
        privacy_list_unref(l);
        return PC_TOO_MANY;
    }
    put(a, l);
    pthread_mutex_unlock(&table.lock);
    return PC_OK;
}

pcache_res pcache_remove(privacy_acct *a, const char *name, uint64_t sid, bool *was_default)
{
    *was_default = false;
    pcache_res r = PC_OK;
    pthread_mutex_lock(&table.lock);
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
    pthread_mutex_unlock(&table.lock);
    return r;
}

pcache_res pcache_set_active(privacy_acct *a, uint64_t sid, const char *name)
{
    pthread_mutex_lock(&table.lock);
    pcache_res r = PC_OK;
    psess *p = sess_of(a, sid);
    if (name && list_index(a, name) < 0)
        r = PC_NOT_FOUND;
    else if (p) {
        free(p->active);
        p->active = name ? xstrdup(name) : NULL;
    }
    pthread_mutex_unlock(&table.lock);
    return r;
}

pcache_res pcache_set_default(privacy_acct *a, uint64_t sid, const char *name)
{
    pthread_mutex_lock(&table.lock);
    pcache_res r = PC_OK;
    if (name && list_index(a, name) < 0)
        r = PC_NOT_FOUND;
    else if ((name ? !eq(a->dflt, name) : a->dflt != NULL) && default_used_by_other(a, sid))
        r = PC_CONFLICT;
    else {
        free(a->dflt);
        a->dflt = name ? xstrdup(name) : NULL;
    }
    pthread_mutex_unlock(&table.lock);
    return r;
}

privacy_eff *pcache_effective_all(privacy_acct *a, size_t *n)
{
    pthread_mutex_lock(&table.lock);
    privacy_eff *v = xcalloc(a->nsess ? a->nsess : 1, sizeof *v);
    for (size_t i = 0; i < a->nsess; i++) {
        v[i].sid = a->sess[i].sid;
        v[i].resource = xstrdup(a->sess[i].resource);
        v[i].l = effective(a, &a->sess[i]);
    }
    *n = a->nsess;
    pthread_mutex_unlock(&table.lock);
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
    pthread_mutex_lock(&table.lock);
    put(a, privacy_list_ref(l));
    if (!eq(a->dflt, l->name)) {
        free(a->dflt);
        a->dflt = xstrdup(l->name);
    }
    pthread_mutex_unlock(&table.lock);
}

void pcache_shutdown(void) { account_table_shutdown(&table); }
