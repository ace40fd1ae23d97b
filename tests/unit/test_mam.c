/* test_mam.c: the pure parts of the message archive (src/modules/
 * mam_proto.c: archive id codec, XEP-0082 times, query and RSM parsing) and
 * the store's paging rules (src/store/store_sqlite_mam.c: pages forwards
 * and backwards, complete, count and index, unknown ids, preferences,
 * retention in batches) against a real SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store_wait.h"

#include "modules/mam_proto.h"
#include "store/store_mam.h"
#include "xml/xml_fragment.h"

/* ---- ids and times ---- */

static void test_id_codec(void **state)
{
    int64_t ids[] = { 1, 31, 32, 123456789, STORE_MAM_ID_LO(1764900000000000LL) | 7, INT64_MAX };
    char prev[MAM_ID_LEN + 1] = "";
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char s[MAM_ID_LEN + 1];
        mam_id_encode(ids[i], s);
        assert_int_equal(strlen(s), MAM_ID_LEN);
        assert_true(strcmp(prev, s) < 0);       /* string order is id order */
        assert_true(mam_id_decode(s) == ids[i]);
        strcpy(prev, s);
    }
    assert_true(mam_id_decode("0000000000001") == 1);
    assert_true(mam_id_decode("000000000000A") == 10);   /* upper case */
    assert_true(mam_id_decode("") == -1);
    assert_true(mam_id_decode("00000000000001") == -1);  /* too long */
    assert_true(mam_id_decode("000000000000u") == -1);   /* not in the alphabet */
    assert_true(mam_id_decode("z000000000000") == -1);   /* beyond 64 bits */
    assert_true(mam_id_decode(NULL) == -1);
}

static void test_time(void **state)
{
    assert_true(mam_time_parse("1970-01-01T00:00:00Z") == 0);
    assert_true(mam_time_parse("2026-12-05T14:00:00.123456Z") == 1796479200123456LL);
    assert_true(mam_time_parse("2026-12-05T16:00:00.5+02:00") == 1796479200500000LL);
    assert_true(mam_time_parse("2026-12-05T13:00:00-01:00") == 1796479200000000LL);
    assert_true(mam_time_parse("2026-12-05") == -1);
    assert_true(mam_time_parse("2026-12-05T14:00:00") == -1);     /* no zone */
    assert_true(mam_time_parse("2026-13-05T14:00:00Z") == -1);
    assert_true(mam_time_parse("2026-12-05T14:00:00.Z") == -1);
    assert_true(mam_time_parse("2026-12-05T14:00:00Zjunk") == -1);
    char out[48];
    mam_time_format(1796479200123456LL, out, sizeof out);
    assert_string_equal(out, "2026-12-05T14:00:00.123456Z");
}

/* ---- query parsing ---- */

static xnode *parse(const char *xml)
{
    xnode *n = xml_fragment_parse(xml, strlen(xml), NULL, 16);
    assert_non_null(n);
    return n;
}

#define Q(body) "<query xmlns='urn:xmpp:mam:2'>" body "</query>"
#define FORM(fields) "<x xmlns='jabber:x:data' type='submit'>" \
    "<field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field>" fields "</x>"
#define RSM(x) "<set xmlns='http://jabber.org/protocol/rsm'>" x "</set>"

