/* roster_load.c: loading an account's personal roster and stored inbound
 * subscription requests from the store into its cache before anything
 * touches them (see acct_when_loaded in roster.h). Loads in flight are
 * kept in a per-worker list so that a shutdown frees them. */
#include "modules/roster.h"
#include "core/alloc.h"

#include <stdlib.h>

#include "core/log.h"
#include "core/worker.h"
#include "store/store_pending.h"
#include "store/store_roster.h"

typedef struct load_job {
    struct load_job *prev, *next;
    acct *a;
    void (*fn)(void *);
    void (*free_ud)(void *);
    void *ud;
    store_roster *r;
    store_pending *p;
    int waiting;
} load_job;

static __thread load_job *jobs;

static void unlink_job(load_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
}

static void finish(load_job *j)
{
    pthread_mutex_lock(&j->a->lock);
    if (!j->a->loaded) {
        if (j->r->status != STORE_OK || j->p->status != STORE_OK)
            log_err("roster: cannot load the roster of %s from the store; using an empty one",
                    j->a->bare);
        acct_load(j->a, j->r, j->p);
    }
    pthread_mutex_unlock(&j->a->lock);
    store_roster_free(j->r);
    store_pending_free(j->p);
    unlink_job(j);
    j->fn(j->ud);
    acct_release(j->a);
    free(j);
}

static void roster_loaded(void *arg, store_roster *r)
{
    load_job *j = arg;
    j->r = r;
    if (--j->waiting == 0)
        finish(j);
}

static void pending_loaded(void *arg, store_pending *p)
{
    load_job *j = arg;
    j->p = p;
    if (--j->waiting == 0)
        finish(j);
}

void acct_when_loaded(acct *a, void (*fn)(void *), void (*free_ud)(void *), void *ud)
{
    pthread_mutex_lock(&a->lock);
    bool loaded = a->loaded;
    pthread_mutex_unlock(&a->lock);
    if (loaded) {
        fn(ud);
        return;
    }
    load_job *j = xcalloc(1, sizeof *j);
    j->a = acct_ref(a);   /* the load outlives whoever asked (a session may end) */
    j->fn = fn;
    j->free_ud = free_ud;
    j->ud = ud;
    j->waiting = 2;
    j->next = jobs;
    if (jobs)
        jobs->prev = j;
    jobs = j;
    store_roster_get(worker_self(), a->bare, roster_loaded, j);
    store_pending_list(worker_self(), a->bare, pending_loaded, j);
}

void roster_thread_exit(void)
{
    while (jobs) {
        load_job *j = jobs;
        jobs = j->next;
        if (j->free_ud)
            j->free_ud(j->ud);
        store_roster_free(j->r);
        store_pending_free(j->p);
        acct_release(j->a);
        free(j);
    }
}
