/* sm.c: XEP-0198 stream management on a client stream (see sm.h).
 *
 * The state (sm_state) belongs to the session, not to the connection: while
 * a stream is attached, the stream points to it; when the connection breaks
 * (EOF or error without </stream:stream>, or an <r/> left unanswered) and
 * the client enabled resumption, the session is detached: its ops are
 * swapped for detached_ops, which keep what is sent to it in the unacked
 * queue, the route is flagged detached and the session stays available to
 * contacts until the negotiated timeout. A <resume/> on the same worker
 * moves the session onto the new stream (xmpp_stream_adopt) and resends
 * what the client did not acknowledge. At expiry, or when a stream with
 * unacknowledged stanzas ends, the messages among them are rerouted as if
 * the resource had gone (router_session_gone: another resource or offline
 * storage); iq get/set are answered with an error, presence is dropped.
 *
 * Resumption ids are "<worker>.<session id>.<random>"; a resumption that
 * arrives on another worker than the session's is refused with <failed/>
 * (the client then binds a new resource; nothing is lost: the old session
 * expires and its messages are rerouted). */
#include "transport/sm.h"

#include <event2/event.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "core/worker.h"
#include "metrics/metrics.h"
#include "router/router.h"
#include "router/routes.h"
#include "transport/transport.h"
#include "transport/xmpp_stream.h"
#include "xml/xml_fragment.h"
#include "xmpp/stanza.h"

#define SM_REQUEST_EVERY 5       /* an <r/> after this many unacknowledged stanzas */
#define SM_REQUEST_AGE_MS 5000   /* ... or when the oldest is this old */
#define SM_ACK_WAIT_MAX 60       /* seconds an <r/> may stay unanswered */

struct sm_state {
    sm_queue q;
    session *s;
    xmpp_stream *st;         /* NULL while detached */
    bool resume;
    int max;                 /* negotiated resumption timeout, seconds */
    char id[96];
    struct event *tick;      /* attached: ack requests and their deadline */
    struct event *expire;    /* detached: the end of the wait (or a close) */
    uint32_t since_r;        /* stanzas sent since the last <r/> */
    int64_t r_sent_ms;       /* an <r/> waits for its <a/> since then; 0: none */
    int64_t detached_ms;
    sm_state *next, **prev;  /* the worker's detached list */
};

static __thread sm_state *detached_list;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sm_write(sm_state *sm, const char *s)
{
    if (sm->st)
        xmpp_stream_write(sm->st, s, strlen(s));
}

/* ---- features ---- */

void sm_features(const xmpp_stream *st, bool authed, buf *out)
{
    if (!authed || !config_current()->sm || !xmpp_stream_sm_capable(st))
        return;
    buf_puts(out, "<sm xmlns='" NS_SM "'/>");
}

/* ---- teardown ---- */

/* Messages among the unacknowledged stanzas go where they would have gone
 * had the resource not existed; runs after the session left the routes. */
typedef struct reroute {
    sm_item *items;
} reroute;

static void reroute_free(void *arg)
{
    reroute *r = arg;
    while (r->items) {
        sm_item *n = r->items->next;
        free(r->items);
        r->items = n;
    }
    free(r);
}

static void reroute_run(void *arg)
{
    reroute *r = arg;
    int n = 0;
    for (sm_item *it = r->items; it; it = it->next) {
        xnode *x = xml_fragment_parse(it->data, it->len, NS_CLIENT, XMPP_STREAM_MAX_DEPTH);
        if (!x)
            continue;
        if (stanza_kind_of(x) == STANZA_MESSAGE)
            n++;
        router_session_gone(x);
    }
    if (n)
        log_info("sm: %d unacknowledged message(s) rerouted", n);
    reroute_free(r);
}

/* Hands the queue to a reroute job run on the next loop turn (after the
 * session is freed). */
