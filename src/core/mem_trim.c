/* mem_trim.c: trims malloc's free memory on the main thread when workers
 * report the end of a burst, see mem_trim.h. Note: malloc_trim() takes each
 * arena's lock while it trims that arena, so a worker that allocates during
 * the trim of its own arena still waits for that part; it no longer waits
 * for the whole walk, nor do the sessions of the worker that asked. */
#include "core/mem_trim.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "core/log.h"

static struct event *_Atomic trim_ev;    /* main thread's; activated by workers */
static atomic_uint released;             /* reported since the last trim */
static atomic_bool requested;            /* trim_ev is active or armed */
static double last_trim;                 /* main thread only; 0: never */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_trim(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    double t0 = now_s();
    if (last_trim > 0 && t0 - last_trim < MEM_TRIM_MIN_SECS) {
        double wait = MEM_TRIM_MIN_SECS - (t0 - last_trim);
        struct timeval tv = { (long)wait, (long)((wait - (double)(long)wait) * 1e6) + 1 };
        evtimer_add(trim_ev, &tv);   /* still requested: comes back then */
        return;
    }
    atomic_store(&requested, false);
    unsigned n = atomic_exchange(&released, 0);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    last_trim = now_s();
    double ms = (last_trim - t0) * 1e3;
    if (ms >= 20)
        log_info("idle: returning freed memory to the system (malloc_trim, main thread) took "
                 "%.0f ms after %u released connection(s)", ms, n);
    else
        log_debug("idle: malloc_trim on the main thread took %.1f ms after %u released "
                  "connection(s)", ms, n);
}

int mem_trim_start(struct event_base *main_base)
{
    struct event *ev = evtimer_new(main_base, on_trim, NULL);
    atomic_store(&trim_ev, ev);
    return ev ? 0 : -1;
}

void mem_trim_report(unsigned n)
{
    if (atomic_fetch_add(&released, n) + n < MEM_TRIM_MIN_RELEASED)
        return;
    struct event *ev = atomic_load(&trim_ev);
    if (ev && !atomic_exchange(&requested, true))
        event_active(ev, EV_TIMEOUT, 0);
}

void mem_trim_stop(void)
{
    struct event *ev = atomic_exchange(&trim_ev, NULL);
    if (ev)
        event_free(ev);
}
