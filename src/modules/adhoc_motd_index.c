/* adhoc_motd_index.c: the in-memory list of domains with a message of the
 * day (see adhoc_motd_index.h for why and for the ordering rule). A few
 * entries at most (served domains), so a list; an entry stays when its
 * message is deleted, to keep the sequence number of that answer. */
#include "modules/adhoc_motd_index.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"

typedef struct motd_entry {
    struct motd_entry *next;
    char *domain;
    bool has;
    uint64_t seq;         /* of the store request this state came from */
} motd_entry;

static struct {
    pthread_mutex_t lock;
    motd_entry *head;
    uint64_t seq;         /* the last one handed out */
    bool load_queued;
    bool loaded;
} X = { .lock = PTHREAD_MUTEX_INITIALIZER };

void motd_index_reset(void)
{
    pthread_mutex_lock(&X.lock);
    while (X.head) {
        motd_entry *e = X.head;
        X.head = e->next;
        free(e->domain);
        free(e);
    }
    X.seq = 0;
    X.load_queued = X.loaded = false;
    pthread_mutex_unlock(&X.lock);
}

/* Under the lock. */
static motd_entry *find(const char *domain)
{
    for (motd_entry *e = X.head; e; e = e->next)
        if (!strcmp(e->domain, domain))
            return e;
    return NULL;
}

/* Under the lock: what the store request seq said about domain, unless
 * the table already holds the answer of a later request. */
static void apply(const char *domain, uint64_t seq, bool has)
{
    motd_entry *e = find(domain);
    if (!e) {
        e = xcalloc(1, sizeof *e);
        e->domain = xstrdup(domain);
        e->next = X.head;
        X.head = e;
    }
    if (seq > e->seq) {
        e->has = has;
        e->seq = seq;
    }
}

bool motd_index_may_have(const char *domain)
{
    pthread_mutex_lock(&X.lock);
    const motd_entry *e = X.loaded ? find(domain) : NULL;
    bool may = !X.loaded || (e && e->has);
    pthread_mutex_unlock(&X.lock);
    return may;
}

/* ---- load ---- */

static void loaded(void *arg, store_motd_list *l)
{
    uint64_t seq = *(uint64_t *)arg;
    free(arg);
    pthread_mutex_lock(&X.lock);
    if (l->status == STORE_OK) {
        for (size_t i = 0; i < l->n; i++)
            apply(l->domains[i], seq, true);
        for (motd_entry *e = X.head; e; e = e->next)
            if (e->seq < seq) {           /* not listed, no newer answer */
                e->has = false;
                e->seq = seq;
            }
        X.loaded = true;
    } else {
        X.load_queued = false;            /* the next snapshot of worker 0 retries */
    }
    pthread_mutex_unlock(&X.lock);
    if (l->status == STORE_OK)
        log_info("adhoc: message of the day index loaded: %zu domain(s) with a message", l->n);
    else
        log_warn("adhoc: listing the messages of the day failed (%s); until it works, every "
                 "login asks the store for its domain's message",
                 store_status_name(l->status));
    store_motd_list_free(l);
}

void motd_index_load(worker *w)
{
    pthread_mutex_lock(&X.lock);
    if (!X.load_queued) {
        X.load_queued = true;
        uint64_t *seq = xmalloc(sizeof *seq);
        *seq = ++X.seq;
        store_motd_domains(w, loaded, seq, free);
    }
    pthread_mutex_unlock(&X.lock);
}

/* ---- set and delete ---- */

typedef struct op_ctx {
    uint64_t seq;
    bool set;
    char *domain;
    store_done_fn cb;
    void *arg;
    store_arg_free_fn arg_free;
} op_ctx;

static void op_ctx_free(void *p)
{
    op_ctx *o = p;
    if (o->arg_free && o->arg)
        o->arg_free(o->arg);
    free(o->domain);
    free(o);
}

static void op_done(void *p, store_status st, int64_t value)
{
    op_ctx *o = p;
    pthread_mutex_lock(&X.lock);
    /* A failed request: whatever the store holds now, asking it is safe. */
    apply(o->domain, o->seq, st != STORE_OK || o->set);
    pthread_mutex_unlock(&X.lock);
    void *arg = o->arg;
    o->arg = NULL;
    if (o->cb)
        o->cb(arg, st, value);
    else if (o->arg_free && arg)
        o->arg_free(arg);
    op_ctx_free(o);
}

static op_ctx *op_new(bool set, const char *domain, store_done_fn cb, void *arg,
                      store_arg_free_fn arg_free)
{
    op_ctx *o = xcalloc(1, sizeof *o);
    o->set = set;
    o->domain = xstrdup(domain);
    o->cb = cb;
    o->arg = arg;
    o->arg_free = arg_free;
    return o;
}

/* The lock is held while the request is queued, so that sequence order is
 * queue order. Nothing under it waits: store_submit takes the store's
 * lock briefly, and a refused request's answer is posted, not run. */
void motd_index_set(worker *w, const char *domain, const char *text, store_done_fn cb, void *arg,
                    store_arg_free_fn arg_free)
{
    op_ctx *o = op_new(true, domain, cb, arg, arg_free);
    pthread_mutex_lock(&X.lock);
    o->seq = ++X.seq;
    /* From now on logins ask: one that the storage thread serves after the
     * set gets the new message even before its answer reached us. */
    apply(domain, o->seq, true);
    store_motd_set(w, domain, text, op_done, o, op_ctx_free);
    pthread_mutex_unlock(&X.lock);
}

void motd_index_delete(worker *w, const char *domain, store_done_fn cb, void *arg,
                       store_arg_free_fn arg_free)
{
    op_ctx *o = op_new(false, domain, cb, arg, arg_free);
    pthread_mutex_lock(&X.lock);
    o->seq = ++X.seq;
    store_motd_delete(w, domain, op_done, o, op_ctx_free);
    pthread_mutex_unlock(&X.lock);
}
