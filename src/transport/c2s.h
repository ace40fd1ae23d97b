/* c2s.h: the TCP transport of client streams (RFC 6120 over TCP, STARTTLS
 * or direct TLS). The XMPP logic is the stream layer's (xmpp_stream.h);
 * this transport runs on the worker that owns the connection. */
#ifndef PLUCS_C2S_H
#define PLUCS_C2S_H

#include <event2/util.h>
#include <stdbool.h>

#include "core/worker.h"
#include "transport/conn_limits.h"

/* Takes over an accepted socket on the calling worker. direct_tls: the
 * XEP-0368 port, TLS from the first byte. */
/* slot: the pre-authentication count the listener took for it (may be
 * NULL); the connection releases it once authenticated or closed. */
void c2s_accept(worker *w, evutil_socket_t fd, const char *peer, bool direct_tls,
                const conn_slot *slot);

/* Kept for plucsd.c: the shutdown and cleanup steps of every transport
 * (transport_worker_shutdown / transport_worker_cleanup, transport.h). */
void c2s_worker_shutdown(void *arg);
void c2s_worker_cleanup(void);

#endif
