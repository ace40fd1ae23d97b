/* http_upload.h: the upload path (/upload/, XEP-0363) of the HTTP listener.
 * http.c routes every request whose path starts with /upload/ here:
 * headers first (a PUT is judged against its slot before any body byte is
 * read, and its body then streams to the upload I/O thread), then the
 * complete request (GET, HEAD, OPTIONS, the end of a PUT). */
#ifndef PLUCS_HTTP_UPLOAD_H
#define PLUCS_HTTP_UPLOAD_H

#include <stdbool.h>

#include "transport/http_conn.h"

/* Whether path belongs to the upload path. */
bool http_upload_path(const char *path);
/* The headers of an upload request are in: 0, or the HTTP status that
 * refuses it (c->rd.why says why). */
int http_upload_headers(http_conn *c);
/* The request is complete: answers it now or when the disk has it. */
void http_upload_request(http_conn *c);
/* The connection ends: a PUT still arriving is abandoned. */
void http_upload_conn_free(http_conn *c);

#endif
