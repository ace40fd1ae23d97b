/* sm_queue.c: the pure counting of XEP-0198 (see sm.h): what the client
 * acknowledged, what it still has to, and the handled-stanza counter, all
 * modulo 2^32 as the XEP says. No I/O, no clock: unit tested alone. */
#include "transport/sm.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void sm_queue_init(sm_queue *q) { memset(q, 0, sizeof *q); }

void sm_queue_push(sm_queue *q, const char *data, size_t len, int64_t now_ms)
{
    sm_item *it = xmalloc(sizeof *it + len + 1);
    it->next = NULL;
    it->t_ms = now_ms;
    it->len = len;
    memcpy(it->data, data, len);
    it->data[len] = 0;
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->sent++;
    q->count++;
    q->bytes += len;
}

sm_item *sm_queue_pop(sm_queue *q)
{
    sm_item *it = q->head;
    if (!it)
        return NULL;
    q->head = it->next;
    if (!q->head)
        q->tail = NULL;
    it->next = NULL;
    q->count--;
    q->bytes -= it->len;
    return it;
}

int sm_queue_ack(sm_queue *q, uint32_t h)
{
    uint32_t n = h - q->acked;                /* wraps like the counters */
    if (n > (uint32_t)q->count)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        free(sm_queue_pop(q));
    q->acked = h;
    return 0;
}

void sm_queue_clear(sm_queue *q)
{
    sm_item *it;
    while ((it = sm_queue_pop(q)))
        free(it);
}

int sm_parse_h(const char *s, uint32_t *out)
{
    if (!s || !*s || strlen(s) > 10)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}
