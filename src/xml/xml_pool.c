/* xml_pool.c: the per-thread slab pool for expat's small allocations, see
 * xml_pool.h. A chunk is CHUNK bytes, CHUNK-aligned (an object finds its
 * chunk by masking its address), and serves one size class: a header, then
 * objects carved in order (bump) and recycled through a free list. A
 * thread's chunks with room are on its class list; a full chunk is on no
 * list until an object comes back. An empty chunk is unmapped, except one
 * spare per class, which xpool_trim() unmaps once the worker's burst is
 * over. The classes are expat's usual requests plus the 16-byte header
 * xml_stream.c puts in front (expat asks for powers of two and a few
 * fixed struct sizes). */
#include "xml/xml_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define CHUNK ((size_t)64 * 1024)

static const uint32_t class_size[] = {
    32, 48, 64, 80, 96, 128, 160, 192, 256, 272, 384, 528, 768, 1040, 1056, 1536, 2064, 3072, XPOOL_MAX,
};
#define NCLASS (sizeof class_size / sizeof class_size[0])

typedef struct pool pool;
typedef struct chunk chunk;
struct chunk {
    uint32_t cls;
    uint32_t size;        /* of an object */
    uint32_t nobj;
    uint32_t nfree;       /* objects not in use (free list + never carved) */
    void *free;           /* recycled objects, linked through their first word */
    char *bump;           /* next never-used object */
    chunk *next, *prev;   /* on the owner's class list while it has room */
    pool *owner;
};

struct pool {
    chunk *avail[NCLASS];
    chunk *spare[NCLASS];
    pthread_mutex_t rlock;      /* guards remote */
    void *remote;               /* objects other threads freed */
    atomic_bool has_remote;
};

static __thread pool *tp;
static atomic_size_t nchunks;

#define HDR_SIZE ((sizeof(chunk) + 15) & ~(size_t)15)

static unsigned class_of(size_t n)
{
    unsigned c = 0;
    while (class_size[c] < n)
        c++;
    return c;
}

static pool *my_pool(void)
{
    if (!tp) {
        tp = calloc(1, sizeof *tp);
        if (tp)
            pthread_mutex_init(&tp->rlock, NULL);
    }
    return tp;
}

static void list_push(chunk **head, chunk *k)
{
    k->prev = NULL;
    k->next = *head;
    if (*head)
        (*head)->prev = k;
    *head = k;
}

static void list_remove(chunk **head, chunk *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        *head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    k->next = k->prev = NULL;
}

static void chunk_reset(chunk *k)
{
    k->free = NULL;
    k->bump = (char *)k + HDR_SIZE;
    k->nfree = k->nobj;
}

static chunk *chunk_new(pool *p, unsigned c)
{
    size_t len = 2 * CHUNK;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)m + CHUNK - 1) & ~(uintptr_t)(CHUNK - 1);
    size_t head = a - (uintptr_t)m;
    if (head)
        munmap(m, head);
    if (len - head - CHUNK)
        munmap((char *)a + CHUNK, len - head - CHUNK);
    chunk *k = (chunk *)a;
    k->cls = c;
    k->size = class_size[c];
    k->nobj = (uint32_t)((CHUNK - HDR_SIZE) / k->size);
    k->owner = p;
    chunk_reset(k);
    atomic_fetch_add(&nchunks, 1);
    return k;
}

static void chunk_unmap(chunk *k)
{
    munmap(k, CHUNK);
    atomic_fetch_sub(&nchunks, 1);
}

static chunk *chunk_of(const void *o)
{
    return (chunk *)((uintptr_t)o & ~(uintptr_t)(CHUNK - 1));
}

/* o of chunk k, owned by p (the calling thread's pool). */
static void local_free(pool *p, chunk *k, void *o)
{
    unsigned c = k->cls;
    *(void **)o = k->free;
    k->free = o;
    if (k->nfree++ == 0)
        list_push(&p->avail[c], k);   /* was full */
    if (k->nfree < k->nobj)
        return;
    list_remove(&p->avail[c], k);     /* empty */
    if (p->spare[c]) {
        chunk_unmap(k);
    } else {
        chunk_reset(k);
        p->spare[c] = k;
    }
}

static void drain_remote(pool *p)
{
    pthread_mutex_lock(&p->rlock);
    void *o = p->remote;
    p->remote = NULL;
    atomic_store(&p->has_remote, false);
    pthread_mutex_unlock(&p->rlock);
    while (o) {
        void *next = *(void **)o;
        local_free(p, chunk_of(o), o);
        o = next;
    }
}

void *xpool_alloc(size_t n)
{
    if (n == 0 || n > XPOOL_MAX)
        return NULL;
    pool *p = my_pool();
    if (!p)
        return NULL;
    if (atomic_load_explicit(&p->has_remote, memory_order_relaxed))
        drain_remote(p);
    unsigned c = class_of(n);
    chunk *k = p->avail[c];
    if (!k) {
        k = p->spare[c];
        if (k)
            p->spare[c] = NULL;
        else if (!(k = chunk_new(p, c)))
            return NULL;
        list_push(&p->avail[c], k);
    }
    void *o;
    if (k->free) {
        o = k->free;
        k->free = *(void **)o;
    } else {
        o = k->bump;
        k->bump += k->size;
    }
    if (--k->nfree == 0)
        list_remove(&p->avail[c], k);   /* full */
    return o;
}

void xpool_free(void *o)
{
    if (!o)
        return;
    chunk *k = chunk_of(o);
    pool *owner = k->owner;
    if (owner == tp) {
        local_free(owner, k, o);
        return;
    }
    pthread_mutex_lock(&owner->rlock);
    *(void **)o = owner->remote;
    owner->remote = o;
    atomic_store(&owner->has_remote, true);
    pthread_mutex_unlock(&owner->rlock);
}

size_t xpool_usable(const void *o) { return chunk_of(o)->size; }

void xpool_trim(void)
{
    pool *p = tp;
    if (!p)
        return;
    if (atomic_load_explicit(&p->has_remote, memory_order_relaxed))
        drain_remote(p);
    for (unsigned c = 0; c < NCLASS; c++) {
        if (p->spare[c]) {
            chunk_unmap(p->spare[c]);
            p->spare[c] = NULL;
        }
    }
}

size_t xpool_chunks(void) { return atomic_load(&nchunks); }
