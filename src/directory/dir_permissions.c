/* dir_permissions.c: the communication restrictions of directory.md compiled
 * into two bit matrices over permission classes, so that the filter asks
 * one bit per stanza. Accounts with the same set of XMPP groups behave
 * identically, so they share a class (groupless accounts form one class);
 * an organisation has few distinct group sets, which keeps the matrices
 * small. Per group G: Meff(G) = members of M(G) when M(G) is not empty,
 * otherwise everyone (policy allow) or nobody (deny); likewise Peff with P.
 * Row a of msg_allow = union of Meff(G) over the groups G of class a (a
 * groupless class counts as one group with empty lists); pres_allow the
 * same with Peff, read as "observer a may see subject b". */
#include "directory/dir_build.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static int cmp_group_sets(const dir_account *a, const dir_account *b)
{
    uint32_t n = a->ngroups < b->ngroups ? a->ngroups : b->ngroups;
    for (uint32_t i = 0; i < n; i++)
        if (a->groups[i] != b->groups[i])
            return a->groups[i] < b->groups[i] ? -1 : 1;
    return a->ngroups < b->ngroups ? -1 : a->ngroups > b->ngroups;
}

static int cmp_idx(const void *x, const void *y, void *ctx)
{
    const dir_account *acc = ctx;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    int c = cmp_group_sets(&acc[a], &acc[b]);
    return c ? c : (a < b ? -1 : a > b);
}

/* dst bits [off, off + nbits) |= src bits [0, nbits); src has no bits
 * beyond nbits; dst has one spare word at the end. */
static void or_bits_at(uint64_t *dst, size_t off, const uint64_t *src, size_t nbits)
{
    size_t words = (nbits + 63) / 64;
    unsigned sh = (unsigned)(off % 64);
    uint64_t *d = dst + off / 64;
    for (size_t w = 0; w < words; w++) {
        uint64_t v = src[w];
        if (!v)
            continue;
        d[w] |= v << sh;
        if (sh)
            d[w + 1] |= v >> (64 - sh);
    }
}

static void set_all(uint64_t *row, size_t nbits)
{
    size_t words = (nbits + 63) / 64;
    memset(row, 0xff, words * sizeof *row);
    if (nbits % 64)
        row[words - 1] = (UINT64_C(1) << (nbits % 64)) - 1;
}

/* eff[g] = class bitset of Meff(g) (lists = mgroups) or Peff(g). */
static void effective(const dir_snapshot *s, const uint64_t *member_classes, size_t words,
                      bool presence, bool allow, uint64_t *eff)
{
    for (uint32_t g = 0; g < s->ngroups; g++) {
        const dir_group *gr = &s->groups[g];
        const uint32_t *list = presence ? gr->pgroups : gr->mgroups;
        uint32_t n = presence ? gr->npgroups : gr->nmgroups;
        uint64_t *row = eff + (size_t)g * words;
        memset(row, 0, words * sizeof *row);
        if (n == 0) {
            if (allow)
                set_all(row, s->nclasses);
            continue;
        }
        for (uint32_t i = 0; i < n; i++) {
            const uint64_t *m = member_classes + (size_t)list[i] * words;
            for (size_t w = 0; w < words; w++)
                row[w] |= m[w];
        }
    }
}

static void fill_matrix(const dir_snapshot *s, const uint32_t *class_rep, const uint64_t *eff,
                        size_t words, bool allow, uint64_t *matrix, uint64_t *tmp)
{
    size_t c = s->nclasses;
    for (size_t a = 0; a < c; a++) {
        const dir_account *rep = &s->accounts[class_rep[a]];
        memset(tmp, 0, words * sizeof *tmp);
        if (rep->ngroups == 0) {
            if (allow)
                set_all(tmp, c);
        } else {
            for (uint32_t i = 0; i < rep->ngroups; i++) {
                const uint64_t *e = eff + (size_t)rep->groups[i] * words;
                for (size_t w = 0; w < words; w++)
                    tmp[w] |= e[w];
            }
        }
        or_bits_at(matrix, a * c, tmp, c);
    }
}

