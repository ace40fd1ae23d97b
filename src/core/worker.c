/* worker.c: I/O worker threads, each with its own event_base and an inbox
 * (see worker.h). The inbox is a mutex-protected singly linked queue and a
 * user-triggered event; posting from any thread is one lock and one
 * event_active(). The queue is swapped out whole, so a burst of posts costs
 * one wake-up and one lock on the receiving side. */
#include "core/worker.h"
#include "core/alloc.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/log.h"

typedef struct job {
    struct job *next;
    void (*fn)(void *);
    void (*drop)(void *);
    void *arg;
} job;

struct worker {
    int id;
    struct event_base *base;
    struct event *wake;
    pthread_t thread;
    pthread_mutex_t lock;
    job *head, *tail;
    int stopping;              /* under lock: no more jobs accepted */
    int joined;
};

static worker **workers;
static int nworkers;
static __thread worker *self;
static void (*exit_hook)(void);

void workers_set_exit_hook(void (*fn)(void)) { exit_hook = fn; }

int workers_count(void) { return nworkers; }
worker *worker_get(int i) { return (i >= 0 && i < nworkers) ? workers[i] : NULL; }
worker *worker_self(void) { return self; }
int worker_id(const worker *w) { return w->id; }
struct event_base *worker_base(worker *w) { return w->base; }

static void inbox_run(evutil_socket_t fd, short what, void *arg)
{
    worker *w = arg;
    pthread_mutex_lock(&w->lock);
    job *j = w->head;
    w->head = w->tail = NULL;
    pthread_mutex_unlock(&w->lock);
    while (j) {
        job *next = j->next;
        j->fn(j->arg);
        free(j);
        j = next;
    }
}

void worker_post_drop(worker *w, void (*fn)(void *), void (*drop)(void *), void *arg)
{
    job *j = xmalloc(sizeof *j);
    j->next = NULL;
    j->fn = fn;
    j->drop = drop;
    j->arg = arg;
    pthread_mutex_lock(&w->lock);
    if (w->stopping) {
        pthread_mutex_unlock(&w->lock);
        if (drop)
            drop(arg);
        free(j);
        return;
    }
    int was_empty = w->head == NULL;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_mutex_unlock(&w->lock);
    if (was_empty)
        event_active(w->wake, EV_READ, 0);
}

void worker_post(worker *w, void (*fn)(void *), void *arg) { worker_post_drop(w, fn, NULL, arg); }

void workers_broadcast(void (*fn)(void *), void *arg)
{
    for (int i = 0; i < nworkers; i++)
        worker_post(workers[i], fn, arg);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    self = w;
    event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
    if (exit_hook)
        exit_hook();
    /* Jobs that arrive between the loop's end and now run here, so that a
     * closure's resources are released (they are all small and quick). */
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    job *j = w->head;
    w->head = w->tail = NULL;
    pthread_mutex_unlock(&w->lock);
    while (j) {
        job *next = j->next;
        if (j->drop)
            j->drop(j->arg);
        else
            j->fn(j->arg);
        free(j);
        j = next;
    }
    self = NULL;
    return NULL;
}

int workers_start(int count)
{
    static int threads_enabled;
    if (!threads_enabled) {
        evthread_use_pthreads();
        threads_enabled = 1;
    }
    workers = xcalloc((size_t)count, sizeof *workers);
    for (int i = 0; i < count; i++) {
        worker *w = xcalloc(1, sizeof *w);
        w->id = i;
        w->base = event_base_new();
        if (!w->base) {
            free(w);
            return -1;
        }
        w->wake = event_new(w->base, -1, EV_PERSIST, inbox_run, w);
        pthread_mutex_init(&w->lock, NULL);
        workers[i] = w;
        nworkers = i + 1;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            log_crit("cannot start worker thread %d", i);
            return -1;
        }
    }
    return 0;
}

void workers_stop(void)
{
    for (int i = 0; i < nworkers; i++)
        event_base_loopbreak(workers[i]->base);
    workers_join();
    workers_free();
}

void workers_join(void)
{
    for (int i = 0; i < nworkers; i++) {
        if (!workers[i]->joined) {
            pthread_join(workers[i]->thread, NULL);
            workers[i]->joined = 1;
        }
    }
}

void workers_free(void)
{
    /* Only after every thread was joined: a late post from another thread
     * (directory, store) still finds a valid, stopping inbox until here. */
    for (int i = 0; i < nworkers; i++) {
        worker *w = workers[i];
        event_free(w->wake);
        event_base_free(w->base);
        pthread_mutex_destroy(&w->lock);
        free(w);
    }
    free(workers);
    workers = NULL;
    nworkers = 0;
}
