/* test_jid.c: unit tests for JID parsing and preparation (src/xmpp/jid.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <stringprep.h>

#include "xmpp/jid.h"

static void expect_jid(const char *in, const char *node, const char *domain, const char *res)
{
    jid j;
    if (jid_parse(in, &j) != 0)
        fail_msg("valid JID refused: %s", in);
    if (node)
        assert_string_equal(j.node, node);
    else
        assert_null(j.node);
    assert_string_equal(j.domain, domain);
    if (res)
        assert_string_equal(j.resource, res);
    else
        assert_null(j.resource);
    jid_clear(&j);
}

static void expect_bad(const char *in)
{
    jid j;
    j.node = (char *)"x";
    if (jid_parse(in, &j) == 0) {
        jid_clear(&j);
        fail_msg("invalid JID accepted: %s", in);
    }
    assert_null(j.node);
    assert_null(j.domain);
    assert_null(j.resource);
}

static void test_valid(void **state)
{
    expect_jid("example.org", NULL, "example.org", NULL);
    expect_jid("user@example.org", "user", "example.org", NULL);
    expect_jid("user@example.org/res", "user", "example.org", "res");
    expect_jid("example.org/res", NULL, "example.org", "res");
    /* resource is everything after the first slash, @ and / included */
    expect_jid("a@b/c@d/e f", "a", "b", "c@d/e f");
    expect_jid("b/c@d", NULL, "b", "c@d");
    expect_jid("localhost", NULL, "localhost", NULL);
    expect_jid("u@host_name.example", "u", "host_name.example", NULL);
}

static void test_case_and_prep(void **state)
{
    expect_jid("User@Example.ORG/Res", "user", "example.org", "Res");
    expect_jid("example.org.", NULL, "example.org", NULL);
    expect_jid("u@EXAMPLE.org./r", "u", "example.org", "r");
    /* non-ASCII: case folding, ß -> ss (nodeprep), soft hyphen removed */
    expect_jid("J\xc3\xbcRGEN@\xc3\x84xample.org", "j\xc3\xbcrgen", "\xc3\xa4xample.org", NULL);
    expect_jid("Stra\xc3\x9f" "e@example.org", "strasse", "example.org", NULL);
    expect_jid("a\xc2\xad" "b@example.org", "ab", "example.org", NULL);
    /* resourceprep keeps case and ASCII space */
    expect_jid("u@d/\xc3\x84 B", "u", "d", "\xc3\x84 B");
    /* fullwidth letters are NFKC-normalised */
    expect_jid("\xef\xbc\xa1@d", "a", "d", NULL);

    char *p = jid_nodeprep("AbC");
    assert_string_equal(p, "abc");
    free(p);
    assert_null(jid_nodeprep("a b"));
    assert_null(jid_nodeprep(""));
    p = jid_resourceprep("AbC");
    assert_string_equal(p, "AbC");
    free(p);
    p = jid_nameprep("Example.COM.");
    assert_string_equal(p, "example.com");
    free(p);
    assert_null(jid_nameprep("a..b"));
    assert_null(jid_nameprep("."));
}

static void test_invalid(void **state)
{
    expect_bad("");
    expect_bad("@d");
    expect_bad("u@");
    expect_bad("d/");
    expect_bad("u@d/");
    expect_bad("/r");
    expect_bad("@");
    expect_bad("u@@d");            /* '@' in the domain */
    expect_bad("a\"b@d");
    expect_bad("a&b@d");
    expect_bad("a'b@d");
    expect_bad("a:b@d");
    expect_bad("a<b@d");
    expect_bad("a>b@d");
    expect_bad("a b@d");
    expect_bad("u@exa mple.org");
    expect_bad("u@example..org");
    expect_bad("u@.example.org");
    expect_bad("u@example.org..");
    expect_bad("u@-example.org");
    expect_bad("u@exa<mple.org");
    expect_bad("u@d/a\x01" "b");
    expect_bad("u\x7f@d");
    expect_bad("u@d\xff");          /* invalid UTF-8 */
    expect_bad("\xc3@d");
    expect_bad("u@d/\xed\xa0\x80");
    expect_bad(NULL);
}

static void test_ip_literals(void **state)
{
    expect_jid("u@192.168.0.1/r", "u", "192.168.0.1", "r");
    expect_jid("u@[::1]/r", "u", "[::1]", "r");
    expect_jid("[2001:DB8::1]", NULL, "[2001:db8::1]", NULL);
    expect_bad("u@[::1");
    expect_bad("u@[]");
    expect_bad("u@[nonsense]");
    expect_bad("u@[::1]x");
}

