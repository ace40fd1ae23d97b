/* test_snapshot_diff.c: snapshot diffing for live directory changes
 * (issue 4): which accounts and groups changed between two snapshots
 * (dir_snapshot_compare, the decision to publish and the log line), whether
 * a changed feed entry counts at all (dir_entry_same / dir_entry_relevant),
 * and, from the pure shared-roster functions, which online user needs which
 * roster push for a change (the comparison mod_live makes per session: a
 * shared <item/> added, changed or removed). Directory changes are made on
 * in-memory entries; both snapshots are built from them (dir_build.c).
 *
 * Directory used throughout (domains a.test, b.test served):
 *   a.test: alice "Alice", bob "Bob", carol (no label), hugo "Hugo",
 *           kai "Kai", lena "Lena" (in no group)
 *   b.test: dave "Dave", bea "Bea"
 *   groups: staff (alice bob carol) "Staff", projects (hugo) "Projects",
 *           unlabelled (kai, no label), bstaff (dave) "B Staff",
 *           mixed (hugo bea) "Mixed"; every list empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_build.h"
#include "directory/dir_internal.h"   /* dir_snapshot_new */
#include "modules/shared_roster.h"
#include "xml/xml.h"

/* --- in-memory directory ------------------------------------------------ */

static dir_entry *ents[64];
static size_t nents;

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

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static dir_entry *user(const char *uid, const char *domain, const char *label)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[200];
    snprintf(dn, sizeof dn, "uid=%s,cn=users,dc=plucs,dc=test", uid);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_ACCOUNT;
    e->enabled = true;
    e->uid = strdup(uid);
    e->domain = dup_or_null(domain);
    e->ulabel = dup_or_null(label);
    ents[nents++] = e;
    return e;
}

static dir_entry *group(const char *cn, const char *members, const char *label)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[200];
    snprintf(dn, sizeof dn, "cn=%s,cn=groups,dc=plucs,dc=test", cn);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_GROUP;
    e->enabled = true;
    e->cn = strdup(cn);
    e->glabel = dup_or_null(label);
    e->members = list(members, &e->nmembers);
    ents[nents++] = e;
    return e;
}

/* The entry whose uid or cn is name. */
static dir_entry *find(const char *name)
{
    for (size_t i = 0; i < nents; i++) {
        const char *n = ents[i]->uid ? ents[i]->uid : ents[i]->cn;
        if (n && strcmp(n, name) == 0)
            return ents[i];
    }
    fail_msg("no entry %s", name);
    return NULL;
}

static void drop(const char *name)
{
    dir_entry *e = find(name);
    for (size_t i = 0; i < nents; i++)
        if (ents[i] == e) {
            ents[i] = ents[--nents];
            break;
        }
    dir_entry_free(e);
}

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = dup_or_null(v);
}

static void set_members(const char *cn, const char *members)
{
    dir_entry *e = find(cn);
    for (size_t i = 0; i < e->nmembers; i++)
        free(e->members[i]);
    free(e->members);
    e->members = list(members, &e->nmembers);
}

static void base_directory(void)
{
    user("alice", "a.test", "Alice");
    user("bob", "a.test", "Bob");
    user("carol", "a.test", NULL);
    user("hugo", "a.test", "Hugo");
    user("kai", "a.test", "Kai");
    user("lena", "a.test", "Lena");
    user("dave", "b.test", "Dave");
    user("bea", "b.test", "Bea");
    group("staff", "alice bob carol", "Staff");
    group("projects", "hugo", "Projects");
    group("unlabelled", "kai", NULL);
    group("bstaff", "dave", "B Staff");
    group("mixed", "hugo bea", "Mixed");
}

static dir_snapshot *build_with(const char *domains_text, bool complete, bool filter,
                                bool msg_allow)
{
    size_t nd = 0;
    char **domains = list(domains_text, &nd);
    dir_build_opts o = { .filter = filter, .msg_allow = msg_allow, .complete = complete,
                         .serial = 1 };
    dir_snapshot *s = dir_snapshot_build(domains, nd, ents, nents, &o);
    for (size_t i = 0; i < nd; i++)
        free(domains[i]);
    free(domains);
    assert_non_null(s);
    return s;
}

