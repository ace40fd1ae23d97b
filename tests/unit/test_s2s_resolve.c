/* test_s2s_resolve.c: peer resolution (src/transport/s2s_resolve.c,
 * s2s_dns.c) against a real DNS server: a private dnsmasq on 127.0.13.53
 * (a port from the pid) with SRV, A and AAAA records, queried through
 * c-ares on a libevent base. Checks the SRV order and ports, the direct TLS
 * flag, the fallback to A on 5269 without SRV, the "." target (NOTFOUND, no
 * fallback), an unknown name, a missing SRV target skipped, routes with an
 * IP and with a name, a dead DNS server (FAILED), and cancellation at every
 * stage (the callback never runs, nothing is touched after free). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/config.h"
#include "transport/s2s_dns.h"
#include "transport/s2s_resolve.h"

#define DNS_ADDR "127.0.13.53"
#define DNSMASQ "/usr/sbin/dnsmasq"

static pid_t dnsmasq_pid;
static int dns_port;

/* ---- one lookup, run to its callback ---- */

typedef struct result {
    bool called;
    int calls;
    s2s_resolve_status status;
    s2s_addr addrs[16];
    size_t n;
    char why[256];
    struct event_base *base;
} result;

static void on_result(void *ud, s2s_resolve_status st, const s2s_addr *addrs, size_t n,
                      const char *why)
{
    result *r = ud;
    r->called = true;
    r->calls++;
    r->status = st;
    r->n = n > 16 ? 16 : n;
    memcpy(r->addrs, addrs, r->n * sizeof *addrs);
    snprintf(r->why, sizeof r->why, "%s", why ? why : "");
    event_base_loopbreak(r->base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(arg);
}

/* Runs base until r's callback ran or 10 s passed (a bound, not a wait). */
static void run_until(struct event_base *base, result *r)
{
    struct event *deadline = evtimer_new(base, on_deadline, base);
    struct timeval tv = { 10, 0 };
    evtimer_add(deadline, &tv);
    for (long i = 0; i < 1000000 && !r->called; i++) {
        event_base_loop(base, EVLOOP_ONCE);
        if (!evtimer_pending(deadline, NULL))
            break;
    }
    event_free(deadline);
}

static struct event_base *base;

static result resolve(const config *c, const char *domain)
{
    result r;
    memset(&r, 0, sizeof r);
    r.base = base;
    s2s_lookup *l = s2s_resolve_start(base, c, domain, on_result, &r);
    assert_non_null(l);
    assert_false(r.called);   /* never from inside start */
    run_until(base, &r);
    assert_true(r.called);
    assert_int_equal(r.calls, 1);
    return r;
}

static const char *addr_str(const s2s_addr *a)
{
    static char buf[INET6_ADDRSTRLEN];
    if (a->ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->ss)->sin_addr, buf, sizeof buf);
    else
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, buf, sizeof buf);
    return buf;
}

