/* test_store.c: unit tests for the storage thread and its SQLite back end
 * (src/store/): migrations, rosters with versions, stored subscription
 * requests, offline messages with limit and acknowledgement, durability
 * across restarts and across SIGKILL. Results come back through a real
 * worker (workers_start(1)); the test thread waits for them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/worker.h"
#include "store/store_offline.h"
#include "store/store_pending.h"
#include "store/store_roster.h"
#include "store/store_user.h"
#include "store_wait.h"

/* ---- waiting for a result on the test thread (store_wait.h) ---- */

static void roster_cb(void *arg, store_roster *r)
{
    pthread_mutex_lock(&W.m);
    W.roster = r;
    wait_signal(arg, r->status);
}

static void pending_cb(void *arg, store_pending *p)
{
    pthread_mutex_lock(&W.m);
    W.pending = p;
    wait_signal(arg, p->status);
}

static void offline_cb(void *arg, store_offline *o)
{
    pthread_mutex_lock(&W.m);
    W.offline = o;
    wait_signal(arg, o->status);
}

/* Here every result must also come on a worker thread. */
static void wait_on_worker(void)
{
    wait_result();
    assert_true(W.on_worker);
}

/* Shorthands: run one operation and wait for its result. */
static store_status do_set(const char *user, const char *contact, const char *name, store_sub sub,
                           bool ask, char **groups, int64_t *version)
{
    store_roster_item it = { (char *)contact, (char *)name, sub, ask, false, groups };
    store_roster_set(w0(), user, &it, done_cb, NULL);
    wait_on_worker();
    *version = W.value;
    return W.st;
}

static store_roster *do_get(const char *user)
{
    store_roster_get(w0(), user, roster_cb, NULL);
    wait_on_worker();
    return W.roster;
}

static store_status do_push(const char *user, const char *xml, int max)
{
    store_offline_push(w0(), user, xml, max, done_cb, NULL);
    wait_on_worker();
    return W.st;
}

static store_offline *do_pop(const char *user)
{
    store_offline_pop_all(w0(), user, offline_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.st, STORE_OK);
    return W.offline;
}

static int64_t do_count(const char *user)
{
    store_offline_count(w0(), user, done_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.st, STORE_OK);
    return W.value;
}

/* ---- temporary folders ---- */

static char spec[600];
static char dbpath[512];

static int setup_dir(void **state)
{
    tmpdir_make("/tmp/plucs-store-XXXXXX");
    /* a folder that does not exist yet: store_start creates it */
    snprintf(dbpath, sizeof dbpath, "%s/lib/plucs/plucs.db", tmpdir);
    snprintf(spec, sizeof spec, "sqlite:%s", dbpath);
    return 0;
}

static void start_ok(void)
{
    char err[512] = "";
    if (store_start(spec, err, sizeof err) != 0)
        fail_msg("store_start: %s", err);
}

