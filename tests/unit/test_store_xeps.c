/* test_store_xeps.c: unit tests for the storage of the everyday XEPs
 * (src/store/store_private.c, store_blocklist.c, store_last.c, store_ctx.c
 * and their SQLite files): schema version 2, round trips, replacement,
 * per-user isolation, removal of all items, store_user_forget covering the
 * new tables, and the arg_free ownership rule of store.h (arg consumed
 * exactly once, by the callback or by arg_free). Results come back through
 * a real worker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/worker.h"
#include "store/store_blocklist.h"
#include "store/store_last.h"
#include "store/store_private.h"
#include "store/store_user.h"
#include "store_wait.h"

static atomic_int freed;

static void arg_free(void *arg)
{
    atomic_fetch_add(&freed, 1);
    free(arg);
}

/* ---- waiting for a result on the test thread (store_wait.h) ---- */

static void private_cb(void *arg, store_private *p)
{
    pthread_mutex_lock(&W.m);
    W.priv = p;
    wait_signal(arg, p->status);
}

static void block_cb(void *arg, store_blocklist *b)
{
    pthread_mutex_lock(&W.m);
    W.block = b;
    wait_signal(arg, b->status);
}

static void last_cb(void *arg, store_last *l)
{
    pthread_mutex_lock(&W.m);
    W.last = l;
    wait_signal(arg, l->status);
}

static store_status priv_set1(const char *user, const char *name, const char *ns, const char *xml)
{
    store_private_entry e = { name, ns, xml };
    store_private_set(w0(), user, &e, 1, 0, done_cb, NULL, NULL);
    wait_result();
    return W.st;
}

static store_private *priv_get(const char *user, const char *name, const char *ns)
{
    store_private_get(w0(), user, name, ns, private_cb, NULL, NULL);
    wait_result();
    return W.priv;
}

