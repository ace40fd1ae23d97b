/* test_blocklist.c: unit tests for XEP-0191 blocklists: the JID matching
 * rule (src/modules/blocklist_match.c, XEP-0191 §2) and the process-wide
 * cache of online accounts' lists (src/modules/block_cache.c): loading
 * once, waiters, add/remove/all, references, the lock-free "anything
 * blocked at all" flag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/blocklist.h"

static bool match(const char *item, const char *addr)
{
    jid i, a;
    assert_int_equal(jid_parse(item, &i), 0);
    assert_int_equal(jid_parse(addr, &a), 0);
    bool r = blocklist_item_matches(&i, &a);
    jid_clear(&i);
    jid_clear(&a);
    return r;
}

static void test_full_jid_item(void **state)
{
    assert_true(match("romeo@montague.net/orchard", "romeo@montague.net/orchard"));
    assert_false(match("romeo@montague.net/orchard", "romeo@montague.net/garden"));
    assert_false(match("romeo@montague.net/orchard", "romeo@montague.net"));
    assert_false(match("romeo@montague.net/orchard", "montague.net/orchard"));
    /* prepared on both sides: case does not matter for node and domain */
    assert_true(match("Romeo@Montague.NET/orchard", "romeo@montague.net/orchard"));
    assert_false(match("romeo@montague.net/Orchard", "romeo@montague.net/orchard"));
}

static void test_bare_jid_item(void **state)
{
    assert_true(match("romeo@montague.net", "romeo@montague.net"));
    assert_true(match("romeo@montague.net", "romeo@montague.net/orchard"));
    assert_true(match("ROMEO@montague.net", "romeo@montague.net/x"));
    assert_false(match("romeo@montague.net", "juliet@montague.net"));
    assert_false(match("romeo@montague.net", "montague.net"));
    assert_false(match("romeo@montague.net", "romeo@sub.montague.net"));
    assert_false(match("romeo@montague.net", "romeo@montague.net.evil"));
}

static void test_domain_resource_item(void **state)
{
    assert_true(match("montague.net/orchard", "montague.net/orchard"));
    assert_false(match("montague.net/orchard", "romeo@montague.net/orchard"));
    assert_false(match("montague.net/orchard", "montague.net"));
    assert_false(match("montague.net/orchard", "montague.net/garden"));
}

static void test_domain_item(void **state)
{
    assert_true(match("montague.net", "montague.net"));
    assert_true(match("montague.net", "montague.net/orchard"));
    assert_true(match("montague.net", "romeo@montague.net"));
    assert_true(match("montague.net", "romeo@montague.net/orchard"));
    assert_true(match("montague.net", "chat.montague.net"));
    assert_true(match("montague.net", "room@chat.montague.net/nick"));
    assert_false(match("montague.net", "capulet.net"));
    assert_false(match("montague.net", "evilmontague.net"));
    assert_false(match("montague.net", "romeo@montague.net.evil"));
    assert_false(match("chat.montague.net", "montague.net"));
}

static void test_null_safe(void **state)
{
    jid a;
    assert_int_equal(jid_parse("a@b", &a), 0);
    assert_false(blocklist_item_matches(NULL, &a));
    assert_false(blocklist_item_matches(&a, NULL));
    jid_clear(&a);
}

static bool blocks(block_list *b, const char *addr)
{
    jid a;
    assert_int_equal(jid_parse(addr, &a), 0);
    bool r = block_cache_blocks(b, &a);
    jid_clear(&a);
    return r;
}

static bool bare_blocks(const char *bare, const char *addr)
{
    jid a;
    assert_int_equal(jid_parse(addr, &a), 0);
    bool r = block_cache_bare_blocks(bare, &a);
    jid_clear(&a);
    return r;
}

