/* test_push.c: unit tests for push notifications (XEP-0357) below the
 * module: the registrations in the store (src/store/store_push.c and
 * store_sqlite_push.c: round trip, replacement, the per-account limit,
 * removal of one node or of an app server, store_user_forget) and the
 * in-memory state of modules/push_state.c (message-count, the summary,
 * the rate limit with its trailing push, forgetting, the pending ring).
 * Store results come back through a real worker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/push_state.h"
#include "store/store_push.h"
#include "store/store_user.h"
#include "store_wait.h"

static store_push_regs *regs_res;

static void regs_cb(void *arg, store_push_regs *r)
{
    pthread_mutex_lock(&W.m);
    regs_res = r;
    wait_signal(arg, r->status);
}

static store_push_regs *list(const char *user)
{
    store_push_list(w0(), user, regs_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    return regs_res;
}

static store_status add(const char *user, const char *jid, const char *node, const char *form)
{
    store_push_add(w0(), user, jid, node, form, 3, done_cb, NULL, NULL);
    wait_result();
    return W.st;
}

static int64_t del(const char *user, const char *jid, const char *node)
{
    store_push_remove(w0(), user, jid, node, done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    return W.value;
}

static char spec[600];

static int setup(void **state)
{
    tmpdir_make("/tmp/plucs-push-XXXXXX");
    snprintf(spec, sizeof spec, "sqlite:%s/plucs.db", tmpdir);
    char err[512] = "";
    if (store_start(spec, err, sizeof err) != 0)
        fail_msg("store_start: %s", err);
    return 0;
}

static void test_store_round_trip(void **state)
{
    store_push_regs *r = list("bob@a.test");
    assert_int_equal(r->n, 0);
    store_push_regs_free(r);

    assert_int_equal(add("bob@a.test", "push.example", "n1", "<x xmlns='jabber:x:data'/>"),
                     STORE_OK);
    assert_int_equal(W.value, 1);
    assert_int_equal(add("bob@a.test", "push.example", "n1", NULL), STORE_OK);   /* replaces */
    assert_int_equal(W.value, 1);
    assert_int_equal(add("bob@a.test", "app.example", "n2", NULL), STORE_OK);
    assert_int_equal(add("alice@a.test", "push.example", "n1", NULL), STORE_OK);
    r = list("bob@a.test");
    assert_int_equal(r->n, 2);
    assert_string_equal(r->items[0].jid, "app.example");      /* sorted */
    assert_string_equal(r->items[1].jid, "push.example");
    assert_string_equal(r->items[1].node, "n1");
    assert_string_equal(r->items[1].form, "");
    store_push_regs_free(r);
}

