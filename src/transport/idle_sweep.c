/* idle_sweep.c: the per-worker sweep that releases what quiet connections
 * do not need, see idle_sweep.h. Two periods: an entry touched in period t
 * is released by the sweep that ends period t + 1, so a connection is
 * released between IDLE_SWEEP_MS and twice that after its last read. */
#include "transport/idle_sweep.h"

#include <event2/event.h>
#include <stddef.h>

#include "core/mem_trim.h"
#include "xml/xml_pool.h"

/* Giving freed memory back to the kernel (core/mem_trim.h): once a
 * worker's burst is over (its list of recently active connections is empty
 * again after releases), or during a burst that never ends every
 * TRIM_AFTER releases, it reports them; the main thread decides. */
#define TRIM_AFTER 4096
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
    if (!released_since_trim || (active && released_since_trim < TRIM_AFTER))
        return;
    if (!active)
        xpool_trim();   /* the burst is over: the pool's spare chunks go too */
    mem_trim_report(released_since_trim);
    released_since_trim = 0;
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
    if (active)
        arm();
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
