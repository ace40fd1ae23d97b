/* s2s_conn.c: the byte side of a server-to-server stream, shared by both
 * directions (see s2s_internal.h): the bufferevent (plain, then the OpenSSL
 * filter after STARTTLS), the XML parser, writing stanzas in the jabber:server
 * default namespace, the setup and idle timers, and closing with a flush.
 * What the elements mean is the direction files' business (s2s_in.c,
 * s2s_out.c). Like c2s.c, nothing here is freed inside a parser callback:
 * closing only marks the stream and frees it on a later loop turn. */
#include "transport/s2s_internal.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "transport/s2s_tls.h"
#include "transport/transport.h"

#define CLOSE_TIMEOUT 5   /* seconds to flush the last bytes */

static __thread s2s_stream *streams;   /* the calling worker's */
static _Atomic uint64_t next_serial = 1;

long long s2s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

s2s_stream *s2s_worker_streams(void) { return streams; }

s2s_stream *s2s_find_serial(uint64_t serial)
{
    for (s2s_stream *s = streams; s; s = s->next_w)
        if (s->serial == serial)
            return s;
    return NULL;
}

size_t s2s_max_stanza(void)
{
    const config *c = config_current();
    return c && c->s2s_max_stanza_size > 0 ? (size_t)c->s2s_max_stanza_size : 262144;
}

void s2s_ns_to_client(xnode *n)
{
    for (; n; n = n->next) {
        if (!n->name)
            continue;
        if (!strcmp(n->ns, NS_SERVER))
            xnode_set_ns(n, NS_CLIENT);
        s2s_ns_to_client(n->children);
    }
}

s2s_stream *s2s_stream_new(s2s_dir dir, const char *peer)
{
    s2s_stream *s = xcalloc(1, sizeof *s);
    s->serial = atomic_fetch_add(&next_serial, 1);
    s->w = worker_self();
    s->dir = dir;
    s->state = dir == S2S_IN ? IN_WAIT_HEADER : OUT_RESOLVING;
    snprintf(s->peer, sizeof s->peer, "%s", peer ? peer : "");
    s->qtail = &s->qhead;
    atomic_store(&s->last_active, s2s_now());
    s->next_w = streams;
    if (streams)
        streams->prev_w = &s->next_w;
    streams = s;
    s->prev_w = &streams;
    s2s_status_link(s);
    transport_conn_opened();
    return s;
}

void s2s_free(s2s_stream *s)
{
    if (s->dir == S2S_OUT)
        s2s_out_freeing(s);
    else
        s2s_in_freeing(s);
    s2s_status_unlink(s);
    *s->prev_w = s->next_w;
    if (s->next_w)
        s->next_w->prev_w = s->prev_w;
    struct event **evs[] = { &s->setup_timer, &s->idle_timer, &s->close_timer, &s->flush_timer,
                             &s->kick };
    for (size_t i = 0; i < sizeof evs / sizeof *evs; i++)
        if (*evs[i])
            event_free(*evs[i]);
    if (s->xs)
        xstream_free(s->xs);
    if (s->bev)
        bufferevent_free(s->bev);
    free(s->addrs);
    free(s->pairs);
    free(s);
    transport_conn_closed();
}

/* ---- writing ---- */

static size_t queued(s2s_stream *s)
{
    size_t n = evbuffer_get_length(bufferevent_get_output(s->bev));
    struct bufferevent *under = bufferevent_get_underlying(s->bev);
    if (under)
        n += evbuffer_get_length(bufferevent_get_output(under));
    return n;
}

void s2s_write(s2s_stream *s, const char *data, size_t len)
{
    if (!s->bev || s->closing || s->overflowed)
        return;
    if (queued(s) + len > S2S_MAX_OUTPUT) {
        s->overflowed = true;
        log_warn("s2s: %s %s: peer does not read its stream, closing", s->remote, s->peer);
        s2s_close(s, "policy-violation", NULL);
        return;
    }
    bufferevent_write(s->bev, data, len);
}

void s2s_write_buf(s2s_stream *s, buf *b)
{
    if (b->len)
        s2s_write(s, b->data, b->len);
}

