/* http_upload.c: see http_upload.h. URLs are BASE/upload/<id>/<name>, a
 * PUT adds ?token=<secret> (modules/mod_upload.c makes them). The file
 * and slot state lives in upload/upload_store.h; this file speaks HTTP.
 *
 * PUT: refused from its headers alone when the slot, size or type do not
 * match (403, 409, 413, 400); otherwise each body chunk is handed to the
 * upload I/O thread as it arrives, and reading stops while more than
 * UP_HIGH bytes wait for the disk (a slow disk slows the client, never
 * the worker). The answer (201) comes when the file is in place.
 * GET/HEAD: the slot's content type, Content-Length, one Range, Last-
 * Modified and ETag, Content-Disposition: attachment for types a browser
 * should not render, nosniff, CORS for everyone; the bytes go out with
 * evbuffer_add_file (sendfile). Opening the file is the only file system
 * call on the worker (no data is read there). */
#include "transport/http_upload.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "upload/upload_parse.h"
#include "upload/upload_store.h"

#define UP_HIGH (1u << 20)       /* bytes waiting for the disk: stop reading */
#define UP_LOW (256u << 10)      /* ...and read again below this */
#define UP_FINISH_TIMEOUT 300    /* seconds for the disk to finish a file */

bool http_upload_path(const char *path)
{
    return !strncmp(path, UPLOAD_PATH_PREFIX, strlen(UPLOAD_PATH_PREFIX)) ||
           !strcmp(path, "/upload");
}

static bool service_on(void)
{
    const config *cfg = config_current();
    return cfg && cfg->upload && upload_store_ready();
}

/* The path checked; a hostile one is logged. */
static upload_path_result parse(http_conn *c, char id[UPLOAD_ID_LEN + 1])
{
    char path[1024];
    http_reader_path(&c->rd, path, sizeof path);
    upload_path_result r = upload_path_parse(path, id);
    if (r == UPLOAD_PATH_HOSTILE) {
        char esc[300];
        log_escape(esc, sizeof esc, path, strlen(path));
        log_warn("http: %s: upload path refused (traversal or encoding tricks): %s", c->peer, esc);
    } else if (r == UPLOAD_PATH_NOT_FOUND) {
        log_info("http: %s: no such upload path", c->peer);
    }
    return r;
}

static void write_done(uint64_t conn, uint32_t serial, int status, size_t n)
{
    http_conn *c = http_conn_find(conn);
    if (!c || c->serial != serial)
        return;
    c->up_pending = c->up_pending >= n ? c->up_pending - n : 0;
    if (c->up_paused && c->up_pending < UP_LOW) {
        c->up_paused = false;
        http_conn_resume(c);
    }
}

static int body_sink(void *ud, const char *at, size_t len)
{
    http_conn *c = ud;
    if (!c->upload)
        return 500;
    c->up_received += len;
    upload_cb cb = { c->w, write_done, c->id, c->serial };
    upload_put_write(c->upload, at, len, &cb);
    c->up_pending += len;
    if (c->up_pending > UP_HIGH && !c->up_paused) {
        c->up_paused = true;
        log_debug("http: %s: upload body waits for the disk (%zu bytes queued)", c->peer,
                  c->up_pending);
    }
    http_conn_set_timer(c, 30);   /* the request timeout counts from the last chunk */
    return 0;
}

int http_upload_headers(http_conn *c)
{
    http_reader *r = &c->rd;
    if (r->method != HTTP_PUT)
        return 0;
    if (!service_on()) {
        r->why = "the upload service is off (plucs/upload)";
        return 404;
    }
    char id[UPLOAD_ID_LEN + 1], token[UPLOAD_ID_LEN + 1];
    upload_path_result pr = parse(c, id);
    if (pr != UPLOAD_PATH_OK) {
        r->why = pr == UPLOAD_PATH_HOSTILE ? "bad upload path" : "no such upload path";
        return pr == UPLOAD_PATH_HOSTILE ? 400 : 404;
    }
    bool has_token = upload_query_token(r->url.data, token);
    bool has_len = (r->parser.flags & F_CONTENTLENGTH) != 0;
    upload_put *p = NULL;
    const char *why = NULL;
    int status = upload_put_begin(id, has_token ? token : NULL, has_len,
                                  has_len ? r->parser.content_length : 0, r->content_type, &p,
                                  &why);
    if (status) {
        r->why = why;   /* fail_request logs it with the peer */
        return status;
    }
    log_info("http: %s: upload PUT %s (%" PRIu64 " bytes) started", c->peer, id,
             (uint64_t)r->parser.content_length);
    c->upload = p;
    c->up_received = 0;
    c->up_pending = 0;
    c->up_paused = false;
    r->body_sink = body_sink;
    return 0;
}

