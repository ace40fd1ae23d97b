/* test_dir_text.c: the one check and cleaner for directory strings that
 * reach XML (dir_text.h): controls XML 1.0 forbids, invalid UTF-8
 * (overlongs, encoded surrogates, truncated sequences, > U+10FFFF),
 * U+FFFE / U+FFFF, and that valid text passes unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_text.h"

static void clean_is(const char *in, size_t len, const char *want)
{
    size_t n = 0;
    char *out = dir_text_clean(in, len, &n);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    assert_true(dir_text_ok(out, n));
    free(out);
}

#define CLEAN(in, want) clean_is(in, sizeof(in) - 1, want)
#define R "\xef\xbf\xbd"   /* U+FFFD */

static void test_ok(void **state)
{
    static const char good[] = "J\xc3\xbcrgen M\xc3\xbcller\t\r\n \xe2\x82\xac \xf0\x9f\x98\x80 \x7f";
    assert_true(dir_text_ok(good, sizeof good - 1));
    assert_true(dir_text_ok("", 0));
    assert_false(dir_text_ok("a\x01" "b", 3));
    assert_false(dir_text_ok("a\0b", 3));                 /* NUL inside the value */
    assert_false(dir_text_ok("\x1f", 1));
    assert_false(dir_text_ok("\xff", 1));
    assert_false(dir_text_ok("\xc0\xaf", 2));             /* overlong '/' */
    assert_false(dir_text_ok("\xed\xa0\x80", 3));         /* encoded surrogate */
    assert_false(dir_text_ok("\xef\xbf\xbe", 3));         /* U+FFFE */
    assert_false(dir_text_ok("\xef\xbf\xbf", 3));         /* U+FFFF */
    assert_false(dir_text_ok("\xf4\x90\x80\x80", 4));     /* above U+10FFFF */
    assert_false(dir_text_ok("\xe2\x82", 2));             /* truncated */
    /* valid text passes unchanged */
    clean_is(good, sizeof good - 1, good);
}

static void test_clean(void **state)
{
    CLEAN("Ev\x01" "e", "Eve");                   /* controls are dropped */
    CLEAN("a\0b\x1b[0m", "ab[0m");
    CLEAN("tab\tlf\ncr\r", "tab\tlf\ncr\r");      /* allowed whitespace stays */
    CLEAN("M\xfcller", "M" R "ller");             /* Latin-1: one U+FFFD per bad byte */
    CLEAN("\xed\xa0\x80", R R R);                 /* encoded lone surrogate */
    CLEAN("x\xef\xbf\xbey", "x" R "y");           /* non-characters */
    CLEAN("\xef\xbf\xbf", R);
    CLEAN("\xe2\x82", R R);                       /* truncated at the end */
    CLEAN("\xe2\x82" "A", R R "A");               /* truncated before ASCII */
    CLEAN("\xc0\xaf", R R);
    CLEAN("", "");
    assert_null(dir_text_dup(NULL));
    char *d = dir_text_dup("Sales\x02");
    assert_string_equal(d, "Sales");
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
