/* test_permissions_property.c: property test of the communication
 * restrictions. Many random small directories (accounts, groups, memberships
 * and list references, including self-references, names of disabled,
 * non-XMPP, duplicate and non-existent groups, accounts of unserved domains,
 * disabled and ambiguous accounts) are built with dir_snapshot_build(); for
 * every pair of accounts dir_may_message() / dir_may_see() must agree with a
 * direct, naive evaluation of the definitions of directory.md
 * ("Communication restrictions"), under all four policy combinations and
 * with the filter off.
 *
 * The naive model below is written from the spec, not from dir_build.c:
 * - an account is (lower(uid), lower(xmppDomain)) of an enabled account
 *   entry of a served domain, when exactly one enabled entry has that key;
 * - an XMPP group is an enabled univentionXMPPGroup entry; its name is its
 *   cn (case-insensitive); two XMPP groups with the same name are both
 *   ignored (docs/directory.md); members = accounts whose uid is one of
 *   the memberUid values (any served domain);
 * - M(G), P(G) = the XMPP groups named (case-insensitively);
 * - Meff(G) = union of members of M(G) if M(G) is not empty, else everyone
 *   (allow) or nobody (deny); Peff likewise; a user in no group is one
 *   group with empty lists;
 * - s may message r iff r in the union of Meff(G) over the groups G of s;
 *   r may see s iff s in the union of Peff(G) over the groups G of r.
 *
 * Seeds are deterministic: seed i uses splitmix64(i). On a mismatch the
 * seed, the policies and the whole directory are printed. Environment:
 * PLUCS_PROP_SEEDS=N (default 2000) runs more or fewer seeds,
 * PLUCS_PROP_SEED=K runs only seed K. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "directory/dir_build.h"

/* --- deterministic random numbers --------------------------------------- */

static uint64_t rng_state;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static unsigned rnd(unsigned n)   /* 0 .. n-1 */
{
    return n ? (unsigned)(splitmix64(&rng_state) % n) : 0;
}

static bool chance(unsigned percent) { return rnd(100) < percent; }

/* --- the raw directory (what a test "stores in LDAP") -------------------- */

#define MAXE 256
#define MAXL 8     /* list values */
#define MAXM 32    /* memberUid values */

typedef struct raw_acc {
    char uid[24];
    char dom[24];        /* "" = no xmppDomain */
    bool enabled;
} raw_acc;

typedef struct raw_grp {
    char cn[24];         /* "" = no cn */
    bool enabled;
    bool xmpp;           /* univentionXMPPGroup (else a plain posixGroup) */
    char members[MAXM][24];
    size_t nmembers;
    char m[MAXL][24];
    size_t nm;
    char p[MAXL][24];
    size_t np;
} raw_grp;

static raw_acc racc[MAXE];
static size_t nracc;
static raw_grp rgrp[MAXE];
static size_t nrgrp;

static const char *served_domains[] = { "a.test", "b.test" };

/* dst (24 bytes) = src, truncated; a plain copy that -Wformat-truncation
 * does not second-guess */
