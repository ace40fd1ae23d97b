/* test_xml.c: unit tests for the stanza tree, the serializer and the
 * restricted stream parser (src/xml). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <time.h>

#include "xml/xml.h"
#include "xml/xml_fragment.h"

/* ---- tree and serializer ---------------------------------------------- */

static void test_tree_ops(void **state)
{
    xnode *iq = xnode_new("iq", NS_CLIENT);
    xnode_set_attr(iq, "type", "get");
    xnode_set_attr(iq, "id", "1");
    xnode_set_attr(iq, "type", "set");
    assert_string_equal(xnode_attr(iq, "type"), "set");
    xnode_set_attr(iq, "id", NULL);
    assert_null(xnode_attr(iq, "id"));
    assert_int_equal(iq->nattrs, 1);

    xnode *q = xnode_add_child(iq, "query", "jabber:iq:roster");
    xnode_add_text(iq, "ab", 2);
    xnode_add_text(iq, "cd", 2);          /* merged with the previous text */
    xnode *b = xnode_add_child(iq, "b", NS_CLIENT);
    assert_ptr_equal(xnode_first_element(iq), q);
    assert_ptr_equal(xnode_next_element(q), b);
    assert_null(xnode_next_element(b));
    assert_ptr_equal(xnode_child(iq, "query", NULL), q);
    assert_ptr_equal(xnode_child(iq, NULL, "jabber:iq:roster"), q);
    assert_null(xnode_child(iq, "query", NS_CLIENT));
    char *t = xnode_text(iq);
    assert_string_equal(t, "abcd");
    free(t);

    xnode *c = xnode_copy(iq);
    char *s1 = xml_to_string(iq, NS_CLIENT), *s2 = xml_to_string(c, NS_CLIENT);
    assert_string_equal(s1, s2);
    assert_string_equal(s1, "<iq type='set'><query xmlns='jabber:iq:roster'/>abcd<b/></iq>");
    free(s1);
    free(s2);

    xnode_unlink(q);
    assert_null(q->parent);
    assert_ptr_equal(xnode_first_element(c), c->children);
    s1 = xml_to_string(iq, NS_CLIENT);
    assert_string_equal(s1, "<iq type='set'>abcd<b/></iq>");
    free(s1);
    xnode_append(iq, q);
    assert_ptr_equal(iq->last, q);
    xnode_free(b);   /* still linked: unlinked first */
    s1 = xml_to_string(iq, NS_CLIENT);
    assert_string_equal(s1, "<iq type='set'>abcd<query xmlns='jabber:iq:roster'/></iq>");
    free(s1);
    xnode_free(iq);
    xnode_free(c);
    xnode_free(NULL);
}

static void test_escape(void **state)
{
    xnode *m = xnode_new("message", NS_CLIENT);
    xnode_set_attr(m, "to", "a'b\"c<d>&e");
    xnode_set_attr(m, "xml:lang", "de");
    xnode *body = xnode_add_child(m, "body", NS_CLIENT);
    const char *txt = "1 < 2 && 3 > 2 'q' \"d\"";
    xnode_add_text(body, txt, strlen(txt));
    char *s = xml_to_string(m, NS_CLIENT);
    assert_string_equal(s, "<message to='a&apos;b&quot;c&lt;d>&amp;e' xml:lang='de'>"
                           "<body>1 &lt; 2 &amp;&amp; 3 &gt; 2 'q' \"d\"</body></message>");
    free(s);
    /* different context namespace: xmlns written on the top element only */
    s = xml_to_string(m, NS_SERVER);
    assert_non_null(strstr(s, "<message xmlns='jabber:client' "));
    assert_non_null(strstr(s, "<body>"));
    free(s);
    s = xml_to_string(m, NULL);
    assert_non_null(strstr(s, "<message xmlns='jabber:client' "));
    free(s);
    xnode_free(m);
}

static void test_namespaced_attrs(void **state)
{
    xnode *n = xnode_new("x", "urn:a");
    n->attrs = calloc(2, sizeof *n->attrs);
    n->attrs[0].name = strdup("p:one");
    n->attrs[0].ns = xns_new("urn:p", 5);
    n->attrs[0].value = strdup("1");
    n->attrs[1].name = strdup("p:two");
    n->attrs[1].ns = xns_new("urn:p", 5);
    n->attrs[1].value = strdup("2");
    n->nattrs = 2;
    xnode_add_child(n, "y", "");
    char *s = xml_to_string(n, "urn:a");
    assert_string_equal(s, "<x xmlns:p='urn:p' p:one='1' p:two='2'><y xmlns=''/></x>");
    free(s);
    xnode_free(n);
}

/* ---- stream parser harness -------------------------------------------- */

typedef struct rec {
    int opens, closes, errors;
    xstream_err err;
    char detail[200];
    char *hdr_to, *hdr_lang, *hdr_ns, *default_ns;
    char *stanzas[16];
    int nstanzas;
    xstream *xs;
    int reset_on_stanza;    /* call xstream_reset when stanza #n arrives */
    int stop_on_stanza;
} rec;

static void r_open(void *ud, const xnode *h, const char *dns)
{
    rec *r = ud;
    r->opens++;
    free(r->hdr_to);
    free(r->hdr_lang);
    free(r->hdr_ns);
    free(r->default_ns);
    r->hdr_to = xnode_attr(h, "to") ? strdup(xnode_attr(h, "to")) : NULL;
    r->hdr_lang = xnode_attr(h, "xml:lang") ? strdup(xnode_attr(h, "xml:lang")) : NULL;
    r->hdr_ns = strdup(h->ns);
    r->default_ns = dns ? strdup(dns) : NULL;
}