void s2s_write_stanza(s2s_stream *s, const xnode *st)
{
    buf b;
    buf_init(&b);
    /* The wire default inside the stream is jabber:server: a stanza in the
     * internal namespace gets no xmlns, so it reads as jabber:server. */
    xml_serialize(st, NS_CLIENT, &b);
    s2s_write_buf(s, &b);
    buf_free(&b);
    s2s_touch(s);
}

void s2s_write_header(s2s_stream *s, const char *from, const char *to, const char *id)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                 "xmlns:stream='http://etherx.jabber.org/streams' "
                 "xmlns:db='jabber:server:dialback' version='1.0'");
    const char *names[] = { "from", "to", "id" };
    const char *vals[] = { from, to, id };
    for (int i = 0; i < 3; i++) {
        if (!vals[i] || !*vals[i])
            continue;
        buf_printf(&b, " %s='", names[i]);
        xml_escape(&b, vals[i], strlen(vals[i]), true);
        buf_puts(&b, "'");
    }
    buf_puts(&b, ">");
    s2s_write_buf(s, &b);
    buf_free(&b);
    s->header_sent = true;
}

/* ---- closing ---- */

static bool drained(s2s_stream *s) { return queued(s) == 0; }

static void flushed(struct bufferevent *bev, void *arg)
{
    s2s_stream *s = arg;
    if (drained(s)) {
        s2s_free(s);
    } else {
        struct timeval tv = { 0, 20000 };
        evtimer_add(s->flush_timer, &tv);
    }
}

static void flush_check(evutil_socket_t fd, short what, void *arg)
{
    s2s_stream *s = arg;
    flushed(s->bev, s);
}

static void close_timeout(evutil_socket_t fd, short what, void *arg) { s2s_free(arg); }
static void closing_event(struct bufferevent *bev, short what, void *arg) { s2s_free(arg); }

static void free_later(evutil_socket_t fd, short what, void *arg) { s2s_free(arg); }

void s2s_close(s2s_stream *s, const char *condition, const char *text)
{
    if (s->closing)
        return;
    if (s->dir == S2S_OUT)
        s2s_out_freeing(s);   /* the table forgets us now; queued stanzas bounce */
    if (s->bev && condition) {
        if (!s->header_sent)
            s2s_write_header(s, s->local[0] ? s->local : NULL,
                             s->remote[0] ? s->remote : NULL, s->dir == S2S_IN ? s->id : NULL);
        buf b;
        buf_init(&b);
        buf_printf(&b, "<stream:error><%s xmlns='" NS_STREAMS "'/>", condition);
        if (text) {
            buf_puts(&b, "<text xmlns='" NS_STREAMS "' xml:lang='en'>");
            xml_escape(&b, text, strlen(text), false);
            buf_puts(&b, "</text>");
        }
        buf_puts(&b, "</stream:error>");
        s->overflowed = false;   /* the error goes out even past the limit */
        s2s_write_buf(s, &b);
        buf_free(&b);
    }
    if (s->bev && s->header_sent)
        s2s_write(s, "</stream:stream>", 16);
    s->closing = true;
    s->state = S2S_CLOSING;
    if (s->xs)
        xstream_stop(s->xs);
    struct event_base *base = worker_base(s->w);
    if (!s->bev) {
        s->flush_timer = evtimer_new(base, free_later, s);
        event_active(s->flush_timer, EV_TIMEOUT, 0);
        return;
    }
    bufferevent_disable(s->bev, EV_READ);
    bufferevent_setcb(s->bev, NULL, flushed, closing_event, s);
    s->close_timer = evtimer_new(base, close_timeout, s);
    struct timeval tv = { CLOSE_TIMEOUT, 0 };
    evtimer_add(s->close_timer, &tv);
    s->flush_timer = evtimer_new(base, flush_check, s);
    event_active(s->flush_timer, EV_TIMEOUT, 0);
}

/* ---- timers ---- */

void s2s_touch(s2s_stream *s) { atomic_store(&s->last_active, s2s_now()); }

