/* store.c: the storage thread and its request queue (see store.h). Workers
 * append requests to a mutex-protected list (O(1), one short lock); the
 * thread takes up to STORE_BATCH of them at a time and runs them in one
 * transaction, each inside its own savepoint so one failing request does not
 * undo the others. Only after COMMIT (synchronous=FULL for SQLite: the WAL is
 * fsynced) are the results posted to the workers, so a callback never
 * reports data that a crash could still take away. One fsync per batch
 * keeps a burst of offline messages cheap. The database is reached only
 * through the back end selected at start (store_backend.h). */
#include "store/store_internal.h"
#include "core/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

#define STORE_BATCH 128

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;        /* queue not empty, or stopping */
    pthread_cond_t progress;    /* done advanced, or the thread ended */
    store_req *head, *tail;
    uint64_t queued;            /* requests ever accepted */
    uint64_t done;              /* requests executed and their results posted */
    bool running;               /* accepting requests */
    bool stopping;
    pthread_t thread;
    store_conn *conn;           /* the storage thread's, once started */
} S = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .progress = PTHREAD_COND_INITIALIZER,
};

char *store_strdup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

int64_t store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *store_status_name(store_status st)
{
    switch (st) {
    case STORE_OK: return "ok";
    case STORE_FULL: return "full";
    case STORE_NOT_FOUND: return "not-found";
    case STORE_ERROR: return "error";
    }
    return "?";
}

bool store_running(void)
{
    pthread_mutex_lock(&S.lock);
    bool r = S.running;
    pthread_mutex_unlock(&S.lock);
    return r;
}

void store_done_deliver(store_req *r)
{
    store_done_req *d = (store_done_req *)r;
    if (d->cb)
        d->cb(d->arg, r->status, d->value);
    r->op->free(r);
}

static void deliver_job(void *p)
{
    store_req *r = p;
    r->op->deliver(r);
}

static void drop_job(void *p)
{
    store_req *r = p;
    r->op->free(r);
}

/* Hands r's result to its worker, or frees it (fire-and-forget). */
static void finish(store_req *r)
{
    r->next = NULL;
    if (r->reply_to)
        worker_post_drop(r->reply_to, deliver_job, drop_job, r);
    else
        r->op->free(r);
}

void store_submit(store_req *r)
{
    r->next = NULL;
    pthread_mutex_lock(&S.lock);
    if (!S.running || S.stopping) {
        pthread_mutex_unlock(&S.lock);
        r->status = STORE_ERROR;
        finish(r);
        return;
    }
    if (S.tail)
        S.tail->next = r;
    else
        S.head = r;
    S.tail = r;
    S.queued++;
    pthread_cond_signal(&S.wake);
    pthread_mutex_unlock(&S.lock);
}

/* Marks batch[from..to) as failed: their transaction did not commit. */
static void fail_range(store_req **batch, int from, int to)
{
    for (int i = from; i < to; i++)
        batch[i]->status = STORE_ERROR;
}

static void run_batch(store_req **batch, int n)
{
    store_conn *c = S.conn;
    const store_backend *be = c->backend;
    int tx_first = -1;          /* index of the first request of the open transaction */
    for (int i = 0; i < n; i++) {
        store_req *r = batch[i];
        if (tx_first < 0) {
            if (be->begin(c) != 0) {
                r->status = STORE_ERROR;
                continue;
            }
            tx_first = i;
        }
        if (be->req_begin(c) != 0) {
            r->status = STORE_ERROR;
            continue;
        }
        r->status = r->op->exec(r, c);
        /* STORE_FULL: a quota refused the request; what it wrote goes too */
        if (be->req_end(c, r->status == STORE_ERROR || r->status == STORE_FULL) != 0) {
            /* Some errors (disk full, I/O) make the database roll back the
             * whole transaction: everything since begin is gone. */
            log_err("store: %s: transaction rolled back by the database", r->op->name);
            fail_range(batch, tx_first, i + 1);
            tx_first = -1;
        }
    }
    if (tx_first >= 0 && be->commit(c) != 0)
        fail_range(batch, tx_first, n);
    for (int i = 0; i < n; i++)
        finish(batch[i]);
}

static void *store_main(void *unused)
{
    store_req *batch[STORE_BATCH];
    pthread_mutex_lock(&S.lock);
    for (;;) {
        while (!S.head && !S.stopping)
            pthread_cond_wait(&S.wake, &S.lock);
        if (!S.head)
            break;                          /* stopping and drained */
        int n = 0;
        while (S.head && n < STORE_BATCH) {
            batch[n++] = S.head;
            S.head = S.head->next;
        }
        if (!S.head)
            S.tail = NULL;
        pthread_mutex_unlock(&S.lock);
        run_batch(batch, n);
        pthread_mutex_lock(&S.lock);
        S.done += (uint64_t)n;
        pthread_cond_broadcast(&S.progress);
    }
    pthread_mutex_unlock(&S.lock);
    return NULL;
}

int store_start(const char *spec, char *err, size_t errlen)
{
    if (store_running()) {
        snprintf(err, errlen, "store already running");
        return -1;
    }
    const char *location = NULL;
    const store_backend *be = store_backend_select(spec, &location, err, errlen);
    if (!be)
        return -1;
    store_conn *c = be->open(location, err, errlen);
    if (!c)
        return -1;
    c->backend = be;
    pthread_mutex_lock(&S.lock);
    S.conn = c;
    S.stopping = false;
    S.running = true;
    S.queued = S.done = 0;
    if (pthread_create(&S.thread, NULL, store_main, NULL) != 0) {
        S.running = false;
        S.conn = NULL;
        pthread_mutex_unlock(&S.lock);
        be->close(c);
        snprintf(err, errlen, "cannot start the storage thread");
        return -1;
    }
    pthread_mutex_unlock(&S.lock);
    log_info("store: %s open (%s back end, schema version %d)", location, be->scheme,
             store_schema_version());
    return 0;
}

void store_sync_wait(void)
{
    pthread_mutex_lock(&S.lock);
    uint64_t target = S.queued;
    while (S.running && S.done < target)
        pthread_cond_wait(&S.progress, &S.lock);
    pthread_mutex_unlock(&S.lock);
}

void store_stop(void)
{
    pthread_mutex_lock(&S.lock);
    if (!S.running || S.stopping) {
        pthread_mutex_unlock(&S.lock);
        return;
    }
    S.stopping = true;              /* new requests fail from now on */
    pthread_cond_signal(&S.wake);
    pthread_mutex_unlock(&S.lock);
    pthread_join(S.thread, NULL);   /* the thread drains the queue first */
    S.conn->backend->close(S.conn);
    pthread_mutex_lock(&S.lock);
    S.conn = NULL;
    S.running = false;
    S.stopping = false;
    pthread_cond_broadcast(&S.progress);
    pthread_mutex_unlock(&S.lock);
}