static void r_stanza(void *ud, xnode *st)
{
    rec *r = ud;
    if (r->nstanzas < 16)
        r->stanzas[r->nstanzas++] = xml_to_string(st, r->default_ns ? r->default_ns : NS_CLIENT);
    xnode_free(st);
    if (r->reset_on_stanza == r->nstanzas)
        xstream_reset(r->xs);
    if (r->stop_on_stanza == r->nstanzas)
        xstream_stop(r->xs);
}

static void r_close(void *ud) { ((rec *)ud)->closes++; }

static void r_error(void *ud, xstream_err kind, const char *detail)
{
    rec *r = ud;
    r->errors++;
    r->err = kind;
    snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
}

static const xstream_cb rcb = { r_open, r_stanza, r_close, r_error };

static xstream *rec_new(rec *r, size_t max_stanza, unsigned depth)
{
    memset(r, 0, sizeof *r);
    r->xs = xstream_new(&rcb, r, max_stanza, depth);
    return r->xs;
}

static void rec_free(rec *r)
{
    xstream_free(r->xs);
    for (int i = 0; i < r->nstanzas; i++)
        free(r->stanzas[i]);
    free(r->hdr_to);
    free(r->hdr_lang);
    free(r->hdr_ns);
    free(r->default_ns);
}

static int feed_str(xstream *xs, const char *s) { return xstream_feed(xs, s, strlen(s)); }

/* Heap in use: the arena and the blocks malloc maps on their own (a large
 * hash table or buffer is one of those); 0 under ASan's allocator. */
static size_t heap_used(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

#define HDR "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " \
            "xmlns:stream='http://etherx.jabber.org/streams' to='example.org' " \
            "version='1.0' xml:lang='en'>"

static const char *normal_stream =
    HDR
    "<message to='a@b' type='chat'><body>hi &amp; &#x263a; \xc3\xa9</body></message> \n"
    "<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>"
    "<presence><show>away</show><x xmlns='urn:x' xml:lang='de'/></presence>"
    "</stream:stream>";

static void check_normal(rec *r)
{
    assert_int_equal(r->errors, 0);
    assert_int_equal(r->opens, 1);
    assert_int_equal(r->closes, 1);
    assert_string_equal(r->hdr_to, "example.org");
    assert_string_equal(r->hdr_lang, "en");
    assert_string_equal(r->hdr_ns, NS_STREAM);
    assert_string_equal(r->default_ns, NS_CLIENT);
    assert_int_equal(r->nstanzas, 3);
    assert_string_equal(r->stanzas[0],
        "<message to='a@b' type='chat'><body>hi &amp; \xe2\x98\xba \xc3\xa9</body></message>");
    assert_string_equal(r->stanzas[1],
        "<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>");
    assert_string_equal(r->stanzas[2],
        "<presence><show>away</show><x xmlns='urn:x' xml:lang='de'/></presence>");
}

static void test_stream_whole(void **state)
{
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    assert_int_equal(feed_str(xs, normal_stream), 0);
    check_normal(&r);
    rec_free(&r);
}

static void test_stream_byte_by_byte(void **state)
{
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    for (size_t i = 0; normal_stream[i]; i++)
        assert_int_equal(xstream_feed(xs, normal_stream + i, 1), 0);
    check_normal(&r);
    rec_free(&r);
}

static void test_stream_all_splits(void **state)
{
    size_t len = strlen(normal_stream);
    for (size_t cut = 1; cut < len; cut++) {
        rec r;
        xstream *xs = rec_new(&r, 65536, 16);
        assert_int_equal(xstream_feed(xs, normal_stream, cut), 0);
        assert_int_equal(xstream_feed(xs, normal_stream + cut, len - cut), 0);
        check_normal(&r);
        rec_free(&r);
    }
}

static void test_roundtrip(void **state)
{
    const char *st = "<message from='x@y/z' xml:lang='fr'><body>a&lt;b&amp;c&gt;d 'q' \"d\"</body>"
                     "<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>"
                     "<p style='a&apos;b&quot;c&amp;&lt;'>x</p></body></html>"
                     "<data xmlns='urn:d' xmlns:q='urn:q' q:attr='v'/></message>";
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR), 0);
    assert_int_equal(feed_str(xs, st), 0);
    assert_int_equal(r.nstanzas, 1);
    /* the one difference: escaping of > in text */
    assert_string_equal(r.stanzas[0], st);
    rec_free(&r);
}

/* An element in the XML namespace keeps its xml: prefix when serialized:
 * binding the default namespace to NS_XML is forbidden, so the stanza would
 * no longer parse at its recipient (found by fuzz_xml). */
static void test_roundtrip_xml_prefixed_element(void **state)
{
    const char *st = "<message><xml:a q='1'><b/><xml:c>t</xml:c></xml:a></message>";
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR), 0);
    assert_int_equal(feed_str(xs, st), 0);
    assert_int_equal(r.nstanzas, 1);
    assert_int_equal(r.errors, 0);
    /* written exactly as received, so what was written parses again */
    assert_string_equal(r.stanzas[0], st);
    rec_free(&r);
}

static void test_split_utf8(void **state)
{
    /* U+1F600 (4 bytes) and U+00E9 split across reads */
    const char *body = "<message><body>\xf0\x9f\x98\x80\xc3\xa9</body></message>";
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR), 0);
    const char *p = body;
    const char *split = strstr(body, "\xf0") + 2;
    assert_int_equal(xstream_feed(xs, p, (size_t)(split - p)), 0);
    const char *split2 = split + 3;   /* inside the é */
    assert_int_equal(xstream_feed(xs, split, (size_t)(split2 - split)), 0);
    assert_int_equal(feed_str(xs, split2), 0);
    assert_int_equal(r.errors, 0);
    assert_int_equal(r.nstanzas, 1);
    assert_string_equal(r.stanzas[0], body);
    rec_free(&r);
}

