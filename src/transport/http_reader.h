/* http_reader.h: one HTTP/1.1 request read from a byte stream with
 * http-parser, with the limits applied (request line and headers at most
 * HTTP_MAX_HEADER bytes, body at most a given size). Pure (no sockets, no
 * event loop) so unit tests drive it directly; http.c feeds it from a
 * connection. The parser pauses at the end of every request, so bytes of a
 * pipelined next request stay unconsumed until http_reader_next(). */
#ifndef PLUCS_HTTP_READER_H
#define PLUCS_HTTP_READER_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define HTTP_MAX_HEADER 8192     /* request line and headers, bytes */

typedef struct http_reader {
    http_parser parser;
    size_t body_limit;
    /* the request (valid when complete) */
    bool started;                /* its first byte arrived */
    bool complete;
    int error;                   /* 400, 413 or 431 once it failed */
    const char *why;             /* a short reason with error */
    int method;                  /* http_parser's HTTP_GET ... */
    bool keep_alive;
    buf url;
    char *origin, *upgrade, *connection, *ws_key, *ws_version, *ws_protocol, *cookie, *expect;
    char *forwarded_for;         /* X-Forwarded-For (Apache adds it) */
    char *content_type, *range;  /* for uploads (transport/http_upload.c) */
    buf body;
    /* scratch */
    size_t header_bytes;
    buf field, value;
    bool in_value;
    /* May be NULL. Runs once the headers are in; a non-zero return (an
     * HTTP status, with why set) fails the request before its body. */
    int (*headers_done)(void *ud, struct http_reader *r);
    /* Set by headers_done to take the body as it arrives instead of
     * buffering it (body_limit then does not apply: the sink judges);
     * a non-zero return fails the request like headers_done's. */
    int (*body_sink)(void *ud, const char *at, size_t len);
    void *ud;
} http_reader;

void http_reader_init(http_reader *r, size_t body_limit);
void http_reader_free(http_reader *r);
/* Feeds bytes; returns how many were consumed. Afterwards r->complete (a
 * request is ready; the rest of data is the next request's) or r->error
 * (answer it and close) or neither (needs more bytes). */
size_t http_reader_feed(http_reader *r, const char *data, size_t len);
/* Forgets the answered request and resumes parsing (keep-alive). */
void http_reader_next(http_reader *r);
/* The path of the request URL without query or fragment, in out. */
void http_reader_path(const http_reader *r, char *out, size_t outlen);

#endif
