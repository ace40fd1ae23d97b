/* test_pubsub_config.c: the PubSub node configuration (src/modules/
 * pubsub_config.c): defaults for PEP and service nodes, node_config and
 * publish-options forms (valid, "max", out-of-range and unknown values),
 * XEP-0223 preconditions, the stored text round trip, and the access
 * decisions of XEP-0060 §4.5 (open, presence, roster groups, whitelist,
 * outcast) and publish rights. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "modules/pubsub_config.h"

static xnode *form(const char *type, const char *const *kv)
{
    xnode *x = xnode_new("x", NS_XDATA);
    xnode_set_attr(x, "type", "submit");
    if (type) {
        xnode *f = xnode_add_child(x, "field", NS_XDATA);
        xnode_set_attr(f, "var", "FORM_TYPE");
        xnode *v = xnode_add_child(f, "value", NS_XDATA);
        xnode_add_text(v, type, strlen(type));
    }
    for (size_t i = 0; kv[i]; i += 2) {
        xnode *f = xnode_add_child(x, "field", NS_XDATA);
        xnode_set_attr(f, "var", kv[i]);
        xnode *v = xnode_add_child(f, "value", NS_XDATA);
        xnode_add_text(v, kv[i + 1], strlen(kv[i + 1]));
    }
    return x;
}

static void test_defaults(void **state)
{
    (void)state;
    ps_config c;
    ps_config_defaults(&c, true, 1000);
    assert_int_equal(c.access, PEP_ACCESS_PRESENCE);
    assert_int_equal(c.max_items, 1);
    assert_int_equal(c.send_last, PS_SEND_ON_SUB_AND_PRESENCE);
    assert_true(c.persist_items);
    ps_config_defaults(&c, false, 1000);
    assert_int_equal(c.access, PEP_ACCESS_OPEN);
    assert_int_equal(c.max_items, 10);
    assert_int_equal(c.send_last, PS_SEND_NEVER);
    ps_config_defaults(&c, false, 3);
    assert_int_equal(c.max_items, 3);
}

static void test_apply_bookmarks_options(void **state)
{
    (void)state;
    ps_config c;
    ps_config_defaults(&c, true, 500);
    const char *kv[] = { "pubsub#persist_items", "true", "pubsub#max_items", "max",
                         "pubsub#send_last_published_item", "never",
                         "pubsub#access_model", "whitelist", NULL };
    xnode *x = form(PS_FORM_PUBLISH_OPTIONS, kv);
    const char *bad;
    assert_int_equal(ps_config_apply(&c, x, 500, false, &bad), 0);
    assert_int_equal(c.max_items, 500);
    assert_int_equal(c.access, PEP_ACCESS_WHITELIST);
    assert_int_equal(c.send_last, PS_SEND_NEVER);
    assert_true(ps_config_matches(&c, x, 500, &bad));
    xnode_free(x);
    const char *other[] = { "pubsub#access_model", "open", NULL };
    x = form(PS_FORM_PUBLISH_OPTIONS, other);
    assert_false(ps_config_matches(&c, x, 500, &bad));
    assert_string_equal(bad, "pubsub#access_model");
    xnode_free(x);
    const char *unknown[] = { "pubsub#frobnicate", "1", NULL };
    x = form(PS_FORM_PUBLISH_OPTIONS, unknown);
    assert_false(ps_config_matches(&c, x, 500, &bad));
    assert_int_equal(ps_config_apply(&c, x, 500, false, &bad), 0);   /* ignored */
    assert_int_equal(ps_config_apply(&c, x, 500, true, &bad), -1);   /* strict */
    xnode_free(x);
    ps_config_clear(&c);
}

