/* test_store_backend.c: unit tests for the storage seam (src/store/
 * store_backend.h): the scheme of plucs/store selects the back end and an
 * unknown one is refused with a message naming plucs/store, the value and
 * what is allowed; a tiny in-memory back end that stores only last activity
 * is registered and selected, and the public asynchronous API (store_last.h,
 * store_user.h, store_roster.h) runs through it unchanged, batches and
 * savepoints included; and the same last-activity checks run directly
 * through the ops tables of both the memory and the SQLite back end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/worker.h"
#include "store/store_backend.h"
#include "store/store_last.h"
#include "store/store_roster.h"
#include "store/store_user.h"
#include "store_wait.h"

/* ---- the memory back end: last activity only ---- */

#define MEM_MAX 8

typedef struct {
    char user[64];
    int64_t stamp;
    char text[64];
} mem_row;

typedef struct {
    mem_row rows[MEM_MAX];
    int n;
} mem_table;

static struct {
    store_conn conn;
    char location[64];
    mem_table t, savepoint;      /* savepoint: the table before the request */
    int begins, commits, rollbacks_to;
    bool open;
} M;

static store_conn *mem_open(const char *location, char *err, size_t errlen)
{
    if (strlen(location) >= sizeof M.location) {
        snprintf(err, errlen, "plucs/store: mem location too long");
        return NULL;
    }
    memset(&M, 0, sizeof M);
    strcpy(M.location, location);
    M.open = true;
    return &M.conn;
}

static void mem_close(store_conn *c) { M.open = false; }
static int mem_begin(store_conn *c) { M.begins++; return 0; }
static int mem_req_begin(store_conn *c) { M.savepoint = M.t; return 0; }
static int mem_commit(store_conn *c) { M.commits++; return 0; }

static int mem_req_end(store_conn *c, bool failed)
{
    if (failed) {
        M.t = M.savepoint;
        M.rollbacks_to++;
    }
    return 0;
}

static mem_row *mem_find(const char *user)
{
    for (int i = 0; i < M.t.n; i++)
        if (strcmp(M.t.rows[i].user, user) == 0)
            return &M.t.rows[i];
    return NULL;
}

static store_status mem_last_set(store_conn *c, const char *user, int64_t stamp, const char *text)
{
    mem_row *r = mem_find(user);
    if (!r) {
        if (M.t.n == MEM_MAX || strlen(user) >= sizeof r->user)
            return STORE_ERROR;
        r = &M.t.rows[M.t.n++];
        strcpy(r->user, user);
    }
    r->stamp = stamp;
    snprintf(r->text, sizeof r->text, "%s", text);
    /* a write that then fails: the savepoint must undo it */
    return strncmp(user, "fail", 4) == 0 ? STORE_ERROR : STORE_OK;
}

static store_status mem_last_get(store_conn *c, const char *user, store_last *res)
{
    mem_row *r = mem_find(user);
    if (!r)
        return STORE_NOT_FOUND;
    res->stamp = r->stamp;
    res->text = strdup(r->text);
    return STORE_OK;
}

static store_status mem_last_forget(store_conn *c, const char *user, int64_t *removed)
{
    mem_row *r = mem_find(user);
    if (r) {
        *r = M.t.rows[--M.t.n];
        (*removed)++;
    }
    return STORE_OK;
}

static const store_last_ops mem_last = {
    .set = mem_last_set,
    .get = mem_last_get,
    .forget = mem_last_forget,
};

static const store_backend mem_backend = {
    .scheme = "mem",
    .form = "mem:name",
    .open = mem_open,
    .close = mem_close,
    .begin = mem_begin,
    .req_begin = mem_req_begin,
    .req_end = mem_req_end,
    .commit = mem_commit,
    .last = &mem_last,              /* every other kind: NULL, not stored */
};

/* ---- results through a real worker (store_wait.h) ---- */

static void last_cb(void *arg, store_last *l)
{
    pthread_mutex_lock(&W.m);
    W.last = l;
    wait_signal(arg, l->status);
}

static void roster_cb(void *arg, store_roster *r)
{
    pthread_mutex_lock(&W.m);
    W.roster = r;
    wait_signal(arg, r->status);
}

static store_last *last_get(const char *user)
{
    store_last_get(w0(), user, last_cb, NULL, NULL);
    wait_result();
    return W.last;
}

/* ---- the same checks through any back end's last-activity table ---- */

static void check_last_ops(const store_backend *b, store_conn *c)
{
    const store_last_ops *ops = b->last;
    assert_non_null(ops);
    assert_int_equal(b->begin(c), 0);
    assert_int_equal(b->req_begin(c), 0);
    store_last res = { 0 };
    assert_int_equal(ops->get(c, "x@a.test", &res), STORE_NOT_FOUND);
    assert_int_equal(ops->set(c, "x@a.test", 10, "first"), STORE_OK);
    assert_int_equal(ops->set(c, "x@a.test", 20, "second"), STORE_OK);   /* replaces */
    assert_int_equal(ops->set(c, "y@a.test", 30, ""), STORE_OK);
    assert_int_equal(ops->get(c, "x@a.test", &res), STORE_OK);
    assert_int_equal(res.stamp, 20);
    assert_string_equal(res.text, "second");
    free(res.text);
    int64_t removed = 0;
    assert_int_equal(ops->forget(c, "x@a.test", &removed), STORE_OK);
    assert_int_equal(removed, 1);
    res = (store_last){ 0 };
    assert_int_equal(ops->get(c, "x@a.test", &res), STORE_NOT_FOUND);
    assert_int_equal(ops->get(c, "y@a.test", &res), STORE_OK);
    assert_int_equal(res.stamp, 30);
    assert_string_equal(res.text, "");
    free(res.text);
    assert_int_equal(b->req_end(c, false), 0);
    assert_int_equal(b->commit(c), 0);
}

