/* c2s.c: one client stream over TCP, see c2s.h. The connection owns its
 * bufferevent (plain, then the OpenSSL filter after STARTTLS), its XML
 * stream parser and its session. Negotiation (header, STARTTLS, SASL,
 * bind) happens here; once bound, stanzas go to router_from_session().
 * Stream errors are chosen and written in exactly one place, c2s_close(). */
#include "transport/c2s.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/config.h"
#include "core/i18n.h"
#include "core/log.h"
#include "directory/directory.h"
#include "modules/module.h"
#include "router/router.h"
#include "router/session.h"
#include "transport/tls.h"
#include "xml/xml.h"
#include "xmpp/jid.h"
#include "xmpp/sasl.h"
#include "xmpp/stanza.h"

#define MAX_DEPTH 64
#define PREAUTH_TIMEOUT 60       /* seconds from accept to a bound resource */
#define CLOSE_TIMEOUT 5          /* seconds to flush the last bytes */
#define MAX_OUTPUT (4u << 20)    /* a client that reads nothing is cut off */
#define MAX_AUTH_FAILURES 5

typedef struct c2s {
    struct bufferevent *bev;
    xstream *xs;
    session *s;
    struct event *timer;
    struct event *flush_timer;   /* while closing over TLS */
    char peer[64];
    bool header_seen;         /* the current stream's header arrived */
    bool header_sent;
    bool tls;
    bool authed;
    bool auth_pending;
    bool awaiting_response;   /* PLAIN without initial response */
    bool restart;             /* new parser needed after this feed */
    bool starttls;            /* switch to TLS after this feed */
    bool closing;
    int paused;               /* session_ops pause count */
    xnode *held, *held_last;  /* stanzas parsed while paused, in order (linked by next) */
    int auth_failures;
} c2s;

static const session_ops c2s_ops;
static int live_conns;              /* per process; only for logs */
static __thread int worker_conns;   /* connections of this worker */
static __thread bool worker_stopping;
static __thread struct event *stop_timer;

static void c2s_read(struct bufferevent *bev, void *arg);
static void c2s_event(struct bufferevent *bev, short what, void *arg);
static void c2s_close(c2s *c, const char *condition, const char *text);

/* ---- output ---- */

static void c2s_write(c2s *c, const char *data, size_t len)
{
    if (c->closing)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) > MAX_OUTPUT) {
        log_warn("c2s: %s: client does not read its stream, closing", c->peer);
        c2s_close(c, "policy-violation", i18n(c->s->lang, T_UNREAD));
        return;
    }
    evbuffer_add(out, data, len);
}

static void c2s_write_str(c2s *c, const char *s) { c2s_write(c, s, strlen(s)); }

static void ops_write(session *s, const char *data, size_t len) { c2s_write(s->conn, data, len); }

static void ops_close(session *s, const char *condition, const char *text)
{
    c2s_close(s->conn, condition, text);
}

static void ops_pause(session *s)
{
    c2s *c = s->conn;
    if (c->paused++ == 0)
        bufferevent_disable(c->bev, EV_READ);
}

static void handle_stanza(c2s *c, xnode *st);

static void ops_resume(session *s)
{
    c2s *c = s->conn;
    if (c->paused == 0 || --c->paused > 0)
        return;
    while (c->held && !c->paused && !c->closing) {
        xnode *st = c->held;
        c->held = st->next;
        if (!c->held)
            c->held_last = NULL;
        st->next = NULL;
        handle_stanza(c, st);
    }
    if (!c->paused && !c->closing && !c->auth_pending) {
        bufferevent_enable(c->bev, EV_READ);
        c2s_read(c->bev, c);   /* what arrived meanwhile */
    }
}

static const session_ops c2s_ops = { ops_write, ops_close, ops_pause, ops_resume };

/* ---- lifetime ---- */

static void stop_worker_if_done(void)
{
    if (worker_stopping && worker_conns == 0)
        event_base_loopexit(worker_base(worker_self()), NULL);
}

