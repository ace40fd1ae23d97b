/* async_job.c: see async_job.h. A per-thread doubly linked list. */
#include "modules/async_job.h"
#include "core/alloc.h"

#include <stdlib.h>

struct async_job {
    async_job *prev, *next;
    void *data;
    void (*free_fn)(void *);
};

static __thread async_job *head;

async_job *async_job_new(void *data, void (*free_fn)(void *))
{
    async_job *j = xmalloc(sizeof *j);
    j->data = data;
    j->free_fn = free_fn;
    j->prev = NULL;
    j->next = head;
    if (head)
        head->prev = j;
    head = j;
    return j;
}

void *async_job_take(async_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    void *d = j->data;
    free(j);
    return d;
}

void async_jobs_thread_exit(void)
{
    while (head) {
        async_job *j = head;
        head = j->next;
        if (j->free_fn)
            j->free_fn(j->data);
        free(j);
    }
}
