/* s2s_resolve.c: where to connect for a remote domain (see s2s_resolve.h).
 * A lookup goes through up to two phases on the thread's c-ares channel
 * (s2s_dns.c): the two SRV queries in parallel (skipped for a configured
 * route), then A/AAAA for every target in parallel (ares_getaddrinfo, which
 * also reads /etc/hosts); the ordered address list is handed to the caller
 * from a deferred event, never from inside s2s_resolve_start.
 *
 * Cancellation: c-ares cannot cancel one query of a shared channel, so every
 * query holds a reference on its lookup; s2s_resolve_cancel only marks the
 * lookup cancelled and drops the caller's reference, and the last query
 * callback frees it. Callbacks of a cancelled lookup touch nothing else. */
#include "transport/s2s_resolve.h"

#include <arpa/inet.h>
#include <ares.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "transport/s2s_dns.h"
#include "transport/s2s_srv.h"

#define MAX_TARGETS 16   /* SRV records followed */
#define MAX_ADDRS 16     /* addresses handed to the caller */
#define DEFAULT_PORT 5269

enum { SVC_XMPPS, SVC_XMPP };

typedef struct target {
    s2s_srv srv;
    int status;            /* ARES_SUCCESS or the error of its lookup */
    s2s_addr *addrs;
    size_t n;
} target;

struct s2s_lookup {
    int refs;              /* the caller's (until delivered or cancelled) + one per query */
    bool cancelled;
    bool delivered;
    struct event_base *base;
    struct event *done;
    s2s_resolve_cb cb;
    void *ud;
    char domain[256];

    int pending;           /* queries of the current phase still out */
    struct {
        bool present;
        int status;
        s2s_srv *recs;
        size_t n;
    } svc[2];
    target *targets;
    size_t ntargets;

    s2s_resolve_status status;
    char why[600];
    s2s_addr out[MAX_ADDRS];
    size_t nout;
};

typedef struct query {
    s2s_lookup *l;
    int idx;
} query;

static _Atomic int lookups_alive;

int s2s_resolve_lookups_alive(void) { return lookups_alive; }

static void lookup_free(s2s_lookup *l)
{
    lookups_alive--;
    for (int i = 0; i < 2; i++)
        free(l->svc[i].recs);
    for (size_t i = 0; i < l->ntargets; i++)
        free(l->targets[i].addrs);
    free(l->targets);
    if (l->done)
        event_free(l->done);
    free(l);
}

static void unref(s2s_lookup *l)
{
    if (--l->refs == 0)
        lookup_free(l);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    s2s_lookup *l = arg;
    if (l->cancelled || l->delivered)
        return;
    l->delivered = true;
    if (l->status == S2S_RESOLVE_OK)
        log_debug("s2s: %s resolved to %zu address(es), first %s:%d%s", l->domain, l->nout,
                  l->out[0].host, l->out[0].port, l->out[0].direct_tls ? " (direct TLS)" : "");
    l->cb(l->ud, l->status, l->out, l->nout, l->status == S2S_RESOLVE_OK ? NULL : l->why);
    unref(l);   /* the caller's reference: the handle is dead after its callback */
}

/* Ends the lookup with a result, delivered from the event loop. */
static void finish(s2s_lookup *l, s2s_resolve_status st, const char *why)
{
    l->status = st;
    if (why)
        snprintf(l->why, sizeof l->why, "%s", why);
    event_active(l->done, 0, 0);
}

static bool notfound_status(int st)
{
    return st == ARES_ENOTFOUND || st == ARES_ENODATA || st == ARES_ENONAME;
}

/* ---- addresses ---- */

static void add_addr(target *t, const struct sockaddr *sa, socklen_t len)
{
    if (len > sizeof(struct sockaddr_storage))
        return;
    t->addrs = xrealloc(t->addrs, (t->n + 1) * sizeof *t->addrs);
    s2s_addr *a = &t->addrs[t->n++];
    memset(a, 0, sizeof *a);
    memcpy(&a->ss, sa, len);
    a->len = len;
    a->port = t->srv.port;
    a->direct_tls = t->srv.direct_tls;
    snprintf(a->host, sizeof a->host, "%s", t->srv.target);
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)a->port);
    else if (sa->sa_family == AF_INET6)
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons((uint16_t)a->port);
}

