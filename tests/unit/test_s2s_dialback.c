/* test_s2s_dialback.c: the pure parts of the federation transport. The
 * dialback key (s2s_dialback.c) is XEP-0185's: checked against the XEP's own
 * example, and the per-start key differs by stream id and direction but is
 * stable for the same inputs. s2s_ns_to_client turns a stanza received in
 * jabber:server into the internal namespace (payload namespaces kept), and
 * the serializer then writes it back with no xmlns inside a jabber:server
 * stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "transport/s2s_internal.h"

static void key_xep0185_example(void **state)
{
    char out[65];
    s2s_dialback_key_secret("s3cr3tf0rd14lb4ck", "example.net", "example.com", "D60000229F",
                            out);
    assert_string_equal(out, "008c689ff366b50c63d69a3e2d2c0e0e1f8404b0118eb688a0102c87cb691bdc");
}

static void key_per_start(void **state)
{
    char k1[65], k2[65], k3[65], k4[65];
    s2s_dialback_key("b.test", "a.test", "id1", k1);
    s2s_dialback_key("b.test", "a.test", "id1", k2);
    s2s_dialback_key("b.test", "a.test", "id2", k3);
    s2s_dialback_key("a.test", "b.test", "id1", k4);
    assert_int_equal(strlen(k1), 64);
    assert_string_equal(k1, k2);
    assert_string_not_equal(k1, k3);
    assert_string_not_equal(k1, k4);
}

static void ns_to_client(void **state)
{
    xnode *m = xnode_new("message", NS_SERVER);
    xnode_set_attr(m, "to", "alice@a.test");
    xnode *body = xnode_add_child(m, "body", NS_SERVER);
    xnode_add_text(body, "hi", 2);
    xnode *x = xnode_add_child(m, "x", "jabber:x:oob");
    xnode_add_child(x, "url", "jabber:x:oob");
    s2s_ns_to_client(m);
    assert_string_equal(m->ns, NS_CLIENT);
    assert_string_equal(body->ns, NS_CLIENT);
    assert_string_equal(x->ns, "jabber:x:oob");
    char *s = xml_to_string(m, NS_CLIENT);
    assert_string_equal(s, "<message to='alice@a.test'><body>hi</body>"
                           "<x xmlns='jabber:x:oob'><url/></x></message>");
    free(s);
    xnode_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_xep0185_example),
        cmocka_unit_test(key_per_start),
        cmocka_unit_test(ns_to_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
