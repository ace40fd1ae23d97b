/* test_routing.c: the routing rules that need no sockets — which resource a
 * message to a bare JID goes to (RFC 6121 §8.5.2.1.1), and the routing
 * table's bookkeeping: replacement of a full JID (conflict), presence
 * copies for probes, removal only by the owning session. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "router/routes.h"

static void test_pick_top(void **state)
{
    route_ref r[5] = {
        { .sid = 1, .priority = 5, .available = true, .seq = 10 },
        { .sid = 2, .priority = 7, .available = false, .seq = 11 },  /* not available */
        { .sid = 3, .priority = 5, .available = true, .seq = 12 },   /* same prio: both */
        { .sid = 4, .priority = -1, .available = true, .seq = 13 },  /* negative: never */
        { .sid = 5, .priority = 0, .available = true, .seq = 14 },   /* lower */
    };
    size_t idx[5];
    assert_int_equal(routes_pick_top(r, 5, idx), 2);
    assert_int_equal(r[idx[0]].sid, 1);
    assert_int_equal(r[idx[1]].sid, 3);
    r[0].priority = 6;
    assert_int_equal(routes_pick_top(r, 5, idx), 1);
    assert_int_equal(r[idx[0]].sid, 1);
    assert_int_equal(routes_pick_top(&r[3], 1, idx), 0);
    assert_int_equal(routes_pick_top(&r[1], 1, idx), 0);
    assert_int_equal(routes_pick_top(r, 0, idx), 0);
    assert_int_equal(routes_pick_top(&r[3], 2, idx), 1);   /* priority 0 counts */
    assert_int_equal(r[3 + idx[0]].sid, 5);
}

static void test_table(void **state)
{
    routes_init();
    route_ref old;
    assert_false(routes_add("alice@a.test", "desk", 1, 0, &old));
    assert_false(routes_add("alice@a.test", "phone", 2, 1, &old));
    assert_int_equal(routes_count("alice@a.test"), 2);
    /* the same full JID again: replaced, the old session is named */
    assert_true(routes_add("alice@a.test", "desk", 3, 1, &old));
    assert_int_equal(old.sid, 1);
    assert_int_equal(routes_count("alice@a.test"), 2);
    /* the replaced session going away must not remove its successor */
    routes_remove("alice@a.test", "desk", 1);
    route_ref r;
    assert_true(routes_find("alice@a.test", "desk", &r));
    assert_int_equal(r.sid, 3);

    /* presence kept for probes: only available resources, copies */
    xnode *p = xnode_new("presence", "jabber:client");
    xnode_set_attr(p, "from", "alice@a.test/desk");
    routes_set_presence("alice@a.test", 3, true, 4, p);
    xnode_free(p);
    xnode *got[4];
    assert_int_equal(routes_presences("alice@a.test", got, 4), 1);
    assert_string_equal(xnode_attr(got[0], "from"), "alice@a.test/desk");
    xnode_free(got[0]);
    assert_true(routes_find("alice@a.test", "desk", &r));
    assert_int_equal(r.priority, 4);
    assert_true(r.available);
    routes_set_presence("alice@a.test", 3, false, 4, NULL);
    assert_int_equal(routes_presences("alice@a.test", got, 4), 0);

    routes_remove("alice@a.test", "desk", 3);
    routes_remove("alice@a.test", "phone", 2);
    assert_int_equal(routes_count("alice@a.test"), 0);
    route_ref refs[4];
    assert_int_equal(routes_lookup("alice@a.test", refs, 4), 0);
    routes_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_top),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
