/* test_adhoc.c: the pure parts of the admin commands (src/modules/
 * adhoc_form.c: building forms, reading submitted values with their limits;
 * adhoc_session.c: the per-worker command sessions with their bounds) and
 * the message-of-the-day store kind (store_motd.c, store_sqlite_motd.c:
 * versions, shown once per version, delete) with the index of domains
 * that have a message (adhoc_motd_index.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "modules/adhoc.h"
#include "store/store_motd.h"
#include "modules/adhoc_motd_index.h"
#include "xml/xml_fragment.h"

#include "store_wait.h"

static xnode *parse(const char *s)
{
    xnode *x = xml_fragment_parse(s, strlen(s), NULL, 16);
    assert_non_null(x);
    return x;
}

static void test_form_build(void **state)
{
    xnode *x = adhoc_form_new("form", "Title", NULL);
    adhoc_form_field(x, "motd", "text-multi", "Message", "one\ntwo\n", true);
    adhoc_form_field(x, "n", "text-single", NULL, "a\nb", false);
    char *s = xml_to_string(x, NULL);
    assert_non_null(strstr(s, "<field var='FORM_TYPE' type='hidden'><value>"
                              "http://jabber.org/protocol/admin</value></field>"));
    assert_non_null(strstr(s, "<required/><value>one</value><value>two</value><value/></field>"));
    assert_non_null(strstr(s, "<field var='n' type='text-single'><value>a\nb</value>"));
    free(s);
    xnode_free(x);
}

static void test_form_read(void **state)
{
    xnode *cmd = parse("<command xmlns='http://jabber.org/protocol/commands'>"
                       "<x xmlns='jabber:x:data' type='submit'>"
                       "<field var='FORM_TYPE'><value>http://jabber.org/protocol/admin</value></field>"
                       "<field var='a'><value>l1</value><value></value><value>l3</value></field>"
                       "<field var='empty'/>"
                       "</x></command>");
    const xnode *x = adhoc_form_submitted(cmd);
    assert_non_null(x);
    bool bad = false;
    char *v = adhoc_form_text(x, "a", 10, 100, &bad);
    assert_string_equal(v, "l1\n\nl3");
    free(v);
    v = adhoc_form_text(x, "empty", 10, 100, &bad);
    assert_string_equal(v, "");
    free(v);
    assert_null(adhoc_form_text(x, "missing", 10, 100, &bad));
    assert_false(bad);
    assert_null(adhoc_form_text(x, "a", 2, 100, &bad));      /* too many values */
    assert_true(bad);
    bad = false;
    assert_null(adhoc_form_text(x, "a", 10, 1, &bad));       /* a value too long */
    assert_true(bad);
    xnode_free(cmd);

    /* not submitted, foreign FORM_TYPE, no form, wrong namespace */
    const char *const refused[] = {
        "<command xmlns='http://jabber.org/protocol/commands'>"
        "<x xmlns='jabber:x:data' type='form'/></command>",
        "<command xmlns='http://jabber.org/protocol/commands'>"
        "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:x</value>"
        "</field></x></command>",
        "<command xmlns='http://jabber.org/protocol/commands'>"
        "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'/></x></command>",
        "<command xmlns='http://jabber.org/protocol/commands'/>",
        "<command xmlns='http://jabber.org/protocol/commands'>"
        "<x xmlns='urn:other' type='submit'/></command>",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        cmd = parse(refused[i]);
        assert_null(adhoc_form_submitted(cmd));
        xnode_free(cmd);
    }
    /* FORM_TYPE may be left out */
    cmd = parse("<command xmlns='http://jabber.org/protocol/commands'>"
                "<x xmlns='jabber:x:data' type='submit'/></command>");
    assert_non_null(adhoc_form_submitted(cmd));
    xnode_free(cmd);
}

static const adhoc_cmd c1 = { "n1", "one", NULL, NULL };
static const adhoc_cmd c2 = { "n2", "two", NULL, NULL };

static void test_sessions(void **state)
{
    const adhoc_cmd *cmd = NULL;
    char *domain = NULL;
    assert_true(adhoc_session_open(7, "s1", &c1, "a.test"));
    assert_true(adhoc_session_open(8, "s1", &c2, "b.test"));
    /* keyed by (owner, id) */
    assert_int_equal(adhoc_session_take(9, "s1", &cmd, &domain), ADHOC_UNKNOWN);
    assert_int_equal(adhoc_session_take(8, "s1", &cmd, &domain), ADHOC_FOUND);
    assert_ptr_equal(cmd, &c2);
    assert_string_equal(domain, "b.test");
    free(domain);
    /* taken once */
    assert_int_equal(adhoc_session_take(8, "s1", &cmd, &domain), ADHOC_UNKNOWN);
    /* per owner at most ADHOC_MAX_PER_SESSION: the oldest goes */
    char id[8];
    for (int i = 2; i < 2 + ADHOC_MAX_PER_SESSION; i++) {
        snprintf(id, sizeof id, "s%d", i);
        assert_true(adhoc_session_open(7, id, &c1, "a.test"));
    }
    assert_int_equal(adhoc_session_count(7), ADHOC_MAX_PER_SESSION);
    assert_int_equal(adhoc_session_take(7, "s1", &cmd, &domain), ADHOC_UNKNOWN);
    adhoc_session_drop_all(7);
    assert_int_equal(adhoc_session_count(7), 0);
    /* the worker's table is bounded */
    for (uint64_t o = 100; o < 100 + ADHOC_MAX_PER_WORKER; o++)
        assert_true(adhoc_session_open(o, "x", &c1, "a.test"));
    assert_false(adhoc_session_open(99, "x", &c1, "a.test"));
    adhoc_sessions_thread_exit();
    assert_true(adhoc_session_open(99, "x", &c1, "a.test"));
    adhoc_sessions_thread_exit();
}