static void c2s_free(c2s *c)
{
    if (c->s) {
        if (c->s->bound)
            log_info("c2s: %s (%s) disconnected", c->s->full, c->peer);
        session_free(c->s);
    }
    if (c->timer)
        event_free(c->timer);
    if (c->flush_timer)
        event_free(c->flush_timer);
    while (c->held) {
        xnode *next = c->held->next;
        c->held->next = NULL;
        xnode_free(c->held);
        c->held = next;
    }
    if (c->xs)
        xstream_free(c->xs);
    if (c->bev)
        bufferevent_free(c->bev);
    free(c);
    __atomic_sub_fetch(&live_conns, 1, __ATOMIC_RELAXED);
    worker_conns--;
    stop_worker_if_done();
}

/* Whether every byte left our buffers: over TLS the filter's output must
 * have gone through SSL into the socket bufferevent's output, and that one
 * must be empty too. */
static bool c2s_drained(c2s *c)
{
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

static void c2s_timeout(evutil_socket_t fd, short what, void *arg)
{
    c2s *c = arg;
    if (c->closing) {
        c2s_free(c);   /* the peer never took our last bytes */
        return;
    }
    log_info("c2s: %s: no session established within %d s, closing", c->peer, PREAUTH_TIMEOUT);
    c2s_close(c, "connection-timeout", NULL);
}

static void c2s_send_header(c2s *c, const char *to)
{
    unsigned char rnd[12];
    char id[32];
    RAND_bytes(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(id + 2 * i, 3, "%02x", rnd[i]);
    buf b;
    buf_init(&b);
    buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' id='");
    buf_puts(&b, id);
    buf_printf(&b, "' version='1.0' xml:lang='%s'", i18n_lang(c->s->lang[0] ? c->s->lang : NULL));
    if (c->s->domain) {
        buf_puts(&b, " from='");
        xml_escape(&b, c->s->domain, strlen(c->s->domain), true);
        buf_puts(&b, "'");
    }
    if (to) {
        buf_puts(&b, " to='");
        xml_escape(&b, to, strlen(to), true);
        buf_puts(&b, "'");
    }
    buf_puts(&b, ">");
    c2s_write(c, b.data, b.len);
    buf_free(&b);
    c->header_sent = true;
}

/* The one place a stream ends: optional stream error, closing tag, flush,
 * free. condition NULL: a clean close. */
static void c2s_close(c2s *c, const char *condition, const char *text)
{
    if (c->closing)
        return;
    if (condition) {
        if (!c->header_sent)
            c2s_send_header(c, NULL);
        buf b;
        buf_init(&b);
        buf_printf(&b, "<stream:error><%s xmlns='" NS_STREAMS "'/>", condition);
        if (text) {
            buf_printf(&b, "<text xmlns='" NS_STREAMS "' xml:lang='%s'>", i18n_lang(c->s->lang));
            xml_escape(&b, text, strlen(text), false);
            buf_puts(&b, "</text>");
        }
        buf_puts(&b, "</stream:error>");
        c2s_write(c, b.data, b.len);
        buf_free(&b);
    }
    if (c->header_sent)
        c2s_write_str(c, "</stream:stream>");
    c->closing = true;
    if (c->s)
        c->s->closing = true;
    if (c->xs)
        xstream_stop(c->xs);
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setcb(c->bev, NULL, c2s_flushed, c2s_event, c);
    struct timeval tv = { CLOSE_TIMEOUT, 0 };
    evtimer_add(c->timer, &tv);
    /* Never free here: we may be inside the parser's callback. Whether
     * everything left is checked on the next loop turn. */
    c->flush_timer = evtimer_new(bufferevent_get_base(c->bev), c2s_flush_check, c);
    event_active(c->flush_timer, EV_TIMEOUT, 0);
}

/* ---- features ---- */

static void c2s_send_features(c2s *c)
{
    const config *cfg = config_current();
    buf b;
    buf_init(&b);
    buf_puts(&b, "<stream:features>");
    if (!c->authed) {
        bool offer_tls = !c->tls && cfg->tls != TLS_OFF && tls_available();
        if (offer_tls)
            buf_puts(&b, cfg->tls == TLS_REQUIRED
                             ? "<starttls xmlns='" NS_TLS "'><required/></starttls>"
                             : "<starttls xmlns='" NS_TLS "'/>");
        if (c->tls || cfg->tls != TLS_REQUIRED)
            buf_puts(&b, "<mechanisms xmlns='" NS_SASL "'><mechanism>PLAIN</mechanism></mechanisms>");
    } else {
        buf_puts(&b, "<bind xmlns='" NS_BIND "'/>"
                     "<session xmlns='" NS_SESSION "'><optional/></session>");
    }
    buf_puts(&b, "</stream:features>");
    c2s_write(c, b.data, b.len);
    buf_free(&b);
}

/* ---- stream header ---- */

static void xs_open(void *ud, const xnode *hdr, const char *default_ns)
{
    c2s *c = ud;
    const char *to = xnode_attr(hdr, "to");
    const char *version = xnode_attr(hdr, "version");
    const char *from = xnode_attr(hdr, "from");
    const char *lang = xnode_attr(hdr, "xml:lang");
    if (lang && strlen(lang) < sizeof c->s->lang)
        strcpy(c->s->lang, lang);

    /* Learn the domain first so that even an error header says who we are. */
    char *domain = to ? jid_nameprep(to) : NULL;
    bool served = domain && router_serves(domain);
    if (served && !c->s->domain)
        c->s->domain = strdup(domain);
    if (!c->header_sent)
        c2s_send_header(c, NULL);
    c->header_seen = true;

    if (strcmp(hdr->name, "stream") || strcmp(hdr->ns, NS_STREAM)) {
        log_info("c2s: %s: stream header in wrong namespace '%s'", c->peer, hdr->ns);
        c2s_close(c, "invalid-namespace", NULL);
    } else if (!default_ns || strcmp(default_ns, NS_CLIENT)) {
        log_info("c2s: %s: stream content namespace '%s' is not jabber:client", c->peer,
                 default_ns ? default_ns : "");
        c2s_close(c, "invalid-namespace", NULL);
    } else if (!version || atoi(version) != 1) {
        log_info("c2s: %s: unsupported stream version '%s'", c->peer, version ? version : "");
        c2s_close(c, "unsupported-version", i18n(c->s->lang, T_VERSION));
    } else if (!served) {
        log_info("c2s: %s: stream to domain '%s' that is not served", c->peer, to ? to : "");
        c2s_close(c, "host-unknown", NULL);
    } else if (strcmp(domain, c->s->domain)) {
        log_info("c2s: %s: restarted stream changed domain to '%s'", c->peer, domain);
        c2s_close(c, "host-unknown", NULL);
    } else {
        (void)from;
        c2s_send_features(c);
    }
    free(domain);
}

/* ---- SASL PLAIN ---- */

typedef struct auth_req {
    uint64_t sid;
    worker *w;
    char *node;
} auth_req;

static void sasl_failure(c2s *c, const char *condition)
{
    char out[160];
    snprintf(out, sizeof out, "<failure xmlns='" NS_SASL "'><%s/></failure>", condition);
    c2s_write_str(c, out);
    if (!strcmp(condition, "not-authorized") && ++c->auth_failures >= MAX_AUTH_FAILURES) {
        log_info("c2s: %s: too many failed authentication attempts", c->peer);
        c2s_close(c, "policy-violation", i18n(c->s->lang, T_TOO_MANY_AUTH));
    }
}

static void auth_done(void *arg, dir_auth_result r)
{
    auth_req *a = arg;
    session *s = session_find(a->w, a->sid);
    if (!s || s->closing) {
        free(a->node);
        free(a);
        return;
    }
    c2s *c = s->conn;
    c->auth_pending = false;
    if (r == DIR_AUTH_OK) {
        s->node = a->node;
        a->node = NULL;
        size_t n = strlen(s->node) + strlen(s->domain) + 2;
        s->bare = malloc(n);
        snprintf(s->bare, n, "%s@%s", s->node, s->domain);
        c->authed = true;
        c->header_seen = c->header_sent = false;
        log_info("c2s: %s authenticated from %s", s->bare, c->peer);
        c2s_write_str(c, "<success xmlns='" NS_SASL "'/>");
        /* The client starts a new stream: a fresh parser. */
        xstream_free(c->xs);
        c->xs = NULL;
        c->restart = true;
    } else if (r == DIR_AUTH_FAILED) {
        log_info("c2s: authentication of %s@%s from %s failed: not-authorized", a->node,
                 s->domain, c->peer);
        sasl_failure(c, "not-authorized");
    } else {
        log_warn("c2s: authentication of %s@%s from %s failed: directory unavailable", a->node,
                 s->domain, c->peer);
        sasl_failure(c, "temporary-auth-failure");
    }
    free(a->node);
    free(a);
    if (!c->closing)
        bufferevent_enable(c->bev, EV_READ);
    if (c->restart && !c->closing) {
        c->restart = false;
        c2s_read(c->bev, c);   /* bytes that may already wait (pipelining) */
    }
}

static void sasl_plain(c2s *c, const char *b64)
{
    char *authzid = NULL, *authcid = NULL, *password = NULL;
    if (sasl_plain_decode(b64, strlen(b64), &authzid, &authcid, &password) != SASL_PLAIN_OK) {
        log_info("c2s: %s: malformed SASL PLAIN message", c->peer);
        sasl_failure(c, "malformed-request");
        return;
    }
    /* authcid is the uid, or uid@domain for clients that send the JID. */
    char *at = strrchr(authcid, '@');
    char *node = NULL;
    bool ok = true;
    if (at) {
        *at = 0;
        char *d = jid_nameprep(at + 1);
        ok = d && !strcmp(d, c->s->domain);
        free(d);
    }
    if (ok)
        node = jid_nodeprep(authcid);
    if (ok && node && *authzid) {
        char bare[2 * JID_PART_MAX + 2];
        snprintf(bare, sizeof bare, "%s@%s", node, c->s->domain);
        jid z;
        ok = jid_parse(authzid, &z) == 0 && !z.resource && z.node &&
             !strcmp(z.node, node) && !strcmp(z.domain, c->s->domain);
        if (jid_parse(authzid, &z) == 0)
            jid_clear(&z);
        if (!ok) {
            log_info("c2s: %s: authzid '%s' is not %s", c->peer, authzid, bare);
            sasl_failure(c, "invalid-authzid");
            goto out;
        }
    }
    if (!ok || !node) {
        log_info("c2s: authentication of '%s' from %s failed: not a user of %s", authcid, c->peer,
                 c->s->domain);
        sasl_failure(c, "not-authorized");
        goto out;
    }
    auth_req *a = malloc(sizeof *a);
    a->sid = c->s->id;
    a->w = c->s->w;
    a->node = node;
    node = NULL;
    c->auth_pending = true;
    bufferevent_disable(c->bev, EV_READ);   /* nothing may come before the answer */
    directory_auth(a->w, a->node, c->s->domain, password, auth_done, a);
out:
    free(node);
    if (password) {
        explicit_bzero(password, strlen(password));
        free(password);
    }
    free(authzid);
    free(authcid);
}

static void handle_sasl(c2s *c, xnode *st)
{
    const config *cfg = config_current();
    if (c->auth_pending) {
        sasl_failure(c, "aborted");
        return;
    }
    if (!strcmp(st->name, "abort")) {
        c->awaiting_response = false;
        sasl_failure(c, "aborted");
        return;
    }
    if (!c->tls && cfg->tls == TLS_REQUIRED) {
        log_info("c2s: %s: refusing authentication without TLS (plucs/tls=required)", c->peer);
        sasl_failure(c, "encryption-required");
        return;
    }
    char *text = xnode_text(st);
    if (!strcmp(st->name, "auth")) {
        const char *mech = xnode_attr(st, "mechanism");
        if (!mech || strcmp(mech, "PLAIN")) {
            sasl_failure(c, "invalid-mechanism");
        } else if (!text || !*text) {
            c->awaiting_response = true;   /* PLAIN with an empty challenge */
            c2s_write_str(c, "<challenge xmlns='" NS_SASL "'/>");
        } else {
            sasl_plain(c, text);
        }
    } else if (!strcmp(st->name, "response") && c->awaiting_response) {
        c->awaiting_response = false;
        sasl_plain(c, text ? text : "");
    } else {
        sasl_failure(c, "malformed-request");
    }
    if (text) {
        explicit_bzero(text, strlen(text));
        free(text);
    }
}

/* ---- STARTTLS ---- */

static void start_tls(c2s *c)
{
    SSL *ssl = tls_new_ssl();
    if (!ssl) {
        c2s_write_str(c, "<failure xmlns='" NS_TLS "'/>");
        c2s_close(c, NULL, NULL);
        return;
    }
    struct bufferevent *tlsbev = bufferevent_openssl_filter_new(
        worker_base(c->s->w), c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!tlsbev) {
        SSL_free(ssl);
        c2s_close(c, "internal-server-error", NULL);
        return;
    }
    c->bev = tlsbev;
    c->tls = true;
    c->header_seen = c->header_sent = false;
    bufferevent_setcb(c->bev, c2s_read, NULL, c2s_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- stanzas ---- */

static void handle_bind(c2s *c, xnode *iq, xnode *bind)
{
    session *s = c->s;
    const char *type = xnode_attr(iq, "type");
    if (!type || strcmp(type, "set")) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    if (s->bound) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "not-allowed", NULL));
        return;
    }
    char *want = NULL, *res = NULL;
    xnode *r = xnode_child(bind, "resource", NS_BIND);
    if (r)
        want = xnode_text(r);
    if (want && *want) {
        res = jid_resourceprep(want);
        if (!res) {
            session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", i18n(s->lang, T_BAD_RESOURCE)));
            free(want);
            return;
        }
    }
    free(want);
    if (session_bind(s, res) != 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_WAIT, "internal-server-error", NULL));
        free(res);
        return;
    }
    free(res);
    log_info("c2s: %s bound from %s", s->full, c->peer);
    if (c->timer)
        evtimer_del(c->timer);
    xnode *reply = iq_result(iq);
    xnode_set_attr(reply, "from", NULL);
    xnode *j = xnode_add_child(xnode_add_child(reply, "bind", NS_BIND), "jid", NS_BIND);
    xnode_add_text(j, s->full, strlen(s->full));
    session_send_free(s, reply);
    module_run_bound(s);
}

