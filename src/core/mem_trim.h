/* mem_trim.h: why this exists: after a burst of logins the freed parsers
 * and transient buffers sit in malloc's free lists and count in the RSS
 * (docs/performance.md, memory per idle session). glibc's malloc_trim()
 * gives those pages back, but it walks every arena's free lists, which can
 * take tens of milliseconds on a large heap: it must not run on a worker
 * thread, whose sessions would all wait. Workers only say "a burst is
 * over, N connections were released"; the main thread trims once the
 * workers together released MEM_TRIM_MIN_RELEASED (fewer: not a burst,
 * nothing worth a trim), at most once per MEM_TRIM_MIN_SECS. */
#ifndef PLUCS_MEM_TRIM_H
#define PLUCS_MEM_TRIM_H

struct event_base;

#define MEM_TRIM_MIN_SECS 5
#define MEM_TRIM_MIN_RELEASED 64

/* Main thread, once, before the workers report. Returns 0, -1 when the
 * event cannot be made (then reports are ignored and nothing is trimmed). */
int mem_trim_start(struct event_base *main_base);
/* Any thread: released connections gave memory back to malloc and their
 * burst is over; asks the main thread for a trim once enough were. Cheap:
 * an atomic add and, once per trim, an event_active(). Counted but not
 * acted on before mem_trim_start(). */
void mem_trim_report(unsigned released);
/* Main thread, after the workers were joined. */
void mem_trim_stop(void);

#endif
