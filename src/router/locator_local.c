/* locator_local.c: the session locator of a single plucsd process (see
 * locator.h): the routing table answers where a JID is, and a stanza for a
 * session on another worker travels as a posted closure carrying the
 * target's (worker, session id). Delivery on the calling worker is direct. */
#include "router/locator.h"
#include "core/alloc.h"

#include <stdlib.h>

#include "core/worker.h"
#include "router/router.h"
#include "router/routes.h"
#include "router/session.h"

typedef struct delivery {
    uint64_t sid;
    int worker;
    xnode *st;
} delivery;

static void deliver_run(void *arg)
{
    delivery *d = arg;
    session *s = session_find(worker_get(d->worker), d->sid);
    xnode *st = d->st;
    free(d);
    if (s && !s->closing) {
        router_deliver_session(s, st);
        return;
    }
    if (s && s->bound)   /* closing: no longer a candidate for delivery */
        routes_set_presence(s->bare, s->id, false, s->priority, NULL);
    router_session_gone(st);
}

static void deliver_drop(void *arg)
{
    delivery *d = arg;
    xnode_free(d->st);
    free(d);
}

static void local_deliver(const route_ref *r, xnode *st)
{
    delivery *d = xmalloc(sizeof *d);
    d->sid = r->sid;
    d->worker = r->worker;
    d->st = st;
    worker *self = worker_self();
    if (self && worker_id(self) == r->worker)
        deliver_run(d);
    else
        worker_post_drop(worker_get(r->worker), deliver_run, deliver_drop, d);
}

const session_locator locator_local = {
    .resources = routes_lookup,
    .resource = routes_find,
    .deliver = local_deliver,
};
