/* listener.c: see listener.h. */
#include "transport/listener.h"
#include "core/alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/worker.h"
#include "transport/c2s.h"
#include "transport/conn_limits.h"
#include "transport/http.h"
#include "transport/s2s.h"

typedef enum { L_C2S, L_C2S_TLS, L_HTTP, L_S2S } listener_kind;

typedef struct listener {
    struct listener *next;
    listener_kind kind;
    char addr[64];
    int port;
    struct evconnlistener *ev;
    struct event *resume;   /* out of descriptors: accepting pauses briefly */
    int keep;            /* mark during apply */
} listener;

static listener *listeners;
static unsigned next_worker;

typedef struct accept_job {
    evutil_socket_t fd;
    listener_kind kind;
    conn_slot slot;      /* c2s: the pre-authentication count it holds */
    uint8_t ip_key[17];  /* s2s: the per-address count it holds */
    char peer[64];
} accept_job;

static void accept_run(void *arg)
{
    accept_job *j = arg;
    if (j->kind == L_HTTP)
        http_accept(worker_self(), j->fd, j->peer);
    else if (j->kind == L_S2S)
        s2s_accept(worker_self(), j->fd, j->peer, j->ip_key);
    else
        c2s_accept(worker_self(), j->fd, j->peer, j->kind == L_C2S_TLS, &j->slot);
    free(j);
}

static void accept_drop(void *arg)
{
    accept_job *j = arg;
    evutil_closesocket(j->fd);
    conn_limits_release(&j->slot);
    if (j->kind == L_S2S)
        s2s_ip_release_key(j->ip_key);
    free(j);
}

/* Over a pre-authentication cap: the connection is accepted and closed at
 * once. On the plain port the client gets a stream error first (one small
 * non-blocking write into a fresh socket's empty buffer); on the direct TLS
 * port there is no TLS yet to say it in. One log line per cap per 10 s. */
static void refuse(evutil_socket_t fd, listener_kind kind, cl_result why, const char *host)
{
    const config *cfg = config_current();
    if (kind == L_C2S) {
        buf b;
        buf_init(&b);
        buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                     "xmlns:stream='http://etherx.jabber.org/streams' id='refused' "
                     "version='1.0'><stream:error><policy-violation "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>");
        buf_puts(&b, why == CL_PER_IP ? "too many connections not yet logged in from your address"
                                      : "too many connections not yet logged in");
        buf_puts(&b, "</text></stream:error></stream:stream>");
        ssize_t n = send(fd, b.data, b.len, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)n;   /* best effort: the socket is new, its buffer empty */
        buf_free(&b);
        shutdown(fd, SHUT_WR);
    }
    evutil_closesocket(fd);
    unsigned skipped = 0;
    int kindlog = why == CL_PER_IP ? CL_LOG_PER_IP : CL_LOG_GLOBAL;
    if (conn_limits_log_ok(kindlog, 10, &skipped))
        log_warn("c2s: %s: connection refused: %d connections not yet logged in %s "
                 "(plucs/c2s/%s); %u more refused by this limit since the last such line",
                 host, why == CL_PER_IP ? cfg->c2s_max_per_ip : cfg->c2s_max_preauth,
                 why == CL_PER_IP ? "from this address" : "in all",
                 why == CL_PER_IP ? "max_per_ip" : "max_preauth", skipped);
}

static void on_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    listener *l = arg;
    accept_job *j = xmalloc(sizeof *j);
    j->fd = fd;
    j->kind = l->kind;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    snprintf(j->peer, sizeof j->peer, "%s:%d", host, port);
    memset(&j->slot, 0, sizeof j->slot);
    if (l->kind == L_S2S) {
        if (!s2s_ip_acquire(sa, j->ip_key)) {
            evutil_closesocket(fd);
            free(j);
            unsigned skipped = 0;
            if (conn_limits_log_ok(CL_LOG_PER_IP, 10, &skipped))
                log_warn("s2s: %s: connection refused: %d server connections from this address "
                         "(plucs/s2s/max_per_ip); %u more refused since the last such line",
                         host, config_current()->s2s_max_per_ip, skipped);
            return;
        }
    } else if (l->kind != L_HTTP) {
        const config *cfg = config_current();
        cl_result r = conn_limits_acquire(&j->slot, sa, true, cfg->c2s_max_per_ip,
                                          cfg->c2s_max_preauth);
        if (r != CL_OK) {
            refuse(fd, l->kind, r, host);
            free(j);
            return;
        }
    }
    evutil_make_socket_nonblocking(fd);
    worker *w = worker_get((int)(next_worker++ % (unsigned)workers_count()));
    worker_post_drop(w, accept_run, accept_drop, j);
}

static void resume_accepting(evutil_socket_t fd, short what, void *arg)
{
    listener *l = arg;
    evconnlistener_enable(l->ev);
}