static void expect_error(const char *doc, size_t max_stanza, unsigned depth, xstream_err kind)
{
    rec r;
    xstream *xs = rec_new(&r, max_stanza, depth);
    assert_int_equal(feed_str(xs, doc), -1);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.err, kind);
    /* no callbacks after an error, and feed keeps failing */
    int n = r.nstanzas;
    assert_int_equal(feed_str(xs, "<message/>"), -1);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.nstanzas, n);
    rec_free(&r);
}

static void test_restricted(void **state)
{
    expect_error("<?xml version='1.0'?><!DOCTYPE stream:stream><stream:stream/>", 65536, 16,
                 XS_ERR_RESTRICTED);
    expect_error(HDR "<!-- hi -->", 65536, 16, XS_ERR_RESTRICTED);
    expect_error("<!-- hi -->" HDR, 65536, 16, XS_ERR_RESTRICTED);
    expect_error(HDR "<message><?pi data?></message>", 65536, 16, XS_ERR_RESTRICTED);
    expect_error("<?pi data?>" HDR, 65536, 16, XS_ERR_RESTRICTED);
    expect_error(HDR "<message>&foo;</message>", 65536, 16, XS_ERR_XML);
    expect_error(HDR "<message to='&foo;'/>", 65536, 16, XS_ERR_XML);
    expect_error("<?xml version='1.0' encoding='ISO-8859-1'?>" HDR, 65536, 16, XS_ERR_XML);
}

static void test_billion_laughs(void **state)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>");
    for (int i = 1; i < 10; i++) {
        char prev[8];
        snprintf(prev, sizeof prev, i == 1 ? "lol" : "lol%d", i - 1);
        buf_printf(&b, "<!ENTITY lol%d '", i);
        for (int k = 0; k < 10; k++)
            buf_printf(&b, "&%s;", prev);
        buf_puts(&b, "'>");
    }
    buf_puts(&b, "]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>&lol9;");
    clock_t t0 = clock();
    expect_error(b.data, 65536, 16, XS_ERR_RESTRICTED);
    assert_true((clock() - t0) < CLOCKS_PER_SEC / 10);
    buf_free(&b);
}

static void test_bad_xml(void **state)
{
    expect_error(HDR "<message><body>x</message>", 65536, 16, XS_ERR_XML);
    expect_error(HDR "<message><body>\xff\xfe</body></message>", 65536, 16, XS_ERR_XML);
    expect_error(HDR "<message><body>\xc3\x28</body></message>", 65536, 16, XS_ERR_XML);
    expect_error(HDR "<message><body>\xed\xa0\x80</body></message>", 65536, 16, XS_ERR_XML);
    expect_error(HDR "<message a='1' a='2'/>", 65536, 16, XS_ERR_XML);
    expect_error(HDR "<p:message/>", 65536, 16, XS_ERR_XML);
    expect_error(HDR "junk", 65536, 16, XS_ERR_XML);

    /* error detail is expat's message */
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR "<a></b>"), -1);
    assert_non_null(strstr(r.detail, "mismatched tag"));
    rec_free(&r);
}

static void test_limits(void **state)
{
    /* huge attribute value in one piece */
    buf b;
    buf_init(&b);
    buf_puts(&b, HDR "<message to='");
    for (int i = 0; i < 5000; i++)
        buf_puts(&b, "a");
    buf_puts(&b, "'/>");
    expect_error(b.data, 4096, 16, XS_ERR_TOO_BIG);
    buf_free(&b);

    /* many attributes */
    buf_init(&b);
    buf_puts(&b, HDR "<message");
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, " a%d='x'", i);
    buf_puts(&b, "/>");
    expect_error(b.data, 4096, 16, XS_ERR_TOO_BIG);
    buf_free(&b);

    /* deep nesting */
    buf_init(&b);
    buf_puts(&b, HDR);
    for (int i = 0; i < 20; i++)
        buf_puts(&b, "<a>");
    expect_error(b.data, 65536, 16, XS_ERR_DEPTH);
    buf_free(&b);

    /* exactly max depth is fine */
    rec r;
    xstream *xs = rec_new(&r, 65536, 3);
    assert_int_equal(feed_str(xs, HDR "<a><b><c/></b></a>"), 0);
    assert_int_equal(r.nstanzas, 1);
    assert_int_equal(feed_str(xs, "<a><b><c><d/></c></b></a>"), -1);
    assert_int_equal(r.err, XS_ERR_DEPTH);
    rec_free(&r);

    /* stream header too big */
    buf_init(&b);
    buf_puts(&b, "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='");
    for (int i = 0; i < 10000; i++)
        buf_puts(&b, "a");
    expect_error(b.data, 65536, 16, XS_ERR_TOO_BIG);
    buf_free(&b);

    buf_init(&b);
    buf_puts(&b, "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'");
    for (int i = 0; i < 100; i++)
        buf_printf(&b, " a%d='x'", i);
    buf_puts(&b, ">");
    expect_error(b.data, 65536, 16, XS_ERR_TOO_BIG);
    buf_free(&b);
}

