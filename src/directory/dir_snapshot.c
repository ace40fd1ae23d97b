/* dir_snapshot.c: the immutable, reference-counted view of the directory
 * that the directory thread publishes and workers read without locks: the
 * hosted domains, accounts, groups and compiled permissions (built by
 * dir_build.c / dir_permissions.c), their lookups, and the comparison that
 * decides whether a rebuilt snapshot is worth publishing. */
#include "directory/dir_internal.h"
#include "core/alloc.h"
#include "directory/dir_build.h"
#include "directory/dir_text.h"
#include "core/log.h"

#include <stdio.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

dir_snapshot *dir_snapshot_new(char **domains, size_t n, bool complete, uint64_t serial)
{
    dir_snapshot *s = xcalloc(1, sizeof *s);
    s->domains = xcalloc(n + 1, sizeof *s->domains);
    for (size_t i = 0; i < n; i++) {
        s->domains[i] = xstrdup(domains[i]);
    }
    s->ndomains = n;
    s->complete = complete;
    s->serial = serial;
    atomic_init(&s->refs, 1);
    return s;
}

dir_snapshot *dir_snapshot_ref(dir_snapshot *s)
{
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

void dir_snapshot_unref(dir_snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->ndomains; i++)
        free(s->domains[i]);
    free(s->domains);
    for (uint32_t i = 0; i < s->naccounts; i++) {
        dir_account *a = &s->accounts[i];
        free(a->uid);
        free(a->domain);
        free(a->bare);
        free(a->dn);
        free(a->label);
        free(a->pwstamp);
        free(a->groups);
    }
    free(s->accounts);
    for (uint32_t i = 0; i < s->ngroups; i++) {
        dir_group *g = &s->groups[i];
        free(g->cn);
        free(g->label);
        free(g->members);
        free(g->mgroups);
        free(g->pgroups);
    }
    free(s->groups);
    free(s->msg_allow);
    free(s->pres_allow);
    free(s);
}

