/* s2s_out.c: outgoing server-to-server streams. One stream per (local
 * domain, remote domain), owned by one worker; a global table (locked,
 * touched only when a stream is made or ends) says which worker, and
 * s2s_send() posts stanzas there. A new stream queues stanzas (bounded:
 * S2S_QUEUE_MAX stanzas and S2S_QUEUE_BYTES; beyond that a stanza is
 * bounced with resource-constraint) while it resolves the peer, connects
 * to each address in turn, reads the features, does STARTTLS (always when
 * offered and plucs/s2s/tls is not false), authenticates with SASL EXTERNAL
 * (XEP-0178) when the peer's certificate verifies and it offers EXTERNAL,
 * else with dialback (XEP-0220; never with required_trusted), and then
 * writes the queue. Failure bounces the queue: remote-server-not-found
 * (resolution, connection, TLS, authentication), remote-server-timeout
 * (plucs/s2s/timeout passed first). Presence and error stanzas are never
 * bounced, only dropped. The stream also carries db:verify requests for
 * our incoming streams (s2s_dialback.c). */
#include "transport/s2s_internal.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "router/router.h"
#include "transport/s2s_tls.h"
#include "xmpp/sasl.h"
#include "xmpp/stanza.h"

/* ---- the table: (local, remote) -> owning worker ---- */

typedef struct tentry {
    struct tentry *next;
    char local[S2S_DOMAIN_MAX];
    char remote[S2S_DOMAIN_MAX];
    worker *w;
} tentry;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static tentry *table;
static size_t table_n;

worker *s2s_table_claim(const char *local, const char *remote, worker *self)
{
    pthread_mutex_lock(&table_lock);
    tentry *e = table;
    while (e && (strcmp(e->local, local) || strcmp(e->remote, remote)))
        e = e->next;
    if (!e && table_n >= S2S_TABLE_MAX) {
        pthread_mutex_unlock(&table_lock);
        static _Atomic long long warned;
        long long now = s2s_now(), was = atomic_load(&warned);
        if (now != was && atomic_compare_exchange_strong(&warned, &was, now))
            log_warn("s2s: %d outgoing streams already, none more for %s -> %s "
                     "(resource-constraint)", S2S_TABLE_MAX, local, remote);
        return NULL;
    }
    if (!e) {
        table_n++;
        e = xcalloc(1, sizeof *e);
        snprintf(e->local, sizeof e->local, "%s", local);
        snprintf(e->remote, sizeof e->remote, "%s", remote);
        e->w = self;
        e->next = table;
        table = e;
    }
    worker *w = e->w;
    pthread_mutex_unlock(&table_lock);
    return w;
}