static void idle_check(evutil_socket_t fd, short what, void *arg)
{
    s2s_stream *s = arg;
    if (s->closing)
        return;
    const config *c = config_current();
    long long idle = c && c->s2s_idle > 0 ? c->s2s_idle : 600;
    long long quiet = s2s_now() - atomic_load(&s->last_active);
    if (quiet >= idle) {
        log_info("s2s: %s stream %s -> %s closed idle (%lld s without a stanza)",
                 s->dir == S2S_IN ? "incoming" : "outgoing",
                 s->dir == S2S_IN ? s->shown.remote : s->local,
                 s->dir == S2S_IN ? s->shown.local : s->remote, quiet);
        s2s_close(s, NULL, NULL);
        return;
    }
    struct timeval tv = { (time_t)(idle - quiet), 0 };
    evtimer_add(s->idle_timer, &tv);
}

void s2s_arm_idle(s2s_stream *s)
{
    if (s->idle_timer)
        return;
    const config *c = config_current();
    s->idle_timer = evtimer_new(worker_base(s->w), idle_check, s);
    struct timeval tv = { c && c->s2s_idle > 0 ? c->s2s_idle : 600, 0 };
    evtimer_add(s->idle_timer, &tv);
}

static void setup_fired(evutil_socket_t fd, short what, void *arg)
{
    s2s_stream *s = arg;
    if (s->closing)
        return;
    if (s->dir == S2S_OUT) {
        s2s_out_setup_timeout(s);
    } else if (s->npairs == 0) {
        log_info("s2s: incoming %s%s%s: not authenticated within the timeout, closing", s->peer,
                 s->peer_from[0] ? " from " : "", s->peer_from);
        s2s_close(s, "connection-timeout", NULL);
    }
}

void s2s_arm_setup(s2s_stream *s, int seconds)
{
    if (!s->setup_timer)
        s->setup_timer = evtimer_new(worker_base(s->w), setup_fired, s);
    struct timeval tv = { seconds > 0 ? seconds : 30, 0 };
    evtimer_add(s->setup_timer, &tv);
}

/* ---- parser ---- */

static void xs_open(void *ud, const xnode *hdr, const char *default_ns)
{
    s2s_stream *s = ud;
    if (s->dir == S2S_IN)
        s2s_in_open(s, hdr, default_ns);
    else
        s2s_out_open(s, hdr, default_ns);
}

static void xs_stanza(void *ud, xnode *el)
{
    s2s_stream *s = ud;
    if (s->closing) {
        xnode_free(el);
        return;
    }
    if (s->dir == S2S_IN)
        s2s_in_element(s, el);
    else
        s2s_out_element(s, el);
}

static void xs_close(void *ud)
{
    s2s_stream *s = ud;
    log_info("s2s: %s stream with %s (%s) closed by the peer",
             s->dir == S2S_IN ? "incoming" : "outgoing",
             s->dir == S2S_IN ? (s->shown.remote[0] ? s->shown.remote : s->peer_from) : s->remote,
             s->peer);
    if (s->dir == S2S_OUT && !s->fail_cond && s->state != OUT_READY) {
        s->fail_type = "cancel";
        s->fail_cond = "remote-server-not-found";
        snprintf(s->fail_why, sizeof s->fail_why, "the peer closed the stream");
    }
    s2s_close(s, NULL, NULL);
}

static void xs_error(void *ud, xstream_err kind, const char *detail)
{
    s2s_stream *s = ud;
    const char *cond = kind == XS_ERR_RESTRICTED ? "restricted-xml"
                       : kind == XS_ERR_XML      ? "not-well-formed"
                                                 : "policy-violation";
    log_info("s2s: %s %s: %s (%s)", s->dir == S2S_IN ? "incoming" : "outgoing", s->peer, cond,
             detail ? detail : "");
    if (s->dir == S2S_OUT && !s->fail_cond && s->state != OUT_READY) {
        s->fail_type = "cancel";
        s->fail_cond = "remote-server-not-found";
        snprintf(s->fail_why, sizeof s->fail_why, "%s from the peer", cond);
    }
    s2s_close(s, cond, kind == XS_ERR_TOO_BIG ? "stanza too large" : NULL);
}

