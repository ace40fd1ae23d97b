/* test_control_explain.c: `plucs explain` in words (control_explain.c) on
 * directory.md's worked example, built with the server's own snapshot
 * builder: each verdict and the group that granted or the rule that refused
 * it, both policies, a groupless user, the filter off, ignored names,
 * accounts that are not accounts, and the group x group matrix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/control.h"
#include "directory/dir_build.h"

static dir_entry *ents[64];
static size_t nents;

static char **list(const char *words, size_t *n)
{
    *n = 0;
    if (!words || !*words)
        return NULL;
    char **v = calloc(16, sizeof *v);
    char *copy = strdup(words), *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
        v[(*n)++] = strdup(t);
    free(copy);
    return v;
}

static void user(const char *uid, const char *domain)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[200];
    snprintf(dn, sizeof dn, "uid=%s,cn=users", uid);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_ACCOUNT;
    e->enabled = true;
    e->uid = strdup(uid);
    e->domain = strdup(domain);
    ents[nents++] = e;
}

static void group(const char *cn, const char *members, const char *m, const char *p)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[200];
    snprintf(dn, sizeof dn, "cn=%s,cn=groups", cn);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_GROUP;
    e->enabled = true;
    e->cn = strdup(cn);
    e->members = list(members, &e->nmembers);
    e->mgroups = list(m, &e->nmgroups);
    e->pgroups = list(p, &e->npgroups);
    ents[nents++] = e;
}

static void worked_example(void)
{
    user("alice", "a.test");
    user("bob", "a.test");
    user("carol", "a.test");
    user("dave", "a.test");         /* in no group */
    user("bob", "b.test");          /* same uid in another domain */
    user("erin", "b.test");
    group("staff", "alice bob carol", "managers", NULL);
    group("managers", "alice", "staff managers", "staff");
    group("interns", "carol", "nosuchgroup", NULL);   /* the name is ignored: empty list */
}

static dir_snapshot *snap;
static control_explain_ctx ctx;

static const char *ignored(void *ud, const dir_group *g, bool presence)
{
    return strcmp(g->cn, "interns") == 0 && !presence ? "nosuchgroup" : NULL;
}

static void build(bool filter, bool msg_allow, bool pres_allow)
{
    char *domains[] = { "a.test", "b.test" };
    dir_build_opts o = { .filter = filter, .msg_allow = msg_allow, .pres_allow = pres_allow,
                         .complete = true, .serial = 7 };
    dir_snapshot_unref(snap);
    snap = dir_snapshot_build(domains, 2, ents, nents, &o);
    assert_non_null(snap);
    ctx = (control_explain_ctx){ .snap = snap, .msg_allow = msg_allow, .pres_allow = pres_allow,
                                 .source = "test", .ignored = ignored };
}

static int teardown(void **state)
{
    dir_snapshot_unref(snap);
    snap = NULL;
    for (size_t i = 0; i < nents; i++)
        dir_entry_free(ents[i]);
    nents = 0;
    return 0;
}

static buf out;

static const char *explain(const char *from, const char *to)
{
    char err[512];
    buf_free(&out);
    if (control_explain(&ctx, from, to, &out, err, sizeof err) != 0)
        fail_msg("explain %s %s: %s", from, to, err);
    return out.data;
}

static const char *explain_err(const char *from, const char *to)
{
    static char err[512];
    buf_free(&out);
    assert_int_equal(control_explain(&ctx, from, to, &out, err, sizeof err), -1);
    return err;
}

/* the block of one verdict: its line and the reason lines below it */
static char *block(const char *text, const char *head)
{
    static char b[4096];
    const char *p = strstr(text, head);
    if (!p)
        fail_msg("no '%s' in:\n%s", head, text);
    const char *end = p + strlen(head);
    while ((end = strchr(end, '\n')) && end[1] == ' ')
        end++;
    size_t n = end ? (size_t)(end - p) : strlen(p);
    snprintf(b, sizeof b, "%.*s", (int)n, p);
    return b;
}

#define HAS(text, needle)                                                          \
    do {                                                                           \
        if (!strstr((text), (needle)))                                             \
            fail_msg("missing '%s' in:\n%s", (needle), (text));                    \
    } while (0)

