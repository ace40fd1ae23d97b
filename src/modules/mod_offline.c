/* mod_offline.c: messages for an account with no available resource
 * (RFC 6121 §8.5.2.2 with XEP-0160's rules): chat and normal messages are
 * stored, stamped (XEP-0203 <delay/>), and delivered at the next initial
 * presence; beyond plucs/offline/max the sender gets service-unavailable.
 * The sender's stream is paused until the store committed, so a message is
 * durable before the next stanza of that stream is processed. Hooks on the
 * router's EV_UNDELIVERABLE (store) and presence's EV_AVAILABLE (deliver).
 *
 * A message can be stored while its recipient is coming online on another
 * worker: the store may commit it after the recipient's fetch. So a
 * committed push looks again; if the recipient is available by now, its
 * top resource fetches once more. Fetches of one session never overlap (the
 * next waits for the previous acknowledgement), so nothing comes twice. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/config.h"
#include "core/alloc.h"
#include "core/i18n.h"
#include "core/log.h"
#include "modules/module.h"
#include "modules/async_job.h"
#include "router/router.h"
#include "router/routes.h"
#include "store/store_offline.h"
#include "xml/xml_fragment.h"
#include "xmpp/stanza.h"

#define NS_DELAY "urn:xmpp:delay"

static int slot = -1;   /* per session: its fetch state (fetch) */

typedef struct fetch {
    bool in_flight;       /* a pop_all is on its way; the next one waits */
    bool again;           /* asked for while in flight */
} fetch;

typedef struct push_job {
    uint64_t origin;      /* the sending session, paused; 0 when none */
    int worker;
    xnode *st;            /* for the error when it could not be stored */
    char *bare;           /* the recipient */
} push_job;

static void push_job_free(void *p)
{
    push_job *j = p;
    xnode_free(j->st);
    free(j->bare);
    free(j);
}

static void offline_deliver(session *s);

typedef struct recheck {
    uint64_t sid;
} recheck;

static void recheck_run(void *arg)
{
    recheck *r = arg;
    session *s = session_find(worker_self(), r->sid);
    if (s && !s->closing && s->available)
        offline_deliver(s);
    free(r);
}

/* After a committed push: the recipient may have come online meanwhile. */
static void recheck_recipient(const char *bare)
{
    route_ref refs[ROUTES_MAX_RESOURCES];
    size_t top[ROUTES_MAX_RESOURCES];
    size_t n = router_resources(bare, refs, ROUTES_MAX_RESOURCES);
    if (!routes_pick_top(refs, n, top))
        return;
    recheck *r = xmalloc(sizeof *r);
    r->sid = refs[top[0]].sid;
    worker_post_drop(worker_get(refs[top[0]].worker), recheck_run, free, r);
}

static void stamp_now(char *out, size_t len)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

static void pushed(void *arg, store_status st, int64_t value)
{
    push_job *j = async_job_take(arg);
    if (st != STORE_OK) {
        const char *to = xnode_attr(j->st, "to");
        if (st == STORE_FULL)
            log_info("offline: storage of %s is full (%lld messages), refusing a message",
                     to ? to : "?", (long long)value);
        else
            log_err("offline: cannot store a message for %s", to ? to : "?");
        router_bounce(j->st, ERR_CANCEL, "service-unavailable",
                      st == STORE_FULL ? i18n(NULL, T_OFFLINE_FULL) : NULL);
    } else {
        recheck_recipient(j->bare);
    }
    if (j->origin) {
        session *s = session_find(worker_get(j->worker), j->origin);
        if (s)
            s->ops->resume(s);
    }
    push_job_free(j);
}

/* EV_UNDELIVERABLE: a message for bare, which has no available resource;
 * st borrowed. Not storable: the router answers service-unavailable. */
static hook_result offline_store(session *origin, xnode *st, const char *bare)
{
    int max = config_current()->offline_max;
    const char *type = xnode_attr(st, "type");
    bool storable = !type || !strcmp(type, "chat") || !strcmp(type, "normal");
    if (!storable || max <= 0)
        return HOOK_CONTINUE;
    if (!xnode_child(st, "body", NULL))
        return HOOK_STOP;   /* chat states etc.: dropped silently (XEP-0160 §3) */
    char stamp[40];
    stamp_now(stamp, sizeof stamp);
    xnode *copy = xnode_copy(st);
    xnode *d = xnode_add_child(copy, "delay", NS_DELAY);
    const char *at = strchr(bare, '@');
    xnode_set_attr(d, "from", at ? at + 1 : bare);
    xnode_set_attr(d, "stamp", stamp);
    xnode_add_text(d, "Offline Storage", 15);
    char *xml = xml_to_string(copy, NS_CLIENT);
    xnode_free(copy);

    push_job *j = xcalloc(1, sizeof *j);
    j->st = xnode_copy(st);
    j->bare = xstrdup(bare);
    if (origin) {
        j->origin = origin->id;
        j->worker = worker_id(origin->w);
        origin->ops->pause(origin);
    }
    store_offline_push(worker_self(), bare, xml, max, pushed, async_job_new(j, push_job_free));
    free(xml);
    return HOOK_STOP;
}

typedef struct pop_job {
    uint64_t sid;
    char *bare;
} pop_job;

static void pop_job_free(void *p)
{
    pop_job *j = p;
    free(j->bare);
    free(j);
}

static void popped(void *arg, store_offline *o)
{
    pop_job *j = async_job_take(arg);
    session *s = session_find(worker_self(), j->sid);
    fetch *f = s ? s->slots[slot] : NULL;
    if (s && !s->closing && o->status == STORE_OK && o->n) {
        for (size_t i = 0; i < o->n; i++) {
            /* Stored stanzas pass the delivery hooks too (blocking...). */
            xnode *st = xml_fragment_parse(o->msgs[i].stanza, strlen(o->msgs[i].stanza),
                                           NS_CLIENT, 64);
            if (st && events_stanza(EV_INBOUND, s, st) == HOOK_CONTINUE)
                session_send(s, st);
            xnode_free(st);
        }
        /* Handed to the transport: now they may go. */
        store_offline_ack(NULL, j->bare, o->max_id, NULL, NULL);
        log_info("offline: delivered %zu stored message(s) to %s", o->n, s->full);
    }
    store_offline_free(o);
    pop_job_free(j);
    if (f) {
        /* The ack above is queued before any next fetch of this session. */
        f->in_flight = false;
        if (f->again && !s->closing) {
            f->again = false;
            offline_deliver(s);
        }
    }
}

/* EV_AVAILABLE (and a recheck): s's stored messages. */
static void offline_deliver(session *s)
{
    fetch *f = s->slots[slot];
    if (!f)
        f = s->slots[slot] = xcalloc(1, sizeof *f);
    if (f->in_flight) {
        f->again = true;
        return;
    }
    f->in_flight = true;
    pop_job *j = xcalloc(1, sizeof *j);
    j->sid = s->id;
    j->bare = xstrdup(s->bare);
    store_offline_pop_all(s->w, s->bare, popped, async_job_new(j, pop_job_free));
}

static void offline_init(void)
{
    module_add_feature("msgoffline");
    module_hook_undeliverable(offline_store);
    module_hook_session(EV_AVAILABLE, offline_deliver);
}

const module mod_offline = {
    .name = "offline",
    .init = offline_init,
    .slot = &slot,
    .slot_free = free,
};
