/* test_vcard_build.c: the vCard built from a directory entry (XEP-0054 as
 * issue 3 lists it: FN fallbacks, N, NICKNAME, EMAIL preference, TEL, ORG,
 * ADR, BDAY, PHOTO type and base64), values XML cannot carry left out, and
 * the XEP-0153 photo hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "modules/vcard_build.h"
#include "xml/xml.h"

static void add(dir_record *r, const char *name, const char *value)
{
    assert_int_equal(dir_record_add(r, name, value, strlen(value)), 0);
}

/* The text of the element at path "A/B" below vc, NULL when absent. */
static char *at(const xnode *vc, const char *a, const char *b)
{
    xnode *n = xnode_child(vc, a, NS_VCARD);
    if (n && b)
        n = xnode_child(n, b, NS_VCARD);
    return n ? xnode_text(n) : NULL;
}

static void expect(const xnode *vc, const char *a, const char *b, const char *want)
{
    char *got = at(vc, a, b);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static size_t count(const xnode *vc, const char *name)
{
    size_t n = 0;
    for (xnode *c = xnode_first_element(vc); c; c = xnode_next_element(c))
        if (!strcmp(c->name, name))
            n++;
    return n;
}

static const unsigned char jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00,
                                      0x01, 0x00, 0x00, 0xff, 0xd9 };

static void test_full_entry(void **state)
{
    dir_record r = { 0 };
    add(&r, "uid", "carol");
    add(&r, "givenName", "Carol");
    add(&r, "sn", "Clark");
    add(&r, "displayName", "C. Clark");
    add(&r, "mail", "carol@a.test");
    add(&r, "mailPrimaryAddress", "carol.clark@a.test");
    add(&r, "telephoneNumber", "+49 421 1234");
    add(&r, "telephoneNumber", "+49 421 5678");
    add(&r, "o", "Example & Co <GmbH>");
    add(&r, "street", "Mary-Somerville-Str. 1");
    add(&r, "l", "Bremen");
    add(&r, "postalCode", "28359");
    add(&r, "univentionBirthday", "1990-02-03");
    assert_int_equal(dir_record_add(&r, "jpegPhoto", jpeg, sizeof jpeg), 0);

    xnode *vc = vcard_build(&r, "carol");
    assert_string_equal(vc->name, "vCard");
    assert_string_equal(vc->ns, "vcard-temp");
    expect(vc, "FN", NULL, "Carol Clark");
    expect(vc, "N", "FAMILY", "Clark");
    expect(vc, "N", "GIVEN", "Carol");
    expect(vc, "NICKNAME", NULL, "carol");
    expect(vc, "EMAIL", "USERID", "carol.clark@a.test");    /* mailPrimaryAddress wins */
    xnode *email = xnode_child(vc, "EMAIL", NS_VCARD);
    assert_non_null(xnode_child(email, "INTERNET", NS_VCARD));
    assert_non_null(xnode_child(email, "PREF", NS_VCARD));
    assert_int_equal(count(vc, "TEL"), 2);
    expect(vc, "TEL", "NUMBER", "+49 421 1234");
    xnode *tel = xnode_child(vc, "TEL", NS_VCARD);
    assert_non_null(xnode_child(tel, "VOICE", NS_VCARD));
    assert_non_null(xnode_child(tel, "WORK", NS_VCARD));
    expect(vc, "ORG", "ORGNAME", "Example & Co <GmbH>");
    expect(vc, "ADR", "STREET", "Mary-Somerville-Str. 1");
    expect(vc, "ADR", "LOCALITY", "Bremen");
    expect(vc, "ADR", "PCODE", "28359");
    assert_non_null(xnode_child(xnode_child(vc, "ADR", NS_VCARD), "WORK", NS_VCARD));
    expect(vc, "BDAY", NULL, "1990-02-03");
    expect(vc, "PHOTO", "TYPE", "image/jpeg");
    expect(vc, "PHOTO", "BINVAL", "/9j/4AAQSkZJRgABAAD/2Q==");

    /* it serializes with escaping */
    char *xml = xml_to_string(vc, "jabber:client");
    assert_non_null(strstr(xml, "<ORGNAME>Example &amp; Co &lt;GmbH&gt;</ORGNAME>"));
    free(xml);
    xnode_free(vc);
    dir_record_clear(&r);
}

