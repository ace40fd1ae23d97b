/* test_permissions.c: building a snapshot from raw directory entries
 * (dir_build.c) and compiling the communication restrictions
 * (dir_permissions.c), checked against directory.md: the worked example
 * under both policies, union over several groups, a group not implicitly in
 * its own lists, groupless users, names that are not XMPP groups, served
 * domains, ambiguous uids, and the snapshot comparison used to decide
 * whether to publish. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_build.h"

/* --- in-memory directory ------------------------------------------------ */

static dir_entry *ents[256];
static size_t nents;
static char warnings[16][300];
static size_t nwarn;

static char **list(const char *space_separated, size_t *n)
{
    *n = 0;
    if (!space_separated || !*space_separated)
        return NULL;
    char **v = calloc(32, sizeof *v);
    char *copy = strdup(space_separated), *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
        v[(*n)++] = strdup(t);
    free(copy);
    return v;
}

static void user(const char *uid, const char *domain, bool enabled, const char *label)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[200];
    snprintf(dn, sizeof dn, "uid=%s,cn=users", uid);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_ACCOUNT;
    e->enabled = enabled;
    e->uid = strdup(uid);
    e->domain = domain ? strdup(domain) : NULL;
    e->ulabel = label ? strdup(label) : NULL;
    ents[nents++] = e;
}

static void group(const char *cn, const char *members, const char *m, const char *p)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[200];
    snprintf(dn, sizeof dn, "cn=%s,cn=groups,%zu", cn, nents);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_GROUP;
    e->enabled = true;
    e->cn = strdup(cn);
    e->glabel = strdup(cn);
    e->members = list(members, &e->nmembers);
    e->mgroups = list(m, &e->nmgroups);
    e->pgroups = list(p, &e->npgroups);
    ents[nents++] = e;
}

static void on_warn(void *ud, const char *line)
{
    if (nwarn < 16)
        snprintf(warnings[nwarn++], sizeof warnings[0], "%s", line);
}

static dir_snapshot *build(bool filter, bool msg_allow, bool pres_allow)
{
    char *domains[] = { "a.test", "b.test" };
    dir_build_opts o = { .filter = filter, .msg_allow = msg_allow, .pres_allow = pres_allow,
                         .complete = true, .serial = 1, .warn = on_warn };
    nwarn = 0;
    dir_snapshot *s = dir_snapshot_build(domains, 2, ents, nents, &o);
    assert_non_null(s);
    return s;
}

static int teardown(void **state)
{
    for (size_t i = 0; i < nents; i++)
        dir_entry_free(ents[i]);
    nents = 0;
    return 0;
}

static const dir_account *A(const dir_snapshot *s, const char *uid)
{
    const dir_account *a = dir_snapshot_account(s, uid, "a.test");
    assert_non_null(a);
    return a;
}

static bool msg(const dir_snapshot *s, const char *from, const char *to)
{
    return dir_may_message(s, A(s, from), A(s, to));
}

static bool sees(const dir_snapshot *s, const char *observer, const char *subject)
{
    return dir_may_see(s, A(s, observer), A(s, subject));
}

static void worked_example(void)
{
    user("alice", "a.test", true, "Alice");
    user("bob", "a.test", true, "Bob");
    user("carol", "a.test", true, NULL);
    user("dave", "a.test", true, NULL);        /* in no group */
    group("staff", "alice bob carol", "managers", NULL);
    group("managers", "alice", "staff managers", "staff");
    group("interns", "carol", NULL, NULL);
}

/* --- tests -------------------------------------------------------------- */

static void test_worked_example_deny(void **state)
{
    worked_example();
    dir_snapshot *s = build(true, false, false);
    assert_int_equal(s->naccounts, 4);
    assert_int_equal(s->ngroups, 3);
    assert_true(msg(s, "alice", "bob"));       /* managers' M names staff */
    assert_true(msg(s, "bob", "alice"));       /* staff's M names managers */
    assert_false(msg(s, "bob", "carol"));      /* carol is not in managers */
    assert_true(msg(s, "carol", "alice"));     /* through staff: union */
    assert_false(msg(s, "carol", "bob"));
    assert_true(sees(s, "alice", "bob"));      /* managers' P names staff */
    assert_false(sees(s, "bob", "alice"));     /* staff's P is empty: deny */
    assert_false(sees(s, "bob", "carol"));
    assert_false(sees(s, "carol", "alice"));
    /* groupless dave: one group with empty lists: nobody under deny */
    assert_false(msg(s, "dave", "alice"));
    assert_false(sees(s, "dave", "alice"));
    /* ... and reachable only through a list that names everyone */
    assert_false(msg(s, "alice", "dave"));
    /* a group is not implicitly in its own lists: staff members other than
     * via managers cannot reach each other */
    assert_false(msg(s, "bob", "bob"));
    assert_true(msg(s, "alice", "alice"));     /* managers names itself */
    /* classes: alice {staff,managers}, bob {staff}, carol {staff,interns}, dave {} */
    assert_int_equal(s->nclasses, 4);
    dir_snapshot_unref(s);
}

