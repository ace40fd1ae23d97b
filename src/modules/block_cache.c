/* block_cache.c: the process-wide table of online accounts' blocklists
 * (see blocklist.h), an account_table (account_table.h: hash table keyed
 * by bare JID, references, loading and waiters); its one mutex guards the
 * table and every list in it. Lists are small (at most plucs/quota/blocklist
 * items) and matched linearly with their parsed JIDs kept next to the
 * strings. */
#include "modules/blocklist.h"
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct block_item {
    char *str;        /* prepared JID as text */
    jid j;
} block_item;

struct block_list {
    account_entry e;             /* first: the table's part */
    block_item *items;
    size_t n, cap;
};

static void list_free(account_entry *e);

static account_table table = ACCOUNT_TABLE(block_list, list_free);
static atomic_size_t nonempty;   /* lists with at least one item */

static block_list *find(const char *bare)
{
    return (block_list *)account_table_find(&table, bare);
}

static void list_clear(block_list *b)
{
    if (b->n)
        atomic_fetch_sub(&nonempty, 1);
    for (size_t i = 0; i < b->n; i++) {
        free(b->items[i].str);
        jid_clear(&b->items[i].j);
    }
    b->n = 0;
}

static void list_free(account_entry *e)
{
    block_list *b = (block_list *)e;
    list_clear(b);
    free(b->items);
}

static int item_index(const block_list *b, const char *str)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->items[i].str, str))
            return (int)i;
    return -1;
}

/* Appends str (already known absent); false when it is not a JID. */
static bool item_append(block_list *b, const char *str)
{
    jid j;
    if (jid_parse(str, &j) != 0)
        return false;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->items = xrealloc(b->items, b->cap * sizeof *b->items);
    }
    if (b->n == 0)
        atomic_fetch_add(&nonempty, 1);
    b->items[b->n].str = xstrdup(str);
    b->items[b->n].j = j;
    b->n++;
    return true;
}

block_list *block_cache_acquire(const char *bare, bool *created)
{
    return (block_list *)account_table_acquire(&table, bare, created);
}

void block_cache_release(block_list *b) { account_table_release(&table, b ? &b->e : NULL); }

bool block_cache_wait(block_list *b, int worker, uint64_t sid)
{
    return account_table_wait(&table, &b->e, worker, sid);
}

bool block_cache_loaded(block_list *b) { return account_table_loaded(&table, &b->e); }

block_waiter *block_cache_install(const char *bare, char *const *items, size_t n,
                                  size_t *nwaiters)
{
    block_waiter *w = NULL;
    *nwaiters = 0;
    pthread_mutex_lock(&table.lock);
    block_list *b = find(bare);
    if (b && !b->e.loaded) {
        for (size_t i = 0; i < n; i++)
            if (item_index(b, items[i]) < 0)
                item_append(b, items[i]);
        w = account_table_set_loaded(&b->e, nwaiters);
    }
    pthread_mutex_unlock(&table.lock);
    return w;
}

static bool list_blocks(const block_list *b, const jid *addr)
{
    for (size_t i = 0; i < b->n; i++)
        if (blocklist_item_matches(&b->items[i].j, addr))
            return true;
    return false;
}

bool block_cache_blocks(block_list *b, const jid *addr)
{
    if (!b || !block_cache_any())
        return false;
    pthread_mutex_lock(&table.lock);
    bool r = list_blocks(b, addr);
    pthread_mutex_unlock(&table.lock);
    return r;
}

bool block_cache_bare_blocks(const char *bare, const jid *addr)
{
    if (!block_cache_any())
        return false;
    pthread_mutex_lock(&table.lock);
    block_list *b = find(bare);
    bool r = b && list_blocks(b, addr);
    pthread_mutex_unlock(&table.lock);
    return r;
}

bool block_cache_any(void) { return atomic_load_explicit(&nonempty, memory_order_relaxed) > 0; }

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **block_cache_items(block_list *b, size_t *n)
{
    pthread_mutex_lock(&table.lock);
    char **v = xcalloc(b->n, sizeof *v);
    for (size_t i = 0; i < b->n; i++)
        v[i] = xstrdup(b->items[i].str);
    *n = b->n;
    pthread_mutex_unlock(&table.lock);
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

/* Under the lock. */
static size_t count_after_add(block_list *b, char *const *items, size_t n)
{
    size_t total = b->n;
    for (size_t i = 0; i < n; i++) {
        bool dup = item_index(b, items[i]) >= 0;
        for (size_t k = 0; k < i && !dup; k++)
            dup = !strcmp(items[k], items[i]);
        total += !dup;
    }
    return total;
}

size_t block_cache_count_after_add(block_list *b, char *const *items, size_t n)
{
    pthread_mutex_lock(&table.lock);
    size_t total = count_after_add(b, items, n);
    pthread_mutex_unlock(&table.lock);
    return total;
}

char **block_cache_add(block_list *b, char *const *items, size_t n, size_t max, size_t *nadded)
{
    *nadded = 0;
    pthread_mutex_lock(&table.lock);
    if (max && count_after_add(b, items, n) > max) {
        pthread_mutex_unlock(&table.lock);
        return NULL;
    }
    char **added = xcalloc(n ? n : 1, sizeof *added);
    for (size_t i = 0; i < n; i++)
        if (item_index(b, items[i]) < 0 && item_append(b, items[i]))
            added[(*nadded)++] = xstrdup(items[i]);
    pthread_mutex_unlock(&table.lock);
    return added;
}

char **block_cache_remove(block_list *b, char *const *items, size_t n, size_t *nremoved)
{
    pthread_mutex_lock(&table.lock);
    size_t cap = n ? n : b->n;
    char **removed = xcalloc(cap, sizeof *removed);
    *nremoved = 0;
    if (n == 0) {
        for (size_t i = 0; i < b->n; i++)
            removed[(*nremoved)++] = xstrdup(b->items[i].str);
        list_clear(b);
    } else {
        for (size_t i = 0; i < n; i++) {
            int k = item_index(b, items[i]);
            if (k < 0)
                continue;
            removed[(*nremoved)++] = b->items[k].str;   /* moves */
            jid_clear(&b->items[k].j);
            b->items[k] = b->items[--b->n];
            if (b->n == 0)
                atomic_fetch_sub(&nonempty, 1);
        }
    }
    pthread_mutex_unlock(&table.lock);
    return removed;
}

void block_cache_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void block_cache_shutdown(void) { account_table_shutdown(&table); }