static void test_too_big_while_arriving(void **state)
{
    /* a stanza that never ends, fed in small pieces: refused as soon as it
     * passes the limit, long before it completes */
    rec r;
    xstream *xs = rec_new(&r, 10000, 16);
    assert_int_equal(feed_str(xs, HDR "<message><body>"), 0);
    char chunk[100];
    memset(chunk, 'x', sizeof chunk);
    size_t fed = 0;
    int rc = 0;
    while (fed < 1000000 && (rc = xstream_feed(xs, chunk, sizeof chunk)) == 0)
        fed += sizeof chunk;
    assert_int_equal(rc, -1);
    assert_int_equal(r.err, XS_ERR_TOO_BIG);
    assert_true(fed < 10100);
    rec_free(&r);

    /* an attribute value that keeps arriving (expat reports nothing until
     * the tag ends) */
    xs = rec_new(&r, 10000, 16);
    assert_int_equal(feed_str(xs, HDR "<message to='"), 0);
    fed = 0;
    while (fed < 1000000 && (rc = xstream_feed(xs, chunk, sizeof chunk)) == 0)
        fed += sizeof chunk;
    assert_int_equal(rc, -1);
    assert_int_equal(r.err, XS_ERR_TOO_BIG);
    assert_true(fed < 10100);
    rec_free(&r);

    /* a stanza just under the limit passes; the limit can be changed */
    xs = rec_new(&r, 100, 16);
    assert_int_equal(feed_str(xs, HDR "<message><body>0123456789</body></message>"), 0);
    assert_int_equal(r.nstanzas, 1);
    xstream_set_max_stanza(xs, 20);
    assert_int_equal(feed_str(xs, "<message><body>0123456789</body></message>"), -1);
    assert_int_equal(r.err, XS_ERR_TOO_BIG);
    rec_free(&r);
}

static void test_keepalive_and_text(void **state)
{
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR " \n\t "), 0);
    assert_int_equal(feed_str(xs, "<presence/>"), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(feed_str(xs, " "), 0);
    assert_int_equal(feed_str(xs, "\r\n<presence/>  </stream:stream>"), 0);
    assert_int_equal(r.nstanzas, 2);
    assert_string_equal(r.stanzas[0], "<presence/>");
    assert_int_equal(r.closes, 1);
    assert_int_equal(r.errors, 0);
    rec_free(&r);

    expect_error(HDR "hello<presence/>", 65536, 16, XS_ERR_XML);
}

static void test_reset_in_callback(void **state)
{
    /* SASL success: the client sends the new stream header in the same
     * packet as its last stanza; the new parser must see it */
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    r.reset_on_stanza = 1;
    const char *data = HDR "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>"
                       "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                       "to='second.example'><iq type='set' id='b'/>";
    assert_int_equal(feed_str(xs, data), 0);
    assert_int_equal(r.errors, 0);
    assert_int_equal(r.opens, 2);
    assert_string_equal(r.hdr_to, "second.example");
    assert_int_equal(r.nstanzas, 2);
    assert_string_equal(r.stanzas[0], "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>");
    assert_string_equal(r.stanzas[1], "<iq type='set' id='b'/>");
    rec_free(&r);

    /* the same with an empty element and the stream split byte by byte */
    xs = rec_new(&r, 65536, 16);
    r.reset_on_stanza = 1;
    const char *d2 = HDR "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" HDR "<presence/>";
    for (size_t i = 0; d2[i]; i++)
        assert_int_equal(xstream_feed(xs, d2 + i, 1), 0);
    assert_int_equal(r.opens, 2);
    assert_int_equal(r.nstanzas, 2);
    assert_string_equal(r.stanzas[1], "<presence/>");
    rec_free(&r);

    /* reset outside a callback; a fresh stream after an error */
    xs = rec_new(&r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR "<a></b>"), -1);
    xstream_reset(xs);
    assert_int_equal(feed_str(xs, HDR "<presence/>"), 0);
    assert_int_equal(r.opens, 2);
    assert_int_equal(r.nstanzas, 1);
    rec_free(&r);
}

static void reset_on_error(void *ud, xstream_err kind, const char *detail)
{
    rec *r = ud;
    r_error(ud, kind, detail);
    xstream_reset(r->xs);
}

static void test_reset_in_error_callback(void **state)
{
    rec r;
    xstream_cb cb = rcb;
    cb.error = reset_on_error;
    memset(&r, 0, sizeof r);
    r.xs = xstream_new(&cb, &r, 65536, 16);
    assert_int_equal(feed_str(r.xs, HDR "<a></b><presence/>"), -1);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.nstanzas, 0);
    /* the stream was reset: a new header is accepted */
    assert_int_equal(feed_str(r.xs, HDR "<presence/>"), 0);
    assert_int_equal(r.opens, 2);
    assert_int_equal(r.nstanzas, 1);
    rec_free(&r);
}

static void test_stop_in_callback(void **state)
{
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    r.stop_on_stanza = 1;
    assert_int_equal(feed_str(xs, HDR "<presence/><presence/><a></b>"), 0);
    assert_int_equal(r.nstanzas, 1);
    assert_int_equal(r.errors, 0);
    assert_int_equal(feed_str(xs, "<presence/>"), 0);
    assert_int_equal(r.nstanzas, 1);
    rec_free(&r);
}

static void test_shrink_after_big_stanza(void **state)
{
    /* a big start tag grows expat's buffer; the parser is then replaced and
     * the stream continues with the same namespaces */
    rec r;
    xstream *xs = rec_new(&r, 200000, 16);
    assert_int_equal(feed_str(xs, HDR), 0);
    buf b;
    buf_init(&b);
    buf_puts(&b, "<message to='");
    for (int i = 0; i < 50000; i++)
        buf_puts(&b, "a");
    buf_puts(&b, "'/>");
    assert_int_equal(xstream_feed(xs, b.data, b.len), 0);
    buf_free(&b);
    assert_int_equal(feed_str(xs, "<presence><x xmlns='urn:x'/></presence><stream:features/>"), 0);
    assert_int_equal(feed_str(xs, "<a>x</b>"), -1);   /* still checks well-formedness */
    assert_int_equal(r.nstanzas, 3);
    assert_string_equal(r.stanzas[1], "<presence><x xmlns='urn:x'/></presence>");
    assert_string_equal(r.stanzas[2], "<features xmlns='http://etherx.jabber.org/streams'/>");
    rec_free(&r);

    xs = rec_new(&r, 200000, 16);
    buf_init(&b);
    buf_puts(&b, HDR "<message to='");
    for (int i = 0; i < 50000; i++)
        buf_puts(&b, "a");
    buf_puts(&b, "'/>");
    assert_int_equal(xstream_feed(xs, b.data, b.len), 0);
    buf_free(&b);
    assert_int_equal(feed_str(xs, "</stream:stream>"), 0);
    assert_int_equal(r.closes, 1);
    assert_int_equal(r.errors, 0);
    rec_free(&r);
}