static store_blocklist *block_get(const char *user)
{
    store_block_get(w0(), user, block_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    return W.block;
}

static store_last *last_get(const char *user)
{
    store_last_get(w0(), user, last_cb, NULL, NULL);
    wait_result();
    return W.last;
}

/* ---- folders ---- */

static char spec[600];

static int setup(void **state)
{
    tmpdir_make("/tmp/plucs-store-xeps-XXXXXX");
    snprintf(spec, sizeof spec, "sqlite:%s/plucs.db", tmpdir);
    char err[512] = "";
    if (store_start(spec, err, sizeof err) != 0)
        fail_msg("store_start: %s", err);
    return 0;
}

/* ---- tests ---- */

static void test_schema_version(void **state)
{
    assert_true(store_schema_version() >= 2);
}

static void test_private(void **state)
{
    store_private *p = priv_get("alice@a.test", "storage", "storage:bookmarks");
    assert_int_equal(p->status, STORE_NOT_FOUND);
    assert_null(p->xml);
    store_private_free(p);

    assert_int_equal(priv_set1("alice@a.test", "storage", "storage:bookmarks",
                               "<storage xmlns='storage:bookmarks'>one</storage>"), STORE_OK);
    assert_int_equal(priv_set1("alice@a.test", "storage", "storage:bookmarks",
                               "<storage xmlns='storage:bookmarks'>two</storage>"), STORE_OK);
    p = priv_get("alice@a.test", "storage", "storage:bookmarks");
    assert_int_equal(p->status, STORE_OK);
    assert_string_equal(p->xml, "<storage xmlns='storage:bookmarks'>two</storage>");
    store_private_free(p);

    /* keyed by (name, namespace, user) */
    p = priv_get("alice@a.test", "other", "storage:bookmarks");
    assert_int_equal(p->status, STORE_NOT_FOUND);
    store_private_free(p);
    p = priv_get("alice@a.test", "storage", "storage:other");
    assert_int_equal(p->status, STORE_NOT_FOUND);
    store_private_free(p);
    p = priv_get("bob@a.test", "storage", "storage:bookmarks");
    assert_int_equal(p->status, STORE_NOT_FOUND);
    store_private_free(p);

    /* several at once */
    store_private_entry e[] = {
        { "a", "x:1", "<a xmlns='x:1'/>" },
        { "b", "x:1", "<b xmlns='x:1'/>" },
    };
    store_private_set(w0(), "bob@a.test", e, 2, 0, done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    assert_int_equal(W.value, 2);
    p = priv_get("bob@a.test", "b", "x:1");
    assert_string_equal(p->xml, "<b xmlns='x:1'/>");
    store_private_free(p);
}

static store_status priv_set_max(const char *user, const store_private_entry *e, size_t n,
                                 int64_t max)
{
    store_private_set(w0(), user, e, n, max, done_cb, NULL, NULL);
    wait_result();
    return W.st;
}

/* plucs/quota/private (defect 5): the bytes of all of a user's elements,
 * namespaces and names; a set that would pass it writes nothing. */
static void test_private_quota(void **state)
{
    store_private_entry e[] = {
        { "c", "x:q", "<c xmlns='x:q'>0123456789</c>" },
        { "d", "x:q", "<d xmlns='x:q'/>" },
    };
    int64_t total = 0;
    for (size_t i = 0; i < 2; i++)
        total += (int64_t)(strlen(e[i].xml) + strlen(e[i].ns) + strlen(e[i].name));
    /* one byte short: refused, and neither entry was written */
    assert_int_equal(priv_set_max("carol@a.test", e, 2, total - 1), STORE_FULL);
    store_private *p = priv_get("carol@a.test", "c", "x:q");
    assert_int_equal(p->status, STORE_NOT_FOUND);
    store_private_free(p);
    /* exactly at the quota: stored */
    assert_int_equal(priv_set_max("carol@a.test", e, 2, total), STORE_OK);
    /* replacing an element by one of the same size stays within it */
    store_private_entry same = { "c", "x:q", "<c xmlns='x:q'>9876543210</c>" };
    assert_int_equal(priv_set_max("carol@a.test", &same, 1, total), STORE_OK);
    /* one more element does not fit; what was there stays */
    store_private_entry more = { "e", "x:q", "<e xmlns='x:q'/>" };
    assert_int_equal(priv_set_max("carol@a.test", &more, 1, total), STORE_FULL);
    p = priv_get("carol@a.test", "c", "x:q");
    assert_string_equal(p->xml, "<c xmlns='x:q'>9876543210</c>");
    store_private_free(p);
    p = priv_get("carol@a.test", "e", "x:q");
    assert_int_equal(p->status, STORE_NOT_FOUND);
    store_private_free(p);
    /* another user's storage is counted separately; 0 is no limit */
    assert_int_equal(priv_set_max("dave@a.test", &more, 1, total), STORE_OK);
    assert_int_equal(priv_set_max("carol@a.test", &more, 1, 0), STORE_OK);
}

static void test_blocklist(void **state)
{
    store_blocklist *b = block_get("alice@a.test");
    assert_int_equal(b->n, 0);
    assert_string_equal(b->user, "alice@a.test");
    store_blocklist_free(b);

    const char *items[] = { "romeo@montague.net", "evil.test", "romeo@montague.net" };
    store_block_add(w0(), "alice@a.test", items, 3, done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    assert_int_equal(W.value, 2);          /* the duplicate is kept once */
    const char *more[] = { "iago@shakespeare.lit" };
    store_block_add(w0(), "bob@a.test", more, 1, done_cb, NULL, NULL);
    wait_result();

    b = block_get("alice@a.test");
    assert_int_equal(b->n, 2);
    assert_string_equal(b->items[0], "evil.test");
    assert_string_equal(b->items[1], "romeo@montague.net");
    store_blocklist_free(b);

    const char *rm[] = { "evil.test", "nobody@x" };
    store_block_remove(w0(), "alice@a.test", rm, 2, done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.value, 1);
    b = block_get("alice@a.test");
    assert_int_equal(b->n, 1);
    store_blocklist_free(b);

    /* all */
    store_block_remove(w0(), "alice@a.test", NULL, 0, done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.value, 1);
    b = block_get("alice@a.test");
    assert_int_equal(b->n, 0);
    store_blocklist_free(b);
    b = block_get("bob@a.test");       /* untouched */
    assert_int_equal(b->n, 1);
    store_blocklist_free(b);
}

static void test_last(void **state)
{
    store_last *l = last_get("alice@a.test");
    assert_int_equal(l->status, STORE_NOT_FOUND);
    assert_string_equal(l->text, "");
    store_last_free(l);

    store_last_set(w0(), "alice@a.test", 1000, "Heading home", done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    store_last_set(w0(), "alice@a.test", 2000, NULL, done_cb, NULL, NULL);
    wait_result();
    l = last_get("alice@a.test");
    assert_int_equal(l->status, STORE_OK);
    assert_int_equal(l->stamp, 2000);
    assert_string_equal(l->text, "");
    store_last_free(l);
    store_last_set(w0(), "alice@a.test", 3000, "Gone fishing", done_cb, NULL, NULL);
    wait_result();
    l = last_get("alice@a.test");
    assert_int_equal(l->stamp, 3000);
    assert_string_equal(l->text, "Gone fishing");
    store_last_free(l);
}

static void test_forget(void **state)
{
    assert_int_equal(priv_set1("carol@a.test", "p", "x:p", "<p xmlns='x:p'/>"), STORE_OK);
    const char *items[] = { "x@y" };
    store_block_add(w0(), "carol@a.test", items, 1, done_cb, NULL, NULL);
    wait_result();
    store_last_set(w0(), "carol@a.test", 5, "bye", done_cb, NULL, NULL);
    wait_result();
    store_user_forget(w0(), "carol@a.test", done_cb, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    assert_int_equal(W.value, 3);
    store_private *p = priv_get("carol@a.test", "p", "x:p");
    assert_int_equal(p->status, STORE_NOT_FOUND);
    store_private_free(p);
    store_blocklist *b = block_get("carol@a.test");
    assert_int_equal(b->n, 0);
    store_blocklist_free(b);
    store_last *l = last_get("carol@a.test");
    assert_int_equal(l->status, STORE_NOT_FOUND);
    store_last_free(l);
}

static void test_arg_ownership(void **state)
{
    atomic_store(&freed, 0);
    /* the callback gets arg (and owns it) */
    int *a = malloc(sizeof *a);
    store_last_get(w0(), "alice@a.test", last_cb, a, arg_free);
    wait_result();
    assert_ptr_equal(W.arg, a);
    assert_int_equal(atomic_load(&freed), 0);
    store_last_free(W.last);
    free(a);
    /* fire-and-forget: arg_free runs */
    const char *items[] = { "x@y" };
    store_block_add(NULL, "alice@a.test", items, 1, done_cb, malloc(4), arg_free);
    store_last_set(NULL, "alice@a.test", 1, "x", NULL, malloc(4), arg_free);
    store_private_entry e = { "n", "x:n", "<n xmlns='x:n'/>" };
    store_private_set(NULL, "alice@a.test", &e, 1, 0, NULL, malloc(4), arg_free);
    store_sync_wait();
    assert_int_equal(atomic_load(&freed), 3);
    /* not running: fails, and the callback still gets its arg */
    store_stop();
    int *b = malloc(sizeof *b);
    store_block_get(w0(), "alice@a.test", block_cb, b, arg_free);
    wait_result();
    assert_int_equal(W.st, STORE_ERROR);
    assert_int_equal(W.block->n, 0);
    assert_ptr_equal(W.arg, b);
    store_blocklist_free(W.block);
    free(b);
    store_private_get(NULL, "alice@a.test", "n", "x:n", private_cb, malloc(4), arg_free);
    assert_int_equal(atomic_load(&freed), 4);
}

static int group_setup(void **state) { return workers_start(1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_private, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_private_quota, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_blocklist, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_last, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_forget, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_arg_ownership, setup, teardown_dir),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