static void handle_stanza(c2s *c, xnode *st);

static void xs_stanza(void *ud, xnode *st)
{
    c2s *c = ud;
    if (c->closing) {
        xnode_free(st);
        return;
    }
    if (c->paused) {
        /* Processed in order once the session resumes. */
        st->next = NULL;
        if (c->held_last)
            c->held_last->next = st;
        else
            c->held = st;
        c->held_last = st;
        return;
    }
    handle_stanza(c, st);
}

static void handle_stanza(c2s *c, xnode *st)
{
    if (!c->authed) {
        if (!strcmp(st->ns, NS_TLS) && !strcmp(st->name, "starttls")) {
            if (c->tls || config_current()->tls == TLS_OFF || !tls_available()) {
                c2s_write_str(c, "<failure xmlns='" NS_TLS "'/>");
                c2s_close(c, NULL, NULL);
            } else {
                c2s_write_str(c, "<proceed xmlns='" NS_TLS "'/>");
                c->starttls = true;
                xstream_stop(c->xs);
            }
        } else if (!strcmp(st->ns, NS_SASL)) {
            handle_sasl(c, st);
        } else {
            log_info("c2s: %s: <%s/> before authentication", c->peer, st->name);
            c2s_close(c, "not-authorized", NULL);
        }
        xnode_free(st);
        return;
    }
    char kind = strcmp(st->ns, NS_CLIENT) ? 0 : stanza_kind(st);
    if (!kind) {
        log_info("c2s: %s: unsupported stanza <%s xmlns='%s'/>", c->peer, st->name, st->ns);
        c2s_close(c, "unsupported-stanza-type", NULL);
        xnode_free(st);
        return;
    }
    if (kind == 'i') {
        xnode *bind = xnode_child(st, "bind", NS_BIND);
        if (bind) {
            handle_bind(c, st, bind);
            xnode_free(st);
            return;
        }
    }
    if (!c->s->bound) {
        if (kind == 'i')
            session_send_free(c->s, stanza_error_reply(st, ERR_AUTH, "not-authorized",
                                                       i18n(c->s->lang, T_BIND_FIRST)));
        xnode_free(st);
        return;
    }
    router_from_session(c->s, st);
}

