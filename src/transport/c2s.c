/* c2s.c: the TCP (and TLS) transport of a client stream, see c2s.h. The
 * connection owns its bufferevent (plain, then the OpenSSL filter after
 * STARTTLS) and its XML stream parser; the XMPP logic (negotiation, SASL,
 * bind, routing, stream errors) is the stream layer's (xmpp_stream.c). This
 * file only turns bytes into stream events and stream output into bytes.
 *
 * Output is batched: what the stream layer writes during one loop turn
 * collects in the connection's pending buffer, and one flush event per
 * worker, run after the turn's other callbacks, hands it on. On a plain
 * socket whose bufferevent has nothing queued it is written with one
 * writev() straight away; only what the socket does not take goes through
 * the bufferevent (and its EPOLLOUT registration). One system call per
 * connection per turn instead of an epoll_ctl pair and a write per stanza.
 *
 * Limits (docs/security.md): at most MAX_OUTPUT bytes wait for a client,
 * counted explicitly over every buffer (pending, the bufferevent's output
 * and, over TLS, the socket bufferevent under the filter); the TLS
 * handshake and the stream header must arrive within OPEN_TIMEOUT (after
 * accept and again after <proceed/>); the connection holds a
 * pre-authentication slot (conn_limits.h) until SASL success or close.
 *
 * Memory of an idle session (docs/performance.md): after STARTTLS the
 * socket belongs to one OpenSSL socket bufferevent (no filter pair); a
 * connection quiet for a sweep period (idle_sweep.h) frees its XML parser
 * and its empty pending-output buffer, and the timers that only guard the
 * login are freed once it is done. */
#include <errno.h>
#include "transport/c2s.h"
#include "core/alloc.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/config.h"
#include "core/i18n.h"
#include "core/log.h"
#include "transport/conn_limits.h"
#include "transport/idle_sweep.h"
#include "transport/tls.h"
#include "transport/transport.h"
#include "transport/xmpp_stream.h"
#include "xml/xml.h"

#define CLOSE_TIMEOUT 5          /* seconds to flush the last bytes */
#define MAX_OUTPUT (4u << 20)    /* a client that reads nothing is cut off */
#define OPEN_TIMEOUT 15          /* seconds for the TLS handshake and the stream header */

typedef struct c2s {
    struct bufferevent *bev;
    xstream *xs;
    xmpp_stream *st;
    struct event *close_timer;   /* while closing: give up flushing */
    struct event *flush_timer;   /* while closing over TLS */
    struct event *open_timer;    /* armed until the TLS handshake and stream header are in */
    conn_slot slot;              /* pre-authentication count, released on auth or free */
    struct evbuffer *pend;       /* written this loop turn, not yet handed on */
    struct c2s *next_dirty, **prev_dirty;   /* on the worker's flush list */
    idle_entry idle;             /* read recently: the parser is freed once quiet */
    char peer[64];
    bool plain;               /* a plain socket bufferevent: direct writes allowed */
    bool reading;             /* the stream wants input */
    bool starttls;            /* switch to TLS after this feed */
    bool closing;
    bool overflowed;          /* MAX_OUTPUT passed: nothing more is queued */
    bool handshaking;         /* TLS accepted, handshake not finished */
} c2s;

static void c2s_read(struct bufferevent *bev, void *arg);
static void c2s_event(struct bufferevent *bev, short what, void *arg);

/* ---- output batching (one flush per worker per loop turn) ---- */

static __thread struct event *flush_ev;
static __thread c2s *dirty;

static void dirty_unlink(c2s *c)
{
    if (!c->prev_dirty)
        return;
    *c->prev_dirty = c->next_dirty;
    if (c->next_dirty)
        c->next_dirty->prev_dirty = c->prev_dirty;
    c->next_dirty = NULL;
    c->prev_dirty = NULL;
}

/* Hands the pending output on: written directly when nothing is queued
 * before it on a plain socket, the rest into the bufferevent's output. */