static int count_stanzas;

static void count_stanza(void *ud, xnode *st)
{
    count_stanzas++;
    if (strcmp(st->ns, NS_CLIENT) != 0)
        fail_msg("namespace lost after re-priming: %s", st->ns);
    xnode_free(st);
}

static void test_distinct_names_bounded(void **state)
{
    /* expat remembers every element/attribute name it has seen; the stream
     * must replace its parser before that grows without bound */
    xstream_cb cb = { NULL, count_stanza, NULL, r_error };
    rec r;
    memset(&r, 0, sizeof r);
    count_stanzas = 0;
    xstream *xs = xstream_new(&cb, &r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR), 0);
    size_t before = heap_used();
    char s[64];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(s, sizeof s, "<e%d a%d='1'/>", i, i);
        assert_int_equal(xstream_feed(xs, s, (size_t)n), 0);
    }
    size_t after = heap_used();
    assert_int_equal(count_stanzas, 20000);
    assert_int_equal(r.errors, 0);
    /* without the bound this is about 1.9 MB (0 under ASan's allocator) */
    assert_true(after < before || after - before < 256 * 1024);
    xstream_free(xs);
}

static void test_no_default_ns(void **state)
{
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    assert_int_equal(feed_str(xs, "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><foo/>"), 0);
    assert_int_equal(r.opens, 1);
    assert_null(r.default_ns);
    assert_int_equal(r.nstanzas, 1);
    rec_free(&r);
}

/* ---- namespace sharing, tree memory budget, parser renewal ------------- */

static xnode *kept;

static void keep_stanza(void *ud, xnode *st)
{
    xnode_free(kept);
    kept = st;
}

static void test_ns_shared(void **state)
{
    /* every element of a namespace points at one string, and so do copies
     * (the router copies a stanza per recipient) */
    xstream_cb cb = { NULL, keep_stanza, NULL, r_error };
    rec r;
    memset(&r, 0, sizeof r);
    kept = NULL;
    xstream *xs = xstream_new(&cb, &r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR), 0);
    assert_int_equal(feed_str(xs, "<iq type='set' id='1'><x xmlns='urn:long:ns' xmlns:p='urn:p'>"
                                  "<a p:k='1'/><a p:k='2'><b/></a><c xmlns='urn:long:ns'/></x></iq>"), 0);
    assert_int_equal(r.errors, 0);
    assert_non_null(kept);
    xnode *x = xnode_first_element(kept);
    xnode *a1 = xnode_first_element(x), *a2 = xnode_next_element(a1);
    xnode *c = xnode_next_element(a2), *b = xnode_first_element(a2);
    assert_string_equal(x->ns, "urn:long:ns");
    assert_ptr_equal(a1->ns, x->ns);
    assert_ptr_equal(a2->ns, x->ns);
    assert_ptr_equal(b->ns, x->ns);
    assert_ptr_equal(c->ns, x->ns);   /* declared again: still the same string */
    assert_string_equal(a1->attrs[0].ns, "urn:p");
    assert_ptr_equal(a1->attrs[0].ns, a2->attrs[0].ns);
    xnode *copy = xnode_copy(kept);
    xnode *cx = xnode_first_element(copy);
    assert_ptr_equal(cx->ns, x->ns);
    assert_ptr_equal(xnode_first_element(cx)->attrs[0].ns, a1->attrs[0].ns);
    char *s1 = xml_to_string(kept, NS_CLIENT), *s2 = xml_to_string(copy, NS_CLIENT);
    assert_string_equal(s1, s2);
    assert_non_null(strstr(s1, "<x xmlns='urn:long:ns'><a xmlns:p='urn:p' p:k='1'/>"));
    free(s1);
    free(s2);
    /* the original may go first (another worker frees the copy later) */
    xnode_free(kept);
    kept = NULL;
    xstream_free(xs);
    xnode_set_ns(cx, "urn:other");
    assert_string_equal(cx->ns, "urn:other");
    assert_string_equal(xnode_first_element(cx)->ns, "urn:long:ns");
    xnode_free(copy);
    /* the server's own nodes: "" and jabber:client are never allocated */
    xnode *m = xnode_new("message", NS_CLIENT), *e = xnode_new("x", NULL);
    assert_true(xns_is_static(m->ns));
    assert_true(xns_is_static(e->ns));
    assert_string_equal(e->ns, "");
    xnode_free(m);
    xnode_free(e);
}

/* The attack of the hardening issue: one 32,000-byte namespace inherited by
 * 8,000 empty children, about 64 KB of input (below max_stanza), made each
 * child copy the URI: about 250 MB of tree. */
static char *amplification_payload(size_t *len)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "<x xmlns='urn:x:");
    for (int i = 0; i < 32000; i++)
        buf_append(&b, "A", 1);
    buf_puts(&b, "'>");
    for (int i = 0; i < 8000; i++)
        buf_append(&b, "<a/>", 4);
    *len = b.len;
    return b.data;
}

