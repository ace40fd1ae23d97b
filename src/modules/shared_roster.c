/* shared_roster.c: see shared_roster.h. With scope "domain" every account
 * of u's domain that belongs to any XMPP group is a contact and shows all
 * its labelled groups; with scope "member" only accounts sharing a group
 * with u, under the shared groups. */
#include "modules/shared_roster.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "modules/roster.h"

static bool shares_group(const dir_account *a, const dir_account *b)
{
    uint32_t i = 0, j = 0;
    while (i < a->ngroups && j < b->ngroups) {
        if (a->groups[i] == b->groups[j])
            return true;
        if (a->groups[i] < b->groups[j])
            i++;
        else
            j++;
    }
    return false;
}

bool shared_visible(const dir_snapshot *s, enum roster_scope scope, const dir_account *u,
                    const dir_account *c)
{
    if (!u || !c || u == c || strcmp(u->domain, c->domain))
        return false;
    if (scope == ROSTER_SCOPE_DOMAIN)
        return c->ngroups > 0;
    return shares_group(u, c);
}

void shared_each(const dir_snapshot *s, enum roster_scope scope, const dir_account *u,
                 void (*fn)(const dir_account *c, void *ud), void *ud)
{
    if (!u)
        return;
    if (scope == ROSTER_SCOPE_DOMAIN) {
        for (uint32_t i = 0; i < s->naccounts; i++) {
            const dir_account *c = &s->accounts[i];
            if (c != u && c->ngroups > 0 && !strcmp(c->domain, u->domain))
                fn(c, ud);
        }
        return;
    }
    /* member scope: members of u's groups, each once */
    unsigned char *seen = xcalloc((s->naccounts + 7) / 8 + 1, 1);
    for (uint32_t g = 0; g < u->ngroups; g++) {
        const dir_group *grp = &s->groups[u->groups[g]];
        for (uint32_t m = 0; m < grp->nmembers; m++) {
            uint32_t idx = grp->members[m];
            const dir_account *c = &s->accounts[idx];
            if (c == u || (seen[idx / 8] & (1u << (idx % 8))) || strcmp(c->domain, u->domain))
                continue;
            seen[idx / 8] |= (unsigned char)(1u << (idx % 8));
            fn(c, ud);
        }
    }
    free(seen);
}

void shared_observers_each(const dir_snapshot *s, enum roster_scope scope, const dir_account *u,
                           void (*fn)(const dir_account *c, void *ud), void *ud)
{
    if (!u)
        return;
    if (scope == ROSTER_SCOPE_DOMAIN) {
        if (u->ngroups == 0)
            return;   /* in no group: in nobody's shared roster */
        for (uint32_t i = 0; i < s->naccounts; i++) {
            const dir_account *c = &s->accounts[i];
            if (c != u && !strcmp(c->domain, u->domain))
                fn(c, ud);
        }
        return;
    }
    shared_each(s, scope, u, fn, ud);   /* sharing a group is symmetric */
}

static bool in_sorted(const uint32_t *v, uint32_t n, uint32_t x)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (v[mid] == x)
            return true;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

xnode *shared_item(const dir_snapshot *s, enum roster_scope scope, const dir_account *u,
                   const dir_account *c)
{
    xnode *item = xnode_new("item", NS_ROSTER);
    xnode_set_attr(item, "jid", c->bare);
    if (c->label && *c->label)
        xnode_set_attr(item, "name", c->label);
    xnode_set_attr(item, "subscription", "both");
    for (uint32_t g = 0; g < c->ngroups; g++) {
        const dir_group *grp = &s->groups[c->groups[g]];
        if (!grp->label || !*grp->label)
            continue;
        if (scope == ROSTER_SCOPE_MEMBER && !in_sorted(u->groups, u->ngroups, c->groups[g]))
            continue;
        xnode *ge = xnode_add_child(item, "group", NS_ROSTER);
        xnode_add_text(ge, grp->label, strlen(grp->label));
    }
    return item;
}

typedef struct hash_ctx {
    const dir_snapshot *s;
    enum roster_scope scope;
    const dir_account *u;
    unsigned long long h;
} hash_ctx;

static void hash_str(unsigned long long *h, const char *p)
{
    while (p && *p)
        *h = (*h ^ (unsigned char)*p++) * 1099511628211ULL;
    *h = (*h ^ 0xff) * 1099511628211ULL;
}

static void hash_one(const dir_account *c, void *ud)
{
    hash_ctx *x = ud;
    unsigned long long h = 1469598103934665603ULL;
    hash_str(&h, c->bare);
    hash_str(&h, c->label);
    for (uint32_t g = 0; g < c->ngroups; g++) {
        if (x->scope == ROSTER_SCOPE_MEMBER && !in_sorted(x->u->groups, x->u->ngroups, c->groups[g]))
            continue;
        hash_str(&h, x->s->groups[c->groups[g]].label);
    }
    x->h += h * 0x9e3779b97f4a7c15ULL;   /* order-independent sum */
}

unsigned long long shared_hash(const dir_snapshot *s, enum roster_scope scope,
                               const dir_account *u)
{
    hash_ctx x = { s, scope, u, 0 };
    shared_each(s, scope, u, hash_one, &x);
    return x.h;
}
