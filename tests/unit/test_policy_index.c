/* test_policy_index.c: the policy stage's per-worker account index
 * (router/policy_index.c) answers exactly what dir_snapshot_account
 * answers: every account of the snapshot, the domain case-insensitively,
 * NULL for an unknown uid or domain, and the new snapshot's accounts
 * after the worker's snapshot changed. Runs on a real worker thread (the
 * index exists only there). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/worker.h"
#include "directory/dir_build.h"
#include "router/policy_index.h"

#define NUSERS 300

static dir_snapshot *build(unsigned first, unsigned n, uint64_t serial)
{
    dir_entry **ents = calloc(n, sizeof *ents);
    for (unsigned i = 0; i < n; i++) {
        dir_entry *e = calloc(1, sizeof *e);
        char uid[32], dn[64];
        snprintf(uid, sizeof uid, "u%04u", first + i);
        snprintf(dn, sizeof dn, "uid=%s,cn=users", uid);
        e->key = strdup(dn);
        e->dn = strdup(dn);
        e->kinds = DIR_E_ACCOUNT;
        e->enabled = true;
        e->uid = strdup(uid);
        e->domain = strdup(i % 3 ? "a.test" : "b.test");
        ents[i] = e;
    }
    char *domains[] = { "a.test", "b.test" };
    dir_build_opts o = { .filter = true, .complete = true, .serial = serial };
    dir_snapshot *s = dir_snapshot_build(domains, 2, ents, n, &o);
    for (unsigned i = 0; i < n; i++)
        dir_entry_free(ents[i]);
    free(ents);
    return s;
}

typedef struct job {
    dir_snapshot *s1, *s2;
    int bad;
    int done;                    /* under lock; the worker signals cond */
    pthread_mutex_t lock;
    pthread_cond_t cond;
} job;

static int same(const dir_snapshot *s, const char *uid, const char *domain)
{
    return policy_account(s, uid, domain) == dir_snapshot_account(s, uid, domain);
}

static void run(void *arg)
{
    job *j = arg;
    for (int round = 0; round < 2; round++) {   /* s1, then s2 (a rebuild) */
        const dir_snapshot *s = round ? j->s2 : j->s1;
        for (uint32_t i = 0; i < s->naccounts; i++) {
            const dir_account *a = &s->accounts[i];
            if (policy_account(s, a->uid, a->domain) != a)
                j->bad++;
            char upper[64];
            snprintf(upper, sizeof upper, "%s", a->domain);
            for (char *p = upper; *p; p++)
                if (*p >= 'a' && *p <= 'z')
                    *p = (char)(*p - 32);
            if (policy_account(s, a->uid, upper) != a)
                j->bad++;
        }
        j->bad += !same(s, "u9999", "a.test") + !same(s, "u0001", "c.test") +
                  !same(s, "U0001", "a.test") + !same(s, "", "a.test");
    }
    const dir_account *a = &j->s1->accounts[0];
    if (policy_account(j->s1, a->uid, a->domain) != a)
        j->bad++;
    pthread_mutex_lock(&j->lock);
    j->done = 1;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
}

static void test_index_matches_search(void **state)
{
    policy_index_init(1);
    assert_int_equal(workers_start(1), 0);
    job j = { .s1 = build(0, NUSERS, 1), .s2 = build(150, NUSERS, 2),
              .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    assert_non_null(j.s1);
    assert_non_null(j.s2);
    worker_post(worker_get(0), run, &j);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;   /* a stuck worker fails the test, never hangs it */
    pthread_mutex_lock(&j.lock);
    while (!j.done && pthread_cond_timedwait(&j.cond, &j.lock, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&j.lock);
    workers_stop();
    workers_free();
    assert_true(j.done);
    assert_int_equal(j.bad, 0);
    /* no worker: the binary search answers */
    assert_ptr_equal(policy_account(j.s1, "u0003", "a.test"),
                     dir_snapshot_account(j.s1, "u0003", "a.test"));
    dir_snapshot_unref(j.s1);
    dir_snapshot_unref(j.s2);
    policy_index_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_matches_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