static void test_request(void **state)
{
    mam_request r;
    const char *why = NULL;
    xnode *q = parse(Q(""));
    assert_int_equal(mam_request_parse(q, &r, &why), 0);
    assert_null(r.with);
    assert_true(r.start_us == -1 && r.end_us == -1);
    assert_int_equal(r.max, MAM_MAX_DEFAULT);
    assert_false(r.flip || r.rsm_before_empty);
    mam_request_clear(&r);
    xnode_free(q);

    char id[MAM_ID_LEN + 1];
    mam_id_encode(4242, id);
    char xml[1024];
    snprintf(xml, sizeof xml, Q(FORM("<field var='with'><value>bob@a.test</value></field>"
                                     "<field var='start'><value>1970-01-01T00:00:01Z</value></field>"
                                     "<field var='after-id'><value>%s</value></field>")
                                RSM("<max>1000</max><after>%s</after><before/>") "<flip-page/>"),
             id, id);
    q = parse(xml);
    assert_int_equal(mam_request_parse(q, &r, &why), 0);
    assert_string_equal(r.with, "bob@a.test");
    assert_true(r.start_us == 1000000);
    assert_true(r.after_id == 4242 && r.rsm_after == 4242);
    assert_int_equal(r.max, MAM_MAX_CAP);
    assert_true(r.rsm_before_empty && r.flip);
    mam_request_clear(&r);
    xnode_free(q);

    /* unknown ids decode to -1 (item-not-found for the caller) */
    q = parse(Q(FORM("<field var='before-id'><value>nope</value></field>")
                RSM("<before>xyz</before>")));
    assert_int_equal(mam_request_parse(q, &r, &why), 0);
    assert_true(r.before_id == -1 && r.rsm_before == -1);
    mam_request_clear(&r);
    xnode_free(q);

    const char *bad[] = {
        Q(FORM("<field var='start'><value>yesterday</value></field>")),
        Q(FORM("<field var='colour'><value>red</value></field>")),
        Q(FORM("<field var='with'><value></value></field>")),
        Q("<x xmlns='jabber:x:data'><field var='FORM_TYPE'><value>other</value></field></x>"),
        Q(RSM("<max>-1</max>")),
        Q(RSM("<max>ten</max>")),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q = parse(bad[i]);
        why = NULL;
        assert_int_equal(mam_request_parse(q, &r, &why), -1);
        assert_non_null(why);
        xnode_free(q);
    }
}

/* ---- the store ---- */

static store_mam_result *R;
static store_mam_prefs *P;

static void result_cb(void *arg, store_mam_result *res)
{
    pthread_mutex_lock(&W.m);
    R = res;
    wait_signal(arg, res->status);
}

static void prefs_cb(void *arg, store_mam_prefs *res)
{
    pthread_mutex_lock(&W.m);
    P = res;
    wait_signal(arg, res->status);
}

static char spec[600];

static int setup(void **state)
{
    tmpdir_make("/tmp/plucs-mam-XXXXXX");
    snprintf(spec, sizeof spec, "sqlite:%s/plucs.db", tmpdir);
    char err[512] = "";
    if (store_start(spec, err, sizeof err) != 0)
        fail_msg("store_start: %s", err);
    return 0;
}

static int group_setup(void **state)
{
    return workers_start(1);
}

static store_mam_result *run(store_mam_query q)
{
    q.owner = q.owner ? q.owner : "a@x";
    if (!q.hi)
        q.hi = INT64_MAX;
    store_mam_query_run(w0(), &q, result_cb, NULL, NULL);
    wait_result();
    return R;
}

