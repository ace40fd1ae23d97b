/* tjob.h: work a worker handed to another thread (store, directory) whose
 * answer may never come back when the server stops. Each worker keeps its
 * outstanding jobs in a list so that its exit frees them (no leaks). */
#ifndef PLUCS_TJOB_H
#define PLUCS_TJOB_H

typedef struct tjob tjob;

/* Registers data (freed by free_fn if the answer never comes). */
tjob *tjob_new(void *data, void (*free_fn)(void *data));
/* The answer came: unregisters and returns data (the caller owns it). */
void *tjob_take(tjob *j);
/* Worker exit: frees every outstanding job of the calling thread. */
void tjobs_thread_exit(void);

#endif
