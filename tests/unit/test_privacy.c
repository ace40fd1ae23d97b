/* test_privacy.c: unit tests for privacy lists (XEP-0016): parsing a
 * client's <list/> with its checks (src/modules/privacy_list.c), the store
 * text form, the XEP-0191 view (block items), matching by JID, group,
 * subscription, kind and order (privacy_match.c), and the per-account
 * cache's conflict rules (privacy_cache.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/privacy.h"

static xnode *new_list(const char *name)
{
    xnode *l = xnode_new("list", NS_PRIVACY);
    if (name)
        xnode_set_attr(l, "name", name);
    return l;
}

static xnode *add_item(xnode *l, const char *type, const char *value, const char *action,
                       const char *order, const char *kinds)
{
    xnode *it = xnode_add_child(l, "item", NS_PRIVACY);
    if (type)
        xnode_set_attr(it, "type", type);
    if (value)
        xnode_set_attr(it, "value", value);
    if (action)
        xnode_set_attr(it, "action", action);
    if (order)
        xnode_set_attr(it, "order", order);
    for (const char *k = kinds; k && *k;) {
        const char *sp = strchr(k, ' ');
        size_t len = sp ? (size_t)(sp - k) : strlen(k);
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)len, k);
        xnode_add_child(it, name, NS_PRIVACY);
        k += len + (sp ? 1 : 0);
    }
    return it;
}

static privacy_err parse_err(xnode *l)
{
    privacy_err err = PRIV_OK;
    const char *why = NULL;
    privacy_list *p = privacy_list_parse(l, 10, &err, &why);
    if (p) {
        assert_int_equal(err, PRIV_OK);
        privacy_list_unref(p);
    } else {
        assert_non_null(why);
    }
    xnode_free(l);
    return err;
}

static void test_parse_good(void **state)
{
    (void)state;
    xnode *x = new_list("public");
    add_item(x, "jid", "Tybalt@Capulet.COM", "deny", "3", "message presence-in");
    add_item(x, "group", "Enemies", "deny", "1", NULL);
    add_item(x, "subscription", "none", "deny", "2", "presence-out");
    add_item(x, NULL, NULL, "allow", "4294967295", NULL);
    privacy_err err;
    const char *why;
    privacy_list *l = privacy_list_parse(x, 10, &err, &why);
    assert_non_null(l);
    assert_int_equal(l->n, 4);
    assert_true(l->needs_roster);
    assert_int_equal(l->items[0].order, 1);
    assert_int_equal(l->items[0].type, PRIV_GROUP);
    assert_int_equal(l->items[1].type, PRIV_SUB);
    assert_int_equal(l->items[1].kinds, PRIV_K_PRESENCE_OUT);
    assert_string_equal(l->items[2].value, "tybalt@capulet.com");     /* prepared */
    assert_int_equal(l->items[2].kinds, PRIV_K_MESSAGE | PRIV_K_PRESENCE_IN);
    assert_int_equal(l->items[3].type, PRIV_FALL);
    assert_int_equal(l->items[3].order, 4294967295u);
    /* text form round trip */
    char *text = privacy_list_encode(l);
    privacy_list *back = privacy_list_decode("public", text);
    assert_non_null(back);
    char *text2 = privacy_list_encode(back);
    assert_string_equal(text, text2);
    assert_int_equal(back->n, 4);
    assert_true(back->needs_roster);
    /* XML form round trip */
    xnode *xml = privacy_list_xml(back);
    privacy_list *again = privacy_list_parse(xml, 10, &err, &why);
    assert_non_null(again);
    char *text3 = privacy_list_encode(again);
    assert_string_equal(text, text3);
    free(text);
    free(text2);
    free(text3);
    xnode_free(xml);
    privacy_list_unref(again);
    privacy_list_unref(back);
    privacy_list_unref(l);
    xnode_free(x);
}

static void test_parse_all_kinds_is_zero(void **state)
{
    (void)state;
    xnode *x = new_list("a");
    add_item(x, "jid", "a@b", "deny", "1", "message iq presence-in presence-out");
    privacy_err err;
    const char *why;
    privacy_list *l = privacy_list_parse(x, 10, &err, &why);
    assert_non_null(l);
    assert_int_equal(l->items[0].kinds, 0);
    assert_true(privacy_item_is_block(&l->items[0]));
    privacy_list_unref(l);
    xnode_free(x);
}

