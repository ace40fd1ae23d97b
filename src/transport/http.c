/* http.c: HTTP/1.1 connections of the web listener, see http.h.
 *
 * Life of a connection: READING (http-parser fed from the bufferevent; the
 * parser pauses itself at the end of each request, so pipelined bytes stay
 * unparsed), then the request is routed: answered at once (metrics, errors,
 * CORS preflight), handed to BOSH or polling (WAITING until http_reply()
 * arrives through the worker's inbox), or upgraded to a WebSocket (the
 * bufferevent then belongs to websocket.c). After an answer the parser
 * resumes with whatever is buffered (keep-alive), or the connection closes
 * once the answer is flushed (CLOSING). */
#include "transport/http.h"
#include "core/alloc.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/idmap.h"
#include "core/log.h"
#include "transport/bosh.h"
#include "transport/conn_limits.h"
#include "transport/http_conn.h"
#include "transport/http_upload.h"
#include "transport/http_reader.h"
#include "metrics/metrics.h"
#include "transport/poll.h"
#include "transport/transport.h"
#include "transport/websocket.h"

#define CLOSE_TIMEOUT 5
#define WAIT_TIMEOUT 300         /* a BOSH/poll answer that never comes */
#define MAX_OUTPUT (4u << 20)    /* never more queued for one connection */
#define OUTPUT_PAUSE (64u << 10) /* over this, no further (pipelined) request is read */

static atomic_uint_fast64_t next_conn_id = 1;
static __thread idmap conns;
static __thread bool conns_ready;

static void hc_read(struct bufferevent *bev, void *arg);
static void hc_event(struct bufferevent *bev, short what, void *arg);
static void hc_close(http_conn *c);

size_t http_body_limit(void)
{
    return (size_t)config_current()->max_stanza_size + HTTP_BODY_SLACK;
}

/* ---- lifetime ---- */

static void req_clear(http_conn *c)
{
    http_reader_next(&c->rd);
    c->xmpp_path = c->head = c->upload_path = false;
}

static void hc_free(http_conn *c)
{
    http_upload_conn_free(c);
    idmap_del(&conns, c->id);
    http_reader_free(&c->rd);
    if (c->timer)
        event_free(c->timer);
    if (c->close_check)
        event_free(c->close_check);
    if (c->bev)
        bufferevent_free(c->bev);
    free(c);
    transport_conn_closed();
}

static void set_timer(http_conn *c, int seconds)
{
    struct timeval tv = { seconds, 0 };
    evtimer_add(c->timer, &tv);
}

static void hc_timeout(evutil_socket_t fd, short what, void *arg);

static void hc_flushed(struct bufferevent *bev, void *arg)
{
    http_conn *c = arg;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        hc_free(c);
}

static void hc_close_check(evutil_socket_t fd, short what, void *arg) { hc_flushed(NULL, arg); }

/* Closes once the answer is out; never frees right here. */
static void hc_close(http_conn *c)
{
    if (c->state == HC_CLOSING)
        return;
    c->state = HC_CLOSING;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setcb(c->bev, NULL, hc_flushed, hc_event, c);
    set_timer(c, CLOSE_TIMEOUT);
    c->close_check = evtimer_new(worker_base(c->w), hc_close_check, c);
    event_active(c->close_check, EV_TIMEOUT, 0);
}

/* ---- answers ---- */

static const char *reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 206: return "Partial Content";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    }
    return "Unknown";
}

/* The allowed origin to echo for this request, or NULL (no CORS headers). */
static const char *cors_origin(const http_conn *c)
{
    if (!c->xmpp_path)
        return NULL;
    char **allowed = config_current()->http_cors_origins;
    if (!allowed || !*allowed)
        return NULL;
    for (char **a = allowed; *a; a++) {
        if (!strcmp(*a, "*"))
            return "*";
        if (c->rd.origin && !strcasecmp(*a, c->rd.origin))
            return c->rd.origin;
    }
    return NULL;
}

