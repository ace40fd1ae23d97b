/* events.c: the hook tables behind events.h: one fixed array per event,
 * filled at start-up, read-only while the workers run. */
#include "router/events.h"

#include <stddef.h>

static struct {
    stanza_hook fn[EVENT_MAX_HOOKS];
    size_t n;
} stanza_hooks[EV_STANZA_COUNT];

static struct {
    session_hook fn[EVENT_MAX_HOOKS];
    size_t n;
} session_hooks[EV_SESSION_COUNT];

static undeliverable_hook undeliverable_hooks[EVENT_MAX_HOOKS];
static size_t nundeliverable;
static snapshot_hook snapshot_hooks[EVENT_MAX_HOOKS];
static size_t nsnapshot;

int events_on_stanza(stanza_event ev, stanza_hook fn)
{
    if ((unsigned)ev >= EV_STANZA_COUNT || stanza_hooks[ev].n >= EVENT_MAX_HOOKS)
        return -1;
    stanza_hooks[ev].fn[stanza_hooks[ev].n++] = fn;
    return 0;
}

int events_on_session(session_event ev, session_hook fn)
{
    if ((unsigned)ev >= EV_SESSION_COUNT || session_hooks[ev].n >= EVENT_MAX_HOOKS)
        return -1;
    session_hooks[ev].fn[session_hooks[ev].n++] = fn;
    return 0;
}

int events_on_undeliverable(undeliverable_hook fn)
{
    if (nundeliverable >= EVENT_MAX_HOOKS)
        return -1;
    undeliverable_hooks[nundeliverable++] = fn;
    return 0;
}

int events_on_snapshot(snapshot_hook fn)
{
    if (nsnapshot >= EVENT_MAX_HOOKS)
        return -1;
    snapshot_hooks[nsnapshot++] = fn;
    return 0;
}

hook_result events_stanza(stanza_event ev, session *s, xnode *st)
{
    for (size_t i = 0; i < stanza_hooks[ev].n; i++)
        if (stanza_hooks[ev].fn[i](s, st) == HOOK_STOP)
            return HOOK_STOP;
    return HOOK_CONTINUE;
}

void events_session(session_event ev, session *s)
{
    for (size_t i = 0; i < session_hooks[ev].n; i++)
        session_hooks[ev].fn[i](s);
}

hook_result events_undeliverable(session *origin, xnode *st, const char *bare)
{
    for (size_t i = 0; i < nundeliverable; i++)
        if (undeliverable_hooks[i](origin, st, bare) == HOOK_STOP)
            return HOOK_STOP;
    return HOOK_CONTINUE;
}

void events_snapshot(const struct dir_snapshot *old, const struct config *old_cfg,
                     const struct dir_snapshot *snap)
{
    for (size_t i = 0; i < nsnapshot; i++)
        snapshot_hooks[i](old, old_cfg, snap);
}

void events_reset(void)
{
    for (int e = 0; e < EV_STANZA_COUNT; e++)
        stanza_hooks[e].n = 0;
    for (int e = 0; e < EV_SESSION_COUNT; e++)
        session_hooks[e].n = 0;
    nundeliverable = nsnapshot = 0;
}
