/* s2s_resolve.h: where to connect for a remote XMPP domain (RFC 6120 §3.2,
 * XEP-0368): plucs/s2s/route/DOMAIN when set; otherwise DNS SRV
 * _xmpps-server._tcp (direct TLS) and _xmpp-server._tcp ordered by
 * priority and weight, then the domain's own A/AAAA on port 5269. Lookups
 * are asynchronous (c-ares on the calling worker's event base, the system's
 * /etc/resolv.conf and /etc/hosts); nothing here ever blocks a worker. */
#ifndef PLUCS_S2S_RESOLVE_H
#define PLUCS_S2S_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "core/config.h"

struct event_base;

/* One address to try, in order. */
typedef struct s2s_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    bool direct_tls;      /* from _xmpps-server: TLS from the first byte */
    char host[256];       /* the SRV target or route host (logs, SRV-ID) */
    int port;
} s2s_addr;

typedef enum {
    S2S_RESOLVE_OK = 0,   /* n >= 1 addresses */
    S2S_RESOLVE_NOTFOUND, /* the name does not exist / has no address */
    S2S_RESOLVE_FAILED,   /* the resolver failed or timed out */
} s2s_resolve_status;

/* Called once on the thread that started the lookup, never from inside
 * s2s_resolve_start(). addrs (n entries) are valid only during the call.
 * why: a short text for logs when status != OK. */
typedef void (*s2s_resolve_cb)(void *ud, s2s_resolve_status status, const s2s_addr *addrs,
                               size_t n, const char *why);

typedef struct s2s_lookup s2s_lookup;

/* Starts resolving domain (lower case, already IDNA/ASCII) with c's routes.
 * Returns a handle for s2s_resolve_cancel (the callback then never runs).
 * The handle dies when the callback returns: cancel it before, or from
 * inside the callback (a no-op then), never after. c is only read during
 * this call. */
s2s_lookup *s2s_resolve_start(struct event_base *base, const config *c, const char *domain,
                              s2s_resolve_cb cb, void *ud);
void s2s_resolve_cancel(s2s_lookup *l);

/* On each worker thread at its exit: frees the thread's resolver channel. */
void s2s_resolve_thread_exit(void);

/* Test seam: name servers in c-ares CSV syntax ("127.0.13.53:5353") for
 * resolver channels made afterwards (a thread makes its channel on first
 * use; s2s_resolve_thread_exit ends it); NULL = the system's. */
void s2s_resolve_set_servers(const char *csv);
/* Test seam: the resolver's per-try timeout (ms) and tries for channels
 * made afterwards; 0 = the system's (/etc/resolv.conf options). */
void s2s_resolve_set_timeout(int ms, int tries);
/* Lookups not yet freed, all threads (for tests). */
int s2s_resolve_lookups_alive(void);

#endif
