/* async_job.h: work a worker handed to another thread (store, directory) whose
 * answer may never come back when the server stops. Each worker keeps its
 * outstanding jobs in a list so that its exit frees them (no leaks). */
#ifndef PLUCS_ASYNC_JOB_H
#define PLUCS_ASYNC_JOB_H

typedef struct async_job async_job;

/* Registers data (freed by free_fn if the answer never comes). */
async_job *async_job_new(void *data, void (*free_fn)(void *data));
/* The answer came: unregisters and returns data (the caller owns it). */
void *async_job_take(async_job *j);
/* Worker exit: frees every outstanding job of the calling thread. */
void async_jobs_thread_exit(void);

#endif
