/* test_s2s_srv.c: SRV ordering for server-to-server connections
 * (src/transport/s2s_srv.c): RFC 2782 priority and weighted order, weight 0,
 * equal priorities, the "." target (service explicitly unavailable, no
 * fallback), the merge of _xmpps-server (direct TLS first) and
 * _xmpp-server, the fallback when neither exists, and the cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "transport/s2s_srv.h"

static s2s_srv rec(const char *target, int prio, int weight, int port)
{
    s2s_srv r;
    memset(&r, 0, sizeof r);
    snprintf(r.target, sizeof r.target, "%s", target);
    r.priority = prio;
    r.weight = weight;
    r.port = port;
    return r;
}

/* Scripted random numbers: returns the next value (clamped to max). */
typedef struct {
    const unsigned *v;
    size_t n, i;
} script;

static unsigned scripted(void *ud, unsigned max)
{
    script *s = ud;
    unsigned r = s->i < s->n ? s->v[s->i++] : 0;
    return r > max ? max : r;
}

/* A seeded xorshift source, for the statistical test (deterministic). */
static unsigned xorshift(void *ud, unsigned max)
{
    uint64_t *x = ud;
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return (unsigned)(*x % ((uint64_t)max + 1));
}

static void test_priority_ascending(void **state)
{
    s2s_srv r[] = { rec("c", 30, 0, 1), rec("a", 10, 0, 2), rec("b", 20, 0, 3) };
    s2s_srv_order(r, 3, NULL, NULL);
    assert_string_equal(r[0].target, "a");
    assert_string_equal(r[1].target, "b");
    assert_string_equal(r[2].target, "c");
    assert_int_equal(r[0].port, 2);
}

static void test_weighted_draw_scripted(void **state)
{
    /* one priority: zero weight first in the draw; r=0 picks it */
    s2s_srv r[] = { rec("heavy", 1, 90, 0), rec("zero", 1, 0, 0), rec("light", 1, 10, 0) };
    unsigned v0[] = { 0, 0 };
    script s0 = { v0, 2, 0 };
    s2s_srv_order(r, 3, scripted, &s0);
    assert_string_equal(r[0].target, "zero");

    /* running sums zero:0 light:10 heavy:100 (zero weight first, then the
     * rest in sort order); r=11 picks heavy, then r=0 picks zero */
    s2s_srv q[] = { rec("heavy", 1, 90, 0), rec("zero", 1, 0, 0), rec("light", 1, 10, 0) };
    unsigned v1[] = { 11, 0 };
    script s1 = { v1, 2, 0 };
    s2s_srv_order(q, 3, scripted, &s1);
    assert_int_equal(q[0].weight, 90);
    assert_string_equal(q[1].target, "zero");
    assert_string_equal(q[2].target, "light");
}

static void test_weights_statistics(void **state)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int first[3] = { 0 };
    for (int i = 0; i < 10000; i++) {
        s2s_srv r[] = { rec("a", 5, 0, 0), rec("b", 5, 10, 0), rec("c", 5, 90, 0) };
        s2s_srv_order(r, 3, xorshift, &seed);
        first[r[0].target[0] - 'a']++;
    }
    /* expected: a 1/101, b 10/101, c 90/101 of 10000 */
    assert_true(first[0] < 300);
    assert_in_range(first[1], 700, 1300);
    assert_in_range(first[2], 8400, 9400);
}

static void test_all_zero_weights_keep_every_record(void **state)
{
    s2s_srv r[] = { rec("a", 1, 0, 0), rec("b", 1, 0, 0), rec("c", 1, 0, 0), rec("d", 2, 0, 0) };
    s2s_srv_order(r, 4, NULL, NULL);
    int seen = 0;
    for (int i = 0; i < 3; i++)
        seen |= 1 << (r[i].target[0] - 'a');
    assert_int_equal(seen, 7);
    assert_string_equal(r[3].target, "d");
}

static void test_merge_direct_tls_first_on_equal_priority(void **state)
{
    s2s_srv tls[] = { rec("t10", 10, 0, 5223), rec("t5", 5, 0, 5223) };
    s2s_srv plain[] = { rec("p5", 5, 0, 5269), rec("p1", 1, 0, 5269), rec("p10", 10, 0, 5269) };
    s2s_srv out[16];
    int n = s2s_srv_merge((s2s_srv_set){ true, tls, 2 }, (s2s_srv_set){ true, plain, 3 }, out, 16,
                          NULL, NULL);
    assert_int_equal(n, 5);
    const char *want[] = { "p1", "t5", "p5", "t10", "p10" };
    for (int i = 0; i < 5; i++) {
        assert_string_equal(out[i].target, want[i]);
        assert_int_equal(out[i].direct_tls, want[i][0] == 't');
        assert_int_equal(out[i].port, want[i][0] == 't' ? 5223 : 5269);
    }
}

static void test_dot_target_and_fallback(void **state)
{
    s2s_srv dot[] = { rec(".", 0, 0, 0) };
    s2s_srv plain[] = { rec("h.x.test", 10, 5, 5270) };
    s2s_srv out[16];
    s2s_srv_set none = { false, NULL, 0 };
    /* neither exists: fall back to A/AAAA */
    assert_int_equal(s2s_srv_merge(none, none, out, 16, NULL, NULL), S2S_SRV_FALLBACK);
    /* "." alone: unavailable, no fallback */
    assert_int_equal(s2s_srv_merge((s2s_srv_set){ true, dot, 1 }, none, out, 16, NULL, NULL), 0);
    assert_int_equal(s2s_srv_merge(none, (s2s_srv_set){ true, dot, 1 }, out, 16, NULL, NULL), 0);
    assert_int_equal(s2s_srv_merge((s2s_srv_set){ true, dot, 1 }, (s2s_srv_set){ true, dot, 1 },
                                   out, 16, NULL, NULL),
                     0);
    /* "." for direct TLS, records for STARTTLS: those */
    assert_int_equal(s2s_srv_merge((s2s_srv_set){ true, dot, 1 }, (s2s_srv_set){ true, plain, 1 },
                                   out, 16, NULL, NULL),
                     1);
    assert_string_equal(out[0].target, "h.x.test");
    assert_false(out[0].direct_tls);
    assert_int_equal(out[0].port, 5270);
}

static void test_cap_keeps_the_best(void **state)
{
    s2s_srv plain[20];
    for (int i = 0; i < 20; i++) {
        char t[16];
        snprintf(t, sizeof t, "h%d", i);
        plain[i] = rec(t, 20 - i, 1, 5269);   /* h19 is the best (priority 1) */
    }
    s2s_srv out[4];
    int n = s2s_srv_merge((s2s_srv_set){ false, NULL, 0 }, (s2s_srv_set){ true, plain, 20 }, out, 4,
                          NULL, NULL);
    assert_int_equal(n, 4);
    assert_string_equal(out[0].target, "h19");
    assert_string_equal(out[3].target, "h16");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_ascending),
        cmocka_unit_test(test_weighted_draw_scripted),
        cmocka_unit_test(test_weights_statistics),
        cmocka_unit_test(test_all_zero_weights_keep_every_record),
        cmocka_unit_test(test_merge_direct_tls_first_on_equal_priority),
        cmocka_unit_test(test_dot_target_and_fallback),
        cmocka_unit_test(test_cap_keeps_the_best),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