static void test_lengths(void **state)
{
    char big[3000];
    /* node of exactly 1023 bytes: fine; 1024: refused */
    memset(big, 'a', 1023);
    strcpy(big + 1023, "@d");
    jid j;
    assert_int_equal(jid_parse(big, &j), 0);
    assert_int_equal(strlen(j.node), 1023);
    jid_clear(&j);
    memset(big, 'a', 1024);
    strcpy(big + 1024, "@d");
    expect_bad(big);

    /* resource */
    strcpy(big, "u@d/");
    memset(big + 4, 'R', 1023);
    big[4 + 1023] = 0;
    assert_int_equal(jid_parse(big, &j), 0);
    jid_clear(&j);
    memset(big + 4, 'R', 1024);
    big[4 + 1024] = 0;
    expect_bad(big);

    /* domain of 1024 bytes in labels of 63 */
    size_t n = 0;
    while (n < 1024) {
        size_t l = 1024 - n > 63 ? 63 : 1024 - n;
        memset(big + n, 'x', l);
        n += l;
        if (n < 1024)
            big[n - 1] = '.';
    }
    big[n] = 0;
    expect_bad(big);
    big[1023] = 0;   /* 1023 bytes */
    assert_int_equal(jid_parse(big, &j), 0);
    jid_clear(&j);

    /* a DNS label over 63 bytes */
    memset(big, 'x', 64);
    strcpy(big + 64, ".org");
    expect_bad(big);

    /* non-ASCII expanding past the limit: ß -> ss, 600 of them */
    char *s = big;
    for (int i = 0; i < 600; i++) {
        *s++ = '\xc3';
        *s++ = '\x9f';
    }
    strcpy(s, "@d");
    expect_bad(big);
}

static void test_strings_and_equality(void **state)
{
    jid a, b, c;
    assert_int_equal(jid_parse("User@Example.org/Phone", &a), 0);
    assert_int_equal(jid_parse("user@example.org./Phone", &b), 0);
    assert_int_equal(jid_parse("user@example.org/phone", &c), 0);
    assert_true(jid_equal(&a, &b));
    assert_false(jid_equal(&a, &c));
    assert_true(jid_bare_equal(&a, &c));

    char *s = jid_to_string(&a);
    assert_string_equal(s, "user@example.org/Phone");
    free(s);
    s = jid_bare_string(&a);
    assert_string_equal(s, "user@example.org");
    free(s);

    jid d;
    assert_int_equal(jid_copy(&a, &d), 0);
    assert_true(jid_equal(&a, &d));
    jid_clear(&d);
    jid_clear(&d);   /* idempotent */

    jid e;
    assert_int_equal(jid_parse("example.org", &e), 0);
    assert_false(jid_bare_equal(&a, &e));
    s = jid_to_string(&e);
    assert_string_equal(s, "example.org");
    free(s);
    jid f;
    assert_int_equal(jid_parse("example.org/x", &f), 0);
    s = jid_bare_string(&f);
    assert_string_equal(s, "example.org");
    free(s);
    assert_true(jid_bare_equal(&e, &f));
    assert_false(jid_equal(&e, &f));

    jid_clear(&a);
    jid_clear(&b);
    jid_clear(&c);
    jid_clear(&e);
    jid_clear(&f);
}

/* The ASCII fast path must agree with libidn's profiles on every
 * printable ASCII character. */
static void test_fast_path_agrees(void **state)
{
    for (int c = 0x21; c < 0x7f; c++) {
        char in[8] = { 'a', (char)c, 'Z', 0 };
        char ref[64];

        strcpy(ref, in);
        int rc = stringprep_xmpp_nodeprep(ref, sizeof ref);
        char *p = jid_nodeprep(in);
        if (rc == STRINGPREP_OK && !strpbrk(ref, "\"&'/:<>@")) {
            assert_non_null(p);
            assert_string_equal(p, ref);
        } else {
            assert_null(p);
        }
        free(p);

        strcpy(ref, in);
        rc = stringprep_xmpp_resourceprep(ref, sizeof ref);
        p = jid_resourceprep(in);
        assert_int_equal(rc, STRINGPREP_OK);
        assert_non_null(p);
        assert_string_equal(p, ref);
        free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_case_and_prep),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_ip_literals),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_strings_and_equality),
        cmocka_unit_test(test_fast_path_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