static void copy24(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (n > 23)
        n = 23;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static void random_case(char *s)
{
    unsigned mode = rnd(10);
    if (mode >= 2)
        return;            /* mostly as is */
    for (; *s; s++)
        if (mode == 0 || chance(50))
            *s = (char)toupper((unsigned char)*s);
}

static void pick_name(char *out, size_t len, const char *prefix, unsigned pool)
{
    snprintf(out, len, "%s%u", prefix, rnd(pool));
    random_case(out);
}

/* A group-name reference: usually an existing name, sometimes a name that
 * no entry has. */
static void pick_ref(char *out, size_t len, unsigned gpool)
{
    if (chance(12))
        snprintf(out, len, "nx%u", rnd(3));
    else
        pick_name(out, len, "g", gpool);
}

static size_t list_len(void)
{
    /* many empty lists, so that the policies matter */
    unsigned r = rnd(100);
    return r < 35 ? 0 : r < 65 ? 1 : r < 85 ? 2 : 1 + rnd(4);
}

typedef struct shape {
    unsigned max_acc, uid_pool, max_grp, grp_pool, max_members;
    bool by_index;   /* names mostly by index (few collisions): many classes */
} shape;

static void random_directory(const shape *sh)
{
    static const char *doms[] = { "a.test", "b.test", "A.Test", "B.TEST", "c.test", "" };
    nracc = rnd(sh->max_acc + 1);
    for (size_t i = 0; i < nracc; i++) {
        raw_acc *a = &racc[i];
        if (sh->by_index && !chance(3))
            snprintf(a->uid, sizeof a->uid, "u%zu", i);
        else
            pick_name(a->uid, sizeof a->uid, "u", sh->uid_pool);
        unsigned d = rnd(100);
        copy24(a->dom,
               d < 40 ? doms[0] : d < 65 ? doms[1] : d < 75 ? doms[2] : d < 82 ? doms[3]
               : d < 92 ? doms[4] : doms[5]);
        a->enabled = chance(88);
    }
    nrgrp = rnd(sh->max_grp + 1);
    for (size_t i = 0; i < nrgrp; i++) {
        raw_grp *g = &rgrp[i];
        memset(g, 0, sizeof *g);
        if (chance(3))
            g->cn[0] = 0;
        else if (sh->by_index && !chance(3))
            snprintf(g->cn, sizeof g->cn, "g%zu", i);
        else
            pick_name(g->cn, sizeof g->cn, "g", sh->grp_pool);
        g->enabled = chance(85);
        g->xmpp = chance(92);
        g->nmembers = rnd(sh->max_members + 1);
        if (g->nmembers > MAXM)
            g->nmembers = MAXM;
        for (size_t k = 0; k < g->nmembers; k++) {
            if (chance(8))
                snprintf(g->members[k], sizeof g->members[k], "nobody");
            else
                pick_name(g->members[k], sizeof g->members[k], "u", sh->uid_pool);
        }
        g->nm = list_len();
        for (size_t k = 0; k < g->nm; k++) {
            if (chance(15) && g->cn[0])
                copy24(g->m[k], g->cn);      /* names itself */
            else
                pick_ref(g->m[k], sizeof g->m[k], sh->grp_pool);
        }
        g->np = list_len();
        for (size_t k = 0; k < g->np; k++) {
            if (chance(15) && g->cn[0])
                copy24(g->p[k], g->cn);
            else
                pick_ref(g->p[k], sizeof g->p[k], sh->grp_pool);
        }
    }
}

/* --- feeding dir_snapshot_build ------------------------------------------ */

static char **copy_list(char (*l)[24], size_t n)
{
    if (!n)
        return NULL;
    char **v = calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = strdup(l[i]);
    return v;
}

static dir_entry *ents[2 * MAXE];
static size_t nents;

static void make_entries(void)
{
    nents = 0;
    for (size_t i = 0; i < nracc; i++) {
        dir_entry *e = calloc(1, sizeof *e);
        char dn[80];
        snprintf(dn, sizeof dn, "uid=%.23s,cn=users%zu,dc=t", racc[i].uid, i);
        e->key = strdup(dn);
        e->dn = strdup(dn);
        e->kinds = DIR_E_ACCOUNT;
        e->enabled = racc[i].enabled;
        e->uid = strdup(racc[i].uid);
        e->domain = racc[i].dom[0] ? strdup(racc[i].dom) : NULL;
        ents[nents++] = e;
    }
    for (size_t i = 0; i < nrgrp; i++) {
        const raw_grp *g = &rgrp[i];
        dir_entry *e = calloc(1, sizeof *e);
        char dn[80];
        snprintf(dn, sizeof dn, "cn=%.23s,cn=groups%zu,dc=t", g->cn, i);
        e->key = strdup(dn);
        e->dn = strdup(dn);
        e->kinds = g->xmpp ? DIR_E_GROUP : 0;
        e->enabled = g->enabled;
        e->cn = g->cn[0] ? strdup(g->cn) : NULL;
        e->glabel = g->cn[0] ? strdup(g->cn) : NULL;
        e->members = copy_list((char (*)[24])g->members, g->nmembers);
        e->nmembers = g->nmembers;
        e->mgroups = copy_list((char (*)[24])g->m, g->nm);
        e->nmgroups = g->nm;
        e->pgroups = copy_list((char (*)[24])g->p, g->np);
        e->npgroups = g->np;
        ents[nents++] = e;
    }
}

static void free_entries(void)
{
    for (size_t i = 0; i < nents; i++)
        dir_entry_free(ents[i]);
    nents = 0;
}

static char warnings[1024][300];
static size_t nwarn;

static void on_warn(void *ud, const char *line)
{
    if (nwarn < 1024)
        snprintf(warnings[nwarn], sizeof warnings[0], "%s", line);
    nwarn++;
}

static dir_snapshot *build(bool filter, bool msg_allow, bool pres_allow)
{
    char *domains[] = { (char *)served_domains[0], (char *)served_domains[1] };
    dir_build_opts o = { .filter = filter, .msg_allow = msg_allow, .pres_allow = pres_allow,
                         .complete = true, .serial = 1, .warn = on_warn };
    nwarn = 0;
    return dir_snapshot_build(domains, 2, ents, nents, &o);
}

/* --- the naive model ----------------------------------------------------- */

typedef struct nacc {
    char uid[24], dom[24];     /* lower case */
} nacc;

typedef struct ngrp {
    const raw_grp *g;
    char cn[24];               /* lower case */
    bool member[MAXE];         /* by naive account index */
    bool m[MAXE], p[MAXE];     /* by naive group index: M(G), P(G) */
    size_t nm, np;
} ngrp;

static nacc nacc_v[MAXE];
static size_t nnacc;
static ngrp ngrp_v[MAXE];
static size_t nngrp;

static void lower(char *dst, const char *src, size_t len)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = 0;
}

