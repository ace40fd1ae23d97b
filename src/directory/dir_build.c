/* dir_build.c: from raw entries to a snapshot (see dir_build.h). Applies
 * directory.md's rules: an account is an enabled univentionXMPPAccount of a
 * served domain whose nodeprep'ed uid is unique in that domain; a group is
 * an enabled univentionXMPPGroup, named by its cn (case-insensitive);
 * memberUid values name accounts by uid in any served domain; names in
 * xmppMessageGroups / xmppPresenceGroups that are not XMPP groups are
 * ignored (and reported). Sorting plus binary search keep it O(n log n):
 * 10,000 accounts and 400 groups build in milliseconds. */
#include "directory/dir_build.h"
#include "core/alloc.h"
#include "directory/dir_internal.h"
#include "directory/dir_text.h"
#include "xmpp/jid.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

void dir_entry_free(dir_entry *e)
{
    if (!e)
        return;
    free(e->key);
    free(e->dn);
    free(e->uid);
    free(e->domain);
    free(e->ulabel);
    free(e->pwstamp);
    free(e->cn);
    free(e->glabel);
    free(e->hostattrs);
    free_list(e->members, e->nmembers);
    free_list(e->mgroups, e->nmgroups);
    free_list(e->pgroups, e->npgroups);
    free(e);
}