static void c2s_flush_pending(c2s *c)
{
    dirty_unlink(c);
    if (!c->pend || !evbuffer_get_length(c->pend) || !c->bev)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->plain && evbuffer_get_length(out) == 0) {
        evutil_socket_t fd = bufferevent_getfd(c->bev);
        while (fd >= 0 && evbuffer_get_length(c->pend)) {
            int n = evbuffer_write(c->pend, fd);
            if (n <= 0) {
                if (n < 0 && errno == EINTR)
                    continue;
                break;   /* full or failed: the bufferevent retries and reports */
            }
        }
    }
    if (evbuffer_get_length(c->pend))
        evbuffer_add_buffer(out, c->pend);
}

static void flush_run(evutil_socket_t fd, short what, void *arg)
{
    while (dirty)
        c2s_flush_pending(dirty);
}

static void mark_dirty(c2s *c)
{
    if (c->prev_dirty)
        return;
    if (!flush_ev) {
        flush_ev = event_new(bufferevent_get_base(c->bev), -1, 0, flush_run, NULL);
    }
    if (!dirty)
        event_active(flush_ev, EV_TIMEOUT, 0);
    c->next_dirty = dirty;
    if (dirty)
        dirty->prev_dirty = &c->next_dirty;
    dirty = c;
    c->prev_dirty = &dirty;
}

/* ---- lifetime ---- */

static void c2s_free(c2s *c)
{
    /* The session's ended hooks may still write to it (a room telling a
     * leaving occupant it left): unlink only after they ran. */
    xmpp_stream_free(c->st);
    dirty_unlink(c);
    idle_forget(&c->idle);
    if (c->close_timer)
        event_free(c->close_timer);
    if (c->flush_timer)
        event_free(c->flush_timer);
    if (c->open_timer)
        event_free(c->open_timer);
    conn_limits_release(&c->slot);
    if (c->xs)
        xstream_free(c->xs);
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->pend)
        evbuffer_free(c->pend);
    free(c);
    transport_conn_closed();
}

/* Whether every byte left our buffers: over TLS the filter's output must
 * have gone through SSL into the socket bufferevent's output, and that one
 * must be empty too. */
static bool c2s_drained(c2s *c)
{
    c2s_flush_pending(c);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)))
        return false;
    struct bufferevent *under = bufferevent_get_underlying(c->bev);
    return !under || evbuffer_get_length(bufferevent_get_output(under)) == 0;
}

static void c2s_flushed(struct bufferevent *bev, void *arg)
{
    c2s *c = arg;
    if (c2s_drained(c)) {
        c2s_free(c);
    } else {
        struct timeval tv = { 0, 20000 };   /* the socket layer still sends */
        evtimer_add(c->flush_timer, &tv);
    }
}

static void c2s_flush_check(evutil_socket_t fd, short what, void *arg)
{
    c2s_flushed(((c2s *)arg)->bev, arg);
}

static void c2s_close_timeout(evutil_socket_t fd, short what, void *arg)
{
    c2s_free(arg);   /* the peer never took our last bytes */
}

/* ---- transport callbacks (xmpp_stream.h) ---- */

/* Everything queued for the client and not yet in the kernel: this turn's
 * pending bytes, the bufferevent's output and, over TLS, the socket
 * bufferevent's output under the filter (where the encrypted bytes wait). */
static size_t c2s_queued(c2s *c)
{
    size_t n = (c->pend ? evbuffer_get_length(c->pend) : 0) +
               evbuffer_get_length(bufferevent_get_output(c->bev));
    struct bufferevent *under = bufferevent_get_underlying(c->bev);
    if (under)
        n += evbuffer_get_length(bufferevent_get_output(under));
    return n;
}

static void t_write(void *t, const char *data, size_t len)
{
    c2s *c = t;
    if (c->closing || c->overflowed)
        return;
    if (c2s_queued(c) + len > MAX_OUTPUT) {
        /* Set first: closing writes the stream error through here again.
         * The client reads nothing, so nothing more is queued for it. */
        c->overflowed = true;
        log_warn("c2s: %s: client does not read its stream, closing", c->peer);
        xmpp_stream_close(c->st, "policy-violation",
                          i18n(xmpp_stream_session(c->st)->lang, T_UNREAD));
        return;
    }
    if (!c->pend)
        c->pend = evbuffer_new();   /* freed again when idle (c2s_idle) */
    evbuffer_add(c->pend, data, len);
    mark_dirty(c);
}