static int addr_port(const s2s_addr *a)
{
    return ntohs(a->ss.ss_family == AF_INET ? ((const struct sockaddr_in *)&a->ss)->sin_port
                                            : ((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

/* ---- dnsmasq ---- */

static pid_t start_dnsmasq(int port)
{
    char portarg[32];
    snprintf(portarg, sizeof portarg, "--port=%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *devnull = freopen("/dev/null", "w", stdout);
        (void)devnull;
        devnull = freopen("/dev/null", "w", stderr);
        execl(DNSMASQ, "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
              "--no-hosts", "--listen-address=" DNS_ADDR, portarg, "--bind-interfaces",
              "--local=/test/", "--pid-file=", "--log-facility=-",
              /* x.test: direct TLS and STARTTLS records */
              "--srv-host=_xmpps-server._tcp.x.test,t.x.test,5223,10,0",
              "--srv-host=_xmpp-server._tcp.x.test,h1.x.test,5270,10,5",
              "--srv-host=_xmpp-server._tcp.x.test,h2.x.test,5271,20,0",
              "--host-record=t.x.test,127.0.13.3,fd00::13:3",
              "--host-record=h1.x.test,127.0.13.1",
              "--host-record=h2.x.test,127.0.13.2",
              /* a.test: no SRV, an A record */
              "--host-record=a.test,127.0.13.4",
              /* dot.test: "." target; its A record must not be used */
              "--srv-host=_xmpp-server._tcp.dot.test",
              "--host-record=dot.test,127.0.13.5",
              /* y.test: the first target does not exist */
              "--srv-host=_xmpp-server._tcp.y.test,gone.y.test,5269,1,0",
              "--srv-host=_xmpp-server._tcp.y.test,h.y.test,5275,2,0",
              "--host-record=h.y.test,127.0.13.6",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Polls a query until dnsmasq answers (bounded); false when it died. */
static bool dnsmasq_ready(pid_t pid)
{
    for (int i = 0; i < 2000; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return false;   /* exited: the port was taken */
        result r = resolve(NULL, "a.test");
        if (r.status == S2S_RESOLVE_OK)
            return true;
    }
    return false;
}

static int setup(void **state)
{
    if (access(DNSMASQ, X_OK) != 0) {
        fprintf(stderr, "dnsmasq (package dnsmasq-base) is missing\n");
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    /* a query sent while dnsmasq starts may be lost: retry soon */
    s2s_resolve_set_timeout(500, 3);
    for (int attempt = 0; attempt < 5; attempt++) {
        dns_port = 20000 + (int)((getpid() * 7 + attempt * 7919) % 30000);
        char csv[64];
        snprintf(csv, sizeof csv, DNS_ADDR ":%d", dns_port);
        s2s_resolve_thread_exit();
        s2s_resolve_set_servers(csv);
        dnsmasq_pid = start_dnsmasq(dns_port);
        if (dnsmasq_pid > 0 && dnsmasq_ready(dnsmasq_pid)) {
            return 0;
        }
        if (dnsmasq_pid > 0) {
            kill(dnsmasq_pid, SIGTERM);
            waitpid(dnsmasq_pid, NULL, 0);
        }
    }
    return -1;
}

static int teardown(void **state)
{
    s2s_resolve_thread_exit();
    int alive = s2s_resolve_lookups_alive();   /* every lookup freed */
    s2s_resolve_set_servers(NULL);
    if (dnsmasq_pid > 0) {
        kill(dnsmasq_pid, SIGTERM);
        waitpid(dnsmasq_pid, NULL, 0);
    }
    event_base_free(base);
    return alive == 0 ? 0 : -1;
}

/* ---- tests ---- */

static void test_srv_order_ports_and_direct_tls(void **state)
{
    result r = resolve(NULL, "x.test");
    assert_int_equal(r.status, S2S_RESOLVE_OK);
    /* t.x.test (direct TLS, priority 10: two addresses), h1 (10), h2 (20) */
    assert_int_equal(r.n, 4);
    assert_string_equal(r.addrs[0].host, "t.x.test");
    assert_string_equal(r.addrs[1].host, "t.x.test");
    for (int i = 0; i < 2; i++) {
        assert_true(r.addrs[i].direct_tls);
        assert_int_equal(r.addrs[i].port, 5223);
        assert_int_equal(addr_port(&r.addrs[i]), 5223);
    }
    bool v4 = false, v6 = false;
    for (int i = 0; i < 2; i++) {
        v4 |= !strcmp(addr_str(&r.addrs[i]), "127.0.13.3");
        v6 |= !strcmp(addr_str(&r.addrs[i]), "fd00::13:3");
    }
    assert_true(v4 && v6);
    assert_string_equal(r.addrs[2].host, "h1.x.test");
    assert_false(r.addrs[2].direct_tls);
    assert_string_equal(addr_str(&r.addrs[2]), "127.0.13.1");
    assert_int_equal(addr_port(&r.addrs[2]), 5270);
    assert_int_equal(r.addrs[2].len, sizeof(struct sockaddr_in));
    assert_string_equal(r.addrs[3].host, "h2.x.test");
    assert_string_equal(addr_str(&r.addrs[3]), "127.0.13.2");
    assert_int_equal(r.addrs[3].port, 5271);
}

static void test_fallback_to_a_on_5269(void **state)
{
    result r = resolve(NULL, "a.test");
    assert_int_equal(r.status, S2S_RESOLVE_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(addr_str(&r.addrs[0]), "127.0.13.4");
    assert_int_equal(addr_port(&r.addrs[0]), 5269);
    assert_false(r.addrs[0].direct_tls);
    assert_string_equal(r.addrs[0].host, "a.test");
}

static void test_dot_target_notfound(void **state)
{
    result r = resolve(NULL, "dot.test");
    assert_int_equal(r.status, S2S_RESOLVE_NOTFOUND);
    assert_int_equal(r.n, 0);
    assert_non_null(strstr(r.why, "\".\""));
}

static void test_unknown_name_notfound(void **state)
{
    result r = resolve(NULL, "nope.test");
    assert_int_equal(r.status, S2S_RESOLVE_NOTFOUND);
    assert_int_equal(r.n, 0);
    assert_non_null(strstr(r.why, "nope.test"));
}

static void test_missing_target_skipped(void **state)
{
    result r = resolve(NULL, "y.test");
    assert_int_equal(r.status, S2S_RESOLVE_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.addrs[0].host, "h.y.test");
    assert_int_equal(addr_port(&r.addrs[0]), 5275);
}

static void test_routes(void **state)
{
    struct s2s_route routes[] = {
        { "x.test", "127.0.13.9", 5300 },      /* overrides x.test's SRV */
        { "r.test", "h1.x.test", 5999 },       /* a name: A/AAAA, the route's port */
        { "v6.test", "::1", 5301 },
        { "gone.test", "nothere.x.test", 5269 },
    };
    config c;
    memset(&c, 0, sizeof c);
    c.s2s_routes = routes;
    c.s2s_nroutes = 4;

    result r = resolve(&c, "x.test");
    assert_int_equal(r.status, S2S_RESOLVE_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(addr_str(&r.addrs[0]), "127.0.13.9");
    assert_int_equal(addr_port(&r.addrs[0]), 5300);
    assert_false(r.addrs[0].direct_tls);

    r = resolve(&c, "r.test");
    assert_int_equal(r.status, S2S_RESOLVE_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(addr_str(&r.addrs[0]), "127.0.13.1");
    assert_int_equal(addr_port(&r.addrs[0]), 5999);
    assert_string_equal(r.addrs[0].host, "h1.x.test");
    assert_false(r.addrs[0].direct_tls);

    r = resolve(&c, "v6.test");
    assert_int_equal(r.status, S2S_RESOLVE_OK);
    assert_string_equal(addr_str(&r.addrs[0]), "::1");
    assert_int_equal(addr_port(&r.addrs[0]), 5301);
    assert_int_equal(r.addrs[0].len, sizeof(struct sockaddr_in6));

    r = resolve(&c, "gone.test");
    assert_int_equal(r.status, S2S_RESOLVE_NOTFOUND);

    /* a domain without a route still goes to DNS */
    r = resolve(&c, "a.test");
    assert_int_equal(r.status, S2S_RESOLVE_OK);
    assert_string_equal(addr_str(&r.addrs[0]), "127.0.13.4");
}

static void test_dead_server_failed(void **state)
{
    char csv[64];
    snprintf(csv, sizeof csv, DNS_ADDR ":%d", dns_port + 1);   /* nobody there */
    s2s_resolve_thread_exit();
    s2s_resolve_set_servers(csv);
    result r = resolve(NULL, "x.test");
    assert_int_equal(r.status, S2S_RESOLVE_FAILED);
    assert_int_equal(r.n, 0);
    assert_true(r.why[0] != '\0');
    /* back to dnsmasq */
    snprintf(csv, sizeof csv, DNS_ADDR ":%d", dns_port);
    s2s_resolve_thread_exit();
    s2s_resolve_set_servers(csv);
    r = resolve(NULL, "a.test");
    assert_int_equal(r.status, S2S_RESOLVE_OK);
}

/* A server that never answers: c-ares' own timeout (short here) ends the
 * lookup through the timer. */
static void test_silent_server_times_out(void **state)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    inet_pton(AF_INET, DNS_ADDR, &sa.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    char csv[64];
    snprintf(csv, sizeof csv, DNS_ADDR ":%d", ntohs(sa.sin_port));
    s2s_resolve_set_timeout(300, 2);
    s2s_resolve_thread_exit();
    s2s_resolve_set_servers(csv);
    struct timeval t0, t1;
    gettimeofday(&t0, NULL);
    result r = resolve(NULL, "x.test");
    gettimeofday(&t1, NULL);
    assert_int_equal(r.status, S2S_RESOLVE_FAILED);
    assert_non_null(strstr(r.why, "imeout"));
    assert_true(t1.tv_sec - t0.tv_sec < 5);   /* 300 ms, then 600 ms */
    close(fd);
    s2s_resolve_set_timeout(500, 3);
    snprintf(csv, sizeof csv, DNS_ADDR ":%d", dns_port);
    s2s_resolve_thread_exit();
    s2s_resolve_set_servers(csv);
}

/* An idle channel older than the renewal age is made anew on the next
 * lookup, with the settings of that moment (here: the servers seam; in
 * production /etc/resolv.conf), without s2s_resolve_thread_exit. */
static void test_idle_channel_renewed(void **state)
{
    char good[64], dead[64];
    snprintf(good, sizeof good, DNS_ADDR ":%d", dns_port);
    snprintf(dead, sizeof dead, DNS_ADDR ":%d", dns_port + 1);
    s2s_dns_set_renew_after(0);
    s2s_resolve_set_servers(dead);
    result r = resolve(NULL, "a.test");
    assert_int_equal(r.status, S2S_RESOLVE_FAILED);
    s2s_resolve_set_servers(good);
    r = resolve(NULL, "a.test");
    assert_int_equal(r.status, S2S_RESOLVE_OK);
    /* a busy channel is kept: two lookups at once both succeed */
    result r2;
    memset(&r2, 0, sizeof r2);
    r2.base = base;
    s2s_lookup *l2 = s2s_resolve_start(base, NULL, "x.test", on_result, &r2);
    assert_non_null(l2);
    r = resolve(NULL, "y.test");
    assert_int_equal(r.status, S2S_RESOLVE_OK);
    run_until(base, &r2);
    assert_int_equal(r2.status, S2S_RESOLVE_OK);
    s2s_dns_set_renew_after(60);
}

static void test_cancel_at_every_stage(void **state)
{
    config c;
    memset(&c, 0, sizeof c);
    struct s2s_route routes[] = { { "lit.test", "127.0.13.7", 5269 } };
    c.s2s_routes = routes;
    c.s2s_nroutes = 1;
    const char *domains[] = { "x.test", "a.test", "nope.test", "lit.test" };
    for (int d = 0; d < 4; d++) {
        for (int k = 0; k < 8; k++) {
            result never;
            memset(&never, 0, sizeof never);
            never.base = base;
            s2s_lookup *l = s2s_resolve_start(base, &c, domains[d], on_result, &never);
            /* let the lookup get k loop turns further before cancelling:
             * each turn waits for the next DNS answer or the result event
             * (even k: without waiting, odd k: waiting) */
            for (int i = 0; i < k && !never.called; i++)
                event_base_loop(base, EVLOOP_ONCE | (k % 2 ? 0 : EVLOOP_NONBLOCK));
            if (never.called)
                continue;   /* it finished first: the handle is gone */
            s2s_resolve_cancel(l);
            /* a later lookup as barrier: its answer comes after the
             * cancelled lookup's own DNS answers */
            result r = resolve(&c, "x.test");
            assert_int_equal(r.status, S2S_RESOLVE_OK);
            assert_false(never.called);
            /* the cancelled lookup's answers came before the barrier's
             * second round trip: it is freed */
            assert_int_equal(s2s_resolve_lookups_alive(), 0);
        }
    }
}

static void cancel_inside(void *ud, s2s_resolve_status st, const s2s_addr *addrs, size_t n,
                          const char *why)
{
    void **p = ud;
    s2s_resolve_cancel(p[0]);   /* a no-op from inside the callback */
    on_result(p[1], st, addrs, n, why);
}

static void test_cancel_inside_callback_and_thread_exit(void **state)
{
    result r;
    memset(&r, 0, sizeof r);
    r.base = base;
    void *p[2] = { NULL, &r };
    p[0] = s2s_resolve_start(base, NULL, "a.test", cancel_inside, p);
    run_until(base, &r);
    assert_true(r.called);
    assert_int_equal(r.status, S2S_RESOLVE_OK);

    /* the thread's resolver ends while a lookup is out: no callback, and
     * cancelling afterwards frees it */
    result never;
    memset(&never, 0, sizeof never);
    never.base = base;
    s2s_lookup *l = s2s_resolve_start(base, NULL, "x.test", on_result, &never);
    s2s_resolve_thread_exit();
    assert_int_equal(s2s_resolve_lookups_alive(), 1);   /* the caller still holds it */
    s2s_resolve_cancel(l);
    assert_int_equal(s2s_resolve_lookups_alive(), 0);
    r = resolve(NULL, "x.test");   /* a new channel is made on demand */
    assert_int_equal(r.status, S2S_RESOLVE_OK);
    assert_false(never.called);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srv_order_ports_and_direct_tls),
        cmocka_unit_test(test_fallback_to_a_on_5269),
        cmocka_unit_test(test_dot_target_notfound),
        cmocka_unit_test(test_unknown_name_notfound),
        cmocka_unit_test(test_missing_target_skipped),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_dead_server_failed),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_idle_channel_renewed),
        cmocka_unit_test(test_cancel_at_every_stage),
        cmocka_unit_test(test_cancel_inside_callback_and_thread_exit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
