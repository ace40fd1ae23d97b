/* websocket.c: the WebSocket transport (see websocket.h). Input: wslay
 * reads frames from the bufferevent and hands us whole messages; each text
 * message goes through one XML stream parser that was primed with a
 * wrapper element (so the stream parser's limits and restrictions apply to
 * every element), and must yield exactly one element. Output: every element
 * the stream layer writes becomes one text message, with the namespace
 * declarations it needs to stand alone. A connection quiet for a sweep
 * period frees its parser between messages (idle_sweep.h), as c2s does. */
#include "transport/websocket.h"
#include "core/alloc.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wslay/wslay.h>

#include "core/config.h"
#include "core/i18n.h"
#include "core/log.h"
#include "transport/framing.h"
#include "transport/idle_sweep.h"
#include "transport/transport.h"
#include "transport/xmpp_stream.h"

#define CLOSE_TIMEOUT 5
#define MAX_OUTPUT (4u << 20)

static const char wrapper[] = "<ws xmlns='jabber:client'>";

typedef struct ws {
    struct bufferevent *bev;
    wslay_event_context_ptr ctx;
    xmpp_stream *st;
    xstream *xs;
    char peer[112];
    int elements;             /* elements the current message yielded */
    bool reading;
    bool closing;             /* our side ended: flush and go */
    bool bad_message;
    bool close_pending;       /* send the close frame once the data is out */
    bool overflowed;          /* MAX_OUTPUT passed: nothing more is queued or read */
    bool overflow_handled;
    xnode *pending;           /* the element of the message being parsed */
    time_t last_rx;
    struct event *ping_timer;
    struct event *close_timer;
    struct event *check_ev;   /* deferred: free when done */
    conn_slot slot;           /* pre-authentication count until SASL success */
    idle_entry idle;          /* on the worker's sweep list while recently active */
} ws;

static void ws_pump(ws *c);
static void dispatch(ws *c, xnode *el);

/* Quiet for a sweep period: the parser goes between two messages (every
 * message is one whole element) and the next message gets a fresh one,
 * primed with the wrapper element's namespace (xstream_release). */
static void ws_idle(idle_entry *e)
{
    ws *c = (ws *)((char *)e - offsetof(ws, idle));
    if (!c->closing && c->xs && xstream_release(c->xs))
        log_debug("websocket: %s: idle, XML parser released", c->peer);
}

/* ---- lifetime ---- */

static void ws_free(ws *c)
{
    idle_forget(&c->idle);
    xnode_free(c->pending);
    xmpp_stream_free(c->st);
    if (c->xs)
        xstream_free(c->xs);
    if (c->ctx)
        wslay_event_context_free(c->ctx);
    if (c->bev)
        bufferevent_free(c->bev);
    event_free(c->ping_timer);
    event_free(c->close_timer);
    event_free(c->check_ev);
    conn_limits_release(&c->slot);
    free(c);
    transport_conn_closed();
}

/* Done when both sides said close (or the connection failed) and our
 * output left. */
static void check_run(evutil_socket_t fd, short what, void *arg)
{
    ws *c = arg;
    bool out_empty = evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
    bool wslay_done = !wslay_event_want_read(c->ctx) && !wslay_event_want_write(c->ctx);
    if (c->closing && out_empty && (wslay_done || wslay_event_get_close_sent(c->ctx)))
        ws_free(c);
}

static void schedule_check(ws *c) { event_active(c->check_ev, EV_TIMEOUT, 0); }

static void close_timeout(evutil_socket_t fd, short what, void *arg) { ws_free(arg); }

/* ---- wslay callbacks ---- */

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *data, size_t len, int flags, void *ud)
{
    ws *c = ud;
    int n = evbuffer_remove(bufferevent_get_input(c->bev), data, len);
    if (n <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return n;
}

/* Every frame goes through here, data and control (the automatic PONGs
 * too), so the output cap holds for all of them: beyond MAX_OUTPUT the
 * frame is dropped and the connection is cut (ws_pump, outside wslay). */
static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
    ws *c = ud;
    if (c->overflowed)
        return (ssize_t)len;   /* discarded: the connection is being cut */
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) + len > MAX_OUTPUT) {
        c->overflowed = true;
        return (ssize_t)len;
    }
    if (evbuffer_add(bufferevent_get_output(c->bev), data, len) != 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *ud)
{
    ws *c = ud;
    c->last_rx = time(NULL);
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        log_debug("websocket: %s: close frame (%u)", c->peer, arg->status_code);
        if (!xmpp_stream_closing(c->st))
            xmpp_stream_end(c->st);
        return;
    }
    if (arg->opcode == WSLAY_BINARY_FRAME) {
        log_info("websocket: %s: binary message refused", c->peer);
        wslay_event_queue_close(ctx, WSLAY_CODE_UNSUPPORTED_DATA, NULL, 0);
        xmpp_stream_close(c->st, "unsupported-stanza-type", NULL);
        return;
    }
    if (arg->opcode != WSLAY_TEXT_FRAME || xmpp_stream_closing(c->st))
        return;
    /* msg is not NUL-terminated (and NULL when empty): no strspn here
     * (a heap over-read found by fuzz_ws) */
    size_t skip = 0;
    while (skip < arg->msg_length && memchr(" \t\r\n", arg->msg[skip], 4))
        skip++;
    if (skip >= arg->msg_length)
        return;   /* whitespace keep-alive */
    c->elements = 0;
    c->bad_message = false;
    xstream_feed(c->xs, (const char *)arg->msg, arg->msg_length);
    if (!c->closing)
        idle_touch(bufferevent_get_base(c->bev), &c->idle, ws_idle);
    xnode *el = c->pending;
    c->pending = NULL;
    if (xmpp_stream_closing(c->st)) {
        xnode_free(el);
    } else if (c->elements != 1 || c->bad_message) {
        xnode_free(el);
        log_info("websocket: %s: a message must hold exactly one complete element (RFC 7395)",
                 c->peer);
        xmpp_stream_close(c->st, "not-well-formed", NULL);
    } else {
        dispatch(c, el);
    }
}

