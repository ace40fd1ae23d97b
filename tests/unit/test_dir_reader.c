/* test_dir_reader.c: the one reader of directory entries (dir_reader.h),
 * shared by plucsd's directory thread and `plucs explain --offline`. The
 * entries are written as LDIF (attribute: value lines, mixed-case attribute
 * names and values, one line per value) and turned into the attribute lists
 * that dir_attrs_from_ldap makes of a search result; the test checks what
 * the reader makes of them (kinds including the host kind, enabled, keys
 * lower-cased, labels, group lists), what the host object's domains become
 * (normalised: lower case, sorted, unique), and the snapshot built from it
 * all. The tool's own copy of this reader once lacked the host kind and
 * lower-cased differently; this is the test that would have caught it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_reader.h"

/* One parsed LDIF record: attribute lines, one value each. */
typedef struct record {
    char *dn;
    dir_attr attrs[32];
    struct berval *vals[32][2];
    struct berval bv[32];
    size_t n;
    char *text;
} record;

/* Parses "dn: ...\nattr: value\n..." (no folding, no base64). */
static record *ldif(const char *text)
{
    record *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->text = strdup(text);
    for (char *line = strtok(r->text, "\n"); line; line = strtok(NULL, "\n")) {
        char *colon = strstr(line, ": ");
        assert_non_null(colon);
        *colon = '\0';
        char *value = colon + 2;
        if (strcmp(line, "dn") == 0) {
            r->dn = value;
            continue;
        }
        assert_true(r->n < 32);
        r->bv[r->n].bv_val = value;
        r->bv[r->n].bv_len = strlen(value);
        r->vals[r->n][0] = &r->bv[r->n];
        r->vals[r->n][1] = NULL;
        r->attrs[r->n].name = line;
        r->attrs[r->n].values = r->vals[r->n];
        r->n++;
    }
    return r;
}

static void record_free(record *r)
{
    free(r->text);
    free(r);
}

static dir_entry *read_entry(const char *text, const char *key)
{
    record *r = ldif(text);
    dir_entry *e = dir_entry_from_attrs(r->dn, r->attrs, r->n, "displayName", "description", key);
    record_free(r);
    return e;
}

static const char *HOST =
    "dn: cn=xmpp1,cn=computers,dc=example,dc=org\n"
    "objectClass: top\n"
    "OBJECTCLASS: UniventionXMPPHost\n"
    "cn: xmpp1\n"
    "entryUUID: 0A1B2C3D-AAAA-BBBB-CCCC-DDDDEEEEFFFF\n"
    "XMPPDomains: A.Test\n"
    "xmppdomains: b.test\n"
    "xmppDomains: a.test\n"
    "univentionService: LDAP\n"
    "univentionService: xmpp\n";

static const char *ALICE =
    "dn: uid=Alice,cn=users,dc=example,dc=org\n"
    "objectClass: person\n"
    "objectclass: univentionXMPPAccount\n"
    "UID: Alice\n"
    "xmppenabled: TRUE\n"
    "xmppDomain: A.TEST\n"
    "DisplayName: Alice Liddell\n"
    "entryuuid: ABCDEF00-1111-2222-3333-444455556666\n";

static const char *BOB =
    "dn: uid=bob,cn=users,dc=example,dc=org\n"
    "objectClass: univentionxmppaccount\n"
    "uid: bob\n"
    "xmppEnabled: TRUE\n"
    "xmppDomain: a.test\n";

static const char *CAROL_DISABLED =
    "dn: uid=carol,cn=users,dc=example,dc=org\n"
    "objectClass: univentionXMPPAccount\n"
    "uid: carol\n"
    "xmppEnabled: true\n"                 /* only TRUE counts */
    "xmppDomain: a.test\n";

static const char *DAVE_DISABLED =
    "dn: uid=dave,cn=users,dc=example,dc=org\n"
    "objectClass: univentionXMPPAccount\n"
    "uid: dave\n"
    "xmppEnabled: FALSE\n"
    "xmppDomain: b.test\n";

static const char *STAFF =
    "dn: cn=Staff,cn=groups,dc=example,dc=org\n"
    "objectClass: univentionXMPPGroup\n"
    "Cn: Staff\n"
    "xmppEnabled: TRUE\n"
    "description: All staff\n"
    "memberUid: Alice\n"
    "MEMBERUID: bob\n"
    "memberUid: carol\n"
    "xmppMessageGroups: Staff\n"
    "xmppmessagegroups: nosuchgroup\n"
    "xmppPresenceGroups: staff\n";

