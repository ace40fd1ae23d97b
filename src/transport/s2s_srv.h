/* s2s_srv.h: the pure part of peer resolution: which SRV records to try in
 * which order (RFC 2782 priority and weight; RFC 6120 §3.2.1; XEP-0368:
 * _xmpps-server and _xmpp-server merged by priority, direct TLS first on
 * equal priority). No DNS here, so it is unit-testable with a fixed random
 * source. */
#ifndef PLUCS_S2S_SRV_H
#define PLUCS_S2S_SRV_H

#include <stdbool.h>
#include <stddef.h>

typedef struct s2s_srv {
    char target[256];
    int port;
    int priority;
    int weight;
    bool direct_tls;   /* from _xmpps-server */
} s2s_srv;

/* A uniform random integer in [0, max]. */
typedef unsigned (*s2s_srv_rand)(void *ud, unsigned max);

/* Result of one service's SRV lookup, as the merge needs it. */
typedef struct s2s_srv_set {
    bool present;         /* the lookup found SRV records (possibly ".") */
    const s2s_srv *recs;
    size_t n;
} s2s_srv_set;

#define S2S_SRV_FALLBACK (-1)     /* neither service has SRV records: use A/AAAA:5269 */

/* Orders the records of both services into out (at most cap). Returns the
 * number written; 0 when the services that exist are explicitly unavailable
 * (a lone "." target, RFC 2782) so there is nothing to try and no fallback;
 * S2S_SRV_FALLBACK when neither service has records. rnd NULL = arc4random. */
int s2s_srv_merge(s2s_srv_set xmpps, s2s_srv_set xmpp, s2s_srv *out, size_t cap,
                  s2s_srv_rand rnd, void *ud);

/* RFC 2782 within one list: priority ascending, weighted random order among
 * equal priorities (weight 0 entries first in the draw, so they are rarely
 * picked first); direct TLS before plain on equal priority. In place. */
void s2s_srv_order(s2s_srv *recs, size_t n, s2s_srv_rand rnd, void *ud);

#endif
