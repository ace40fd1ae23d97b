/* test_conn_limits.c: the pre-authentication counts (plucs/c2s/max_per_ip,
 * max_preauth): the 101st connection from one address is refused while
 * another address still gets in, IPv6 counts per /64 and IPv4-mapped
 * addresses as IPv4, a released slot is discounted at once (and twice is
 * harmless), the global cap, the web session cap, the loopback and "web
 * transport counts as encrypted" decisions, and the log rate limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <cmocka.h>

#include "transport/conn_limits.h"

static struct sockaddr_storage v4(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, a, &in->sin_addr), 1);
    return ss;
}

static struct sockaddr_storage v6(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, a, &in6->sin6_addr), 1);
    return ss;
}

#define SA(ss) ((struct sockaddr *)&(ss))

static void test_per_ip_cap(void **state)
{
    static conn_slot slots[101];
    struct sockaddr_storage a = v4("192.0.2.7"), b = v4("192.0.2.8");
    for (int i = 0; i < 100; i++)
        assert_int_equal(conn_limits_acquire(&slots[i], SA(a), true, 100, 0), CL_OK);
    conn_slot extra;
    assert_int_equal(conn_limits_acquire(&extra, SA(a), true, 100, 0), CL_PER_IP);
    assert_false(extra.held);
    conn_limits_release(&extra);   /* a refused slot holds nothing */
    assert_int_equal(conn_limits_of(SA(a)), 100);
    /* another address still gets in */
    assert_int_equal(conn_limits_acquire(&slots[100], SA(b), true, 100, 0), CL_OK);
    /* one logs in (or closes): the next from a is accepted at once */
    conn_limits_release(&slots[0]);
    conn_limits_release(&slots[0]);   /* idempotent */
    assert_int_equal(conn_limits_of(SA(a)), 99);
    assert_int_equal(conn_limits_acquire(&slots[0], SA(a), true, 100, 0), CL_OK);
    /* 0 = no per-address limit */
    assert_int_equal(conn_limits_acquire(&extra, SA(a), true, 0, 0), CL_OK);
    conn_limits_release(&extra);
    for (int i = 0; i < 101; i++)
        conn_limits_release(&slots[i]);
    assert_int_equal(conn_limits_of(SA(a)), 0);
    assert_int_equal(conn_limits_of(SA(b)), 0);
    assert_int_equal(conn_limits_preauth(), 0);
}

static void test_ipv6_per_64_and_mapped(void **state)
{
    conn_slot s1, s2, s3, s4;
    struct sockaddr_storage a = v6("2001:db8:1:2::1"), b = v6("2001:db8:1:2:ffff::9");
    struct sockaddr_storage c = v6("2001:db8:1:3::1");
    assert_int_equal(conn_limits_acquire(&s1, SA(a), true, 1, 0), CL_OK);
    assert_int_equal(conn_limits_acquire(&s2, SA(b), true, 1, 0), CL_PER_IP);   /* same /64 */
    assert_int_equal(conn_limits_acquire(&s3, SA(c), true, 1, 0), CL_OK);       /* other /64 */
    struct sockaddr_storage m = v6("::ffff:198.51.100.1"), p = v4("198.51.100.1");
    assert_int_equal(conn_limits_acquire(&s4, SA(m), true, 1, 0), CL_OK);
    assert_int_equal(conn_limits_acquire(&s2, SA(p), true, 1, 0), CL_PER_IP);   /* mapped = v4 */
    conn_limits_release(&s1);
    conn_limits_release(&s3);
    conn_limits_release(&s4);
    assert_int_equal(conn_limits_preauth(), 0);
}

