/* test_store_muc.c: unit tests for persistent group chat rooms in the store
 * (src/store/store_muc.c, store_sqlite_muc.c) against a real SQLite file:
 * schema version 3 with its tables, save and load round trips, config
 * replacement keeping creator and creation time, the affiliation list
 * replaced all or nothing, single affiliation set/remove, room deletion,
 * persistence across a store restart, and that a save's callback runs only
 * when the row is committed (another connection sees it at once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/worker.h"
#include "store/store_muc.h"
#include "store_wait.h"

static store_muc_rooms *loaded;

static void rooms_cb(void *arg, store_muc_rooms *r)
{
    pthread_mutex_lock(&W.m);
    loaded = r;
    wait_signal(arg, r->status);
}

static store_muc_rooms *load(void)
{
    store_muc_load(w0(), rooms_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    assert_true(W.on_worker);
    return loaded;
}

static store_status save(const char *room, const char *cfg, const char *creator, bool repl,
                         const store_muc_aff_in *a, size_t n)
{
    store_muc_save(w0(), room, cfg, creator, repl, a, n, done_cb, NULL, NULL);
    wait_result();
    return W.st;
}

static store_status aff_set(const char *room, const char *jid, const char *aff, const char *nick)
{
    store_muc_aff_set(w0(), room, jid, aff, nick, "why", done_cb, NULL, NULL);
    wait_result();
    return W.st;
}

static store_status del(const char *room)
{
    store_muc_delete(w0(), room, done_cb, NULL, NULL);
    wait_result();
    return W.st;
}

static char spec[700], dbpath[600];

static int setup(void **state)
{
    tmpdir_make("/tmp/plucs-store-muc-XXXXXX");
    snprintf(dbpath, sizeof dbpath, "%s/plucs.db", tmpdir);
    snprintf(spec, sizeof spec, "sqlite:%s", dbpath);
    char err[512] = "";
    if (store_start(spec, err, sizeof err) != 0)
        fail_msg("store_start: %s", err);
    return 0;
}

/* One integer from the database through a separate connection. */
static long long query_int(const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_schema(void **state)
{
    assert_true(store_schema_version() >= 3);
    assert_int_equal(query_int("SELECT count(*) FROM muc_rooms"), 0);
    assert_int_equal(query_int("SELECT count(*) FROM muc_affiliations"), 0);
    store_muc_rooms *r = load();
    assert_int_equal(r->n, 0);
    store_muc_rooms_free(r);
}

static void test_round_trip(void **state)
{
    store_muc_aff_in a[] = {
        { "alice@a.test", "owner", NULL, "" },
        { "bob@a.test", "member", "bobby", "welcome" },
        { "mallory@evil.test", "outcast", NULL, "spam" },
    };
    assert_int_equal(save("team@conference.a.test", "name\tTeam\n", "alice@a.test", true, a, 3),
                     STORE_OK);
    assert_int_equal(W.value, 3);
    /* the callback ran after the commit: another connection sees it */
    assert_int_equal(query_int("SELECT count(*) FROM muc_affiliations"), 3);
    assert_int_equal(save("empty@conference.a.test", "x", NULL, true, NULL, 0), STORE_OK);

    store_muc_rooms *r = load();
    assert_int_equal(r->n, 2);
    assert_string_equal(r->rooms[0].jid, "empty@conference.a.test");
    assert_int_equal(r->rooms[0].naffs, 0);
    assert_string_equal(r->rooms[0].creator, "");
    store_muc_room *t = &r->rooms[1];
    assert_string_equal(t->jid, "team@conference.a.test");
    assert_string_equal(t->config, "name\tTeam\n");
    assert_string_equal(t->creator, "alice@a.test");
    assert_true(t->created > 1700000000);
    assert_int_equal(t->naffs, 3);
    assert_string_equal(t->affs[0].jid, "alice@a.test");
    assert_string_equal(t->affs[0].aff, "owner");
    assert_null(t->affs[0].nick);
    assert_string_equal(t->affs[1].nick, "bobby");
    assert_string_equal(t->affs[1].reason, "welcome");
    assert_string_equal(t->affs[2].aff, "outcast");
    int64_t created = t->created;
    store_muc_rooms_free(r);

    /* a config-only save keeps affiliations, creator and creation time */
    assert_int_equal(save("team@conference.a.test", "name\tTeam 2\n", "bob@a.test", false,
                          NULL, 0), STORE_OK);
    r = load();
    t = &r->rooms[1];
    assert_string_equal(t->config, "name\tTeam 2\n");
    assert_string_equal(t->creator, "alice@a.test");
    assert_int_equal(t->created, created);
    assert_int_equal(t->naffs, 3);
    store_muc_rooms_free(r);

    /* replacing the list: exactly the new one */
    store_muc_aff_in b[] = { { "carol@a.test", "admin", NULL, NULL } };
    assert_int_equal(save("team@conference.a.test", "c", NULL, true, b, 1), STORE_OK);
    r = load();
    assert_int_equal(r->rooms[1].naffs, 1);
    assert_string_equal(r->rooms[1].affs[0].jid, "carol@a.test");
    assert_string_equal(r->rooms[1].affs[0].reason, "");
    store_muc_rooms_free(r);
}

static void test_all_or_nothing(void **state)
{
    store_muc_aff_in a[] = { { "alice@a.test", "owner", NULL, "" } };
    assert_int_equal(save("r@conference.a.test", "one", NULL, true, a, 1), STORE_OK);
    store_muc_aff_in bad[] = {
        { "bob@a.test", "member", NULL, "" },
        { "eve@a.test", "emperor", NULL, "" },
    };
    assert_int_equal(save("r@conference.a.test", "two", NULL, true, bad, 2), STORE_ERROR);
    store_muc_rooms *r = load();
    assert_int_equal(r->n, 1);
    assert_string_equal(r->rooms[0].config, "one");
    assert_int_equal(r->rooms[0].naffs, 1);
    assert_string_equal(r->rooms[0].affs[0].jid, "alice@a.test");
    store_muc_rooms_free(r);
    assert_int_equal(save("", "x", NULL, false, NULL, 0), STORE_ERROR);
}

static void test_one_affiliation(void **state)
{
    assert_int_equal(save("r@conference.a.test", "c", NULL, true, NULL, 0), STORE_OK);
    assert_int_equal(aff_set("r@conference.a.test", "bob@a.test", "member", "bob"), STORE_OK);
    assert_int_equal(aff_set("r@conference.a.test", "bob@a.test", "admin", NULL), STORE_OK);
    assert_int_equal(aff_set("r@conference.a.test", "dan@a.test", "outcast", NULL), STORE_OK);
    assert_int_equal(aff_set("r@conference.a.test", "eve@a.test", "king", NULL), STORE_ERROR);
    store_muc_rooms *r = load();
    assert_int_equal(r->rooms[0].naffs, 2);
    assert_string_equal(r->rooms[0].affs[0].aff, "admin");
    assert_null(r->rooms[0].affs[0].nick);
    assert_string_equal(r->rooms[0].affs[0].reason, "why");
    store_muc_rooms_free(r);
    assert_int_equal(aff_set("r@conference.a.test", "bob@a.test", "none", NULL), STORE_OK);
    assert_int_equal(W.value, 1);
    assert_int_equal(aff_set("r@conference.a.test", "bob@a.test", NULL, NULL), STORE_NOT_FOUND);
    assert_int_equal(query_int("SELECT count(*) FROM muc_affiliations"), 1);
}

static void test_delete_and_restart(void **state)
{
    store_muc_aff_in a[] = { { "alice@a.test", "owner", NULL, "" } };
    assert_int_equal(save("gone@conference.a.test", "g", NULL, true, a, 1), STORE_OK);
    assert_int_equal(save("stays@conference.a.test", "s", "alice@a.test", true, a, 1), STORE_OK);
    assert_int_equal(del("gone@conference.a.test"), STORE_OK);
    assert_int_equal(W.value, 2);
    assert_int_equal(del("gone@conference.a.test"), STORE_NOT_FOUND);
    /* restart: what was acknowledged is there */
    store_stop();
    char err[512] = "";
    assert_int_equal(store_start(spec, err, sizeof err), 0);
    store_muc_rooms *r = load();
    assert_int_equal(r->n, 1);
    assert_string_equal(r->rooms[0].jid, "stays@conference.a.test");
    assert_string_equal(r->rooms[0].config, "s");
    assert_int_equal(r->rooms[0].naffs, 1);
    store_muc_rooms_free(r);
    assert_int_equal(query_int("SELECT count(*) FROM muc_affiliations"), 1);
}

static void test_not_running(void **state)
{
    store_stop();
    store_muc_load(w0(), rooms_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_ERROR);
    assert_int_equal(loaded->n, 0);
    store_muc_rooms_free(loaded);
}

static int group_setup(void **state) { return workers_start(1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_one_affiliation, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_delete_and_restart, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_not_running, setup, teardown_dir),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
