/* test_sasl.c: unit tests for strict base64 and SASL PLAIN decoding
 * (src/xmpp/sasl.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "xmpp/sasl.h"

static void test_base64_vectors(void **state)
{
    /* RFC 4648 §10 */
    const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    for (int i = 0; i < 7; i++) {
        char *e = base64_encode(plain[i], strlen(plain[i]));
        assert_string_equal(e, enc[i]);
        free(e);
        size_t n = 99;
        char *d = base64_decode(enc[i], strlen(enc[i]), &n);
        assert_non_null(d);
        assert_int_equal(n, strlen(plain[i]));
        assert_string_equal(d, plain[i]);
        free(d);
    }
    /* binary round trip, all byte values */
    unsigned char bin[256];
    for (int i = 0; i < 256; i++)
        bin[i] = (unsigned char)i;
    for (size_t len = 0; len <= 256; len += 37) {
        char *e = base64_encode(bin, len);
        size_t n;
        char *d = base64_decode(e, strlen(e), &n);
        assert_non_null(d);
        assert_int_equal(n, len);
        assert_memory_equal(d, bin, len);
        free(d);
        free(e);
    }
    char *e = base64_encode("\xff\xfe\xfd", 3);
    assert_string_equal(e, "//79");
    free(e);
}

static void expect_b64_bad(const char *s)
{
    size_t n;
    char *d = base64_decode(s, strlen(s), &n);
    if (d) {
        free(d);
        fail_msg("malformed base64 accepted: '%s'", s);
    }
}

static void test_base64_strict(void **state)
{
    expect_b64_bad("Zg");         /* missing padding */
    expect_b64_bad("Zg=");
    expect_b64_bad("Zg===");
    expect_b64_bad("Z===");
    expect_b64_bad("====");
    expect_b64_bad("Zm9v\n");     /* whitespace */
    expect_b64_bad("Zm 9v");
    expect_b64_bad(" Zm9v");
    expect_b64_bad("Zg==Zg==");   /* padding in the middle */
    expect_b64_bad("Zm=v");
    expect_b64_bad("Zh==");       /* stray bits after the last byte */
    expect_b64_bad("Zm9=");
    expect_b64_bad("Zm9v!A==");
    expect_b64_bad("Zm9v-_==");   /* base64url alphabet */
    expect_b64_bad("=");
    /* an embedded NUL in the input */
    size_t n;
    assert_null(base64_decode("Zm\0v", 4, &n));
}

static sasl_plain_result plain(const char *raw, size_t rawlen, char **z, char **c, char **p)
{
    char *b = base64_encode(raw, rawlen);
    sasl_plain_result r = sasl_plain_decode(b, strlen(b), z, c, p);
    free(b);
    return r;
}

static void free3(char *a, char *b, char *c)
{
    free(a);
    free(b);
    free(c);
}

static void expect_plain_bad(const char *raw, size_t rawlen)
{
    char *z = (char *)1, *c = (char *)1, *p = (char *)1;
    assert_int_equal(plain(raw, rawlen, &z, &c, &p), SASL_PLAIN_MALFORMED);
    assert_null(z);
    assert_null(c);
    assert_null(p);
}

static void test_plain_ok(void **state)
{
    char *z, *c, *p;
    assert_int_equal(plain("\0alice\0secret", 13, &z, &c, &p), SASL_PLAIN_OK);
    assert_string_equal(z, "");
    assert_string_equal(c, "alice");
    assert_string_equal(p, "secret");
    free3(z, c, p);

    assert_int_equal(plain("admin@example.org\0alice\0s\xc3\xa9" "cret", 31, &z, &c, &p),
                     SASL_PLAIN_OK);
    assert_string_equal(z, "admin@example.org");
    assert_string_equal(c, "alice");
    assert_string_equal(p, "s\xc3\xa9" "cret");
    free3(z, c, p);

    /* RFC 4616 example */
    const char *b64 = "dGltAHRpbQB0YW5zdGFhZnRhbnN0YWFm";
    assert_int_equal(sasl_plain_decode(b64, strlen(b64), &z, &c, &p), SASL_PLAIN_OK);
    assert_string_equal(c, "tim");
    assert_string_equal(p, "tanstaaftanstaaf");
    free3(z, c, p);

    /* 1023-byte fields are fine */
    char big[3100];
    memset(big, 'z', 1023);
    big[1023] = 0;
    memset(big + 1024, 'c', 1023);
    big[2047] = 0;
    memset(big + 2048, 'p', 1023);
    assert_int_equal(plain(big, 3071, &z, &c, &p), SASL_PLAIN_OK);
    assert_int_equal(strlen(z), 1023);
    assert_int_equal(strlen(c), 1023);
    assert_int_equal(strlen(p), 1023);
    free3(z, c, p);
}

static void test_plain_bad(void **state)
{
    expect_plain_bad("alice\0secret", 12);            /* one NUL */
    expect_plain_bad("alicesecret", 11);              /* no NUL */
    expect_plain_bad("\0alice\0sec\0ret", 14);        /* three NULs */
    expect_plain_bad("\0\0secret", 8);                /* empty authcid */
    expect_plain_bad("\0alice\0", 7);                 /* empty password */
    expect_plain_bad("\0\0", 2);
    expect_plain_bad("\0al\xffice\0secret", 14);      /* invalid UTF-8 */
    expect_plain_bad("\0alice\0sec\xc3", 11);
    expect_plain_bad("\xed\xa0\x80\0alice\0secret", 16);

    char big[3200];
    memset(big, 0, sizeof big);
    memset(big + 1, 'c', 1024);                        /* authcid of 1024 */
    memset(big + 1026, 'p', 5);
    expect_plain_bad(big, 1031);
    memset(big, 0, sizeof big);
    memset(big + 1, 'c', 5);
    memset(big + 7, 'p', 1024);                        /* password of 1024 */
    expect_plain_bad(big, 1031);
    memset(big, 'z', 1024);                            /* authzid of 1024 */
    big[1024] = 0;
    memset(big + 1025, 'c', 5);
    big[1030] = 0;
    memset(big + 1031, 'p', 5);
    expect_plain_bad(big, 1036);

    char *z = NULL, *c = NULL, *p = NULL;
    assert_int_equal(sasl_plain_decode("=", 1, &z, &c, &p), SASL_PLAIN_MALFORMED);
    assert_int_equal(sasl_plain_decode("", 0, &z, &c, &p), SASL_PLAIN_MALFORMED);
    assert_int_equal(sasl_plain_decode("AGFsaWNlAHNlY3JldA", 18, &z, &c, &p), SASL_PLAIN_MALFORMED);
    assert_int_equal(sasl_plain_decode("AGFsaWNlAHNl Y3JldA==", 21, &z, &c, &p), SASL_PLAIN_MALFORMED);
    assert_int_equal(sasl_plain_decode("AGFsaWNlAHNlY3JldA==", 20, &z, &c, &p), SASL_PLAIN_OK);
    free3(z, c, p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_plain_ok),
        cmocka_unit_test(test_plain_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
