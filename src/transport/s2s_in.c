/* s2s_in.c: incoming server-to-server streams (RFC 6120 with
 * jabber:server). The peer opens a stream to one of our domains; we answer
 * with features: <starttls/> (with <required/> in the required modes; not
 * at all with plucs/s2s/tls=false or without a certificate), after TLS SASL
 * EXTERNAL when the peer's certificate verifies for the stream's 'from'
 * (XEP-0178), and dialback (XEP-0220) unless required_trusted (and in the
 * required modes only after TLS). Each authenticated (remote, local) pair
 * is recorded; a stanza whose from/to domains are not such a pair ends the
 * stream with invalid-from (host-unknown for a 'to' we do not serve).
 * Stanzas are converted to the internal namespace and handed to
 * router_from_remote(). */
#include "transport/s2s_internal.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "router/router.h"
#include "router/services.h"
#include "transport/s2s.h"
#include "transport/s2s_tls.h"
#include "xmpp/jid.h"
#include "xmpp/sasl.h"

void s2s_accept(worker *w, evutil_socket_t fd, const char *peer, const uint8_t ip_key[17],
                bool direct_tls)
{
    s2s_stream *s = s2s_stream_new(S2S_IN, peer);
    if (ip_key) {
        memcpy(s->ip_key, ip_key, sizeof s->ip_key);
        s->ip_held = true;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct bufferevent *bev = NULL;
    if (direct_tls) {
        SSL *ssl = config_current()->s2s_tls != S2S_TLS_FALSE ? s2s_tls_accept_ssl() : NULL;
        bev = ssl ? bufferevent_openssl_socket_new(worker_base(w), fd, ssl,
                                                   BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)
                  : NULL;
        if (!bev) {
            if (ssl)
                SSL_free(ssl);
            log_warn("s2s: %s: no TLS certificate (or plucs/s2s/tls=false) for the direct TLS "
                     "port", peer);
        }
        s->tls_handshaking = bev != NULL;
    } else {
        bev = bufferevent_socket_new(worker_base(w), fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!bev) {
        evutil_closesocket(fd);
        s2s_free(s);
        return;
    }
    s2s_attach(s, bev);
    s2s_arm_setup(s, config_current()->s2s_timeout);
    log_debug("s2s: incoming connection from %s (worker %d)", peer, worker_id(w));
}

void s2s_in_freeing(s2s_stream *s)
{
    s2s_ip_release(s);
    while (s->pending) {
        s2s_verify *v = s->pending;
        s->pending = v->next;
        free(v);
    }
}

static bool tls_offerable(void)
{
    return config_current()->s2s_tls != S2S_TLS_FALSE && s2s_tls_available();
}

static bool dialback_allowed(const s2s_stream *s)
{
    enum s2s_tls_mode m = config_current()->s2s_tls;
    return m != S2S_TLS_REQUIRED_TRUSTED && (m != S2S_TLS_REQUIRED || s->tls);
}

static bool has_pair(const s2s_stream *s, const char *remote, const char *local)
{
    for (size_t i = 0; i < s->npairs; i++)
        if (!strcasecmp(s->pairs[i].remote, remote) && !strcasecmp(s->pairs[i].local, local))
            return true;
    return false;
}

static void add_pair(s2s_stream *s, const char *remote, const char *local, s2s_auth how)
{
    if (has_pair(s, remote, local))
        return;
    s->pairs = xrealloc(s->pairs, (s->npairs + 1) * sizeof *s->pairs);
    snprintf(s->pairs[s->npairs].remote, S2S_DOMAIN_MAX, "%s", remote);
    snprintf(s->pairs[s->npairs].local, S2S_DOMAIN_MAX, "%s", local);
    s->npairs++;
    if (s->auth == S2S_AUTH_NONE) {
        s->auth = how;
        /* from the pair just stored: remote/local may point into s */
        memmove(s->remote, s->pairs[s->npairs - 1].remote, sizeof s->remote);
        memmove(s->local, s->pairs[s->npairs - 1].local, sizeof s->local);
        s2s_status_update(s);
        if (s->setup_timer)
            evtimer_del(s->setup_timer);
        s2s_touch(s);
        s2s_arm_idle(s);
    }
    log_info("s2s: incoming %s -> %s (%s): authenticated by %s%s", remote, local, s->peer,
             how == S2S_AUTH_EXTERNAL ? "SASL EXTERNAL" : "dialback",
             s->tls ? " over TLS" : " without TLS");
}

/* ---- the stream header and features ---- */

void s2s_in_open(s2s_stream *s, const xnode *hdr, const char *default_ns)
{
    const char *to = xnode_attr(hdr, "to");
    const char *from = xnode_attr(hdr, "from");
    const char *version = xnode_attr(hdr, "version");
    unsigned char rnd[16];
    RAND_bytes(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(s->id + 2 * i, 3, "%02x", rnd[i]);
    snprintf(s->peer_from, sizeof s->peer_from, "%s", from ? from : "");
    if (to && router_accepts(to))
        snprintf(s->local, sizeof s->local, "%s", to);
    s2s_write_header(s, s->local[0] ? s->local : NULL, from, s->id);
    if (strcmp(hdr->name, "stream") || strcmp(hdr->ns, NS_STREAM) || !default_ns ||
        strcmp(default_ns, NS_SERVER)) {
        log_info("s2s: incoming %s: stream header is not jabber:server", s->peer);
        s2s_close(s, "invalid-namespace", NULL);
        return;
    }
    if (!to || !router_accepts(to)) {
        log_info("s2s: incoming %s%s%s: stream to '%s', a domain not served here", s->peer,
                 from ? " from " : "", from ? from : "", to ? to : "");
        s2s_close(s, "host-unknown", NULL);
        return;
    }
    if (version && strncmp(version, "1.", 2)) {
        s2s_close(s, "unsupported-version", NULL);
        return;
    }
    s->state = IN_OPEN;
    if (!version)
        return;   /* a pre-1.0 peer: no features, dialback straight away */
    buf b;
    buf_init(&b);
    buf_puts(&b, "<stream:features>");
    enum s2s_tls_mode mode = config_current()->s2s_tls;
    if (!s->tls && tls_offerable())
        buf_puts(&b, mode == S2S_TLS_REQUIRED || mode == S2S_TLS_REQUIRED_TRUSTED
                         ? "<starttls xmlns='" NS_TLS "'><required/></starttls>"
                         : "<starttls xmlns='" NS_TLS "'/>");
    char why[256];
    if (s->tls && from && s->npairs == 0 &&
        s2s_tls_peer_verified(s2s_stream_ssl(s), from, why, sizeof why))
        buf_puts(&b, "<mechanisms xmlns='" NS_SASL "'><mechanism>EXTERNAL</mechanism></mechanisms>");
    if (dialback_allowed(s))
        buf_puts(&b, "<dialback xmlns='" NS_DIALBACK_FEAT "'><errors/></dialback>");
    buf_puts(&b, "</stream:features>");
    s2s_write_buf(s, &b);
    buf_free(&b);
}

void s2s_in_tls_done(s2s_stream *s)
{
    log_info("s2s: incoming %s%s%s: TLS established", s->peer, s->peer_from[0] ? " from " : "",
             s->peer_from);
    s->header_sent = false;   /* the peer opens a new stream */
}

/* ---- SASL EXTERNAL ---- */

static void sasl_external(s2s_stream *s, const xnode *el)
{
    const char *mech = xnode_attr(el, "mechanism");
    char *text = xnode_text(el);
    char *authzid = NULL;
    if (text && *text && strcmp(text, "=")) {
        size_t n = 0;
        authzid = base64_decode(text, strlen(text), &n);
    }
    free(text);
    const char *domain = authzid && *authzid ? authzid : s->peer_from;
    char why[256] = "no TLS";
    bool ok = mech && !strcmp(mech, "EXTERNAL") && s->tls && *domain && s->npairs == 0 &&
              s2s_tls_peer_verified(s2s_stream_ssl(s), domain, why, sizeof why);
    if (ok) {
        s2s_write(s, "<success xmlns='" NS_SASL "'/>", strlen("<success xmlns='" NS_SASL "'/>"));
        add_pair(s, domain, s->local, S2S_AUTH_EXTERNAL);
        s->header_sent = false;
        s2s_restart(s);
    } else {
        log_info("s2s: incoming %s from %s: SASL %s refused: %s", s->peer, domain,
                 mech ? mech : "?", why);
        const char *f = "<failure xmlns='" NS_SASL "'><not-authorized/></failure>";
        s2s_write(s, f, strlen(f));
    }
    free(authzid);
}

/* ---- dialback ---- */

static void db_answer(s2s_stream *s, const char *el, const char *from, const char *to,
                      const char *id, const char *type)
{
    buf b;
    buf_init(&b);
    buf_printf(&b, "<db:%s from='", el);
    xml_escape(&b, from, strlen(from), true);
    buf_puts(&b, "' to='");
    xml_escape(&b, to, strlen(to), true);
    if (id) {
        buf_puts(&b, "' id='");
        xml_escape(&b, id, strlen(id), true);
    }
    buf_printf(&b, "' type='%s'/>", type);
    s2s_write_buf(s, &b);
    buf_free(&b);
}

static void db_error(s2s_stream *s, const char *from, const char *to, const char *cond)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "<db:result from='");
    xml_escape(&b, from, strlen(from), true);
    buf_puts(&b, "' to='");
    xml_escape(&b, to, strlen(to), true);
    buf_printf(&b, "' type='error'><error type='cancel'><%s xmlns='" NS_STANZAS "'/></error>"
                   "</db:result>", cond);
    s2s_write_buf(s, &b);
    buf_free(&b);
}

static void db_result(s2s_stream *s, const xnode *el)
{
    const char *from = xnode_attr(el, "from");
    const char *to = xnode_attr(el, "to");
    char *key = xnode_text(el);
    if (!from || !*from || !to || !*to || !key || !*key || strlen(key) >= 130 ||
        strlen(from) >= S2S_DOMAIN_MAX) {
        free(key);
        s2s_close(s, "invalid-xml", "incomplete db:result");
        return;
    }
    /* Refusals as XEP-0220 §2.4 dialback errors (our feature says <errors/>):
     * the stream stays; the peer gives up, or the setup timer ends it. */
    if (!dialback_allowed(s)) {
        log_info("s2s: incoming %s from %s: dialback refused (plucs/s2s/tls)", s->peer, from);
        db_error(s, to, from, "policy-violation");
        free(key);
        return;
    }
    if (!router_accepts(to)) {
        log_info("s2s: incoming %s from %s: dialback for '%s', a domain not served here", s->peer,
                 from, to);
        db_error(s, to, from, "item-not-found");
        free(key);
        return;
    }
    if (has_pair(s, from, to)) {
        db_answer(s, "result", to, from, NULL, "valid");
        free(key);
        return;
    }
    for (s2s_verify *v = s->pending; v; v = v->next)
        if (!strcasecmp(v->from, from) && !strcasecmp(v->to, to)) {
            free(key);
            return;   /* already being verified */
        }
    s2s_verify *p = xcalloc(1, sizeof *p);
    snprintf(p->from, sizeof p->from, "%s", from);
    snprintf(p->to, sizeof p->to, "%s", to);
    p->next = s->pending;
    s->pending = p;
    log_info("s2s: incoming %s (%s): verifying %s by dialback", to, s->peer, from);
    s2s_dialback_verify_start(s, from, to, key);
    free(key);
}

void s2s_in_verified(s2s_stream *s, const char *from, const char *to, bool valid)
{
    for (s2s_verify **p = &s->pending; *p; p = &(*p)->next) {
        s2s_verify *v = *p;
        if (!strcasecmp(v->from, from) && !strcasecmp(v->to, to)) {
            *p = v->next;
            free(v);
            break;
        }
    }
    if (valid) {
        db_answer(s, "result", to, from, NULL, "valid");
        add_pair(s, from, to, S2S_AUTH_DIALBACK);
    } else {
        log_info("s2s: incoming %s -> %s (%s): dialback key invalid, closing", from, to, s->peer);
        db_answer(s, "result", to, from, NULL, "invalid");
        s2s_close(s, "not-authorized", "dialback verification failed");
    }
}

/* We are the authoritative server: is this key ours? */
static void db_verify(s2s_stream *s, const xnode *el)
{
    const char *from = xnode_attr(el, "from");
    const char *to = xnode_attr(el, "to");
    const char *id = xnode_attr(el, "id");
    char *key = xnode_text(el);
    if (!from || !to || !id || !key) {
        free(key);
        s2s_close(s, "invalid-xml", "incomplete db:verify");
        return;
    }
    bool valid = false;
    if (router_accepts(to)) {
        char want[65];
        s2s_dialback_key(from, to, id, want);
        valid = strlen(key) == 64 && CRYPTO_memcmp(want, key, 64) == 0;
    }
    log_info("s2s: %s asks whether a dialback key from %s is ours: %s", from, to,
             valid ? "valid" : "invalid");
    db_answer(s, "verify", to, from, id, valid ? "valid" : "invalid");
    s->answered_verify = true;
    free(key);
}

/* ---- stanzas ---- */

static bool domain_of(const char *s, char *out, size_t outlen)
{
    jid j;
    if (!s || jid_parse(s, &j) != 0)
        return false;
    snprintf(out, outlen, "%s", j.domain);
    jid_clear(&j);
    return true;
}

static void stanza_in(s2s_stream *s, xnode *el)
{
    char fd[S2S_DOMAIN_MAX], td[S2S_DOMAIN_MAX];
    if (s->npairs == 0) {
        log_info("s2s: incoming %s: stanza before authentication", s->peer);
        s2s_close(s, "not-authorized", NULL);
    } else if (!domain_of(xnode_attr(el, "to"), td, sizeof td) || !router_accepts(td)) {
        log_info("s2s: incoming %s (%s): stanza to a domain not served here", s->remote, s->peer);
        s2s_close(s, "host-unknown", NULL);
    } else if (!domain_of(xnode_attr(el, "from"), fd, sizeof fd) || !has_pair(s, fd, td)) {
        log_warn("s2s: incoming %s (%s): stanza from '%s' to %s, not authenticated on this "
                 "stream (spoofed?), closing",
                 s->remote, s->peer, xnode_attr(el, "from") ? xnode_attr(el, "from") : "", td);
        s2s_close(s, "invalid-from", NULL);
    } else {
        s2s_ns_to_client(el);
        s2s_touch(s);
        router_from_remote(el);
        return;
    }
    xnode_free(el);
}

void s2s_in_element(s2s_stream *s, xnode *el)
{
    if (s->state != IN_OPEN) {
        xnode_free(el);
        return;
    }
    if (!strcmp(el->ns, NS_TLS) && !strcmp(el->name, "starttls")) {
        if (!s->tls && tls_offerable()) {
            s2s_write(s, "<proceed xmlns='" NS_TLS "'/>", strlen("<proceed xmlns='" NS_TLS "'/>"));
            s->starttls_pending = true;
            xstream_stop(s->xs);
        } else {
            s2s_write(s, "<failure xmlns='" NS_TLS "'/>", strlen("<failure xmlns='" NS_TLS "'/>"));
            s2s_close(s, NULL, NULL);
        }
    } else if (!strcmp(el->ns, NS_SASL) && !strcmp(el->name, "auth")) {
        sasl_external(s, el);
    } else if (!strcmp(el->ns, NS_DIALBACK) && !strcmp(el->name, "result")) {
        db_result(s, el);
    } else if (!strcmp(el->ns, NS_DIALBACK) && !strcmp(el->name, "verify")) {
        db_verify(s, el);
    } else if (!strcmp(el->ns, NS_SERVER) &&
               (!strcmp(el->name, "message") || !strcmp(el->name, "presence") ||
                !strcmp(el->name, "iq"))) {
        stanza_in(s, el);
        return;
    } else if (!strcmp(el->ns, NS_STREAM) && !strcmp(el->name, "error")) {
        xnode *cond = xnode_first_element(el);
        log_info("s2s: incoming %s (%s): stream error from the peer: %s", s->remote, s->peer,
                 cond ? cond->name : "?");
    } else if (s->npairs == 0) {
        s2s_close(s, "not-authorized", NULL);
    }
    xnode_free(el);
}
