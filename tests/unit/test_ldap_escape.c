/* test_ldap_escape.c: RFC 4515 escaping of filter values (directory.h):
 * the five special bytes become \XX, everything else (UTF-8 included) is
 * kept, and injection attempts cannot change a filter's structure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/directory.h"

static void check(const char *in, const char *want)
{
    char *got = ldap_filter_escape(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_plain(void **state)
{
    check("", "");
    check("alice", "alice");
    check("a.test", "a.test");
    check("first.last-name_1", "first.last-name_1");
    check("a=b,c", "a=b,c");        /* not special in a filter value */
}

static void test_specials(void **state)
{
    check("*", "\\2a");
    check("(", "\\28");
    check(")", "\\29");
    check("\\", "\\5c");
    check("paren(s)*", "paren\\28s\\29\\2a");
}

static void test_injection(void **state)
{
    check("a)(uid=*", "a\\29\\28uid=\\2a");
    check("*)(|(objectClass=*", "\\2a\\29\\28|\\28objectClass=\\2a");
    check("x\\2a", "x\\5c2a");      /* a pre-escaped value stays literal */
    /* nothing that could close the assertion survives */
    char *got = ldap_filter_escape("a)(uid=*))(|(uid=*");
    assert_null(strpbrk(got, "()*"));
    free(got);
}

static void test_nul(void **state)
{
    const char v[] = { 'a', 0, 'b', '*', 0 };
    char *got = ldap_filter_escape_len(v, 4);
    assert_string_equal(got, "a\\00b\\2a");
    free(got);
    got = ldap_filter_escape_len("", 0);
    assert_string_equal(got, "");
    free(got);
    got = ldap_filter_escape(NULL);
    assert_string_equal(got, "");
    free(got);
}

static void test_utf8(void **state)
{
    check("j\xc3\xbcrgen", "j\xc3\xbcrgen");                     /* jürgen */
    check("\xe5\xbc\xa0\xe4\xbc\x9f", "\xe5\xbc\xa0\xe4\xbc\x9f"); /* 张伟 */
    check("\xf0\x9f\x98\x80(*)", "\xf0\x9f\x98\x80\\28\\2a\\29");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_specials),
        cmocka_unit_test(test_injection),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
