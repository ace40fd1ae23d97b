/* test_auth_throttle.c: the SASL brute-force throttle's rules
 * (src/xmpp/auth_throttle.c) with the time injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/auth_throttle.h"

#define T0 1000000000LL

static void fail_n(auth_throttle *t, const char *ip, const char *acct, int n, int64_t now)
{
    for (int i = 0; i < n; i++)
        auth_throttle_result(t, ip, acct, false, now);
}

static void test_free_then_exponential(void **state)
{
    (void)state;
    auth_throttle *t = auth_throttle_new(64);
    int64_t now = T0;
    /* the first AT_FREE_FAILURES failures are free */
    for (int i = 0; i < AT_FREE_FAILURES; i++) {
        at_verdict v = auth_throttle_attempt(t, "192.0.2.1", "alice@d", now);
        assert_int_equal(v.delay_ms, 0);
        assert_false(v.refuse);
        auth_throttle_result(t, "192.0.2.1", "alice@d", false, now);
    }
    /* then 1 s, 2 s, 4 s, 8 s, 16 s, 30 s (cap), each after the last slot */
    int64_t want[] = { 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        at_verdict v = auth_throttle_attempt(t, "192.0.2.1", "bob@d", now);
        assert_false(v.refuse);
        assert_int_equal(v.delay_ms, want[i]);
        now += v.delay_ms;
        auth_throttle_result(t, "192.0.2.1", "bob@d", false, now);
        now += want[i];   /* the client comes back when its slot is free */
    }
    auth_throttle_free(t);
}

static void test_parallel_attempts_are_spaced(void **state)
{
    (void)state;
    auth_throttle *t = auth_throttle_new(64);
    fail_n(t, "192.0.2.1", "alice@d", AT_FREE_FAILURES, T0);   /* interval 1 s */
    /* ten connections at the same instant: slots 1 s apart, then refusal
     * once the wait would pass AT_MAX_WAIT_MS */
    int refused = 0;
    int64_t last = -1;
    for (int i = 0; i < 40; i++) {
        at_verdict v = auth_throttle_attempt(t, "192.0.2.1", "alice@d", T0);
        if (v.refuse) {
            refused++;
            assert_int_equal(v.delay_ms, AT_REFUSE_DELAY_MS);
            continue;
        }
        assert_true(v.delay_ms > last);
        assert_true(v.delay_ms <= AT_MAX_WAIT_MS);
        last = v.delay_ms;
    }
    assert_int_equal(last, AT_MAX_WAIT_MS);
    assert_int_equal(refused, 40 - AT_MAX_WAIT_MS / 1000);
    auth_throttle_free(t);
}

static void test_account_clean_ip_bypasses(void **state)
{
    (void)state;
    auth_throttle *t = auth_throttle_new(64);
    /* five addresses fail once each against alice: her account counts 5,
     * each address 1 (below the IP threshold) */
    char ip[32];
    for (int i = 0; i < 8; i++) {
        snprintf(ip, sizeof ip, "198.51.100.%d", i);
        auth_throttle_result(t, ip, "alice@d", false, T0);
    }
    /* a dirty address waits for alice's account slot */
    at_verdict v = auth_throttle_attempt(t, "198.51.100.1", "alice@d", T0);
    assert_true(v.delay_ms >= 1000);
    assert_int_equal(v.account_failures, 8);
    assert_true(v.log_account);
    /* the second dirty attempt waits longer: binds of alice are spaced */
    at_verdict v2 = auth_throttle_attempt(t, "198.51.100.2", "alice@d", T0);
    assert_true(v2.delay_ms > v.delay_ms);
    assert_false(v2.log_account);   /* logged once a minute */
    /* alice from a clean address: no wait at all */
    v = auth_throttle_attempt(t, "203.0.113.5", "alice@d", T0);
    assert_int_equal(v.delay_ms, 0);
    assert_false(v.refuse);
    /* another account from a dirty (but below threshold) address: free */
    v = auth_throttle_attempt(t, "198.51.100.1", "carol@d", T0);
    assert_int_equal(v.delay_ms, 0);
    /* alice's success clears her account, not the addresses */
    auth_throttle_result(t, "203.0.113.5", "alice@d", true, T0);
    v = auth_throttle_attempt(t, "198.51.100.1", "alice@d", T0);
    assert_int_equal(v.delay_ms, 0);
    auth_throttle_free(t);
}