static void test_parse_bad(void **state)
{
    (void)state;
    xnode *x;
    assert_int_equal(parse_err(new_list(NULL)), PRIV_BAD);               /* no name */
    assert_int_equal(parse_err(new_list("")), PRIV_BAD);
    x = new_list("l");
    add_item(x, "jid", "a@b", NULL, "1", NULL);                          /* no action */
    assert_int_equal(parse_err(x), PRIV_BAD);
    x = new_list("l");
    add_item(x, "jid", "a@b", "block", "1", NULL);                       /* bad action */
    assert_int_equal(parse_err(x), PRIV_BAD);
    x = new_list("l");
    add_item(x, "jid", "a@b", "deny", NULL, NULL);                       /* no order */
    assert_int_equal(parse_err(x), PRIV_BAD);
    const char *orders[] = { "-1", "4294967296", "99999999999999999999", "1.5", "", "+3", "0x1" };
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
        x = new_list("l");
        add_item(x, "jid", "a@b", "deny", orders[i], NULL);
        assert_int_equal(parse_err(x), PRIV_BAD);
    }
    x = new_list("l");
    add_item(x, "jid", "a@b", "deny", "1", NULL);
    add_item(x, "jid", "c@d", "deny", "1", NULL);                        /* same order */
    assert_int_equal(parse_err(x), PRIV_BAD);
    x = new_list("l");
    add_item(x, "color", "red", "deny", "1", NULL);                      /* unknown type */
    assert_int_equal(parse_err(x), PRIV_BAD);
    x = new_list("l");
    add_item(x, "jid", NULL, "deny", "1", NULL);                         /* type, no value */
    assert_int_equal(parse_err(x), PRIV_BAD);
    x = new_list("l");
    add_item(x, NULL, "a@b", "deny", "1", NULL);                         /* value, no type */
    assert_int_equal(parse_err(x), PRIV_BAD);
    x = new_list("l");
    add_item(x, "subscription", "maybe", "deny", "1", NULL);
    assert_int_equal(parse_err(x), PRIV_BAD);
    x = new_list("l");
    add_item(x, "jid", "a@@b", "deny", "1", NULL);                       /* not a JID */
    assert_int_equal(parse_err(x), PRIV_BAD);
    x = new_list("l");
    add_item(x, "jid", "a@b", "deny", "1", "chat");                      /* unknown kind */
    assert_int_equal(parse_err(x), PRIV_BAD);
    x = new_list("l");
    xnode_add_child(x, "rule", NS_PRIVACY);                              /* not an item */
    assert_int_equal(parse_err(x), PRIV_BAD);
    x = new_list("l");
    for (int i = 0; i < 11; i++) {
        char o[8];
        snprintf(o, sizeof o, "%d", i);
        add_item(x, "jid", "a@b", "deny", o, NULL);
    }
    assert_int_equal(parse_err(x), PRIV_TOO_MANY);                       /* limit 10 */
}

static void test_decode_damaged(void **state)
{
    (void)state;
    assert_null(privacy_list_decode("x", "1 a j 0 a@b"));                 /* no newline */
    assert_null(privacy_list_decode("x", "1 z j 0 a@b\n"));
    assert_null(privacy_list_decode("x", "1 a q 0 a@b\n"));
    assert_null(privacy_list_decode("x", "1 a s 0 maybe\n"));
    assert_null(privacy_list_decode("x", "one a j 0 a@b\n"));
    privacy_list *l = privacy_list_decode("x", "");
    assert_non_null(l);
    assert_int_equal(l->n, 0);
    privacy_list_unref(l);
    /* a group name with a newline and a backslash survives */
    privacy_item *v = calloc(1, sizeof *v);
    v[0].type = PRIV_GROUP;
    v[0].value = strdup("a\\b\nc");
    v[0].order = 7;
    l = privacy_list_new("g", v, 1);
    char *t = privacy_list_encode(l);
    privacy_list *b = privacy_list_decode("g", t);
    assert_non_null(b);
    assert_string_equal(b->items[0].value, "a\\b\nc");
    free(t);
    privacy_list_unref(b);
    privacy_list_unref(l);
}

static privacy_list *list_of(xnode *x)
{
    privacy_err err;
    const char *why;
    privacy_list *l = privacy_list_parse(x, 100, &err, &why);
    assert_non_null(l);
    xnode_free(x);
    return l;
}

