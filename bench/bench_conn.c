/* bench/bench_conn.c: one simulated XMPP client of plucs-bench. Connects from
 * a spread source address, logs in (optional STARTTLS, SASL PLAIN, bind,
 * roster get, initial presence), then sends and receives timestamped
 * messages. Input is not parsed as a tree: a tiny scanner tracks element
 * depth and hands every complete child of the stream to conn_element(), so a
 * client costs a struct, a bufferevent and its buffers. In raw mode (the
 * floor forwarder) the same message bytes go over a plain socket. */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>

#define BENCH_MAX_INPUT (1 << 20)

const char *const bench_err_names[ERR__COUNT] = {
    "connect", "closed", "tls", "auth", "bind", "roster", "stream-error",
    "stanza-error", "timeout", "buffer",
};

uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int session_user(int i)
{
    if (B.group_size >= 2) {
        int per = B.group_size / 2, pair = i / 2;
        return B.first_user + (pair / per) * B.group_size + (pair % per) * 2 + (i & 1);
    }
    if (B.users > 0)   /* more sessions than users: several resources each */
        return B.first_user + i % B.users;
    return B.first_user + i;
}

static void conn_read(struct bufferevent *bev, void *arg);
static void conn_event(struct bufferevent *bev, short what, void *arg);

static void send_header(struct conn *c)
{
    evbuffer_add_printf(bufferevent_get_output(c->bev),
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0'>",
        B.domain);
    c->depth = 0;
}

static void send_auth(struct conn *c)
{
    char user[128], pass[128], raw[260];
    unsigned char b64[360];
    int ul = snprintf(user, sizeof user, B.user_fmt, c->user);
    int pl = snprintf(pass, sizeof pass, B.pass_fmt, c->user);
    raw[0] = 0;
    memcpy(raw + 1, user, (size_t)ul);
    raw[1 + ul] = 0;
    memcpy(raw + 2 + ul, pass, (size_t)pl);
    EVP_EncodeBlock(b64, (unsigned char *)raw, 2 + ul + pl);
    evbuffer_add_printf(bufferevent_get_output(c->bev),
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>", b64);
    c->state = CS_AUTH;
}

static void conn_fail(struct conn *c, enum bench_err e);

/* SASL2 (XEP-0388) with Bind 2: PLAIN (asking for a FAST token with
 * --sasl2 fast), or HT-SHA-256-ENDP with the session's token: HMAC of
 * "Initiator" + SHA-256 of the server certificate (tls-server-end-point). */
static void send_authenticate(struct conn *c)
{
    char user[128], pass[128], raw[260];
    unsigned char b64[360];
    int ul = snprintf(user, sizeof user, B.user_fmt, c->user);
    const char *mech = "PLAIN";
    const char *extra = "";
    if (B.sasl2 == 2 && c->token[0]) {
        SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
        X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
        unsigned char cb[9 + EVP_MAX_MD_SIZE], mac[32];
        unsigned int cbl = 0, ml = sizeof mac;
        memcpy(cb, "Initiator", 9);
        if (!cert || !X509_digest(cert, EVP_sha256(), cb + 9, &cbl)) {
            X509_free(cert);
            conn_fail(c, ERR_TLS);
            return;
        }
        X509_free(cert);
        HMAC(EVP_sha256(), c->token, (int)strlen(c->token), cb, 9 + cbl, mac, &ml);
        memcpy(raw, user, (size_t)ul);
        raw[ul] = 0;
        memcpy(raw + ul + 1, mac, 32);
        EVP_EncodeBlock(b64, (unsigned char *)raw, ul + 33);
        mech = "HT-SHA-256-ENDP";
        extra = "<fast xmlns='urn:xmpp:fast:0'/>";
    } else {
        int pl = snprintf(pass, sizeof pass, B.pass_fmt, c->user);
        raw[0] = 0;
        memcpy(raw + 1, user, (size_t)ul);
        raw[1 + ul] = 0;
        memcpy(raw + 2 + ul, pass, (size_t)pl);
        EVP_EncodeBlock(b64, (unsigned char *)raw, 2 + ul + pl);
        if (B.sasl2 == 2)
            extra = "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-ENDP'/>";
    }
    evbuffer_add_printf(bufferevent_get_output(c->bev),
        "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='%s'><initial-response>%s"
        "</initial-response><user-agent id='bench-%d'/><bind xmlns='urn:xmpp:bind:0'>"
        "<tag>%s</tag></bind>%s</authenticate>", mech, b64, c->idx, B.resource, extra);
    c->state = CS_AUTH;
}

/* The token of a SASL2 <success/> (p, len), kept for the next login. */
static void keep_token(struct conn *c, const char *p, size_t len)
{
    const char *t = memmem(p, len, "<token ", 7);
    const char *v = t ? memmem(t, len - (size_t)(t - p), "token='", 7) : NULL;
    if (!v)
        v = t ? memmem(t, len - (size_t)(t - p), "token=\"", 7) : NULL;
    if (!v)
        return;
    v += 7;
    size_t n = strcspn(v, "'\"");
    if (n < sizeof c->token && v + n <= p + len) {
        memcpy(c->token, v, n);
        c->token[n] = 0;
    }
}

void conn_close(struct conn *c)
{
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    uint8_t st = c->state;
    c->state = CS_DEAD;
    if (st == CS_ONLINE || st == CS_RAW)
        B.online--;
    else if (st != CS_NONE && st != CS_DEAD)
        bench_login_done(c, 0);
}

static void conn_fail(struct conn *c, enum bench_err e)
{
    bench_error(c, e);
    conn_close(c);
}

int conn_start(struct conn *c)
{
    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)B.port) };
    if (inet_pton(AF_INET, B.host, &dst.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        bench_error(c, ERR_CONNECT);
        return -1;
    }
    if (B.src_spread) {
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        struct sockaddr_in src = { .sin_family = AF_INET };
        src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(c->idx % 253));
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
            close(fd);
            bench_error(c, ERR_CONNECT);
            return -1;
        }
    }
    int nd = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nd, sizeof nd);
    c->bev = bufferevent_socket_new(B.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        close(fd);
        return -1;
    }
    c->user = session_user(c->idx);
    c->t_start = now_us();
    c->state = CS_CONNECTING;
    c->scan = c->elem = 0;
    c->depth = B.mode == MODE_RAW ? 1 : 0;
    bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&dst, sizeof dst) < 0) {
        bench_error(c, ERR_CONNECT);
        bufferevent_free(c->bev);
        c->bev = NULL;
        c->state = CS_DEAD;
        return -1;
    }
    return 0;
}