/* ---- folders ---- */

static int setup_dir(void **state)
{
    tmpdir_make("/tmp/plucs-store-backend-XXXXXX");
    return 0;
}

/* ---- tests ---- */

static void test_scheme_selection(void **state)
{
    char err[512] = "";
    const char *location = NULL;
    assert_ptr_equal(store_backend_select("sqlite:/var/lib/plucs/plucs.db", &location, err,
                                          sizeof err), &store_sqlite_backend);
    assert_string_equal(location, "/var/lib/plucs/plucs.db");
    assert_ptr_equal(store_backend_select("mem:t", &location, err, sizeof err), &mem_backend);
    assert_string_equal(location, "t");

    /* unknown scheme: names the variable, the value and what is allowed */
    assert_int_equal(store_start("postgresql://db/plucs", err, sizeof err), -1);
    assert_non_null(strstr(err, "plucs/store"));
    assert_non_null(strstr(err, "'postgresql://db/plucs'"));
    assert_non_null(strstr(err, "sqlite:/absolute/path"));
    assert_non_null(strstr(err, "mem:name"));
    /* no scheme at all, and a scheme that is only a prefix of a known one */
    assert_int_equal(store_start("/var/lib/plucs/plucs.db", err, sizeof err), -1);
    assert_non_null(strstr(err, "plucs/store"));
    assert_int_equal(store_start("sql:/x.db", err, sizeof err), -1);
    assert_non_null(strstr(err, "'sql:/x.db'"));
    /* the right scheme, a wrong location: the back end's own message */
    assert_int_equal(store_start("sqlite:relative.db", err, sizeof err), -1);
    assert_non_null(strstr(err, "plucs/store"));
    assert_non_null(strstr(err, "absolute"));
    assert_false(store_running());

    /* a scheme can be registered once */
    assert_int_equal(store_backend_register(&store_sqlite_backend), -1);
    assert_int_equal(store_backend_register(&mem_backend), -1);
}

static void test_memory_backend(void **state)
{
    char err[512] = "";
    if (store_start("mem:unit", err, sizeof err) != 0)
        fail_msg("store_start: %s", err);
    assert_true(M.open);
    assert_string_equal(M.location, "unit");

    store_last_set(w0(), "ann@a.test", 1700000000, "away", done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    assert_int_equal(M.t.n, 1);                 /* it went to the memory table */
    assert_string_equal(M.t.rows[0].text, "away");

    store_last *l = last_get("ann@a.test");
    assert_int_equal(l->status, STORE_OK);
    assert_int_equal(l->stamp, 1700000000);
    assert_string_equal(l->text, "away");
    store_last_free(l);
    l = last_get("nobody@a.test");
    assert_int_equal(l->status, STORE_NOT_FOUND);
    assert_string_equal(l->text, "");
    store_last_free(l);

    /* a batch: one begin, one commit; the failing request in the middle is
     * undone alone (its savepoint), its neighbours stay */
    store_sync_wait();
    int begins = M.begins, commits = M.commits;
    M.begins = M.commits = 0;
    assert_int_equal(begins, commits);
    store_last_set(NULL, "b1@a.test", 1, "", NULL, NULL, NULL);
    store_last_set(NULL, "fail@a.test", 2, "", NULL, NULL, NULL);
    store_last_set(NULL, "b2@a.test", 3, "", NULL, NULL, NULL);
    store_sync_wait();
    assert_int_equal(M.begins, M.commits);
    assert_true(M.begins >= 1 && M.begins <= 3);
    assert_int_equal(M.rollbacks_to, 1);
    assert_non_null(mem_find("b1@a.test"));
    assert_null(mem_find("fail@a.test"));
    assert_non_null(mem_find("b2@a.test"));

    /* a kind this back end does not store fails cleanly */
    store_roster_get(w0(), "ann@a.test", roster_cb, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_ERROR);
    assert_int_equal(W.roster->n, 0);
    store_roster_free(W.roster);

    /* forgetting an account covers the kinds the back end has */
    store_user_forget(w0(), "ann@a.test", done_cb, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    assert_int_equal(W.value, 1);
    assert_null(mem_find("ann@a.test"));

    store_stop();
    assert_false(M.open);
}

static void test_ops_tables(void **state)
{
    char err[512] = "";
    /* the memory back end, without the storage thread */
    store_conn *c = mem_backend.open("direct", err, sizeof err);
    assert_non_null(c);
    check_last_ops(&mem_backend, c);
    mem_backend.close(c);

    /* SQLite, the same checks through its table */
    char path[600];
    snprintf(path, sizeof path, "%s/sub/plucs.db", tmpdir);
    c = store_sqlite_backend.open(path, err, sizeof err);
    if (!c)
        fail_msg("sqlite open: %s", err);
    assert_ptr_equal(c->backend, &store_sqlite_backend);
    check_last_ops(&store_sqlite_backend, c);
    store_sqlite_backend.close(c);

    /* and what SQLite committed is there for the public API */
    char spec[700];
    snprintf(spec, sizeof spec, "sqlite:%s", path);
    if (store_start(spec, err, sizeof err) != 0)
        fail_msg("store_start: %s", err);
    store_last *l = last_get("y@a.test");
    assert_int_equal(l->status, STORE_OK);
    assert_int_equal(l->stamp, 30);
    store_last_free(l);
    l = last_get("x@a.test");
    assert_int_equal(l->status, STORE_NOT_FOUND);
    store_last_free(l);
    store_stop();
}

static int group_setup(void **state)
{
    if (store_backend_register(&mem_backend) != 0)
        return -1;
    return workers_start(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scheme_selection, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_memory_backend, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_ops_tables, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