static void test_worked_example_allow(void **state)
{
    worked_example();
    dir_snapshot *s = build(true, true, true);
    /* lists that are not empty still decide */
    assert_false(msg(s, "bob", "carol"));
    /* interns' empty M now means everyone: carol may reach bob */
    assert_true(msg(s, "carol", "bob"));
    /* staff's empty P means everyone: bob sees everybody */
    assert_true(sees(s, "bob", "alice"));
    assert_true(sees(s, "bob", "dave"));
    /* managers' P names staff only, but alice is in staff too (empty P) */
    assert_true(sees(s, "alice", "dave"));
    /* groupless dave: everyone */
    assert_true(msg(s, "dave", "bob"));
    assert_true(sees(s, "dave", "carol"));
    /* nobody's non-empty list names dave's class, but empty lists do */
    assert_true(msg(s, "carol", "dave"));
    assert_false(msg(s, "bob", "dave"));
    dir_snapshot_unref(s);
}

static void test_mixed_policies(void **state)
{
    worked_example();
    dir_snapshot *s = build(true, false, true);   /* messages deny, presence allow */
    assert_false(msg(s, "carol", "bob"));
    assert_true(sees(s, "bob", "alice"));
    assert_false(msg(s, "dave", "alice"));
    assert_true(sees(s, "dave", "alice"));
    dir_snapshot_unref(s);
}

static void test_self_exclusion(void **state)
{
    user("x", "a.test", true, NULL);
    user("y", "a.test", true, NULL);
    user("z", "a.test", true, NULL);
    group("team", "x y", "other", "other");
    group("other", "z", "team", NULL);
    dir_snapshot *s = build(true, false, false);
    assert_false(msg(s, "x", "y"));
    assert_false(msg(s, "y", "x"));
    assert_true(msg(s, "x", "z"));
    assert_true(msg(s, "z", "y"));
    assert_false(sees(s, "x", "y"));
    assert_true(sees(s, "x", "z"));
    assert_false(sees(s, "z", "x"));
    dir_snapshot_unref(s);
}

static void test_union(void **state)
{
    user("u", "a.test", true, NULL);
    user("v", "a.test", true, NULL);
    user("w", "a.test", true, NULL);
    group("g1", "u", "gv", NULL);
    group("g2", "u", "gw", NULL);
    group("gv", "v", NULL, NULL);
    group("gw", "w", NULL, NULL);
    dir_snapshot *s = build(true, false, false);
    assert_true(msg(s, "u", "v"));
    assert_true(msg(s, "u", "w"));
    assert_false(msg(s, "v", "u"));
    dir_snapshot_unref(s);
}

static void test_filter_off(void **state)
{
    worked_example();
    dir_snapshot *s = build(false, false, false);
    assert_true(msg(s, "bob", "carol"));
    assert_true(sees(s, "bob", "alice"));
    assert_true(msg(s, "dave", "alice"));
    /* the matrices are compiled anyway (a filter switch is just a flag) */
    assert_non_null(s->msg_allow);
    dir_snapshot_unref(s);
}

static void test_unknown_group_names(void **state)
{
    user("alice", "a.test", true, NULL);
    user("bob", "a.test", true, NULL);
    group("staff", "alice bob", "MANAGERS nosuch", "ghost");
    group("managers", "alice", NULL, NULL);
    dir_snapshot *s = build(true, true, false);
    assert_int_equal(nwarn, 2);
    assert_string_equal(warnings[0],
                        "group staff: xmppMessageGroups names 'nosuch', which is not an XMPP "
                        "group; ignored");
    assert_string_equal(warnings[1],
                        "group staff: xmppPresenceGroups names 'ghost', which is not an XMPP "
                        "group; ignored");
    const dir_group *g = dir_snapshot_group(s, "Staff");
    assert_non_null(g);
    assert_int_equal(g->nmgroups, 1);            /* case-insensitive: managers */
    assert_string_equal(s->groups[g->mgroups[0]].cn, "managers");
    assert_int_equal(g->npgroups, 0);            /* only unknown names: empty */
    assert_true(msg(s, "bob", "alice"));
    assert_true(msg(s, "alice", "bob"));         /* managers: empty M, allow */
    assert_false(sees(s, "bob", "alice"));       /* empty P, deny */
    dir_snapshot_unref(s);
}