/* --resume: the session (a TLS 1.3 ticket arrives after the handshake, a
 * TLS 1.2 one with it) is kept for the connection's session index. A copy:
 * the bench closes connections without close_notify, and OpenSSL then
 * marks the connection's own session object not resumable. */
int bench_new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct conn *c = SSL_get_app_data(ssl);
    if (!c || c->idx >= B.nsess)
        return 0;
    SSL_SESSION *copy = SSL_SESSION_dup(sess);
    if (!copy)
        return 0;
    if (B.tls_sess[c->idx])
        SSL_SESSION_free(B.tls_sess[c->idx]);
    B.tls_sess[c->idx] = copy;
    return 0;
}

/* Records the first handshake's server key type, protocol and cipher. */
static void note_tls(struct conn *c)
{
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
    EVP_PKEY *k = cert ? X509_get0_pubkey(cert) : NULL;
    if (k)
        snprintf(B.tls_key, sizeof B.tls_key, "%s-%d",
                 EVP_PKEY_get_base_id(k) == EVP_PKEY_EC ? "ECDSA" :
                 EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA ? "RSA" : "other", EVP_PKEY_get_bits(k));
    X509_free(cert);
    if (ssl) {
        snprintf(B.tls_proto, sizeof B.tls_proto, "%s", SSL_get_version(ssl));
        snprintf(B.tls_cipher, sizeof B.tls_cipher, "%s", SSL_get_cipher_name(ssl));
    }
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        if (c->state == CS_CONNECTING) {
            if (B.mode == MODE_RAW) {
                c->state = CS_RAW;
                bench_login_done(c, 1);
                return;
            }
            c->state = CS_FEATURES1;
            send_header(c);
        } else if (c->state == CS_TLS_HANDSHAKE) {
            if (!B.tls_key[0])
                note_tls(c);
            SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
            if (ssl && SSL_session_reused(ssl))
                B.tls_resumed++;
            else
                B.tls_full++;
            c->state = CS_FEATURES_TLS;
            send_header(c);
        }
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        enum bench_err e = ERR_CLOSED;
        if (c->state == CS_CONNECTING)
            e = ERR_CONNECT;
        else if (c->state == CS_TLS_HANDSHAKE)
            e = ERR_TLS;
        conn_fail(c, e);
    }
    (void)bev;
}