static bool is_served(const char *dom_lower)
{
    for (size_t i = 0; i < 2; i++)
        if (!strcmp(dom_lower, served_domains[i]))
            return true;
    return false;
}

static void naive_build(void)
{
    nnacc = 0;
    for (size_t i = 0; i < nracc; i++) {
        char u[24], d[24];
        if (!racc[i].enabled || !racc[i].dom[0])
            continue;
        lower(u, racc[i].uid, sizeof u);
        lower(d, racc[i].dom, sizeof d);
        if (!is_served(d))
            continue;
        size_t same = 0;
        for (size_t j = 0; j < nracc; j++) {
            char u2[24], d2[24];
            if (!racc[j].enabled || !racc[j].dom[0])
                continue;
            lower(u2, racc[j].uid, sizeof u2);
            lower(d2, racc[j].dom, sizeof d2);
            if (!strcmp(u, u2) && !strcmp(d, d2))
                same++;
        }
        if (same != 1)
            continue;          /* ambiguous: neither entry is an account */
        copy24(nacc_v[nnacc].uid, u);
        copy24(nacc_v[nnacc].dom, d);
        nnacc++;
    }
    nngrp = 0;
    for (size_t i = 0; i < nrgrp; i++) {
        const raw_grp *g = &rgrp[i];
        if (!g->xmpp || !g->enabled || !g->cn[0])
            continue;
        size_t same = 0;
        for (size_t j = 0; j < nrgrp; j++)
            if (rgrp[j].xmpp && rgrp[j].enabled && rgrp[j].cn[0] &&
                !strcasecmp(rgrp[j].cn, g->cn))
                same++;
        if (same != 1)
            continue;          /* two XMPP groups with this name: both ignored */
        ngrp *n = &ngrp_v[nngrp++];
        memset(n, 0, sizeof *n);
        n->g = g;
        lower(n->cn, g->cn, sizeof n->cn);
    }
    for (size_t gi = 0; gi < nngrp; gi++) {
        ngrp *n = &ngrp_v[gi];
        for (size_t a = 0; a < nnacc; a++)
            for (size_t k = 0; k < n->g->nmembers; k++)
                if (!strcasecmp(n->g->members[k], nacc_v[a].uid))
                    n->member[a] = true;
        for (size_t h = 0; h < nngrp; h++) {
            for (size_t k = 0; k < n->g->nm; k++)
                if (!strcasecmp(n->g->m[k], ngrp_v[h].cn))
                    n->m[h] = true;
            for (size_t k = 0; k < n->g->np; k++)
                if (!strcasecmp(n->g->p[k], ngrp_v[h].cn))
                    n->p[h] = true;
        }
        for (size_t h = 0; h < nngrp; h++) {
            n->nm += n->m[h];
            n->np += n->p[h];
        }
    }
}

