/* test_sasl2.c: unit tests for SASL2 <authenticate/> parsing (XEP-0388 with
 * Bind 2 and FAST children) and the HT-SHA-256-* computations and token
 * derivation of XEP-0484 (src/xmpp/sasl2.c). Expected HMACs were computed
 * independently with Python's hmac module. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml/xml_fragment.h"
#include "xmpp/sasl2.h"

static xnode *parse(const char *s)
{
    xnode *n = xml_fragment_parse(s, strlen(s), "jabber:client", 16);
    assert_non_null(n);
    return n;
}

static sasl2_parse_result parse_auth(const char *s, sasl2_auth *a)
{
    xnode *n = parse(s);
    sasl2_parse_result r = sasl2_auth_parse(n, a);
    xnode_free(n);
    return r;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void test_parse_full(void **state)
{
    (void)state;
    sasl2_auth a;
    assert_int_equal(parse_auth(
        "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'>"
        "<initial-response>AGFsaWNlAHNlY3JldA==</initial-response>"
        "<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>X</software></user-agent>"
        "<bind xmlns='urn:xmpp:bind:0'><tag>Phone</tag>"
        "<enable xmlns='urn:xmpp:carbons:2'/><enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>"
        "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-ENDP'/>"
        "</authenticate>", &a), SASL2_OK);
    assert_string_equal(a.mechanism, "PLAIN");
    assert_string_equal(a.initial, "AGFsaWNlAHNlY3JldA==");
    assert_string_equal(a.agent_id, "d4565fa7-4d72-4749-b3d3-740edbf87770");
    assert_true(a.bind);
    assert_string_equal(a.tag, "Phone");
    assert_true(a.bind_carbons);
    assert_true(a.bind_sm);
    assert_true(a.bind_sm_resume);
    assert_int_equal(a.request_token, HT_ENDP);
    assert_false(a.fast);
    sasl2_auth_clear(&a);
}

static void test_parse_fast_and_errors(void **state)
{
    (void)state;
    sasl2_auth a;
    assert_int_equal(parse_auth("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='HT-SHA-256-NONE'>"
                                "<initial-response/><fast xmlns='urn:xmpp:fast:0' count='42' "
                                "invalidate='true'/></authenticate>", &a), SASL2_OK);
    assert_true(a.fast);
    assert_true(a.fast_invalidate);
    assert_true(a.fast_has_count);
    assert_int_equal(a.fast_count, 42);
    assert_string_equal(a.initial, "");
    assert_false(a.bind);
    assert_null(a.agent_id);
    assert_int_equal(a.request_token, -1);
    sasl2_auth_clear(&a);

    assert_int_equal(parse_auth("<authenticate xmlns='urn:xmpp:sasl:2'/>", &a), SASL2_NO_MECHANISM);
    sasl2_auth_clear(&a);
    assert_int_equal(parse_auth("<authenticate xmlns='urn:xmpp:sasl:2' mechanism=''/>", &a),
                     SASL2_NO_MECHANISM);
    sasl2_auth_clear(&a);
    assert_int_equal(parse_auth("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'>"
                                "<user-agent id=''/></authenticate>", &a), SASL2_BAD_AGENT);
    sasl2_auth_clear(&a);
    assert_int_equal(parse_auth("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'>"
                                "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-MD5-NONE'/>"
                                "</authenticate>", &a), SASL2_BAD_REQUEST_TOKEN);
    sasl2_auth_clear(&a);
    assert_int_equal(parse_auth("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'>"
                                "<fast xmlns='urn:xmpp:fast:0' count='-1'/></authenticate>", &a),
                     SASL2_BAD_COUNT);
    sasl2_auth_clear(&a);
    assert_int_equal(parse_auth("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'>"
                                "<fast xmlns='urn:xmpp:fast:0' count='12x'/></authenticate>", &a),
                     SASL2_BAD_COUNT);
    sasl2_auth_clear(&a);
    /* a tag of 65 characters */
    char big[512];
    snprintf(big, sizeof big, "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'>"
             "<bind xmlns='urn:xmpp:bind:0'><tag>%065d</tag></bind></authenticate>", 1);
    assert_int_equal(parse_auth(big, &a), SASL2_BAD_TAG);
    sasl2_auth_clear(&a);
    /* children in other namespaces are not Bind 2 / FAST */
    assert_int_equal(parse_auth("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'>"
                                "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                                "<fast xmlns='urn:example'/></authenticate>", &a), SASL2_OK);
    assert_false(a.bind);
    assert_false(a.fast);
    sasl2_auth_clear(&a);
}

static void test_mech_names(void **state)
{
    (void)state;
    assert_int_equal(ht_mech_parse("HT-SHA-256-NONE"), HT_NONE);
    assert_int_equal(ht_mech_parse("HT-SHA-256-ENDP"), HT_ENDP);
    assert_int_equal(ht_mech_parse("HT-SHA-256-UNIQ"), HT_UNIQ);
    assert_int_equal(ht_mech_parse("HT-SHA-256-EXPR"), HT_EXPR);
    assert_int_equal(ht_mech_parse("HT-SHA-256-endp"), -1);
    assert_int_equal(ht_mech_parse("PLAIN"), -1);
    assert_int_equal(ht_mech_parse(NULL), -1);
    assert_string_equal(ht_cb_type(HT_EXPR), "tls-exporter");
    assert_string_equal(ht_cb_type(HT_ENDP), "tls-server-end-point");
    assert_null(ht_cb_type(HT_NONE));
}

static void test_ht_hmac_vectors(void **state)
{
    (void)state;
    unsigned char cb[32], out[32];
    char h[65];
    for (int i = 0; i < 32; i++)
        cb[i] = (unsigned char)i;
    ht_hmac("secret-token", 12, true, cb, sizeof cb, out);
    hex(out, 32, h);
    assert_string_equal(h, "ab6e3bb5c4f3d34b47daaff873868dc5de6e8de8c3481a25bc777b828430fb33");
    ht_hmac("secret-token", 12, false, NULL, 0, out);
    hex(out, 32, h);
    assert_string_equal(h, "5572a63e0496195609273c23be8a50b9bee64e0369324079e73245bf4472a5b1");
}

static void test_ht_split(void **state)
{
    (void)state;
    unsigned char msg[64], mac[32];
    memcpy(msg, "alice", 5);
    msg[5] = 0;
    for (int i = 0; i < 32; i++)
        msg[6 + i] = (unsigned char)(i ? i : 0);   /* NUL bytes inside the MAC are fine */
    char *authcid = NULL;
    assert_int_equal(ht_split(msg, 38, &authcid, mac), 0);
    assert_string_equal(authcid, "alice");
    assert_memory_equal(mac, msg + 6, 32);
    free(authcid);
    assert_int_equal(ht_split(msg, 37, &authcid, mac), -1);    /* short MAC */
    assert_int_equal(ht_split(msg, 39, &authcid, mac), -1);    /* long MAC */
    assert_int_equal(ht_split(msg + 5, 33, &authcid, mac), -1); /* empty authcid */
    assert_int_equal(ht_split(msg, 5, &authcid, mac), -1);     /* no NUL */
    assert_null(authcid);
}

static void test_token_derive_and_hash(void **state)
{
    (void)state;
    unsigned char key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (unsigned char)i;
    char *t = fast_token_derive(key, sizeof key, "n1", "alice@a.test", "ua");
    assert_string_equal(t, "/7LB758slfuaJtr9O8jEtRBHMlrbmTE8+qSl6xd9bPA=");
    char *t2 = fast_token_derive(key, sizeof key, "n2", "alice@a.test", "ua");
    assert_string_not_equal(t, t2);
    free(t);
    free(t2);
    char h[65];
    fast_token_hash("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full),
        cmocka_unit_test(test_parse_fast_and_errors),
        cmocka_unit_test(test_mech_names),
        cmocka_unit_test(test_ht_hmac_vectors),
        cmocka_unit_test(test_ht_split),
        cmocka_unit_test(test_token_derive_and_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
