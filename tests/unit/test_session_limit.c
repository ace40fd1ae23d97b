/* test_session_limit.c: the per-user session limit in the routing table
 * (plucs/c2s/max_sessions, routes_add_limited): a new resource beyond the
 * limit evicts the oldest by bind order (a replaced full JID counts as newly
 * bound), replacement never evicts, a lowered limit evicts down to it, and
 * 0 means the table's ceiling (ROUTES_MAX_RESOURCES). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "router/routes.h"

static route_ref ev[ROUTES_MAX_RESOURCES];
static size_t nev;

static bool add(const char *res, uint64_t sid, size_t max)
{
    route_ref old;
    return routes_add_limited("alice@a.test", res, sid, 0, max, &old, ev, &nev);
}

static void test_oldest_evicted(void **state)
{
    routes_init();
    assert_false(add("a", 1, 2));
    assert_int_equal(nev, 0);
    assert_false(add("b", 2, 2));
    assert_int_equal(nev, 0);
    /* third login: the oldest (sid 1) goes, the two newest stay */
    assert_false(add("c", 3, 2));
    assert_int_equal(nev, 1);
    assert_int_equal(ev[0].sid, 1);
    assert_int_equal(routes_count("alice@a.test"), 2);
    route_ref r;
    assert_false(routes_find("alice@a.test", "a", &r));
    assert_true(routes_find("alice@a.test", "b", &r));
    /* the evicted session going away later changes nothing */
    routes_remove("alice@a.test", "a", 1);
    assert_int_equal(routes_count("alice@a.test"), 2);
    /* replacing a full JID never evicts, and makes that resource the newest */
    assert_true(add("b", 4, 2));
    assert_int_equal(nev, 0);
    assert_false(add("d", 5, 2));
    assert_int_equal(nev, 1);
    assert_int_equal(ev[0].sid, 3);       /* c is now the oldest */
    /* a lowered limit: the next login evicts down to it */
    assert_false(add("e", 6, 5));
    assert_false(add("f", 7, 5));
    assert_int_equal(routes_count("alice@a.test"), 4);
    assert_false(add("g", 8, 1));
    assert_int_equal(nev, 4);
    assert_int_equal(routes_count("alice@a.test"), 1);
    assert_true(routes_find("alice@a.test", "g", &r));
    assert_int_equal(r.sid, 8);
    routes_shutdown();
}

static void test_ceiling(void **state)
{
    routes_init();
    char res[16];
    for (uint64_t i = 1; i <= ROUTES_MAX_RESOURCES + 3; i++) {
        snprintf(res, sizeof res, "r%llu", (unsigned long long)i);
        add(res, i, 0);
    }
    assert_int_equal(routes_count("alice@a.test"), ROUTES_MAX_RESOURCES);
    route_ref r;
    assert_false(routes_find("alice@a.test", "r3", &r));
    assert_true(routes_find("alice@a.test", "r4", &r));
    /* routes_add (no limit given) keeps the ceiling too */
    route_ref old;
    assert_false(routes_add("alice@a.test", "x", 999, 0, &old));
    assert_int_equal(routes_count("alice@a.test"), ROUTES_MAX_RESOURCES);
    routes_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oldest_evicted),
        cmocka_unit_test(test_ceiling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