static void t_header(void *t, const char *id, const char *from, const char *to, const char *lang)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' id='");
    buf_puts(&b, id);
    buf_printf(&b, "' version='1.0' xml:lang='%s'", lang);
    if (from) {
        buf_puts(&b, " from='");
        xml_escape(&b, from, strlen(from), true);
        buf_puts(&b, "'");
    }
    if (to) {
        buf_puts(&b, " to='");
        xml_escape(&b, to, strlen(to), true);
        buf_puts(&b, "'");
    }
    buf_puts(&b, ">");
    t_write(t, b.data, b.len);
    buf_free(&b);
}

static void t_end(void *t, bool header_open, bool error)
{
    c2s *c = t;
    if (header_open)
        t_write(c, "</stream:stream>", 16);
    c2s_flush_pending(c);
    c->closing = true;
    c->reading = false;
    if (c->xs)
        xstream_stop(c->xs);
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setcb(c->bev, NULL, c2s_flushed, c2s_event, c);
    c->close_timer = evtimer_new(bufferevent_get_base(c->bev), c2s_close_timeout, c);
    struct timeval tv = { CLOSE_TIMEOUT, 0 };
    evtimer_add(c->close_timer, &tv);
    /* Never free here: we may be inside the parser's callback. Whether
     * everything left is checked on the next loop turn. */
    c->flush_timer = evtimer_new(bufferevent_get_base(c->bev), c2s_flush_check, c);
    event_active(c->flush_timer, EV_TIMEOUT, 0);
}

static void t_input(void *t, bool on)
{
    c2s *c = t;
    c->reading = on;
    if (c->closing)
        return;
    if (on) {
        bufferevent_enable(c->bev, EV_READ);
        c2s_read(c->bev, c);   /* what arrived meanwhile (pipelining) */
    } else {
        bufferevent_disable(c->bev, EV_READ);
    }
}

static void t_starttls(void *t)
{
    c2s *c = t;
    c->starttls = true;
    xstream_stop(c->xs);
}

static void t_restart(void *t)
{
    c2s *c = t;
    /* The client starts a new stream: a fresh parser. Never free the
     * parser here: this may run inside its callback (pipelined data). */
    if (c->xs)
        xstream_reset(c->xs);
    /* Only SASL success restarts a TCP stream: no longer pre-auth. */
    conn_limits_release(&c->slot);
}

static void t_destroy(void *t) { c2s_free(t); }

static void t_authenticated(void *t) { conn_limits_release(&((c2s *)t)->slot); }

static void *t_tls(void *t)
{
    c2s *c = t;
    return c->bev ? bufferevent_openssl_get_ssl(c->bev) : NULL;
}

static const xmpp_transport tcp_transport = {
    .name = "c2s",
    .metric = "tcp",
    .header = t_header,
    .write = t_write,
    .end = t_end,
    .input = t_input,
    .starttls = t_starttls,
    .restart = t_restart,
    .destroy = t_destroy,
    .authenticated = t_authenticated,
    .tls = t_tls,
};

/* ---- handshake and stream-open timeout ---- */

/* No TLS handshake or no stream header within OPEN_TIMEOUT: a half-open
 * connection (slowloris) is closed. One log line per 10 s for all. */
static void c2s_open_timeout(evutil_socket_t fd, short what, void *arg)
{
    c2s *c = arg;
    if (c->closing)
        return;
    unsigned skipped = 0;
    if (conn_limits_log_ok(CL_LOG_OPEN_TIMEOUT, 10, &skipped))
        log_info("c2s: %s: no %s within %d s, closing (%u more such since the last line)",
                 c->peer, c->handshaking ? "TLS handshake" : "stream header", OPEN_TIMEOUT,
                 skipped);
    else
        log_debug("c2s: %s: open timeout", c->peer);
    if (c->handshaking)
        c2s_free(c);   /* nothing can be said without TLS; not inside a callback */
    else
        xmpp_stream_close(c->st, "connection-timeout", NULL);
}

