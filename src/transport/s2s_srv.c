/* s2s_srv.c: SRV record ordering for server-to-server connections, see
 * s2s_srv.h. */
#include "transport/s2s_srv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static unsigned default_rand(void *ud, unsigned max)
{
    (void)ud;
    return max == UINT32_MAX ? arc4random() : arc4random_uniform(max + 1);
}

/* Sort key: priority, then direct TLS first, then weight 0 first (RFC 2782
 * puts those at the beginning before the weighted draw). */
static int cmp(const void *a, const void *b)
{
    const s2s_srv *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    if (x->direct_tls != y->direct_tls)
        return x->direct_tls ? -1 : 1;
    return (x->weight != 0) - (y->weight != 0);
}

static bool same_group(const s2s_srv *x, const s2s_srv *y)
{
    return x->priority == y->priority && x->direct_tls == y->direct_tls;
}

void s2s_srv_order(s2s_srv *recs, size_t n, s2s_srv_rand rnd, void *ud)
{
    if (!rnd)
        rnd = default_rand;
    qsort(recs, n, sizeof *recs, cmp);   /* not stable: the draw decides anyway */
    for (size_t g = 0; g < n;) {
        size_t end = g + 1;
        while (end < n && same_group(&recs[g], &recs[end]))
            end++;
        /* Draw the group's records one by one: a random number in [0, sum]
         * picks the first record whose running sum reaches it. */
        for (size_t i = g; i + 1 < end; i++) {
            unsigned long sum = 0;
            for (size_t j = i; j < end; j++)
                sum += (unsigned)recs[j].weight;
            unsigned long r = rnd(ud, (unsigned)(sum > UINT32_MAX ? UINT32_MAX : sum));
            unsigned long run = 0;
            size_t pick = end - 1;
            for (size_t j = i; j < end; j++) {
                run += (unsigned)recs[j].weight;
                if (run >= r) {
                    pick = j;
                    break;
                }
            }
            if (pick != i) {
                s2s_srv t = recs[i];
                recs[i] = recs[pick];
                recs[pick] = t;
                /* keep the remaining zero-weight records at the front */
                qsort(recs + i + 1, end - i - 1, sizeof *recs, cmp);
            }
        }
        g = end;
    }
}

static bool unavailable(s2s_srv_set s)
{
    return s.present && s.n == 1 && strcmp(s.recs[0].target, ".") == 0;
}

static size_t copy_in(s2s_srv *out, size_t o, s2s_srv_set s, bool direct_tls)
{
    if (unavailable(s))
        return o;
    for (size_t i = 0; i < s.n; i++) {
        if (!s.recs[i].target[0] || strcmp(s.recs[i].target, ".") == 0)
            continue;
        out[o] = s.recs[i];
        out[o].direct_tls = direct_tls;
        o++;
    }
    return o;
}

int s2s_srv_merge(s2s_srv_set xmpps, s2s_srv_set xmpp, s2s_srv *out, size_t cap,
                  s2s_srv_rand rnd, void *ud)
{
    if (!xmpps.present && !xmpp.present)
        return S2S_SRV_FALLBACK;
    /* order everything first, then keep the best cap */
    s2s_srv *all = xcalloc(xmpps.n + xmpp.n + 1, sizeof *all);
    size_t n = copy_in(all, 0, xmpps, true);
    n = copy_in(all, n, xmpp, false);
    s2s_srv_order(all, n, rnd, ud);
    if (n > cap)
        n = cap;
    memcpy(out, all, n * sizeof *out);
    free(all);
    return (int)n;
}