static dir_snapshot *build(void) { return build_with("a.test b.test", true, false, false); }

static int teardown(void **state)
{
    for (size_t i = 0; i < nents; i++)
        dir_entry_free(ents[i]);
    nents = 0;
    return 0;
}

/* dir_snapshot_compare's summary as text ("nothing" when equal; the result
 * and the text must agree). */
static const char *diff(const dir_snapshot *o, const dir_snapshot *n, dir_snapshot_diff *d)
{
    static char text[300];
    bool changed = dir_snapshot_compare(o, n, d);
    dir_snapshot_diff_text(d, text, sizeof text);
    assert_int_equal(changed, strcmp(text, "nothing") != 0);
    return text;
}

/* --- who needs which push ----------------------------------------------- */

typedef struct item { char *bare, *xml; } item;
typedef struct view {
    item v[64];
    size_t n;
    const dir_snapshot *s;
    enum roster_scope scope;
    const dir_account *u;
} view;

static void view_add(const dir_account *c, void *ud)
{
    view *w = ud;
    assert_true(w->n < 64);
    xnode *it = shared_item(w->s, w->scope, w->u, c);
    w->v[w->n].bare = strdup(c->bare);
    w->v[w->n].xml = xml_to_string(it, "jabber:iq:roster");
    xnode_free(it);
    w->n++;
}

static void view_build(view *w, const dir_snapshot *s, enum roster_scope scope,
                       const dir_account *u)
{
    w->n = 0;
    w->s = s;
    w->scope = scope;
    w->u = u;
    if (u)
        shared_each(s, scope, u, view_add, w);
}

static void view_free(view *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->v[i].bare);
        free(w->v[i].xml);
    }
    w->n = 0;
}

static const item *view_find(const view *w, const char *bare)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->v[i].bare, bare) == 0)
            return &w->v[i];
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* For one account (uid@domain): "+jid" (item added), "~jid" (item changed),
 * "-jid" (item removed), space separated and sorted; "GONE" when the account
 * no longer exists (its sessions end), "NEW" when it did not exist before
 * (it had no session). Empty when nothing is pushed. */
static void pushes_for(const dir_snapshot *o, const dir_snapshot *n, enum roster_scope scope,
                       const char *uid, const char *domain, char *out, size_t len)
{
    const dir_account *ou = dir_snapshot_account(o, uid, domain);
    const dir_account *nu = dir_snapshot_account(n, uid, domain);
    out[0] = '\0';
    if (!nu) {
        snprintf(out, len, "GONE");
        return;
    }
    if (!ou) {
        snprintf(out, len, "NEW");
        return;
    }
    static view ov, nv;
    view_build(&ov, o, scope, ou);
    view_build(&nv, n, scope, nu);
    char *tok[128];
    size_t nt = 0;
    char tb[300];
    for (size_t i = 0; i < nv.n; i++) {
        const item *was = view_find(&ov, nv.v[i].bare);
        if (!was || strcmp(was->xml, nv.v[i].xml) != 0) {
            snprintf(tb, sizeof tb, "%c%s", was ? '~' : '+', nv.v[i].bare);
            tok[nt++] = strdup(tb);
        }
    }
    for (size_t i = 0; i < ov.n; i++)
        if (!view_find(&nv, ov.v[i].bare)) {
            snprintf(tb, sizeof tb, "-%s", ov.v[i].bare);
            tok[nt++] = strdup(tb);
        }
    qsort(tok, nt, sizeof *tok, cmp_str);
    size_t o_len = 0;
    for (size_t i = 0; i < nt; i++) {
        o_len += (size_t)snprintf(out + o_len, len - o_len, "%s%s", i ? " " : "", tok[i]);
        free(tok[i]);
    }
    view_free(&ov);
    view_free(&nv);
}

/* One line "uid@domain: pushes" per account of either snapshot that needs
 * something, in (domain, uid) order. */
