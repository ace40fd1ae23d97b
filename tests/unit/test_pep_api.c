/* test_pep_api.c: the engine's interface for other modules (src/modules/
 * pep.h, pubsub_api.c over pubsub_engine.c): publish on an account's PEP
 * node on the server's behalf (auto-create with the given access model,
 * generated and given ids, max_items keeps the newest), read and retract
 * the last item, the publish/retract hook, and the quotas
 * (plucs/pubsub/max_item_size, max_nodes), plucs/pubsub off, bad arguments;
 * deleting a node only once it is empty, and the list of accounts with PEP
 * nodes (for an account that left the directory, pep_leave.c).
 * No store, no router: notifications find no recipient. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "modules/pep.h"
#include "modules/pubsub_internal.h"

static int calls, retracts;
static char last_id[64], last_node[64], last_text[64];

static void hook(const char *bare, const char *node, const char *item_id, const xnode *payload,
                 bool retract)
{
    assert_string_equal(bare, "alice@a.test");
    calls++;
    retracts += retract;
    snprintf(last_id, sizeof last_id, "%s", item_id);
    snprintf(last_node, sizeof last_node, "%s", node);
    last_text[0] = 0;
    if (payload) {
        char *t = xnode_text(payload);
        snprintf(last_text, sizeof last_text, "%s", t ? t : "");
        free(t);
    }
}

static config *cfg;

static int setup(void **state)
{
    (void)state;
    cfg = calloc(1, sizeof *cfg);
    cfg->pubsub = true;
    cfg->pubsub_max_items = 5;
    cfg->pubsub_max_item_size = 200;
    cfg->pubsub_max_nodes = 2;
    cfg->roster_scope = ROSTER_SCOPE_DOMAIN;
    config_set_current(cfg);
    static bool hooked;
    if (!hooked) {
        assert_int_equal(pep_hook_add(hook), 0);
        hooked = true;
    }
    calls = retracts = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ps_engine_free();
    return 0;
}

static xnode *payload(const char *text)
{
    xnode *p = xnode_new("nick", "http://jabber.org/protocol/nick");
    xnode_add_text(p, text, strlen(text));
    return p;
}

static void test_publish_read_retract(void **state)
{
    (void)state;
    xnode *p = payload("Alice");
    assert_int_equal(pep_publish("alice@a.test", "http://jabber.org/protocol/nick", "current", p,
                                 PEP_ACCESS_PRESENCE), PEP_OK);
    xnode_free(p);
    assert_int_equal(calls, 1);
    assert_string_equal(last_id, "current");
    assert_string_equal(last_text, "Alice");
    char *id;
    xnode *got = pep_last_item("alice@a.test", "http://jabber.org/protocol/nick", &id);
    assert_non_null(got);
    assert_string_equal(id, "current");
    assert_string_equal(got->name, "nick");
    char *t = xnode_text(got);
    assert_string_equal(t, "Alice");
    free(t);
    free(id);
    xnode_free(got);
    /* the node was created with the given access model */
    pthread_mutex_lock(&ps_lock);
    ps_node *n = ps_node_get(ps_host_get("alice@a.test", false), "http://jabber.org/protocol/nick");
    assert_non_null(n);
    assert_int_equal(n->cfg.access, PEP_ACCESS_PRESENCE);
    assert_int_equal(n->cfg.max_items, 1);
    assert_int_equal(ps_node_aff(n, "alice@a.test"), PS_AFF_OWNER);
    pthread_mutex_unlock(&ps_lock);
    assert_int_equal(pep_retract("alice@a.test", "http://jabber.org/protocol/nick", "current"),
                     PEP_OK);
    assert_int_equal(retracts, 1);
    assert_null(pep_last_item("alice@a.test", "http://jabber.org/protocol/nick", NULL));
    assert_int_equal(pep_retract("alice@a.test", "http://jabber.org/protocol/nick", "current"),
                     PEP_NOT_FOUND);
    assert_null(pep_last_item("alice@a.test", "nosuch", NULL));
}

static void test_generated_ids_and_max_items(void **state)
{
    (void)state;
    char ids[3][64];
    for (int i = 0; i < 3; i++) {
        char text[16];
        snprintf(text, sizeof text, "v%d", i);
        xnode *p = payload(text);
        assert_int_equal(pep_publish("alice@a.test", "urn:test:gen", NULL, p, PEP_ACCESS_OPEN),
                         PEP_OK);
        xnode_free(p);
        snprintf(ids[i], sizeof ids[i], "%s", last_id);
        assert_true(strlen(ids[i]) > 0);
    }
    assert_string_not_equal(ids[0], ids[1]);
    assert_string_not_equal(ids[1], ids[2]);
    /* PEP default max_items 1: only the newest is kept */
    assert_int_equal(ps_count_items(), 1);
    char *id;
    xnode *got = pep_last_item("alice@a.test", "urn:test:gen", &id);
    assert_string_equal(id, ids[2]);
    free(id);
    xnode_free(got);
}