static void queue_reroute(sm_state *sm)
{
    if (!sm->q.count)
        return;
    reroute *r = xcalloc(1, sizeof *r);
    sm_item **tail = &r->items;
    sm_item *it;
    while ((it = sm_queue_pop(&sm->q))) {
        *tail = it;
        tail = &it->next;
    }
    worker *w = worker_self();
    if (w)
        worker_post_drop(w, reroute_run, reroute_free, r);
    else
        reroute_free(r);
}

static void sm_free(sm_state *sm)
{
    if (sm->tick)
        event_free(sm->tick);
    if (sm->expire)
        event_free(sm->expire);
    sm_queue_clear(&sm->q);
    free(sm);
}

static void unlink_detached(sm_state *sm)
{
    if (!sm->prev)
        return;
    *sm->prev = sm->next;
    if (sm->next)
        sm->next->prev = sm->prev;
    sm->prev = NULL;
    sm->next = NULL;
    metrics_sm_detached_add(-1);
}

/* A detached session's wait is over (or it was closed): it ends normally. */
static void detached_end(sm_state *sm)
{
    session *s = sm->s;
    unlink_detached(sm);
    log_info("sm: %s: resumption timeout, session ended (%zu unacknowledged)", s->full,
             sm->q.count);
    queue_reroute(sm);
    s->closing = false;
    session_free(s);   /* EV_ENDED: unavailable presence to contacts */
    sm_free(sm);
}

static void expire_cb(evutil_socket_t fd, short what, void *arg) { detached_end(arg); }

/* ---- detached session ops ---- */

static void det_write(session *s, const char *data, size_t len)
{
    sm_state *sm = s->conn;
    sm_queue_push(&sm->q, data, len, now_ms());
    if (sm->q.count > (size_t)config_current()->sm_max_unacked && !s->closing) {
        log_info("sm: %s: detached session exceeds plucs/sm/max_unacked, ending it", s->full);
        s->closing = true;
        event_active(sm->expire, EV_TIMEOUT, 0);
    }
}

static void det_close(session *s, const char *condition, const char *text)
{
    sm_state *sm = s->conn;
    (void)condition;
    (void)text;
    if (s->closing)
        return;
    s->closing = true;   /* never inside the caller: on the next loop turn */
    event_active(sm->expire, EV_TIMEOUT, 0);
}

static void det_noop(session *s) { (void)s; }

static const session_ops detached_ops = { det_write, det_close, det_noop, det_noop };

/* Takes s (whose stream is going away) into the detached state. */
static void detach(sm_state *sm, session *s)
{
    if (sm->tick)
        event_del(sm->tick);
    sm->st = NULL;
    sm->r_sent_ms = 0;
    sm->since_r = 0;
    s->ops = &detached_ops;
    s->conn = sm;
    s->detached = true;
    routes_set_detached(s->bare, s->id, true);
    sm->detached_ms = now_ms();
    sm->next = detached_list;
    if (sm->next)
        sm->next->prev = &sm->next;
    sm->prev = &detached_list;
    detached_list = sm;
    metrics_sm_detached_add(1);
    struct timeval tv = { sm->max, 0 };
    evtimer_add(sm->expire, &tv);
    log_info("sm: %s: connection lost, session detached for %d s (%zu unacknowledged)",
             s->full, sm->max, sm->q.count);
}

bool sm_stream_free(xmpp_stream *st, bool lost)
{
    sm_state *sm = xmpp_stream_sm(st);
    if (!sm)
        return false;
    xmpp_stream_set_sm(st, NULL);
    session *s = xmpp_stream_session(st);
    if (lost && sm->resume && s && s->bound && !transport_stopping()) {
        detach(sm, s);
        return true;
    }
    queue_reroute(sm);
    sm_free(sm);
    return false;
}

/* ---- attached: ack requests ---- */

