/* http.h: the HTTP/1.1 side of the web transports. One http connection per
 * accepted socket of the HTTP listener (plucs/http/address, /port), owned
 * by the accepting worker. Requests are parsed by http-parser one at a time
 * (a pipelined request waits until the previous one is answered), bounded
 * in header and body size and in time, and routed by path: BOSH, polling,
 * the WebSocket upgrade, /metrics, and /upload/ (HTTP file upload,
 * XEP-0363, see http_upload.h: its PUT bodies stream to disk and are
 * bounded by plucs/upload/max_size instead of the body limit below);
 * anything else is 404 (405 for a wrong
 * method, 413 for a body too large, 400 for what does not parse). A client
 * that pipelines requests without reading the answers is not read from
 * while 64 KiB of answers wait, and never gets more than 4 MiB queued.
 * Streams over this listener count as encrypted only from a loopback peer
 * (the HTTPS reverse proxy): the listener has no TLS of its own.
 *
 * BOSH and polling answer later and possibly from another worker (the one
 * that owns the session): they get an http_ref naming the connection and
 * the request, and answer through http_reply(), which posts to the
 * connection's worker. An answer for a connection that is gone is dropped. */
#ifndef PLUCS_HTTP_H
#define PLUCS_HTTP_H

#include <event2/util.h>
#include <stddef.h>
#include <stdint.h>

#include "core/worker.h"

#define HTTP_BODY_SLACK 16384         /* body limit = plucs/max_stanza_size + this */
#define HTTP_REQUEST_TIMEOUT 30       /* seconds for a request to arrive completely */
#define HTTP_IDLE_TIMEOUT 120         /* seconds a keep-alive connection may idle */

typedef struct http_ref {
    int worker;          /* the connection's worker */
    uint64_t conn;       /* its id there */
    uint32_t serial;     /* the request on that connection */
} http_ref;

/* Answers the request ref names; from any thread. body (malloc'ed, may be
 * NULL) is taken over. headers: extra header lines, each ending in \r\n
 * (may be NULL). The Content-Type is text/xml; charset=utf-8. */
void http_reply(const http_ref *ref, int status, const char *headers, char *body, size_t len);

/* The body size limit for the current configuration. */
size_t http_body_limit(void);

void http_accept(worker *w, evutil_socket_t fd, const char *peer);
/* Worker shutdown: no more keep-alive; idle connections close now. */
void http_worker_shutdown(void);
/* After the worker's loop ended: frees every remaining connection. */
void http_worker_cleanup(void);

#endif
