/* test_muc_policy.c: plucs/muc/create (src/modules/muc_policy.c) over an
 * in-memory snapshot: all, none and a group cn (members only, other
 * domains' members of the group too, a missing group lets nobody, no
 * snapshot yet, malformed bare JIDs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_build.h"
#include "modules/muc_policy.h"

static dir_entry *ents[16];
static size_t nents;

static void user(const char *uid, const char *domain)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[100];
    snprintf(dn, sizeof dn, "uid=%s,%s", uid, domain);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_ACCOUNT;
    e->enabled = true;
    e->uid = strdup(uid);
    e->domain = strdup(domain);
    ents[nents++] = e;
}

static void group(const char *cn, const char *m1, const char *m2)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[100];
    snprintf(dn, sizeof dn, "cn=%s", cn);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_GROUP;
    e->enabled = true;
    e->cn = strdup(cn);
    e->members = calloc(2, sizeof *e->members);
    e->members[e->nmembers++] = strdup(m1);
    if (m2)
        e->members[e->nmembers++] = strdup(m2);
    ents[nents++] = e;
}

static int setup(void **state)
{
    nents = 0;
    user("alice", "a.test");
    user("bob", "a.test");
    user("erin", "b.test");
    group("creators", "alice", "erin");
    group("others", "bob", NULL);
    char *domains[] = { "a.test", "b.test" };
    dir_build_opts o = { .complete = true, .serial = 1 };
    *state = dir_snapshot_build(domains, 2, ents, nents, &o);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    dir_snapshot_unref(*state);
    for (size_t i = 0; i < nents; i++)
        dir_entry_free(ents[i]);
    nents = 0;
    return 0;
}

static bool may(const dir_snapshot *s, const char *policy, const char *bare)
{
    config c = { 0 };
    c.muc_create = (char *)policy;
    return muc_policy_may_create(s, &c, bare);
}

static void test_all(void **state)
{
    const dir_snapshot *s = *state;
    assert_true(may(s, "all", "alice@a.test"));
    assert_false(may(s, "all", "stranger@remote.test"));   /* remote users: never */
    assert_true(may(s, "", "bob@a.test"));         /* unset = the default, all */
    assert_false(may(NULL, "all", "bob@a.test"));          /* no directory yet: nobody */
    assert_true(muc_policy_may_create(s, NULL, "bob@a.test"));
}

static void test_none(void **state)
{
    const dir_snapshot *s = *state;
    assert_false(may(s, "none", "alice@a.test"));
    assert_false(may(s, "none", "bob@a.test"));
    assert_false(may(NULL, "none", "bob@a.test"));
}

static void test_group(void **state)
{
    const dir_snapshot *s = *state;
    assert_true(may(s, "creators", "alice@a.test"));
    assert_true(may(s, "creators", "erin@b.test"));
    assert_false(may(s, "creators", "bob@a.test"));
    assert_true(may(s, "others", "bob@a.test"));
    assert_false(may(s, "others", "alice@a.test"));
    /* erin is not an account of a.test */
    assert_false(may(s, "creators", "erin@a.test"));
    assert_false(may(s, "creators", "stranger@remote.test"));
}

static void test_group_edge(void **state)
{
    const dir_snapshot *s = *state;
    assert_false(may(s, "nosuchgroup", "alice@a.test"));
    assert_false(may(NULL, "creators", "alice@a.test"));
    assert_false(may(s, "creators", NULL));
    assert_false(may(s, "creators", "alice"));
    assert_false(may(s, "creators", "@a.test"));
    assert_false(may(s, "creators", "alice@"));
    assert_false(may(s, "creators", "alice@a.test/res"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_edge, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
