/* c2s.h: client-to-server streams over TCP (RFC 6120): stream header
 * checks, STARTTLS, SASL PLAIN against the directory, resource binding,
 * then every stanza to the router. Runs on the worker that owns the
 * connection. */
#ifndef PLUCS_C2S_H
#define PLUCS_C2S_H

#include <event2/util.h>
#include <stdbool.h>

#include "core/worker.h"

/* Takes over an accepted socket on the calling worker. direct_tls: the
 * XEP-0368 port, TLS from the first byte. */
void c2s_accept(worker *w, evutil_socket_t fd, const char *peer, bool direct_tls);

/* On each worker at shutdown: closes every stream with system-shutdown,
 * then ends the worker's loop once they are flushed (at most a few seconds). */
void c2s_worker_shutdown(void *arg);
/* On each worker after its loop ended: frees what did not flush in time. */
void c2s_worker_cleanup(void);

#endif