static bool same_str(const char *a, const char *b)
{
    return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

static bool same_list(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

bool dir_entry_same(const dir_entry *a, const dir_entry *b)
{
    return a->kinds == b->kinds && a->enabled == b->enabled && same_str(a->dn, b->dn) &&
           same_str(a->uid, b->uid) && same_str(a->domain, b->domain) &&
           same_str(a->ulabel, b->ulabel) && same_str(a->pwstamp, b->pwstamp) &&
           same_str(a->cn, b->cn) &&
           same_str(a->glabel, b->glabel) && same_str(a->hostattrs, b->hostattrs) &&
           strcmp(a->photo, b->photo) == 0 &&
           same_list(a->members, a->nmembers, b->members, b->nmembers) &&
           same_list(a->mgroups, a->nmgroups, b->mgroups, b->nmgroups) &&
           same_list(a->pgroups, a->npgroups, b->pgroups, b->npgroups);
}

bool dir_entry_relevant(const dir_entry *e)
{
    return e && e->enabled && (e->kinds & (DIR_E_ACCOUNT | DIR_E_GROUP));
}

/* --- helpers ------------------------------------------------------------ */

typedef struct build {
    const dir_build_opts *o;
    char **domains;
    size_t ndomains;
} build;

static void warn(const build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const build *b, const char *fmt, ...)
{
    if (!b->o->warn)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    b->o->warn(b->o->warn_ud, line);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* served domain, lower case copy, or NULL */
static const char *served(const build *b, const char *domain)
{
    if (!domain)
        return NULL;
    char low[256];
    size_t n = strlen(domain);
    if (n == 0 || n >= sizeof low)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)domain[i]);
    const char *key = low;
    char **hit = bsearch(&key, b->domains, b->ndomains, sizeof *b->domains, cmp_cstr);
    return hit ? *hit : NULL;
}

typedef struct cand {        /* an account candidate */
    char *uid;               /* prepared */
    const char *domain;      /* points into b->domains */
    const dir_entry *e;
} cand;

static int cmp_cand(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    int c = strcmp(a->domain, b->domain);
    return c ? c : strcmp(a->uid, b->uid);
}

static int cmp_gcand(const void *x, const void *y)
{
    const dir_entry *a = *(const dir_entry *const *)x, *b = *(const dir_entry *const *)y;
    return strcasecmp(a->cn, b->cn);
}

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

/* uid index: account indexes sorted by uid */
static int cmp_uid_idx(const void *x, const void *y, void *ctx)
{
    const dir_account *acc = ctx;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    int c = strcmp(acc[a].uid, acc[b].uid);
    return c ? c : (a < b ? -1 : a > b);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

static uint32_t sort_unique(uint32_t *v, uint32_t n)
{
    if (n < 2)
        return n;
    qsort(v, n, sizeof *v, cmp_u32);
    uint32_t o = 1;
    for (uint32_t i = 1; i < n; i++)
        if (v[i] != v[o - 1])
            v[o++] = v[i];
    return o;
}

static int group_index(const dir_snapshot *s, const char *cn)
{
    const dir_group *g = dir_snapshot_group(s, cn);
    return g ? (int)(g - s->groups) : -1;
}

/* --- accounts ----------------------------------------------------------- */

static int build_accounts(const build *b, dir_snapshot *s, dir_entry *const *entries, size_t n)
{
    cand *c = xcalloc(n + 1, sizeof *c);
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        const dir_entry *e = entries[i];
        if (!(e->kinds & DIR_E_ACCOUNT) || !e->enabled || !e->uid)
            continue;
        const char *dom = served(b, e->domain);
        if (!dom)
            continue;
        char *uid = jid_nodeprep(e->uid);
        if (!uid || !*uid) {
            warn(b, "account %s: uid '%s' is not a valid XMPP localpart; ignored", e->dn, e->uid);
            free(uid);
            continue;
        }
        c[nc++] = (cand){ uid, dom, e };
    }
    if (nc > 1)
        qsort(c, nc, sizeof *c, cmp_cand);
    s->accounts = xcalloc(nc + 1, sizeof *s->accounts);
    int rc = s->accounts ? 0 : -1;
    for (size_t i = 0; i < nc && rc == 0;) {
        size_t j = i + 1;
        while (j < nc && cmp_cand(&c[i], &c[j]) == 0)
            j++;
        if (j - i > 1) {
            warn(b, "account %s@%s: %zu entries have this uid in this domain (%s, %s%s); "
                 "not an account", c[i].uid, c[i].domain, j - i, c[i].e->dn, c[i + 1].e->dn,
                 j - i > 2 ? ", ..." : "");
        } else {
            dir_account *a = &s->accounts[s->naccounts];
            a->uid = xstrdup(c[i].uid);
            a->domain = xstrdup(c[i].domain);
            a->dn = dup_or_null(c[i].e->dn);
            a->label = dir_text_dup(c[i].e->ulabel);   /* reaches rosters as XML */
            a->pwstamp = dup_or_null(c[i].e->pwstamp);
            memcpy(a->photo, c[i].e->photo, sizeof a->photo);
            if (asprintf(&a->bare, "%s@%s", c[i].uid, c[i].domain) < 0)
                a->bare = NULL;
            s->naccounts++;
            if (!a->uid || !a->domain || !a->bare || (c[i].e->dn && !a->dn) ||
                (c[i].e->ulabel && !a->label))
                rc = -1;
        }
        i = j;
    }
    for (size_t i = 0; i < nc; i++)
        free(c[i].uid);
    free(c);
    return rc;
}

/* --- groups ------------------------------------------------------------- */

static int resolve_names(const build *b, dir_snapshot *s, const char *cn, char **names,
                         size_t n, const char *attr, uint32_t **out, uint32_t *nout)
{
    *out = xcalloc(n + 1, sizeof **out);
    if (!*out)
        return -1;
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int g = group_index(s, names[i]);
        if (g < 0)
            warn(b, "group %s: %s names '%s', which is not an XMPP group; ignored", cn, attr,
                 names[i]);
        else
            (*out)[k++] = (uint32_t)g;
    }
    *nout = sort_unique(*out, k);
    return 0;
}

static int resolve_members(dir_snapshot *s, const uint32_t *uidx, const dir_entry *e,
                           dir_group *g)
{
    size_t cap = e->nmembers + 4;
    g->members = xcalloc(cap, sizeof *g->members);
    uint32_t k = 0;
    for (size_t i = 0; i < e->nmembers; i++) {
        char *uid = jid_nodeprep(e->members[i]);
        if (!uid)
            continue;
        /* lower bound of uid in the uid index */
        size_t lo = 0, hi = s->naccounts;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (strcmp(s->accounts[uidx[mid]].uid, uid) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < s->naccounts && strcmp(s->accounts[uidx[lo]].uid, uid) == 0; lo++) {
            if (k == cap) {
                cap *= 2;
                uint32_t *m = xrealloc(g->members, cap * sizeof *m);
                g->members = m;
            }
            g->members[k++] = uidx[lo];
        }
        free(uid);
    }
    g->nmembers = sort_unique(g->members, k);
    return 0;
}