/* body (len bytes) or, with fd >= 0, flen bytes of fd from off. */
static void respond(http_conn *c, int status, const char *ctype, const char *headers,
                    const char *body, size_t len, int fd, uint64_t off, uint64_t flen)
{
    if (c->state == HC_CLOSING) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) + len > MAX_OUTPUT) {
        if (fd >= 0)
            close(fd);
        /* Cannot happen while requests are read only below OUTPUT_PAUSE,
         * unless one answer is huge: the client does not read, drop it. */
        unsigned skipped = 0;
        if (conn_limits_log_ok(CL_LOG_HTTP_OUTPUT, 10, &skipped))
            log_warn("http: %s: client does not read its answers, closing (%u more since the "
                     "last line)", c->peer, skipped);
        c->keep_alive = false;
        hc_close(c);
        return;
    }
    metrics_http_request(status);
    bool keep = c->keep_alive && !transport_stopping();
    if (status == 400 || status == 408 || status == 413 || status == 431 || status >= 500)
        keep = false;
    buf h;
    buf_init(&h);
    buf_printf(&h, "HTTP/1.1 %d %s\r\nServer: plucs\r\nCache-Control: %s\r\n", status,
               reason(status), fd >= 0 ? "private, max-age=86400" : "no-store");
    if (status != 204) {
        buf_printf(&h, "Content-Type: %s\r\nContent-Length: %llu\r\n",
                   ctype ? ctype : "text/xml; charset=utf-8",
                   (unsigned long long)(fd >= 0 ? flen : len));
    }
    const char *origin = cors_origin(c);
    if (c->upload_path) {   /* uploads are fetched by any web client (Converse) */
        buf_puts(&h, "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n");
    } else if (origin) {
        buf_printf(&h, "Access-Control-Allow-Origin: %s\r\n", origin);
        if (strcmp(origin, "*"))
            buf_puts(&h, "Vary: Origin\r\n");
    }
    if (headers)
        buf_puts(&h, headers);
    buf_puts(&h, keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
    evbuffer_add(out, h.data, h.len);
    if (body && len && !c->head)
        evbuffer_add(out, body, len);
    if (fd >= 0) {
        if (!flen || c->head) {
            close(fd);
        } else if (evbuffer_add_file(out, fd, (ev_off_t)off, (ev_off_t)flen)) {   /* takes fd */
            log_err("http: %s: cannot send a file", c->peer);
            keep = false;   /* the announced length will not come */
        }
    }
    buf_free(&h);
    log_debug("http: %s: %d %s", c->peer, status, reason(status));
    if (!keep) {
        hc_close(c);
        return;
    }
    /* Ready for the next request: it may already be buffered. */
    req_clear(c);
    c->state = HC_READING;
    c->serial++;
    set_timer(c, HTTP_IDLE_TIMEOUT);
    bufferevent_enable(c->bev, EV_READ);
}

static void send_response(http_conn *c, int status, const char *ctype, const char *headers,
                          const char *body, size_t len)
{
    respond(c, status, ctype, headers, body, len, -1, 0, 0);
}

void http_conn_respond(http_conn *c, int status, const char *ctype, const char *headers,
                       const char *body, size_t len)
{
    respond(c, status, ctype, headers, body, len, -1, 0, 0);
}

void http_conn_respond_file(http_conn *c, int status, const char *ctype, const char *headers,
                            int fd, uint64_t off, uint64_t flen)
{
    respond(c, status, ctype, headers, NULL, 0, fd, off, flen);
}

static void send_text(http_conn *c, int status, const char *headers, const char *text)
{
    send_response(c, status, "text/plain; charset=utf-8", headers, text, text ? strlen(text) : 0);
}

typedef struct reply_job {
    http_ref ref;
    int status;
    char *headers;
    char *body;
    size_t len;
} reply_job;

static void reply_free(void *arg)
{
    reply_job *j = arg;
    free(j->headers);
    free(j->body);
    free(j);
}