int dir_permissions_compile(dir_snapshot *s, bool msg_allow, bool pres_allow)
{
    free(s->msg_allow);
    free(s->pres_allow);
    s->msg_allow = s->pres_allow = NULL;
    s->nclasses = 0;
    uint32_t n = s->naccounts;
    uint32_t *order = xmalloc(((size_t)n + 1) * sizeof *order);
    uint32_t *class_rep = xmalloc(((size_t)n + 1) * sizeof *class_rep);
    if (!order || !class_rep)
        goto fail;
    /* classes: sort accounts by group set, equal neighbours share one */
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    if (n > 1)
        qsort_r(order, n, sizeof *order, cmp_idx, s->accounts);
    uint32_t c = 0;
    for (uint32_t i = 0; i < n; i++) {
        dir_account *a = &s->accounts[order[i]];
        if (i == 0 || cmp_group_sets(&s->accounts[class_rep[c - 1]], a) != 0)
            class_rep[c++] = order[i];
        a->pclass = c - 1;
    }
    free(order);
    order = NULL;
    s->nclasses = c;

    size_t words = ((size_t)c + 63) / 64;
    size_t mwords = ((size_t)c * c + 63) / 64 + 1;    /* one spare for or_bits_at */
    size_t gw = (size_t)s->ngroups * words;
    uint64_t *member_classes = xcalloc(gw + 1, sizeof *member_classes);
    uint64_t *eff = xcalloc(gw + 1, sizeof *eff);
    uint64_t *tmp = xcalloc(words + 1, sizeof *tmp);
    s->msg_allow = xcalloc(mwords, sizeof *s->msg_allow);
    s->pres_allow = xcalloc(mwords, sizeof *s->pres_allow);
    if (!member_classes || !eff || !tmp || !s->msg_allow || !s->pres_allow) {
        free(member_classes);
        free(eff);
        free(tmp);
        goto fail;
    }
    for (uint32_t a = 0; a < c; a++) {
        const dir_account *rep = &s->accounts[class_rep[a]];
        for (uint32_t i = 0; i < rep->ngroups; i++)
            member_classes[(size_t)rep->groups[i] * words + a / 64] |= UINT64_C(1) << (a % 64);
    }
    effective(s, member_classes, words, false, msg_allow, eff);
    fill_matrix(s, class_rep, eff, words, msg_allow, s->msg_allow, tmp);
    effective(s, member_classes, words, true, pres_allow, eff);
    fill_matrix(s, class_rep, eff, words, pres_allow, s->pres_allow, tmp);
    free(member_classes);
    free(eff);
    free(tmp);
    free(class_rep);
    return 0;
fail:
    free(order);
    free(class_rep);
    free(s->msg_allow);
    free(s->pres_allow);
    s->msg_allow = s->pres_allow = NULL;
    s->nclasses = 0;
    return -1;
}

static bool bit(const uint64_t *m, uint32_t n, uint32_t a, uint32_t b)
{
    if (!m || a >= n || b >= n)
        return false;
    size_t i = (size_t)a * n + b;
    return (m[i / 64] >> (i % 64)) & 1;
}

/* A NULL account is not a local account (server, remote party, service):
 * the restrictions do not apply to it. */
bool dir_may_message(const dir_snapshot *s, const dir_account *from, const dir_account *to)
{
    if (!s || !s->filter || !from || !to)
        return true;
    return bit(s->msg_allow, s->nclasses, from->pclass, to->pclass);
}

bool dir_may_see(const dir_snapshot *s, const dir_account *observer, const dir_account *subject)
{
    if (!s || !s->filter || !observer || !subject)
        return true;
    return bit(s->pres_allow, s->nclasses, observer->pclass, subject->pclass);
}
