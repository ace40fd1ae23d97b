/* test_bosh_body.c: BOSH request bodies (XEP-0124 §7, XEP-0206) are parsed
 * with the stream parser's restrictions, attributes are read whatever the
 * xbosh prefix, children in the httpbind namespace count as jabber:client,
 * and the rid window decides next / ahead / repeated / outside. Also the
 * element framing shared with WebSocket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "transport/bosh_body.h"
#include "transport/framing.h"

#define BODY "<body xmlns='http://jabber.org/protocol/httpbind' "

static int parse(const char *text, bosh_body *b)
{
    char err[128];
    return bosh_body_parse(text, strlen(text), 65536, b, err, sizeof err);
}

static void test_session_creation_request(void **state)
{
    bosh_body b;
    assert_int_equal(parse("<?xml version='1.0'?>" BODY "xmlns:xmpp='urn:xmpp:xbosh' rid='1573741820' "
                           "to='a.test' wait='60' hold='1' xml:lang='de' xmpp:version='1.0'/>", &b), 0);
    uint64_t rid = 0;
    assert_true(bosh_attr_rid(b.attrs, &rid));
    assert_int_equal(rid, 1573741820);
    assert_string_equal(xnode_attr(b.attrs, "to"), "a.test");
    assert_int_equal(bosh_attr_long(b.attrs, "wait", 0), 60);
    assert_int_equal(bosh_attr_long(b.attrs, "hold", 5), 1);
    assert_int_equal(bosh_attr_long(b.attrs, "pause", 7), 7);   /* absent: default */
    assert_string_equal(xnode_attr(b.attrs, "xml:lang"), "de");
    assert_string_equal(bosh_attr_xbosh(b.attrs, "version"), "1.0");
    assert_null(b.kids);
    bosh_body_clear(&b);
}

static void test_xbosh_attribute_any_prefix(void **state)
{
    bosh_body b;
    assert_int_equal(parse(BODY "xmlns:x='urn:xmpp:xbosh' rid='5' sid='s' x:restart='true'/>", &b), 0);
    assert_string_equal(bosh_attr_xbosh(b.attrs, "restart"), "true");
    assert_null(bosh_attr_xbosh(b.attrs, "version"));
    bosh_body_clear(&b);
}

static void test_children_in_order_and_namespaces(void **state)
{
    bosh_body b;
    assert_int_equal(parse(BODY "rid='2' sid='s'>"
                           "<message xmlns='jabber:client' to='b@a.test'><body>one</body></message>"
                           "<presence/>"
                           "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>"
                           "</body>", &b), 0);
    assert_int_equal(b.nkids, 3);
    xnode *m = b.kids;
    assert_string_equal(m->name, "message");
    assert_string_equal(m->ns, "jabber:client");
    xnode *p = m->next;
    assert_string_equal(p->name, "presence");
    assert_string_equal(p->ns, "jabber:client");    /* httpbind taken as jabber:client */
    xnode *a = p->next;
    assert_string_equal(a->ns, "urn:ietf:params:xml:ns:xmpp-sasl");
    assert_null(a->next);
    bosh_body_clear(&b);
}

static void test_refused_bodies(void **state)
{
    static const char *bad[] = {
        "",
        "<body",                                                            /* incomplete */
        BODY "rid='1'>",                                                    /* not closed */
        "<body xmlns='jabber:client' rid='1'/>",                            /* wrong namespace */
        "<html/>",
        BODY "rid='1'/><body/>",                                            /* two roots */
        "<!DOCTYPE body [<!ENTITY x 'y'>]>" BODY "rid='1'/>",               /* DTD */
        BODY "rid='1'><message><!-- c --></message></body>",                /* comment */
        "not xml at all",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bosh_body b;
        char err[128] = "";
        assert_int_not_equal(bosh_body_parse(bad[i], strlen(bad[i]), 65536, &b, err, sizeof err), 0);
        assert_true(err[0] != 0);
        assert_null(b.attrs);
        assert_null(b.kids);
    }
}

static void test_stanza_size_limit(void **state)
{
    char big[6000];
    int n = snprintf(big, sizeof big, BODY "rid='1'><message><body>");
    memset(big + n, 'x', 5000);
    strcpy(big + n + 5000, "</body></message></body>");
    bosh_body b;
    char err[128];
    assert_int_not_equal(bosh_body_parse(big, strlen(big), 1024, &b, err, sizeof err), 0);
    assert_int_equal(bosh_body_parse(big, strlen(big), 65536, &b, err, sizeof err), 0);
    bosh_body_clear(&b);
}