static void xs_close(void *ud)
{
    c2s *c = ud;
    c2s_close(c, NULL, NULL);
}

static void xs_error(void *ud, xstream_err kind, const char *detail)
{
    c2s *c = ud;
    const char *cond = "not-well-formed";
    const char *text = NULL;
    switch (kind) {
    case XS_ERR_XML:
        break;
    case XS_ERR_RESTRICTED:
        cond = "restricted-xml";
        break;
    case XS_ERR_TOO_BIG:
        cond = "policy-violation";
        text = i18n(c->s->lang, T_TOO_BIG);
        break;
    case XS_ERR_DEPTH:
        cond = "policy-violation";
        text = i18n(c->s->lang, T_TOO_DEEP);
        break;
    }
    log_info("c2s: %s%s%s: closing stream: %s (%s)", c->peer, c->s->full ? " " : "",
             c->s->full ? c->s->full : "", cond, detail ? detail : "");
    c2s_close(c, cond, text);
}

static const xstream_cb xs_callbacks = { xs_open, xs_stanza, xs_close, xs_error };

static xstream *new_parser(c2s *c)
{
    return xstream_new(&xs_callbacks, c, (size_t)config_current()->max_stanza_size, MAX_DEPTH);
}

/* ---- input ---- */

static void c2s_read(struct bufferevent *bev, void *arg)
{
    c2s *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char chunk[16384];
    while (!c->closing && !c->auth_pending && !c->paused && bev == c->bev) {
        int n = evbuffer_remove(in, chunk, sizeof chunk);
        if (n <= 0)
            break;
        if (!c->xs)
            c->xs = new_parser(c);
        xstream_feed(c->xs, chunk, (size_t)n);
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
    explicit_bzero(chunk, sizeof chunk);
}

static void c2s_event(struct bufferevent *bev, short what, void *arg)
{
    c2s *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        log_debug("c2s: %s: TLS established", c->peer);   /* the handshake is done */
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

/* ---- accept and shutdown ---- */

void c2s_accept(worker *w, evutil_socket_t fd, const char *peer, bool direct_tls)
{
    c2s *c = calloc(1, sizeof *c);
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    int one = 1, idle = 120, intvl = 30, cnt = 4;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->s = session_new(w, &c2s_ops, c);
    c->timer = evtimer_new(worker_base(w), c2s_timeout, c);
    struct timeval tv = { PREAUTH_TIMEOUT, 0 };
    evtimer_add(c->timer, &tv);
    __atomic_add_fetch(&live_conns, 1, __ATOMIC_RELAXED);
    worker_conns++;
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
        c->tls = true;
    } else {
        c->bev = bufferevent_socket_new(worker_base(w), fd, BEV_OPT_CLOSE_ON_FREE);
    }
    bufferevent_setcb(c->bev, c2s_read, NULL, c2s_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    log_debug("c2s: %s connected (worker %d)", peer, worker_id(w));
}

static void shutdown_one(session *s, void *ud)
{
    s->ops->close(s, "system-shutdown", i18n(s->lang, T_SHUTDOWN));
}

static void stop_timeout(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopexit(worker_base(worker_self()), NULL);
}

void c2s_worker_shutdown(void *arg)
{
    worker *w = worker_self();
    worker_stopping = true;
    sessions_each(w, shutdown_one, NULL);
    stop_timer = evtimer_new(worker_base(w), stop_timeout, NULL);
    struct timeval tv = { 3, 0 };
    evtimer_add(stop_timer, &tv);
    stop_worker_if_done();
}

static void free_one(session *s, void *ud)
{
    c2s_free(s->conn);
}

/* On each worker after its loop ended: whatever did not flush in time. */
void c2s_worker_cleanup(void)
{
    worker *w = worker_self();
    worker_stopping = false;
    sessions_each(w, free_one, NULL);
    if (stop_timer)
        event_free(stop_timer);
    stop_timer = NULL;
    session_thread_exit();
}