static const xstream_cb callbacks = { xs_open, xs_stanza, xs_close, xs_error };

/* ---- input ---- */

static void tls_switch(s2s_stream *s);

static void on_read(struct bufferevent *bev, void *arg)
{
    s2s_stream *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char chunk[16384];
    while (!s->closing && bev == s->bev) {
        int n = evbuffer_remove(in, chunk, sizeof chunk);
        if (n <= 0)
            break;
        if (!s->xs)
            s->xs = xstream_new(&callbacks, s, s2s_max_stanza(), 64);
        xstream_feed(s->xs, chunk, (size_t)n);
        if (s->starttls_pending) {
            s->starttls_pending = false;
            xstream_free(s->xs);
            s->xs = NULL;
            evbuffer_drain(in, evbuffer_get_length(in));
            tls_switch(s);
            return;
        }
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    s2s_stream *s = arg;
    if (what & BEV_EVENT_CONNECTED) {
        if (s->tls_handshaking) {
            s->tls_handshaking = false;
            s->tls = true;
            s2s_status_update(s);
            if (s->dir == S2S_IN)
                s2s_in_tls_done(s);
            else
                s2s_out_tls_done(s);
        } else if (s->dir == S2S_OUT) {
            s2s_out_connected(s);
        }
        return;
    }
    char why[300];
    unsigned long e = bufferevent_get_openssl_error(bev);
    if (e) {
        char reason[256];
        ERR_error_string_n(e, reason, sizeof reason);
        snprintf(why, sizeof why, "TLS error: %s", reason);
    } else if (what & BEV_EVENT_EOF) {
        snprintf(why, sizeof why, "connection closed by the peer");
    } else {
        int err = EVUTIL_SOCKET_ERROR();
        snprintf(why, sizeof why, "%s", err ? evutil_socket_error_to_string(err) : "connection error");
    }
    if (s->dir == S2S_OUT) {
        s2s_out_event_error(s, why);   /* next address, or failure (frees) */
    } else {
        log_info("s2s: incoming %s%s%s: %s", s->peer, s->peer_from[0] ? " from " : "",
                 s->peer_from, why);
        s2s_free(s);
    }
}

void s2s_attach(s2s_stream *s, struct bufferevent *bev)
{
    s->bev = bev;
    bufferevent_setcb(bev, on_read, NULL, on_event, s);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void s2s_restart(s2s_stream *s)
{
    if (s->xs)
        xstream_reset(s->xs);
}

/* ---- TLS ---- */

bool s2s_start_tls(s2s_stream *s, SSL *ssl, bool accepting)
{
    if (!ssl)
        return false;
    struct bufferevent *tlsbev = bufferevent_openssl_filter_new(
        worker_base(s->w), s->bev, ssl,
        accepting ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!tlsbev) {
        SSL_free(ssl);
        return false;
    }
    s->tls_handshaking = true;
    s2s_attach(s, tlsbev);
    return true;
}

/* After the element that asked for TLS (incoming: <starttls/>, answered
 * with <proceed/>; outgoing: <proceed/>). */
static void tls_switch(s2s_stream *s)
{
    SSL *ssl = s->dir == S2S_IN ? s2s_tls_accept_ssl() : s2s_tls_connect_ssl(s->local, s->remote);
    if (!s2s_start_tls(s, ssl, s->dir == S2S_IN)) {
        if (s->dir == S2S_OUT) {
            s->fail_type = "cancel";
            s->fail_cond = "remote-server-not-found";
            snprintf(s->fail_why, sizeof s->fail_why, "cannot start TLS");
            log_info("s2s: outgoing %s -> %s failed: cannot start TLS", s->local, s->remote);
        }
        s2s_close(s, s->dir == S2S_IN ? "internal-server-error" : NULL, NULL);
    }
}

SSL *s2s_stream_ssl(s2s_stream *s)
{
    return s->bev && s->tls ? bufferevent_openssl_get_ssl(s->bev) : NULL;
}
