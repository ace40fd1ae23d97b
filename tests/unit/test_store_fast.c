/* test_store_fast.c: unit tests for the FAST token storage (XEP-0484;
 * src/store/store_fast.c and store_sqlite_fast.c) and its key file
 * (src/xmpp/fast_key.c): at most two tokens per (user, agent) after an
 * issue, using a token retires the older ones (or itself with invalidate),
 * expiry, revocation per user, store_user_forget, per-agent and per-user
 * isolation; the key file is made once (mode 0600) and read back the same.
 * Results come back through a real worker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/worker.h"
#include "store/store_fast.h"
#include "store/store_user.h"
#include "store_wait.h"
#include "xmpp/fast_key.h"

static store_fast_list *got;

static void list_cb(void *arg, store_fast_list *l)
{
    pthread_mutex_lock(&W.m);
    got = l;
    wait_signal(arg, l->status);
}

static store_fast_list *get(const char *user, const char *agent, int64_t now)
{
    store_fast_list_free(got);
    got = NULL;
    store_fast_get(w0(), user, agent, now, list_cb, NULL, NULL);
    wait_result();
    return got;
}

static void issue(const char *user, const char *agent, const char *nonce, int64_t expiry)
{
    store_fast_issue(w0(), user, agent, nonce, "hash", "m:1", expiry, done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
}

static char spec[600];

static int setup(void **state)
{
    tmpdir_make("/tmp/plucs-store-fast-XXXXXX");
    snprintf(spec, sizeof spec, "sqlite:%s/plucs.db", tmpdir);
    char err[512] = "";
    if (store_start(spec, err, sizeof err) != 0)
        fail_msg("store_start: %s", err);
    return 0;
}

static int teardown(void **state)
{
    store_fast_list_free(got);
    got = NULL;
    return teardown_dir(state);
}

static void test_rotation(void **state)
{
    int64_t now = time(NULL), later = now + 3600;
    issue("a@x", "ua", "n1", later);
    issue("a@x", "ua", "n2", later);
    store_fast_list *l = get("a@x", "ua", now);
    assert_int_equal(l->status, STORE_OK);
    assert_int_equal(l->n, 2);
    assert_string_equal(l->v[0].nonce, "n2");          /* newest first */
    assert_string_equal(l->v[0].stamp, "m:1");
    assert_int_equal(l->v[0].count, -1);
    int64_t id1 = l->v[1].id, id2 = l->v[0].id;
    /* a third issue drops the oldest: the new one and the one before */
    issue("a@x", "ua", "n3", later);
    l = get("a@x", "ua", now);
    assert_int_equal(l->n, 2);
    assert_string_equal(l->v[0].nonce, "n3");
    assert_string_equal(l->v[1].nonce, "n2");
    (void)id1;
    /* using n2 (older than n3) keeps n3; using n3 retires n2 */
    store_fast_used(w0(), "a@x", "ua", id2, false, 7, done_cb, NULL, NULL);
    wait_result();
    l = get("a@x", "ua", now);
    assert_int_equal(l->n, 2);
    assert_int_equal(l->v[1].count, 7);
    int64_t id3 = l->v[0].id;
    store_fast_used(w0(), "a@x", "ua", id3, false, -1, done_cb, NULL, NULL);
    wait_result();
    l = get("a@x", "ua", now);
    assert_int_equal(l->n, 1);
    assert_string_equal(l->v[0].nonce, "n3");
    /* invalidate: the token used is gone */
    store_fast_used(w0(), "a@x", "ua", id3, true, -1, done_cb, NULL, NULL);
    wait_result();
    l = get("a@x", "ua", now);
    assert_int_equal(l->status, STORE_NOT_FOUND);
    assert_int_equal(l->n, 0);
}

static void test_isolation_expiry_revoke(void **state)
{
    int64_t now = time(NULL);
    issue("a@x", "ua", "n1", now + 100);
    issue("a@x", "ub", "n2", now + 100);
    issue("b@x", "ua", "n3", now + 100);
    issue("a@x", "uc", "old", now - 1);
    assert_int_equal(get("a@x", "ua", now)->n, 1);
    assert_string_equal(got->v[0].nonce, "n1");
    assert_int_equal(get("a@x", "ub", now)->n, 1);
    assert_int_equal(get("a@x", "uc", now)->status, STORE_NOT_FOUND);   /* expired */
    /* a get at now + 100 removes every expired token of the user */
    assert_int_equal(get("a@x", "ua", now + 100)->status, STORE_NOT_FOUND);
    assert_int_equal(get("a@x", "ub", now)->status, STORE_NOT_FOUND);
    issue("a@x", "ua", "n4", now + 100);
    issue("a@x", "ub", "n5", now + 100);
    store_fast_revoke(w0(), "a@x", done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    assert_int_equal(W.value, 2);                      /* n4 and n5 */
    assert_int_equal(get("a@x", "ua", now)->status, STORE_NOT_FOUND);
    assert_int_equal(get("a@x", "ub", now)->status, STORE_NOT_FOUND);
    assert_int_equal(get("b@x", "ua", now)->n, 1);     /* another user's stay */
    store_user_forget(w0(), "b@x", done_cb, NULL);
    wait_result();
    assert_int_equal(get("b@x", "ua", now)->status, STORE_NOT_FOUND);
}

static void test_key_file(void **state)
{
    char err[256] = "";
    assert_int_equal(fast_key_load(spec, err, sizeof err), 0);
    unsigned char k1[FAST_KEY_LEN];
    memcpy(k1, fast_key(), sizeof k1);
    char path[700];
    snprintf(path, sizeof path, "%s/fast.key", tmpdir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, FAST_KEY_LEN);
    assert_int_equal(fast_key_load(spec, err, sizeof err), 0);   /* read back, not remade */
    assert_memory_equal(fast_key(), k1, sizeof k1);
    assert_int_equal(fast_key_load("postgres:x", err, sizeof err), -1);
    assert_null(fast_key());
    assert_non_null(strstr(err, "plucs/store"));
}

static int group_setup(void **state) { return workers_start(1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_isolation_expiry_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
