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
 * what the client did not acknowledge; on another worker, the session stays
 * where it is and the new stream becomes a pipe to it (sm_pipe.c). At
 * expiry, or when a stream with unacknowledged stanzas ends, the messages
 * among them are rerouted as if the resource had gone (router_session_gone:
 * another resource or offline storage); iq get/set are answered with an
 * error, presence is dropped.
 *
 * Resumption ids are "<worker>.<session id>.<random>". */
#include "transport/sm_internal.h"

#include <event2/event.h>
#include <inttypes.h>
#include <openssl/rand.h>
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
#include "xml/xml_fragment.h"
#include "xmpp/stanza.h"

#define SM_REQUEST_EVERY 10      /* an <r/> after this many unacknowledged stanzas */
#define SM_REQUEST_AGE_MS 5000   /* ... or when the oldest is this old */
#define SM_ACK_WAIT_MAX 60       /* seconds an <r/> may stay unanswered */

static __thread sm_state *worker_list;   /* sessions without a stream of this worker */

int64_t sm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sm_out(sm_state *sm, const char *data, size_t len)
{
    if (sm->st)
        xmpp_stream_write(sm->st, data, len);
    else if (sm->pipe)
        sm_pipe_send(sm, data, len);
}

static void sm_out_str(sm_state *sm, const char *s) { sm_out(sm, s, strlen(s)); }

/* Ends the client's stream (with a stream error when condition is set);
 * through a pipe, the session ends here too (the other worker's stream
 * only closes). */
static void sm_close_conn(sm_state *sm, const char *condition, const char *text)
{
    if (sm->st) {
        xmpp_stream_close(sm->st, condition, text);
    } else if (sm->pipe) {
        sm_pipe_close(sm, condition, text);
        sm_pipe_free(sm);
        sm_end_soon(sm);
    }
}

/* ---- features ---- */

void sm_features(const xmpp_stream *st, bool authed, buf *out)
{
    if (!authed || !config_current()->sm || !xmpp_stream_sm_capable(st))
        return;
    buf_puts(out, "<sm xmlns='" NS_SM "'/>");
}

/* ---- the worker's list ---- */

void sm_list_add(sm_state *sm)
{
    if (sm->listed)
        return;
    sm->listed = true;
    sm->next = worker_list;
    if (sm->next)
        sm->next->prev = &sm->next;
    sm->prev = &worker_list;
    worker_list = sm;
}

void sm_list_remove(sm_state *sm)
{
    if (!sm->listed)
        return;
    *sm->prev = sm->next;
    if (sm->next)
        sm->next->prev = sm->prev;
    sm->prev = NULL;
    sm->next = NULL;
    sm->listed = false;
}

static void set_detached(sm_state *sm, bool on)
{
    if (sm->detached == on)
        return;
    sm->detached = on;
    sm->s->detached = on;
    routes_set_detached(sm->s->bare, sm->s->id, on);
    metrics_sm_detached_add(on ? 1 : -1);
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

/* Takes the unacknowledged stanzas out of the queue (NULL when none). */
static reroute *reroute_take(sm_state *sm)
{
    if (!sm->q.count)
        return NULL;
    reroute *r = xcalloc(1, sizeof *r);
    sm_item **tail = &r->items;
    sm_item *it;
    while ((it = sm_queue_pop(&sm->q))) {
        *tail = it;
        tail = &it->next;
    }
    return r;
}

/* Hands the queue to a reroute job run on the next loop turn, once the
 * stream freed the session (and it left the routes). */
static void queue_reroute(sm_state *sm)
{
    reroute *r = reroute_take(sm);
    if (!r)
        return;
    worker *w = worker_self();
    if (w)
        worker_post_drop(w, reroute_run, reroute_free, r);
    else
        reroute_free(r);
}

static void sm_free(sm_state *sm)
{
    sm_pipe_free(sm);
    sm_list_remove(sm);
    if (sm->tick)
        event_free(sm->tick);
    if (sm->expire)
        event_free(sm->expire);
    sm_queue_clear(&sm->q);
    free(sm);
}

/* A session without a stream of this worker ends normally. */
static void session_end(sm_state *sm)
{
    session *s = sm->s;
    if (sm->detached)
        log_info("sm: %s: no resumption within %d s, session ended (%zu unacknowledged)",
                 s->full, sm->max, sm->q.count);
    set_detached(sm, false);
    s->detached = false;
    sm_pipe_free(sm);
    reroute *r = reroute_take(sm);
    sm->ending = true;   /* what the ended hooks still send is dropped */
    s->closing = false;
    session_free(s);   /* EV_ENDED: unavailable presence to contacts */
    sm_free(sm);
    if (r)
        reroute_run(r);   /* the resource is gone now: elsewhere or offline */
}

static void expire_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    session_end(arg);
}

