/* test_cli_ldapw.c: the pure parts of the directory commands' shared helper
 * (src/cli/cli_ldapw.c): the domain check that guards every xmppDomain(s)
 * write (lower-cased; letters, digits, '-', '.'; no empty labels; filter
 * metacharacters refused), the option parser (--binddn needs
 * --bindpw-file and the other way round, --domain only where allowed,
 * "--" ends options so a uid may start with '-'), and JSON string escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli_ldapw.h"

static void test_domain_check(void **state)
{
    (void)state;
    char err[256];
    char *d = cli_domain_check("Sales.Example-1.COM", err, sizeof err);
    assert_non_null(d);
    assert_string_equal(d, "sales.example-1.com");
    free(d);
    const char *bad[] = { "", "a b", "a..b", ".a", "a.", "a)(x=*", "*", "a@b", "a/b", "\xc3\xa4.de",
                          NULL };
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        assert_null(cli_domain_check(bad[i], err, sizeof err));
        assert_non_null(strstr(err, "is not a domain name"));
    }
    char longlabel[80];
    memset(longlabel, 'a', 64);
    strcpy(longlabel + 64, ".de");
    assert_null(cli_domain_check(longlabel, err, sizeof err));
    assert_non_null(strstr(err, "63"));
}

static void test_opts(void **state)
{
    (void)state;
    cli_dir_opts o;
    char *a1[] = { "user", "show", "--json", "alice", "--binddn=cn=admin", "--bindpw-file", "/f", NULL };
    assert_int_equal(cli_dir_opts_parse(7, a1, 2, false, &o), 0);
    assert_true(o.json);
    assert_int_equal(o.nargs, 1);
    assert_string_equal(o.args[0], "alice");
    assert_string_equal(o.binddn, "cn=admin");
    assert_string_equal(o.bindpw_file, "/f");
    cli_dir_opts_free(&o);

    char *a2[] = { "user", "show", "--binddn", "cn=admin", "alice", NULL };
    assert_int_equal(cli_dir_opts_parse(5, a2, 2, false, &o), -1);      /* no --bindpw-file */
    char *a3[] = { "user", "show", "--bindpw-file", "/f", "alice", NULL };
    assert_int_equal(cli_dir_opts_parse(5, a3, 2, false, &o), -1);      /* no --binddn */
    char *a4[] = { "users", "--domain", "a.test", NULL };
    assert_int_equal(cli_dir_opts_parse(3, a4, 1, false, &o), -1);      /* not allowed here */
    assert_int_equal(cli_dir_opts_parse(3, a4, 1, true, &o), 0);
    assert_string_equal(o.domain, "a.test");
    assert_int_equal(o.nargs, 0);
    cli_dir_opts_free(&o);
    char *a5[] = { "user", "show", "--", "-odd", "--json", NULL };
    assert_int_equal(cli_dir_opts_parse(5, a5, 2, false, &o), 0);
    assert_false(o.json);
    assert_int_equal(o.nargs, 2);
    assert_string_equal(o.args[0], "-odd");
    cli_dir_opts_free(&o);
    char *a6[] = { "user", "show", "--binddn", NULL };
    assert_int_equal(cli_dir_opts_parse(3, a6, 2, false, &o), -1);      /* value missing */
    char *a7[] = { "user", "show", "-x", NULL };
    assert_int_equal(cli_dir_opts_parse(3, a7, 2, false, &o), -1);
}

static void test_json(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cli_json_str(f, "a\"b\\c\nd\x01");
    fputc(' ', f);
    cli_json_str(f, NULL);
    fputc(' ', f);
    struct berval v1 = { 2, "x\"" }, *vals[] = { &v1, NULL };
    cli_json_bvals(f, vals);
    cli_json_bvals(f, NULL);
    fclose(f);
    assert_string_equal(text, "\"a\\\"b\\\\c\\nd\\u0001\" null [\"x\\\"\"][]");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_check),
        cmocka_unit_test(test_opts),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