/* Is account x in Meff(G) (presence: Peff(G))? G == NULL: the pseudo-group
 * of a user in no group (empty lists). */
static bool in_eff(const ngrp *g, bool presence, bool allow, size_t x)
{
    size_t n = g ? (presence ? g->np : g->nm) : 0;
    if (n == 0)
        return allow;
    const bool *list = presence ? g->p : g->m;
    for (size_t h = 0; h < nngrp; h++)
        if (list[h] && ngrp_v[h].member[x])
            return true;
    return false;
}

/* the union over the groups of `who` of Meff/Peff contains x */
static bool naive_union(size_t who, bool presence, bool allow, size_t x)
{
    bool any_group = false;
    for (size_t gi = 0; gi < nngrp; gi++) {
        if (!ngrp_v[gi].member[who])
            continue;
        any_group = true;
        if (in_eff(&ngrp_v[gi], presence, allow, x))
            return true;
    }
    return !any_group && in_eff(NULL, presence, allow, x);
}

static bool naive_may_message(size_t s, size_t r, bool allow)
{
    return naive_union(s, false, allow, r);
}

static bool naive_may_see(size_t observer, size_t subject, bool allow)
{
    return naive_union(observer, true, allow, subject);
}

/* --- reporting ----------------------------------------------------------- */

static void dump_directory(uint64_t seed, const char *what)
{
    print_error("\n*** seed %llu: %s\n", (unsigned long long)seed, what);
    print_error("raw accounts (%zu):\n", nracc);
    for (size_t i = 0; i < nracc; i++)
        print_error("  uid=%s xmppDomain=%s xmppEnabled=%s\n", racc[i].uid,
                    racc[i].dom[0] ? racc[i].dom : "-", racc[i].enabled ? "TRUE" : "FALSE");
    print_error("raw groups (%zu):\n", nrgrp);
    for (size_t i = 0; i < nrgrp; i++) {
        const raw_grp *g = &rgrp[i];
        print_error("  cn=%s %s xmppEnabled=%s members:", g->cn[0] ? g->cn : "-",
                    g->xmpp ? "univentionXMPPGroup" : "posixGroup", g->enabled ? "TRUE" : "FALSE");
        for (size_t k = 0; k < g->nmembers; k++)
            print_error(" %s", g->members[k]);
        print_error(" M:");
        for (size_t k = 0; k < g->nm; k++)
            print_error(" %s", g->m[k]);
        print_error(" P:");
        for (size_t k = 0; k < g->np; k++)
            print_error(" %s", g->p[k]);
        print_error("\n");
    }
    print_error("rerun: PLUCS_PROP_SEED=%llu build/tests/test_permissions_property\n",
                (unsigned long long)seed);
}

static const char *pol(bool allow) { return allow ? "allow" : "deny"; }