void sm_end_soon(sm_state *sm)
{
    if (sm->ending)
        return;
    sm->s->closing = true;   /* never inside the caller: on the next loop turn */
    event_active(sm->expire, EV_TIMEOUT, 0);
}

/* ---- detached session ops ---- */

static void det_write(session *s, const char *data, size_t len)
{
    sm_state *sm = s->conn;
    if (sm->ending)
        return;
    sm_queue_push(&sm->q, data, len, sm_now_ms());
    if (sm->q.count > (size_t)config_current()->sm_max_unacked && !s->closing) {
        log_info("sm: %s: detached session exceeds plucs/sm/max_unacked, ending it", s->full);
        sm_end_soon(sm);
    }
}

static void det_close(session *s, const char *condition, const char *text)
{
    (void)condition;
    (void)text;
    if (!s->closing)
        sm_end_soon(s->conn);
}

static void det_noop(session *s) { (void)s; }

static const session_ops detached_ops = { det_write, det_close, det_noop, det_noop };

void sm_detach(sm_state *sm, session *s)
{
    if (sm->tick)
        event_del(sm->tick);
    sm_pipe_free(sm);
    sm->st = NULL;
    sm->r_sent_ms = 0;
    sm->since_r = 0;
    s->ops = &detached_ops;
    s->conn = sm;
    set_detached(sm, true);
    sm->detached_ms = sm_now_ms();
    sm_list_add(sm);
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
        sm_detach(sm, s);
        return true;
    }
    queue_reroute(sm);
    sm_free(sm);
    return false;
}

void sm_connection_lost(xmpp_stream *st)
{
    sm_state *sm = xmpp_stream_sm(st);
    session *s = xmpp_stream_session(st);
    if (!sm || !sm->resume || !s->bound || s->closing || transport_stopping())
        return;
    xmpp_stream_set_sm(st, NULL);
    xmpp_stream_take_session(st);
    sm_detach(sm, s);
}

/* ---- attached: ack requests ---- */

static int ack_wait_s(const sm_state *sm)
{
    int t = sm->max;
    if (t > SM_ACK_WAIT_MAX)
        t = SM_ACK_WAIT_MAX;
    return t < 1 ? 1 : t;
}

static void tick_arm(sm_state *sm)
{
    if (!event_pending(sm->tick, EV_TIMEOUT, NULL)) {
        struct timeval tv = { 1, 0 };
        evtimer_add(sm->tick, &tv);
    }
}

static void send_r(sm_state *sm)
{
    sm_out_str(sm, "<r xmlns='" NS_SM "'/>");
    sm->since_r = 0;
    if (!sm->r_sent_ms)
        sm->r_sent_ms = sm_now_ms();
    tick_arm(sm);
}

