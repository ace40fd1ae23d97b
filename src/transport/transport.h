/* transport.h: what every transport of a worker shares: the count of live
 * connections (so a stopping worker ends its loop once all are flushed) and
 * the worker shutdown and cleanup steps that close every stream, whatever
 * its transport (TCP, BOSH, polling, WebSocket) and every HTTP connection. */
#ifndef PLUCS_TRANSPORT_H
#define PLUCS_TRANSPORT_H

#include <stdbool.h>

/* A connection or transport session was created / freed on this worker. */
void transport_conn_opened(void);
void transport_conn_closed(void);
/* The calling worker is shutting down (no keep-alive, no new sessions). */
bool transport_stopping(void);

/* On each worker at shutdown: closes every stream with system-shutdown and
 * every idle HTTP connection, then ends the worker's loop once they are
 * flushed (at most a few seconds). */
void transport_worker_shutdown(void *arg);
/* On each worker after its loop ended: frees what did not flush in time. */
void transport_worker_cleanup(void);

#endif