static void start_tls(struct conn *c)
{
    SSL *ssl = SSL_new(B.ssl_ctx);
    if (!ssl) {
        conn_fail(c, ERR_TLS);
        return;
    }
    SSL_set_tlsext_host_name(ssl, B.domain);
    SSL_set_app_data(ssl, c);
    if (B.resume && c->idx < B.nsess && B.tls_sess[c->idx])
        SSL_set_session(ssl, B.tls_sess[c->idx]);
    struct bufferevent *f = bufferevent_openssl_filter_new(B.base, c->bev, ssl,
                                BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    if (!f) {
        SSL_free(ssl);
        conn_fail(c, ERR_TLS);
        return;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(f, 1);
    c->bev = f;
    c->state = CS_TLS_HANDSHAKE;
    c->depth = 0;
    bufferevent_setcb(f, conn_read, NULL, conn_event, c);
    bufferevent_enable(f, EV_READ | EV_WRITE);
}

/* Value of attribute `name` in the start tag at p (len bytes), or NULL. */
static const char *attr(const char *p, size_t len, const char *name, size_t *vlen)
{
    const char *gt = memchr(p, '>', len);
    size_t nl = strlen(name), tl = gt ? (size_t)(gt - p) : len;
    for (size_t i = 1; i + nl + 2 < tl; i++) {
        if ((p[i - 1] == ' ' || p[i - 1] == '\t' || p[i - 1] == '\n') &&
            memcmp(p + i, name, nl) == 0 && p[i + nl] == '=') {
            char q = p[i + nl + 1];
            if (q != '\'' && q != '"')
                continue;
            const char *v = p + i + nl + 2;
            const char *e = memchr(v, q, tl - (size_t)(v - p));
            if (!e)
                return NULL;
            *vlen = (size_t)(e - v);
            return v;
        }
    }
    return NULL;
}

static int attr_is(const char *p, size_t len, const char *name, const char *want)
{
    size_t vl;
    const char *v = attr(p, len, name, &vl);
    return v && vl == strlen(want) && memcmp(v, want, vl) == 0;
}

static void got_message(const char *p, size_t len)
{
    const char *m = memmem(p, len, "BNCH ", 5);
    if (attr_is(p, len, "type", "error")) {
        bench_error(NULL, ERR_STANZA);
        return;
    }
    if (!m)
        return;
    char tmp[48];
    size_t n = len - (size_t)(m - p) - 5;
    if (n > sizeof tmp - 1)
        n = sizeof tmp - 1;
    memcpy(tmp, m + 5, n);
    tmp[n] = 0;
    char *e;
    uint64_t seq = strtoull(tmp, &e, 10);
    uint64_t ts = strtoull(e, NULL, 10);
    uint64_t now = now_us();
    if (seq <= B.seq_floor) {
        B.msgs_late++; /* sent in an earlier phase */
        return;
    }
    B.msgs_recv++;
    lat_add(&B.msg_lat, now > ts ? now - ts : 0);
}

/* A status change of the presence scenario ("BNCH seq µs" in <status/>)
 * delivered to a contact: one fan-out delivery, timed from its sending. */
#define P_IS_BENCH(p, len) (memmem((p), (len), "<status>BNCH ", 13) != NULL)
static void got_presence(const char *p, size_t len)
{
    const char *m = memmem(p, len, "<status>BNCH ", 13);
    char tmp[48];
    size_t n = len - (size_t)(m - p) - 13;
    if (n > sizeof tmp - 1)
        n = sizeof tmp - 1;
    memcpy(tmp, m + 13, n);
    tmp[n] = 0;
    char *e;
    uint64_t seq = strtoull(tmp, &e, 10);
    uint64_t ts = strtoull(e, NULL, 10);
    uint64_t now = now_us();
    if (seq <= B.seq_floor)
        return; /* sent in an earlier phase */
    B.pres_bnch++;
    lat_add(&B.msg_lat, now > ts ? now - ts : 0);
}

int session_room(int i)
{
    return i / (B.room_size > 0 ? B.room_size : 25);
}

/* Our own presence in the room: joined. The room's creator (status 201)
 * submits an empty muc#owner form, which makes it an instant room (XEP-0045
 * 10.1.2) that others may enter. */
static void muc_self_presence(struct conn *c, const char *p, size_t len)
{
    c->joined = 1;
    B.joins_ok++;
    B.room_joined[session_room(c->idx)]++;
    if (memmem(p, len, "code='201'", 10) || memmem(p, len, "code=\"201\"", 10))
        evbuffer_add_printf(bufferevent_get_output(c->bev),
            "<iq type='set' id='cfg' to='r%04d@%s'><query xmlns='http://jabber.org/protocol/muc#owner'>"
            "<x xmlns='jabber:x:data' type='submit'/></query></iq>",
            session_room(c->idx), B.muc_host);
}

/* One complete child of the stream: p[0] == '<'. Returns -1 when c was
 * closed or its bufferevent replaced (stop scanning). */
static int conn_element(struct conn *c, const char *p, size_t len)
{
    size_t nl = strcspn(p + 1, " \t\r\n/>");
    const char *name = p + 1;
    const char *colon = memchr(name, ':', nl);
    if (colon) {
        size_t pl = (size_t)(colon - name);
        if (pl == 6 && memcmp(name, "stream", 6) == 0 && nl - pl - 1 == 5 &&
            memcmp(colon + 1, "error", 5) == 0) {
            conn_fail(c, ERR_STREAM);
            return -1;
        }
        nl -= pl + 1;
        name = colon + 1;
    }
#define IS(s) (nl == sizeof(s) - 1 && memcmp(name, s, nl) == 0)
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (B.sm) { /* XEP-0198: count handled stanzas, answer ack requests */
        if (IS("message") || IS("presence") || IS("iq")) {
            if (c->sm_on)
                c->h++;
        } else if (IS("r")) {
            evbuffer_add_printf(out, "<a xmlns='urn:xmpp:sm:3' h='%u'/>", c->h);
            return 0;
        } else if (IS("enabled")) {
            c->sm_on = 1;
            return 0;
        } else if (IS("a")) {
            return 0;
        }
    }
    B.stanzas_recv++;
    if (IS("message")) {
        got_message(p, len);
        return 0;
    }
    if (IS("presence")) {
        B.pres_recv++;
        if (P_IS_BENCH(p, len))
            got_presence(p, len);
        if (attr_is(p, len, "type", "error")) {
            bench_error(NULL, ERR_STANZA);
            if (B.muc_host && !c->joined)
                B.joins_failed++;
        } else if (B.muc_host && !c->joined && (memmem(p, len, "code='110'", 10) ||
                                              memmem(p, len, "code=\"110\"", 10)))
            muc_self_presence(c, p, len);
        return 0;
    }
    if (IS("features")) {
        if (c->state == CS_FEATURES1) {
            if (!B.tls) {
                send_auth(c);
            } else if (memmem(p, len, "starttls", 8)) {
                evbuffer_add_printf(out, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
                c->state = CS_TLS_WAIT;
            } else {
                conn_fail(c, ERR_TLS);
                return -1;
            }
        } else if (c->state == CS_FEATURES_TLS) {
            if (B.sasl2)
                send_authenticate(c);
            else
                send_auth(c);
        } else if (c->state == CS_FEATURES2) {
            evbuffer_add_printf(out, "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                                "<resource>%s%d</resource></bind></iq>", B.resource, c->idx);
            /* Old servers (jabberd2) still want the RFC 3921 session. */
            const char *s = memmem(p, len, "xmpp-session", 12);
            if (s && !memmem(s, len - (size_t)(s - p), "optional", 8))
                evbuffer_add_printf(out, "<iq type='set' id='s'><session "
                                    "xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
            c->state = CS_BIND;
        }
        return 0;
    }
    if (IS("proceed") && c->state == CS_TLS_WAIT)
        return 1; /* caller drains, then starts TLS */
    if (IS("success") && c->state == CS_AUTH && B.sasl2) {
        /* no stream restart; bound inline (Bind 2) */
        if (B.sasl2 == 2)
            keep_token(c, p, len);
        evbuffer_add_printf(out, "<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>");
        c->state = CS_ROSTER;
        return 0;
    }
    if (IS("success") && c->state == CS_AUTH) {
        c->state = CS_FEATURES2;
        return 2; /* caller drains, then restarts the stream */
    }
    if (IS("failure")) {
        conn_fail(c, c->state == CS_AUTH ? ERR_AUTH : ERR_TLS);
        return -1;
    }
    if (IS("iq")) {
        int err = attr_is(p, len, "type", "error");
        if (c->state == CS_BIND && attr_is(p, len, "id", "b")) {
            if (err) {
                conn_fail(c, ERR_BIND);
                return -1;
            }
            if (B.sm)
                evbuffer_add_printf(out, "<enable xmlns='urn:xmpp:sm:3'/>");
            evbuffer_add_printf(out, "<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>");
            c->state = CS_ROSTER;
        } else if (c->state == CS_ROSTER && attr_is(p, len, "id", "r")) {
            if (err) {
                conn_fail(c, ERR_ROSTER);
                return -1;
            }
            evbuffer_add_printf(out, "<presence/>");
            c->state = CS_ONLINE;
            B.online++;
            bench_login_done(c, 1);
            if (c->state == CS_DEAD)
                return -1;
        } else if (attr_is(p, len, "id", "cfg")) {
            if (err)
                bench_error(c, ERR_STANZA);
            else
                B.rooms_ready++; /* muc: the instant room is open */
        } else if (attr_is(p, len, "id", "s") && err) {
            conn_fail(c, ERR_BIND);
            return -1;
        } else if (attr_is(p, len, "type", "get") || attr_is(p, len, "type", "set")) {
            /* a roster push after the push scenario's group change */
            if (B.push_t0 && !c->pushed && attr_is(p, len, "type", "set") &&
                memmem(p, len, "jabber:iq:roster", 16)) {
                c->pushed = 1;
                B.pushes_recv++;
                lat_add(&B.push_lat, now_us() - B.push_t0);
            }
            /* e.g. a server ping: answer so the server keeps us */
            size_t il, fl;
            const char *id = attr(p, len, "id", &il), *from = attr(p, len, "from", &fl);
            if (id)
                evbuffer_add_printf(out, "<iq type='result' id='%.*s'%s%.*s%s/>", (int)il, id,
                                    from ? " to='" : "", from ? (int)fl : 0, from ? from : "",
                                    from ? "'" : "");
        }
        return 0;
    }
#undef IS
    return 0;
}

/* Finds the end of the tag starting at p[i] == '<'; returns the index of
 * its '>' or 0 when incomplete. */
static size_t tag_end(const char *p, size_t len, size_t i)
{
    char k = p[i + 1];
    if (k == '?') {
        for (size_t j = i + 2; j + 1 < len; j++)
            if (p[j] == '?' && p[j + 1] == '>')
                return j + 1;
        return 0;
    }
    char q = 0;
    for (size_t j = i + 1; j < len; j++) {
        if (q) {
            if (p[j] == q)
                q = 0;
        } else if (p[j] == '\'' || p[j] == '"') {
            q = p[j];
        } else if (p[j] == '>') {
            return j;
        }
    }
    return 0;
}

static void conn_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        size_t len = evbuffer_get_length(in);
        if (len == 0)
            return;
        if (len > BENCH_MAX_INPUT) {
            conn_fail(c, ERR_BUFFER);
            return;
        }
        const char *p = (const char *)evbuffer_pullup(in, -1);
        size_t i = c->scan, drain = 0;
        int action = 0, found = 0;
        while (i < len) {
            const char *lt = memchr(p + i, '<', len - i);
            if (!lt) {
                i = len;
                if (c->depth <= 1)
                    drain = len; /* whitespace between stanzas */
                break;
            }
            i = (size_t)(lt - p);
            if (i + 1 >= len)
                break;
            size_t e = tag_end(p, len, i);
            if (!e)
                break;
            char k = p[i + 1];
            if (k == '?' || k == '!') {
                if (c->depth <= 1)
                    drain = e + 1;
                i = e + 1;
                continue;
            }
            if (k == '/') {
                c->depth--;
                if (c->depth == 1) {
                    action = conn_element(c, p + c->elem, e + 1 - c->elem);
                    drain = i = e + 1;
                    found = 1;
                    break;
                }
                if (c->depth <= 0) { /* </stream:stream> */
                    conn_fail(c, ERR_CLOSED);
                    return;
                }
                i = e + 1;
                continue;
            }
            int empty = p[e - 1] == '/';
            if (c->depth == 0) { /* the stream header */
                c->depth = 1;
                drain = e + 1;
                i = e + 1;
                continue;
            }
            if (c->depth == 1) {
                c->elem = i;
                if (empty) {
                    action = conn_element(c, p + i, e + 1 - i);
                    drain = i = e + 1;
                    found = 1;
                    break;
                }
            }
            if (!empty)
                c->depth++;
            i = e + 1;
        }
        if (action < 0)
            return; /* closed or replaced */
        evbuffer_drain(in, drain);
        c->elem -= c->elem >= drain ? drain : c->elem;
        c->scan = i - drain;
        if (action == 1) {
            start_tls(c);
            return;
        }
        if (action == 2)
            send_header(c);
        if (!found)
            return;
    }
}

static char pad[1024];

void conn_send_msg(struct conn *c, const struct conn *peer)
{
    char user[128];
    if (!pad[0])
        memset(pad, 'x', sizeof pad - 1);
    snprintf(user, sizeof user, B.user_fmt, peer->user);
    uint64_t seq = ++B.seq;
    evbuffer_add_printf(bufferevent_get_output(c->bev),
        "<message to='%s@%s' type='chat' id='m%llu'><body>BNCH %llu %llu %.*s</body></message>",
        user, B.domain, (unsigned long long)seq, (unsigned long long)seq,
        (unsigned long long)now_us(), B.body_len, pad);
    B.msgs_sent++;
}

void conn_send_join(struct conn *c)
{
    evbuffer_add_printf(bufferevent_get_output(c->bev),
        "<presence to='r%04d@%s/n%d'><x xmlns='http://jabber.org/protocol/muc'>"
        "<history maxstanzas='0'/></x></presence>", session_room(c->idx), B.muc_host, c->idx);
}

void conn_send_groupchat(struct conn *c)
{
    if (!pad[0])
        memset(pad, 'x', sizeof pad - 1);
    uint64_t seq = ++B.seq;
    evbuffer_add_printf(bufferevent_get_output(c->bev),
        "<message to='r%04d@%s' type='groupchat' id='g%llu'><body>BNCH %llu %llu %.*s</body></message>",
        session_room(c->idx), B.muc_host, (unsigned long long)seq, (unsigned long long)seq,
        (unsigned long long)now_us(), B.body_len, pad);
    B.msgs_sent++;
    B.expect_recv += (uint64_t)B.room_joined[session_room(c->idx)];
}

void conn_send_presence(struct conn *c)
{
    uint64_t seq = ++B.seq;
    evbuffer_add_printf(bufferevent_get_output(c->bev),
        "<presence><show>%s</show><status>BNCH %llu %llu</status></presence>",
        (seq & 1) ? "away" : "chat", (unsigned long long)seq, (unsigned long long)now_us());
    B.msgs_sent++;
}