static void test_ns_amplification_bounded(void **state)
{
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR), 0);
    size_t len;
    char *p = amplification_payload(&len);
    assert_true(len < 65536);
    size_t before = heap_used();
    int rc = 0;
    for (size_t off = 0; off < len && rc == 0; off += 4096)   /* socket-sized reads */
        rc = xstream_feed(xs, p + off, len - off < 4096 ? len - off : 4096);
    size_t after = heap_used();   /* the partial tree is still held */
    assert_int_equal(rc, -1);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.err, XS_ERR_TOO_BIG);
    assert_non_null(strstr(r.detail, "memory"));
    /* the tree's budget at max_stanza 64 KiB is 576 KiB; expat holds the
     * 32 KB start tag besides (its buffer and the namespace binding); it
     * was about 250 MB (mallinfo reports 0 under ASan's allocator) */
    assert_true(after < before || after - before < XML_TREE_BUDGET(65536) + 4 * 65536);
    free(p);
    rec_free(&r);
}

static void test_tree_budget(void **state)
{
    /* dense but realistic markup (a bookmark list, 6x its text as a tree)
     * fits a 64 KB stanza's budget */
    buf b;
    buf_init(&b);
    buf_puts(&b, "<iq type='set' id='b'><query xmlns='jabber:iq:private'>"
                 "<storage xmlns='storage:bookmarks'>");
    for (int i = 0; i < 550; i++)
        buf_printf(&b, "<conference autojoin='true' jid='room%d@conference.example.org' "
                       "name='Room %d'><nick>nick</nick></conference>", i, i);
    buf_puts(&b, "</storage></query></iq>");
    assert_true(b.len < 65536);
    rec r;
    xstream *xs = rec_new(&r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR), 0);
    assert_int_equal(xstream_feed(xs, b.data, b.len), 0);
    assert_int_equal(r.errors, 0);
    assert_int_equal(r.nstanzas, 1);
    assert_true(xstream_tree_bytes(xs) > b.len);   /* charged, and more than the text */
    rec_free(&r);

    /* empty elements: 4 input bytes, over 100 bytes of tree each */
    buf_reset(&b);
    buf_puts(&b, "<message>");
    for (int i = 0; i < 15000; i++)
        buf_puts(&b, "<a/>");
    buf_puts(&b, "</message>");
    xs = rec_new(&r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR), 0);
    assert_int_equal(xstream_feed(xs, b.data, b.len), -1);
    assert_int_equal(r.err, XS_ERR_TOO_BIG);
    assert_non_null(strstr(r.detail, "memory"));
    assert_int_equal(r.nstanzas, 0);
    rec_free(&r);

    /* a smaller budget set explicitly; a total over all stanzas */
    xs = rec_new(&r, 65536, 16);
    xstream_set_tree_budget(xs, 2048, 0);
    assert_int_equal(feed_str(xs, HDR "<message><body>short</body></message>"), 0);
    assert_int_equal(feed_str(xs, "<message>"), 0);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = feed_str(xs, "<x>some text</x>");
    assert_int_equal(rc, -1);
    assert_int_equal(r.err, XS_ERR_TOO_BIG);
    rec_free(&r);
    xs = rec_new(&r, 65536, 16);
    xstream_set_tree_budget(xs, 0, 4096);
    assert_int_equal(feed_str(xs, HDR), 0);
    rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = feed_str(xs, "<presence/>");
    assert_int_equal(rc, -1);
    assert_true(r.nstanzas > 5 && r.nstanzas < 100);
    rec_free(&r);
    buf_free(&b);
}

/* Stanzas with fresh names, pipelined so that no read ever ends on a
 * stanza boundary: the parser must still be replaced (at a boundary inside
 * a read), and parsing must go on correctly across each replacement with
 * the stream header's namespace declarations (default and prefixed). */
static int renew_seen;
static bool renew_bad;

static void renew_check(void *ud, xnode *st)
{
    char name[32], attr[32];
    snprintf(name, sizeof name, "e%d", renew_seen);
    snprintf(attr, sizeof attr, "p:a%d", renew_seen);
    xnode *k = xnode_first_element(st);
    char *t = xnode_text(k);
    if (strcmp(st->name, name) || strcmp(st->ns, "urn:p") || st->nattrs != 2 ||
        strcmp(st->attrs[0].name, attr) || strcmp(st->attrs[0].ns, "urn:p") ||
        strcmp(st->attrs[1].value, "w") || !k || strcmp(k->ns, NS_CLIENT) || strcmp(t, "t&<"))
        renew_bad = true;
    free(t);
    renew_seen++;
    xnode_free(st);
}

