/* test_dir_query_filter.c: the filters of the directory queries
 * (dir_query.h). The account filter is directory.md's; the search filter
 * ANDs one substring assertion per filled field inside the domain's enabled
 * accounts, and every character a user typed (*, (, ), \ and NUL included)
 * is escaped, so a search term can never widen or restructure the filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_query.h"

static void check_search(const dir_search_terms *t, const char *domain, const char *want)
{
    char *got = dir_search_filter(domain, t);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

#define BASE "(&(objectClass=univentionXMPPAccount)(xmppEnabled=TRUE)(xmppDomain=a.test)"

static void test_account_filter(void **state)
{
    char *f = dir_account_filter("carol", "a.test");
    assert_string_equal(f, "(&(objectClass=univentionXMPPAccount)(uid=carol)"
                           "(xmppEnabled=TRUE)(xmppDomain=a.test))");
    free(f);
    f = dir_account_filter("paren(s)*", "a.test");
    assert_string_equal(f, "(&(objectClass=univentionXMPPAccount)(uid=paren\\28s\\29\\2a)"
                           "(xmppEnabled=TRUE)(xmppDomain=a.test))");
    free(f);
}

static void test_fields(void **state)
{
    dir_search_terms none = { 0 };
    check_search(&none, "a.test", BASE ")");
    dir_search_terms blank = { "", "  ", "\t", NULL };
    check_search(&blank, "a.test", BASE ")");          /* white space: not filled */

    dir_search_terms uid = { .uid = "car" };
    check_search(&uid, "a.test", BASE "(uid=*car*))");
    dir_search_terms all = { " car ", "Ca", "Cl", "a.test" };
    check_search(&all, "a.test",
                 BASE "(uid=*car*)(givenName=*Ca*)(sn=*Cl*)"
                      "(|(mailPrimaryAddress=*a.test*)(mail=*a.test*)))");
    dir_search_terms mail = { .email = "carol@" };
    check_search(&mail, "a.test", BASE "(|(mailPrimaryAddress=*carol@*)(mail=*carol@*)))");
}

static void test_metacharacters_literal(void **state)
{
    dir_search_terms star = { .uid = "*" };
    check_search(&star, "a.test", BASE "(uid=*\\2a*))");
    dir_search_terms paren = { .given = "(" };
    check_search(&paren, "a.test", BASE "(givenName=*\\28*))");
    dir_search_terms close = { .family = ")" };
    check_search(&close, "a.test", BASE "(sn=*\\29*))");
    dir_search_terms bs = { .uid = "a\\b" };
    check_search(&bs, "a.test", BASE "(uid=*a\\5cb*))");
    /* an attempt to escape the domain restriction stays one literal value */
    dir_search_terms inj = { .uid = "x*)(xmppDomain=b.test)(|(uid=*" };
    check_search(&inj, "a.test",
                 BASE "(uid=*x\\2a\\29\\28xmppDomain=b.test\\29\\28|\\28uid=\\2a*))");
    /* the domain itself is escaped too */
    dir_search_terms none = { 0 };
    check_search(&none, "a*", "(&(objectClass=univentionXMPPAccount)(xmppEnabled=TRUE)"
                               "(xmppDomain=a\\2a))");
}

static void test_substring_nul(void **state)
{
    char *f = dir_substring_filter("uid", "a\0b", 3);
    assert_string_equal(f, "(uid=*a\\00b*)");
    free(f);
    f = dir_substring_filter("sn", "", 0);
    assert_string_equal(f, "(sn=**)");
    free(f);
    f = dir_substring_filter("mail", "*()\\", 4);
    assert_string_equal(f, "(mail=*\\2a\\28\\29\\5c*)");
    free(f);
}

/* Parentheses outside escapes always balance, whatever was typed. */
static void test_balanced(void **state)
{
    const char *inputs[] = { "(((", ")))", "\\", "\\(", "*)(", "a)(|(b=*", "\xc3\xa4(\xc3\xb6)" };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        dir_search_terms t = { inputs[i], inputs[i], inputs[i], inputs[i] };
        char *f = dir_search_filter("a.test", &t);
        int depth = 0;
        for (const char *p = f; *p; p++) {
            if (*p == '\\') {
                assert_non_null(strchr("0123456789abcdef", p[1]));
                p += 2;
                continue;
            }
            if (*p == '(')
                depth++;
            if (*p == ')')
                depth--;
            assert_true(depth >= 0);
        }
        assert_int_equal(depth, 0);
        free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_filter),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_metacharacters_literal),
        cmocka_unit_test(test_substring_nul),
        cmocka_unit_test(test_balanced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