static void test_cache_lifecycle(void **state)
{
    bool created;
    assert_false(block_cache_any());
    block_list *b = block_cache_acquire("alice@a.test", &created);
    assert_true(created);
    assert_false(block_cache_loaded(b));
    /* two sessions wait for the load */
    assert_true(block_cache_wait(b, 0, 11));
    block_list *b2 = block_cache_acquire("alice@a.test", &created);
    assert_false(created);
    assert_ptr_equal(b, b2);
    assert_true(block_cache_wait(b2, 1, 12));

    char *stored[] = { "bob@a.test", "evil.test" };
    size_t nw;
    block_waiter *w = block_cache_install("alice@a.test", stored, 2, &nw);
    assert_int_equal(nw, 2);
    assert_int_equal(w[0].sid, 11);
    assert_int_equal(w[1].worker, 1);
    free(w);
    assert_true(block_cache_loaded(b));
    assert_false(block_cache_wait(b, 0, 13));     /* loaded: nobody waits */
    /* a second (late) load changes nothing */
    char *other[] = { "carol@a.test" };
    w = block_cache_install("alice@a.test", other, 1, &nw);
    assert_null(w);
    assert_int_equal(nw, 0);
    /* nobody holds bob's list: installing it is a no-op */
    assert_null(block_cache_install("bob@a.test", other, 1, &nw));

    assert_true(block_cache_any());
    assert_true(blocks(b, "bob@a.test/phone"));
    assert_true(blocks(b, "x@evil.test"));
    assert_false(blocks(b, "carol@a.test"));
    assert_true(bare_blocks("alice@a.test", "bob@a.test"));
    assert_false(bare_blocks("bob@a.test", "alice@a.test"));

    size_t n;
    char **items = block_cache_items(b, &n);
    assert_int_equal(n, 2);
    assert_string_equal(items[0], "bob@a.test");
    assert_string_equal(items[1], "evil.test");
    block_cache_strv_free(items, n);

    /* add: duplicates are not added twice; only new ones are reported */
    char *add[] = { "bob@a.test", "carol@a.test", "carol@a.test" };
    assert_int_equal(block_cache_count_after_add(b, add, 3), 3);
    size_t nadded;
    char **added = block_cache_add(b, add, 3, 0, &nadded);
    assert_int_equal(nadded, 1);
    assert_string_equal(added[0], "carol@a.test");
    block_cache_strv_free(added, nadded);
    assert_true(blocks(b, "carol@a.test/x"));
    /* the limit (plucs/quota/blocklist) is checked in the same step: all or nothing */
    char *more[] = { "dave@a.test", "bob@a.test" };
    assert_null(block_cache_add(b, more, 2, 3, &nadded));    /* 4 > 3 */
    assert_int_equal(nadded, 0);
    assert_false(blocks(b, "dave@a.test"));
    added = block_cache_add(b, more, 2, 4, &nadded);        /* 4 <= 4 */
    assert_int_equal(nadded, 1);
    block_cache_strv_free(added, nadded);
    char *rmd[] = { "dave@a.test" };
    block_cache_strv_free(block_cache_remove(b, rmd, 1, &nadded), nadded);

    /* remove listed: only what was there is reported */
    char *rm[] = { "carol@a.test", "nobody@a.test" };
    size_t nrm;
    char **removed = block_cache_remove(b, rm, 2, &nrm);
    assert_int_equal(nrm, 1);
    assert_string_equal(removed[0], "carol@a.test");
    block_cache_strv_free(removed, nrm);
    assert_false(blocks(b, "carol@a.test"));

    /* remove all */
    removed = block_cache_remove(b, NULL, 0, &nrm);
    assert_int_equal(nrm, 2);
    block_cache_strv_free(removed, nrm);
    assert_false(block_cache_any());
    assert_false(blocks(b, "bob@a.test"));

    /* the last reference frees the list; a new acquire starts over */
    char *again[] = { "dave@b.test" };
    added = block_cache_add(b, again, 1, 0, &nadded);
    block_cache_strv_free(added, nadded);
    assert_true(block_cache_any());
    block_cache_release(b);
    assert_true(bare_blocks("alice@a.test", "dave@b.test"));   /* b2 still holds it */
    block_cache_release(b2);
    assert_false(block_cache_any());
    assert_false(bare_blocks("alice@a.test", "dave@b.test"));
    b = block_cache_acquire("alice@a.test", &created);
    assert_true(created);
    assert_false(block_cache_loaded(b));
    block_cache_release(b);
}

static void test_cache_many_accounts(void **state)
{
    /* enough lists to make the table grow several times */
    enum { N = 500 };
    block_list *lists[N];
    char name[32];
    for (int i = 0; i < N; i++) {
        bool created;
        snprintf(name, sizeof name, "user%d@a.test", i);
        lists[i] = block_cache_acquire(name, &created);
        assert_true(created);
        char item[32];
        snprintf(item, sizeof item, "peer%d@a.test", i);
        char *items[] = { item };
        size_t nw;
        free(block_cache_install(name, items, 1, &nw));
    }
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "user%d@a.test", i);
        char peer[32];
        snprintf(peer, sizeof peer, "peer%d@a.test", i);
        assert_true(bare_blocks(name, peer));
        snprintf(peer, sizeof peer, "peer%d@a.test", (i + 1) % N);
        assert_false(bare_blocks(name, peer));
    }
    for (int i = 0; i < N; i++)
        block_cache_release(lists[i]);
    assert_false(block_cache_any());
    block_cache_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_jid_item),
        cmocka_unit_test(test_bare_jid_item),
        cmocka_unit_test(test_domain_resource_item),
        cmocka_unit_test(test_domain_item),
        cmocka_unit_test(test_null_safe),
        cmocka_unit_test(test_cache_lifecycle),
        cmocka_unit_test(test_cache_many_accounts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