static bool allows(const privacy_list *l, const char *addr, privacy_sub sub, const char *group,
                   unsigned kind)
{
    jid a;
    assert_int_equal(jid_parse(addr, &a), 0);
    char *g[1] = { (char *)group };
    privacy_contact c = { &a, sub, g, group ? 1 : 0 };
    bool r = privacy_list_allows(l, &c, kind);
    jid_clear(&a);
    return r;
}

static bool jm(const char *item, const char *addr)
{
    jid i, a;
    assert_int_equal(jid_parse(item, &i), 0);
    assert_int_equal(jid_parse(addr, &a), 0);
    bool r = privacy_jid_matches(&i, &a);
    jid_clear(&i);
    jid_clear(&a);
    return r;
}

static void test_jid_rules(void **state)
{
    (void)state;
    assert_true(jm("a@b.c/r", "a@b.c/r"));
    assert_false(jm("a@b.c/r", "a@b.c/s"));
    assert_false(jm("a@b.c/r", "a@b.c"));
    assert_true(jm("a@b.c", "a@b.c/any"));
    assert_true(jm("a@b.c", "a@b.c"));
    assert_false(jm("a@b.c", "x@b.c"));
    assert_true(jm("b.c/r", "b.c/r"));
    assert_false(jm("b.c/r", "a@b.c/r"));
    assert_true(jm("b.c", "b.c"));
    assert_true(jm("b.c", "a@b.c/r"));
    assert_true(jm("b.c", "b.c/r"));
    assert_false(jm("b.c", "a@sub.b.c"));     /* XEP-0016: that domain only */
}

static void test_matching_order_kinds(void **state)
{
    (void)state;
    xnode *x = new_list("l");
    add_item(x, "jid", "friend@x.org", "allow", "1", NULL);
    add_item(x, "group", "Enemies", "deny", "2", "message");
    add_item(x, "subscription", "none", "deny", "3", "presence-in");
    add_item(x, "jid", "x.org", "deny", "4", "iq presence-out");
    add_item(x, NULL, NULL, "allow", "5", NULL);
    privacy_list *l = list_of(x);
    /* the lowest order decides: friend is allowed even in Enemies */
    assert_true(allows(l, "friend@x.org/r", PRIV_SUB_NONE, "Enemies", PRIV_K_MESSAGE));
    assert_false(allows(l, "foe@y.org/r", PRIV_SUB_BOTH, "Enemies", PRIV_K_MESSAGE));
    assert_true(allows(l, "foe@y.org/r", PRIV_SUB_BOTH, "Enemies", PRIV_K_IQ));
    assert_false(allows(l, "stranger@y.org", PRIV_SUB_NONE, NULL, PRIV_K_PRESENCE_IN));
    assert_true(allows(l, "stranger@y.org", PRIV_SUB_TO, NULL, PRIV_K_PRESENCE_IN));
    assert_false(allows(l, "someone@x.org", PRIV_SUB_BOTH, NULL, PRIV_K_IQ));
    assert_false(allows(l, "someone@x.org", PRIV_SUB_BOTH, NULL, PRIV_K_PRESENCE_OUT));
    assert_true(allows(l, "someone@x.org", PRIV_SUB_BOTH, NULL, PRIV_K_MESSAGE));
    /* kind 0 (outbound message/iq, subscriptions): only items for every kind */
    assert_true(allows(l, "foe@y.org", PRIV_SUB_NONE, "Enemies", 0));
    privacy_list_unref(l);

    x = new_list("block");
    add_item(x, "jid", "bad@x.org", "deny", "10", NULL);
    l = list_of(x);
    assert_false(allows(l, "bad@x.org/r", PRIV_SUB_BOTH, NULL, 0));
    assert_false(allows(l, "bad@x.org", PRIV_SUB_BOTH, NULL, PRIV_K_PRESENCE_OUT));
    assert_true(allows(l, "good@x.org", PRIV_SUB_BOTH, NULL, 0));
    size_t n;
    char **b = privacy_list_blocks(l, &n);
    assert_int_equal(n, 1);
    assert_string_equal(b[0], "bad@x.org");
    free(b[0]);
    free(b);
    privacy_list_unref(l);
    assert_true(privacy_list_allows(NULL, NULL, PRIV_K_MESSAGE));
}

