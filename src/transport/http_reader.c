/* http_reader.c: see http_reader.h. http-parser reports the request in
 * pieces (URL, header names and values possibly split across reads); they
 * are collected here, counted against the header limit, and the few headers
 * the web transports need are kept. */
#include "transport/http_reader.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static http_parser_settings settings;
static bool settings_ready;

static http_reader *reader_of(http_parser *p) { return p->data; }

static int fail(http_reader *r, int status, const char *why)
{
    r->error = status;
    r->why = why;
    return -1;
}

static int count_header(http_reader *r, size_t len)
{
    r->header_bytes += len;
    return r->header_bytes > HTTP_MAX_HEADER ? fail(r, 431, "request headers too large") : 0;
}

static int on_message_begin(http_parser *p)
{
    reader_of(p)->started = true;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    http_reader *r = reader_of(p);
    if (count_header(r, len))
        return -1;
    buf_append(&r->url, at, len);
    return 0;
}

static void header_done(http_reader *r)
{
    if (!r->in_value)
        return;
    static const struct { const char *name; size_t off; } keep[] = {
        { "Origin", offsetof(http_reader, origin) },
        { "Upgrade", offsetof(http_reader, upgrade) },
        { "Connection", offsetof(http_reader, connection) },
        { "Sec-WebSocket-Key", offsetof(http_reader, ws_key) },
        { "Sec-WebSocket-Version", offsetof(http_reader, ws_version) },
        { "Sec-WebSocket-Protocol", offsetof(http_reader, ws_protocol) },
        { "Cookie", offsetof(http_reader, cookie) },
        { "Expect", offsetof(http_reader, expect) },
        { "X-Forwarded-For", offsetof(http_reader, forwarded_for) },
        { "Content-Type", offsetof(http_reader, content_type) },
        { "Range", offsetof(http_reader, range) },
    };
    const char *f = r->field.data ? r->field.data : "";
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        if (strcasecmp(f, keep[i].name))
            continue;
        char **slot = (char **)((char *)r + keep[i].off);
        const char *v = r->value.data ? r->value.data : "";
        if (*slot) {   /* a repeated header: one comma-separated list */
            char *joined;
            if (asprintf(&joined, "%s, %s", *slot, v) < 0)
                abort();
            free(*slot);
            *slot = joined;
        } else {
            *slot = xstrdup(v);
        }
        break;
    }
    buf_reset(&r->field);
    buf_reset(&r->value);
    r->in_value = false;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    http_reader *r = reader_of(p);
    if (count_header(r, len))
        return -1;
    header_done(r);
    buf_append(&r->field, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    http_reader *r = reader_of(p);
    if (count_header(r, len))
        return -1;
    r->in_value = true;
    buf_append(&r->value, at, len);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    http_reader *r = reader_of(p);
    header_done(r);
    r->method = p->method;
    r->keep_alive = http_should_keep_alive(p);
    if (r->headers_done) {
        int status = r->headers_done(r->ud, r);
        if (status)
            return fail(r, status, r->why ? r->why : "refused");
    }
    if (!r->body_sink && (p->flags & F_CONTENTLENGTH) && p->content_length > r->body_limit)
        return fail(r, 413, "request body too large");
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    http_reader *r = reader_of(p);
    if (r->body_sink) {
        int status = r->body_sink(r->ud, at, len);
        return status ? fail(r, status, r->why ? r->why : "refused") : 0;
    }
    if (r->body.len + len > r->body_limit)
        return fail(r, 413, "request body too large");
    buf_append(&r->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    reader_of(p)->complete = true;
    http_parser_pause(p, 1);   /* one request at a time */
    return 0;
}

void http_reader_init(http_reader *r, size_t body_limit)
{
    if (!settings_ready) {   /* idempotent: the same values from any thread */
        http_parser_settings s;
        http_parser_settings_init(&s);
        s.on_message_begin = on_message_begin;
        s.on_url = on_url;
        s.on_header_field = on_header_field;
        s.on_header_value = on_header_value;
        s.on_headers_complete = on_headers_complete;
        s.on_body = on_body;
        s.on_message_complete = on_message_complete;
        settings = s;
        __atomic_store_n(&settings_ready, true, __ATOMIC_RELEASE);
    }
    memset(r, 0, sizeof *r);
    http_parser_init(&r->parser, HTTP_REQUEST);
    r->parser.data = r;
    r->body_limit = body_limit;
}

static void clear_request(http_reader *r)
{
    char **fields[] = { &r->origin, &r->upgrade, &r->connection, &r->ws_key, &r->ws_version,
                        &r->ws_protocol, &r->cookie, &r->expect, &r->forwarded_for,
                        &r->content_type, &r->range };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
    buf_free(&r->url);
    buf_free(&r->field);
    buf_free(&r->value);
    if (r->body.data)
        explicit_bzero(r->body.data, r->body.len);   /* may hold a password */
    buf_free(&r->body);
    r->started = r->complete = r->in_value = false;
    r->body_sink = NULL;
    r->why = NULL;
    r->header_bytes = 0;
}

void http_reader_free(http_reader *r) { clear_request(r); }

void http_reader_next(http_reader *r)
{
    clear_request(r);
    http_parser_pause(&r->parser, 0);
}

size_t http_reader_feed(http_reader *r, const char *data, size_t len)
{
    if (r->error || r->complete)
        return 0;
    size_t used = http_parser_execute(&r->parser, &settings, data, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
    if (r->complete)
        return used;
    if (r->error)
        return used;
    if (e != HPE_OK) {
        r->error = 400;
        r->why = http_errno_description(e);
    } else if (r->parser.upgrade) {
        r->error = 400;   /* an Upgrade on something other than a bodiless GET */
        r->why = "unexpected upgrade";
    }
    return used;
}

void http_reader_path(const http_reader *r, char *out, size_t outlen)
{
    const char *u = r->url.data ? r->url.data : "";
    size_t n = strcspn(u, "?#");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, u, n);
    out[n] = 0;
}
