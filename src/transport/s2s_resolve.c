/* s2s_resolve.c: peer resolution (see s2s_resolve.h). FIRST CUT: only
 * plucs/s2s/route/DOMAIN with an IP address; DNS (c-ares) follows. */
#include "transport/s2s_resolve.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"

struct s2s_lookup {
    struct event *ev;
    s2s_resolve_cb cb;
    void *ud;
    s2s_resolve_status status;
    s2s_addr addr;
    size_t n;
};

static void fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s2s_lookup *l = arg;
    l->cb(l->ud, l->status, &l->addr, l->n, l->n ? NULL : "no route for this domain");
    event_free(l->ev);
    free(l);
}

s2s_lookup *s2s_resolve_start(struct event_base *base, const config *c, const char *domain,
                              s2s_resolve_cb cb, void *ud)
{
    s2s_lookup *l = xcalloc(1, sizeof *l);
    l->cb = cb;
    l->ud = ud;
    l->status = S2S_RESOLVE_NOTFOUND;
    for (int i = 0; c && i < c->s2s_nroutes; i++) {
        if (strcasecmp(c->s2s_routes[i].domain, domain) != 0)
            continue;
        s2s_addr *a = &l->addr;
        struct sockaddr_in *in4 = (struct sockaddr_in *)&a->ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
        if (inet_pton(AF_INET, c->s2s_routes[i].host, &in4->sin_addr) == 1) {
            in4->sin_family = AF_INET;
            in4->sin_port = htons((uint16_t)c->s2s_routes[i].port);
            a->len = sizeof *in4;
        } else if (inet_pton(AF_INET6, c->s2s_routes[i].host, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((uint16_t)c->s2s_routes[i].port);
            a->len = sizeof *in6;
        } else {
            break;
        }
        snprintf(a->host, sizeof a->host, "%s", c->s2s_routes[i].host);
        a->port = c->s2s_routes[i].port;
        l->n = 1;
        l->status = S2S_RESOLVE_OK;
        break;
    }
    l->ev = event_new(base, -1, 0, fire, l);
    event_active(l->ev, 0, 0);
    return l;
}

void s2s_resolve_cancel(s2s_lookup *l)
{
    if (!l)
        return;
    event_free(l->ev);
    free(l);
}

void s2s_resolve_thread_exit(void) {}
