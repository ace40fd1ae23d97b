/* policy_index.c: see policy_index.h. Open addressing over account
 * indexes (+1, 0 = empty), at most half full; the domain is hashed and
 * compared case-insensitively and the uid exactly, as dir_snapshot_account
 * compares them. */
#include "router/policy_index.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/worker.h"

typedef struct acct_index {
    const dir_snapshot *snap;   /* compared only, never dereferenced stale */
    uint64_t serial;
    uint32_t mask;
    uint32_t *slot;
} acct_index;

static acct_index *idx;   /* one per worker */
static int nidx;

void policy_index_init(int nworkers)
{
    policy_index_shutdown();
    idx = xcalloc((size_t)nworkers, sizeof *idx);
    nidx = nworkers;
}

void policy_index_shutdown(void)
{
    for (int i = 0; i < nidx; i++)
        free(idx[i].slot);
    free(idx);
    idx = NULL;
    nidx = 0;
}

static uint32_t hash(const char *uid, const char *domain)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)uid; *p; p++)
        h = (h ^ *p) * 16777619u;
    h = (h ^ '@') * 16777619u;
    for (const unsigned char *p = (const unsigned char *)domain; *p; p++) {
        unsigned char c = *p >= 'A' && *p <= 'Z' ? (unsigned char)(*p + 32) : *p;
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static void build(acct_index *x, const dir_snapshot *snap)
{
    uint32_t size = 16;
    while (size < 2u * snap->naccounts && size < (1u << 30))
        size <<= 1;
    free(x->slot);
    x->slot = xcalloc(size, sizeof *x->slot);
    x->mask = size - 1;
    for (uint32_t i = 0; i < snap->naccounts && i < size / 2; i++) {
        const dir_account *a = &snap->accounts[i];
        uint32_t j = hash(a->uid, a->domain) & x->mask;
        while (x->slot[j])
            j = (j + 1) & x->mask;
        x->slot[j] = i + 1;
    }
    x->snap = snap;
    x->serial = snap->serial;
}

const dir_account *policy_account(const dir_snapshot *snap, const char *uid, const char *domain)
{
    if (!snap || !uid || !domain)
        return NULL;
    worker *w = worker_self();
    int i = w ? worker_id(w) : -1;
    if (i < 0 || i >= nidx || snap->naccounts > (1u << 29))
        return dir_snapshot_account(snap, uid, domain);
    acct_index *x = &idx[i];
    if (x->snap != snap || x->serial != snap->serial || !x->slot)
        build(x, snap);
    for (uint32_t j = hash(uid, domain) & x->mask;; j = (j + 1) & x->mask) {
        uint32_t k = x->slot[j];
        if (!k)
            return NULL;
        const dir_account *a = &snap->accounts[k - 1];
        if (strcmp(a->uid, uid) == 0 && strcasecmp(a->domain, domain) == 0)
            return a;
    }
}