static void resume_reading(http_conn *c);

static void reply_run(void *arg)
{
    reply_job *j = arg;
    http_conn *c = conns_ready ? idmap_get(&conns, j->ref.conn) : NULL;
    if (c && c->state == HC_WAITING && c->serial == j->ref.serial) {
        send_response(c, j->status, NULL, j->headers, j->body, j->len);
        if (c->state == HC_READING)
            resume_reading(c);
    }
    reply_free(j);
}

void http_reply(const http_ref *ref, int status, const char *headers, char *body, size_t len)
{
    reply_job *j = xcalloc(1, sizeof *j);
    j->ref = *ref;
    j->status = status;
    j->headers = headers ? xstrdup(headers) : NULL;
    j->body = body;
    j->len = len;
    worker *w = worker_get(ref->worker);
    if (!w) {
        reply_free(j);
        return;
    }
    worker_post_drop(w, reply_run, reply_free, j);
}

/* Whether path is the configured url (which ends in '/'), with or without
 * its trailing slash. */
static bool path_is(const char *path, const char *url)
{
    if (!url || !*url)
        return false;
    size_t n = strlen(url);
    if (!strcmp(path, url))
        return true;
    return n > 1 && url[n - 1] == '/' && strlen(path) == n - 1 && !strncmp(path, url, n - 1);
}

typedef enum { R_NONE, R_METRICS, R_BOSH, R_POLL, R_WS, R_UPLOAD } route;

static route route_of(const http_conn *c)
{
    char path[1024];
    http_reader_path(&c->rd, path, sizeof path);
    const config *cfg = config_current();
    if (!strcmp(path, "/metrics"))
        return R_METRICS;
    if (http_upload_path(path))
        return R_UPLOAD;
    if (cfg->http_bind && path_is(path, cfg->http_bind_url))
        return R_BOSH;
    if (cfg->http_poll && path_is(path, cfg->http_poll_url))
        return R_POLL;
    if (cfg->http_websocket && path_is(path, cfg->http_websocket_url))
        return R_WS;
    return R_NONE;
}

static void set_peer(http_conn *c);

/* The headers are in: CORS applies to the XMPP paths; a client waiting
 * for 100 Continue gets it unless the body is refused anyway. */
static int headers_done(void *ud, http_reader *r)
{
    http_conn *c = ud;
    route rt = route_of(c);
    c->xmpp_path = rt == R_BOSH || rt == R_POLL || rt == R_WS;
    c->upload_path = rt == R_UPLOAD;
    if (rt == R_UPLOAD) {
        set_peer(c);
        int status = http_upload_headers(c);
        if (status)
            return status;
    }
    if (r->expect && !strcasecmp(r->expect, "100-continue") &&
        (r->body_sink ||
         !((r->parser.flags & F_CONTENTLENGTH) && r->parser.content_length > r->body_limit)))
        evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n");
    return 0;
}

/* ---- routing ---- */

static http_ref ref_of(const http_conn *c)
{
    http_ref r = { worker_id(c->w), c->id, c->serial };
    return r;
}

static bool list_has(const char *list, const char *word)
{
    if (!list)
        return false;
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (len == n && !strncasecmp(p, word, n))
            return true;
        p += len;
    }
    return false;
}

static void ws_accept_key(const char *key, char out[64])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char in[128];
    int n = snprintf(in, sizeof in, "%s%s", key, guid);
    EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

/* Whether a stream over this connection counts as encrypted (so PLAIN is
 * allowed with plucs/tls=required): the HTTP listener has no TLS of its
 * own, so only a loopback peer (the reverse proxy terminating HTTPS) is. */
static bool web_secure(const http_conn *c)
{
    return conn_web_secure(false, conn_peer_is_loopback(c->conn_peer));
}