/* All targets answered: the address list in target order. */
static void assemble(s2s_lookup *l)
{
    bool failed = false;
    const char *err = NULL;
    for (size_t i = 0; i < l->ntargets; i++) {
        target *t = &l->targets[i];
        if (t->status != ARES_SUCCESS && !notfound_status(t->status)) {
            failed = true;
            err = ares_strerror(t->status);
        }
        for (size_t j = 0; j < t->n && l->nout < MAX_ADDRS; j++)
            l->out[l->nout++] = t->addrs[j];
    }
    if (l->nout > 0) {
        finish(l, S2S_RESOLVE_OK, NULL);
        return;
    }
    char why[600];
    if (failed) {
        snprintf(why, sizeof why, "DNS lookup of %s failed: %s", l->targets[0].srv.target, err);
        finish(l, S2S_RESOLVE_FAILED, why);
    } else if (l->ntargets == 1 && !strcasecmp(l->targets[0].srv.target, l->domain)) {
        snprintf(why, sizeof why, "%s has no SRV, A or AAAA record", l->domain);
        finish(l, S2S_RESOLVE_NOTFOUND, why);
    } else {
        snprintf(why, sizeof why, "no address for %s%s", l->targets[0].srv.target,
                 l->ntargets > 1 ? " nor the other SRV targets" : "");
        finish(l, S2S_RESOLVE_NOTFOUND, why);
    }
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    query *q = arg;
    s2s_lookup *l = q->l;
    if (!l->cancelled && status != ARES_EDESTRUCTION) {
        target *t = &l->targets[q->idx];
        t->status = status;
        for (struct ares_addrinfo_node *n = res ? res->nodes : NULL; n; n = n->ai_next)
            if (n->ai_family == AF_INET || n->ai_family == AF_INET6)
                add_addr(t, n->ai_addr, (socklen_t)n->ai_addrlen);
        if (--l->pending == 0)
            assemble(l);
    }
    if (res)
        ares_freeaddrinfo(res);
    free(q);
    unref(l);
    if (status != ARES_EDESTRUCTION)
        s2s_dns_inflight(-1);   /* last: the channel may be renewed once idle */
}

/* Phase two: A/AAAA of every target at once. */
static void resolve_targets(s2s_lookup *l, const s2s_srv *srv, size_t n)
{
    ares_channel ch = s2s_dns_channel(l->base);
    if (!ch) {
        finish(l, S2S_RESOLVE_FAILED, "the DNS resolver cannot start");
        return;
    }
    l->targets = xcalloc(n, sizeof *l->targets);
    l->ntargets = n;
    l->pending = (int)n;
    for (size_t i = 0; i < n; i++)
        l->targets[i].srv = srv[i];
    struct ares_addrinfo_hints hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    for (size_t i = 0; i < n; i++) {
        query *q = xcalloc(1, sizeof *q);
        q->l = l;
        q->idx = (int)i;
        l->refs++;
        /* may answer at once (IP literal, /etc/hosts): on_addrinfo defers */
        s2s_dns_inflight(+1);
        ares_getaddrinfo(ch, srv[i].target, NULL, &hints, on_addrinfo, q);
    }
    s2s_dns_kick();
}

/* ---- SRV ---- */

static void srv_collected(s2s_lookup *l)
{
    s2s_srv_set sets[2];
    for (int i = 0; i < 2; i++)
        sets[i] = (s2s_srv_set){ l->svc[i].present, l->svc[i].recs, l->svc[i].n };
    s2s_srv order[MAX_TARGETS];
    int n = s2s_srv_merge(sets[SVC_XMPPS], sets[SVC_XMPP], order, MAX_TARGETS, NULL, NULL);
    char why[600];
    if (n == S2S_SRV_FALLBACK) {
        /* no SRV: the domain itself on 5269, unless the DNS failed */
        for (int i = 0; i < 2; i++) {
            int st = l->svc[i].status;
            if (st != ARES_SUCCESS && !notfound_status(st)) {
                snprintf(why, sizeof why, "DNS SRV lookup for %s failed: %s", l->domain,
                         ares_strerror(st));
                finish(l, S2S_RESOLVE_FAILED, why);
                return;
            }
        }
        s2s_srv self;
        memset(&self, 0, sizeof self);
        snprintf(self.target, sizeof self.target, "%s", l->domain);
        self.port = DEFAULT_PORT;
        resolve_targets(l, &self, 1);
        return;
    }
    if (n == 0) {
        snprintf(why, sizeof why, "%s offers no XMPP server-to-server service (SRV target \".\")",
                 l->domain);
        finish(l, S2S_RESOLVE_NOTFOUND, why);
        return;
    }
    resolve_targets(l, order, (size_t)n);
}

