/* transport.c: per-worker connection accounting and the shutdown steps
 * shared by all transports (see transport.h). */
#include "transport/transport.h"

#include <event2/event.h>

#include "core/i18n.h"
#include "core/worker.h"
#include "router/session.h"
#include "transport/bosh.h"
#include "transport/http.h"
#include "transport/poll.h"
#include "transport/sm.h"
#include "transport/xmpp_stream.h"

static __thread int worker_conns;     /* connections and sessions of this worker */
static __thread bool worker_stopping;
static __thread struct event *stop_timer;

static void stop_worker_if_done(void)
{
    if (worker_stopping && worker_conns == 0)
        event_base_loopexit(worker_base(worker_self()), NULL);
}

void transport_conn_opened(void) { worker_conns++; }

void transport_conn_closed(void)
{
    worker_conns--;
    stop_worker_if_done();
}

bool transport_stopping(void) { return worker_stopping; }

static void shutdown_one(session *s, void *ud)
{
    s->ops->close(s, "system-shutdown", i18n(s->lang, T_SHUTDOWN));
}

static void stop_timeout(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopexit(worker_base(worker_self()), NULL);
}

void transport_worker_shutdown(void *arg)
{
    worker *w = worker_self();
    worker_stopping = true;
    sessions_each(w, shutdown_one, NULL);
    http_worker_shutdown();
    stop_timer = evtimer_new(worker_base(w), stop_timeout, NULL);
    struct timeval tv = { 3, 0 };
    evtimer_add(stop_timer, &tv);
    stop_worker_if_done();
}

static void free_one(session *s, void *ud)
{
    xmpp_stream_destroy_transport(s->conn);
}

void transport_worker_cleanup(void)
{
    worker *w = worker_self();
    sm_worker_cleanup();   /* detached sessions have no transport */
    sessions_each(w, free_one, NULL);
    bosh_worker_cleanup();
    poll_worker_cleanup();
    http_worker_cleanup();
    worker_stopping = false;
    if (stop_timer)
        event_free(stop_timer);
    stop_timer = NULL;
    session_thread_exit();
}