static void test_global_cap(void **state)
{
    conn_slot s[3];
    struct sockaddr_storage a = v4("203.0.113.1"), b = v4("203.0.113.2");
    assert_int_equal(conn_limits_acquire(&s[0], SA(a), true, 100, 2), CL_OK);
    assert_int_equal(conn_limits_acquire(&s[1], SA(b), false, 100, 2), CL_OK);
    assert_int_equal(conn_limits_acquire(&s[2], SA(b), true, 100, 2), CL_GLOBAL);
    assert_int_equal(conn_limits_preauth(), 2);
    assert_int_equal(conn_limits_of(SA(b)), 0);   /* per_ip false: not in the table */
    conn_limits_release(&s[1]);
    assert_int_equal(conn_limits_acquire(&s[2], SA(b), true, 100, 2), CL_OK);
    conn_limits_release(&s[0]);
    conn_limits_release(&s[2]);
    assert_int_equal(conn_limits_preauth(), 0);
}

static void test_web_sessions(void **state)
{
    assert_true(conn_limits_web_session_acquire(2));
    assert_true(conn_limits_web_session_acquire(2));
    assert_false(conn_limits_web_session_acquire(2));
    assert_true(conn_limits_web_session_acquire(0));   /* no limit */
    conn_limits_web_session_release();
    conn_limits_web_session_release();
    assert_true(conn_limits_web_session_acquire(2));
    conn_limits_web_session_release();
    conn_limits_web_session_release();
    assert_int_equal(conn_limits_web_sessions(), 0);
}

static void test_loopback_and_web_secure(void **state)
{
    struct sockaddr_storage l4 = v4("127.3.4.5"), l6 = v6("::1"), lm = v6("::ffff:127.0.0.1");
    struct sockaddr_storage n4 = v4("10.1.2.3"), n6 = v6("2001:db8::1"), any = v4("0.0.0.0");
    assert_true(conn_addr_is_loopback(SA(l4)));
    assert_true(conn_addr_is_loopback(SA(l6)));
    assert_true(conn_addr_is_loopback(SA(lm)));
    assert_false(conn_addr_is_loopback(SA(n4)));
    assert_false(conn_addr_is_loopback(SA(n6)));
    assert_false(conn_addr_is_loopback(SA(any)));
    assert_true(conn_peer_is_loopback("127.0.0.1:4711"));
    assert_true(conn_peer_is_loopback("127.0.0.1"));
    assert_true(conn_peer_is_loopback("::1:4711"));
    assert_true(conn_host_is_loopback("::1"));
    assert_true(conn_host_is_loopback("127.0.0.1"));
    assert_false(conn_host_is_loopback("0.0.0.0"));
    assert_false(conn_host_is_loopback("::"));
    assert_false(conn_host_is_loopback("192.0.2.1"));
    assert_true(conn_peer_is_loopback("[::1]:4711"));
    assert_false(conn_peer_is_loopback("0.0.0.0"));
    assert_false(conn_peer_is_loopback("::1"));   /* read as "::" port 1 */
    assert_false(conn_peer_is_loopback("192.0.2.1:80"));
    assert_false(conn_peer_is_loopback("2001:db8::1:443"));
    assert_false(conn_peer_is_loopback("1127.0.0.1:5"));
    assert_false(conn_peer_is_loopback(""));
    assert_false(conn_peer_is_loopback(NULL));
    /* with plucs/tls=required PLAIN over a web transport only from the
     * loopback proxy or over HTTPS */
    assert_true(conn_web_secure(false, true));
    assert_true(conn_web_secure(true, false));
    assert_false(conn_web_secure(false, false));
}

static void test_log_rate_limit(void **state)
{
    unsigned skipped = 99;
    assert_true(conn_limits_log_ok(CL_LOG_PER_IP, 60, &skipped));
    assert_int_equal(skipped, 0);
    for (int i = 0; i < 5; i++)
        assert_false(conn_limits_log_ok(CL_LOG_PER_IP, 60, &skipped));
    assert_true(conn_limits_log_ok(CL_LOG_GLOBAL, 60, &skipped));   /* kinds are separate */
    assert_true(conn_limits_log_ok(CL_LOG_PER_IP, 0, &skipped));
    assert_int_equal(skipped, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_ip_cap),
        cmocka_unit_test(test_ipv6_per_64_and_mapped),
        cmocka_unit_test(test_global_cap),
        cmocka_unit_test(test_web_sessions),
        cmocka_unit_test(test_loopback_and_web_secure),
        cmocka_unit_test(test_log_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
