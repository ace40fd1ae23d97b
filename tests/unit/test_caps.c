/* test_caps.c: unit tests for the XEP-0115 verification string
 * (src/modules/mod_caps.c) with the XEP's own examples (§5.2 simple, §5.3
 * with an extended form), the rules it depends on (sorting, duplicates),
 * and for xml_fragment_parse (src/xml/xml_fragment.c), which builds the
 * test queries from text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "modules/caps.h"
#include "xml/xml_fragment.h"

static xnode *parse(const char *xml)
{
    xnode *n = xml_fragment_parse(xml, strlen(xml), NULL, 16);
    assert_non_null(n);
    return n;
}

static void assert_ver(const char *xml, const char *expected)
{
    xnode *q = parse(xml);
    char ver[CAPS_VER_LEN];
    assert_int_equal(caps_ver(q, ver), 0);
    assert_string_equal(ver, expected);
    xnode_free(q);
}

/* XEP-0115 §5.2 */
static void test_simple_example(void **state)
{
    assert_ver("<query xmlns='http://jabber.org/protocol/disco#info'>"
               "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
               "<feature var='http://jabber.org/protocol/caps'/>"
               "<feature var='http://jabber.org/protocol/disco#info'/>"
               "<feature var='http://jabber.org/protocol/disco#items'/>"
               "<feature var='http://jabber.org/protocol/muc'/>"
               "</query>",
               "QgayPKawpkPSDYmwT/WM94uAlu0=");
}

/* The same with features and identities in another order: sorted first. */
static void test_order_does_not_matter(void **state)
{
    assert_ver("<query xmlns='http://jabber.org/protocol/disco#info'>"
               "<feature var='http://jabber.org/protocol/muc'/>"
               "<feature var='http://jabber.org/protocol/disco#items'/>"
               "<identity type='pc' name='Exodus 0.9.1' category='client'/>"
               "<feature var='http://jabber.org/protocol/disco#info'/>"
               "<feature var='http://jabber.org/protocol/caps'/>"
               "</query>",
               "QgayPKawpkPSDYmwT/WM94uAlu0=");
}

/* XEP-0115 §5.3: two identities with xml:lang, an extended form. */
static void test_complex_example(void **state)
{
    assert_ver("<query xmlns='http://jabber.org/protocol/disco#info' "
               "node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>"
               "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
               "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' type='pc'/>"
               "<feature var='http://jabber.org/protocol/caps'/>"
               "<feature var='http://jabber.org/protocol/disco#info'/>"
               "<feature var='http://jabber.org/protocol/disco#items'/>"
               "<feature var='http://jabber.org/protocol/muc'/>"
               "<x xmlns='jabber:x:data' type='result'>"
               "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
               "<field var='ip_version' type='text-multi'><value>ipv4</value><value>ipv6</value></field>"
               "<field var='os'><value>Mac</value></field>"
               "<field var='os_version'><value>10.5.1</value></field>"
               "<field var='software'><value>Psi</value></field>"
               "<field var='software_version'><value>0.11</value></field>"
               "</x></query>",
               "q07IKJEyjvHSyhy//CH0CxmKi8w=");
}

/* A form without FORM_TYPE is ignored (§5.4 3.6). */
static void test_form_without_type_ignored(void **state)
{
    assert_ver("<query xmlns='http://jabber.org/protocol/disco#info'>"
               "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
               "<feature var='http://jabber.org/protocol/caps'/>"
               "<feature var='http://jabber.org/protocol/disco#info'/>"
               "<feature var='http://jabber.org/protocol/disco#items'/>"
               "<feature var='http://jabber.org/protocol/muc'/>"
               "<x xmlns='jabber:x:data' type='result'><field var='os'><value>Mac</value></field></x>"
               "</query>",
               "QgayPKawpkPSDYmwT/WM94uAlu0=");
}

static void test_duplicates_refused(void **state)
{
    char ver[CAPS_VER_LEN];
    xnode *q = parse("<query xmlns='http://jabber.org/protocol/disco#info'>"
                     "<identity category='server' type='im'/>"
                     "<feature var='a'/><feature var='a'/></query>");
    assert_int_equal(caps_ver(q, ver), -1);
    xnode_free(q);
    q = parse("<query xmlns='http://jabber.org/protocol/disco#info'>"
              "<identity category='server' type='im'/><identity category='server' type='im'/>"
              "<feature var='a'/></query>");
    assert_int_equal(caps_ver(q, ver), -1);
    xnode_free(q);
}

/* The server-shaped query: identity with a name and no lang. */
static void test_server_shape(void **state)
{
    xnode *q = parse("<query xmlns='http://jabber.org/protocol/disco#info'>"
                     "<identity category='server' type='im' name='PLUCS'/>"
                     "<feature var='http://jabber.org/protocol/disco#info'/></query>");
    char ver[CAPS_VER_LEN];
    assert_int_equal(caps_ver(q, ver), 0);
    /* base64 of 20 bytes */
    assert_int_equal(strlen(ver), 28);
    assert_int_equal(ver[27], '=');
    xnode_free(q);
}

static void test_fragment_parse(void **state)
{
    const char *ok = "<storage xmlns='storage:bookmarks'><conference jid='a@b' "
                     "autojoin='true'><nick>x &amp; y</nick></conference></storage>";
    xnode *n = xml_fragment_parse(ok, strlen(ok), NULL, 8);
    assert_non_null(n);
    assert_string_equal(n->name, "storage");
    assert_string_equal(n->ns, "storage:bookmarks");
    xnode *c = xnode_child(n, "conference", "storage:bookmarks");
    assert_non_null(c);
    char *t = xnode_text(xnode_child(c, "nick", NULL));
    assert_string_equal(t, "x & y");
    free(t);
    /* round trip through the serializer */
    char *again = xml_to_string(n, NULL);
    xnode *m = xml_fragment_parse(again, strlen(again), NULL, 8);
    assert_non_null(m);
    free(again);
    xnode_free(m);
    xnode_free(n);

    /* namespace inherited from the context */
    n = xml_fragment_parse("<body>hi</body>", 15, "jabber:client", 4);
    assert_non_null(n);
    assert_string_equal(n->ns, "jabber:client");
    xnode_free(n);

    const char *bad[] = {
        "", "text", "<a/><b/>", "<a>", "<a></b>", "<!DOCTYPE a><a/>",
        "<a><!-- c --></a>", "<a><b><c><d/></c></b></a>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(xml_fragment_parse(bad[i], strlen(bad[i]), NULL, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_example),
        cmocka_unit_test(test_order_does_not_matter),
        cmocka_unit_test(test_complex_example),
        cmocka_unit_test(test_form_without_type_ignored),
        cmocka_unit_test(test_duplicates_refused),
        cmocka_unit_test(test_server_shape),
        cmocka_unit_test(test_fragment_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
