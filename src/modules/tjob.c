/* tjob.c: see tjob.h. A per-thread doubly linked list. */
#include "modules/tjob.h"

#include <stdlib.h>

struct tjob {
    tjob *prev, *next;
    void *data;
    void (*free_fn)(void *);
};

static __thread tjob *head;

tjob *tjob_new(void *data, void (*free_fn)(void *))
{
    tjob *j = malloc(sizeof *j);
    if (!j)
        abort();
    j->data = data;
    j->free_fn = free_fn;
    j->prev = NULL;
    j->next = head;
    if (head)
        head->prev = j;
    head = j;
    return j;
}

void *tjob_take(tjob *j)
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

void tjobs_thread_exit(void)
{
    while (head) {
        tjob *j = head;
        head = j->next;
        if (j->free_fn)
            j->free_fn(j->data);
        free(j);
    }
}