static void finish_done(uint64_t conn, uint32_t serial, int status, size_t n)
{
    http_conn *c = http_conn_find(conn);
    if (!c || c->state != HC_WAITING || c->serial != serial)
        return;
    const char *text = status == 201   ? "created\n"
                       : status == 409 ? "the file exists\n"
                                       : "the file could not be stored\n";
    if (status != 201)
        log_warn("http: %s: upload PUT failed (%d)", c->peer, status);
    http_conn_respond(c, status, "text/plain; charset=utf-8", NULL, text, strlen(text));
    http_conn_resume(c);
}

static void text(http_conn *c, int status, const char *headers, const char *t)
{
    http_conn_respond(c, status, "text/plain; charset=utf-8", headers, t, strlen(t));
}

/* Whether the name segment of the URL may be repeated in a header as it
 * is (it is percent-encoded by mod_upload; anything else is not used). */
static bool name_segment_safe(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%", s[i]))
            return false;
    return n > 0 && n < 800;
}

static void serve(http_conn *c)
{
    char id[UPLOAD_ID_LEN + 1];
    upload_path_result pr = parse(c, id);
    if (pr == UPLOAD_PATH_HOSTILE) {
        text(c, 400, NULL, "bad path\n");
        return;
    }
    char path[4200], ctype[UPLOAD_CTYPE_MAX + 1];
    if (pr != UPLOAD_PATH_OK || !service_on() ||
        !upload_file_lookup(id, path, sizeof path, ctype, sizeof ctype)) {
        text(c, 404, NULL, "not found\n");
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        text(c, 404, NULL, "not found\n");
        return;
    }
    uint64_t size = (uint64_t)st.st_size, start = 0, len = size;
    upload_range_result rr = upload_range_parse(c->rd.range, size, &start, &len);
    buf h;
    buf_init(&h);
    if (rr == UPLOAD_RANGE_UNSATISFIABLE) {
        close(fd);
        buf_printf(&h, "Content-Range: bytes */%" PRIu64 "\r\n", size);
        text(c, 416, h.data, "range not satisfiable\n");
        buf_free(&h);
        return;
    }
    char date[64];
    struct tm tm;
    gmtime_r(&st.st_mtime, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    buf_printf(&h, "Accept-Ranges: bytes\r\nLast-Modified: %s\r\nETag: \"%s-%" PRIu64 "\"\r\n"
                   "Content-Security-Policy: default-src 'none'; sandbox\r\n",
               date, id, size);
    if (!upload_ctype_inline(ctype)) {
        const char *u = c->rd.url.data ? c->rd.url.data : "";
        const char *name = strrchr(u, '/');
        size_t n = name ? strcspn(name + 1, "?#") : 0;
        if (name && name_segment_safe(name + 1, n))
            buf_printf(&h, "Content-Disposition: attachment; filename*=UTF-8''%.*s\r\n", (int)n,
                       name + 1);
        else
            buf_puts(&h, "Content-Disposition: attachment\r\n");
    }
    if (rr == UPLOAD_RANGE_PARTIAL)
        buf_printf(&h, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n", start,
                   start + len - 1, size);
    http_conn_respond_file(c, rr == UPLOAD_RANGE_PARTIAL ? 206 : 200, ctype, h.data, fd, start,
                           len);
    buf_free(&h);
}

void http_upload_request(http_conn *c)
{
    if (!service_on() && c->rd.method != HTTP_PUT) {
        text(c, 404, NULL, "not found\n");
        return;
    }
    switch (c->rd.method) {
    case HTTP_OPTIONS:   /* CORS preflight (Access-Control-Allow-Origin is added for uploads) */
        http_conn_respond(c, 204, NULL,
                          "Access-Control-Allow-Methods: GET, HEAD, PUT, OPTIONS\r\n"
                          "Access-Control-Allow-Headers: Content-Type, Range\r\n"
                          "Access-Control-Max-Age: 86400\r\n",
                          NULL, 0);
        break;
    case HTTP_GET:
    case HTTP_HEAD:
        serve(c);
        break;
    case HTTP_PUT:
        if (!c->upload) {
            text(c, 500, NULL, "no upload\n");
            break;
        }
        c->up_paused = false;
        upload_put *p = c->upload;
        c->upload = NULL;   /* the I/O thread finishes and frees it */
        upload_cb cb = { c->w, finish_done, c->id, c->serial };
        http_conn_wait(c, UP_FINISH_TIMEOUT);
        upload_put_finish(p, &cb);
        break;
    default:
        text(c, 405, "Allow: GET, HEAD, PUT, OPTIONS\r\n", "method not allowed\n");
        break;
    }
}

void http_upload_conn_free(http_conn *c)
{
    if (c->upload) {
        upload_put_abort(c->upload);
        c->upload = NULL;
    }
}
