/* test_carbons_csi.c: unit tests for the pure rules of message carbons
 * (src/modules/carbons_rules.c: XEP-0280 §6 eligibility, the wrapper) and
 * client state indication (src/modules/csi_rules.c: what an inactive client
 * may wait for, XEP-0352). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "modules/carbons_rules.h"
#include "modules/csi_rules.h"
#include "xml/xml_fragment.h"

static xnode *parse(const char *xml)
{
    xnode *n = xml_fragment_parse(xml, strlen(xml), NS_CLIENT, 8);
    assert_non_null(n);
    return n;
}

static bool eligible(const char *xml)
{
    xnode *m = parse(xml);
    bool r = carbons_eligible(m);
    xnode_free(m);
    return r;
}

static void test_eligible_types(void **state)
{
    assert_true(eligible("<message type='chat'><body>x</body></message>"));
    assert_true(eligible("<message type='chat'/>"));
    assert_true(eligible("<message type='normal'><body>x</body></message>"));
    assert_true(eligible("<message><body>x</body></message>"));
    assert_false(eligible("<message type='normal'><subject>x</subject></message>"));
    assert_true(eligible("<message><composing xmlns='http://jabber.org/protocol/chatstates'/>"
                         "</message>"));
    assert_true(eligible("<message><received xmlns='urn:xmpp:receipts' id='1'/></message>"));
    assert_true(eligible("<message><displayed xmlns='urn:xmpp:chat-markers:0' id='1'/></message>"));
    assert_true(eligible("<message type='error'><error type='cancel'/></message>"));
    assert_false(eligible("<message type='groupchat'><body>x</body></message>"));
    assert_false(eligible("<message type='headline'><body>x</body></message>"));
    assert_false(eligible("<presence/>"));
    /* a MUC private message */
    assert_true(eligible("<message type='chat'><body>x</body>"
                         "<x xmlns='http://jabber.org/protocol/muc#user'/></message>"));
}

static void test_hints_and_carbons_excluded(void **state)
{
    assert_false(eligible("<message type='chat'><body>x</body>"
                          "<private xmlns='urn:xmpp:carbons:2'/></message>"));
    assert_false(eligible("<message type='chat'><body>x</body>"
                          "<no-copy xmlns='urn:xmpp:hints'/></message>"));
    assert_false(eligible("<message type='chat'><sent xmlns='urn:xmpp:carbons:2'/></message>"));
    assert_false(eligible("<message type='chat'><received xmlns='urn:xmpp:carbons:2'/></message>"));
    /* no-store is not no-copy */
    assert_true(eligible("<message type='chat'><body>x</body>"
                         "<no-store xmlns='urn:xmpp:hints'/></message>"));
}

static void test_wrap(void **state)
{
    xnode *m = parse("<message from='b@x/1' to='a@x/2' type='chat' id='i'><body>hi</body></message>");
    xnode *c = carbons_wrap(m, "a@x", false);
    char *s = xml_to_string(c, NS_CLIENT);
    assert_string_equal(s, "<message from='a@x' type='chat'><received xmlns='urn:xmpp:carbons:2'>"
                           "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' "
                           "from='b@x/1' to='a@x/2' type='chat' id='i'><body>hi</body></message>"
                           "</forwarded></received></message>");
    free(s);
    xnode_free(c);
    c = carbons_wrap(m, "a@x", true);
    assert_non_null(xnode_child(c, "sent", NS_CARBONS));
    assert_false(carbons_eligible(c));   /* never a carbon of a carbon */
    xnode_free(c);
    xnode_free(m);
}

static csi_kind classify(const char *xml)
{
    xnode *st = parse(xml);
    csi_kind k = csi_classify(st);
    xnode_free(st);
    return k;
}

static void test_csi_classify(void **state)
{
    assert_int_equal(classify("<presence/>"), CSI_PRESENCE);
    assert_int_equal(classify("<presence><show>away</show></presence>"), CSI_PRESENCE);
    assert_int_equal(classify("<presence type='unavailable'/>"), CSI_PRESENCE);
    assert_int_equal(classify("<presence type='subscribe'/>"), CSI_URGENT);
    assert_int_equal(classify("<presence type='unsubscribed'/>"), CSI_URGENT);
    assert_int_equal(classify("<presence type='error'/>"), CSI_URGENT);
    assert_int_equal(classify("<iq type='get'/>"), CSI_URGENT);
    assert_int_equal(classify("<message type='chat'><composing "
                              "xmlns='http://jabber.org/protocol/chatstates'/><thread>t</thread>"
                              "</message>"), CSI_CHATSTATE);
    assert_int_equal(classify("<message type='chat'><body>x</body><active "
                              "xmlns='http://jabber.org/protocol/chatstates'/></message>"),
                     CSI_URGENT);
    assert_int_equal(classify("<message type='groupchat'><body>x</body></message>"), CSI_URGENT);
    assert_int_equal(classify("<message type='error'><composing "
                              "xmlns='http://jabber.org/protocol/chatstates'/></message>"),
                     CSI_URGENT);
    assert_int_equal(classify("<message type='chat'/>"), CSI_URGENT);
    assert_int_equal(classify("<message><received xmlns='urn:xmpp:receipts' id='1'/></message>"),
                     CSI_URGENT);
    /* a carbon of a chat state waits too; a carbon of a body does not */
    assert_int_equal(classify("<message><received xmlns='urn:xmpp:carbons:2'><forwarded "
                              "xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'>"
                              "<paused xmlns='http://jabber.org/protocol/chatstates'/></message>"
                              "</forwarded></received></message>"), CSI_CHATSTATE);
    assert_int_equal(classify("<message><sent xmlns='urn:xmpp:carbons:2'><forwarded "
                              "xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'>"
                              "<body>x</body></message></forwarded></sent></message>"),
                     CSI_URGENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eligible_types),
        cmocka_unit_test(test_hints_and_carbons_excluded),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_csi_classify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