static void test_renew_mid_read(void **state)
{
    xstream_cb cb = { NULL, renew_check, NULL, r_error };
    rec r;
    memset(&r, 0, sizeof r);
    renew_seen = 0;
    renew_bad = false;
    xstream *xs = xstream_new(&cb, &r, 65536, 16);
    assert_int_equal(feed_str(xs, "<stream:stream xmlns='jabber:client' xmlns:p='urn:p' "
                                  "xmlns:stream='http://etherx.jabber.org/streams'>"), 0);
    size_t before = heap_used();
    enum { N = 20000 };
    char cur[128], next[128];
    int curlen = snprintf(cur, sizeof cur, "<p:e0 p:a0='v' b0='w'><c0>t&amp;&lt;</c0></p:e0>");
    size_t half = (size_t)curlen / 2;
    assert_int_equal(xstream_feed(xs, cur, half), 0);
    for (int i = 0; i < N; i++) {
        /* the rest of stanza i and the first half of stanza i+1 */
        int nextlen = i + 1 < N ? snprintf(next, sizeof next,
                                           "<p:e%d p:a%d='v' b%d='w'><c%d>t&amp;&lt;</c%d></p:e%d>",
                                           i + 1, i + 1, i + 1, i + 1, i + 1, i + 1)
                                : snprintf(next, sizeof next, "<presence><x>");   /* never ends */
        char chunk[256];
        size_t rest = (size_t)curlen - half, nhalf = (size_t)nextlen / 2;
        memcpy(chunk, cur + half, rest);
        memcpy(chunk + rest, next, nhalf);
        assert_int_equal(xstream_feed(xs, chunk, rest + nhalf), 0);
        memcpy(cur, next, (size_t)nextlen);
        curlen = nextlen;
        half = nhalf;
    }
    size_t after = heap_used();
    assert_int_equal(r.errors, 0);
    assert_int_equal(renew_seen, N);   /* all of them, none since */
    assert_false(renew_bad);
    /* without renewal inside a read about 3 MB (0 under ASan's allocator) */
    assert_true(after < before || after - before < 256 * 1024);
    xstream_free(xs);
}

/* XML the server stored (private XML, offline messages) was accepted under a
 * stream's budget; parsed back alone as a fragment it must not be refused
 * however dense it is. */
static void test_fragment_dense_markup(void **state)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "<storage xmlns='storage:bookmarks'>");
    for (int i = 0; i < 3000; i++)
        buf_puts(&b, "<a/>");
    buf_puts(&b, "</storage>");
    xnode *n = xml_fragment_parse(b.data, b.len, NULL, 4);
    assert_non_null(n);
    int k = 0;
    for (xnode *c = xnode_first_element(n); c; c = xnode_next_element(c)) {
        assert_ptr_equal(c->ns, n->ns);
        k++;
    }
    assert_int_equal(k, 3000);
    xnode_free(n);
    buf_free(&b);
}

/* The same through a prefixed attribute: every p:k used to copy the 30 KB
 * URI of p (about 60 MB here); now they all share it and the stanza,
 * within its budget, is accepted. */
static void test_attr_ns_shared_not_copied(void **state)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "<message><x xmlns:p='urn:p:");
    for (int i = 0; i < 30000; i++)
        buf_append(&b, "B", 1);
    buf_puts(&b, "'>");
    for (int i = 0; i < 2000; i++)
        buf_puts(&b, "<a p:k='1'/>");
    buf_puts(&b, "</x></message>");
    xstream_cb cb = { NULL, keep_stanza, NULL, r_error };
    rec r;
    memset(&r, 0, sizeof r);
    kept = NULL;
    xstream *xs = xstream_new(&cb, &r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR), 0);
    size_t before = heap_used();
    assert_int_equal(xstream_feed(xs, b.data, b.len), 0);
    size_t after = heap_used();
    assert_int_equal(r.errors, 0);
    assert_non_null(kept);
    xnode *x = xnode_first_element(kept);
    const char *ns = xnode_first_element(x)->attrs[0].ns;
    assert_int_equal(strlen(ns), 30000 + 6);
    int n = 0;
    for (xnode *a = xnode_first_element(x); a; a = xnode_next_element(a), n++)
        assert_ptr_equal(a->attrs[0].ns, ns);
    assert_int_equal(n, 2000);
    assert_true(after < before || after - before < XML_TREE_BUDGET(65536) + 4 * 65536);
    xnode_free(kept);
    kept = NULL;
    xstream_free(xs);
    buf_free(&b);
}

/* Issue 17 item 4: a parsed or copied element shares one allocation with
 * its name, attribute array and strings (xnode_block.h). Every edit the
 * API allows must still work on such a node and free cleanly: a wrong
 * free of a piece inside the block aborts in glibc (and ASan / valgrind
 * report it). */
static void test_block_nodes_editable(void **state)
{
    xstream_cb cb = { NULL, keep_stanza, NULL, r_error };
    rec r;
    memset(&r, 0, sizeof r);
    kept = NULL;
    xstream *xs = xstream_new(&cb, &r, 65536, 16);
    assert_int_equal(feed_str(xs, HDR), 0);
    assert_int_equal(feed_str(xs, "<message to='b@x' type='chat' id='m1' xml:lang='en'>"
                                  "<body>hello</body><x xmlns='urn:x' p='1'/></message>"), 0);
    assert_int_equal(r.errors, 0);
    xnode *m = kept;
    kept = NULL;
    assert_non_null(m);
    /* replace, add (the array moves out of the block), remove */
    xnode_set_attr(m, "to", "c@x");
    xnode_set_attr(m, "from", "a@x/r");
    xnode_set_attr(m, "id", NULL);
    xnode_set_attr(m, "type", "normal");
    assert_string_equal(xnode_attr(m, "to"), "c@x");
    assert_string_equal(xnode_attr(m, "from"), "a@x/r");
    assert_null(xnode_attr(m, "id"));
    assert_string_equal(xnode_attr(m, "xml:lang"), "en");
    /* text merged onto a parsed text node (its text moves out) */
    xnode *body = xnode_child(m, "body", NULL);
    xnode_add_text(body, " world", 6);
    char *t = xnode_text(body);
    assert_string_equal(t, "hello world");
    free(t);
    /* copies are blocks too: edit a copy, unlink a child, free apart */
    xnode *c = xnode_copy(m);
    xnode *x = xnode_child(c, "x", "urn:x");
    xnode_unlink(x);
    xnode_set_attr(x, "p", NULL);
    xnode_set_attr(x, "q", "2");
    xnode_set_attr(c, "to", NULL);
    char *s = xml_to_string(c, NS_CLIENT);
    assert_string_equal(s, "<message type='normal' xml:lang='en' from='a@x/r'>"
                           "<body>hello world</body></message>");
    free(s);
    s = xml_to_string(x, NS_CLIENT);
    assert_string_equal(s, "<x xmlns='urn:x' q='2'/>");
    free(s);
    xnode_free(c);
    xnode_free(x);
    s = xml_to_string(m, NS_CLIENT);
    assert_string_equal(s, "<message to='c@x' type='normal' xml:lang='en' from='a@x/r'>"
                           "<body>hello world</body><x xmlns='urn:x' p='1'/></message>");
    free(s);
    xnode_free(m);
    xstream_free(xs);
}

