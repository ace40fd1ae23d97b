/* test_muc_grouprooms.c: directory group rooms as pure functions
 * (src/modules/muc_grouprooms_set.c) over in-memory snapshots: one room per
 * group and domain with members there, names from labels, nodeprepped
 * localparts, owners from plucs/muc/grouprooms/owners, nothing when off or
 * incomplete, and the differences between two snapshots (member added,
 * removed, promoted, group gone, label changed, group rooms switched off). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_build.h"
#include "modules/muc_grouprooms_set.h"

static dir_entry *ents[32];
static size_t nents;

static char **list(const char *s, size_t *n)
{
    *n = 0;
    char **v = calloc(16, sizeof *v);
    char *copy = strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
        v[(*n)++] = strdup(t);
    free(copy);
    return v;
}

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

static void group(const char *cn, const char *label, const char *members)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[100];
    snprintf(dn, sizeof dn, "cn=%s", cn);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_GROUP;
    e->enabled = true;
    e->cn = strdup(cn);
    e->glabel = label ? strdup(label) : NULL;
    e->members = list(members, &e->nmembers);
    ents[nents++] = e;
}

static dir_snapshot *build(bool complete)
{
    char *domains[] = { "a.test", "b.test" };
    dir_build_opts o = { .complete = complete, .serial = 1 };
    dir_snapshot *s = dir_snapshot_build(domains, 2, ents, nents, &o);
    for (size_t i = 0; i < nents; i++)
        dir_entry_free(ents[i]);
    nents = 0;
    assert_non_null(s);
    return s;
}

static config cfg_on(const char *owners)
{
    config c = { 0 };
    c.muc = true;
    c.muc_grouprooms = true;
    c.muc_host = (char *)"conference.%s";
    c.muc_grouprooms_owners = (char *)(owners ? owners : "");
    return c;
}

static void users(void)
{
    user("alice", "a.test");
    user("bob", "a.test");
    user("carol", "a.test");
    user("erin", "b.test");
    user("boss", "a.test");
}

/* alice, bob in Sales (label "Sales Team"); carol, erin in it (no label);
 * boss alone in admins. */
static dir_snapshot *snap1(void)
{
    users();
    group("Sales", "Sales Team", "alice bob");
    group("it", NULL, "carol erin");
    group("admins", "Admins", "boss");
    return build(true);
}

static char out[2048];

static void collect(const gr_change *ch, void *ud)
{
    char line[256];
    switch (ch->kind) {
    case GR_CREATE:
        snprintf(line, sizeof line, "create %s;", ch->room->jid);
        break;
    case GR_RENAME:
        snprintf(line, sizeof line, "rename %s %s;", ch->room->jid, ch->room->name);
        break;
    case GR_DESTROY:
        snprintf(line, sizeof line, "destroy %s;", ch->room->jid);
        break;
    case GR_AFF:
        snprintf(line, sizeof line, "%s %s %s;", ch->room->jid, ch->bare,
                 ch->aff == MUC_AFF_OWNER ? "owner" : ch->aff == MUC_AFF_MEMBER ? "member"
                 : ch->aff == MUC_AFF_NONE ? "none" : "?");
        break;
    }
    strcat(out, line);
}

static const char *diff(const gr_set *a, const gr_set *b)
{
    out[0] = 0;
    grouprooms_diff(a, b, collect, NULL);
    return out;
}

static const char *affs(const gr_room *r)
{
    out[0] = 0;
    for (size_t i = 0; i < r->naffs; i++) {
        strcat(out, r->affs[i].bare);
        strcat(out, r->affs[i].aff == MUC_AFF_OWNER ? "=owner " : "=member ");
    }
    return out;
}

