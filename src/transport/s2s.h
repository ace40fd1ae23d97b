/* s2s.h: federation, the server-to-server transport (RFC 6120 over TCP
 * with STARTTLS or direct TLS, SASL EXTERNAL / XEP-0178, Server Dialback /
 * XEP-0220). To the router a remote domain is one more route: stanzas for a
 * domain this server does not serve go to s2s_send(); stanzas a peer
 * authenticated for its domain come in through router_from_remote(). */
#ifndef PLUCS_S2S_H
#define PLUCS_S2S_H

#include <event2/util.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/worker.h"
#include "xml/xml.h"

/* A stanza (from: a local JID, to: a JID of a domain not served here),
 * from any worker thread. Ownership passes when it returns true: the stanza
 * is queued for the peer, and bounced to its sender later when the peer
 * cannot be reached. false when federation is off (plucs/s2s=false): st is
 * not taken and the caller bounces it. */
bool s2s_send(xnode *st);

/* The listener (main thread): counts an incoming connection from sa
 * against plucs/s2s/max_per_ip; false when over it (then close the
 * socket). key gets what s2s_accept needs to release the count. */
bool s2s_ip_acquire(const struct sockaddr *sa, uint8_t key[17]);
void s2s_ip_release_key(const uint8_t key[17]);
/* On the worker that takes over an accepted socket of the s2s port. */
void s2s_accept(worker *w, evutil_socket_t fd, const char *peer, const uint8_t ip_key[17]);

/* `plucs status` lines (any thread): s2s/streams and one s2s/stream/N
 * line per stream (peer, local domain, direction, TLS, authentication,
 * idle seconds). */
void s2s_status_lines(buf *out);
/* Streams now, for /metrics. */
void s2s_counts(int *in, int *out);

/* On each worker at shutdown (before c2s_worker_shutdown): closes every
 * stream; and after its loop ended: frees what is left. */
void s2s_worker_shutdown(void *arg);
void s2s_worker_cleanup(void);

#endif