static int build_groups(const build *b, dir_snapshot *s, dir_entry *const *entries, size_t n)
{
    const dir_entry **c = xcalloc(n + 1, sizeof *c);
    const dir_entry **src = NULL;
    uint32_t *uidx = NULL;
    int rc = -1;
    if (!c)
        return -1;
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        if ((entries[i]->kinds & DIR_E_GROUP) && entries[i]->enabled && entries[i]->cn &&
            *entries[i]->cn)
            c[nc++] = entries[i];
    if (nc > 1)
        qsort(c, nc, sizeof *c, cmp_gcand);
    s->groups = xcalloc(nc + 1, sizeof *s->groups);
    src = xcalloc(nc + 1, sizeof *src);
    if (!s->groups || !src)
        goto out;
    for (size_t i = 0; i < nc;) {
        size_t j = i + 1;
        while (j < nc && strcasecmp(c[i]->cn, c[j]->cn) == 0)
            j++;
        if (j - i > 1) {
            warn(b, "group %s: %zu XMPP groups have this name (%s, %s%s); ignored", c[i]->cn,
                 j - i, c[i]->dn, c[i + 1]->dn, j - i > 2 ? ", ..." : "");
        } else {
            dir_group *g = &s->groups[s->ngroups];
            src[s->ngroups++] = c[i];
            g->cn = xstrdup(c[i]->cn);
            g->label = dir_text_dup(c[i]->glabel);
            if (!g->cn || (c[i]->glabel && !g->label))
                goto out;
        }
        i = j;
    }
    uidx = xmalloc(((size_t)s->naccounts + 1) * sizeof *uidx);
    for (uint32_t i = 0; i < s->naccounts; i++)
        uidx[i] = i;
    if (s->naccounts > 1)
        qsort_r(uidx, s->naccounts, sizeof *uidx, cmp_uid_idx, s->accounts);
    for (uint32_t i = 0; i < s->ngroups; i++) {
        dir_group *g = &s->groups[i];
        const dir_entry *e = src[i];
        if (resolve_members(s, uidx, e, g) != 0 ||
            resolve_names(b, s, g->cn, e->mgroups, e->nmgroups, "xmppMessageGroups",
                          &g->mgroups, &g->nmgroups) != 0 ||
            resolve_names(b, s, g->cn, e->pgroups, e->npgroups, "xmppPresenceGroups",
                          &g->pgroups, &g->npgroups) != 0)
            goto out;
    }
    /* accounts' group lists, ascending because groups are visited in order */
    for (uint32_t i = 0; i < s->ngroups; i++)
        for (uint32_t k = 0; k < s->groups[i].nmembers; k++)
            s->accounts[s->groups[i].members[k]].ngroups++;
    for (uint32_t a = 0; a < s->naccounts; a++) {
        s->accounts[a].groups = xcalloc((size_t)s->accounts[a].ngroups + 1, sizeof(uint32_t));
        s->accounts[a].ngroups = 0;
    }
    for (uint32_t i = 0; i < s->ngroups; i++)
        for (uint32_t k = 0; k < s->groups[i].nmembers; k++) {
            dir_account *a = &s->accounts[s->groups[i].members[k]];
            a->groups[a->ngroups++] = i;
        }
    rc = 0;
out:
    free(uidx);
    free(src);
    free(c);
    return rc;
}

dir_snapshot *dir_snapshot_build(char **domains, size_t ndomains, dir_entry *const *entries,
                                 size_t n, const dir_build_opts *o)
{
    dir_snapshot *s = dir_snapshot_new(domains, ndomains, o->complete, o->serial);
    if (!s)
        return NULL;
    build b = { o, s->domains, s->ndomains };
    s->filter = o->filter;
    if (build_accounts(&b, s, entries, n) != 0 || build_groups(&b, s, entries, n) != 0 ||
        dir_permissions_compile(s, o->msg_allow, o->pres_allow) != 0) {
        dir_snapshot_unref(s);
        return NULL;
    }
    return s;
}
