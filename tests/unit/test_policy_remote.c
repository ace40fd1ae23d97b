/* test_policy_remote.c: the policy stage (router/policy.c) for remote
 * parties (federation). directory.md: a remote party belongs to no group,
 * and a user in no group counts as one group with empty lists (everybody
 * under the allow policy, nobody under deny). So an account reaches a
 * remote party only through a group of its own whose list is empty under
 * allow; a remote sender reaches an account under allow; an account sees a
 * remote party's presence only through a group with an empty presence list
 * under allow; a remote observer sees an account under allow. Errors are
 * dropped, never answered; iq and domain JIDs are not filtered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "directory/dir_build.h"
#include "router/policy.h"
#include "xml/xml_fragment.h"

static dir_entry *ents[8];
static size_t nents;

static char **strv(const char *a, size_t *n)
{
    char **v = calloc(2, sizeof *v);
    *n = 0;
    if (a)
        v[(*n)++] = strdup(a);
    return v;
}

static void user(const char *uid)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[100];
    snprintf(dn, sizeof dn, "uid=%s,cn=users", uid);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_ACCOUNT;
    e->enabled = true;
    e->uid = strdup(uid);
    e->domain = strdup("a.test");
    ents[nents++] = e;
}

/* A group with one member and lists naming `lists` (NULL: empty lists). */
static void group(const char *cn, const char *member, const char *lists)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[100];
    snprintf(dn, sizeof dn, "cn=%s,cn=groups", cn);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_GROUP;
    e->enabled = true;
    e->cn = strdup(cn);
    e->members = strv(member, &e->nmembers);
    e->mgroups = strv(lists, &e->nmgroups);
    e->pgroups = strv(lists, &e->npgroups);
    ents[nents++] = e;
}

static dir_snapshot *snap;

static void use_policies(bool msg_allow, bool pres_allow)
{
    config *c = calloc(1, sizeof *c);
    c->filter_message_allow = msg_allow;
    c->filter_presence_allow = pres_allow;
    config_set_current(c);
}

static int setup(void **state)
{
    user("alice");   /* staff: lists name staff */
    user("carol");   /* interns: empty lists */
    user("dave");    /* no group */
    group("staff", "alice", "staff");
    group("interns", "carol", NULL);
    char *domains[] = { "a.test" };
    dir_build_opts o = { .filter = true, .complete = true, .serial = 1 };
    snap = dir_snapshot_build(domains, 1, ents, nents, &o);
    assert_non_null(snap);
    return 0;
}

static int teardown(void **state)
{
    dir_snapshot_unref(snap);
    for (size_t i = 0; i < nents; i++)
        dir_entry_free(ents[i]);
    config_free_all();
    return 0;
}

static policy_verdict verdict(const char *xml)
{
    xnode *st = xml_fragment_parse(xml, strlen(xml), NS_CLIENT, 8);
    assert_non_null(st);
    jid to;
    assert_int_equal(jid_parse(xnode_attr(st, "to"), &to), 0);
    policy_verdict v = policy_check(snap, st, stanza_kind_of(st), &to, NULL);
    jid_clear(&to);
    xnode_free(st);
    return v;
}

#define MSG(from, to) "<message from='" from "' to='" to "' type='chat'><body>x</body></message>"
#define PRES(from, to) "<presence from='" from "' to='" to "'/>"

static void test_allow_policies(void **state)
{
    use_policies(true, true);
    /* account -> remote: only through a group with an empty list */
    assert_int_equal(verdict(MSG("alice@a.test/d", "rose@b.test")), POLICY_REFUSE);
    assert_int_equal(verdict(MSG("carol@a.test/d", "rose@b.test")), POLICY_ALLOW);
    assert_int_equal(verdict(MSG("dave@a.test/d", "rose@b.test")), POLICY_ALLOW);
    /* remote -> account: a sender in no group, allow */
    assert_int_equal(verdict(MSG("rose@b.test/x", "alice@a.test")), POLICY_ALLOW);
    /* presence: the observer's lists decide */
    assert_int_equal(verdict(PRES("rose@b.test/x", "alice@a.test")), POLICY_DROP);
    assert_int_equal(verdict(PRES("rose@b.test/x", "carol@a.test")), POLICY_ALLOW);
    assert_int_equal(verdict(PRES("rose@b.test/x", "dave@a.test")), POLICY_ALLOW);
    assert_int_equal(verdict(PRES("alice@a.test/d", "rose@b.test")), POLICY_ALLOW);
    /* an error is dropped, never answered */
    assert_int_equal(verdict("<message from='alice@a.test/d' to='rose@b.test' type='error'/>"),
                     POLICY_DROP);
}

static void test_deny_policies(void **state)
{
    use_policies(false, false);
    assert_int_equal(verdict(MSG("carol@a.test/d", "rose@b.test")), POLICY_REFUSE);
    assert_int_equal(verdict(MSG("dave@a.test/d", "rose@b.test")), POLICY_REFUSE);
    assert_int_equal(verdict(MSG("rose@b.test/x", "carol@a.test")), POLICY_REFUSE);
    assert_int_equal(verdict(PRES("alice@a.test/d", "rose@b.test")), POLICY_DROP);
    assert_int_equal(verdict(PRES("rose@b.test/x", "carol@a.test")), POLICY_DROP);
    assert_int_equal(verdict("<message from='rose@b.test/x' to='carol@a.test' type='error'/>"),
                     POLICY_DROP);
    /* not filtered: iq, the remote server itself, a domain JID */
    assert_int_equal(verdict("<iq from='dave@a.test/d' to='rose@b.test' type='get' id='1'/>"),
                     POLICY_ALLOW);
    assert_int_equal(verdict(MSG("b.test", "carol@a.test")), POLICY_ALLOW);
    assert_int_equal(verdict(MSG("carol@a.test/d", "b.test")), POLICY_ALLOW);
    /* between local accounts nothing changed: interns may message nobody */
    assert_int_equal(verdict(MSG("carol@a.test/d", "alice@a.test")), POLICY_REFUSE);
    assert_int_equal(verdict(MSG("alice@a.test/d", "alice@a.test")), POLICY_ALLOW);
}

static void test_filter_off(void **state)
{
    use_policies(false, false);
    snap->filter = false;
    assert_int_equal(verdict(MSG("alice@a.test/d", "rose@b.test")), POLICY_ALLOW);
    assert_int_equal(verdict(PRES("rose@b.test/x", "alice@a.test")), POLICY_ALLOW);
    snap->filter = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allow_policies),
        cmocka_unit_test(test_deny_policies),
        cmocka_unit_test(test_filter_off),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