static void test_store_limit_and_remove(void **state)
{
    assert_int_equal(add("bob@a.test", "p", "1", NULL), STORE_OK);
    assert_int_equal(add("bob@a.test", "p", "2", NULL), STORE_OK);
    assert_int_equal(add("bob@a.test", "q", "1", NULL), STORE_OK);
    assert_int_equal(add("bob@a.test", "q", "2", NULL), STORE_FULL);  /* max 3 */
    assert_int_equal(add("bob@a.test", "q", "1", "<x/>"), STORE_OK);  /* replacing is fine */
    store_push_regs *r = list("bob@a.test");
    assert_int_equal(r->n, 3);
    store_push_regs_free(r);

    assert_int_equal(del("bob@a.test", "p", "1"), 1);
    assert_int_equal(del("bob@a.test", "p", "1"), 0);
    assert_int_equal(add("bob@a.test", "p", "3", NULL), STORE_OK);
    assert_int_equal(del("bob@a.test", "p", NULL), 2);                /* every node of p */
    r = list("bob@a.test");
    assert_int_equal(r->n, 1);
    assert_string_equal(r->items[0].jid, "q");
    store_push_regs_free(r);

    store_user_forget(w0(), "bob@a.test", done_cb, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    r = list("bob@a.test");
    assert_int_equal(r->n, 0);
    store_push_regs_free(r);
}

static void test_state_count_and_summary(void **state)
{
    push_summary s;
    assert_false(push_state_summary("bob@a.test", &s));
    push_state_note("bob@a.test", "alice@a.test", "one");
    push_state_note("bob@a.test", "carol@a.test", NULL);
    assert_true(push_state_summary("bob@a.test", &s));
    assert_int_equal(s.count, 2);
    assert_string_equal(s.sender, "carol@a.test");
    assert_null(s.body);
    push_summary_clear(&s);
    push_state_reset("bob@a.test");
    assert_false(push_state_summary("bob@a.test", &s));
    push_state_clear();
}

static void test_state_rate_limit(void **state)
{
    int64_t wait;
    bool schedule;
    push_state_note("bob@a.test", "alice@a.test", "x");
    assert_true(push_state_may_send("bob@a.test", "p", "n", 1000, 2000, &wait, &schedule));
    assert_false(push_state_may_send("bob@a.test", "p", "n", 1500, 2000, &wait, &schedule));
    assert_int_equal(wait, 1500);
    assert_true(schedule);                          /* the first arms the timer */
    assert_false(push_state_may_send("bob@a.test", "p", "n", 1600, 2000, &wait, &schedule));
    assert_false(schedule);                         /* only one timer */
    /* another node is limited on its own */
    assert_true(push_state_may_send("bob@a.test", "p", "m", 1600, 2000, &wait, &schedule));
    assert_true(push_state_trailing("bob@a.test", "p", "n", 3000));
    assert_false(push_state_trailing("bob@a.test", "p", "n", 3000));  /* no timer armed */
    assert_false(push_state_may_send("bob@a.test", "p", "n", 4000, 2000, &wait, &schedule));
    assert_true(schedule);
    /* disabled meanwhile: the trailing push finds nothing */
    push_state_forget("bob@a.test", "p", NULL);
    assert_false(push_state_trailing("bob@a.test", "p", "n", 5000));
    /* forgotten: a new registration starts unlimited */
    assert_true(push_state_may_send("bob@a.test", "p", "n", 5000, 2000, &wait, &schedule));
    assert_false(push_state_may_send("bob@a.test", "p", "n", 5100, 2000, &wait, &schedule));
    assert_true(schedule);
    /* the account came back meanwhile: the trailing push sends nothing */
    push_state_reset("bob@a.test");
    assert_false(push_state_trailing("bob@a.test", "p", "n", 8000));
    /* interval 0: no limit */
    push_state_note("bob@a.test", "alice@a.test", "x");
    assert_true(push_state_may_send("bob@a.test", "p", "n", 1, 0, &wait, &schedule));
    assert_true(push_state_may_send("bob@a.test", "p", "n", 1, 0, &wait, &schedule));
    push_state_clear();
}

static void test_pending_ring(void **state)
{
    uint64_t id = push_pending_add("bob@a.test", "p", "n");
    char *bare, *jid, *node;
    assert_true(push_pending_take(id, &bare, &jid, &node));
    assert_string_equal(bare, "bob@a.test");
    assert_string_equal(jid, "p");
    assert_string_equal(node, "n");
    free(bare);
    free(jid);
    free(node);
    assert_false(push_pending_take(id, &bare, &jid, &node));   /* taken once */
    assert_false(push_pending_take(0, &bare, &jid, &node));
    /* the ring forgets the oldest */
    uint64_t first = push_pending_add("bob@a.test", "p", "n");
    for (int i = 0; i < 300; i++)
        push_pending_add("bob@a.test", "p", "n");
    assert_false(push_pending_take(first, &bare, &jid, &node));
    push_state_clear();
}

static int group_setup(void **state) { return workers_start(1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_round_trip, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_limit_and_remove, setup, teardown_dir),
        cmocka_unit_test(test_state_count_and_summary),
        cmocka_unit_test(test_state_rate_limit),
        cmocka_unit_test(test_pending_ring),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