static int pragma_int(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* ---- tests ---- */

static void test_fresh_database(void **state)
{
    start_ok();
    assert_true(store_running());
    store_stop();
    assert_false(store_running());

    struct stat sb;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/lib/plucs", tmpdir);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777 & ~0750, 0);
    assert_int_equal(stat(dbpath, &sb), 0);
    assert_int_equal(sb.st_mode & 0007, 0);    /* not world-readable */

    assert_int_equal(pragma_int(dbpath, "PRAGMA user_version"), store_schema_version());
    assert_int_equal(pragma_int(dbpath, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                                        "name IN ('roster_items','roster_version','pending_in','offline')"), 4);

    /* reopening an up-to-date database changes nothing */
    start_ok();
    store_stop();
    assert_int_equal(pragma_int(dbpath, "PRAGMA user_version"), store_schema_version());
}

static void test_future_version_refused(void **state)
{
    start_ok();
    store_stop();
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    char err[512] = "";
    assert_int_equal(store_start(spec, err, sizeof err), -1);
    assert_false(store_running());
    assert_non_null(strstr(err, "99"));
    assert_non_null(strstr(err, "newer"));
}

static void test_bad_spec(void **state)
{
    char err[512];
    assert_int_equal(store_start("postgresql://db/plucs", err, sizeof err), -1);
    assert_non_null(strstr(err, "plucs/store"));
    assert_int_equal(store_start("sqlite:relative.db", err, sizeof err), -1);
    assert_int_equal(store_start("sqlite:", err, sizeof err), -1);
    assert_false(store_running());

    /* a file that is not a database */
    char path[512];
    snprintf(path, sizeof path, "%s/junk.db", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not an SQLite database, just some text long enough to matter\n", f);
    fclose(f);
    char s[600];
    snprintf(s, sizeof s, "sqlite:%s", path);
    assert_int_equal(store_start(s, err, sizeof err), -1);
    assert_false(store_running());
}

static void test_not_running(void **state)
{
    store_offline_push(w0(), "a@example.org", "<message/>", 10, done_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.st, STORE_ERROR);
    store_roster *r = do_get("a@example.org");
    assert_int_equal(r->status, STORE_ERROR);
    assert_int_equal(r->n, 0);
    store_roster_free(r);
    store_offline_push(NULL, "a@example.org", "<message/>", 10, NULL, NULL);   /* no leak */
    store_sync_wait();                                                        /* no hang */
}

static void test_roster(void **state)
{
    start_ok();
    const char *u = "alice@example.org";
    int64_t v;

    store_roster *r = do_get(u);
    assert_int_equal(r->status, STORE_OK);
    assert_int_equal(r->version, 0);
    assert_int_equal(r->n, 0);
    store_roster_free(r);

    char *g1[] = { "Friends", "Work\nstuff", "", NULL };
    assert_int_equal(do_set(u, "carol@example.org", "Carol", STORE_SUB_BOTH, false, g1, &v), STORE_OK);
    assert_int_equal(v, 1);
    assert_int_equal(do_set(u, "bob@example.org", NULL, STORE_SUB_NONE, true, NULL, &v), STORE_OK);
    assert_int_equal(v, 2);
    /* another user's roster has its own version */
    assert_int_equal(do_set("dave@example.org", "bob@example.org", NULL, STORE_SUB_TO, false, NULL, &v),
                     STORE_OK);
    assert_int_equal(v, 1);

    r = do_get(u);
    assert_int_equal(r->status, STORE_OK);
    assert_int_equal(r->version, 2);
    assert_int_equal(r->n, 2);
    assert_string_equal(r->items[0].contact, "bob@example.org");    /* sorted */
    assert_null(r->items[0].name);
    assert_int_equal(r->items[0].subscription, STORE_SUB_NONE);
    assert_true(r->items[0].ask);
    assert_non_null(r->items[0].groups);
    assert_null(r->items[0].groups[0]);
    assert_string_equal(r->items[1].contact, "carol@example.org");
    assert_string_equal(r->items[1].name, "Carol");
    assert_int_equal(r->items[1].subscription, STORE_SUB_BOTH);
    assert_false(r->items[1].ask);
    assert_string_equal(r->items[1].groups[0], "Friends");
    assert_string_equal(r->items[1].groups[1], "Work stuff");
    assert_null(r->items[1].groups[2]);
    store_roster_free(r);

    /* upsert replaces every field and bumps the version */
    char *g2[] = { "Family", NULL };
    assert_int_equal(do_set(u, "bob@example.org", "Bob", STORE_SUB_TO, false, g2, &v), STORE_OK);
    assert_int_equal(v, 3);
    store_roster_get_item(w0(), u, "bob@example.org", roster_cb, NULL);
    wait_on_worker();
    r = W.roster;
    assert_int_equal(r->version, 3);
    assert_int_equal(r->n, 1);
    assert_string_equal(r->items[0].name, "Bob");
    assert_int_equal(r->items[0].subscription, STORE_SUB_TO);
    assert_false(r->items[0].ask);
    assert_string_equal(r->items[0].groups[0], "Family");
    store_roster_free(r);

    store_roster_get_item(w0(), u, "nobody@example.org", roster_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.roster->n, 0);
    store_roster_free(W.roster);

    /* delete: bumps; deleting what is not there does not */
    store_roster_del(w0(), u, "bob@example.org", done_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.st, STORE_OK);
    assert_int_equal(W.value, 4);
    store_roster_del(w0(), u, "bob@example.org", done_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.st, STORE_NOT_FOUND);
    assert_int_equal(W.value, 4);

    r = do_get(u);
    assert_int_equal(r->version, 4);
    assert_int_equal(r->n, 1);
    assert_string_equal(r->items[0].contact, "carol@example.org");
    store_roster_free(r);

    /* a request without a contact fails cleanly */
    store_roster_item bad = { NULL, NULL, STORE_SUB_NONE, false, false, NULL };
    store_roster_set(w0(), u, &bad, done_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.st, STORE_ERROR);

    /* survives a restart */
    store_stop();
    start_ok();
    r = do_get(u);
    assert_int_equal(r->version, 4);
    assert_int_equal(r->n, 1);
    assert_string_equal(r->items[0].groups[1], "Work stuff");
    store_roster_free(r);

    assert_string_equal(store_sub_name(STORE_SUB_FROM), "from");
    store_sub s;
    assert_int_equal(store_sub_parse("both", &s), 0);
    assert_int_equal(s, STORE_SUB_BOTH);
    assert_int_equal(store_sub_parse("bogus", &s), -1);
}

static void test_pending(void **state)
{
    start_ok();
    const char *u = "alice@example.org";
    store_pending_add(w0(), u, "zed@example.org", "<presence type='subscribe'>1</presence>", done_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.st, STORE_OK);
    store_pending_add(NULL, u, "bob@example.org", "<presence type='subscribe'/>", NULL, NULL);
    store_pending_add(w0(), u, "zed@example.org", "<presence type='subscribe'>2</presence>", done_cb, NULL);
    wait_on_worker();

    store_pending_list(w0(), u, pending_cb, NULL);
    wait_on_worker();
    store_pending *p = W.pending;
    assert_int_equal(p->status, STORE_OK);
    assert_int_equal(p->n, 2);
    assert_string_equal(p->items[0].contact, "bob@example.org");
    assert_string_equal(p->items[1].contact, "zed@example.org");
    assert_string_equal(p->items[1].stanza, "<presence type='subscribe'>2</presence>");   /* replaced */
    store_pending_free(p);

    store_pending_del(w0(), u, "bob@example.org", done_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.st, STORE_OK);
    store_pending_del(w0(), u, "bob@example.org", done_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.st, STORE_NOT_FOUND);

    store_pending_list(w0(), "other@example.org", pending_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.pending->n, 0);
    store_pending_free(W.pending);

    store_pending_list(w0(), u, pending_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.pending->n, 1);
    store_pending_free(W.pending);
}

static void test_offline(void **state)
{
    start_ok();
    const char *u = "bob@example.org";
    assert_int_equal(do_push(u, "<message>1</message>", 3), STORE_OK);
    int64_t id1 = W.value;
    assert_int_equal(do_push(u, "<message>2</message>", 3), STORE_OK);
    assert_true(W.value > id1);
    assert_int_equal(do_push(u, "<message>3</message>", 3), STORE_OK);
    assert_int_equal(do_push(u, "<message>4</message>", 3), STORE_FULL);
    assert_int_equal(do_push("carol@example.org", "<message>c</message>", 3), STORE_OK);
    assert_int_equal(do_push("carol@example.org", "<message>x</message>", 0), STORE_FULL);
    assert_int_equal(do_count(u), 3);

    store_offline *o = do_pop(u);
    assert_int_equal(o->n, 3);
    assert_string_equal(o->msgs[0].stanza, "<message>1</message>");
    assert_string_equal(o->msgs[1].stanza, "<message>2</message>");
    assert_string_equal(o->msgs[2].stanza, "<message>3</message>");
    assert_true(o->msgs[0].id < o->msgs[1].id && o->msgs[1].id < o->msgs[2].id);
    assert_true(o->msgs[0].stamp <= o->msgs[2].stamp);
    assert_true(o->msgs[0].stamp > 1600000000000LL);     /* unix ms */
    assert_int_equal(o->max_id, o->msgs[2].id);
    int64_t max_id = o->max_id;
    store_offline_free(o);

    /* fetching deletes nothing */
    assert_int_equal(do_count(u), 3);

    /* a message that arrives between fetch and ack survives the ack */
    assert_int_equal(do_push(u, "<message>late</message>", 10), STORE_OK);
    store_offline_ack(w0(), u, max_id, done_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.st, STORE_OK);
    assert_int_equal(W.value, 3);
    o = do_pop(u);
    assert_int_equal(o->n, 1);
    assert_string_equal(o->msgs[0].stanza, "<message>late</message>");
    store_offline_ack(NULL, u, o->max_id, NULL, NULL);
    store_offline_free(o);
    store_sync_wait();
    assert_int_equal(do_count(u), 0);
    assert_int_equal(do_count("carol@example.org"), 1);

    o = do_pop("nobody@example.org");
    assert_int_equal(o->n, 0);
    assert_int_equal(o->max_id, 0);
    store_offline_free(o);
}

static void test_durable_across_restart(void **state)
{
    start_ok();
    const char *u = "eve@example.org";
    /* a burst of fire-and-forget pushes: batched, still in order */
    for (int i = 0; i < 500; i++) {
        char xml[64];
        snprintf(xml, sizeof xml, "<message>%d</message>", i);
        store_offline_push(NULL, u, xml, 400, NULL, NULL);
    }
    store_stop();        /* drains the queue */
    start_ok();
    store_offline *o = do_pop(u);
    assert_int_equal(o->n, 400);
    for (size_t i = 0; i < o->n; i++) {
        char xml[64];
        snprintf(xml, sizeof xml, "<message>%zu</message>", i);
        assert_string_equal(o->msgs[i].stanza, xml);
    }
    store_offline_free(o);
}

static void test_forget_and_batch_errors(void **state)
{
    start_ok();
    const char *u = "gina@example.org";
    int64_t v;
    /* queued back to back: one batch; the failing request in the middle
     * must not undo its neighbours */
    store_roster_item bad = { NULL, NULL, STORE_SUB_NONE, false, false, NULL };
    store_offline_push(NULL, u, "<message>a</message>", 10, NULL, NULL);
    store_roster_set(NULL, u, &bad, NULL, NULL);
    store_offline_push(NULL, u, "<message>b</message>", 10, NULL, NULL);
    store_sync_wait();
    assert_int_equal(do_count(u), 2);

    assert_int_equal(do_set(u, "h@example.org", NULL, STORE_SUB_FROM, false, NULL, &v), STORE_OK);
    store_pending_add(w0(), u, "i@example.org", "<presence/>", done_cb, NULL);
    wait_on_worker();
    assert_int_equal(do_set("keep@example.org", "h@example.org", NULL, STORE_SUB_TO, false, NULL, &v),
                     STORE_OK);

    store_user_forget(w0(), u, done_cb, NULL);
    wait_on_worker();
    assert_int_equal(W.st, STORE_OK);
    assert_int_equal(W.value, 5);      /* 2 messages, 1 item, 1 version, 1 request */
    assert_int_equal(do_count(u), 0);
    store_roster *r = do_get(u);
    assert_int_equal(r->n, 0);
    assert_int_equal(r->version, 0);
    store_roster_free(r);
    r = do_get("keep@example.org");
    assert_int_equal(r->n, 1);
    store_roster_free(r);
}

/* The child stores a message, reports once the completion ran, and is
 * killed with SIGKILL right then: the message must be there afterwards.
 * The child is forked by main() before any thread exists (forking a
 * threaded process is asking for trouble); this test checks the result. */
static char kill_spec[600], kill_dir[256];

static int kill_child_run(void)
{
    strcpy(kill_dir, "/tmp/plucs-store-kill-XXXXXX");
    if (!mkdtemp(kill_dir))
        return -1;
    snprintf(kill_spec, sizeof kill_spec, "sqlite:%s/plucs.db", kill_dir);
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        char err[512];
        if (store_start(kill_spec, err, sizeof err) != 0)
            _exit(1);
        store_offline_push(NULL, "frank@example.org", "<message>kept</message>", 10, NULL, NULL);
        store_sync_wait();          /* returns once the result was delivered */
        if (write(fds[1], "k", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    char c = 0;
    ssize_t n = read(fds[0], &c, 1);
    close(fds[0]);
    kill(pid, SIGKILL);             /* no chance to close or checkpoint */
    int status;
    waitpid(pid, &status, 0);
    return n == 1 && WIFSIGNALED(status) ? 0 : -1;
}

static int kill_child_ok;

static void test_durable_across_kill(void **state)
{
    assert_true(kill_child_ok);
    strcpy(spec, kill_spec);
    start_ok();
    store_offline *o = do_pop("frank@example.org");
    assert_int_equal(o->n, 1);
    assert_string_equal(o->msgs[0].stanza, "<message>kept</message>");
    store_offline_free(o);
    store_stop();
    rm_tree(kill_dir);
}

static int group_setup(void **state) { return workers_start(1); }

int main(void)
{
    kill_child_ok = kill_child_run() == 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_database, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_future_version_refused, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad_spec, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_not_running, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_roster, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_pending, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_offline, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_durable_across_restart, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_forget_and_batch_errors, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_durable_across_kill, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
