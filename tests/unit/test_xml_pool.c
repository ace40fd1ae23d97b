/* test_xml_pool.c: the slab pool for expat's allocations (xml/xml_pool.c):
 * objects are aligned, as large as asked, never overlap, and come back to
 * be used again; chunks whose objects are all freed are unmapped (one
 * spare per class until xpool_trim); a free from another thread goes back
 * to the owner; sizes outside 1..XPOOL_MAX are refused. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xml/xml_pool.h"

#define N 3000

static size_t size_of(int i) { return (size_t)(1 + (i * 37) % XPOOL_MAX); }

static void test_objects_are_distinct_and_reused(void **state)
{
    static unsigned char *obj[N];
    assert_int_equal(xpool_chunks(), 0);
    for (int i = 0; i < N; i++) {
        obj[i] = xpool_alloc(size_of(i));
        assert_non_null(obj[i]);
        assert_int_equal((uintptr_t)obj[i] % 16, 0);
        assert_true(xpool_usable(obj[i]) >= size_of(i));
        memset(obj[i], (unsigned char)i, size_of(i));
    }
    assert_true(xpool_chunks() > 1);
    for (int i = 0; i < N; i++)   /* nobody wrote over anybody */
        for (size_t k = 0; k < size_of(i); k++)
            assert_int_equal(obj[i][k], (unsigned char)i);
    /* a freed object is the next one of its class */
    void *again = obj[7];
    xpool_free(obj[7]);
    obj[7] = xpool_alloc(size_of(7));
    assert_ptr_equal(obj[7], again);
    for (int i = 0; i < N; i++)
        xpool_free(obj[i]);
    size_t spares = xpool_chunks();
    assert_true(spares > 0);   /* at most one empty chunk per class is kept */
    assert_true(spares <= 19);
    xpool_trim();
    assert_int_equal(xpool_chunks(), 0);
}

static void test_out_of_range(void **state)
{
    assert_null(xpool_alloc(0));
    assert_null(xpool_alloc(XPOOL_MAX + 1));
    void *p = xpool_alloc(XPOOL_MAX);
    assert_non_null(p);
    assert_true(xpool_usable(p) >= XPOOL_MAX);
    xpool_free(p);
    xpool_free(NULL);
    xpool_trim();
    assert_int_equal(xpool_chunks(), 0);
}

static void *free_all(void *arg)
{
    void **v = arg;
    for (int i = 0; i < N; i++)
        xpool_free(v[i]);
    return NULL;
}

static void test_free_from_another_thread(void **state)
{
    static void *obj[N];
    for (int i = 0; i < N; i++)
        assert_non_null(obj[i] = xpool_alloc(100));
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_all, obj), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(xpool_chunks() > 0);   /* still ours, waiting on the remote list */
    xpool_trim();                      /* takes them back, then unmaps */
    assert_int_equal(xpool_chunks(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_are_distinct_and_reused),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_free_from_another_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
