/* bench/bench_ldap.c: slapd's own simple-bind rate, the yardstick for
 * plucsd's login rate (a PLUCS login is one simple bind as the user's DN).
 * Each bind uses a new connection, like a login: connect, BindRequest,
 * BindResponse, UnbindRequest, close. The few BER bytes are written by hand
 * so that libldap's per-handle cost does not distort the figure. */
#include "bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <event2/buffer.h>

struct lconn {
    struct bufferevent *bev;
    uint64_t t0;
    int user;
};

static struct {
    const char *dn_fmt, *pass_fmt;
    struct sockaddr_in dst;
    int first, users, total, started, done, next_src;
    uint64_t deadline;
    struct ldap_result *r;
    struct event_base *base;
} L;

static size_t ber_len(unsigned char *p, size_t n)
{
    if (n < 128) {
        p[0] = (unsigned char)n;
        return 1;
    }
    p[0] = 0x82;
    p[1] = (unsigned char)(n >> 8);
    p[2] = (unsigned char)n;
    return 3;
}

static void lconn_start(struct lconn *c);

static void lconn_finish(struct lconn *c, int ok)
{
    if (ok) {
        L.r->ok++;
        lat_add(&L.r->lat, now_us() - c->t0);
    } else {
        L.r->fail++;
    }
    bufferevent_free(c->bev);
    c->bev = NULL;
    L.done++;
    if (L.started < L.total && now_us() < L.deadline)
        lconn_start(c);
    else if (L.done >= L.started)
        event_base_loopbreak(L.base);
}

static void lconn_read(struct bufferevent *bev, void *arg)
{
    struct lconn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    if (len < 2)
        return;
    unsigned char *p = evbuffer_pullup(in, -1);
    size_t hl = 2, ml = p[1];
    if (p[1] & 0x80) {
        hl = 2 + (p[1] & 0x7f);
        if (len < hl)
            return;
        ml = 0;
        for (size_t i = 2; i < hl; i++)
            ml = ml << 8 | p[i];
    }
    if (len < hl + ml)
        return;
    /* 02 01 id, 61 len, 0a 01 code */
    size_t i = hl;
    i += 2 + p[i + 1];
    int ok = 0;
    if (i + 1 < len && p[i] == 0x61) {
        i += (p[i + 1] & 0x80) ? 2 + (p[i + 1] & 0x7f) : 2;
        ok = i + 2 < len && p[i] == 0x0a && p[i + 2] == 0;
    }
    static const unsigned char unbind[] = { 0x30, 0x05, 0x02, 0x01, 0x02, 0x42, 0x00 };
    bufferevent_write(bev, unbind, sizeof unbind);
    lconn_finish(c, ok);
}

static void lconn_event(struct bufferevent *bev, short what, void *arg)
{
    struct lconn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        char dn[256], pw[128];
        int dl = snprintf(dn, sizeof dn, L.dn_fmt, c->user);
        int pl = snprintf(pw, sizeof pw, L.pass_fmt, c->user);
        unsigned char req[512], body[480];
        size_t b = 0;
        body[b++] = 0x02; body[b++] = 0x01; body[b++] = 0x03;      /* version 3 */
        body[b++] = 0x04; b += ber_len(body + b, (size_t)dl);       /* name */
        memcpy(body + b, dn, (size_t)dl); b += (size_t)dl;
        body[b++] = 0x80; b += ber_len(body + b, (size_t)pl);       /* simple */
        memcpy(body + b, pw, (size_t)pl); b += (size_t)pl;
        unsigned char op[500];
        size_t o = 0;
        op[o++] = 0x02; op[o++] = 0x01; op[o++] = 0x01;             /* messageID 1 */
        op[o++] = 0x60; o += ber_len(op + o, b);
        memcpy(op + o, body, b); o += b;
        size_t r = 0;
        req[r++] = 0x30; r += ber_len(req + r, o);
        memcpy(req + r, op, o); r += o;
        bufferevent_write(bev, req, r);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        lconn_finish(c, 0);
}

static void lconn_start(struct lconn *c)
{
    c->user = L.first + L.started % L.users;
    L.started++;
    c->t0 = now_us();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in src = { .sin_family = AF_INET };
    src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(L.next_src++ % 253));
    if (fd >= 0)
        bind(fd, (struct sockaddr *)&src, sizeof src);
    c->bev = bufferevent_socket_new(L.base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c->bev, lconn_read, NULL, lconn_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&L.dst, sizeof L.dst) < 0)
        lconn_finish(c, 0);
}

int ldap_bind_storm(const char *host, int port, const char *dn_fmt,
                    const char *pass_fmt, int first, int users, int total,
                    int concurrency, double max_secs, struct ldap_result *r)
{
    memset(&L, 0, sizeof L);
    L.dst.sin_family = AF_INET;
    L.dst.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &L.dst.sin_addr) != 1)
        return -1;
    L.dn_fmt = dn_fmt;
    L.pass_fmt = pass_fmt;
    L.first = first;
    L.users = users > 0 ? users : 1;
    L.total = total;
    L.r = r;
    L.base = B.base;
    uint64_t t0 = now_us();
    L.deadline = t0 + (uint64_t)(max_secs * 1e6);
    int n = concurrency < total ? concurrency : total;
    struct lconn *cs = calloc((size_t)n, sizeof *cs);
    if (!cs)
        return -1;
    for (int i = 0; i < n; i++)
        lconn_start(&cs[i]);
    struct timeval cap = { (time_t)max_secs + 10, 0 };
    event_base_loopexit(B.base, &cap);
    event_base_dispatch(B.base);
    r->secs = (now_us() - t0) / 1e6;
    for (int i = 0; i < n; i++)
        if (cs[i].bev)
            bufferevent_free(cs[i].bev);
    free(cs);
    return 0;
}