/* ---- the store kind ---- */

static store_motd *got;

static void motd_cb(void *arg, store_motd *m)
{
    pthread_mutex_lock(&W.m);
    got = m;
    wait_signal(arg, m->status);
}

static store_motd *take(const char *domain, const char *user)
{
    store_motd_take(w0(), domain, user, motd_cb, NULL, NULL);
    wait_result();
    return got;
}

static char spec[600];

static int setup(void **state)
{
    tmpdir_make("/tmp/plucs-adhoc-XXXXXX");
    snprintf(spec, sizeof spec, "sqlite:%s/plucs.db", tmpdir);
    char err[512] = "";
    if (store_start(spec, err, sizeof err) != 0)
        fail_msg("store_start: %s", err);
    return 0;
}

static void expect(store_motd *m, store_status st, const char *text)
{
    assert_int_equal(m->status, st);
    if (text)
        assert_string_equal(m->text, text);
    else
        assert_null(m->text);
    store_motd_free(m);
}

static void test_motd_store(void **state)
{
    expect(take("a.test", "bob@a.test"), STORE_NOT_FOUND, NULL);
    store_motd_set(w0(), "a.test", "v1", done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    assert_int_equal(W.value, 1);
    expect(take("a.test", "bob@a.test"), STORE_OK, "v1");
    expect(take("a.test", "bob@a.test"), STORE_NOT_FOUND, NULL);     /* once */
    expect(take("b.test", "dave@b.test"), STORE_NOT_FOUND, NULL);    /* per domain */
    store_motd_get(w0(), "a.test", motd_cb, NULL, NULL);
    wait_result();
    expect(got, STORE_OK, "v1");
    /* a change is shown again */
    store_motd_set(w0(), "a.test", "v2", done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.value, 2);
    expect(take("a.test", "bob@a.test"), STORE_OK, "v2");
    expect(take("a.test", "carol@a.test"), STORE_OK, "v2");
    /* delete: gone for everybody; set again: shown again */
    store_motd_delete(w0(), "a.test", done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.value, 1);
    expect(take("a.test", "kai@a.test"), STORE_NOT_FOUND, NULL);
    store_motd_delete(w0(), "a.test", done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.value, 0);
    store_motd_set(w0(), "a.test", "v3", done_cb, NULL, NULL);
    wait_result();
    expect(take("a.test", "bob@a.test"), STORE_OK, "v3");
}

/* The index of domains with a message (adhoc_motd_index.c). Answers come
 * back on the one worker in queue order, so a get queued after a request
 * is answered after it: that is how the test waits for the load. */
static void sync_store(void)
{
    store_motd_get(w0(), "sync.test", motd_cb, NULL, NULL);
    wait_result();
    store_motd_free(got);
}

static void test_motd_index(void **state)
{
    motd_index_reset();
    assert_true(motd_index_may_have("a.test"));         /* not loaded: ask */
    motd_index_load(w0());
    /* a set queued while the load is in flight is not lost */
    motd_index_set(w0(), "a.test", "v1", done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    assert_true(motd_index_may_have("a.test"));
    assert_false(motd_index_may_have("b.test"));
    motd_index_delete(w0(), "a.test", done_cb, NULL, NULL);
    wait_result();
    assert_false(motd_index_may_have("a.test"));
    motd_index_set(w0(), "b.test", "v1", done_cb, NULL, NULL);
    wait_result();
    /* a fresh start finds what the store holds */
    motd_index_reset();
    motd_index_load(w0());
    sync_store();
    assert_true(motd_index_may_have("b.test"));
    assert_false(motd_index_may_have("a.test"));
    /* a set queued before the load is in the store's list */
    motd_index_reset();
    motd_index_set(w0(), "c.test", "v1", done_cb, NULL, NULL);
    motd_index_load(w0());
    wait_result();
    sync_store();
    assert_true(motd_index_may_have("c.test"));
    assert_true(motd_index_may_have("b.test"));
    assert_false(motd_index_may_have("a.test"));
    motd_index_reset();
}

static int group_setup(void **state) { return workers_start(1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_build),
        cmocka_unit_test(test_form_read),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test_setup_teardown(test_motd_store, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_motd_index, setup, teardown_dir),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