static void test_accounts_rules(void **state)
{
    user("Alice", "A.TEST", true, "Alice A");     /* nodeprep + domain case */
    user("bob", "a.test", false, NULL);           /* disabled */
    user("carol", "c.test", true, NULL);          /* domain not served */
    user("nodom", NULL, true, NULL);
    user("dup", "a.test", true, NULL);
    user("DUP", "a.test", true, NULL);            /* same uid after nodeprep */
    user("dup", "b.test", true, NULL);            /* other domain: fine */
    user("erin", "b.test", true, NULL);
    group("all", "alice bob carol dup erin nobody", NULL, NULL);
    dir_snapshot *s = build(true, false, false);
    assert_int_equal(s->naccounts, 3);
    assert_int_equal(nwarn, 1);
    assert_non_null(strstr(warnings[0], "dup@a.test: 2 entries"));
    const dir_account *a = dir_snapshot_account(s, "alice", "a.test");
    assert_non_null(a);
    assert_string_equal(a->bare, "alice@a.test");
    assert_string_equal(a->label, "Alice A");
    assert_null(dir_snapshot_account(s, "bob", "a.test"));
    assert_null(dir_snapshot_account(s, "dup", "a.test"));
    assert_non_null(dir_snapshot_account(s, "dup", "b.test"));
    /* sorted by (domain, uid); members ascending; memberUid in any domain */
    assert_string_equal(s->accounts[0].bare, "alice@a.test");
    assert_string_equal(s->accounts[1].bare, "dup@b.test");
    assert_string_equal(s->accounts[2].bare, "erin@b.test");
    const dir_group *g = dir_snapshot_group(s, "all");
    assert_int_equal(g->nmembers, 3);
    assert_int_equal(g->members[0], 0);
    assert_int_equal(g->members[1], 1);
    assert_int_equal(g->members[2], 2);
    assert_int_equal(s->accounts[0].ngroups, 1);
    dir_snapshot_unref(s);
}

static void test_compare(void **state)
{
    worked_example();
    dir_snapshot *a = build(true, false, false);
    dir_snapshot *b = build(true, false, false);
    dir_snapshot_diff d;
    char text[200];
    assert_false(dir_snapshot_compare(a, b, &d));
    dir_snapshot_unref(b);
    b = build(true, true, false);                 /* policy change */
    assert_true(dir_snapshot_compare(a, b, &d));
    dir_snapshot_diff_text(&d, text, sizeof text);
    assert_string_equal(text, "permissions");
    dir_snapshot_unref(b);
    free(ents[1]->ulabel);                        /* bob's label */
    ents[1]->ulabel = strdup("Robert");
    user("zed", "a.test", true, NULL);
    b = build(true, false, false);
    assert_true(dir_snapshot_compare(a, b, &d));
    dir_snapshot_diff_text(&d, text, sizeof text);
    assert_string_equal(text, "accounts +1 -0 ~1");
    dir_snapshot_unref(b);
    dir_snapshot_unref(a);
}

static void test_many_classes(void **state)
{
    /* more than 64 classes: rows cross word boundaries */
    char name[32], members[32];
    for (int i = 0; i < 70; i++) {
        snprintf(name, sizeof name, "u%02d", i);
        user(name, "a.test", true, NULL);
    }
    for (int i = 0; i < 69; i++) {
        snprintf(name, sizeof name, "g%02d", i);
        snprintf(members, sizeof members, "u%02d", i);
        char next[32];
        snprintf(next, sizeof next, "g%02d", (i + 1) % 69);
        group(name, members, next, NULL);
    }
    dir_snapshot *s = build(true, false, false);
    assert_int_equal(s->nclasses, 70);
    for (int i = 0; i < 69; i++) {
        char a[8], b[8], c[8];
        snprintf(a, sizeof a, "u%02d", i);
        snprintf(b, sizeof b, "u%02d", (i + 1) % 69);
        snprintf(c, sizeof c, "u%02d", (i + 2) % 69);
        assert_true(msg(s, a, b));
        assert_false(msg(s, a, c));
        assert_false(msg(s, a, "u69"));           /* groupless */
        assert_false(msg(s, "u69", a));
    }
    dir_snapshot_unref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_worked_example_deny, teardown),
        cmocka_unit_test_teardown(test_worked_example_allow, teardown),
        cmocka_unit_test_teardown(test_mixed_policies, teardown),
        cmocka_unit_test_teardown(test_self_exclusion, teardown),
        cmocka_unit_test_teardown(test_union, teardown),
        cmocka_unit_test_teardown(test_filter_off, teardown),
        cmocka_unit_test_teardown(test_unknown_group_names, teardown),
        cmocka_unit_test_teardown(test_accounts_rules, teardown),
        cmocka_unit_test_teardown(test_compare, teardown),
        cmocka_unit_test_teardown(test_many_classes, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