/* Returns true when the connection was handed over (no longer ours). */
static bool upgrade_websocket(http_conn *c)
{
    if (c->rd.method != HTTP_GET) {
        send_text(c, 405, "Allow: GET\r\n", "WebSocket only (GET with Upgrade: websocket)\n");
        return false;
    }
    if (!c->rd.upgrade || strcasecmp(c->rd.upgrade, "websocket") || !list_has(c->rd.connection, "upgrade")) {
        send_text(c, 426, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n",
                  "This is an XMPP over WebSocket endpoint (RFC 7395).\n");
        return false;
    }
    if (!c->rd.ws_version || strcmp(c->rd.ws_version, "13")) {
        send_text(c, 426, "Sec-WebSocket-Version: 13\r\n", "WebSocket version 13 is required\n");
        return false;
    }
    if (!c->rd.ws_key || strlen(c->rd.ws_key) != 24) {
        send_text(c, 400, NULL, "missing or invalid Sec-WebSocket-Key\n");
        return false;
    }
    if (!list_has(c->rd.ws_protocol, "xmpp")) {
        log_info("http: %s: WebSocket without the xmpp sub-protocol refused", c->peer);
        send_text(c, 400, NULL, "the xmpp sub-protocol (RFC 7395) is required\n");
        return false;
    }
    if (c->rd.origin && !cors_origin(c)) {
        log_info("http: %s: WebSocket from origin '%s' refused (plucs/http/cors/origins)", c->peer,
                 c->rd.origin);
        send_text(c, 403, NULL, "origin not allowed\n");
        return false;
    }
    /* The stream counts as not yet logged in (plucs/c2s/max_preauth; per
     * address only for a peer that is not the loopback proxy). */
    const config *cfg = config_current();
    conn_slot slot;
    cl_result lim = conn_limits_acquire_peer(&slot, c->conn_peer,
                                             !conn_peer_is_loopback(c->conn_peer),
                                             cfg->c2s_max_per_ip, cfg->c2s_max_preauth);
    if (lim != CL_OK) {
        unsigned skipped = 0;
        if (conn_limits_log_ok(lim == CL_PER_IP ? CL_LOG_PER_IP : CL_LOG_GLOBAL, 10, &skipped))
            log_warn("http: %s: WebSocket refused: connections not yet logged in (plucs/c2s/%s); "
                     "%u more refused since the last such line",
                     c->peer, lim == CL_PER_IP ? "max_per_ip" : "max_preauth", skipped);
        send_text(c, 503, "Retry-After: 5\r\n", "too many connections not yet logged in\n");
        return false;
    }
    char accept[64];
    ws_accept_key(c->rd.ws_key, accept);
    metrics_http_request(101);
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                        "Sec-WebSocket-Protocol: xmpp\r\n\r\n",
                        accept);
    bool secure = web_secure(c);
    struct bufferevent *bev = c->bev;
    c->bev = NULL;
    char peer[112];
    snprintf(peer, sizeof peer, "%s", c->peer);
    worker *w = c->w;
    hc_free(c);
    websocket_accept(w, bev, peer, secure, &slot);
    return true;
}

