/* upload_parse.h: the pure pieces of HTTP file upload (XEP-0363) that come
 * from the network: the file name and content type of a slot request, the
 * /upload/ URL path of a PUT or GET, the secret in its query, the Range
 * header of a GET, and the percent-encoding of names in URLs and headers.
 * No I/O and no state, so unit tests (tests/unit/test_upload_parse.c) drive
 * them directly; mod_upload.c and transport/http_upload.c use them. */
#ifndef PLUCS_UPLOAD_PARSE_H
#define PLUCS_UPLOAD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define UPLOAD_ID_LEN 32          /* lowercase hex of a 128-bit random id */
#define UPLOAD_PATH_PREFIX "/upload/"
#define UPLOAD_NAME_MAX 255       /* bytes of a file name */
#define UPLOAD_CTYPE_MAX 127      /* bytes of a content type */

/* A file name a client may ask a slot for: 1..255 bytes, valid UTF-8, no
 * '/', '\\', control characters or NUL, not "." or "..". */
bool upload_filename_ok(const char *name);
/* A content type we will repeat in a header: "type/subtype" with optional
 * parameters, printable ASCII without quotes-breaking or CR/LF, at most
 * UPLOAD_CTYPE_MAX bytes. */
bool upload_ctype_ok(const char *ctype);
/* Whether a browser may show the type inline (images, audio, video, plain
 * text); anything else is served with Content-Disposition: attachment. */
bool upload_ctype_inline(const char *ctype);

typedef enum {
    UPLOAD_PATH_OK = 0,
    UPLOAD_PATH_NOT_FOUND = -1,   /* not /upload/<id>/<name>: 404 */
    UPLOAD_PATH_HOSTILE = -2,     /* tricks (.., %2e, %2f, %5c, %00, %25, \): 400 */
} upload_path_result;

/* path: the request path (no query). On UPLOAD_PATH_OK id holds the file's
 * id (UPLOAD_ID_LEN hex digits and NUL). */
upload_path_result upload_path_parse(const char *path, char id[UPLOAD_ID_LEN + 1]);

/* The value of token=... in url's query (the PUT secret): true with
 * UPLOAD_ID_LEN hex digits in out, false when absent or malformed. */
bool upload_query_token(const char *url, char out[UPLOAD_ID_LEN + 1]);

typedef enum {
    UPLOAD_RANGE_NONE = 0,        /* none, or ignored (several ranges, bad syntax): 200 */
    UPLOAD_RANGE_PARTIAL = 1,     /* *start, *len: 206 */
    UPLOAD_RANGE_UNSATISFIABLE = -1,   /* 416 */
} upload_range_result;

/* A Range header (RFC 9110 §14) against a file of size bytes; only one
 * byte range is honoured. hdr may be NULL. */
upload_range_result upload_range_parse(const char *hdr, uint64_t size, uint64_t *start,
                                       uint64_t *len);

/* Appends s percent-encoded (RFC 3986: unreserved characters kept). */
void upload_pct_encode(buf *out, const char *s);

/* Lowercase hex of n random bytes from OpenSSL (2n+1 bytes in out); 0 or -1. */
int upload_random_hex(char *out, size_t nbytes);

#endif