static const char *all_pushes(const dir_snapshot *o, const dir_snapshot *n, enum roster_scope scope)
{
    static char text[4000];
    char seen[64][200];
    size_t nseen = 0;
    const dir_snapshot *both[2] = { o, n };
    char *bares[128];
    size_t nb = 0;
    for (int k = 0; k < 2; k++)
        for (uint32_t i = 0; i < both[k]->naccounts; i++) {
            const dir_account *a = &both[k]->accounts[i];
            char key[200];
            snprintf(key, sizeof key, "%s@%s", a->domain, a->uid);   /* sort key */
            bool dup = false;
            for (size_t j = 0; j < nseen; j++)
                dup = dup || strcmp(seen[j], key) == 0;
            if (dup)
                continue;
            snprintf(seen[nseen++], sizeof seen[0], "%s", key);
            bares[nb++] = strdup(key);
        }
    qsort(bares, nb, sizeof *bares, cmp_str);
    size_t len = 0;
    text[0] = '\0';
    for (size_t i = 0; i < nb; i++) {
        char *at = strchr(bares[i], '@');
        *at = '\0';
        const char *domain = bares[i], *uid = at + 1;
        char p[1500];
        pushes_for(o, n, scope, uid, domain, p, sizeof p);
        if (p[0])
            len += (size_t)snprintf(text + len, sizeof text - len, "%s@%s: %s\n", uid, domain, p);
        free(bares[i]);
    }
    return text;
}

/* --- tests ----------------------------------------------------------------- */

static void test_nothing_changed(void **state)
{
    base_directory();
    dir_snapshot *a = build(), *b = build();
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "nothing");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN), "");
    dir_snapshot_unref(b);
    /* Changes to entries that are not XMPP accounts/groups of a served
     * domain publish nothing: a disabled user's label, a user of a domain
     * that is not served, a disabled group's members. */
    dir_entry *x = user("xavier", "a.test", "X");
    x->enabled = false;
    user("yves", "c.test", "Y");
    dir_entry *old = group("oldgroup", "alice", "Old");
    old->enabled = false;
    b = build();
    assert_string_equal(diff(a, b, &d), "nothing");
    dir_snapshot_unref(a);
    a = b;
    set_str(&x->ulabel, "Xavier");
    set_str(&find("yves")->ulabel, "Yves");
    set_members("oldgroup", "alice bob");
    b = build();
    assert_string_equal(diff(a, b, &d), "nothing");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_entry_same_and_relevant(void **state)
{
    base_directory();
    dir_entry *u = find("hugo");
    dir_entry *copy = calloc(1, sizeof *copy);
    copy->key = strdup("other-key");            /* key and seen are ignored */
    copy->dn = strdup(u->dn);
    copy->kinds = u->kinds;
    copy->enabled = true;
    copy->uid = strdup("hugo");
    copy->domain = strdup("a.test");
    copy->ulabel = strdup("Hugo");
    copy->seen = !u->seen;
    assert_true(dir_entry_same(u, copy));
    set_str(&copy->ulabel, "Hugo H.");
    assert_false(dir_entry_same(u, copy));
    set_str(&copy->ulabel, "Hugo");
    copy->enabled = false;
    assert_false(dir_entry_same(u, copy));
    assert_true(dir_entry_relevant(u));
    assert_false(dir_entry_relevant(copy));     /* disabled */
    assert_false(dir_entry_relevant(NULL));
    dir_entry_free(copy);
    dir_entry *g = find("staff");
    assert_true(dir_entry_relevant(g));
    dir_entry host = { .kinds = DIR_E_HOST, .enabled = true };
    assert_false(dir_entry_relevant(&host));    /* hosts are handled by dir_hosts.c */
}