static void test_rid_attribute(void **state)
{
    static const struct { const char *rid; int ok; } cases[] = {
        { "1", 1 }, { "9007199254740991", 1 }, { "9007199254740992", 0 },   /* < 2^53 */
        { "0", 0 }, { "-1", 0 }, { "12a", 0 }, { "", 0 }, { " 5", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xnode *n = xnode_new("body", "http://jabber.org/protocol/httpbind");
        xnode_set_attr(n, "rid", cases[i].rid);
        uint64_t rid;
        assert_int_equal(bosh_attr_rid(n, &rid), cases[i].ok);
        xnode_free(n);
    }
    xnode *n = xnode_new("body", "http://jabber.org/protocol/httpbind");
    uint64_t rid;
    assert_false(bosh_attr_rid(n, &rid));
    xnode_free(n);
}

static void test_rid_window(void **state)
{
    /* next expected 100, window (requests) 2 */
    assert_int_equal(bosh_rid_check(100, 2, 100), RID_NEXT);
    assert_int_equal(bosh_rid_check(100, 2, 101), RID_AHEAD);
    assert_int_equal(bosh_rid_check(100, 2, 102), RID_OUTSIDE);
    assert_int_equal(bosh_rid_check(100, 2, 99), RID_OLD);
    assert_int_equal(bosh_rid_check(100, 2, 1), RID_OLD);
    assert_int_equal(bosh_rid_check(100, 3, 102), RID_AHEAD);
    assert_int_equal(bosh_rid_check(100, 1, 101), RID_OUTSIDE);
    assert_int_equal(bosh_rid_check(100, 2, UINT64_MAX), RID_OUTSIDE);
}

static void test_framing_qualify(void **state)
{
    static const struct { const char *in, *out; } cases[] = {
        { "<message to='a'><body>x</body></message>",
          "<message xmlns='jabber:client' to='a'><body>x</body></message>" },
        { "<presence/>", "<presence xmlns='jabber:client'/>" },
        { "<iq>", "<iq xmlns='jabber:client'>" },
        { "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
          "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" },
        { "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
          "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
          "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>" },
        { "<message body='xmlns=x'/>", "<message xmlns='jabber:client' body='xmlns=x'/>" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf b;
        buf_init(&b);
        framing_qualify(&b, cases[i].in, strlen(cases[i].in));
        assert_string_equal(b.data, cases[i].out);
        buf_free(&b);
    }
}

/* One namespace of 32,000 bytes inherited by 8,000 empty children (about
 * 64 KB): each child used to copy the URI, about 250 MB for one request. */
static void test_namespace_amplification_refused(void **state)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, BODY "rid='2' sid='s'><x xmlns='urn:x:");
    for (int i = 0; i < 32000; i++)
        buf_append(&b, "A", 1);
    buf_puts(&b, "'>");
    for (int i = 0; i < 8000; i++)
        buf_append(&b, "<a/>", 4);
    buf_puts(&b, "</x></body>");
    bosh_body bb;
    char err[128] = "";
    assert_int_equal(bosh_body_parse(b.data, b.len, 65536, &bb, err, sizeof err), -1);
    assert_non_null(strstr(err, "memory"));
    assert_null(bb.kids);
    buf_free(&b);
}

/* Each child is small, but the body keeps them all: together they get one
 * stanza's memory budget (the body is at most max_stanza + slack bytes). */
static void test_many_children_share_a_budget(void **state)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, BODY "rid='2' sid='s'>");
    for (int i = 0; i < 20000; i++)
        buf_puts(&b, "<a/>");
    buf_puts(&b, "</body>");
    bosh_body bb;
    char err[128] = "";
    assert_int_equal(bosh_body_parse(b.data, b.len, 65536, &bb, err, sizeof err), -1);
    assert_non_null(strstr(err, "memory"));
    /* a normal request with several stanzas is fine */
    buf_reset(&b);
    buf_puts(&b, BODY "rid='3' sid='s'>");
    for (int i = 0; i < 50; i++)
        buf_printf(&b, "<message to='u%d@a.test' type='chat'><body>hello %d</body></message>", i, i);
    buf_puts(&b, "</body>");
    assert_int_equal(bosh_body_parse(b.data, b.len, 65536, &bb, err, sizeof err), 0);
    assert_int_equal(bb.nkids, 50);
    assert_string_equal(bb.kids->ns, "jabber:client");
    bosh_body_clear(&bb);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_creation_request),
        cmocka_unit_test(test_xbosh_attribute_any_prefix),
        cmocka_unit_test(test_children_in_order_and_namespaces),
        cmocka_unit_test(test_refused_bodies),
        cmocka_unit_test(test_stanza_size_limit),
        cmocka_unit_test(test_rid_attribute),
        cmocka_unit_test(test_rid_window),
        cmocka_unit_test(test_framing_qualify),
        cmocka_unit_test(test_namespace_amplification_refused),
        cmocka_unit_test(test_many_children_share_a_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