const dir_account *dir_snapshot_account(const dir_snapshot *s, const char *uid, const char *domain)
{
    if (!s || !uid || !domain)
        return NULL;
    size_t lo = 0, hi = s->naccounts;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const dir_account *a = &s->accounts[mid];
        int c = strcasecmp(a->domain, domain);
        if (c == 0)
            c = strcmp(a->uid, uid);
        if (c == 0)
            return a;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const dir_group *dir_snapshot_group(const dir_snapshot *s, const char *cn)
{
    if (!s || !cn)
        return NULL;
    size_t lo = 0, hi = s->ngroups;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcasecmp(s->groups[mid].cn, cn);
        if (c == 0)
            return &s->groups[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool dir_snapshot_member(const dir_snapshot *s, const dir_account *a, const char *cn)
{
    const dir_group *g = a ? dir_snapshot_group(s, cn) : NULL;
    if (!g)
        return false;
    uint32_t gi = (uint32_t)(g - s->groups);
    for (uint32_t i = 0; i < a->ngroups; i++)
        if (a->groups[i] == gi)
            return true;
    return false;
}

static bool same_str(const char *a, const char *b)
{
    return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

/* Group lists hold indexes; compare them by the names they point to. */
static bool same_group_refs(const dir_snapshot *so, const uint32_t *a, uint32_t na,
                            const dir_snapshot *sn, const uint32_t *b, uint32_t nb)
{
    if (na != nb)
        return false;
    for (uint32_t i = 0; i < na; i++)
        if (strcmp(so->groups[a[i]].cn, sn->groups[b[i]].cn) != 0)
            return false;
    return true;
}

static bool same_account_refs(const dir_snapshot *so, const uint32_t *a, uint32_t na,
                              const dir_snapshot *sn, const uint32_t *b, uint32_t nb)
{
    if (na != nb)
        return false;
    for (uint32_t i = 0; i < na; i++)
        if (strcmp(so->accounts[a[i]].bare, sn->accounts[b[i]].bare) != 0)
            return false;
    return true;
}

static size_t matrix_words(const dir_snapshot *s)
{
    return ((size_t)s->nclasses * s->nclasses + 63) / 64;
}

bool dir_snapshot_compare(const dir_snapshot *o, const dir_snapshot *n, dir_snapshot_diff *d)
{
    memset(d, 0, sizeof *d);
    d->domains = !dir_snapshot_same_domains(o, n->domains, n->ndomains);
    d->filter = o->filter != n->filter;
    d->complete = o->complete != n->complete;
    uint32_t i = 0, j = 0;
    while (i < o->naccounts || j < n->naccounts) {
        int c;
        if (i == o->naccounts)
            c = 1;
        else if (j == n->naccounts)
            c = -1;
        else if (!(c = strcmp(o->accounts[i].domain, n->accounts[j].domain)))
            c = strcmp(o->accounts[i].uid, n->accounts[j].uid);
        if (c < 0) {
            d->acc_removed++;
            i++;
        } else if (c > 0) {
            d->acc_added++;
            j++;
        } else {
            const dir_account *a = &o->accounts[i++], *b = &n->accounts[j++];
            if (!same_str(a->dn, b->dn) || !same_str(a->label, b->label) ||
                !same_str(a->pwstamp, b->pwstamp) ||
                strcmp(a->photo, b->photo) != 0 ||
                !same_group_refs(o, a->groups, a->ngroups, n, b->groups, b->ngroups))
                d->acc_changed++;
        }
    }
    i = j = 0;
    while (i < o->ngroups || j < n->ngroups) {
        int c;
        if (i == o->ngroups)
            c = 1;
        else if (j == n->ngroups)
            c = -1;
        else
            c = strcasecmp(o->groups[i].cn, n->groups[j].cn);
        if (c < 0) {
            d->grp_removed++;
            i++;
        } else if (c > 0) {
            d->grp_added++;
            j++;
        } else {
            const dir_group *a = &o->groups[i++], *b = &n->groups[j++];
            if (strcmp(a->cn, b->cn) != 0 || !same_str(a->label, b->label) ||
                !same_account_refs(o, a->members, a->nmembers, n, b->members, b->nmembers) ||
                !same_group_refs(o, a->mgroups, a->nmgroups, n, b->mgroups, b->nmgroups) ||
                !same_group_refs(o, a->pgroups, a->npgroups, n, b->pgroups, b->npgroups))
                d->grp_changed++;
        }
    }
    /* Permissions (only worth naming when accounts and groups are the same,
     * i.e. after a policy change): same classes and the same bits. */
    bool entries = d->acc_added || d->acc_removed || d->acc_changed || d->grp_added ||
                   d->grp_removed || d->grp_changed;
    d->permissions = !entries && o->nclasses != n->nclasses;
    if (!entries && !d->permissions) {
        for (uint32_t k = 0; k < o->naccounts && !d->permissions; k++)
            d->permissions = o->accounts[k].pclass != n->accounts[k].pclass;
        size_t w = matrix_words(o);
        if (!d->permissions && w && o->msg_allow && n->msg_allow)
            d->permissions = memcmp(o->msg_allow, n->msg_allow, w * 8) != 0 ||
                             memcmp(o->pres_allow, n->pres_allow, w * 8) != 0;
    }
    return d->domains || d->filter || d->complete || d->permissions || d->acc_added ||
           d->acc_removed || d->acc_changed || d->grp_added || d->grp_removed || d->grp_changed;
}

void dir_snapshot_diff_text(const dir_snapshot_diff *d, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
#define ADD(...) do { if (o < len) o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__); } while (0)
    if (d->complete)
        ADD("%sinitial load", o ? ", " : "");
    if (d->domains)
        ADD("%sdomains", o ? ", " : "");
    if (d->acc_added || d->acc_removed || d->acc_changed)
        ADD("%saccounts +%u -%u ~%u", o ? ", " : "", d->acc_added, d->acc_removed, d->acc_changed);
    if (d->grp_added || d->grp_removed || d->grp_changed)
        ADD("%sgroups +%u -%u ~%u", o ? ", " : "", d->grp_added, d->grp_removed, d->grp_changed);
    if (d->filter)
        ADD("%sfilter", o ? ", " : "");
    if (d->permissions)
        ADD("%spermissions", o ? ", " : "");
#undef ADD
    if (!o)
        snprintf(buf, len, "nothing");
}

bool dir_snapshot_serves(const dir_snapshot *s, const char *domain)
{
    if (!s || !domain)
        return false;
    for (size_t i = 0; i < s->ndomains; i++)
        if (strcasecmp(s->domains[i], domain) == 0)
            return true;
    return false;
}

bool dir_snapshot_same_domains(const dir_snapshot *s, char **domains, size_t n)
{
    if (s->ndomains != n)
        return false;
    for (size_t i = 0; i < n; i++)     /* both sorted */
        if (strcmp(s->domains[i], domains[i]) != 0)
            return false;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void dir_domains_normalise(char **domains, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        for (char *p = domains[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    if (*n > 1)
        qsort(domains, *n, sizeof *domains, cmp_str);
    size_t o = 0;
    for (size_t i = 0; i < *n; i++) {
        if (domains[i][0] == '\0' || (o > 0 && strcmp(domains[o - 1], domains[i]) == 0)) {
            free(domains[i]);
        } else if (!dir_text_ok(domains[i], strlen(domains[i])) ||
                   strpbrk(domains[i], " \t\r\n/@")) {
            /* it would reach streams and JIDs as XML: never served */
            log_warn("directory: domain name with characters a domain cannot have ignored");
            free(domains[i]);
        } else {
            domains[o++] = domains[i];
        }
    }
    *n = o;
}
