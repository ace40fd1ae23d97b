/* roster_cache.c: the per-account cache of personal roster items (see
 * roster.h). An entry lives while the account has bound sessions; every
 * session holds one reference. The table has one lock (taken only to find
 * or create an entry); each entry has its own lock for its items. */
#include "modules/roster.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096

typedef struct node {
    struct node *next;
    acct a;
} node;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static node *buckets[NBUCKETS];

static unsigned bucket_of(const char *s)
{
    unsigned long long h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return (unsigned)(h % NBUCKETS);
}

void roster_item_clear(store_roster_item *it)
{
    free(it->contact);
    free(it->name);
    for (char **g = it->groups; g && *g; g++)
        free(*g);
    free(it->groups);
    memset(it, 0, sizeof *it);
}

void roster_item_copy(store_roster_item *dst, const store_roster_item *src)
{
    *dst = *src;
    dst->contact = src->contact ? xstrdup(src->contact) : NULL;
    dst->name = src->name ? xstrdup(src->name) : NULL;
    size_t n = 0;
    while (src->groups && src->groups[n])
        n++;
    dst->groups = xcalloc(n + 1, sizeof *dst->groups);
    for (size_t i = 0; i < n; i++)
        dst->groups[i] = xstrdup(src->groups[i]);
}

static acct *lookup(const char *bare, bool create)
{
    unsigned b = bucket_of(bare);
    for (node *n = buckets[b]; n; n = n->next) {
        if (!strcmp(n->a.bare, bare)) {
            n->a.refs++;
            return &n->a;
        }
    }
    if (!create)
        return NULL;
    node *n = xcalloc(1, sizeof *n);
    n->a.bare = xstrdup(bare);
    n->a.refs = 1;
    pthread_mutex_init(&n->a.lock, NULL);
    n->next = buckets[b];
    buckets[b] = n;
    return &n->a;
}

acct *acct_acquire(const char *bare)
{
    pthread_mutex_lock(&table_lock);
    acct *a = lookup(bare, true);
    pthread_mutex_unlock(&table_lock);
    return a;
}

acct *acct_ref(acct *a)
{
    pthread_mutex_lock(&table_lock);
    a->refs++;
    pthread_mutex_unlock(&table_lock);
    return a;
}

acct *acct_find(const char *bare)
{
    pthread_mutex_lock(&table_lock);
    acct *a = lookup(bare, false);
    pthread_mutex_unlock(&table_lock);
    return a;
}

void acct_release(acct *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&table_lock);
    if (--a->refs > 0) {
        pthread_mutex_unlock(&table_lock);
        return;
    }
    unsigned b = bucket_of(a->bare);
    for (node **pp = &buckets[b]; *pp; pp = &(*pp)->next) {
        if (&(*pp)->a == a) {
            node *n = *pp;
            *pp = n->next;
            pthread_mutex_unlock(&table_lock);
            for (size_t i = 0; i < a->n; i++)
                roster_item_clear(&a->items[i]);
            free(a->items);
            for (size_t i = 0; i < a->npending; i++)
                free(a->pending[i]);
            free(a->pending);
            free(a->bare);
            pthread_mutex_destroy(&a->lock);
            free(n);
            return;
        }
    }
    pthread_mutex_unlock(&table_lock);
}

static size_t find_pos(const acct *a, const char *contact, bool *found)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(a->items[mid].contact, contact);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

store_roster_item *acct_item(acct *a, const char *contact)
{
    bool found;
    size_t i = find_pos(a, contact, &found);
    return found ? &a->items[i] : NULL;
}

void acct_item_put(acct *a, const store_roster_item *it)
{
    bool found;
    size_t i = find_pos(a, it->contact, &found);
    if (found) {
        roster_item_clear(&a->items[i]);
    } else {
        a->items = xrealloc(a->items, (a->n + 1) * sizeof *a->items);
        memmove(&a->items[i + 1], &a->items[i], (a->n - i) * sizeof *a->items);
        a->n++;
    }
    roster_item_copy(&a->items[i], it);
}

void acct_item_del(acct *a, const char *contact)
{
    bool found;
    size_t i = find_pos(a, contact, &found);
    if (!found)
        return;
    roster_item_clear(&a->items[i]);
    memmove(&a->items[i], &a->items[i + 1], (a->n - i - 1) * sizeof *a->items);
    a->n--;
}

void acct_load(acct *a, store_roster *r, store_pending *p)
{
    if (a->loaded)
        return;
    a->items = r->items;
    a->n = r->n;
    a->version = r->version;
    r->items = NULL;
    r->n = 0;
    a->pending = xcalloc(p->n + 1, sizeof *a->pending);
    for (size_t i = 0; i < p->n; i++)
        a->pending[a->npending++] = xstrdup(p->items[i].contact);
    a->loaded = true;
}

bool acct_pending_has(acct *a, const char *contact)
{
    for (size_t i = 0; i < a->npending; i++)
        if (!strcmp(a->pending[i], contact))
            return true;
    return false;
}

void acct_pending_set(acct *a, const char *contact, bool on)
{
    for (size_t i = 0; i < a->npending; i++) {
        if (!strcmp(a->pending[i], contact)) {
            if (!on) {
                free(a->pending[i]);
                a->pending[i] = a->pending[--a->npending];
            }
            return;
        }
    }
    if (on) {
        a->pending = xrealloc(a->pending, (a->npending + 2) * sizeof *a->pending);
        a->pending[a->npending++] = xstrdup(contact);
        a->pending[a->npending] = NULL;
    }
}

char **roster_personal_list(const char *user, bool want_from, bool want_to)
{
    acct *a = acct_find(user);
    char **list = NULL;
    size_t n = 0;
    if (a) {
        pthread_mutex_lock(&a->lock);
        list = xcalloc(a->n + 1, sizeof *list);
        for (size_t i = 0; i < a->n; i++) {
            store_sub s = a->items[i].subscription;
            bool from = s == STORE_SUB_FROM || s == STORE_SUB_BOTH;
            bool to = s == STORE_SUB_TO || s == STORE_SUB_BOTH;
            if ((want_from && from) || (want_to && to))
                list[n++] = xstrdup(a->items[i].contact);
        }
        pthread_mutex_unlock(&a->lock);
        acct_release(a);
    }
    if (!list)
        list = xcalloc(1, sizeof *list);
    return list;
}

void roster_list_free(char **list)
{
    for (char **p = list; p && *p; p++)
        free(*p);
    free(list);
}
