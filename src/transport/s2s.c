/* s2s.c: the federation transport's entry points (s2s.h): s2s_send()
 * finds or claims the worker that owns the outgoing stream for the
 * stanza's (local, remote) domains; the per-address count of incoming
 * connections (plucs/s2s/max_per_ip, for the whole life of a connection,
 * not only before authentication as for clients); the global list of
 * streams that `plucs status` and /metrics read; and the worker shutdown
 * steps. The streams themselves are s2s_in.c / s2s_out.c. */
#include "transport/s2s.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/i18n.h"
#include "metrics/metrics.h"
#include "router/router.h"
#include "router/services.h"
#include "transport/s2s_internal.h"
#include "xmpp/jid.h"

/* ---- s2s_send ---- */

bool s2s_send(xnode *st)
{
    const config *c = config_current();
    if (!c || !c->s2s)
        return false;
    jid from, to;
    if (jid_parse(xnode_attr(st, "from") ? xnode_attr(st, "from") : "", &from) != 0)
        return false;
    if (jid_parse(xnode_attr(st, "to") ? xnode_attr(st, "to") : "", &to) != 0) {
        jid_clear(&from);
        return false;
    }
    char local[S2S_DOMAIN_MAX], remote[S2S_DOMAIN_MAX];
    bool fits = strlen(from.domain) < sizeof local && strlen(to.domain) < sizeof remote;
    if (fits) {
        snprintf(local, sizeof local, "%s", from.domain);
        snprintf(remote, sizeof remote, "%s", to.domain);
    }
    jid_clear(&from);
    jid_clear(&to);
    if (!fits)
        return false;
    worker *self = worker_self();
    /* Never a relay: only stanzas from a domain served here leave. */
    if (self && !router_accepts(local))
        return false;
    worker *w = s2s_table_claim(local, remote, self ? self : worker_get(0));
    if (self && w == self)
        s2s_out_enqueue(local, remote, st);
    else
        s2s_out_post(w, local, remote, st);
    return true;
}

/* ---- incoming connections per address ---- */

typedef struct ipcount {
    struct ipcount *next;
    uint8_t key[17];
    int n;
} ipcount;

static pthread_mutex_t ip_lock = PTHREAD_MUTEX_INITIALIZER;
static ipcount *ips;

static void key_of(const struct sockaddr *sa, uint8_t key[17])
{
    memset(key, 0, 17);
    if (sa->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            key[0] = 4;
            memcpy(key + 1, a->s6_addr + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, a->s6_addr, 8);   /* the /64 */
        }
    }
}

bool s2s_ip_acquire(const struct sockaddr *sa, uint8_t key[17])
{
    key_of(sa, key);
    int max = config_current()->s2s_max_per_ip;
    bool ok = true;
    pthread_mutex_lock(&ip_lock);
    ipcount *e = ips;
    while (e && memcmp(e->key, key, 17))
        e = e->next;
    if (e && max > 0 && e->n >= max) {
        ok = false;
    } else {
        if (!e) {
            e = xcalloc(1, sizeof *e);
            memcpy(e->key, key, 17);
            e->next = ips;
            ips = e;
        }
        e->n++;
    }
    pthread_mutex_unlock(&ip_lock);
    return ok;
}

void s2s_ip_release_key(const uint8_t key[17])
{
    pthread_mutex_lock(&ip_lock);
    for (ipcount **p = &ips; *p; p = &(*p)->next) {
        if (!memcmp((*p)->key, key, 17)) {
            if (--(*p)->n <= 0) {
                ipcount *e = *p;
                *p = e->next;
                free(e);
            }
            break;
        }
    }
    pthread_mutex_unlock(&ip_lock);
}

void s2s_ip_release(s2s_stream *s)
{
    if (s->ip_held) {
        s->ip_held = false;
        s2s_ip_release_key(s->ip_key);
    }
}

/* ---- the status list ---- */

static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;
static s2s_stream *all;
static int n_in, n_out;

void s2s_status_link(s2s_stream *s)
{
    pthread_mutex_lock(&status_lock);
    s->next_g = all;
    if (all)
        all->prev_g = &s->next_g;
    all = s;
    s->prev_g = &all;
    if (s->dir == S2S_IN)
        n_in++;
    else
        n_out++;
    pthread_mutex_unlock(&status_lock);
    metrics_s2s_streams_add(s->dir == S2S_IN, 1);
}

void s2s_status_unlink(s2s_stream *s)
{
    pthread_mutex_lock(&status_lock);
    *s->prev_g = s->next_g;
    if (s->next_g)
        s->next_g->prev_g = s->prev_g;
    if (s->dir == S2S_IN)
        n_in--;
    else
        n_out--;
    pthread_mutex_unlock(&status_lock);
    metrics_s2s_streams_add(s->dir == S2S_IN, -1);
}

void s2s_status_update(s2s_stream *s)
{
    pthread_mutex_lock(&status_lock);
    snprintf(s->shown.local, sizeof s->shown.local, "%s", s->local);
    snprintf(s->shown.remote, sizeof s->shown.remote, "%s", s->remote);
    s->shown.tls = s->tls;
    s->shown.auth = s->auth;
    pthread_mutex_unlock(&status_lock);
}

void s2s_counts(int *in, int *out)
{
    pthread_mutex_lock(&status_lock);
    *in = n_in;
    *out = n_out;
    pthread_mutex_unlock(&status_lock);
}

void s2s_status_lines(buf *out)
{
    long long now = s2s_now();
    pthread_mutex_lock(&status_lock);
    buf_printf(out, "s2s/streams: %d\n", n_in + n_out);
    int i = 0;
    for (s2s_stream *s = all; s; s = s->next_g, i++) {
        const char *auth = s->shown.auth == S2S_AUTH_EXTERNAL   ? "external"
                           : s->shown.auth == S2S_AUTH_DIALBACK ? "dialback"
                                                                : "none";
        buf_printf(out, "s2s/stream/%d: peer=%s local=%s direction=%s tls=%s auth=%s idle=%lld\n",
                   i, s->shown.remote[0] ? s->shown.remote : "-",
                   s->shown.local[0] ? s->shown.local : "-", s->dir == S2S_IN ? "in" : "out",
                   s->shown.tls ? "yes" : "no", auth, now - atomic_load(&s->last_active));
    }
    pthread_mutex_unlock(&status_lock);
}

/* ---- shutdown ---- */

void s2s_worker_shutdown(void *arg)
{
    (void)arg;
    for (s2s_stream *s = s2s_worker_streams(), *next; s; s = next) {
        next = s->next_w;
        if (!s->closing)
            s2s_close(s, s->dir == S2S_IN && s->state == IN_OPEN ? "system-shutdown" : NULL,
                      NULL);
    }
}

void s2s_worker_cleanup(void)
{
    /* The loop has ended: what is still queued is dropped, not bounced
     * (the router's workers are stopping too). */
    while (s2s_worker_streams()) {
        s2s_stream *s = s2s_worker_streams();
        while (s->qhead) {
            s2s_queued *q = s->qhead;
            s->qhead = q->next;
            xnode_free(q->st);
            free(q);
        }
        s2s_free(s);
    }
    s2s_resolve_thread_exit();
}
