/* idle_sweep.c: the per-worker sweep that releases what quiet connections
 * do not need, see idle_sweep.h. Two periods: an entry touched in period t
 * is released by the sweep that ends period t + 1, so a connection is
 * released between IDLE_SWEEP_MS and twice that after its last read. */
#include "transport/idle_sweep.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "core/log.h"

/* Giving freed memory back to the kernel: what the released parsers and
 * the login burst's transient buffers left behind sits in malloc's free
 * lists, spread over pages that also hold live sessions, and counts in the
 * process's RSS until reused. Once a worker's burst is over (its list of
 * recently active connections is empty again after releases), glibc's
 * malloc_trim() returns the free pages inside every arena (madvise). It
 * walks the free lists (milliseconds for a large heap), so it runs at most
 * once per TRIM_MIN_SECS in the whole process, only after at least
 * TRIM_MIN_RELEASED releases on the worker, and during a burst that never
 * ends only after TRIM_AFTER releases. */
#define TRIM_MIN_SECS 5
#define TRIM_AFTER 4096
#define TRIM_MIN_RELEASED 64     /* fewer: not a burst, nothing worth a trim */
static atomic_llong last_trim;           /* CLOCK_MONOTONIC seconds, all workers */
static __thread unsigned released_since_trim;

static __thread idle_entry *active;     /* touched recently, not yet released */
static __thread struct event *sweep_ev;
static __thread unsigned cur_tick;
static __thread bool armed;

void idle_forget(idle_entry *e)
{
    if (!e->prev)
        return;
    *e->prev = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->next = NULL;
    e->prev = NULL;
}

static void arm(void)
{
    struct timeval tv = { IDLE_SWEEP_MS / 1000, (IDLE_SWEEP_MS % 1000) * 1000 };
    evtimer_add(sweep_ev, &tv);
    armed = true;
}

static void maybe_trim(void)
{
#ifdef __GLIBC__
    if (released_since_trim < TRIM_MIN_RELEASED || (active && released_since_trim < TRIM_AFTER))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec, last = atomic_load(&last_trim);
    if (last && now - last < TRIM_MIN_SECS)
        return;
    if (!atomic_compare_exchange_strong(&last_trim, &last, now))
        return;   /* another worker trims now */
    released_since_trim = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    malloc_trim(0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (ms >= 20)   /* a stall of this worker worth knowing about */
        log_info("idle: returning freed memory to the system (malloc_trim) took %.0f ms", ms);
    else
        log_debug("idle: malloc_trim took %.1f ms", ms);
#endif
}

static void sweep(evutil_socket_t fd, short what, void *arg)
{
    armed = false;
    unsigned done = cur_tick++;
    idle_entry *e = active;
    /* Entries touched during the period that just ended stay; the others
     * were quiet for a whole period. Bounded: each entry is visited once. */
    while (e) {
        idle_entry *next = e->next;
        if (e->tick != done) {
            idle_forget(e);
            e->release(e);   /* may not touch or free other entries */
            released_since_trim++;
        }
        e = next;
    }
    maybe_trim();
    if (active || released_since_trim >= TRIM_MIN_RELEASED)
        arm();   /* a trim that had to wait for another worker's is retried */
}

void idle_touch(struct event_base *base, idle_entry *e, void (*release)(idle_entry *e))
{
    e->tick = cur_tick;
    e->release = release;
    if (!e->prev) {
        e->next = active;
        if (active)
            active->prev = &e->next;
        active = e;
        e->prev = &active;
    }
    if (!sweep_ev)
        sweep_ev = evtimer_new(base, sweep, NULL);
    if (!armed && sweep_ev)
        arm();
}

void idle_sweep_worker_cleanup(void)
{
    while (active)
        idle_forget(active);
    if (sweep_ev)
        event_free(sweep_ev);
    sweep_ev = NULL;
    armed = false;
}