static void test_worked_example_deny(void **state)
{
    worked_example();
    build(true, false, false);
    const char *t = explain("alice@a.test", "bob@a.test");
    HAS(t, "explain alice@a.test and bob@a.test (test, directory snapshot 7)\n");
    HAS(t, "filter: on; message_policy: deny; presence_policy: deny\n");
    HAS(t, "alice@a.test: groups managers, staff\n");
    HAS(t, "  managers: message list (xmppMessageGroups): managers, staff\n");
    HAS(t, "bob@a.test: group staff\n");
    HAS(t, "presence list (xmppPresenceGroups): empty -> presence_policy deny: nobody\n");
    char *b = block(t, "message: alice@a.test -> bob@a.test: ");
    HAS(b, ": allowed\n");
    HAS(b, "  + managers: its message list names managers, staff; bob@a.test is in staff");
    HAS(b, "  - staff: its message list names managers; bob@a.test is in none of them");
    b = block(t, "message: bob@a.test -> alice@a.test: ");
    HAS(b, ": allowed\n  + staff: its message list names managers; alice@a.test is in managers");
    b = block(t, "presence: alice@a.test sees bob@a.test: ");
    HAS(b, ": allowed\n");
    HAS(b, "  + managers: its presence list names staff; bob@a.test is in staff");
    HAS(b, "  - staff: its presence list is empty; presence_policy deny: nobody");
    b = block(t, "presence: bob@a.test sees alice@a.test: ");
    HAS(b, ": refused\n  - staff: its presence list is empty; presence_policy deny: nobody");
    assert_null(strstr(t, "note:"));

    t = explain("bob@a.test", "carol@a.test");
    b = block(t, "message: bob@a.test -> carol@a.test: ");
    HAS(b, ": refused\n  - staff: its message list names managers; carol@a.test is in none of them");
    HAS(block(t, "message: carol@a.test -> bob@a.test: "), ": refused\n");
    t = explain("carol", "alice");       /* uids of one domain only */
    b = block(t, "message: carol@a.test -> alice@a.test: ");
    HAS(b, ": allowed\n");
    HAS(b, "  - interns: its message list is empty (ignored, not XMPP groups: nosuchgroup); "
           "message_policy deny: nobody");
    HAS(b, "  + staff: its message list names managers; alice@a.test is in managers");
    HAS(t, "  interns: message list (xmppMessageGroups): empty (ignored, not XMPP groups: "
           "nosuchgroup) -> message_policy deny: nobody\n");
    HAS(block(t, "presence: carol@a.test sees alice@a.test: "), ": refused\n");

    t = explain("dave@a.test", "alice@a.test");
    HAS(t, "dave@a.test: in no XMPP group (counts as one group with empty lists)\n");
    b = block(t, "message: dave@a.test -> alice@a.test: ");
    HAS(b, ": refused\n  - dave@a.test is in no XMPP group: one group with empty lists; "
           "message_policy deny: nobody");
    HAS(block(t, "message: alice@a.test -> dave@a.test: "), ": refused\n");

    t = explain("alice@a.test", "alice@a.test");
    HAS(block(t, "message: alice@a.test -> alice@a.test: "),
        ": allowed\n  the same account: stanzas between its resources are never filtered");
}

static void test_worked_example_allow(void **state)
{
    worked_example();
    build(true, true, true);
    const char *t = explain("carol@a.test", "bob@a.test");
    HAS(t, "filter: on; message_policy: allow; presence_policy: allow\n");
    char *b = block(t, "message: carol@a.test -> bob@a.test: ");    /* flipped by interns */
    HAS(b, ": allowed\n");
    HAS(b, "  + interns: its message list is empty (ignored, not XMPP groups: nosuchgroup); "
           "message_policy allow: everyone");
    HAS(block(t, "message: bob@a.test -> carol@a.test: "), ": refused\n");   /* staff names managers */
    HAS(block(t, "presence: bob@a.test sees carol@a.test: "),
        ": allowed\n  + staff: its presence list is empty; presence_policy allow: everyone");
    t = explain("dave@a.test", "erin@b.test");     /* both groupless, across domains */
    HAS(block(t, "message: dave@a.test -> erin@b.test: "), ": allowed\n");
    HAS(block(t, "message: erin@b.test -> dave@a.test: "), ": allowed\n");
    /* memberUid names bob in both domains: bob@b.test is in staff too */
    HAS(block(explain("bob@b.test", "dave@a.test"), "message: bob@b.test -> dave@a.test: "),
        ": refused\n  - staff: its message list names managers; dave@a.test is in none of them");
}