static void put(const char *owner, int64_t id, const char *with)
{
    store_mam_put(w0(), owner, id, with, MAM_DIR_IN, "<message/>", false, done_cb, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
}

static void test_store_paging(void **state)
{
    /* a@x: ids 1..100 with b@x (odd) and c@x (even); d@x: id 1000 */
    for (int64_t i = 1; i <= 100; i++)
        put("a@x", i, i % 2 ? "b@x" : "c@x");
    put("d@x", 1000, "a@x");

    store_mam_result *r = run((store_mam_query){ .max = 10 });
    assert_int_equal(r->status, STORE_OK);
    assert_int_equal(r->n, 10);
    assert_true(r->msgs[0].id == 1 && r->msgs[9].id == 10);
    assert_true(r->count == 100 && r->first_index == 0 && !r->complete);
    store_mam_result_free(r);

    r = run((store_mam_query){ .max = 10, .after = 95 });
    assert_int_equal(r->n, 5);
    assert_true(r->msgs[0].id == 96 && r->complete && r->first_index == 95);
    store_mam_result_free(r);

    r = run((store_mam_query){ .max = 10, .last = true, .with = "b@x" });
    assert_int_equal(r->n, 10);
    assert_true(r->msgs[0].id == 81 && r->msgs[9].id == 99);  /* oldest first */
    assert_true(r->count == 50 && r->first_index == 40 && !r->complete);
    store_mam_result_free(r);

    r = run((store_mam_query){ .max = 10, .before = 11, .with = "b@x" });
    assert_int_equal(r->n, 5);
    assert_true(r->msgs[0].id == 1 && r->complete && r->first_index == 0);
    store_mam_result_free(r);

    /* a range (start/end as ids) */
    r = run((store_mam_query){ .max = 50, .lo = 20, .hi = 29 });
    assert_true(r->n == 10 && r->count == 10 && r->complete);
    store_mam_result_free(r);

    /* max 0: the count only */
    r = run((store_mam_query){ .max = 0 });
    assert_true(r->n == 0 && r->count == 100);
    store_mam_result_free(r);

    /* another owner's id is unknown here */
    r = run((store_mam_query){ .max = 10, .after = 1000 });
    assert_int_equal(r->status, STORE_NOT_FOUND);
    store_mam_result_free(r);
    r = run((store_mam_query){ .max = 10, .check_ids = { 5000, 0 } });
    assert_int_equal(r->status, STORE_NOT_FOUND);
    store_mam_result_free(r);

    /* retention in batches: below id 51, at most 20 at a time */
    store_mam_expire(w0(), 51, 20, done_cb, NULL);
    wait_result();
    assert_true(W.st == STORE_OK && W.value == 20);
    for (int i = 0; i < 3; i++) {
        store_mam_expire(w0(), 51, 20, done_cb, NULL);
        wait_result();
    }
    r = run((store_mam_query){ .max = 1 });
    assert_true(r->count == 50 && r->msgs[0].id == 51);
    store_mam_result_free(r);
}

static void test_store_prefs(void **state)
{
    store_mam_prefs_get(w0(), "a@x", prefs_cb, NULL, NULL);
    wait_result();
    assert_int_equal(P->status, STORE_NOT_FOUND);
    store_mam_prefs_free(P);

    char *always[] = { "c@x", NULL }, *never[] = { "b@x", "e@x", NULL };
    store_mam_prefs p = { .dflt = MAM_PREF_ROSTER, .always = always, .never = never };
    store_mam_prefs_set(w0(), "a@x", &p, done_cb, NULL, NULL);
    wait_result();
    assert_int_equal(W.st, STORE_OK);
    store_mam_prefs_get(w0(), "a@x", prefs_cb, NULL, NULL);
    wait_result();
    assert_int_equal(P->dflt, MAM_PREF_ROSTER);
    assert_string_equal(P->always[0], "c@x");
    assert_null(P->always[1]);
    assert_string_equal(P->never[1], "e@x");
    store_mam_prefs_free(P);

    struct { const char *with; bool in_roster; int64_t stored; } cases[] = {
        { "c@x", false, 1 },     /* always */
        { "b@x", true, 0 },      /* never beats roster */
        { "f@x", true, 1 },      /* roster */
        { "g@x", false, 0 },     /* not in roster */
    };
    for (size_t i = 0; i < 4; i++) {
        store_mam_put(w0(), "a@x", 10 + (int64_t)i, cases[i].with, MAM_DIR_OUT, "<m/>",
                      cases[i].in_roster, done_cb, NULL);
        wait_result();
        assert_int_equal(W.st, STORE_OK);
        assert_true(W.value == cases[i].stored);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_codec),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_request),
        cmocka_unit_test_setup_teardown(test_store_paging, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_prefs, setup, teardown_dir),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