static void test_with_blocks(void **state)
{
    (void)state;
    xnode *x = new_list("d");
    add_item(x, "jid", "old@x.org", "deny", "5", NULL);
    add_item(x, "jid", "friend@x.org", "allow", "9", NULL);
    privacy_list *d = list_of(x);
    char *jids[] = { "new@x.org", "old@x.org", "New@X.org", "b2@x.org" };
    privacy_list *l = privacy_list_with_blocks(d, "d", jids, 4);
    assert_int_equal(l->n, 4);          /* old@ was blocked, New@ is new@ */
    assert_string_equal(l->items[0].value, "new@x.org");
    assert_int_equal(l->items[0].order, 3);
    assert_string_equal(l->items[1].value, "b2@x.org");
    assert_int_equal(l->items[1].order, 4);
    assert_true(privacy_item_is_block(&l->items[1]));
    assert_string_equal(l->items[2].value, "old@x.org");
    assert_int_equal(l->items[3].order, 9);
    privacy_list_unref(d);
    /* no room below the first order: renumbered, same sequence */
    char *more[] = { "c1@x.org", "c2@x.org", "c3@x.org", "c4@x.org" };
    privacy_list *r = privacy_list_with_blocks(l, "d", more, 4);
    assert_int_equal(r->n, 8);
    for (size_t i = 0; i < r->n; i++)
        assert_int_equal(r->items[i].order, i);
    assert_string_equal(r->items[0].value, "c1@x.org");
    assert_string_equal(r->items[7].value, "friend@x.org");
    privacy_list_unref(l);
    privacy_list_unref(r);
    r = privacy_list_with_blocks(NULL, "blocklist", more, 1);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->items[0].order, 0);
    privacy_list_unref(r);
}

static privacy_list *simple(const char *name)
{
    xnode *x = new_list(name);
    add_item(x, "jid", "bad@x.org", "deny", "1", NULL);
    return list_of(x);
}

static void test_cache_rules(void **state)
{
    (void)state;
    bool created;
    privacy_acct *a = pcache_acquire("u@x.org", &created);
    assert_true(created);
    assert_true(pcache_wait(a, 0, 1));
    pcache_session_add(a, 1, "one");
    pcache_session_add(a, 2, "two");
    privacy_list *lists[2] = { simple("pub"), simple("priv") };
    size_t nw;
    privacy_waiter *w = pcache_install("u@x.org", lists, 2, "pub", &nw);
    assert_int_equal(nw, 1);
    free(w);
    assert_true(pcache_any());
    /* session 2 has no active list: it uses the default */
    privacy_list *e = pcache_effective(a, 2);
    assert_non_null(e);
    assert_string_equal(e->name, "pub");
    privacy_list_unref(e);
    bool was;
    assert_int_equal(pcache_set_default(a, 1, "priv"), PC_CONFLICT);
    assert_int_equal(pcache_remove(a, "pub", 1, &was), PC_CONFLICT);
    assert_int_equal(pcache_set_active(a, 2, "priv"), PC_OK);
    assert_int_equal(pcache_set_active(a, 2, "nope"), PC_NOT_FOUND);
    e = pcache_effective_bare("u@x.org", "two");
    assert_string_equal(e->name, "priv");
    privacy_list_unref(e);
    assert_int_equal(pcache_remove(a, "priv", 1, &was), PC_CONFLICT);   /* 2's active */
    assert_int_equal(pcache_set_default(a, 1, "priv"), PC_OK);          /* nobody else uses it */
    assert_int_equal(pcache_remove(a, "pub", 1, &was), PC_OK);
    assert_false(was);
    assert_int_equal(pcache_remove(a, "pub", 1, &was), PC_NOT_FOUND);
    assert_int_equal(pcache_put(a, simple("x1"), 1), PC_TOO_MANY);
    assert_int_equal(pcache_put(a, simple("priv"), 1), PC_OK);           /* replace */
    privacy_names nm;
    pcache_names(a, 2, &nm);
    assert_string_equal(nm.active, "priv");
    assert_string_equal(nm.dflt, "priv");
    assert_int_equal(nm.n, 1);
    pcache_names_free(&nm);
    pcache_session_del(a, 1);
    pcache_session_del(a, 2);
    pcache_release(a);
    assert_false(pcache_any());
    pcache_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_all_kinds_is_zero),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_decode_damaged),
        cmocka_unit_test(test_jid_rules),
        cmocka_unit_test(test_matching_order_kinds),
        cmocka_unit_test(test_with_blocks),
        cmocka_unit_test(test_cache_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
