/* test_sm.c: the pure XEP-0198 counting of sm_queue.c: acknowledgements
 * drop exactly what they cover, an h beyond what was sent is refused,
 * counters wrap at 2^32, h attributes parse strictly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "transport/sm.h"

static void push_n(sm_queue *q, int n)
{
    for (int i = 0; i < n; i++) {
        char b[32];
        int len = snprintf(b, sizeof b, "<message id='%d'/>", i);
        sm_queue_push(q, b, (size_t)len, i);
    }
}

static void test_ack_drops_covered(void **state)
{
    (void)state;
    sm_queue q;
    sm_queue_init(&q);
    push_n(&q, 5);
    assert_int_equal(q.count, 5);
    assert_int_equal(q.sent, 5);
    assert_int_equal(sm_queue_ack(&q, 3), 0);
    assert_int_equal(q.count, 2);
    assert_string_equal(q.head->data, "<message id='3'/>");
    /* the same h again acknowledges nothing new */
    assert_int_equal(sm_queue_ack(&q, 3), 0);
    assert_int_equal(q.count, 2);
    assert_int_equal(sm_queue_ack(&q, 5), 0);
    assert_int_equal(q.count, 0);
    assert_null(q.head);
    assert_null(q.tail);
    assert_int_equal(q.bytes, 0);
    sm_queue_clear(&q);
}

static void test_ack_beyond_sent_refused(void **state)
{
    (void)state;
    sm_queue q;
    sm_queue_init(&q);
    push_n(&q, 2);
    assert_int_equal(sm_queue_ack(&q, 3), -1);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.acked, 0);
    /* an h below the last one is "more than sent" modulo 2^32 */
    assert_int_equal(sm_queue_ack(&q, 2), 0);
    assert_int_equal(sm_queue_ack(&q, 1), -1);
    sm_queue_clear(&q);
}

static void test_wraparound(void **state)
{
    (void)state;
    sm_queue q;
    sm_queue_init(&q);
    q.sent = UINT32_MAX - 1;
    q.acked = UINT32_MAX - 1;
    q.handled = UINT32_MAX;
    q.handled++;
    assert_int_equal(q.handled, 0);
    push_n(&q, 4);                      /* sent: MAX, 0, 1, 2 */
    assert_int_equal(q.sent, 2);
    assert_int_equal(sm_queue_ack(&q, UINT32_MAX), 0);
    assert_int_equal(q.count, 3);
    assert_int_equal(sm_queue_ack(&q, 1), 0);
    assert_int_equal(q.count, 1);
    assert_string_equal(q.head->data, "<message id='3'/>");
    assert_int_equal(sm_queue_ack(&q, 3), -1);
    assert_int_equal(sm_queue_ack(&q, 2), 0);
    assert_int_equal(q.count, 0);
    sm_queue_clear(&q);
}

static void test_pop_order(void **state)
{
    (void)state;
    sm_queue q;
    sm_queue_init(&q);
    push_n(&q, 3);
    for (int i = 0; i < 3; i++) {
        sm_item *it = sm_queue_pop(&q);
        char want[32];
        snprintf(want, sizeof want, "<message id='%d'/>", i);
        assert_string_equal(it->data, want);
        assert_int_equal(it->len, strlen(want));
        free(it);
    }
    assert_null(sm_queue_pop(&q));
    sm_queue_clear(&q);
}

static void test_parse_h(void **state)
{
    (void)state;
    uint32_t h = 7;
    assert_int_equal(sm_parse_h("0", &h), 0);
    assert_int_equal(h, 0);
    assert_int_equal(sm_parse_h("4294967295", &h), 0);
    assert_int_equal(h, UINT32_MAX);
    assert_int_equal(sm_parse_h("4294967296", &h), -1);
    assert_int_equal(sm_parse_h("", &h), -1);
    assert_int_equal(sm_parse_h(NULL, &h), -1);
    assert_int_equal(sm_parse_h("-1", &h), -1);
    assert_int_equal(sm_parse_h("12a", &h), -1);
    assert_int_equal(sm_parse_h("99999999999", &h), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ack_drops_covered),
        cmocka_unit_test(test_ack_beyond_sent_refused),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_pop_order),
        cmocka_unit_test(test_parse_h),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
