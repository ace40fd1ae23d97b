/* idle_sweep.h: why this exists: an idle client session should hold only
 * what it needs (docs/performance.md, memory per idle session), but the
 * buffers and parser state it used for its last stanzas are worth keeping
 * while it is busy. Connections "touch" their entry when they read; once
 * per IDLE_SWEEP_MS each worker looks at the connections touched since
 * the previous look but not since, and calls their release function (free
 * the XML parser, shrink buffers). Only recently active connections are on
 * the worker's list, so the sweep costs nothing for sessions that stay idle
 * and one pointer check per read for busy ones. Worker-thread only. */
#ifndef PLUCS_IDLE_SWEEP_H
#define PLUCS_IDLE_SWEEP_H

#include <stdbool.h>

struct event_base;

/* A connection is released 0.75-1.5 s after its last read: short enough
 * that a session is lean as soon as its login burst is over (and for the
 * bench's idle measurement), long enough that a chatting client keeps its
 * parser (recreating one costs a few microseconds). */
#define IDLE_SWEEP_MS 750

typedef struct idle_entry idle_entry;
struct idle_entry {
    idle_entry *next, **prev;       /* on the worker's list; prev NULL: not on it */
    void (*release)(idle_entry *e); /* called once quiet, after unlinking */
    unsigned tick;                  /* the sweep period of the last touch */
};

/* Marks e active now (links it to the calling worker's list). */
void idle_touch(struct event_base *base, idle_entry *e, void (*release)(idle_entry *e));
/* Takes e off the list (the connection goes away); idempotent. */
void idle_forget(idle_entry *e);
/* Frees the worker's timer (worker exit); entries must be forgotten first. */
void idle_sweep_worker_cleanup(void);

#endif