static int ack_wait_s(const sm_state *sm)
{
    int t = config_current()->sm_timeout;
    if (sm->max < t)
        t = sm->max;
    if (t > SM_ACK_WAIT_MAX)
        t = SM_ACK_WAIT_MAX;
    return t < 1 ? 1 : t;
}

static void send_r(sm_state *sm)
{
    sm_write(sm, "<r xmlns='" NS_SM "'/>");
    sm->since_r = 0;
    if (!sm->r_sent_ms)
        sm->r_sent_ms = now_ms();
    if (!event_pending(sm->tick, EV_TIMEOUT, NULL)) {
        struct timeval tv = { 1, 0 };
        evtimer_add(sm->tick, &tv);
    }
}

/* The connection is considered broken: detach (resumable) or close. */
static void drop_stream(sm_state *sm)
{
    xmpp_stream *st = sm->st;
    session *s = sm->s;
    if (sm->resume) {
        log_info("sm: %s: no answer to <r/> within %d s, treating the connection as lost",
                 s->full, ack_wait_s(sm));
        xmpp_stream_set_sm(st, NULL);
        xmpp_stream_take_session(st);
        detach(sm, s);
        xmpp_stream_close(st, NULL, NULL);
    } else {
        log_info("sm: %s: no answer to <r/> within %d s, closing", s->full, ack_wait_s(sm));
        xmpp_stream_close(st, "connection-timeout", NULL);
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    sm_state *sm = arg;
    if (!sm->st)
        return;
    int64_t now = now_ms();
    if (sm->r_sent_ms && now - sm->r_sent_ms >= (int64_t)ack_wait_s(sm) * 1000) {
        drop_stream(sm);
        return;
    }
    if (!sm->r_sent_ms && sm->q.head && now - sm->q.head->t_ms >= SM_REQUEST_AGE_MS)
        send_r(sm);
    if (sm->r_sent_ms || sm->q.count) {
        struct timeval tv = { 1, 0 };
        evtimer_add(sm->tick, &tv);
    }
}

void sm_stanza_written(xmpp_stream *st, const char *data, size_t len)
{
    sm_state *sm = xmpp_stream_sm(st);
    if (!sm)
        return;
    sm_queue_push(&sm->q, data, len, now_ms());
    if (sm->q.count > (size_t)config_current()->sm_max_unacked) {
        log_info("sm: %s: more than plucs/sm/max_unacked (%d) unacknowledged stanzas, closing",
                 sm->s->full, config_current()->sm_max_unacked);
        xmpp_stream_close(st, "resource-constraint", NULL);
        return;
    }
    if (++sm->since_r >= SM_REQUEST_EVERY) {
        send_r(sm);
    } else if (!event_pending(sm->tick, EV_TIMEOUT, NULL)) {
        struct timeval tv = { 1, 0 };
        evtimer_add(sm->tick, &tv);
    }
}

void sm_stanza_handled(xmpp_stream *st)
{
    sm_state *sm = xmpp_stream_sm(st);
    if (sm)
        sm->q.handled++;
}

/* ---- elements ---- */

static void send_failed(xmpp_stream *st, const char *cond, const uint32_t *h)
{
    char out[200];
    if (h)
        snprintf(out, sizeof out, "<failed xmlns='" NS_SM "' h='%" PRIu32 "'><%s xmlns='"
                 NS_STANZAS "'/></failed>", *h, cond);
    else
        snprintf(out, sizeof out, "<failed xmlns='" NS_SM "'><%s xmlns='" NS_STANZAS "'/></failed>",
                 cond);
    xmpp_stream_write(st, out, strlen(out));
}

static void make_id(sm_state *sm)
{
    unsigned char rnd[12];
    RAND_bytes(rnd, sizeof rnd);
    int n = snprintf(sm->id, sizeof sm->id, "%d.%" PRIu64 ".", worker_id(sm->s->w), sm->s->id);
    for (size_t i = 0; i < sizeof rnd && n + 3 < (int)sizeof sm->id; i++)
        n += snprintf(sm->id + n, 3, "%02x", rnd[i]);
}

static void handle_enable(xmpp_stream *st, const xnode *el)
{
    session *s = xmpp_stream_session(st);
    const config *cfg = config_current();
    if (!cfg->sm || !xmpp_stream_sm_capable(st) || !s->bound || xmpp_stream_sm(st)) {
        send_failed(st, "unexpected-request", NULL);
        return;
    }
    sm_state *sm = xcalloc(1, sizeof *sm);
    sm_queue_init(&sm->q);
    sm->s = s;
    sm->st = st;
    const char *r = xnode_attr(el, "resume");
    sm->resume = r && (!strcmp(r, "true") || !strcmp(r, "1"));
    sm->max = cfg->sm_timeout;
    uint32_t want;
    if (sm_parse_h(xnode_attr(el, "max"), &want) == 0 && want > 0 && want < (uint32_t)sm->max)
        sm->max = (int)want;
    struct event_base *base = worker_base(s->w);
    sm->tick = evtimer_new(base, tick_cb, sm);
    sm->expire = evtimer_new(base, expire_cb, sm);
    xmpp_stream_set_sm(st, sm);
    char out[256];
    if (sm->resume) {
        make_id(sm);
        snprintf(out, sizeof out, "<enabled xmlns='" NS_SM "' id='%s' resume='true' max='%d'/>",
                 sm->id, sm->max);
    } else {
        snprintf(out, sizeof out, "<enabled xmlns='" NS_SM "'/>");
    }
    xmpp_stream_write(st, out, strlen(out));
    log_info("sm: %s: stream management enabled%s", s->full, sm->resume ? " with resumption" : "");
}

static void handle_ack(xmpp_stream *st, sm_state *sm, const xnode *el)
{
    uint32_t h;
    if (sm_parse_h(xnode_attr(el, "h"), &h) != 0) {
        xmpp_stream_close(st, "bad-format", NULL);
        return;
    }
    if (sm_queue_ack(&sm->q, h) != 0) {
        log_info("sm: %s: acknowledged %" PRIu32 " stanzas but only %" PRIu32 " were sent",
                 sm->s->full, h, sm->q.sent);
        xmpp_stream_close(st, "undefined-condition", "You acknowledged more stanzas than were sent");
        return;
    }
    sm->r_sent_ms = 0;
    if (!sm->q.count)
        event_del(sm->tick);
}

/* Finds the session a resumption id names on this worker; NULL with *why. */
static session *resume_target(const char *previd, const char *bare, sm_state **smp,
                              xmpp_stream **old_st, const char **why)
{
    int wid;
    uint64_t sid;
    char tail[64];
    *why = "item-not-found";
    if (!previd || sscanf(previd, "%d.%" SCNu64 ".%63s", &wid, &sid, tail) != 3)
        return NULL;
    worker *self = worker_self();
    if (wid < 0 || wid >= workers_count())
        return NULL;
    if (worker_get(wid) != self) {
        *why = "other-worker";
        return NULL;
    }
    session *s = session_find(self, sid);
    if (!s || !s->bound || s->closing || !s->bare || strcmp(s->bare, bare))
        return NULL;
    sm_state *sm;
    *old_st = NULL;
    if (s->ops == &detached_ops) {
        sm = s->conn;
    } else {
        *old_st = s->conn;
        sm = xmpp_stream_sm_of_session(s);
    }
    if (!sm || !sm->resume || strcmp(sm->id, previd))
        return NULL;
    *smp = sm;
    return s;
}

static void handle_resume(xmpp_stream *st, const xnode *el)
{
    session *cur = xmpp_stream_session(st);
    const char *previd = xnode_attr(el, "previd");
    uint32_t h;
    if (!config_current()->sm || !xmpp_stream_sm_capable(st) || cur->bound || xmpp_stream_sm(st)) {
        send_failed(st, "unexpected-request", NULL);
        return;
    }
    if (sm_parse_h(xnode_attr(el, "h"), &h) != 0) {
        send_failed(st, "bad-request", NULL);
        return;
    }
    sm_state *sm = NULL;
    xmpp_stream *old = NULL;
    const char *why;
    session *s = resume_target(previd, cur->bare, &sm, &old, &why);
    if (!s) {
        metrics_sm_resumption(false);
        log_info("sm: %s: resumption of '%.80s' refused (%s)", cur->bare, previd ? previd : "",
                 why);
        send_failed(st, "item-not-found", NULL);
        return;
    }
    if (old) {
        /* The client came back before we noticed the old connection broke:
         * take the session over and close the old stream silently. */
        xmpp_stream_set_sm(old, NULL);
        xmpp_stream_take_session(old);
        xmpp_stream_close(old, NULL, NULL);
    } else {
        unlink_detached(sm);
        event_del(sm->expire);
    }
    if (sm_queue_ack(&sm->q, h) != 0) {
        /* The client claims more than we sent: refuse and end the session
         * normally (it cannot be trusted to be in sync). */
        uint32_t handled = sm->q.handled;
        metrics_sm_resumption(false);
        send_failed(st, "unexpected-request", &handled);
        sm->st = NULL;
        s->ops = &detached_ops;
        s->conn = sm;
        s->closing = true;
        event_active(sm->expire, EV_TIMEOUT, 0);
        return;
    }
    xmpp_stream_adopt(st, s);
    s->detached = false;
    routes_set_detached(s->bare, s->id, false);
    sm->st = st;
    sm->r_sent_ms = 0;
    sm->since_r = 0;
    xmpp_stream_set_sm(st, sm);
    char out[200];
    snprintf(out, sizeof out, "<resumed xmlns='" NS_SM "' previd='%s' h='%" PRIu32 "'/>", sm->id,
             sm->q.handled);
    xmpp_stream_write(st, out, strlen(out));
    size_t n = 0;
    for (sm_item *it = sm->q.head; it; it = it->next, n++)
        xmpp_stream_write(st, it->data, it->len);
    metrics_sm_resumption(true);
    log_info("sm: %s: session resumed (%zu stanza(s) resent)", s->full, n);
    if (n)
        send_r(sm);
}

void sm_element(xmpp_stream *st, const xnode *el)
{
    sm_state *sm = xmpp_stream_sm(st);
    if (!strcmp(el->name, "enable")) {
        handle_enable(st, el);
    } else if (!strcmp(el->name, "resume")) {
        handle_resume(st, el);
    } else if (!strcmp(el->name, "r")) {
        if (!sm) {
            xmpp_stream_close(st, "unsupported-stanza-type", NULL);
            return;
        }
        char out[80];
        snprintf(out, sizeof out, "<a xmlns='" NS_SM "' h='%" PRIu32 "'/>", sm->q.handled);
        xmpp_stream_write(st, out, strlen(out));
    } else if (!strcmp(el->name, "a")) {
        if (!sm) {
            xmpp_stream_close(st, "unsupported-stanza-type", NULL);
            return;
        }
        handle_ack(st, sm, el);
    } else {
        xmpp_stream_close(st, "unsupported-stanza-type", NULL);
    }
}

/* ---- worker-wide ---- */

void sm_worker_cleanup(void)
{
    while (detached_list) {
        sm_state *sm = detached_list;
        unlink_detached(sm);
        session_free(sm->s);
        sm_free(sm);
    }
}

void sm_each_detached(void (*fn)(const session *s, int seconds_left, void *ud), void *ud)
{
    int64_t now = now_ms();
    for (sm_state *sm = detached_list; sm; sm = sm->next) {
        int64_t left = (int64_t)sm->max * 1000 - (now - sm->detached_ms);
        fn(sm->s, left > 0 ? (int)((left + 999) / 1000) : 0, ud);
    }
}