static void test_unknown_and_known_alike(void **state)
{
    (void)state;
    /* the table knows nothing of accounts: two names, same history, same
     * verdicts */
    auth_throttle *t = auth_throttle_new(64);
    fail_n(t, "192.0.2.7", "exists@d", 6, T0);
    fail_n(t, "192.0.2.8", "nobody@d", 6, T0);
    at_verdict a = auth_throttle_attempt(t, "192.0.2.7", "exists@d", T0);
    at_verdict b = auth_throttle_attempt(t, "192.0.2.8", "nobody@d", T0);
    assert_int_equal(a.delay_ms, b.delay_ms);
    assert_int_equal(a.refuse, b.refuse);
    auth_throttle_free(t);
}

static void test_window_and_logging(void **state)
{
    (void)state;
    auth_throttle *t = auth_throttle_new(64);
    fail_n(t, "192.0.2.1", NULL, 7, T0);
    at_verdict v = auth_throttle_attempt(t, "192.0.2.1", NULL, T0);
    assert_int_equal(v.delay_ms, 4000);
    assert_true(v.log_ip);
    v = auth_throttle_attempt(t, "192.0.2.1", NULL, T0 + 10000);
    assert_false(v.log_ip);                                 /* same minute */
    v = auth_throttle_attempt(t, "192.0.2.1", NULL, T0 + AT_LOG_EVERY_MS + 1);
    assert_true(v.log_ip);                                  /* next minute */
    /* after the window without failures the address is clean again */
    v = auth_throttle_attempt(t, "192.0.2.1", NULL, T0 + AT_WINDOW_MS + 120000);
    assert_int_equal(v.delay_ms, 0);
    assert_false(v.log_ip);
    auth_throttle_free(t);
}

static void test_bounded_tables(void **state)
{
    (void)state;
    auth_throttle *t = auth_throttle_new(100);
    char ip[32], acct[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(ip, sizeof ip, "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
        snprintf(acct, sizeof acct, "u%d@d", i);
        auth_throttle_result(t, ip, acct, false, T0 + i);
        assert_true(auth_throttle_size(t) <= 200);
    }
    /* the most recent offender is still known */
    fail_n(t, ip, NULL, 10, T0 + 20000);
    at_verdict v = auth_throttle_attempt(t, ip, NULL, T0 + 20000);
    assert_true(v.delay_ms > 0);
    auth_throttle_free(t);
}

static void test_peer_key(void **state)
{
    (void)state;
    char k[64];
    auth_throttle_peer_key("192.0.2.1:5222", k, sizeof k);
    assert_string_equal(k, "192.0.2.1");
    auth_throttle_peer_key("::1:40000", k, sizeof k);
    assert_string_equal(k, "::/64");
    auth_throttle_peer_key("[2001:db8::1]:5222", k, sizeof k);
    assert_string_equal(k, "2001:db8::/64");
    auth_throttle_peer_key("2001:db8:0:7:aaaa:bbbb:cccc:dddd:5222", k, sizeof k);
    assert_string_equal(k, "2001:db8:0:7::/64");
    auth_throttle_peer_key("2001:db8:0:7:1:2:3:4 via 127.0.0.1:4711", k, sizeof k);
    assert_string_equal(k, "2001:db8:0:7::/64");
    auth_throttle_peer_key("::ffff:192.0.2.9:5222", k, sizeof k);
    assert_string_equal(k, "192.0.2.9");
    auth_throttle_peer_key("203.0.113.9 via 127.0.0.1:4711", k, sizeof k);
    assert_string_equal(k, "203.0.113.9");
    auth_throttle_peer_key("?", k, sizeof k);
    assert_string_equal(k, "?");
    auth_throttle_peer_key("192.0.2.1:5222", k, 4);
    assert_string_equal(k, "192");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_then_exponential),
        cmocka_unit_test(test_parallel_attempts_are_spaced),
        cmocka_unit_test(test_account_clean_ip_bypasses),
        cmocka_unit_test(test_unknown_and_known_alike),
        cmocka_unit_test(test_window_and_logging),
        cmocka_unit_test(test_bounded_tables),
        cmocka_unit_test(test_peer_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
