/* test_roster_state.c: the RFC 6121 §3 subscription state machine
 * (roster_apply), walked through the handshakes a server sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "modules/roster.h"

static void test_subscribe_handshake(void **state)
{
    /* alice asks bob; bob approves; both sides as the server keeps them */
    store_roster_item a = { 0 }, b = { 0 };
    bool ae = false, be = false;
    unsigned acts = roster_apply(&a, &ae, false, RS_OUT_SUBSCRIBE);
    assert_true(ae);
    assert_true(a.ask);
    assert_int_equal(a.subscription, STORE_SUB_NONE);
    assert_true(acts & RS_ACT_STORE);
    assert_true(acts & RS_ACT_ROUTE);

    acts = roster_apply(&b, &be, false, RS_IN_SUBSCRIBE);
    assert_false(be);                               /* no item created for a request */
    assert_true(acts & RS_ACT_DELIVER);
    assert_true(acts & RS_ACT_PENDING_ADD);

    acts = roster_apply(&b, &be, true, RS_OUT_SUBSCRIBED);
    assert_true(be);
    assert_int_equal(b.subscription, STORE_SUB_FROM);
    assert_true(acts & RS_ACT_PENDING_DEL);
    assert_true(acts & RS_ACT_PRESENCE);
    assert_true(acts & RS_ACT_ROUTE);

    acts = roster_apply(&a, &ae, false, RS_IN_SUBSCRIBED);
    assert_int_equal(a.subscription, STORE_SUB_TO);
    assert_false(a.ask);
    assert_true(acts & RS_ACT_DELIVER);

    /* a second 'subscribed' is unsolicited now: dropped */
    assert_int_equal(roster_apply(&a, &ae, false, RS_IN_SUBSCRIBED), 0);
    /* bob asking back makes both sides 'both' */
    roster_apply(&b, &be, false, RS_OUT_SUBSCRIBE);
    assert_true(b.ask);
    acts = roster_apply(&a, &ae, false, RS_IN_SUBSCRIBE);
    assert_false(acts & RS_ACT_AUTOREPLY);          /* a has 'to', not 'from' */
    roster_apply(&a, &ae, true, RS_OUT_SUBSCRIBED);
    assert_int_equal(a.subscription, STORE_SUB_BOTH);
    roster_apply(&b, &be, false, RS_IN_SUBSCRIBED);
    assert_int_equal(b.subscription, STORE_SUB_BOTH);
    /* asking again when already allowed is answered automatically */
    assert_true(roster_apply(&a, &ae, false, RS_IN_SUBSCRIBE) & RS_ACT_AUTOREPLY);
}

static void test_cancel_and_unsubscribe(void **state)
{
    store_roster_item a = { .subscription = STORE_SUB_BOTH }, b = { .subscription = STORE_SUB_BOTH };
    bool ae = true, be = true;
    /* alice stops seeing bob */
    unsigned acts = roster_apply(&a, &ae, false, RS_OUT_UNSUBSCRIBE);
    assert_int_equal(a.subscription, STORE_SUB_FROM);
    assert_true(acts & RS_ACT_ROUTE);
    acts = roster_apply(&b, &be, false, RS_IN_UNSUBSCRIBE);
    assert_int_equal(b.subscription, STORE_SUB_TO);
    assert_true(acts & RS_ACT_DELIVER);
    /* alice revokes bob's subscription to her */
    acts = roster_apply(&a, &ae, false, RS_OUT_UNSUBSCRIBED);
    assert_int_equal(a.subscription, STORE_SUB_NONE);
    assert_true(acts & RS_ACT_UNAVAILABLE);
    acts = roster_apply(&b, &be, false, RS_IN_UNSUBSCRIBED);
    assert_int_equal(b.subscription, STORE_SUB_NONE);
    assert_true(acts & RS_ACT_DELIVER);
    /* nothing left to cancel */
    assert_false(roster_apply(&b, &be, false, RS_IN_UNSUBSCRIBED) & RS_ACT_STORE);
}

static void test_preapproval_and_denial(void **state)
{
    store_roster_item b = { 0 };
    bool be = false;
    /* bob pre-approves alice before she asks (RFC 6121 §3.4) */
    unsigned acts = roster_apply(&b, &be, false, RS_OUT_SUBSCRIBED);
    assert_true(be);
    assert_true(b.approved);
    assert_false(acts & RS_ACT_ROUTE);
    acts = roster_apply(&b, &be, false, RS_IN_SUBSCRIBE);
    assert_true(acts & RS_ACT_AUTOREPLY);
    assert_int_equal(b.subscription, STORE_SUB_FROM);
    assert_false(b.approved);

    /* carol denies a pending request: the request is forgotten */
    store_roster_item c = { 0 };
    bool ce = false;
    acts = roster_apply(&c, &ce, true, RS_OUT_UNSUBSCRIBED);
    assert_true(acts & RS_ACT_PENDING_DEL);
    assert_true(acts & RS_ACT_ROUTE);
    assert_false(acts & RS_ACT_STORE);
}

static void test_set_creates_item(void **state)
{
    store_roster_item x = { 0 };
    bool e = false;
    assert_true(roster_apply(&x, &e, false, RS_SET) & RS_ACT_STORE);
    assert_true(e);
    assert_int_equal(x.subscription, STORE_SUB_NONE);
    assert_false(x.ask);
}

/* Defect 5: the item limits of a roster set and the roster quota. */
static void test_limits(void **state)
{
    char name[ROSTER_NAME_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = 0;
    char *one[] = { "Friends" };
    assert_true(roster_item_fits(NULL, NULL, 0));
    assert_true(roster_item_fits("Bob", one, 1));
    assert_false(roster_item_fits(name, one, 1));            /* 1024 bytes */
    name[ROSTER_NAME_MAX] = 0;
    assert_true(roster_item_fits(name, one, 1));             /* 1023 bytes */
    char *groups[ROSTER_GROUPS_MAX + 1];
    for (size_t i = 0; i <= ROSTER_GROUPS_MAX; i++)
        groups[i] = "g";
    assert_true(roster_item_fits(NULL, groups, ROSTER_GROUPS_MAX));
    assert_false(roster_item_fits(NULL, groups, ROSTER_GROUPS_MAX + 1));
    char *bad[] = { "ok", name };
    assert_true(roster_item_fits(NULL, bad, 2));
    name[ROSTER_NAME_MAX] = 'n';
    assert_false(roster_item_fits(NULL, bad, 2));            /* group name too long */
    char *empty[] = { "" };
    assert_false(roster_item_fits(NULL, empty, 1));

    assert_true(roster_quota_allows(0, false, 5));
    assert_true(roster_quota_allows(4, false, 5));
    assert_false(roster_quota_allows(5, false, 5));
    assert_true(roster_quota_allows(5, true, 5));            /* an edit adds nothing */
    assert_false(roster_quota_allows(9, false, 5));          /* lowered below the count */
    assert_true(roster_quota_allows(100000, false, 0));      /* 0: no limit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscribe_handshake),
        cmocka_unit_test(test_cancel_and_unsubscribe),
        cmocka_unit_test(test_preapproval_and_denial),
        cmocka_unit_test(test_set_creates_item),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
