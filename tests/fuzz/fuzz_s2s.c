/* fuzz_s2s.c: libFuzzer target for a whole incoming server-to-server byte
 * stream. The input is written into one end of a socketpair whose other end
 * is handed to the real s2s_accept() on a real worker thread, so the real
 * s2s_conn.c (bufferevent, parser, closing, timers), s2s_in.c (header,
 * features, STARTTLS with a real OpenSSL accept over the garbage that
 * follows <proceed/>, SASL EXTERNAL, db:result, db:verify, stanzas),
 * s2s_dialback.c and the router behind router_from_remote() run; see
 * fuzz_server.h for the rest of the server (a.test; the directory is a
 * stand-in). Registry: plucs/s2s true, b.test routed to 127.0.0.1:9 (the
 * outgoing stream for replies fails at connect, no DNS).
 *
 * One seam (-Wl,--wrap=s2s_out_add_verify): the outgoing verification
 * connection to the authoritative server. A db:result whose key is "valid"
 * is answered valid, "invalid" invalid, anything else never (the request
 * is dropped when the input ends); only from='b.test' can be valid, so
 * replies never need DNS. Input: the bytes the peer sends, then it closes
 * its write side; each of the first three NUL bytes (never valid XML) is
 * not sent but makes the peer wait for the server's next bytes (at most
 * 20 ms), as a peer waits for <db:result type='valid'/> before its stanzas
 * (later NULs are sent); the target reads everything the server writes (bounded)
 * until the server closes, then waits for every s2s stream of the worker
 * (the reply stream to b.test included) to be gone. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include <sys/socket.h>

#include "fuzz_server.h"
#include "transport/s2s.h"
#include "transport/s2s_internal.h"
#include "transport/s2s_tls.h"

/* ---- the seam: requests never sent anywhere ---- */

static s2s_verify *unanswered;   /* worker thread only */

void __real_s2s_out_add_verify(s2s_verify *v);
void __wrap_s2s_out_add_verify(s2s_verify *v);
void __wrap_s2s_out_add_verify(s2s_verify *v)
{
    /* the claim s2s_dialback_verify_start made is ours to give back */
    s2s_table_release(v->to, v->from, worker_self());
    bool b = !strcmp(v->from, "b.test");
    if (!strcmp(v->key, "valid") && b) {
        s2s_dialback_verify_done(v, true);
    } else if (!strcmp(v->key, "invalid") || (!strcmp(v->key, "valid") && !b)) {
        s2s_dialback_verify_done(v, false);
    } else {
        v->next = unanswered;
        unanswered = v;
    }
}

/* ---- driving one input ---- */

static int peer_fd = -1;      /* our end; the worker's end belongs to the stream */
static int tries;

static void start(void *arg)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
        abort();
    peer_fd = sv[0];
    s2s_accept(fz_worker, sv[1], fz_peer(), NULL, false);
    fz_finish();
}

static void drained(evutil_socket_t fd, short what, void *arg);

static void settle(void)
{
    if (!s2s_worker_streams() || ++tries > 3000) {
        /* everything gone (or 3 s: end what is left, a finding if it hangs) */
        for (s2s_stream *s = s2s_worker_streams(), *n; s; s = n) {
            n = s->next_w;
            s2s_free(s);
        }
        while (unanswered) {
            s2s_verify *v = unanswered;
            unanswered = v->next;
            free(v);
        }
        fz_finish();
        return;
    }
    static struct event *t;
    if (!t)
        t = evtimer_new(worker_base(fz_worker), drained, NULL);
    struct timeval tv = { 0, 1000 };
    evtimer_add(t, &tv);
}

static void drained(evutil_socket_t fd, short what, void *arg) { settle(); }

static void wait_streams(void *arg)
{
    tries = 0;
    settle();
}

static void end_all(void *arg)
{
    for (s2s_stream *s = s2s_worker_streams(); s; s = s->next_w)
        if (!s->closing)
            s2s_close(s, NULL, NULL);
    fz_finish();
}

/* Writes the input and reads the answers until the server closes (or 5 s). */
static void talk(const uint8_t *data, size_t size)
{
    size_t pos = 0, out = 0, out_at_pause = 0;
    bool shut = false, paused = false;
    int pauses = 0;
    struct timespec pause_t = { 0, 0 };
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (!paused && pos < size && data[pos] == 0 && pauses < 3) {
            pos++;
            pauses++;
            paused = true;
            out_at_pause = out;
            clock_gettime(CLOCK_MONOTONIC, &pause_t);
        }
        if (paused) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            long long ms = (now.tv_sec - pause_t.tv_sec) * 1000LL +
                           (now.tv_nsec - pause_t.tv_nsec) / 1000000;
            if (out > out_at_pause || ms >= 20)
                paused = false;
        }
        if (pos == size && !shut && !paused) {
            shutdown(peer_fd, SHUT_WR);
            shut = true;
        }
        struct pollfd p = { peer_fd, POLLIN | (shut || paused ? 0 : POLLOUT), 0 };
        poll(&p, 1, paused ? 10 : 100);
        if (p.revents & POLLOUT) {
            const uint8_t *nul = pauses < 3 ? memchr(data + pos, 0, size - pos) : NULL;
            size_t len = nul ? (size_t)(nul - (data + pos)) : size - pos;
            ssize_t n = len ? send(peer_fd, data + pos, len, MSG_NOSIGNAL) : 0;
            if (n > 0)
                pos += (size_t)n;
            else if (n < 0 && errno != EAGAIN) {
                pos = size;   /* the server closed: the rest is lost */
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            char b[65536];
            ssize_t n = read(peer_fd, b, sizeof b);
            if (n == 0 || (n < 0 && errno != EAGAIN))
                return;   /* the server closed */
            if (n > 0)
                out += (size_t)n;
            if (out > (64u << 20))
                abort();   /* output out of all proportion to the input */
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > 5) {
            fprintf(stderr, "fuzz: s2s stream not closed after 5 s; ending it\n");
            fz_done = false;
            worker_post(fz_worker, end_all, NULL);
            if (!fz_wait(30))
                abort();
            t0 = now;
        }
    }
}

static void init(void)
{
    fz_server_init("plucs/s2s: true\nplucs/s2s/timeout: 30\n"
                   "plucs/s2s/route/b.test: 127.0.0.1:9\n");
    char path[] = "/tmp/plucs-fuzz-s2s-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    fz_cert(path);
    char err[512];
    if (s2s_tls_load(path, "", err, sizeof err) != 0) {
        fprintf(stderr, "fuzz: %s\n", err);
        abort();
    }
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    fz_done = false;
    worker_post(fz_worker, start, NULL);
    if (!fz_wait(30))
        abort();
    talk(data, size);
    close(peer_fd);
    peer_fd = -1;
    fz_done = false;
    worker_post(fz_worker, wait_streams, NULL);
    if (!fz_wait(30))
        abort();
    return 0;
}
