/* worker.h: the I/O worker threads. Each worker owns a libevent event_base
 * and every connection it accepted, for the connection's whole life. Other
 * threads never touch a worker's sessions: they post a closure into the
 * worker's inbox (a locked queue plus a wake-up event), and the function runs
 * on the worker's own thread at its next loop turn. */
#ifndef PLUCS_WORKER_H
#define PLUCS_WORKER_H

struct event_base;
typedef struct worker worker;

int workers_start(int count);      /* creates and starts count workers; 0 or -1 */
void workers_stop(void);           /* stops every loop and joins the threads */
/* Joins threads whose loops end by themselves (event_base_loopexit). Posts
 * to joined workers are dropped (their drop function runs). */
void workers_join(void);
/* Frees the joined workers; after every other thread that posts stopped. */
void workers_free(void);
/* fn runs on each worker thread after its loop ended (set before start). */
void workers_set_exit_hook(void (*fn)(void));
int workers_count(void);
worker *worker_get(int i);
worker *worker_self(void);         /* the calling thread's worker, NULL elsewhere */
int worker_id(const worker *w);
struct event_base *worker_base(worker *w);

/* Thread-safe: runs fn(arg) on w's thread. When fn never runs because the
 * worker is stopping, drop(arg) is called instead (may be NULL). */
void worker_post(worker *w, void (*fn)(void *arg), void *arg);
void worker_post_drop(worker *w, void (*fn)(void *arg), void (*drop)(void *arg), void *arg);

/* Runs fn(arg) on every worker (each gets the same arg); used for
 * broadcasts such as "configuration changed". */
void workers_broadcast(void (*fn)(void *arg), void *arg);

#endif
