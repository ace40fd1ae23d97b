/* test_upload_parse.c: the network-facing parsers of HTTP file upload
 * (src/upload/upload_parse.c): upload URL paths (with traversal and
 * encoding tricks), the PUT secret in the query, Range headers, file names
 * and content types of slot requests, percent-encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "upload/upload_parse.h"

#define ID "0123456789abcdef0123456789abcdef"

static void test_paths(void **state)
{
    char id[UPLOAD_ID_LEN + 1];
    assert_int_equal(upload_path_parse("/upload/" ID "/a%20b.png", id), UPLOAD_PATH_OK);
    assert_string_equal(id, ID);
    /* not an upload file */
    const char *nf[] = { "/upload/", "/upload/" ID, "/upload/" ID "/", "/upload/x/y",
                         "/upload/0123456789ABCDEF0123456789ABCDEF/x", "/upload/" ID "/a/b",
                         "/uploadx/" ID "/a", "/upload/" ID "0/a", NULL };
    for (int i = 0; nf[i]; i++)
        assert_int_equal(upload_path_parse(nf[i], id), UPLOAD_PATH_NOT_FOUND);
    /* tricks */
    const char *bad[] = { "/upload/../etc/passwd", "/upload/%2e%2e/x", "/upload/%2E%2E/x",
                          "/upload/" ID "%2fx", "/upload/" ID "/a%2Fb", "/upload/" ID "/a%00.png",
                          "/upload/" ID "/..\\x", "/upload/" ID "/a%5cb", "/upload/" ID "/%252e",
                          "/x/../upload/" ID "/a", NULL };
    for (int i = 0; bad[i]; i++)
        assert_int_equal(upload_path_parse(bad[i], id), UPLOAD_PATH_HOSTILE);
}

static void test_token(void **state)
{
    char t[UPLOAD_ID_LEN + 1];
    assert_true(upload_query_token("/upload/" ID "/a?token=" ID, t));
    assert_string_equal(t, ID);
    assert_true(upload_query_token("/upload/x/a?v=1&token=" ID "&w=2", t));
    assert_false(upload_query_token("/upload/x/a", t));
    assert_false(upload_query_token("/upload/x/a?token=abc", t));
    assert_false(upload_query_token("/upload/x/a?token=" ID "0", t));
    assert_false(upload_query_token("/upload/x/a?xtoken=" ID, t));
}

static void test_ranges(void **state)
{
    uint64_t s = 0, l = 0;
    assert_int_equal(upload_range_parse(NULL, 10, &s, &l), UPLOAD_RANGE_NONE);
    assert_int_equal(upload_range_parse("bytes=2-5", 10, &s, &l), UPLOAD_RANGE_PARTIAL);
    assert_true(s == 2 && l == 4);
    assert_int_equal(upload_range_parse("bytes=7-", 10, &s, &l), UPLOAD_RANGE_PARTIAL);
    assert_true(s == 7 && l == 3);
    assert_int_equal(upload_range_parse("bytes=5-100", 10, &s, &l), UPLOAD_RANGE_PARTIAL);
    assert_true(s == 5 && l == 5);
    assert_int_equal(upload_range_parse("bytes=-3", 10, &s, &l), UPLOAD_RANGE_PARTIAL);
    assert_true(s == 7 && l == 3);
    assert_int_equal(upload_range_parse("bytes=-30", 10, &s, &l), UPLOAD_RANGE_PARTIAL);
    assert_true(s == 0 && l == 10);
    assert_int_equal(upload_range_parse("bytes=10-", 10, &s, &l), UPLOAD_RANGE_UNSATISFIABLE);
    assert_int_equal(upload_range_parse("bytes=-0", 10, &s, &l), UPLOAD_RANGE_UNSATISFIABLE);
    assert_int_equal(upload_range_parse("bytes=0-0", 0, &s, &l), UPLOAD_RANGE_UNSATISFIABLE);
    /* ignored: the whole file */
    const char *ign[] = { "bytes=0-1,3-4", "bytes=5-2", "items=0-1", "bytes=x-1", "bytes=1-2x",
                          "bytes=99999999999999999999-", "bytes=", "bytes=-", NULL };
    for (int i = 0; ign[i]; i++)
        assert_int_equal(upload_range_parse(ign[i], 10, &s, &l), UPLOAD_RANGE_NONE);
}

static void test_names_and_types(void **state)
{
    assert_true(upload_filename_ok("photo 1.jpg"));
    assert_true(upload_filename_ok("\xc3\xa4rger.txt"));
    assert_false(upload_filename_ok(""));
    assert_false(upload_filename_ok("."));
    assert_false(upload_filename_ok(".."));
    assert_false(upload_filename_ok("a/b"));
    assert_false(upload_filename_ok("a\\b"));
    assert_false(upload_filename_ok("a\nb"));
    assert_false(upload_filename_ok("\xff\xfe"));
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_false(upload_filename_ok(longname));
    assert_true(upload_ctype_ok("image/png"));
    assert_true(upload_ctype_ok("text/plain; charset=utf-8"));
    assert_true(upload_ctype_ok("application/vnd.oasis.opendocument.text"));
    assert_false(upload_ctype_ok("text"));
    assert_false(upload_ctype_ok("/png"));
    assert_false(upload_ctype_ok("image/"));
    assert_false(upload_ctype_ok("text/plain\r\nX-Evil: 1"));
    assert_false(upload_ctype_ok("text/plain X-Evil: 1"));
    assert_false(upload_ctype_ok("a/b/c"));
    assert_true(upload_ctype_inline("image/png"));
    assert_true(upload_ctype_inline("video/mp4"));
    assert_true(upload_ctype_inline("text/plain; charset=utf-8"));
    assert_false(upload_ctype_inline("text/html"));
    assert_false(upload_ctype_inline("image/svg+xml"));
    assert_false(upload_ctype_inline("image/pngx"));
    assert_false(upload_ctype_inline("application/octet-stream"));
}

static void test_pct_encode(void **state)
{
    buf b;
    buf_init(&b);
    upload_pct_encode(&b, "a b/\xc3\xa4~.-_?#%");
    buf_append(&b, "", 1);
    assert_string_equal(b.data, "a%20b%2F%C3%A4~.-_%3F%23%25");
    buf_free(&b);
    char hex[33];
    assert_int_equal(upload_random_hex(hex, 16), 0);
    assert_int_equal(strlen(hex), 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_names_and_types),
        cmocka_unit_test(test_pct_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
