/* adhoc_session.c: the open ad-hoc command sessions (XEP-0050 sessionid)
 * of the calling worker. A command session belongs to the client session
 * that opened it, which lives on this worker for its whole life, so a
 * per-thread table needs no lock. It is small and bounded (see adhoc.h):
 * a linear scan is cheaper than any index at this size, expired entries
 * are dropped as they are met, and a client session's entries go when it
 * ends (EV_ENDED). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "modules/adhoc.h"

typedef struct entry {
    uint64_t sid;
    char id[24];
    const adhoc_cmd *cmd;
    char *domain;
    time_t opened;
} entry;

static _Thread_local entry *table;
static _Thread_local size_t count, cap;

static time_t now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void remove_at(size_t i)
{
    free(table[i].domain);
    table[i] = table[--count];
}

static bool expired(const entry *e, time_t t)
{
    return t - e->opened >= ADHOC_TTL;
}

static void sweep(time_t t)
{
    for (size_t i = 0; i < count;) {
        if (expired(&table[i], t))
            remove_at(i);
        else
            i++;
    }
}

bool adhoc_session_open(uint64_t sid, const char *id, const adhoc_cmd *cmd, const char *domain)
{
    time_t t = now();
    sweep(t);
    size_t mine = 0, oldest = 0;
    for (size_t i = 0; i < count; i++) {
        if (table[i].sid != sid)
            continue;
        if (!mine++ || table[i].opened < table[oldest].opened)
            oldest = i;
    }
    if (mine >= ADHOC_MAX_PER_SESSION) {
        log_info("adhoc: a client opened more than %d command sessions; closing its oldest (%s)",
                 ADHOC_MAX_PER_SESSION, table[oldest].cmd->node);
        remove_at(oldest);
    }
    if (count >= ADHOC_MAX_PER_WORKER)
        return false;
    if (count == cap) {
        cap = cap ? cap * 2 : 16;
        table = xrealloc(table, cap * sizeof *table);
    }
    entry *e = &table[count++];
    e->sid = sid;
    strncpy(e->id, id, sizeof e->id - 1);
    e->id[sizeof e->id - 1] = 0;
    e->cmd = cmd;
    e->domain = xstrdup(domain);
    e->opened = t;
    return true;
}

adhoc_lookup adhoc_session_take(uint64_t sid, const char *id, const adhoc_cmd **cmd,
                                char **domain)
{
    time_t t = now();
    for (size_t i = 0; i < count; i++) {
        if (table[i].sid != sid || strcmp(table[i].id, id))
            continue;
        if (expired(&table[i], t)) {
            remove_at(i);
            return ADHOC_EXPIRED;
        }
        *cmd = table[i].cmd;
        *domain = table[i].domain;
        table[i].domain = NULL;
        remove_at(i);
        return ADHOC_FOUND;
    }
    return ADHOC_UNKNOWN;
}

void adhoc_session_drop_all(uint64_t sid)
{
    for (size_t i = 0; i < count;) {
        if (table[i].sid == sid)
            remove_at(i);
        else
            i++;
    }
}

size_t adhoc_session_count(uint64_t sid)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        n += table[i].sid == sid;
    return n;
}

void adhoc_sessions_thread_exit(void)
{
    for (size_t i = 0; i < count; i++)
        free(table[i].domain);
    free(table);
    table = NULL;
    count = cap = 0;
}