static void test_apply_refuses_bad_values(void **state)
{
    (void)state;
    ps_config c;
    ps_config_defaults(&c, false, 100);
    const char *bad;
    const char *const cases[][3] = {
        { "pubsub#max_items", "101", NULL }, { "pubsub#max_items", "0", NULL },
        { "pubsub#max_items", "12x", NULL }, { "pubsub#access_model", "authorize", NULL },
        { "pubsub#persist_items", "maybe", NULL },
        { "pubsub#send_last_published_item", "always", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xnode *x = form(PS_FORM_NODE_CONFIG, cases[i]);
        assert_int_equal(ps_config_apply(&c, x, 100, false, &bad), -1);
        assert_string_equal(bad, cases[i][0]);
        xnode_free(x);
    }
    assert_int_equal(c.max_items, 10);     /* unchanged */
    const char *none[] = { NULL };
    xnode *x = form("urn:other:form", none);
    assert_int_equal(ps_config_apply(&c, x, 100, false, &bad), -1);
    xnode_free(x);
}

static void test_serialize_round_trip(void **state)
{
    (void)state;
    ps_config c, d;
    ps_config_defaults(&c, false, 100);
    c.access = PEP_ACCESS_ROSTER;
    c.max_items = 42;
    c.persist_items = false;
    snprintf(c.title, sizeof c.title, "News");
    c.groups[0] = strdup("staff");
    c.groups[1] = strdup("Friends & Family");
    char *text = ps_config_serialize(&c);
    ps_config_defaults(&d, true, 100);
    ps_config_parse(&d, text, 100);
    assert_int_equal(d.access, PEP_ACCESS_ROSTER);
    assert_int_equal(d.max_items, 42);
    assert_false(d.persist_items);
    assert_string_equal(d.title, "News");
    assert_string_equal(d.groups[0], "staff");
    assert_string_equal(d.groups[1], "Friends & Family");
    assert_null(d.groups[2]);
    ps_config_parse(&d, "max=9999\n", 100);          /* a lowered limit caps it */
    assert_int_equal(d.max_items, 100);
    free(text);
    ps_config_clear(&c);
    ps_config_clear(&d);
}

static void test_access(void **state)
{
    (void)state;
    ps_config c;
    ps_config_defaults(&c, true, 10);
    ps_rel stranger = {0}, contact = {0}, owner = {0};
    contact.presence_sub = true;
    owner.owner = true;
    assert_int_equal(ps_access_check(&c, &stranger), PS_ACCESS_PRESENCE_REQUIRED);
    assert_int_equal(ps_access_check(&c, &contact), PS_ACCESS_OK);
    c.access = PEP_ACCESS_OPEN;
    assert_int_equal(ps_access_check(&c, &stranger), PS_ACCESS_OK);
    c.access = PEP_ACCESS_WHITELIST;
    assert_int_equal(ps_access_check(&c, &contact), PS_ACCESS_CLOSED);
    assert_int_equal(ps_access_check(&c, &owner), PS_ACCESS_OK);
    ps_rel member = { .aff = PS_AFF_MEMBER };
    assert_int_equal(ps_access_check(&c, &member), PS_ACCESS_OK);
    c.access = PEP_ACCESS_ROSTER;
    c.groups[0] = strdup("staff");
    const char *const g1[] = { "friends", NULL }, *const g2[] = { "x", "staff", NULL };
    ps_rel r1 = { .presence_sub = true, .groups = g1 }, r2 = { .groups = g2 };
    assert_int_equal(ps_access_check(&c, &r1), PS_ACCESS_NOT_IN_GROUP);
    assert_int_equal(ps_access_check(&c, &r2), PS_ACCESS_OK);
    ps_rel out = { .aff = PS_AFF_OUTCAST, .presence_sub = true };
    c.access = PEP_ACCESS_OPEN;
    assert_int_equal(ps_access_check(&c, &out), PS_ACCESS_OUTCAST);
    assert_false(ps_may_publish(&c, &contact));
    assert_true(ps_may_publish(&c, &owner));
    ps_rel pub = { .aff = PS_AFF_PUBLISHER };
    assert_true(ps_may_publish(&c, &pub));
    c.publish_model = PS_PUBLISH_OPEN;
    assert_true(ps_may_publish(&c, &stranger));
    assert_false(ps_may_publish(&c, &out));
    ps_config_clear(&c);
}

static void test_form_render(void **state)
{
    (void)state;
    ps_config c;
    ps_config_defaults(&c, true, 10);
    xnode *x = ps_config_form(&c, 10);
    char *s = xml_to_string(x, NULL);
    assert_non_null(strstr(s, "pubsub#access_model"));
    assert_non_null(strstr(s, "<value>presence</value>"));
    assert_non_null(strstr(s, PS_FORM_NODE_CONFIG));
    free(s);
    /* what the form shows can be submitted back unchanged */
    const char *bad;
    assert_int_equal(ps_config_apply(&c, x, 10, true, &bad), 0);
    xnode_free(x);
    ps_config_clear(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_apply_bookmarks_options),
        cmocka_unit_test(test_apply_refuses_bad_values),
        cmocka_unit_test(test_serialize_round_trip),
        cmocka_unit_test(test_access),
        cmocka_unit_test(test_form_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
