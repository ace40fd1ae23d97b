/* http_conn.h: one connection of the HTTP listener, shared by http.c (the
 * connection's life, the routing of requests) and http_upload.c (the
 * upload path, XEP-0363), which answers through the functions below. Only
 * the transport's HTTP files include it. */
#ifndef PLUCS_HTTP_CONN_H
#define PLUCS_HTTP_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/worker.h"
#include "transport/http_reader.h"

struct upload_put;

typedef enum { HC_READING, HC_WAITING, HC_CLOSING } hc_state;

typedef struct http_conn {
    uint64_t id;
    worker *w;
    struct bufferevent *bev;
    http_reader rd;            /* the request being read */
    hc_state state;
    uint32_t serial;
    char peer[112];            /* for logs: the client, "X via 127.0.0.1:port" behind Apache */
    char conn_peer[64];        /* the TCP peer */
    struct event *timer;       /* idle, request or wait timeout */
    struct event *close_check; /* CLOSING: free once flushed */
    bool xmpp_path;            /* CORS headers apply */
    bool head;                 /* HEAD: no body in the answer */
    bool keep_alive;
    bool paused;               /* output over OUTPUT_PAUSE: reading stopped until it drains */
    /* an upload PUT (http_upload.c) */
    bool upload_path;          /* CORS for everyone, nosniff */
    struct upload_put *upload; /* the PUT whose body is arriving (owned until finished) */
    uint64_t up_received;      /* body bytes received */
    size_t up_pending;         /* body bytes handed to the I/O thread, not yet written */
    bool up_paused;            /* reading stopped until the I/O thread catches up */
} http_conn;

/* Answers the current request (see send_response in http.c). */
void http_conn_respond(http_conn *c, int status, const char *ctype, const char *headers,
                       const char *body, size_t len);
/* The same with the body taken from fd (taken over, closed by libevent),
 * flen bytes from off, sent by evbuffer_add_file (sendfile). */
void http_conn_respond_file(http_conn *c, int status, const char *ctype, const char *headers,
                            int fd, uint64_t off, uint64_t flen);
/* The connection of the calling worker with that id, or NULL. */
http_conn *http_conn_find(uint64_t id);
void http_conn_set_timer(http_conn *c, int seconds);
/* Reading again after it was stopped (up_paused) or after an answer. */
void http_conn_resume(http_conn *c);
/* Stops reading while an answer is prepared elsewhere. */
void http_conn_wait(http_conn *c, int seconds);

#endif