/* The connection is considered broken: detach (resumable) or close. */
static void drop_stream(sm_state *sm)
{
    session *s = sm->s;
    if (!sm->resume) {
        log_info("sm: %s: no answer to <r/> within %d s, closing", s->full, ack_wait_s(sm));
        sm_close_conn(sm, "connection-timeout", NULL);
        return;
    }
    log_info("sm: %s: no answer to <r/> within %d s, treating the connection as lost", s->full,
             ack_wait_s(sm));
    xmpp_stream *st = sm->st;
    if (st) {
        xmpp_stream_set_sm(st, NULL);
        xmpp_stream_take_session(st);
        sm_detach(sm, s);
        xmpp_stream_close(st, NULL, NULL);
    } else {
        sm_pipe_close(sm, NULL, NULL);   /* only tells the other worker */
        sm_detach(sm, s);
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sm_state *sm = arg;
    if (!sm->st && !sm->pipe)
        return;
    int64_t now = sm_now_ms();
    if (sm->r_sent_ms && now - sm->r_sent_ms >= (int64_t)ack_wait_s(sm) * 1000) {
        drop_stream(sm);
        return;
    }
    if (!sm->r_sent_ms && sm->q.head && now - sm->q.head->t_ms >= SM_REQUEST_AGE_MS)
        send_r(sm);
    if (sm->r_sent_ms || sm->q.count)
        tick_arm(sm);
}

void sm_written(sm_state *sm, const char *data, size_t len)
{
    sm_queue_push(&sm->q, data, len, sm_now_ms());
    int max = config_current()->sm_max_unacked;
    if (sm->q.count > (size_t)max) {
        log_info("sm: %s: more than plucs/sm/max_unacked (%d) unacknowledged stanzas, closing",
                 sm->s->full, max);
        sm_close_conn(sm, "resource-constraint", NULL);
        return;
    }
    if (++sm->since_r >= SM_REQUEST_EVERY)
        send_r(sm);
    else
        tick_arm(sm);
}

void sm_stanza_written(xmpp_stream *st, const char *data, size_t len)
{
    sm_state *sm = xmpp_stream_sm(st);
    if (sm)
        sm_written(sm, data, len);
}

void sm_stanza_handled(xmpp_stream *st)
{
    sm_state *sm = xmpp_stream_sm(st);
    if (sm)
        sm->q.handled++;
}

/* ---- elements ---- */

static void failed_bytes(buf *b, const char *cond, const uint32_t *h)
{
    if (h)
        buf_printf(b, "<failed xmlns='" NS_SM "' h='%" PRIu32 "'>", *h);
    else
        buf_puts(b, "<failed xmlns='" NS_SM "'>");
    buf_printf(b, "<%s xmlns='" NS_STANZAS "'/></failed>", cond);
}

static void send_failed(xmpp_stream *st, const char *cond, const uint32_t *h)
{
    buf b;
    buf_init(&b);
    failed_bytes(&b, cond, h);
    xmpp_stream_write(st, b.data, b.len);
    buf_free(&b);
}

static void make_id(sm_state *sm)
{
    unsigned char rnd[12];
    RAND_bytes(rnd, sizeof rnd);
    int n = snprintf(sm->id, sizeof sm->id, "%d.%" PRIu64 ".", worker_id(sm->s->w), sm->s->id);
    for (size_t i = 0; i < sizeof rnd && n + 3 < (int)sizeof sm->id; i++)
        n += snprintf(sm->id + n, 3, "%02x", rnd[i]);
}

/* <enable/> (el) or Bind 2's inline enable (el NULL, resume given): the
 * answer goes to out when not NULL, else to the stream. */
static void enable_sm(xmpp_stream *st, const xnode *el, bool want_resume, buf *outb)
{
    session *s = xmpp_stream_session(st);
    const config *cfg = config_current();
    if (!cfg->sm || !xmpp_stream_sm_capable(st) || !s->bound || xmpp_stream_sm(st)) {
        if (outb)
            failed_bytes(outb, "unexpected-request", NULL);
        else
            send_failed(st, "unexpected-request", NULL);
        return;
    }
    sm_state *sm = xcalloc(1, sizeof *sm);
    sm_queue_init(&sm->q);
    sm->s = s;
    sm->st = st;
    const char *r = el ? xnode_attr(el, "resume") : NULL;
    sm->resume = el ? r && (!strcmp(r, "true") || !strcmp(r, "1")) : want_resume;
    sm->max = cfg->sm_timeout > 0 ? cfg->sm_timeout : 1;
    uint32_t want;
    if (el && sm_parse_h(xnode_attr(el, "max"), &want) == 0 && want > 0 &&
        want < (uint32_t)sm->max)
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
    if (outb)
        buf_puts(outb, out);
    else
        xmpp_stream_write(st, out, strlen(out));
    log_info("sm: %s: stream management enabled%s%s", s->full, sm->resume ? " with resumption" : "",
             outb ? " (Bind 2 inline)" : "");
}

static void handle_enable(xmpp_stream *st, const xnode *el) { enable_sm(st, el, false, NULL); }

void sm_enable_inline(xmpp_stream *st, bool resume, buf *out) { enable_sm(st, NULL, resume, out); }

static void handle_ack(sm_state *sm, const xnode *el)
{
    uint32_t h;
    if (sm_parse_h(xnode_attr(el, "h"), &h) != 0) {
        sm_close_conn(sm, "bad-format", NULL);
        return;
    }
    if (sm_queue_ack(&sm->q, h) != 0) {
        log_info("sm: %s: acknowledged %" PRIu32 " stanzas but only %" PRIu32 " were sent",
                 sm->s->full, h, sm->q.sent);
        sm_close_conn(sm, "undefined-condition", "You acknowledged more stanzas than were sent");
        return;
    }
    sm->r_sent_ms = 0;
    /* The tick stops re-arming itself once nothing waits (no del/add per
     * acknowledgement on a busy stream). */
}

void sm_attached_element(sm_state *sm, const xnode *el)
{
    if (!strcmp(el->name, "r")) {
        char out[80];
        snprintf(out, sizeof out, "<a xmlns='" NS_SM "' h='%" PRIu32 "'/>", sm->q.handled);
        sm_out_str(sm, out);
    } else if (!strcmp(el->name, "a")) {
        handle_ack(sm, el);
    } else if (!strcmp(el->name, "enable") || !strcmp(el->name, "resume")) {
        buf b;
        buf_init(&b);
        failed_bytes(&b, "unexpected-request", NULL);
        sm_out(sm, b.data, b.len);
        buf_free(&b);
    } else {
        sm_close_conn(sm, "unsupported-stanza-type", NULL);
    }
}

sm_state *sm_take_for_resume(const char *previd, const char *bare, uint32_t h, bool *bad_h)
{
    int wid;
    uint64_t sid;
    char tail[64];
    *bad_h = false;
    if (!previd || sscanf(previd, "%d.%" SCNu64 ".%63s", &wid, &sid, tail) != 3)
        return NULL;
    worker *self = worker_self();
    if (!self || wid != worker_id(self))
        return NULL;
    session *s = session_find(self, sid);
    if (!s || !s->bound || s->closing || !s->bare || strcmp(s->bare, bare))
        return NULL;
    sm_state *sm;
    xmpp_stream *old = NULL;
    if (s->ops == &detached_ops) {
        sm = s->conn;
    } else if ((sm = xmpp_stream_sm_of_session(s))) {
        old = s->conn;
    } else {
        sm = sm_pipe_state_of(s);
    }
    if (!sm || !sm->resume || strcmp(sm->id, previd))
        return NULL;
    uint32_t acked = sm->q.acked;
    if ((uint32_t)(h - acked) > (uint32_t)sm->q.count) {
        *bad_h = true;
        return NULL;
    }
    if (old) {
        /* The client came back before we noticed the old connection broke:
         * take the session over and close the old stream silently. */
        xmpp_stream_set_sm(old, NULL);
        xmpp_stream_take_session(old);
        xmpp_stream_close(old, NULL, NULL);
        sm->st = NULL;
        if (sm->tick)
            event_del(sm->tick);
    } else if (sm->pipe) {
        sm_pipe_close(sm, NULL, NULL);
        sm_pipe_free(sm);
    }
    evtimer_del(sm->expire);
    set_detached(sm, false);
    sm_list_remove(sm);
    sm_queue_ack(&sm->q, h);
    sm->r_sent_ms = 0;
    sm->since_r = 0;
    return sm;
}

void sm_resumed_bytes(sm_state *sm, buf *out)
{
    buf_printf(out, "<resumed xmlns='" NS_SM "' previd='%s' h='%" PRIu32 "'/>", sm->id,
               sm->q.handled);
}

void sm_resend(sm_state *sm)
{
    /* One write per stanza: WebSocket frames carry one element each. */
    for (sm_item *it = sm->q.head; it; it = it->next)
        sm_out(sm, it->data, it->len);
}

/* After a successful resumption: acks for what was resent. */
void sm_after_resume(sm_state *sm)
{
    metrics_sm_resumption(true);
    log_info("sm: %s: session resumed (%zu stanza(s) resent)", sm->s->full, sm->q.count);
    if (sm->q.count)
        send_r(sm);
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
    int wid = -1;
    if (previd)
        sscanf(previd, "%d.", &wid);
    if (wid >= 0 && wid < workers_count() && wid != worker_id(cur->w)) {
        sm_pipe_request(st, wid, previd, h);   /* answered asynchronously */
        return;
    }
    bool bad_h;
    sm_state *sm = sm_take_for_resume(previd, cur->bare, h, &bad_h);
    if (!sm) {
        metrics_sm_resumption(false);
        log_info("sm: %s: resumption of '%.80s' refused (%s)", cur->bare, previd ? previd : "",
                 bad_h ? "h beyond what was sent" : "unknown or expired");
        send_failed(st, bad_h ? "unexpected-request" : "item-not-found", NULL);
        return;
    }
    session *s = sm->s;
    xmpp_stream_adopt(st, s);
    sm->st = st;
    xmpp_stream_set_sm(st, sm);
    buf b;
    buf_init(&b);
    sm_resumed_bytes(sm, &b);
    xmpp_stream_write(st, b.data, b.len);
    buf_free(&b);
    sm_resend(sm);
    sm_after_resume(sm);
}

void sm_element(xmpp_stream *st, const xnode *el)
{
    sm_state *sm = xmpp_stream_sm(st);
    if (!strcmp(el->name, "enable") && !sm) {
        handle_enable(st, el);
    } else if (!strcmp(el->name, "resume") && !sm) {
        handle_resume(st, el);
    } else if (sm) {
        sm_attached_element(sm, el);
    } else {
        xmpp_stream_close(st, "unsupported-stanza-type", NULL);
    }
}

/* ---- worker-wide ---- */

void sm_worker_cleanup(void)
{
    while (worker_list) {
        sm_state *sm = worker_list;
        sm_list_remove(sm);
        set_detached(sm, false);
        sm->ending = true;
        sm_pipe_free(sm);
        session_free(sm->s);
        sm_free(sm);
    }
}

void sm_each_detached(void (*fn)(const session *s, int seconds_left, void *ud), void *ud)
{
    int64_t now = sm_now_ms();
    for (sm_state *sm = worker_list; sm; sm = sm->next) {
        if (!sm->detached)
            continue;
        int64_t left = (int64_t)sm->max * 1000 - (now - sm->detached_ms);
        fn(sm->s, left > 0 ? (int)((left + 999) / 1000) : 0, ud);
    }
}