/* An idle stream's parser is freed between stanzas (xstream_release) and
 * recreated on the next byte: the stanzas that follow keep the header's
 * default namespace and its prefixes, and the limits still apply. */
static void test_release_idle(void **state)
{
    rec r;
    xstream *xs = rec_new(&r, 1024, 16);
    assert_false(xstream_release(xs));   /* no stream header yet */
    assert_int_equal(feed_str(xs, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                                  "xmlns:p='urn:p' xmlns:stream='http://etherx.jabber.org/streams' "
                                  "to='example.org' version='1.0'>"), 0);
    assert_true(xstream_release(xs));
    assert_true(xstream_released(xs));
    assert_false(xstream_release(xs));   /* already */
    assert_int_equal(feed_str(xs, "<message to='a@b'><body>1</body><p:x p:a='v'/></message>"), 0);
    assert_false(xstream_released(xs));
    /* mid-stanza: nothing is released */
    assert_int_equal(feed_str(xs, "<iq type='get' id='q'><query xmlns='jabber:iq:roster'>"), 0);
    assert_false(xstream_release(xs));
    assert_int_equal(feed_str(xs, "</query></iq>"), 0);
    assert_true(xstream_release(xs));
    /* a prefixed stream element after release: </stream:stream> closes */
    assert_int_equal(feed_str(xs, "<presence><show>away</show></presence>"), 0);
    assert_true(xstream_release(xs));
    assert_int_equal(feed_str(xs, "<stream:features/>"), 0);
    assert_int_equal(r.errors, 0);
    assert_int_equal(r.opens, 1);
    assert_int_equal(r.nstanzas, 4);
    assert_string_equal(r.stanzas[0],
        "<message to='a@b'><body>1</body><x xmlns='urn:p' xmlns:p='urn:p' p:a='v'/></message>");
    assert_string_equal(r.stanzas[1],
        "<iq type='get' id='q'><query xmlns='jabber:iq:roster'/></iq>");
    assert_string_equal(r.stanzas[2], "<presence><show>away</show></presence>");
    assert_true(strstr(r.stanzas[3], "http://etherx.jabber.org/streams") != NULL);
    assert_true(xstream_release(xs));
    assert_int_equal(feed_str(xs, "</stream:stream>"), 0);
    assert_int_equal(r.closes, 1);
    rec_free(&r);

    /* hostile input after a release is refused as before */
    xs = rec_new(&r, 256, 4);
    assert_int_equal(feed_str(xs, HDR), 0);
    assert_true(xstream_release(xs));
    char big[600];
    memset(big, 'a', sizeof big);
    memcpy(big, "<message><body>", 15);
    assert_int_equal(xstream_feed(xs, big, sizeof big), -1);
    assert_int_equal(r.err, XS_ERR_TOO_BIG);
    rec_free(&r);

    xs = rec_new(&r, 4096, 4);
    assert_int_equal(feed_str(xs, HDR), 0);
    assert_true(xstream_release(xs));
    assert_int_equal(feed_str(xs, "<a><b><c><d><e/></d></c></b></a>"), -1);
    assert_int_equal(r.err, XS_ERR_DEPTH);
    rec_free(&r);

    xs = rec_new(&r, 4096, 4);
    assert_int_equal(feed_str(xs, HDR), 0);
    assert_true(xstream_release(xs));
    assert_int_equal(feed_str(xs, "<!DOCTYPE x>"), -1);
    assert_int_equal(r.errors, 1);
    rec_free(&r);

    /* an undeclared prefix is still an error: the new parser knows only
     * the header's declarations */
    xs = rec_new(&r, 4096, 4);
    assert_int_equal(feed_str(xs, HDR), 0);
    assert_true(xstream_release(xs));
    assert_int_equal(feed_str(xs, "<q:x/>"), -1);
    assert_int_equal(r.err, XS_ERR_XML);
    rec_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_ops),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_namespaced_attrs),
        cmocka_unit_test(test_stream_whole),
        cmocka_unit_test(test_stream_byte_by_byte),
        cmocka_unit_test(test_stream_all_splits),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_split_utf8),
        cmocka_unit_test(test_restricted),
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_bad_xml),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_too_big_while_arriving),
        cmocka_unit_test(test_keepalive_and_text),
        cmocka_unit_test(test_reset_in_callback),
        cmocka_unit_test(test_reset_in_error_callback),
        cmocka_unit_test(test_stop_in_callback),
        cmocka_unit_test(test_shrink_after_big_stanza),
        cmocka_unit_test(test_distinct_names_bounded),
        cmocka_unit_test(test_no_default_ns),
        cmocka_unit_test(test_roundtrip_xml_prefixed_element),
        cmocka_unit_test(test_ns_shared),
        cmocka_unit_test(test_ns_amplification_bounded),
        cmocka_unit_test(test_tree_budget),
        cmocka_unit_test(test_renew_mid_read),
        cmocka_unit_test(test_fragment_dense_markup),
        cmocka_unit_test(test_attr_ns_shared_not_copied),
        cmocka_unit_test(test_block_nodes_editable),
        cmocka_unit_test(test_release_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