/* Prints the seed, what differs and the directory, then fails the test. */
static void mismatch(uint64_t seed, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mismatch(uint64_t seed, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    dump_directory(seed, what);
    fail();
}

/* --- one seed ------------------------------------------------------------ */

static size_t pairs_checked, pairs_refused, seeds_run;
static uint32_t max_classes;

static void check_structure(uint64_t seed, const dir_snapshot *s)
{
    if (s->naccounts != nnacc) {
        mismatch(seed, "%u accounts in the snapshot, %zu by the definition",
                 s->naccounts, nnacc);
    }
    if (s->ngroups != nngrp) {
        mismatch(seed, "%u groups in the snapshot, %zu by the definition",
                 s->ngroups, nngrp);
    }
    for (size_t a = 0; a < nnacc; a++)
        if (!dir_snapshot_account(s, nacc_v[a].uid, nacc_v[a].dom)) {
            mismatch(seed, "account %s@%s missing", nacc_v[a].uid, nacc_v[a].dom);
        }
    for (size_t gi = 0; gi < nngrp; gi++) {
        const ngrp *n = &ngrp_v[gi];
        const dir_group *g = dir_snapshot_group(s, n->g->cn);
        if (!g) {
            mismatch(seed, "group %s missing", n->g->cn);
        }
        size_t nmem = 0;
        for (size_t a = 0; a < nnacc; a++) {
            if (!n->member[a])
                continue;
            nmem++;
            const dir_account *acc = dir_snapshot_account(s, nacc_v[a].uid, nacc_v[a].dom);
            bool found = false;
            for (uint32_t k = 0; k < g->nmembers; k++)
                found |= &s->accounts[g->members[k]] == acc;
            if (!found) {
                mismatch(seed, "%s@%s should be a member of %s", nacc_v[a].uid,
                         nacc_v[a].dom, n->g->cn);
            }
        }
        if (g->nmembers != nmem || g->nmgroups != n->nm || g->npgroups != n->np) {
            mismatch(seed, "group %s: %u members, |M|=%u, |P|=%u; by the definition %zu, %zu, %zu",
                     n->g->cn, g->nmembers, g->nmgroups, g->npgroups, nmem, n->nm, n->np);
        }
    }
    /* classes: accounts with the same group set share one, others do not */
    for (uint32_t a = 0; a < s->naccounts; a++) {
        const dir_account *x = &s->accounts[a];
        if (x->pclass >= s->nclasses) {
            mismatch(seed, "%s", "pclass out of range");
        }
        for (uint32_t b = 0; b < s->naccounts; b++) {
            const dir_account *y = &s->accounts[b];
            bool same = x->ngroups == y->ngroups &&
                        (!x->ngroups || !memcmp(x->groups, y->groups, x->ngroups * sizeof *x->groups));
            if (same != (x->pclass == y->pclass)) {
                mismatch(seed, "%s and %s: same group set %d, same class %d",
                         x->bare, y->bare, same, x->pclass == y->pclass);
            }
        }
    }
}

static bool name_resolves(const char *name)
{
    for (size_t h = 0; h < nngrp; h++)
        if (!strcasecmp(name, ngrp_v[h].cn))
            return true;
    return false;
}

/* Every reference of an XMPP group to a name that is not an XMPP group is
 * reported, and nothing else is reported as such. */
static void check_warnings(uint64_t seed)
{
    if (nwarn > 1024)
        return;     /* overflowed our buffer: skip (never with these shapes) */
    for (size_t i = 0; i < nwarn; i++) {
        const char *q = strstr(warnings[i], " names '");
        if (!q)
            continue;
        char name[40];
        if (sscanf(q, " names '%39[^']'", name) != 1)
            continue;
        if (name_resolves(name)) {
            mismatch(seed, "warning about a name that is an XMPP group: %s",
                     warnings[i]);
        }
    }
    for (size_t gi = 0; gi < nngrp; gi++) {
        const raw_grp *g = ngrp_v[gi].g;
        for (int pres = 0; pres < 2; pres++) {
            size_t n = pres ? g->np : g->nm;
            for (size_t k = 0; k < n; k++) {
                const char *name = pres ? g->p[k] : g->m[k];
                if (name_resolves(name))
                    continue;
                char needle[200];
                snprintf(needle, sizeof needle, "group %s: %s names '%s',", g->cn,
                         pres ? "xmppPresenceGroups" : "xmppMessageGroups", name);
                bool seen = false;
                for (size_t i = 0; i < nwarn && !seen; i++)
                    seen = strstr(warnings[i], needle) != NULL;
                if (!seen) {
                    mismatch(seed, "no warning \"%s\"", needle);
                }
            }
        }
    }
}

static void check_pairs(uint64_t seed, const dir_snapshot *s, bool filter, bool mallow,
                        bool pallow)
{
    for (size_t a = 0; a < nnacc; a++) {
        const dir_account *A = dir_snapshot_account(s, nacc_v[a].uid, nacc_v[a].dom);
        for (size_t b = 0; b < nnacc; b++) {
            const dir_account *B = dir_snapshot_account(s, nacc_v[b].uid, nacc_v[b].dom);
            bool want_m = !filter || naive_may_message(a, b, mallow);
            bool want_p = !filter || naive_may_see(a, b, pallow);
            bool got_m = dir_may_message(s, A, B);
            bool got_p = dir_may_see(s, A, B);
            pairs_checked++;
            pairs_refused += !got_m;
            if (got_m != want_m || got_p != want_p) {
                mismatch(seed, "filter=%s message_policy=%s presence_policy=%s: %s@%s -> %s@%s: "
                         "may_message %d (expected %d), may_see %d (expected %d)",
                         filter ? "on" : "off", pol(mallow), pol(pallow), nacc_v[a].uid,
                         nacc_v[a].dom, nacc_v[b].uid, nacc_v[b].dom, got_m, want_m, got_p,
                         want_p);
            }
        }
        /* not a local account (server, remote party, service): never filtered */
        if (filter && (!dir_may_message(s, A, NULL) || !dir_may_message(s, NULL, A) ||
                       !dir_may_see(s, A, NULL) || !dir_may_see(s, NULL, A))) {
            mismatch(seed, "%s", "a NULL (non-local) party was filtered");
        }
    }
}

static void run_seed(uint64_t seed, const shape *sh)
{
    uint64_t x = seed;
    rng_state = splitmix64(&x);
    random_directory(sh);
    make_entries();
    naive_build();
    for (int combo = 0; combo < 5; combo++) {
        bool filter = combo < 4;
        bool mallow = combo & 1, pallow = combo & 2;
        dir_snapshot *s = build(filter, mallow, pallow);
        if (!s) {
            mismatch(seed, "%s", "dir_snapshot_build returned NULL");
        }
        if (s->nclasses > max_classes)
            max_classes = s->nclasses;
        if (combo == 0) {
            check_structure(seed, s);
            check_warnings(seed);
        }
        check_pairs(seed, s, filter, mallow, pallow);
        dir_snapshot_unref(s);
    }
    free_entries();
    seeds_run++;
}

static unsigned long env_ul(const char *name, unsigned long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoul(v, NULL, 10) : dflt;
}

static void run_seeds(const shape *sh, uint64_t base, unsigned long dflt)
{
    const char *one = getenv("PLUCS_PROP_SEED");
    if (one && *one) {
        uint64_t seed = strtoull(one, NULL, 10);
        if (seed >= base && seed < base + 1000000)
            run_seed(seed, sh);
        return;
    }
    unsigned long n = env_ul("PLUCS_PROP_SEEDS", dflt);
    for (unsigned long i = 0; i < n; i++)
        run_seed(base + i, sh);
}

/* --- tests --------------------------------------------------------------- */

/* up to 6 groups and 8 accounts: the directories of the issue */
static void test_small_directories(void **state)
{
    shape sh = { .max_acc = 8, .uid_pool = 6, .max_grp = 6, .grp_pool = 5, .max_members = 5 };
    pairs_checked = pairs_refused = seeds_run = 0;
    run_seeds(&sh, 0, 2000);
    print_message("small: %zu seeds, %zu pairs checked (%zu refused messages)\n", seeds_run,
                  pairs_checked, pairs_refused);
}

/* bigger ones: more than 64 permission classes, so that matrix rows cross
 * 64-bit words */
static void test_larger_directories(void **state)
{
    shape sh = { .max_acc = 200, .uid_pool = 200, .max_grp = 40, .grp_pool = 40,
                 .max_members = MAXM, .by_index = true };
    pairs_checked = pairs_refused = seeds_run = 0;
    max_classes = 0;
    run_seeds(&sh, 1000000, 150);
    print_message("larger: %zu seeds, %zu pairs checked (%zu refused messages), up to %u "
                  "permission classes\n", seeds_run, pairs_checked, pairs_refused, max_classes);
    if (!getenv("PLUCS_PROP_SEED"))
        assert_true(max_classes > 64);
}

/* The model itself, on directory.md's worked example, so that a wrong
 * model cannot make the comparison vacuous. */
static void test_model_worked_example(void **state)
{
    nracc = 3;
    const char *u[] = { "alice", "bob", "carol" };
    for (size_t i = 0; i < 3; i++) {
        copy24(racc[i].uid, u[i]);
        snprintf(racc[i].dom, sizeof racc[i].dom, "a.test");
        racc[i].enabled = true;
    }
    nrgrp = 3;
    memset(rgrp, 0, 3 * sizeof *rgrp);
    raw_grp *st = &rgrp[0], *mg = &rgrp[1], *in = &rgrp[2];
    snprintf(st->cn, sizeof st->cn, "staff");
    snprintf(mg->cn, sizeof mg->cn, "managers");
    snprintf(in->cn, sizeof in->cn, "interns");
    for (size_t i = 0; i < 3; i++)
        rgrp[i].enabled = rgrp[i].xmpp = true;
    st->nmembers = 3;
    for (size_t i = 0; i < 3; i++)
        copy24(st->members[i], u[i]);
    st->nm = 1;
    snprintf(st->m[0], sizeof st->m[0], "managers");
    mg->nmembers = 1;
    snprintf(mg->members[0], sizeof mg->members[0], "alice");
    mg->nm = 2;
    snprintf(mg->m[0], sizeof mg->m[0], "staff");
    snprintf(mg->m[1], sizeof mg->m[1], "managers");
    mg->np = 1;
    snprintf(mg->p[0], sizeof mg->p[0], "staff");
    in->nmembers = 1;
    snprintf(in->members[0], sizeof in->members[0], "carol");
    naive_build();
    assert_int_equal(nnacc, 3);
    assert_int_equal(nngrp, 3);
    /* naive indexes follow racc order: alice 0, bob 1, carol 2 */
    assert_true(naive_may_message(0, 1, false));     /* alice -> bob */
    assert_true(naive_may_message(1, 0, false));     /* bob -> alice */
    assert_false(naive_may_message(1, 2, false));    /* bob -> carol */
    assert_true(naive_may_message(2, 0, false));     /* carol -> alice (union) */
    assert_false(naive_may_message(2, 1, false));    /* carol -> bob */
    assert_true(naive_may_see(0, 1, false));         /* alice sees bob */
    for (size_t x = 0; x < 3; x++)
        assert_false(naive_may_see(1, x, false));    /* bob sees nobody */
    /* and the compiled rules agree on it under every policy */
    make_entries();
    for (int combo = 0; combo < 4; combo++) {
        dir_snapshot *s = build(true, combo & 1, combo & 2);
        assert_non_null(s);
        check_pairs(4242, s, true, combo & 1, combo & 2);
        dir_snapshot_unref(s);
    }
    free_entries();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_worked_example),
        cmocka_unit_test(test_small_directories),
        cmocka_unit_test(test_larger_directories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