static void test_quotas_and_switch(void **state)
{
    (void)state;
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    xnode *p = payload(big);
    assert_int_equal(pep_publish("alice@a.test", "urn:a", "1", p, PEP_ACCESS_OPEN), PEP_REFUSED);
    xnode_free(p);
    p = payload("ok");
    assert_int_equal(pep_publish("alice@a.test", "urn:a", "1", p, PEP_ACCESS_OPEN), PEP_OK);
    assert_int_equal(pep_publish("alice@a.test", "urn:b", "1", p, PEP_ACCESS_OPEN), PEP_OK);
    assert_int_equal(pep_publish("alice@a.test", "urn:c", "1", p, PEP_ACCESS_OPEN), PEP_REFUSED);
    assert_int_equal(pep_publish("alice@a.test", "urn:a", "2", p, PEP_ACCESS_OPEN), PEP_OK);
    assert_int_equal(ps_count_nodes(), 2);
    assert_int_equal(pep_publish("not-a-bare-jid", "urn:a", "1", p, PEP_ACCESS_OPEN), PEP_BAD);
    assert_int_equal(pep_publish("alice@a.test", "", "1", p, PEP_ACCESS_OPEN), PEP_BAD);
    assert_int_equal(pep_publish("alice@a.test", "urn:a", "1", NULL, PEP_ACCESS_OPEN), PEP_BAD);
    cfg->pubsub = false;
    assert_int_equal(pep_publish("alice@a.test", "urn:a", "3", p, PEP_ACCESS_OPEN), PEP_REFUSED);
    cfg->pubsub = true;
    xnode_free(p);
    char *svc = pubsub_service_host("a.test");
    assert_string_equal(svc, "pubsub.a.test");
    free(svc);
}

static void test_delete_if_empty_and_accounts(void **state)
{
    (void)state;
    xnode *p = payload("Bob");
    assert_int_equal(pep_publish("alice@a.test", "urn:x", "1", p, PEP_ACCESS_OPEN), PEP_OK);
    xnode_free(p);
    /* bob's node straight in the engine (the hook expects alice); a service
     * host (no '@') is no account */
    pthread_mutex_lock(&ps_lock);
    ps_config c;
    ps_config_defaults(&c, true, 5);
    ps_node_create(ps_host_get("bob@a.test", true), "urn:x", "bob@a.test", &c);
    ps_config_clear(&c);
    ps_config_defaults(&c, false, 5);
    ps_node_create(ps_host_get("pubsub.a.test", true), "news", "alice@a.test", &c);
    ps_config_clear(&c);
    pthread_mutex_unlock(&ps_lock);
    char **v = pep_accounts();
    int alice = 0, bob = 0, n = 0;
    for (char **a = v; *a; a++, n++) {
        alice += !strcmp(*a, "alice@a.test");
        bob += !strcmp(*a, "bob@a.test");
        free(*a);
    }
    free(v);
    assert_int_equal(n, 2);
    assert_int_equal(alice + bob, 2);
    /* items left: refused; empty: deleted; then gone */
    assert_int_equal(pep_delete_if_empty("alice@a.test", "urn:x"), PEP_REFUSED);
    assert_int_equal(pep_retract("alice@a.test", "urn:x", "1"), PEP_OK);
    assert_int_equal(ps_count_nodes(), 3);
    assert_int_equal(pep_delete_if_empty("alice@a.test", "urn:x"), PEP_OK);
    assert_int_equal(ps_count_nodes(), 2);
    assert_int_equal(pep_delete_if_empty("alice@a.test", "urn:x"), PEP_NOT_FOUND);
    assert_int_equal(pep_delete_if_empty("nobody@a.test", "urn:x"), PEP_NOT_FOUND);
    assert_int_equal(pep_delete_if_empty(NULL, "urn:x"), PEP_BAD);
    v = pep_accounts();
    assert_non_null(v[0]);
    assert_string_equal(v[0], "bob@a.test");
    assert_null(v[1]);
    free(v[0]);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publish_read_retract, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generated_ids_and_max_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quotas_and_switch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_if_empty_and_accounts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
