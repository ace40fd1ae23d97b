/* test_idmap.c: the id -> pointer map each worker keeps its sessions in
 * (core/idmap.c): put, get, replace, delete; and under churn (sessions
 * logging in and out, as in a login storm) the table stays the size its
 * live entries need instead of growing with the number of logins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/idmap.h"

/* a distinct, recognisable pointer for each id */
static void *val_of(uint64_t id) { return (void *)(uintptr_t)(id * 16 + 8); }

static void test_put_get_replace_delete(void **state)
{
    idmap m;
    idmap_init(&m);
    assert_null(idmap_get(&m, 1));
    assert_null(idmap_del(&m, 1));
    for (uint64_t id = 1; id <= 1000; id++)
        idmap_put(&m, id, val_of(id));
    assert_int_equal(m.count, 1000);
    for (uint64_t id = 1; id <= 1000; id++)
        assert_ptr_equal(idmap_get(&m, id), val_of(id));
    assert_null(idmap_get(&m, 1001));
    idmap_put(&m, 500, val_of(7)); /* replace keeps one entry */
    assert_int_equal(m.count, 1000);
    assert_ptr_equal(idmap_get(&m, 500), val_of(7));
    for (uint64_t id = 1; id <= 1000; id += 2)
        assert_ptr_equal(idmap_del(&m, id), id == 500 ? val_of(7) : val_of(id));
    assert_int_equal(m.count, 500);
    for (uint64_t id = 1; id <= 1000; id++)
        assert_ptr_equal(idmap_get(&m, id), id % 2 ? NULL : id == 500 ? val_of(7) : val_of(id));
    size_t live = 0;
    for (size_t i = 0; i < m.cap; i++)
        live += (size_t)idmap_live(&m, i);
    assert_int_equal(live, 500);
    idmap_free(&m);
}

/* 1,000 sessions online while 300,000 more log in and out one by one
 * (ids only grow, as session ids do): every live entry stays reachable,
 * and the table stays at the size 1,000 entries need. Before the fix each
 * rebuild doubled the table, which reached 2^19 slots (8 MiB) here. */
static void test_churn_does_not_grow_the_table(void **state)
{
    idmap m;
    idmap_init(&m);
    uint64_t next = 1;
    for (int i = 0; i < 1000; i++, next++)
        idmap_put(&m, next, val_of(next));
    size_t most = m.cap;
    uint64_t oldest = 1;
    for (int i = 0; i < 300000; i++, next++, oldest++) {
        idmap_put(&m, next, val_of(next));
        assert_ptr_equal(idmap_del(&m, oldest), val_of(oldest));
        if (m.cap > most)
            most = m.cap;
        if (i % 9973 == 0)
            for (uint64_t id = oldest + 1; id <= next; id++)
                assert_ptr_equal(idmap_get(&m, id), val_of(id));
    }
    assert_int_equal(m.count, 1000);
    assert_true(most <= 8192);
    for (uint64_t id = 1; id < oldest; id += 97)
        assert_null(idmap_get(&m, id));
    idmap_free(&m);
}

/* when the sessions leave, the next rebuild gives the room back */
static void test_table_shrinks_when_entries_leave(void **state)
{
    idmap m;
    idmap_init(&m);
    for (uint64_t id = 1; id <= 20000; id++)
        idmap_put(&m, id, val_of(id));
    size_t big = m.cap;
    assert_true(big >= 40000);
    for (uint64_t id = 1; id <= 19990; id++)
        idmap_del(&m, id);
    for (uint64_t id = 20001; id <= 20000 + big; id++) { /* churn forces a rebuild */
        idmap_put(&m, id, val_of(id));
        idmap_del(&m, id);
    }
    assert_true(m.cap <= 1024);
    for (uint64_t id = 19991; id <= 20000; id++)
        assert_ptr_equal(idmap_get(&m, id), val_of(id));
    idmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_replace_delete),
        cmocka_unit_test(test_churn_does_not_grow_the_table),
        cmocka_unit_test(test_table_shrinks_when_entries_leave),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
