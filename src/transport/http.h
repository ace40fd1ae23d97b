/* http.h: the HTTP/1.1 listener's connections (BOSH, polling, WebSocket
 * upgrade, /metrics). */
#ifndef PLUCS_HTTP_H
#define PLUCS_HTTP_H

#include <event2/util.h>

#include "core/worker.h"

void http_accept(worker *w, evutil_socket_t fd, const char *peer);
void http_worker_shutdown(void);
void http_worker_cleanup(void);

#endif
