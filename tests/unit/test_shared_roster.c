/* test_shared_roster.c: the directory part of rosters (directory.md
 * "Shared roster") over an in-memory snapshot: who appears in whose roster
 * under scope domain and member, who receives whose presence (not the same
 * set for users in no group), labels and groups on items, domain isolation,
 * and the roster hash changing with what a client would see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_build.h"
#include "modules/shared_roster.h"

static dir_entry *ents[64];
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

static void user(const char *uid, const char *domain, const char *label)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[100];
    snprintf(dn, sizeof dn, "uid=%s", uid);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_ACCOUNT;
    e->enabled = true;
    e->uid = strdup(uid);
    e->domain = strdup(domain);
    e->ulabel = label ? strdup(label) : NULL;
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

static dir_snapshot *build(void)
{
    char *domains[] = { "a.test", "b.test" };
    dir_build_opts o = { .complete = true, .serial = 1 };
    return dir_snapshot_build(domains, 2, ents, nents, &o);
}

/* alice, bob in sales; bob, carol in it (no label); dave alone in a.test;
 * erin in b.test and in sales (other domain). */
static int setup(void **state)
{
    nents = 0;
    user("alice", "a.test", "Alice A");
    user("bob", "a.test", "Bob B");
    user("carol", "a.test", NULL);
    user("dave", "a.test", "Dave D");
    user("erin", "b.test", "Erin E");
    group("sales", "Sales", "alice bob erin");
    group("it", NULL, "bob carol");
    *state = build();
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

static char seen[512];

static void collect(const dir_account *c, void *ud)
{
    strcat(seen, c->uid);
    strcat(seen, " ");
}

static const char *contacts(const dir_snapshot *s, enum roster_scope scope, const char *uid,
                            bool observers)
{
    seen[0] = 0;
    const dir_account *u = dir_snapshot_account(s, uid, uid[0] == 'e' ? "b.test" : "a.test");
    assert_non_null(u);
    if (observers)
        shared_observers_each(s, scope, u, collect, NULL);
    else
        shared_each(s, scope, u, collect, NULL);
    return seen;
}

static void test_scope_domain(void **state)
{
    const dir_snapshot *s = *state;
    /* every group member of the domain, never oneself, never b.test */
    assert_string_equal(contacts(s, ROSTER_SCOPE_DOMAIN, "alice", false), "bob carol ");
    /* dave is in no group: he sees the members, nobody sees him */
    assert_string_equal(contacts(s, ROSTER_SCOPE_DOMAIN, "dave", false), "alice bob carol ");
    assert_string_equal(contacts(s, ROSTER_SCOPE_DOMAIN, "dave", true), "");
    /* alice's presence goes to everybody who has her: dave included */
    assert_string_equal(contacts(s, ROSTER_SCOPE_DOMAIN, "alice", true), "bob carol dave ");
    /* erin: her group's other members are in another domain */
    assert_string_equal(contacts(s, ROSTER_SCOPE_DOMAIN, "erin", false), "");
}

static void test_scope_member(void **state)
{
    const dir_snapshot *s = *state;
    assert_string_equal(contacts(s, ROSTER_SCOPE_MEMBER, "alice", false), "bob ");
    /* members in group order (groups sorted by cn: it, sales), each once */
    assert_string_equal(contacts(s, ROSTER_SCOPE_MEMBER, "bob", false), "carol alice ");
    assert_string_equal(contacts(s, ROSTER_SCOPE_MEMBER, "dave", false), "");
    /* sharing a group is symmetric */
    assert_string_equal(contacts(s, ROSTER_SCOPE_MEMBER, "carol", true), "bob ");
}

static void test_items(void **state)
{
    const dir_snapshot *s = *state;
    const dir_account *alice = dir_snapshot_account(s, "alice", "a.test");
    const dir_account *bob = dir_snapshot_account(s, "bob", "a.test");
    const dir_account *carol = dir_snapshot_account(s, "carol", "a.test");
    /* bob is in sales (label) and it (no label): one group element */
    xnode *it = shared_item(s, ROSTER_SCOPE_DOMAIN, alice, bob);
    char *x = xml_to_string(it, "jabber:iq:roster");
    assert_string_equal(x, "<item jid='bob@a.test' name='Bob B' subscription='both'>"
                           "<group>Sales</group></item>");
    free(x);
    xnode_free(it);
    /* carol has no label and only an unlabelled group: no name, no group */
    it = shared_item(s, ROSTER_SCOPE_DOMAIN, alice, carol);
    x = xml_to_string(it, "jabber:iq:roster");
    assert_string_equal(x, "<item jid='carol@a.test' subscription='both'/>");
    free(x);
    xnode_free(it);
    /* visibility agrees with the iteration */
    assert_true(shared_visible(s, ROSTER_SCOPE_DOMAIN, alice, carol));
    assert_false(shared_visible(s, ROSTER_SCOPE_MEMBER, alice, carol));
    assert_false(shared_visible(s, ROSTER_SCOPE_DOMAIN, alice, alice));
}

static void test_hash_follows_labels(void **state)
{
    dir_snapshot *s = *state;
    const dir_account *alice = dir_snapshot_account(s, "alice", "a.test");
    unsigned long long h1 = shared_hash(s, ROSTER_SCOPE_DOMAIN, alice);
    assert_true(h1 == shared_hash(s, ROSTER_SCOPE_DOMAIN, alice));
    assert_true(h1 != shared_hash(s, ROSTER_SCOPE_MEMBER, alice));
    /* bob renamed: alice's roster version must change */
    free(ents[1]->ulabel);
    ents[1]->ulabel = strdup("Robert B");
    dir_snapshot *s2 = build();
    const dir_account *alice2 = dir_snapshot_account(s2, "alice", "a.test");
    assert_true(h1 != shared_hash(s2, ROSTER_SCOPE_DOMAIN, alice2));
    dir_snapshot_unref(s2);
}

/* Defect 10: a label from the directory with a control character or bytes
 * that are not UTF-8 must not reach a roster as such: the snapshot holds a
 * cleaned copy, so the item serializes as XML a client can parse. */
static void test_labels_cleaned(void **state)
{
    free(ents[1]->ulabel);
    ents[1]->ulabel = strdup("Bob\x01 B\xff");
    free(ents[5]->glabel);                 /* sales */
    ents[5]->glabel = strdup("Sa\x02les\xed\xa0\x80");
    dir_snapshot *s2 = build();
    assert_non_null(s2);
    const dir_account *alice = dir_snapshot_account(s2, "alice", "a.test");
    const dir_account *bob = dir_snapshot_account(s2, "bob", "a.test");
    xnode *it = shared_item(s2, ROSTER_SCOPE_DOMAIN, alice, bob);
    char *x = xml_to_string(it, "jabber:iq:roster");
    assert_string_equal(x, "<item jid='bob@a.test' name='Bob B\xef\xbf\xbd' subscription='both'>"
                           "<group>Sales\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd</group></item>");
    free(x);
    xnode_free(it);
    dir_snapshot_unref(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scope_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scope_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_follows_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_labels_cleaned, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