static void test_host(void **state)
{
    dir_entry *e = read_entry(HOST, NULL);
    assert_non_null(e);
    assert_int_equal(e->kinds, DIR_E_HOST);
    assert_false(e->enabled);
    assert_string_equal(e->key, "0a1b2c3d-aaaa-bbbb-cccc-ddddeeeeffff");
    assert_string_equal(e->cn, "xmpp1");
    assert_non_null(e->hostattrs);
    assert_string_equal(e->hostattrs, "A.Test b.test a.test | LDAP xmpp ");
    dir_entry_free(e);

    record *r = ldif(HOST);
    char **doms = NULL;
    size_t n = 0;
    assert_int_equal(dir_host_domains(r->attrs, r->n, &doms, &n), 0);
    assert_int_equal(n, 3);
    dir_domains_normalise(doms, &n);
    assert_int_equal(n, 2);
    assert_string_equal(doms[0], "a.test");
    assert_string_equal(doms[1], "b.test");
    for (size_t i = 0; i < n; i++)
        free(doms[i]);
    free(doms);
    record_free(r);
}

static void test_host_service(void **state)
{
    /* univentionService without XMPP: the host serves nothing */
    record *r = ldif("dn: cn=h,dc=x\nobjectClass: univentionXMPPHost\ncn: h\n"
                     "xmppDomains: a.test\nuniventionService: LDAP\n");
    char **doms = NULL;
    size_t n = 0;
    assert_int_equal(dir_host_domains(r->attrs, r->n, &doms, &n), 1);
    assert_int_equal(n, 0);
    assert_null(doms);
    record_free(r);
    /* no univentionService at all: served */
    r = ldif("dn: cn=h,dc=x\nobjectClass: univentionXMPPHost\ncn: h\nxmppDomains: C.Test\n");
    assert_int_equal(dir_host_domains(r->attrs, r->n, &doms, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(doms[0], "C.Test");
    assert_null(doms[1]);
    free(doms[0]);
    free(doms);
    record_free(r);
}

static void test_accounts(void **state)
{
    dir_entry *e = read_entry(ALICE, NULL);
    assert_non_null(e);
    assert_int_equal(e->kinds, DIR_E_ACCOUNT);
    assert_true(e->enabled);
    assert_string_equal(e->key, "abcdef00-1111-2222-3333-444455556666");
    assert_string_equal(e->dn, "uid=Alice,cn=users,dc=example,dc=org");
    assert_string_equal(e->uid, "Alice");             /* prepared by the builder */
    assert_string_equal(e->domain, "A.TEST");
    assert_string_equal(e->ulabel, "Alice Liddell");
    assert_true(dir_entry_relevant(e));
    dir_entry_free(e);

    e = read_entry(BOB, NULL);                         /* no entryUUID: the DN */
    assert_string_equal(e->key, "uid=bob,cn=users,dc=example,dc=org");
    assert_null(e->ulabel);
    dir_entry_free(e);

    e = read_entry(BOB, "sync-uuid");                  /* the feed's key wins */
    assert_string_equal(e->key, "sync-uuid");
    dir_entry_free(e);

    e = read_entry(CAROL_DISABLED, NULL);
    assert_false(e->enabled);
    assert_false(dir_entry_relevant(e));
    dir_entry_free(e);
    e = read_entry(DAVE_DISABLED, NULL);
    assert_false(e->enabled);
    dir_entry_free(e);

    assert_null(read_entry("objectClass: univentionXMPPAccount\nuid: x\n", NULL));  /* no DN */
}

static void test_group(void **state)
{
    dir_entry *e = read_entry(STAFF, NULL);
    assert_non_null(e);
    assert_int_equal(e->kinds, DIR_E_GROUP);
    assert_true(e->enabled);
    assert_string_equal(e->cn, "Staff");
    assert_string_equal(e->glabel, "All staff");
    assert_int_equal(e->nmembers, 3);
    assert_string_equal(e->members[0], "Alice");
    assert_string_equal(e->members[1], "bob");
    assert_string_equal(e->members[2], "carol");
    assert_int_equal(e->nmgroups, 2);
    assert_string_equal(e->mgroups[1], "nosuchgroup");
    assert_int_equal(e->npgroups, 1);
    assert_null(e->uid);                               /* not an account */
    assert_null(e->hostattrs);
    dir_entry_free(e);
}

/* The password stamp (FAST token revocation): pwdChangedTime when the
 * directory keeps one, else entryCSN, else modifyTimestamp; none without. */
static void test_password_stamp(void **state)
{
    dir_entry *e = read_entry(ALICE, NULL);
    assert_null(e->pwstamp);
    dir_entry_free(e);
    char text[1024];
    snprintf(text, sizeof text, "%smodifyTimestamp: 20261205120000Z\n", ALICE);
    e = read_entry(text, NULL);
    assert_string_equal(e->pwstamp, "m:20261205120000Z");
    dir_entry *e2 = read_entry(ALICE, NULL);
    assert_false(dir_entry_same(e, e2));            /* a stamp change is a change */
    dir_entry_free(e2);
    dir_entry_free(e);
    snprintf(text, sizeof text, "%smodifyTimestamp: 20261205120000Z\n"
             "pwdChangedTime: 20261101000000Z\n", ALICE);
    e = read_entry(text, NULL);
    assert_string_equal(e->pwstamp, "p:20261101000000Z");
    dir_entry_free(e);
    snprintf(text, sizeof text, "%smodifyTimestamp: 20261205120000Z\n"
             "entryCSN: 20261205120000.123456Z#000000#000#000000\n", ALICE);
    e = read_entry(text, NULL);
    assert_string_equal(e->pwstamp, "c:20261205120000.123456Z#000000#000#000000");
    dir_entry_free(e);
}

static void test_attrs(void **state)
{
    char *a[DIR_READER_NATTRS];
    dir_reader_attrs("displayName", "description", a);
    size_t n = 0;
    bool domains = false, service = false;
    while (a[n]) {
        domains |= strcmp(a[n], "xmppDomains") == 0;
        service |= strcmp(a[n], "univentionService") == 0;
        n++;
    }
    assert_true(n < DIR_READER_NATTRS);
    assert_true(domains && service);                    /* host entries read fully */
    assert_string_equal(a[n - 2], "displayName");
    assert_string_equal(a[n - 1], "description");
    dir_reader_attrs(NULL, NULL, a);
    assert_string_equal(a[n - 3], "univentionService");
    assert_null(a[n - 2]);
}

static void warn(void *ud, const char *line)
{
    (*(int *)ud)++;
}

/* The whole way, as both plucsd and the tool go: host object -> served
 * domains, entries -> snapshot. */
static void test_snapshot(void **state)
{
    const char *texts[] = { HOST, ALICE, BOB, CAROL_DISABLED, DAVE_DISABLED, STAFF };
    dir_entry *ents[6];
    for (size_t i = 0; i < 6; i++)
        assert_non_null(ents[i] = read_entry(texts[i], NULL));
    record *r = ldif(HOST);
    char **doms = NULL;
    size_t nd = 0;
    assert_int_equal(dir_host_domains(r->attrs, r->n, &doms, &nd), 0);
    record_free(r);
    dir_domains_normalise(doms, &nd);
    int warnings = 0;
    dir_build_opts o = { .filter = true, .complete = true, .warn = warn, .warn_ud = &warnings };
    dir_snapshot *s = dir_snapshot_build(doms, nd, ents, 6, &o);
    assert_non_null(s);
    assert_int_equal(s->ndomains, 2);
    assert_true(dir_snapshot_serves(s, "a.test"));
    assert_true(dir_snapshot_serves(s, "b.test"));
    assert_int_equal(s->naccounts, 2);                 /* carol and dave are disabled */
    const dir_account *alice = dir_snapshot_account(s, "alice", "a.test");
    assert_non_null(alice);
    assert_string_equal(alice->domain, "a.test");
    assert_string_equal(alice->label, "Alice Liddell");
    assert_non_null(dir_snapshot_account(s, "bob", "a.test"));
    assert_null(dir_snapshot_account(s, "carol", "a.test"));
    const dir_group *g = dir_snapshot_group(s, "staff");
    assert_non_null(g);
    assert_int_equal(g->nmembers, 2);                  /* carol is no account */
    assert_int_equal(g->nmgroups, 1);                  /* nosuchgroup ignored */
    assert_true(warnings >= 1);
    assert_true(dir_may_message(s, alice, dir_snapshot_account(s, "bob", "a.test")));
    dir_snapshot_unref(s);
    for (size_t i = 0; i < nd; i++)
        free(doms[i]);
    free(doms);
    for (size_t i = 0; i < 6; i++)
        dir_entry_free(ents[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_host_service),
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_password_stamp),
        cmocka_unit_test(test_group),
        cmocka_unit_test(test_attrs),
        cmocka_unit_test(test_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