/* ---- parser callbacks (inside the wrapper element) ---- */

static void xs_open(void *ud, const xnode *hdr, const char *default_ns) {}

/* Only whole messages of exactly one element are acted on. */
static void xs_stanza(void *ud, xnode *el)
{
    ws *c = ud;
    if (++c->elements > 1) {
        c->bad_message = true;
        xnode_free(el);
        return;
    }
    c->pending = el;
}

static void dispatch(ws *c, xnode *el)
{
    if (!strcmp(el->name, "open") && !strcmp(el->ns, NS_FRAMING)) {
        xmpp_stream_open(c->st, xnode_attr(el, "to"), xnode_attr(el, "version"),
                         xnode_attr(el, "xml:lang"));
        xnode_free(el);
    } else if (!strcmp(el->name, "close") && !strcmp(el->ns, NS_FRAMING)) {
        xnode_free(el);
        xmpp_stream_end(c->st);
    } else if (!strcmp(el->name, "open") || !strcmp(el->name, "stream")) {
        log_info("websocket: %s: <%s/> in namespace '%s'", c->peer, el->name, el->ns);
        xnode_free(el);
        xmpp_stream_close(c->st, "invalid-namespace", NULL);
    } else {
        xmpp_stream_stanza(c->st, el);
    }
}

static void xs_close(void *ud) { ((ws *)ud)->bad_message = true; }

static void xs_error(void *ud, xstream_err kind, const char *detail)
{
    xmpp_stream_parse_error(((ws *)ud)->st, kind, detail);
}

static const xstream_cb xs_callbacks = { xs_open, xs_stanza, xs_close, xs_error };

/* ---- transport callbacks ---- */

static void queue_text(ws *c, const char *data, size_t len)
{
    struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)data, len };
    wslay_event_queue_msg(c->ctx, &m);   /* fails only after close: nothing to do then */
}

static void t_header(void *t, const char *id, const char *from, const char *to, const char *lang)
{
    ws *c = t;
    buf b;
    buf_init(&b);
    buf_printf(&b, "<open xmlns='" NS_FRAMING "' id='%s' version='1.0' xml:lang='%s'", id, lang);
    if (from) {
        buf_puts(&b, " from='");
        xml_escape(&b, from, strlen(from), true);
        buf_puts(&b, "'");
    }
    buf_puts(&b, "/>");
    queue_text(c, b.data, b.len);
    buf_free(&b);
    ws_pump(c);
}

/* Output waiting for the client: the bufferevent's and wslay's queue. */
static size_t ws_queued(ws *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev)) +
           (size_t)wslay_event_get_queued_msg_length(c->ctx);
}

/* The client does not read: nothing more is read from or queued for it;
 * the stream ends (its error is not sent: there is no room) and the
 * connection goes once the close timeout runs out, or sooner. */
static void ws_overflow(ws *c)
{
    c->overflowed = true;
    if (c->overflow_handled)
        return;
    c->overflow_handled = true;
    c->reading = false;
    bufferevent_disable(c->bev, EV_READ);
    log_warn("websocket: %s: client does not read, closing", c->peer);
    if (!c->closing)
        xmpp_stream_close(c->st, "policy-violation",
                          i18n(xmpp_stream_session(c->st)->lang, T_UNREAD));
}

static void t_write(void *t, const char *data, size_t len)
{
    ws *c = t;
    if (c->closing || c->overflowed)
        return;
    if (ws_queued(c) + len > MAX_OUTPUT) {
        ws_overflow(c);
        return;
    }
    buf b;
    buf_init(&b);
    framing_qualify(&b, data, len);
    queue_text(c, b.data, b.len);
    buf_free(&b);
    ws_pump(c);
}

static void t_end(void *t, bool header_open, bool error)
{
    ws *c = t;
    static const char close_el[] = "<close xmlns='" NS_FRAMING "'/>";
    queue_text(c, close_el, sizeof close_el - 1);
    c->close_pending = true;   /* wslay sends control frames first */
    c->closing = true;
    c->reading = !c->overflowed;   /* keep reading: the peer's close frame */
    if (c->xs)
        xstream_stop(c->xs);
    struct timeval tv = { CLOSE_TIMEOUT, 0 };
    evtimer_add(c->close_timer, &tv);
    ws_pump(c);
    schedule_check(c);
}