static void test_desired(void **state)
{
    dir_snapshot *s = snap1();
    config c = cfg_on(NULL);
    gr_set *g = grouprooms_desired(s, &c);
    assert_true(g->active);
    assert_int_equal(g->n, 4);
    assert_string_equal(g->rooms[0].jid, "admins@conference.a.test");
    assert_string_equal(g->rooms[1].jid, "it@conference.a.test");
    assert_string_equal(g->rooms[2].jid, "it@conference.b.test");
    assert_string_equal(g->rooms[3].jid, "sales@conference.a.test");   /* nodeprepped */
    const gr_room *r = grouprooms_find(g, "sales@conference.a.test");
    assert_non_null(r);
    assert_string_equal(r->name, "Sales Team");
    assert_string_equal(r->cn, "Sales");
    assert_string_equal(affs(r), "alice@a.test=member bob@a.test=member ");
    r = grouprooms_find(g, "it@conference.a.test");
    assert_string_equal(r->name, "it");                                 /* no label: cn */
    assert_string_equal(affs(r), "carol@a.test=member ");
    assert_string_equal(affs(grouprooms_find(g, "it@conference.b.test")), "erin@b.test=member ");
    assert_null(grouprooms_find(g, "sales@conference.b.test"));         /* no member there */
    grouprooms_set_free(g);

    /* owners: admins' members own every room; a member who is an owner is owner */
    c = cfg_on("admins");
    g = grouprooms_desired(s, &c);
    assert_string_equal(affs(grouprooms_find(g, "sales@conference.a.test")),
                        "alice@a.test=member bob@a.test=member boss@a.test=owner ");
    assert_string_equal(affs(grouprooms_find(g, "it@conference.b.test")),
                        "boss@a.test=owner erin@b.test=member ");
    assert_string_equal(affs(grouprooms_find(g, "admins@conference.a.test")),
                        "boss@a.test=owner ");
    grouprooms_set_free(g);

    assert_true(grouprooms_is_group_room(s, &c, "sales@conference.a.test"));
    assert_true(grouprooms_is_group_room(s, &c, "it@conference.b.test"));
    assert_false(grouprooms_is_group_room(s, &c, "sales@conference.b.test"));
    assert_false(grouprooms_is_group_room(s, &c, "other@conference.a.test"));
    assert_false(grouprooms_is_group_room(s, &c, "sales@elsewhere.test"));

    /* an owners group that does not exist: nobody owns */
    c = cfg_on("nosuch");
    g = grouprooms_desired(s, &c);
    assert_string_equal(affs(grouprooms_find(g, "sales@conference.a.test")),
                        "alice@a.test=member bob@a.test=member ");
    grouprooms_set_free(g);

    /* another host pattern */
    c = cfg_on(NULL);
    c.muc_host = (char *)"Chat-%s";
    g = grouprooms_desired(s, &c);
    assert_non_null(grouprooms_find(g, "sales@chat-a.test"));
    grouprooms_set_free(g);
    dir_snapshot_unref(s);
}

static void test_inactive(void **state)
{
    dir_snapshot *s = snap1();
    config c = cfg_on(NULL);
    c.muc_grouprooms = false;
    gr_set *g = grouprooms_desired(s, &c);
    assert_false(g->active);
    assert_int_equal(g->n, 0);
    grouprooms_set_free(g);
    c = cfg_on(NULL);
    c.muc = false;
    g = grouprooms_desired(s, &c);
    assert_int_equal(g->n, 0);
    grouprooms_set_free(g);
    g = grouprooms_desired(NULL, &c);
    assert_int_equal(g->n, 0);
    grouprooms_set_free(g);
    dir_snapshot_unref(s);
    users();
    group("Sales", NULL, "alice");
    s = build(false);                           /* not read completely yet */
    c = cfg_on(NULL);
    g = grouprooms_desired(s, &c);
    assert_false(g->active);
    assert_int_equal(g->n, 0);
    grouprooms_set_free(g);
    dir_snapshot_unref(s);
}

static void test_diff(void **state)
{
    config c = cfg_on("admins");
    dir_snapshot *s1 = snap1();
    /* carol joins Sales, bob leaves it, boss becomes a Sales member (stays
     * owner), it loses erin (its b.test room goes), admins get a new label,
     * a new group ops appears */
    users();
    group("Sales", "Sales Team", "alice carol boss");
    group("it", NULL, "carol");
    group("admins", "Administrators", "boss");
    group("ops", NULL, "bob");
    dir_snapshot *s2 = build(true);
    gr_set *g1 = grouprooms_desired(s1, &c), *g2 = grouprooms_desired(s2, &c);
    assert_string_equal(diff(g1, g2),
                        "rename admins@conference.a.test Administrators;"
                        "destroy it@conference.b.test;"
                        "create ops@conference.a.test;"
                        "sales@conference.a.test bob@a.test none;"
                        "sales@conference.a.test carol@a.test member;");
    /* no change: nothing */
    assert_string_equal(diff(g2, g2), "");
    /* from nothing: every room created; to nothing: every room destroyed */
    assert_string_equal(diff(NULL, g1),
                        "create admins@conference.a.test;create it@conference.a.test;"
                        "create it@conference.b.test;create sales@conference.a.test;");
    gr_set *off = grouprooms_desired(s2, &(config){ .muc = true });
    assert_string_equal(diff(g2, off),
                        "destroy admins@conference.a.test;destroy it@conference.a.test;"
                        "destroy ops@conference.a.test;destroy sales@conference.a.test;");
    /* the owners group changes: affiliations follow */
    config c2 = cfg_on(NULL);
    gr_set *g3 = grouprooms_desired(s2, &c2);
    assert_string_equal(diff(g2, g3),
                        "admins@conference.a.test boss@a.test member;"
                        "it@conference.a.test boss@a.test none;"
                        "ops@conference.a.test boss@a.test none;"
                        "sales@conference.a.test boss@a.test member;");
    grouprooms_set_free(g1);
    grouprooms_set_free(g2);
    grouprooms_set_free(g3);
    grouprooms_set_free(off);
    dir_snapshot_unref(s1);
    dir_snapshot_unref(s2);
}

static void test_host(void **state)
{
    char *h = grouprooms_host("conference.%s", "a.test");
    assert_string_equal(h, "conference.a.test");
    free(h);
    h = grouprooms_host("muc.example.org", "a.test");
    assert_string_equal(h, "muc.example.org");
    free(h);
    h = grouprooms_host(NULL, "B.test");
    assert_string_equal(h, "conference.b.test");
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_desired),
        cmocka_unit_test(test_inactive),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