static void test_fn_fallbacks(void **state)
{
    dir_record r = { 0 };
    add(&r, "uid", "hugo");
    add(&r, "givenName", "Hugo");
    add(&r, "displayName", "Dr. Hugo Hill");
    xnode *vc = vcard_build(&r, "hugo");
    expect(vc, "FN", NULL, "Dr. Hugo Hill");    /* no sn: displayName */
    expect(vc, "N", "GIVEN", "Hugo");
    expect(vc, "N", "FAMILY", NULL);
    xnode_free(vc);
    dir_record_clear(&r);

    add(&r, "uid", "ida");
    add(&r, "sn", "Ives");
    vc = vcard_build(&r, "ida");
    expect(vc, "FN", NULL, "Ives");             /* no displayName: what there is */
    xnode_free(vc);
    dir_record_clear(&r);

    add(&r, "uid", "Kai");
    vc = vcard_build(&r, "kai");
    expect(vc, "FN", NULL, "Kai");              /* only the uid */
    expect(vc, "NICKNAME", NULL, "Kai");
    assert_null(xnode_child(vc, "N", NS_VCARD));
    xnode_free(vc);
    dir_record_clear(&r);

    vc = vcard_build(&r, "nobody");             /* empty entry: the localpart */
    expect(vc, "FN", NULL, "nobody");
    expect(vc, "NICKNAME", NULL, "nobody");
    xnode_free(vc);
}

static void test_optional_parts_absent(void **state)
{
    dir_record r = { 0 };
    add(&r, "uid", "bob");
    add(&r, "givenName", "Bob");
    add(&r, "sn", "Brown");
    add(&r, "mail", "bob@a.test");
    add(&r, "l", "Bremen");
    xnode *vc = vcard_build(&r, "bob");
    expect(vc, "EMAIL", "USERID", "bob@a.test");   /* mail without mailPrimaryAddress */
    assert_null(xnode_child(vc, "TEL", NS_VCARD));
    assert_null(xnode_child(vc, "ORG", NS_VCARD));
    assert_null(xnode_child(vc, "BDAY", NS_VCARD));
    assert_null(xnode_child(vc, "PHOTO", NS_VCARD));
    expect(vc, "ADR", "LOCALITY", "Bremen");
    expect(vc, "ADR", "STREET", NULL);
    xnode_free(vc);
    dir_record_clear(&r);
}

static void test_unsendable_values_skipped(void **state)
{
    dir_record r = { 0 };
    add(&r, "uid", "eve");
    add(&r, "givenName", "Ev\x01e");               /* control character */
    add(&r, "sn", "\xff\xfe");                     /* not UTF-8 */
    add(&r, "displayName", "Eve Example");
    add(&r, "o", "");                              /* empty */
    add(&r, "telephoneNumber", "12\x0b" "3");
    add(&r, "telephoneNumber", "+1 555");
    add(&r, "mailPrimaryAddress", "bad\x02@x");
    add(&r, "mail", "eve@a.test");
    xnode *vc = vcard_build(&r, "eve");
    expect(vc, "FN", NULL, "Eve Example");
    assert_null(xnode_child(vc, "N", NS_VCARD));
    assert_null(xnode_child(vc, "ORG", NS_VCARD));
    assert_int_equal(count(vc, "TEL"), 1);
    expect(vc, "TEL", "NUMBER", "+1 555");
    expect(vc, "EMAIL", "USERID", "eve@a.test");
    xnode_free(vc);
    dir_record_clear(&r);
}

static void test_photo_type_and_hash(void **state)
{
    assert_string_equal(vcard_photo_type(jpeg, sizeof jpeg), "image/jpeg");
    assert_string_equal(vcard_photo_type("\x89PNG\r\n\x1a\n\0\0", 10), "image/png");
    assert_string_equal(vcard_photo_type("GIF89a..", 8), "image/gif");
    assert_string_equal(vcard_photo_type("??", 2), "image/jpeg");
    assert_string_equal(vcard_photo_type("", 0), "image/jpeg");

    char hash[41];
    assert_int_equal(vcard_photo_hash("abc", 3, hash), 0);
    assert_string_equal(hash, "a9993e364706816aba3e25717850c26c9cd0d89d");   /* FIPS 180 */

    dir_record r = { 0 };
    assert_int_equal(dir_record_add(&r, "jpegPhoto", "\x89PNG\r\n\x1a\n\0\x01", 10), 0);
    xnode *vc = vcard_build(&r, "p");
    expect(vc, "PHOTO", "TYPE", "image/png");
    expect(vc, "PHOTO", "BINVAL", "iVBORw0KGgoAAQ==");   /* NUL bytes survive */
    xnode_free(vc);
    dir_record_clear(&r);
}

static void test_record_lookup(void **state)
{
    dir_record r = { 0 };
    add(&r, "mail", "a@b");
    add(&r, "MAIL", "c@d");        /* same attribute, other spelling */
    const dir_attr *a = dir_record_attr(&r, "Mail");
    assert_non_null(a);
    assert_int_equal(a->nvalues, 2);
    assert_string_equal(dir_record_str(&r, "mail"), "a@b");
    assert_null(dir_record_str(&r, "sn"));
    assert_int_equal(dir_record_add(&r, "empty", "", 0), 0);
    assert_null(dir_record_str(&r, "empty"));
    dir_record_clear(&r);
    assert_int_equal(r.nattrs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_entry),
        cmocka_unit_test(test_fn_fallbacks),
        cmocka_unit_test(test_optional_parts_absent),
        cmocka_unit_test(test_unsendable_values_skipped),
        cmocka_unit_test(test_photo_type_and_hash),
        cmocka_unit_test(test_record_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