/* Returns true when c is no longer ours (handed over or freed). */
static bool dispatch(http_conn *c)
{
    int method = c->rd.method;
    c->keep_alive = c->rd.keep_alive;
    c->head = method == HTTP_HEAD;
    route r = route_of(c);
    evtimer_del(c->timer);
    switch (r) {
    case R_METRICS: {
        if (method != HTTP_GET && method != HTTP_HEAD) {
            send_text(c, 405, "Allow: GET, HEAD\r\n", "method not allowed\n");
            break;
        }
        buf b;
        buf_init(&b);
        metrics_render(&b);
        send_response(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.data, b.len);
        buf_free(&b);
        break;
    }
    case R_BOSH:
    case R_POLL:
        if (method == HTTP_OPTIONS) {
            send_response(c, 204, NULL,
                          "Access-Control-Allow-Methods: POST, OPTIONS\r\n"
                          "Access-Control-Allow-Headers: Content-Type\r\n"
                          "Access-Control-Max-Age: 86400\r\n",
                          NULL, 0);
        } else if (method != HTTP_POST) {
            send_text(c, 405, "Allow: POST, OPTIONS\r\n",
                      r == R_BOSH ? "BOSH (XEP-0124/0206): POST a <body/>\n"
                                  : "HTTP polling (XEP-0025): POST\n");
        } else {
            c->state = HC_WAITING;
            set_timer(c, WAIT_TIMEOUT);
            bufferevent_disable(c->bev, EV_READ);
            http_ref ref = ref_of(c);
            if (r == R_BOSH)
                bosh_request(&ref, c->rd.body.data ? c->rd.body.data : "", c->rd.body.len,
                             c->peer, web_secure(c));
            else
                poll_request(&ref, c->rd.body.data ? c->rd.body.data : "", c->rd.body.len,
                             c->rd.cookie, c->peer, web_secure(c));
        }
        break;
    case R_WS:
        if (method == HTTP_OPTIONS) {
            send_response(c, 204, NULL, "Access-Control-Allow-Methods: GET, OPTIONS\r\n", NULL, 0);
            break;
        }
        return upgrade_websocket(c);
    case R_UPLOAD:
        http_upload_request(c);
        break;
    case R_NONE:
        send_text(c, 404, NULL, "not found\n");
        break;
    }
    return false;
}

/* ---- input ---- */

static void fail_request(http_conn *c, int status, const char *why)
{
    log_info("http: %s: %d %s (%s)", c->peer, status, reason(status), why);
    /* A parse error leaves the request incomplete: answer and close. */
    c->keep_alive = false;
    char text[160];
    snprintf(text, sizeof text, "%s\n", why ? why : reason(status));
    send_text(c, status, NULL, text);
}

static void resume_reading(http_conn *c)
{
    hc_read(c->bev, c);
}

/* Who the client is, for logs: behind Apache the X-Forwarded-For header
 * names it (believed only from loopback, where the proxy is). */
static void set_peer(http_conn *c)
{
    const char *xff = c->rd.forwarded_for;
    bool loopback = !strncmp(c->conn_peer, "127.", 4) || !strncmp(c->conn_peer, "::1", 3);
    if (xff && *xff && loopback) {
        int n = (int)strcspn(xff, ", ");
        snprintf(c->peer, sizeof c->peer, "%.*s via %.60s", n < 40 ? n : 40, xff, c->conn_peer);
    } else {
        snprintf(c->peer, sizeof c->peer, "%s", c->conn_peer);
    }
}

static void hc_read(struct bufferevent *bev, void *arg)
{
    http_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (c->state == HC_READING) {
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) > OUTPUT_PAUSE) {
            /* A client that pipelines requests but does not read the
             * answers: read nothing more until they left (hc_written). */
            c->paused = true;
            bufferevent_disable(c->bev, EV_READ);
            break;
        }
        size_t avail = evbuffer_get_length(in);
        if (avail == 0)
            break;
        size_t n = avail < 16384 ? avail : 16384;
        const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
        bool was_started = c->rd.started;
        size_t used = http_reader_feed(&c->rd, data, n);
        evbuffer_drain(in, used);
        if (!was_started && c->rd.started)
            set_timer(c, HTTP_REQUEST_TIMEOUT);
        if (c->rd.error) {
            fail_request(c, c->rd.error, c->rd.why);
            return;
        }
        if (c->rd.complete) {
            set_peer(c);
            if (dispatch(c))
                return;
            continue;
        }
        if (c->up_paused) {   /* an upload body waits for the disk */
            bufferevent_disable(c->bev, EV_READ);
            break;
        }
        if (used < n)
            break;
    }
}