static void test_member_added(void **state)
{
    base_directory();
    dir_snapshot *a = build();
    set_members("projects", "hugo lena");
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "accounts +0 -0 ~1, groups +0 -0 ~1");
    /* domain scope: every a.test user gets lena; lena's own roster (every
     * grouped account of her domain) is unchanged; b.test sees nothing */
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN),
                        "alice@a.test: +lena@a.test\n"
                        "bob@a.test: +lena@a.test\n"
                        "carol@a.test: +lena@a.test\n"
                        "hugo@a.test: +lena@a.test\n"
                        "kai@a.test: +lena@a.test\n");
    /* member scope: only the group's members see each other */
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_MEMBER),
                        "hugo@a.test: +lena@a.test\n"
                        "lena@a.test: +hugo@a.test\n");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_member_joins_second_group(void **state)
{
    base_directory();
    dir_snapshot *a = build();
    set_members("staff", "alice bob carol hugo");
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "accounts +0 -0 ~1, groups +0 -0 ~1");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN),
                        "alice@a.test: ~hugo@a.test\n"
                        "bob@a.test: ~hugo@a.test\n"
                        "carol@a.test: ~hugo@a.test\n"
                        "kai@a.test: ~hugo@a.test\n"
                        "lena@a.test: ~hugo@a.test\n");
    /* member scope: the staff people get hugo (under Staff only); hugo gets
     * them */
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_MEMBER),
                        "alice@a.test: +hugo@a.test\n"
                        "bob@a.test: +hugo@a.test\n"
                        "carol@a.test: +hugo@a.test\n"
                        "hugo@a.test: +alice@a.test +bob@a.test +carol@a.test\n");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_member_removed(void **state)
{
    base_directory();
    dir_snapshot *a = build();
    set_members("staff", "alice carol");          /* bob is in no group now */
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "accounts +0 -0 ~1, groups +0 -0 ~1");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN),
                        "alice@a.test: -bob@a.test\n"
                        "carol@a.test: -bob@a.test\n"
                        "hugo@a.test: -bob@a.test\n"
                        "kai@a.test: -bob@a.test\n"
                        "lena@a.test: -bob@a.test\n");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_MEMBER),
                        "alice@a.test: -bob@a.test\n"
                        "bob@a.test: -alice@a.test -carol@a.test\n"
                        "carol@a.test: -bob@a.test\n");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_user_label_changed(void **state)
{
    base_directory();
    dir_snapshot *a = build();
    set_str(&find("hugo")->ulabel, "Hugo H.");
    set_str(&find("carol")->ulabel, "Carol");     /* had none */
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "accounts +0 -0 ~2");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN),
                        "alice@a.test: ~carol@a.test ~hugo@a.test\n"
                        "bob@a.test: ~carol@a.test ~hugo@a.test\n"
                        "carol@a.test: ~hugo@a.test\n"
                        "hugo@a.test: ~carol@a.test\n"
                        "kai@a.test: ~carol@a.test ~hugo@a.test\n"
                        "lena@a.test: ~carol@a.test ~hugo@a.test\n");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_group_label_changed(void **state)
{
    base_directory();
    dir_snapshot *a = build();
    set_str(&find("staff")->glabel, "Team");
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    /* accounts refer to groups by name: no account counts as changed */
    assert_string_equal(diff(a, b, &d), "groups +0 -0 ~1");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN),
                        "alice@a.test: ~bob@a.test ~carol@a.test\n"
                        "bob@a.test: ~alice@a.test ~carol@a.test\n"
                        "carol@a.test: ~alice@a.test ~bob@a.test\n"
                        "hugo@a.test: ~alice@a.test ~bob@a.test ~carol@a.test\n"
                        "kai@a.test: ~alice@a.test ~bob@a.test ~carol@a.test\n"
                        "lena@a.test: ~alice@a.test ~bob@a.test ~carol@a.test\n");
    dir_snapshot_unref(a);
    /* a label removed: the items lose their <group/> but stay */
    a = b;
    set_str(&find("staff")->glabel, NULL);
    b = build();
    assert_string_equal(diff(a, b, &d), "groups +0 -0 ~1");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_MEMBER),
                        "alice@a.test: ~bob@a.test ~carol@a.test\n"
                        "bob@a.test: ~alice@a.test ~carol@a.test\n"
                        "carol@a.test: ~alice@a.test ~bob@a.test\n");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_group_disabled_or_deleted(void **state)
{
    base_directory();
    dir_snapshot *a = build();
    find("unlabelled")->enabled = false;          /* kai's only group */
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "accounts +0 -0 ~1, groups +0 -1 ~0");
    const char *want = "alice@a.test: -kai@a.test\n"
                       "bob@a.test: -kai@a.test\n"
                       "carol@a.test: -kai@a.test\n"
                       "hugo@a.test: -kai@a.test\n"
                       "lena@a.test: -kai@a.test\n";
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN), want);
    dir_snapshot_unref(b);
    /* deleting the entry is the same change */
    drop("unlabelled");
    b = build();
    assert_string_equal(diff(a, b, &d), "accounts +0 -0 ~1, groups +0 -1 ~0");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN), want);
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_group_deleted_with_shared_members(void **state)
{
    base_directory();
    dir_snapshot *a = build();
    drop("mixed");                                /* hugo keeps projects */
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "accounts +0 -0 ~2, groups +0 -1 ~0");
    /* a.test: hugo's item loses the Mixed group; b.test: bea is in no group
     * any more and leaves dave's roster */
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN),
                        "alice@a.test: ~hugo@a.test\n"
                        "bob@a.test: ~hugo@a.test\n"
                        "carol@a.test: ~hugo@a.test\n"
                        "kai@a.test: ~hugo@a.test\n"
                        "lena@a.test: ~hugo@a.test\n"
                        "dave@b.test: -bea@b.test\n");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_account_disabled(void **state)
{
    base_directory();
    dir_snapshot *a = build();
    find("bob")->enabled = false;
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    /* staff's member list changed (bob is no account any more) */
    assert_string_equal(diff(a, b, &d), "accounts +0 -1 ~0, groups +0 -0 ~1");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN),
                        "alice@a.test: -bob@a.test\n"
                        "bob@a.test: GONE\n"
                        "carol@a.test: -bob@a.test\n"
                        "hugo@a.test: -bob@a.test\n"
                        "kai@a.test: -bob@a.test\n"
                        "lena@a.test: -bob@a.test\n");
    dir_snapshot_unref(b);
    /* deleted: the same */
    drop("bob");
    b = build();
    assert_string_equal(diff(a, b, &d), "accounts +0 -1 ~0, groups +0 -0 ~1");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_MEMBER),
                        "alice@a.test: -bob@a.test\n"
                        "bob@a.test: GONE\n"
                        "carol@a.test: -bob@a.test\n");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_account_moved_to_other_domain(void **state)
{
    base_directory();
    dir_snapshot *a = build();
    set_str(&find("carol")->domain, "b.test");
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "accounts +1 -1 ~0, groups +0 -0 ~1");
    /* carol@a.test ends; b.test users get carol@b.test (staff is a group of
     * every domain it has members in) */
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN),
                        "alice@a.test: -carol@a.test\n"
                        "bob@a.test: -carol@a.test\n"
                        "carol@a.test: GONE\n"
                        "hugo@a.test: -carol@a.test\n"
                        "kai@a.test: -carol@a.test\n"
                        "lena@a.test: -carol@a.test\n"
                        "bea@b.test: +carol@b.test\n"
                        "carol@b.test: NEW\n"
                        "dave@b.test: +carol@b.test\n");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_domain_added_and_removed(void **state)
{
    base_directory();
    user("zed", "c.test", "Zed");
    set_members("staff", "alice bob carol zed");
    dir_snapshot *a = build();
    assert_null(dir_snapshot_account(a, "zed", "c.test"));
    dir_snapshot *b = build_with("a.test b.test c.test", true, false, false);
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "domains, accounts +1 -0 ~0, groups +0 -0 ~1");
    assert_true(d.domains);
    assert_true(dir_snapshot_serves(b, "C.TEST"));
    /* nobody of a.test/b.test sees c.test */
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN), "zed@c.test: NEW\n");
    /* and back: zed's sessions end, nobody else is touched */
    assert_string_equal(diff(b, a, &d), "domains, accounts +0 -1 ~0, groups +0 -0 ~1");
    assert_string_equal(all_pushes(b, a, ROSTER_SCOPE_DOMAIN), "zed@c.test: GONE\n");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
    /* every domain gone (univentionService without XMPP) */
    a = build();
    b = build_with("", true, false, false);
    assert_string_equal(diff(a, b, &d), "domains, accounts +0 -8 ~0, groups +0 -0 ~5");
    assert_int_equal(b->naccounts, 0);
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_index_shifts_are_not_changes(void **state)
{
    /* Snapshots hold group and account indexes; a new group sorting first
     * or a new account sorting first shifts every index. Only what really
     * changed may count. */
    base_directory();
    dir_snapshot *a = build();
    group("aaa", "lena", "AAA");
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "accounts +0 -0 ~1, groups +1 -0 ~0");
    dir_snapshot_unref(a);
    a = b;
    user("aaron", "a.test", "Aaron");             /* in no group */
    b = build();
    assert_string_equal(diff(a, b, &d), "accounts +1 -0 ~0");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN), "aaron@a.test: NEW\n");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_renamed_entry(void **state)
{
    /* same uid, other DN (moved in the tree): the account changed (its DN is
     * what the password is checked against), no roster push */
    base_directory();
    dir_snapshot *a = build();
    set_str(&find("hugo")->dn, "uid=hugo,ou=people,dc=plucs,dc=test");
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "accounts +0 -0 ~1");
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN), "");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_permissions_filter_and_initial_load(void **state)
{
    base_directory();
    dir_entry *g = find("staff");
    dir_snapshot *a = build_with("a.test b.test", true, true, false);
    /* a message list names another group: the group changed, no roster push */
    g->mgroups = list("projects", &g->nmgroups);
    dir_snapshot *b = build_with("a.test b.test", true, true, false);
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "groups +0 -0 ~1");
    assert_false(d.permissions);
    assert_string_equal(all_pushes(a, b, ROSTER_SCOPE_DOMAIN), "");
    dir_snapshot_unref(a);
    /* only the policy changed: "permissions" */
    a = b;
    b = build_with("a.test b.test", true, true, true);
    assert_string_equal(diff(a, b, &d), "permissions");
    assert_true(d.permissions);
    dir_snapshot_unref(b);
    /* plucs/mod/filter switched off */
    b = build_with("a.test b.test", true, false, false);
    assert_string_equal(diff(a, b, &d), "filter");
    dir_snapshot_unref(b);
    /* the first complete read */
    b = build_with("a.test b.test", false, true, false);
    assert_string_equal(diff(b, a, &d), "initial load");
    assert_true(d.complete);
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

