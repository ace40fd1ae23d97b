/* test_dir_sync.c: the RFC 4533 decoding of the change feed
 * (dir_sync_state_decode, dir_sync_info_decode in src/directory/dir_sync.c):
 * what well-formed values decode to (state, UUID text, cookie, refreshDone,
 * refreshDeletes, syncIdSet), and the inputs found by tests/fuzz/fuzz_sync.c:
 * an empty value (lber read through a NULL buffer: a crash of the directory
 * thread on a server's empty control) and a value whose last element is an
 * in-place string (lber writes a NUL after it: the decoders work on their
 * own copy). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_internal.h"

static struct berval uuid = { 16, "\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef" };
static struct berval cookie = { 21, "rid=000,csn=20260101Z" };

static struct berval *flat(BerElement *b)
{
    struct berval *bv = NULL;
    assert_int_equal(ber_flatten(b, &bv), 0);
    ber_free(b, 1);
    return bv;
}

static void test_state(void **state)
{
    BerElement *b = ber_alloc_t(LBER_USE_DER);
    ber_printf(b, "{eOtO}", (ber_int_t)LDAP_SYNC_ADD, &uuid, (ber_tag_t)LDAP_TAG_SYNC_COOKIE, &cookie);
    struct berval *v = flat(b);
    int st = -1;
    char key[40];
    struct berval c;
    assert_int_equal(dir_sync_state_decode(v, &st, key, &c), 0);
    assert_int_equal(st, LDAP_SYNC_ADD);
    assert_string_equal(key, "01234567-89ab-cdef-0123-456789abcdef");
    assert_int_equal(c.bv_len, cookie.bv_len);
    assert_memory_equal(c.bv_val, cookie.bv_val, cookie.bv_len);
    ber_memfree(c.bv_val);
    ber_bvfree(v);

    b = ber_alloc_t(LBER_USE_DER);
    ber_printf(b, "{eO}", (ber_int_t)LDAP_SYNC_DELETE, &uuid);
    v = flat(b);
    assert_int_equal(dir_sync_state_decode(v, &st, key, &c), 0);
    assert_int_equal(st, LDAP_SYNC_DELETE);
    assert_int_equal(c.bv_len, 0);
    ber_bvfree(v);
}

static void test_info(void **state)
{
    BerElement *b = ber_alloc_t(LBER_USE_DER);
    ber_printf(b, "t{tOtb}", (ber_tag_t)LDAP_TAG_SYNC_REFRESH_PRESENT, (ber_tag_t)LDAP_TAG_SYNC_COOKIE,
               &cookie, (ber_tag_t)LDAP_TAG_REFRESHDONE, (ber_int_t)0);
    struct berval *v = flat(b);
    dir_sync_info in;
    assert_int_equal(dir_sync_info_decode(v, &in), 0);
    assert_int_equal(in.tag, LDAP_TAG_SYNC_REFRESH_PRESENT);
    assert_false(in.done);   /* read after the cookie's in-place NUL */
    assert_int_equal(in.cookie.bv_len, cookie.bv_len);
    ber_memfree(in.cookie.bv_val);
    ber_bvfree(v);

    struct berval uu[3] = { uuid, uuid, { 0, NULL } };
    b = ber_alloc_t(LBER_USE_DER);
    ber_printf(b, "t{tb[W]}", (ber_tag_t)LDAP_TAG_SYNC_ID_SET, (ber_tag_t)LDAP_TAG_REFRESHDELETES,
               (ber_int_t)1, uu);
    v = flat(b);
    assert_int_equal(dir_sync_info_decode(v, &in), 0);
    assert_true(in.deletes);
    assert_true(in.done);
    assert_non_null(in.uuids);
    assert_int_equal(in.uuids[0].bv_len, 16);
    assert_int_equal(in.uuids[1].bv_len, 16);
    assert_null(in.uuids[2].bv_val);
    ber_bvarray_free(in.uuids);
    ber_memfree(in.cookie.bv_val);
    ber_bvfree(v);

    b = ber_alloc_t(LBER_USE_DER);
    ber_printf(b, "tO", (ber_tag_t)LDAP_TAG_SYNC_NEW_COOKIE, &cookie);
    v = flat(b);
    assert_int_equal(dir_sync_info_decode(v, &in), 0);
    assert_int_equal(in.tag, LDAP_TAG_SYNC_NEW_COOKIE);
    assert_memory_equal(in.cookie.bv_val, cookie.bv_val, cookie.bv_len);
    ber_memfree(in.cookie.bv_val);
    ber_bvfree(v);
}

static void test_empty_and_garbage(void **state)
{
    struct berval empty = { 0, "" }, none = { 0, NULL };
    int st;
    char key[40];
    struct berval c;
    dir_sync_info in;
    assert_int_equal(dir_sync_state_decode(&empty, &st, key, &c), -1);
    assert_int_equal(dir_sync_state_decode(&none, &st, key, &c), -1);
    assert_int_equal(dir_sync_info_decode(&empty, &in), -1);
    assert_int_equal(dir_sync_info_decode(&none, &in), -1);
    assert_null(in.uuids);
    struct berval junk = { 3, "\x30\x84\xff" };
    assert_int_equal(dir_sync_state_decode(&junk, &st, key, &c), -1);
    assert_int_equal(dir_sync_info_decode(&junk, &in), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_empty_and_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
