/* test_schema_defs.c: unit tests of src/cli/cli_schema_defs.c, the part of
 * `plucs schema` without a server: reading schema/plucs.ldif (folded
 * lines, {N} prefixes, both kinds of definitions) and classifying each
 * PLUCS definition against a subschema as present, missing or present
 * under another OID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_schema.h"

static void test_split(void **state)
{
    char *oid, *name;
    assert_true(schema_def_split("( 1.2.3 NAME 'xmppEnabled' DESC 'x' )", &oid, &name));
    assert_string_equal(oid, "1.2.3");
    assert_string_equal(name, "xmppEnabled");
    free(oid);
    free(name);
    assert_true(schema_def_split("(1.2.4 NAME ( 'a' 'b' ) SUP top)", &oid, &name));
    assert_string_equal(oid, "1.2.4");
    assert_string_equal(name, "a");
    free(oid);
    free(name);
    assert_false(schema_def_split("( x.y NAME 'a' )", &oid, &name));
    assert_false(schema_def_split("( 1.2 DESC 'a' )", &oid, &name));
    assert_false(schema_def_split("1.2 NAME 'a'", &oid, &name));
    assert_false(schema_def_split("( 1.2 NAME '' )", &oid, &name));
}

static void test_load_plucs_ldif(void **state)
{
    schema_defs d;
    char err[512];
    assert_int_equal(schema_defs_load("schema/plucs.ldif", &d, err, sizeof err), 0);
    assert_int_equal(d.n, 8);
    size_t attrs = 0;
    for (size_t i = 0; i < d.n; i++)
        attrs += d.d[i].kind == SCHEMA_ATTR;
    assert_int_equal(attrs, 5);
    assert_string_equal(d.d[0].name, "xmppEnabled");
    assert_string_equal(d.d[0].oid, "1.3.6.1.4.1.10176.99998.1663.1.101");
    /* folded lines are joined: the definition ends with its closing paren */
    assert_non_null(strstr(d.d[0].text, "SINGLE-VALUE )"));
    assert_string_equal(d.d[7].name, "univentionXMPPHost");
    schema_defs_free(&d);

    assert_int_equal(schema_defs_load("schema/does-not-exist.ldif", &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "does-not-exist.ldif"));
}

static void test_parse_errors(void **state)
{
    schema_defs d;
    char err[512];
    assert_int_equal(schema_defs_parse("dn: cn=x\ncn: x\n", "f.ldif", &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "no olcAttributeTypes"));
    assert_int_equal(schema_defs_parse("dn: cn=x\nolcAttributeTypes: garbage\n", "f.ldif", &d, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "f.ldif line 2"));
    assert_int_equal(schema_defs_parse("olcObjectClasses: {3}( 1.5 NAME 'c'\n  SUP top )\r\n", "f.ldif", &d, err,
                                       sizeof err), 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.d[0].kind, SCHEMA_CLASS);
    assert_string_equal(d.d[0].text, "( 1.5 NAME 'c' SUP top )");
    schema_defs_free(&d);
}

static void test_compare(void **state)
{
    schema_defs d;
    char err[512];
    assert_int_equal(schema_defs_parse("olcAttributeTypes: ( 1.1 NAME 'aa' )\n"
                                       "olcAttributeTypes: ( 1.2 NAME 'bb' )\n"
                                       "olcAttributeTypes: ( 1.3 NAME 'cc' )\n"
                                       "olcObjectClasses: ( 1.9 NAME 'klass' )\n",
                                       "t", &d, err, sizeof err), 0);
    const char *attrs[] = { "( 1.1 NAME 'AA' DESC 'same, other case' )",
                            "( 7.7 NAME ( 'x' 'bb' ) )",      /* bb under another OID */
                            "( 1.3 NAME 'ccc' )",             /* not cc */
                            NULL };
    const char *none[] = { NULL };
    assert_int_equal(schema_compare(&d, attrs, none), 3);
    assert_int_equal(d.d[0].state, SCHEMA_PRESENT);
    assert_int_equal(d.d[1].state, SCHEMA_OTHER_OID);
    assert_string_equal(d.d[1].found_oid, "7.7");
    assert_int_equal(d.d[2].state, SCHEMA_MISSING);
    assert_int_equal(d.d[3].state, SCHEMA_MISSING);
    const char *attrs2[] = { "( 1.1 NAME 'aa' )", "( 1.2 NAME 'bb' )", "( 1.3 NAME 'cc' )", NULL };
    const char *classes[] = { "( 1.9 NAME 'klass' SUP top AUXILIARY )", NULL };
    assert_int_equal(schema_compare(&d, attrs2, classes), 0);
    schema_defs_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_load_plucs_ldif),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