static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    query *q = arg;
    s2s_lookup *l = q->l;
    if (!l->cancelled && status != ARES_EDESTRUCTION) {
        struct ares_srv_reply *reply = NULL;
        if (status == ARES_SUCCESS)
            status = ares_parse_srv_reply(abuf, alen, &reply);
        l->svc[q->idx].status = status;
        for (struct ares_srv_reply *r = reply; r; r = r->next) {
            size_t k = l->svc[q->idx].n;
            if (k >= 64)
                break;
            l->svc[q->idx].recs = xrealloc(l->svc[q->idx].recs, (k + 1) * sizeof(s2s_srv));
            s2s_srv *s = &l->svc[q->idx].recs[k];
            memset(s, 0, sizeof *s);
            /* c-ares gives the root as "" */
            snprintf(s->target, sizeof s->target, "%s", r->host[0] ? r->host : ".");
            s->port = r->port;
            s->priority = r->priority;
            s->weight = r->weight;
            s->direct_tls = q->idx == SVC_XMPPS;
            l->svc[q->idx].n = k + 1;
        }
        l->svc[q->idx].present = l->svc[q->idx].n > 0;
        if (reply)
            ares_free_data(reply);
        if (--l->pending == 0)
            srv_collected(l);
    }
    free(q);
    unref(l);
    if (status != ARES_EDESTRUCTION)
        s2s_dns_inflight(-1);   /* last: the channel may be renewed once idle */
}

/* ---- start / cancel ---- */

static bool ip_literal(const char *host, int port, s2s_addr *a)
{
    memset(a, 0, sizeof *a);
    struct sockaddr_in *in4 = (struct sockaddr_in *)&a->ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        a->len = sizeof *in4;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        a->len = sizeof *in6;
    } else {
        return false;
    }
    snprintf(a->host, sizeof a->host, "%s", host);
    a->port = port;
    return true;
}

s2s_lookup *s2s_resolve_start(struct event_base *base, const config *c, const char *domain,
                              s2s_resolve_cb cb, void *ud)
{
    s2s_lookup *l = xcalloc(1, sizeof *l);
    lookups_alive++;
    l->refs = 1;
    l->base = base;
    l->cb = cb;
    l->ud = ud;
    snprintf(l->domain, sizeof l->domain, "%s", domain ? domain : "");
    l->done = event_new(base, -1, 0, on_done, l);

    if (!l->domain[0] || strlen(domain) >= sizeof l->domain) {
        finish(l, S2S_RESOLVE_NOTFOUND, "not a domain name");
        return l;
    }
    for (int i = 0; c && i < c->s2s_nroutes; i++) {
        const struct s2s_route *rt = &c->s2s_routes[i];
        if (strcasecmp(rt->domain, l->domain) != 0)
            continue;
        if (ip_literal(rt->host, rt->port, &l->out[0])) {
            l->nout = 1;
            finish(l, S2S_RESOLVE_OK, NULL);
        } else {
            s2s_srv r;
            memset(&r, 0, sizeof r);
            snprintf(r.target, sizeof r.target, "%s", rt->host);
            r.port = rt->port;
            resolve_targets(l, &r, 1);
        }
        return l;
    }
    ares_channel ch = s2s_dns_channel(base);
    if (!ch) {
        finish(l, S2S_RESOLVE_FAILED, "the DNS resolver cannot start");
        return l;
    }
    static const char *const svc[2] = { "_xmpps-server._tcp.", "_xmpp-server._tcp." };
    l->pending = 2;
    for (int i = 0; i < 2; i++) {
        char name[300];
        snprintf(name, sizeof name, "%s%s", svc[i], l->domain);
        query *q = xcalloc(1, sizeof *q);
        q->l = l;
        q->idx = i;
        l->refs++;
        s2s_dns_inflight(+1);
        ares_query(ch, name, 1 /* C_IN */, 33 /* T_SRV */, on_srv, q);
    }
    s2s_dns_kick();
    return l;
}

void s2s_resolve_cancel(s2s_lookup *l)
{
    if (!l || l->cancelled || l->delivered)
        return;
    l->cancelled = true;
    event_del(l->done);
    unref(l);
}

void s2s_resolve_thread_exit(void) { s2s_dns_thread_exit(); }

void s2s_resolve_set_servers(const char *csv) { s2s_dns_set_servers(csv); }

void s2s_resolve_set_timeout(int ms, int tries) { s2s_dns_set_timeout(ms, tries); }