/* accept() failed. Out of descriptors or memory the pending connection
 * stays in the backlog and the socket stays readable: without a pause the
 * loop would spin on it (and log each turn). So accepting pauses for
 * ACCEPT_PAUSE_MS, and the line is logged at most once per 10 s. */
#define ACCEPT_PAUSE_MS 200
static void on_error(struct evconnlistener *ev, void *arg)
{
    listener *l = arg;
    int err = EVUTIL_SOCKET_ERROR();
    bool exhausted = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
    unsigned skipped = 0;
    if (conn_limits_log_ok(CL_LOG_ACCEPT, 10, &skipped))
        log_err("listener %s:%d: accept failed: %s%s (%u more such since the last line)", l->addr,
                l->port, evutil_socket_error_to_string(err),
                exhausted ? "; pausing new connections briefly" : "", skipped);
    if (exhausted && l->resume) {
        evconnlistener_disable(l->ev);
        struct timeval tv = { 0, ACCEPT_PAUSE_MS * 1000 };
        evtimer_add(l->resume, &tv);
    }
}

static int open_listener(struct event_base *base, listener *l)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t slen;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, l->addr, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)l->port);
        slen = sizeof *in;
    } else if (inet_pton(AF_INET6, l->addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)l->port);
        slen = sizeof *in6;
    } else {
        log_err("listener: '%s' is not an IP address", l->addr);
        return -1;
    }
    l->ev = evconnlistener_new_bind(base, on_accept, l,
                                    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
                                    (struct sockaddr *)&ss, (int)slen);
    if (!l->ev) {
        log_err("listener: cannot listen on [%s]:%d: %s", l->addr, l->port,
                evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    evconnlistener_set_error_cb(l->ev, on_error);
    l->resume = evtimer_new(base, resume_accepting, l);
    log_info("listening on [%s]:%d (%s)", l->addr, l->port,
             l->kind == L_C2S    ? "c2s"
             : l->kind == L_HTTP ? "http"
             : l->kind == L_S2S  ? "s2s"
                                 : "c2s direct TLS");
    return 0;
}

static int want(struct event_base *base, listener_kind kind, const char *addr, int port,
                listener **fresh)
{
    for (listener *l = listeners; l; l = l->next) {
        if (l->kind == kind && l->port == port && !strcmp(l->addr, addr)) {
            l->keep = 1;
            return 0;
        }
    }
    listener *l = xcalloc(1, sizeof *l);
    l->kind = kind;
    snprintf(l->addr, sizeof l->addr, "%s", addr);
    l->port = port;
    l->keep = 1;
    if (open_listener(base, l) != 0) {
        free(l);
        return 1;
    }
    l->next = *fresh;
    *fresh = l;
    return 0;
}

int listeners_apply(struct event_base *base, const config *c)
{
    listener *fresh = NULL;
    int failed = 0;
    for (listener *l = listeners; l; l = l->next)
        l->keep = 0;
    for (char **a = c->c2s_addresses; a && *a; a++) {
        failed += want(base, L_C2S, *a, c->c2s_port, &fresh);
        if (c->c2s_tls_port)
            failed += want(base, L_C2S_TLS, *a, c->c2s_tls_port, &fresh);
    }
    for (char **a = c->http_addresses; a && *a; a++) {
        failed += want(base, L_HTTP, *a, c->http_port, &fresh);
        /* The HTTP listener has no TLS: it belongs behind the reverse proxy. */
        if (!conn_host_is_loopback(*a))
            log_warn("plucs/http/address %s is not a loopback address: the web transports "
                     "have no TLS of their own and are meant to sit behind the HTTPS reverse "
                     "proxy on this host%s",
                     *a, c->tls == TLS_REQUIRED ? "; with plucs/tls=required, authentication "
                                                  "over them is refused from any peer that is "
                                                  "not loopback" : "");
    }
    /* Federation: only when plucs/s2s is on (re-bound live like c2s). */
    for (char **a = c->s2s ? c->s2s_addresses : NULL; a && *a; a++)
        failed += want(base, L_S2S, *a, c->s2s_port, &fresh);
    /* New ones are open; now close what the configuration dropped. */
    listener **pp = &listeners;
    while (*pp) {
        listener *l = *pp;
        if (!l->keep) {
            log_info("closing listener [%s]:%d", l->addr, l->port);
            evconnlistener_free(l->ev);
            if (l->resume)
                event_free(l->resume);
            *pp = l->next;
            free(l);
        } else {
            pp = &l->next;
        }
    }
    while (fresh) {
        listener *l = fresh;
        fresh = l->next;
        l->next = listeners;
        listeners = l;
    }
    return failed;
}

void listeners_close_all(void)
{
    while (listeners) {
        listener *l = listeners;
        listeners = l->next;
        evconnlistener_free(l->ev);
        if (l->resume)
            event_free(l->resume);
        free(l);
    }
}