static void t_input(void *t, bool on)
{
    ws *c = t;
    c->reading = on;
    if (on && !c->closing)
        ws_pump(c);
}

static void t_destroy(void *t) { ws_free(t); }

/* Called after SASL success only: the stream is no longer pre-auth. */
static void t_restart(void *t) { conn_limits_release(&((ws *)t)->slot); }

static const xmpp_transport ws_transport = {
    .name = "websocket",
    .metric = "websocket",
    .header = t_header,
    .write = t_write,
    .end = t_end,
    .input = t_input,
    .starttls = NULL,
    .restart = t_restart,
    .authenticated = t_restart,
    .destroy = t_destroy,
};

/* ---- I/O ---- */

/* Reads what the stream wants and writes what wslay queued. Called from
 * callbacks too; wslay's own calls are not re-entered. */
static void ws_pump(ws *c)
{
    static __thread int depth;
    if (depth)
        return;
    depth++;
    if (c->reading && wslay_event_want_read(c->ctx) &&
        evbuffer_get_length(bufferevent_get_input(c->bev)))
        wslay_event_recv(c->ctx);
    if (wslay_event_want_write(c->ctx))
        wslay_event_send(c->ctx);
    if (c->close_pending && wslay_event_get_queued_msg_count(c->ctx) == 0) {
        c->close_pending = false;
        wslay_event_queue_close(c->ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
        wslay_event_send(c->ctx);
    }
    depth--;
    if (c->overflowed && !c->overflow_handled)
        ws_overflow(c);
    if (!wslay_event_want_read(c->ctx) && !c->closing) {
        /* wslay gave up (protocol error, message too big): it queued the
         * close frame with the code; the stream ends without a goodbye. */
        log_info("websocket: %s: connection failed at the framing layer", c->peer);
        xmpp_stream_close(c->st, NULL, NULL);
    }
    if (c->closing)
        schedule_check(c);
}

static void ws_read(struct bufferevent *bev, void *arg) { ws_pump(arg); }

static void ws_written(struct bufferevent *bev, void *arg)
{
    ws *c = arg;
    if (c->closing)
        schedule_check(c);
}

static void ws_event(struct bufferevent *bev, short what, void *arg)
{
    ws *c = arg;
    if (!c->closing) {
        log_debug("websocket: %s: connection %s", c->peer,
                  (what & BEV_EVENT_EOF) ? "closed by peer" : "error");
        xmpp_stream_connection_lost(c->st);
    }
    ws_free(c);
}

static void ping_run(evutil_socket_t fd, short what, void *arg)
{
    ws *c = arg;
    time_t idle = time(NULL) - c->last_rx;
    if (idle >= 3 * WS_PING_INTERVAL) {
        log_info("websocket: %s: no answer to pings for %ld s, closing", c->peer, (long)idle);
        xmpp_stream_close(c->st, "connection-timeout", NULL);
        return;
    }
    if (idle >= WS_PING_INTERVAL) {
        struct wslay_event_msg m = { WSLAY_PING, (const uint8_t *)"plucs", 5 };
        wslay_event_queue_msg(c->ctx, &m);
        ws_pump(c);
    }
}

void websocket_accept(worker *w, struct bufferevent *bev, const char *peer, bool secure,
                      const conn_slot *slot)
{
    static const struct wslay_event_callbacks callbacks = {
        recv_cb, send_cb, NULL, NULL, NULL, NULL, msg_cb,
    };
    ws *c = xcalloc(1, sizeof *c);
    c->bev = bev;
    if (slot)
        c->slot = *slot;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    if (wslay_event_context_server_init(&c->ctx, &callbacks, c) != 0)
        abort();
    wslay_event_config_set_max_recv_msg_length(c->ctx, (uint64_t)config_current()->max_stanza_size);
    c->reading = true;
    c->last_rx = time(NULL);
    c->ping_timer = event_new(worker_base(w), -1, EV_PERSIST, ping_run, c);
    c->close_timer = evtimer_new(worker_base(w), close_timeout, c);
    c->check_ev = event_new(worker_base(w), -1, 0, check_run, c);
    struct timeval tv = { WS_PING_INTERVAL, 0 };
    evtimer_add(c->ping_timer, &tv);
    transport_conn_opened();
    c->st = xmpp_stream_new(w, &ws_transport, c, peer, secure);
    c->xs = xstream_new(&xs_callbacks, c, (size_t)config_current()->max_stanza_size,
                        XMPP_STREAM_MAX_DEPTH + 1);
    xstream_feed(c->xs, wrapper, sizeof wrapper - 1);
    bufferevent_setcb(bev, ws_read, ws_written, ws_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    log_debug("websocket: %s connected (worker %d)", peer, worker_id(w));
    ws_pump(c);
}