static void hc_timeout(evutil_socket_t fd, short what, void *arg)
{
    http_conn *c = arg;
    switch (c->state) {
    case HC_CLOSING:
        hc_free(c);
        break;
    case HC_WAITING:
        log_warn("http: %s: no answer within %d s", c->peer, WAIT_TIMEOUT);
        c->keep_alive = false;
        send_text(c, 504, NULL, "no answer\n");
        break;
    case HC_READING:
        if (c->rd.started) {
            log_info("http: %s: request not complete within %d s", c->peer, HTTP_REQUEST_TIMEOUT);
            c->keep_alive = false;
            send_text(c, 408, NULL, "request timeout\n");
        } else {
            log_debug("http: %s: idle, closing", c->peer);
            hc_close(c);
        }
        break;
    }
}

/* The output drained (the write callback runs when it is empty). */
static void hc_written(struct bufferevent *bev, void *arg)
{
    http_conn *c = arg;
    if (!c->paused || c->state != HC_READING)
        return;
    c->paused = false;
    bufferevent_enable(c->bev, EV_READ);
    hc_read(c->bev, c);
}

static void hc_event(struct bufferevent *bev, short what, void *arg)
{
    http_conn *c = arg;
    if (c->state != HC_CLOSING)
        log_debug("http: %s: connection %s", c->peer, (what & BEV_EVENT_EOF) ? "closed" : "error");
    hc_free(c);
}

void http_accept(worker *w, evutil_socket_t fd, const char *peer)
{
    if (!conns_ready) {
        idmap_init(&conns);
        conns_ready = true;
    }
    if (transport_stopping()) {
        evutil_closesocket(fd);
        return;
    }
    http_conn *c = xcalloc(1, sizeof *c);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->id = atomic_fetch_add(&next_conn_id, 1);
    c->w = w;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    snprintf(c->conn_peer, sizeof c->conn_peer, "%s", peer);
    http_reader_init(&c->rd, http_body_limit());
    c->rd.headers_done = headers_done;
    c->rd.ud = c;
    c->timer = evtimer_new(worker_base(w), hc_timeout, c);
    c->bev = bufferevent_socket_new(worker_base(w), fd, BEV_OPT_CLOSE_ON_FREE);
    idmap_put(&conns, c->id, c);
    transport_conn_opened();
    bufferevent_setcb(c->bev, hc_read, hc_written, hc_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    set_timer(c, HTTP_IDLE_TIMEOUT);
    log_debug("http: %s connected (worker %d)", peer, worker_id(w));
}

static void each_conn(void (*fn)(http_conn *c))
{
    if (!conns_ready)
        return;
    size_t n = conns.count, k = 0;
    uint64_t *ids = xmalloc((n ? n : 1) * sizeof *ids);
    for (size_t i = 0; i < conns.cap && k < n; i++)
        if (idmap_live(&conns, i))
            ids[k++] = conns.keys[i];
    for (size_t i = 0; i < k; i++) {
        http_conn *c = idmap_get(&conns, ids[i]);
        if (c)
            fn(c);
    }
    free(ids);
}

static void shutdown_conn(http_conn *c)
{
    if (c->state == HC_READING)
        hc_close(c);
    /* WAITING: the answer (a BOSH terminate) closes it, no keep-alive. */
}

void http_worker_shutdown(void) { each_conn(shutdown_conn); }

void http_worker_cleanup(void)
{
    each_conn(hc_free);
    if (conns_ready) {
        idmap_free(&conns);
        conns_ready = false;
    }
}

http_conn *http_conn_find(uint64_t id) { return conns_ready ? idmap_get(&conns, id) : NULL; }

void http_conn_set_timer(http_conn *c, int seconds) { set_timer(c, seconds); }

void http_conn_wait(http_conn *c, int seconds)
{
    c->state = HC_WAITING;
    set_timer(c, seconds);
    bufferevent_disable(c->bev, EV_READ);
}

void http_conn_resume(http_conn *c)
{
    if (c->state != HC_READING)
        return;
    bufferevent_enable(c->bev, EV_READ);
    resume_reading(c);
}