static void test_empty_before_first_read(void **state)
{
    /* Before the first read the snapshot has domains only; the first
     * complete one adds everything. */
    base_directory();
    char *doms[] = { "a.test", "b.test" };
    dir_snapshot *a = dir_snapshot_new(doms, 2, false, 1);
    assert_non_null(a);
    dir_snapshot *b = build();
    dir_snapshot_diff d;
    assert_string_equal(diff(a, b, &d), "initial load, accounts +8 -0 ~0, groups +5 -0 ~0");
    dir_snapshot_unref(a);
    dir_snapshot_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_nothing_changed, teardown),
        cmocka_unit_test_teardown(test_entry_same_and_relevant, teardown),
        cmocka_unit_test_teardown(test_member_added, teardown),
        cmocka_unit_test_teardown(test_member_joins_second_group, teardown),
        cmocka_unit_test_teardown(test_member_removed, teardown),
        cmocka_unit_test_teardown(test_user_label_changed, teardown),
        cmocka_unit_test_teardown(test_group_label_changed, teardown),
        cmocka_unit_test_teardown(test_group_disabled_or_deleted, teardown),
        cmocka_unit_test_teardown(test_group_deleted_with_shared_members, teardown),
        cmocka_unit_test_teardown(test_account_disabled, teardown),
        cmocka_unit_test_teardown(test_account_moved_to_other_domain, teardown),
        cmocka_unit_test_teardown(test_domain_added_and_removed, teardown),
        cmocka_unit_test_teardown(test_index_shifts_are_not_changes, teardown),
        cmocka_unit_test_teardown(test_renamed_entry, teardown),
        cmocka_unit_test_teardown(test_permissions_filter_and_initial_load, teardown),
        cmocka_unit_test_teardown(test_empty_before_first_read, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