void s2s_table_release(const char *local, const char *remote, worker *self)
{
    pthread_mutex_lock(&table_lock);
    for (tentry **p = &table; *p; p = &(*p)->next) {
        tentry *e = *p;
        if (!strcmp(e->local, local) && !strcmp(e->remote, remote)) {
            if (e->w == self) {
                *p = e->next;
                free(e);
                table_n--;
            }
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
}

/* ---- queue and bounces ---- */

/* Answers st (owned) with an error to its local sender, unless it is
 * presence or an error itself (dropped). */
static void bounce(xnode *st, const char *type, const char *cond)
{
    const char *t = xnode_attr(st, "type");
    if (strcmp(st->name, "presence") && !(t && !strcmp(t, "error")))
        router_bounce(st, type, cond, NULL);
    xnode_free(st);
}

static s2s_stream *find_out(const char *local, const char *remote)
{
    for (s2s_stream *s = s2s_worker_streams(); s; s = s->next_w)
        if (s->dir == S2S_OUT && !s->detached && !s->closing && !strcmp(s->local, local) &&
            !strcmp(s->remote, remote))
            return s;
    return NULL;
}

static void fail(s2s_stream *s, const char *type, const char *cond, const char *why)
{
    if (s->closing)
        return;
    if (!s->fail_cond) {
        s->fail_type = type;
        s->fail_cond = cond;
        snprintf(s->fail_why, sizeof s->fail_why, "%s", why);
    }
    log_info("s2s: outgoing %s -> %s failed: %s", s->local, s->remote, why);
    s2s_close(s, NULL, NULL);
}

/* Connection lost or broken: no stream error can be said; the remains are
 * freed on a later turn by s2s_close. */
static void fail_dead(s2s_stream *s, const char *type, const char *cond, const char *why)
{
    if (s->bev) {
        bufferevent_free(s->bev);
        s->bev = NULL;
    }
    fail(s, type, cond, why);
}

void s2s_out_freeing(s2s_stream *s)
{
    if (s->detached)
        return;
    s->detached = true;
    if (s->lookup) {
        s2s_resolve_cancel(s->lookup);
        s->lookup = NULL;
    }
    if (s->table_held) {
        s2s_table_release(s->local, s->remote, s->w);
        s->table_held = false;
    }
    const char *type = s->fail_type ? s->fail_type : "cancel";
    const char *cond = s->fail_cond ? s->fail_cond : "remote-server-not-found";
    while (s->qhead) {
        s2s_queued *q = s->qhead;
        s->qhead = q->next;
        bounce(q->st, type, cond);
        free(q);
    }
    s->qtail = &s->qhead;
    s->qlen = s->qbytes = 0;
    while (s->verifies) {
        s2s_verify *v = s->verifies;
        s->verifies = v->next;
        s2s_dialback_verify_done(v, false);
    }
}

/* ---- connecting ---- */

static void try_next(s2s_stream *s);

static void send_header(s2s_stream *s) { s2s_write_header(s, s->local, s->remote, NULL); }

static void resolved(void *ud, s2s_resolve_status status, const s2s_addr *addrs, size_t n,
                     const char *why)
{
    s2s_stream *s = ud;
    s->lookup = NULL;
    if (status != S2S_RESOLVE_OK || n == 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot resolve %s: %s", s->remote, why ? why : "no address");
        fail(s, "cancel", "remote-server-not-found", msg);
        return;
    }
    s->addrs = xcalloc(n, sizeof *addrs);
    memcpy(s->addrs, addrs, n * sizeof *addrs);
    s->naddrs = n;
    s->addr_i = 0;
    try_next(s);
}

/* A socket for an outgoing connection to a. With one specific
 * plucs/s2s/address of a's family, connections leave from it (the peer
 * sees the address our s2s listener has; multi-homed hosts and tests with
 * a loopback address per server); otherwise the system picks. */
static evutil_socket_t out_socket(const config *c, const s2s_addr *a)
{
    int family = a->ss.ss_family;
    evutil_socket_t fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    evutil_make_socket_nonblocking(fd);
    if (c->s2s_addresses && c->s2s_addresses[0] && !c->s2s_addresses[1]) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        socklen_t len = 0;
        if (family == AF_INET && inet_pton(AF_INET, c->s2s_addresses[0], &in4->sin_addr) == 1 &&
            in4->sin_addr.s_addr != htonl(INADDR_ANY)) {
            in4->sin_family = AF_INET;
            len = sizeof *in4;
        } else if (family == AF_INET6 &&
                   inet_pton(AF_INET6, c->s2s_addresses[0], &in6->sin6_addr) == 1 &&
                   !IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) {
            in6->sin6_family = AF_INET6;
            len = sizeof *in6;
        }
        if (len && bind(fd, (struct sockaddr *)&ss, len) != 0)
            log_debug("s2s: cannot bind the outgoing socket to %s: %s", c->s2s_addresses[0],
                      evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    }
    return fd;
}

static void try_next(s2s_stream *s)
{
    const config *c = config_current();
    struct event_base *base = worker_base(s->w);
    while (s->addr_i < s->naddrs) {
        s2s_addr *a = &s->addrs[s->addr_i++];
        struct bufferevent *bev;
        s->tls = false;
        s->tls_handshaking = false;
        s->header_sent = false;
        s->direct_tls = a->direct_tls;
        if (s->xs) {
            xstream_free(s->xs);
            s->xs = NULL;
        }
        if (a->direct_tls && (c->s2s_tls == S2S_TLS_FALSE || !s2s_tls_available()))
            continue;   /* XEP-0368 needs TLS from the first byte */
        evutil_socket_t fd = out_socket(c, a);
        if (fd < 0)
            continue;
        bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (!bev) {
            evutil_closesocket(fd);
            continue;
        }
        log_info("s2s: outgoing %s -> %s: connecting to %s:%d%s", s->local, s->remote, a->host,
                 a->port, a->direct_tls ? " (direct TLS)" : "");
        snprintf(s->peer, sizeof s->peer, "%s:%d", a->host, a->port);
        s2s_attach(s, bev);
        s->state = OUT_CONNECTING;
        if (bufferevent_socket_connect(bev, (struct sockaddr *)&a->ss, (int)a->len) != 0) {
            log_info("s2s: outgoing %s -> %s: cannot connect to %s:%d", s->local, s->remote,
                     a->host, a->port);
            bufferevent_free(bev);
            s->bev = NULL;
            continue;
        }
        return;
    }
    fail(s, "cancel", "remote-server-not-found", "no address of the peer could be reached");
}

void s2s_out_event_error(s2s_stream *s, const char *why)
{
    if (s->state == OUT_CONNECTING || (s->direct_tls && s->tls_handshaking)) {
        log_info("s2s: outgoing %s -> %s: %s: %s", s->local, s->remote, s->peer, why);
        if (s->bev) {
            bufferevent_free(s->bev);
            s->bev = NULL;
        }
        try_next(s);
    } else if (s->state == OUT_READY) {   /* an established stream ends: no failure */
        log_info("s2s: outgoing %s -> %s: %s, closed", s->local, s->remote, why);
        if (s->bev) {
            bufferevent_free(s->bev);
            s->bev = NULL;
        }
        s2s_close(s, NULL, NULL);
    } else {
        char msg[400];
        snprintf(msg, sizeof msg, "%s during negotiation", why);
        fail_dead(s, "cancel", "remote-server-not-found", msg);
    }
}

void s2s_out_connected(s2s_stream *s)
{
    log_info("s2s: outgoing %s -> %s: connected to %s", s->local, s->remote, s->peer);
    if (s->direct_tls) {   /* XEP-0368: TLS first, then the stream */
        if (!s2s_start_tls(s, s2s_tls_connect_ssl(s->local, s->remote), false))
            s2s_out_event_error(s, "cannot start TLS");
        return;
    }
    s->state = OUT_WAIT_FEATURES;
    send_header(s);
}

void s2s_out_tls_done(s2s_stream *s)
{
    log_info("s2s: outgoing %s -> %s: TLS established with %s", s->local, s->remote, s->peer);
    s->state = OUT_WAIT_FEATURES;
    send_header(s);   /* STARTTLS: a new stream; direct TLS: the first one */
}

void s2s_out_setup_timeout(s2s_stream *s)
{
    if (s->state == OUT_READY)
        return;
    const config *c = config_current();
    char msg[200];
    snprintf(msg, sizeof msg, "no answer within %d s (plucs/s2s/timeout)", c->s2s_timeout);
    fail(s, "wait", "remote-server-timeout", msg);
}

/* ---- negotiation ---- */

static void send_verifies(s2s_stream *s)
{
    for (s2s_verify *v = s->verifies; v; v = v->next) {
        if (v->sent)
            continue;
        buf b;
        buf_init(&b);
        buf_puts(&b, "<db:verify from='");
        xml_escape(&b, v->to, strlen(v->to), true);
        buf_puts(&b, "' to='");
        xml_escape(&b, v->from, strlen(v->from), true);
        buf_puts(&b, "' id='");
        xml_escape(&b, v->id, strlen(v->id), true);
        buf_puts(&b, "'>");
        xml_escape(&b, v->key, strlen(v->key), false);
        buf_puts(&b, "</db:verify>");
        s2s_write_buf(s, &b);
        buf_free(&b);
        v->sent = true;
    }
}

static bool can_verify(const s2s_stream *s)
{
    return s->state == OUT_WAIT_DIALBACK || s->state == OUT_READY;
}

static void ready(s2s_stream *s, s2s_auth how)
{
    s->state = OUT_READY;
    s->auth = how;
    s2s_status_update(s);
    if (s->setup_timer)
        evtimer_del(s->setup_timer);
    log_info("s2s: outgoing %s -> %s: authenticated by %s%s", s->local, s->remote,
             how == S2S_AUTH_EXTERNAL ? "SASL EXTERNAL" : "dialback",
             s->tls ? " over TLS" : " without TLS");
    send_verifies(s);
    while (s->qhead && !s->closing) {
        s2s_queued *q = s->qhead;
        s->qhead = q->next;
        s2s_write_stanza(s, q->st);
        xnode_free(q->st);
        free(q);
    }
    s->qtail = &s->qhead;
    s->qlen = s->qbytes = 0;
    s2s_touch(s);
    s2s_arm_idle(s);
}

static bool offers_external(const xnode *features)
{
    xnode *m = features ? xnode_child(features, "mechanisms", NS_SASL) : NULL;
    for (xnode *e = m ? xnode_first_element(m) : NULL; e; e = xnode_next_element(e)) {
        char *t = xnode_text(e);
        bool ext = t && !strcmp(t, "EXTERNAL");
        free(t);
        if (ext)
            return true;
    }
    return false;
}

static void start_dialback(s2s_stream *s)
{
    char key[65];
    s2s_dialback_key(s->remote, s->local, s->id, key);
    buf b;
    buf_init(&b);
    buf_puts(&b, "<db:result from='");
    xml_escape(&b, s->local, strlen(s->local), true);
    buf_puts(&b, "' to='");
    xml_escape(&b, s->remote, strlen(s->remote), true);
    buf_printf(&b, "'>%s</db:result>", key);
    s2s_write_buf(s, &b);
    buf_free(&b);
    s->state = OUT_WAIT_DIALBACK;
    log_info("s2s: outgoing %s -> %s: dialback requested", s->local, s->remote);
    send_verifies(s);
}

/* The peer's features (NULL: a pre-1.0 peer that sends none). */
static void negotiate(s2s_stream *s, const xnode *features)
{
    const config *c = config_current();
    enum s2s_tls_mode mode = c->s2s_tls;
    xnode *starttls = features ? xnode_child(features, "starttls", NS_TLS) : NULL;
    if (s->auth == S2S_AUTH_EXTERNAL) {   /* the stream after SASL success */
        ready(s, S2S_AUTH_EXTERNAL);
        return;
    }
    if (!s->tls && starttls && mode != S2S_TLS_FALSE && s2s_tls_available()) {
        s2s_write(s, "<starttls xmlns='" NS_TLS "'/>", strlen("<starttls xmlns='" NS_TLS "'/>"));
        s->state = OUT_WAIT_PROCEED;
        return;
    }
    if (!s->tls && (mode == S2S_TLS_REQUIRED || mode == S2S_TLS_REQUIRED_TRUSTED)) {
        fail(s, "cancel", "remote-server-not-found",
             starttls ? "no certificate of our own to start TLS with (plucs/s2s/tls requires TLS)"
                      : "the peer does not offer TLS (plucs/s2s/tls requires it)");
        return;
    }
    if (!s->tls && starttls && xnode_child(starttls, "required", NS_TLS)) {
        fail(s, "cancel", "remote-server-not-found",
             mode == S2S_TLS_FALSE ? "the peer requires TLS (plucs/s2s/tls=false)"
                                   : "the peer requires TLS and we have no certificate");
        return;
    }
    char why[256] = "no TLS";
    bool trusted = s->tls && s2s_tls_peer_verified(s2s_stream_ssl(s), s->remote, why, sizeof why);
    if (trusted && offers_external(features)) {
        char *b64 = base64_encode(s->local, strlen(s->local));
        buf b;
        buf_init(&b);
        buf_printf(&b, "<auth xmlns='" NS_SASL "' mechanism='EXTERNAL'>%s</auth>", b64);
        s2s_write_buf(s, &b);
        buf_free(&b);
        free(b64);
        s->state = OUT_WAIT_SASL;
        return;
    }
    if (mode == S2S_TLS_REQUIRED_TRUSTED) {
        char msg[400];
        snprintf(msg, sizeof msg, trusted ? "the peer offers no SASL EXTERNAL (required_trusted)"
                                          : "peer certificate not trusted: %s", why);
        fail(s, "cancel", "remote-server-not-found", msg);
        return;
    }
    start_dialback(s);
}

void s2s_out_open(s2s_stream *s, const xnode *hdr, const char *default_ns)
{
    if (strcmp(hdr->name, "stream") || strcmp(hdr->ns, NS_STREAM) || !default_ns ||
        strcmp(default_ns, NS_SERVER)) {
        fail(s, "cancel", "remote-server-not-found", "the peer's stream header is not jabber:server");
        return;
    }
    const char *id = xnode_attr(hdr, "id");
    if (!id || !*id || strlen(id) >= sizeof s->id) {
        fail(s, "cancel", "remote-server-not-found", "the peer's stream header has no usable id");
        return;
    }
    snprintf(s->id, sizeof s->id, "%s", id);
    const char *version = xnode_attr(hdr, "version");
    if (!version || strncmp(version, "1.", 2))
        negotiate(s, NULL);   /* no features will come */
}

static void verify_answered(s2s_stream *s, const xnode *el)
{
    const char *id = xnode_attr(el, "id");
    const char *type = xnode_attr(el, "type");
    const char *from = xnode_attr(el, "from");
    for (s2s_verify **p = &s->verifies; *p; p = &(*p)->next) {
        s2s_verify *v = *p;
        if (v->sent && id && !strcmp(v->id, id) && (!from || !strcasecmp(from, v->from))) {
            *p = v->next;
            s2s_dialback_verify_done(v, type && !strcmp(type, "valid"));
            return;
        }
    }
}

void s2s_out_element(s2s_stream *s, xnode *el)
{
    if (!strcmp(el->ns, NS_STREAM) && !strcmp(el->name, "features") &&
        s->state == OUT_WAIT_FEATURES) {
        negotiate(s, el);
    } else if (!strcmp(el->ns, NS_TLS) && !strcmp(el->name, "proceed") &&
               s->state == OUT_WAIT_PROCEED) {
        s->starttls_pending = true;
        xstream_stop(s->xs);
    } else if (!strcmp(el->ns, NS_TLS)) {
        fail(s, "cancel", "remote-server-not-found", "the peer refused STARTTLS");
    } else if (!strcmp(el->ns, NS_SASL) && !strcmp(el->name, "success") &&
               s->state == OUT_WAIT_SASL) {
        s->auth = S2S_AUTH_EXTERNAL;
        s->state = OUT_WAIT_FEATURES;
        s2s_restart(s);
        send_header(s);
    } else if (!strcmp(el->ns, NS_SASL) && !strcmp(el->name, "failure") &&
               s->state == OUT_WAIT_SASL) {
        log_info("s2s: outgoing %s -> %s: SASL EXTERNAL refused, trying dialback", s->local,
                 s->remote);
        if (config_current()->s2s_tls == S2S_TLS_REQUIRED_TRUSTED)
            fail(s, "cancel", "remote-server-not-found", "SASL EXTERNAL refused by the peer");
        else
            start_dialback(s);
    } else if (!strcmp(el->ns, NS_DIALBACK) && !strcmp(el->name, "result") &&
               s->state == OUT_WAIT_DIALBACK) {
        const char *type = xnode_attr(el, "type");
        xnode *err = xnode_child(el, "error", NULL);
        xnode *cond = err ? xnode_first_element(err) : NULL;
        char msg[300];
        snprintf(msg, sizeof msg, "dialback refused by the peer%s%s", cond ? ": " : "",
                 cond ? cond->name : "");
        if (type && !strcmp(type, "valid"))
            ready(s, S2S_AUTH_DIALBACK);
        else
            fail(s, "cancel", "remote-server-not-found", msg);
    } else if (!strcmp(el->ns, NS_DIALBACK) && !strcmp(el->name, "verify")) {
        verify_answered(s, el);
    } else if (!strcmp(el->ns, NS_STREAM) && !strcmp(el->name, "error")) {
        xnode *cond = xnode_first_element(el);
        char msg[300];
        snprintf(msg, sizeof msg, "stream error from the peer: %s",
                 cond ? cond->name : "unknown");
        if (s->state == OUT_READY) {   /* an established stream ends: no failure */
            log_info("s2s: outgoing %s -> %s: %s, closed", s->local, s->remote, msg);
            s2s_close(s, NULL, NULL);
        } else {
            fail(s, "cancel", "remote-server-not-found", msg);
        }
    }
    xnode_free(el);
}

/* ---- making streams, queueing ---- */

static s2s_stream *out_new(const char *local, const char *remote)
{
    s2s_stream *s = s2s_stream_new(S2S_OUT, NULL);
    snprintf(s->local, sizeof s->local, "%s", local);
    snprintf(s->remote, sizeof s->remote, "%s", remote);
    s->table_held = true;
    s2s_status_update(s);
    const config *c = config_current();
    s2s_arm_setup(s, c->s2s_timeout);
    log_info("s2s: outgoing %s -> %s: resolving", local, remote);
    s->lookup = s2s_resolve_start(worker_base(s->w), c, remote, resolved, s);
    return s;
}

typedef struct fwd {
    char local[S2S_DOMAIN_MAX];
    char remote[S2S_DOMAIN_MAX];
    xnode *st;
} fwd;

static void fwd_run(void *arg)
{
    fwd *f = arg;
    s2s_out_enqueue(f->local, f->remote, f->st);
    free(f);
}

static void fwd_drop(void *arg)
{
    fwd *f = arg;
    xnode_free(f->st);
    free(f);
}

void s2s_out_post(worker *w, const char *local, const char *remote, xnode *st)
{
    fwd *f = xcalloc(1, sizeof *f);
    snprintf(f->local, sizeof f->local, "%s", local);
    snprintf(f->remote, sizeof f->remote, "%s", remote);
    f->st = st;
    worker_post_drop(w, fwd_run, fwd_drop, f);
}

/* The stream for (local, remote) on this worker, made when the table lets
 * us; NULL when another worker owns it (*other set). */
static s2s_stream *stream_for(const char *local, const char *remote, worker **other)
{
    s2s_stream *s = find_out(local, remote);
    if (s)
        return s;
    worker *self = worker_self();
    worker *w = s2s_table_claim(local, remote, self);
    if (!w)
        return NULL;
    if (w != self) {
        *other = w;
        return NULL;
    }
    return out_new(local, remote);
}

void s2s_out_enqueue(const char *local, const char *remote, xnode *st)
{
    worker *other = NULL;
    s2s_stream *s = stream_for(local, remote, &other);
    if (!s && !other) {
        bounce(st, "wait", "resource-constraint");
        return;
    }
    if (!s) {
        s2s_out_post(other, local, remote, st);
        return;
    }
    if (s->state == OUT_READY) {
        s2s_write_stanza(s, st);
        xnode_free(st);
        return;
    }
    buf b;
    buf_init(&b);
    xml_serialize(st, NS_CLIENT, &b);
    size_t bytes = b.len;
    buf_free(&b);
    if (s->qlen >= S2S_QUEUE_MAX || s->qbytes + bytes > S2S_QUEUE_BYTES) {
        static __thread log_budget lb;
        int dropped = 0;
        if (log_budget_take(&lb, 1, &dropped))
            log_warn("s2s: outgoing %s -> %s: queue full (%zu stanzas), bouncing with "
                     "resource-constraint", local, remote, s->qlen);
        bounce(st, "wait", "resource-constraint");
        return;
    }
    s2s_queued *q = xcalloc(1, sizeof *q);
    q->st = st;
    q->bytes = bytes;
    *s->qtail = q;
    s->qtail = &q->next;
    s->qlen++;
    s->qbytes += bytes;
}

static void add_verify_run(void *arg) { s2s_out_add_verify(arg); }

void s2s_out_add_verify(s2s_verify *v)
{
    worker *other = NULL;
    s2s_stream *s = stream_for(v->to, v->from, &other);
    if (!s && !other) {
        s2s_dialback_verify_done(v, false);
        return;
    }
    if (!s) {
        worker_post_drop(other, add_verify_run, free, v);
        return;
    }
    v->next = s->verifies;
    s->verifies = v;
    if (can_verify(s))
        send_verifies(s);
}