static void test_filter_off(void **state)
{
    worked_example();
    build(false, false, false);
    const char *t = explain("bob@a.test", "carol@a.test");
    HAS(t, "filter: off (plucs/mod/filter is false): everything is allowed");
    char *b = block(t, "message: bob@a.test -> carol@a.test: ");
    HAS(b, ": allowed\n  the filter is off (plucs/mod/filter is false): everything is allowed\n"
           "  with the filter on it would be refused:\n  - staff:");
}

static void test_not_accounts(void **state)
{
    worked_example();
    build(true, false, false);
    assert_string_equal(explain_err("nobody@a.test", "alice@a.test"),
                        "nobody@a.test: not an account (no entry with uid nobody, xmppDomain "
                        "a.test and xmppEnabled TRUE, or more than one such entry)");
    assert_string_equal(explain_err("alice@a.test", "erin@a.test"),
                        "erin@a.test: not an account in a.test (but erin@b.test is); an account "
                        "has exactly one xmppDomain");
    assert_string_equal(explain_err("alice@c.test", "bob@a.test"),
                        "alice@c.test: not an account: this server does not serve c.test "
                        "(served: a.test, b.test)");
    assert_string_equal(explain_err("bob", "alice"),
                        "bob: an account in several domains (bob@a.test, bob@b.test); name one "
                        "as user@domain");
    assert_string_equal(explain_err("@a.test", "alice"), "@a.test: not a user address (user@domain)");
    assert_non_null(strstr(explain_err("ghost", "alice"), "ghost: not an account in any served domain"));
    /* case and resources do not matter */
    HAS(explain("ALICE@A.Test/phone", "bob@a.test"), "explain alice@a.test and bob@a.test");
    buf_free(&out);
}

static void test_matrix(void **state)
{
    worked_example();
    build(true, false, false);
    char err[256];
    buf_free(&out);
    assert_int_equal(control_matrix(&ctx, "a.test", &out, err, sizeof err), 0);
    HAS(out.data, "matrix a.test (test, directory snapshot 7)\n");
    HAS(out.data, "            interns  managers  staff  (no group)\n"
                  "interns     -        -         -      -\n"
                  "managers    -        m         mp     -\n"
                  "staff       -        m         -      -\n"
                  "(no group)  -        -         -      -\n");
    HAS(out.data, "  managers (1 member in a.test): messages to: managers, staff; sees presence of: staff\n");
    HAS(out.data, "  (no group) (1 user in a.test): messages to: empty -> message_policy deny: nobody;");
    buf_free(&out);

    build(true, true, false);
    assert_int_equal(control_matrix(&ctx, NULL, &out, err, sizeof err), 0);
    HAS(out.data, "matrix of every domain (test");
    HAS(out.data, "interns     m        m         m      m\n");
    HAS(out.data, "(no group)  m        m         m      m\n");
    buf_free(&out);

    assert_int_equal(control_matrix(&ctx, "c.test", &out, err, sizeof err), -1);
    assert_string_equal(err, "c.test: not a domain this server serves (served: a.test, b.test)");
    /* b.test: only the groups with members there (bob@b.test is in staff) */
    buf_free(&out);
    assert_int_equal(control_matrix(&ctx, "B.TEST", &out, err, sizeof err), 0);
    HAS(out.data, "            staff  (no group)\n"
                  "staff       -      -\n"
                  "(no group)  m      m\n");
    HAS(out.data, "  staff (1 member in b.test): messages to: managers;");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_worked_example_deny, teardown),
        cmocka_unit_test_teardown(test_worked_example_allow, teardown),
        cmocka_unit_test_teardown(test_filter_off, teardown),
        cmocka_unit_test_teardown(test_not_accounts, teardown),
        cmocka_unit_test_teardown(test_matrix, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