static void arm_open_timer(c2s *c)
{
    if (!c->open_timer)
        c->open_timer = evtimer_new(bufferevent_get_base(c->bev), c2s_open_timeout, c);
    struct timeval tv = { OPEN_TIMEOUT, 0 };
    evtimer_add(c->open_timer, &tv);
}

/* ---- STARTTLS ---- */

static void start_tls(c2s *c)
{
    c2s_flush_pending(c);   /* <proceed/> goes out in the clear */
    c->plain = false;
    SSL *ssl = tls_new_ssl();
    if (!ssl) {
        t_write(c, "<failure xmlns='" NS_TLS "'/>", strlen("<failure xmlns='" NS_TLS "'/>"));
        xmpp_stream_close(c->st, NULL, NULL);
        return;
    }
    /* Normally <proceed/> is in the kernel by now: the socket changes
     * hands to an OpenSSL socket bufferevent, which saves the plain
     * bufferevent and its two buffers (about 1 KiB per session) that a
     * filter on top of it would keep for the session's life. Only when
     * the socket did not take <proceed/> does the filter go on top. */
    struct event_base *base = bufferevent_get_base(c->bev);
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    struct bufferevent *tlsbev = NULL;
    if (fd >= 0 && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        tlsbev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE);
        if (tlsbev) {
            /* The old one lets go of the socket: freed, not closed (we
             * may be inside its read callback: libevent defers the free). */
            bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
            bufferevent_disable(c->bev, EV_READ | EV_WRITE);
            bufferevent_setfd(c->bev, -1);
            bufferevent_free(c->bev);
            c->bev = tlsbev;
        }
    } else {
        tlsbev = bufferevent_openssl_filter_new(base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    }
    if (!tlsbev) {
        SSL_free(ssl);
        xmpp_stream_close(c->st, "internal-server-error", NULL);
        return;
    }
    c->bev = tlsbev;
    c->handshaking = true;
    arm_open_timer(c);
    bufferevent_setcb(c->bev, c2s_read, NULL, c2s_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- parser callbacks ---- */

static void xs_open(void *ud, const xnode *hdr, const char *default_ns)
{
    c2s *c = ud;
    const char *lang = xnode_attr(hdr, "xml:lang");
    if (c->open_timer) {   /* made again for STARTTLS (arm_open_timer) */
        event_free(c->open_timer);
        c->open_timer = NULL;
    }
    if (strcmp(hdr->name, "stream") || strcmp(hdr->ns, NS_STREAM)) {
        log_info("c2s: %s: stream header in wrong namespace '%s'", c->peer, hdr->ns);
        xmpp_stream_open_refused(c->st, xnode_attr(hdr, "to"), lang, "invalid-namespace");
    } else if (!default_ns || strcmp(default_ns, NS_CLIENT)) {
        log_info("c2s: %s: stream content namespace '%s' is not jabber:client", c->peer,
                 default_ns ? default_ns : "");
        xmpp_stream_open_refused(c->st, xnode_attr(hdr, "to"), lang, "invalid-namespace");
    } else {
        xmpp_stream_open(c->st, xnode_attr(hdr, "to"), xnode_attr(hdr, "version"), lang);
    }
}

static void xs_stanza(void *ud, xnode *el) { xmpp_stream_stanza(((c2s *)ud)->st, el); }
static void xs_close(void *ud) { xmpp_stream_end(((c2s *)ud)->st); }

static void xs_error(void *ud, xstream_err kind, const char *detail)
{
    xmpp_stream_parse_error(((c2s *)ud)->st, kind, detail);
}

static const xstream_cb xs_callbacks = { xs_open, xs_stanza, xs_close, xs_error };

/* ---- input ---- */

/* Quiet for a sweep period (idle_sweep.h): an idle session keeps no XML
 * parser; the next byte gets a fresh one (xstream_release). */
static void c2s_idle(idle_entry *e)
{
    c2s *c = (c2s *)((char *)e - offsetof(c2s, idle));
    if (c->closing)
        return;
    if (c->xs && xstream_release(c->xs))
        log_debug("c2s: %s: idle, XML parser released", c->peer);
    if (c->pend && !evbuffer_get_length(c->pend) && !c->prev_dirty) {
        evbuffer_free(c->pend);
        c->pend = NULL;
    }
}

static void c2s_read(struct bufferevent *bev, void *arg)
{
    c2s *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char chunk[16384];
    size_t used = 0;   /* only what held input is wiped (16 KiB per read cost more than the stanza) */
    while (!c->closing && c->reading && bev == c->bev) {
        int n = evbuffer_remove(in, chunk, sizeof chunk);
        if (n <= 0)
            break;
        if ((size_t)n > used)
            used = (size_t)n;
        if (!c->xs)
            c->xs = xstream_new(&xs_callbacks, c, (size_t)config_current()->max_stanza_size,
                                XMPP_STREAM_MAX_DEPTH);
        xstream_feed(c->xs, chunk, (size_t)n);
        if (!c->closing && bev == c->bev)
            idle_touch(bufferevent_get_base(bev), &c->idle, c2s_idle);
        if (c->starttls) {
            /* Bytes after <starttls/> on the plain stream are ignored
             * (a client must wait for <proceed/>). */
            c->starttls = false;
            xstream_free(c->xs);
            c->xs = NULL;
            evbuffer_drain(in, evbuffer_get_length(in));
            start_tls(c);
            return;
        }
    }
    explicit_bzero(chunk, used);
}

static void c2s_event(struct bufferevent *bev, short what, void *arg)
{
    c2s *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        log_debug("c2s: %s: TLS established", c->peer);   /* the handshake is done */
        c->handshaking = false;
        return;
    }
    if (c->closing) {
        c2s_free(c);
        return;
    }
    if (what & BEV_EVENT_ERROR) {
        unsigned long e = bufferevent_get_openssl_error(bev);
        if (e) {
            char reason[256];
            ERR_error_string_n(e, reason, sizeof reason);
            log_info("c2s: %s: TLS error: %s", c->peer, reason);
        } else {
            log_debug("c2s: %s: connection error", c->peer);
        }
    } else if (what & BEV_EVENT_EOF) {
        log_debug("c2s: %s: connection closed by peer", c->peer);
    }
    c2s_free(c);
}

/* ---- accept ---- */

void c2s_accept(worker *w, evutil_socket_t fd, const char *peer, bool direct_tls,
                const conn_slot *slot)
{
    c2s *c = xcalloc(1, sizeof *c);
    if (slot)
        c->slot = *slot;   /* taken over: released on authentication or free */
    int one = 1, idle = 120, intvl = 30, cnt = 4;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->reading = true;
    c->st = xmpp_stream_new(w, &tcp_transport, c, peer, direct_tls);
    transport_conn_opened();
    if (direct_tls) {
        SSL *ssl = tls_new_ssl();
        c->bev = ssl ? bufferevent_openssl_socket_new(worker_base(w), fd, ssl,
                                                      BUFFEREVENT_SSL_ACCEPTING,
                                                      BEV_OPT_CLOSE_ON_FREE)
                     : NULL;
        if (!c->bev) {
            if (ssl)
                SSL_free(ssl);
            evutil_closesocket(fd);
            log_warn("c2s: %s: no TLS certificate for the direct TLS port", peer);
            c2s_free(c);
            return;
        }
    } else {
        c->bev = bufferevent_socket_new(worker_base(w), fd, BEV_OPT_CLOSE_ON_FREE);
        c->plain = c->bev != NULL;
    }
    c->handshaking = direct_tls;
    arm_open_timer(c);
    bufferevent_setcb(c->bev, c2s_read, NULL, c2s_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    log_debug("c2s: %s connected (worker %d)", peer, worker_id(w));
}

void c2s_worker_shutdown(void *arg) { transport_worker_shutdown(arg); }
void c2s_worker_cleanup(void)
{
    transport_worker_cleanup();
    while (dirty)
        dirty_unlink(dirty);
    idle_sweep_worker_cleanup();
    if (flush_ev)
        event_free(flush_ev);
    flush_ev = NULL;
}
