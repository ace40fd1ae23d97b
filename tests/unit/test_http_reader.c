/* test_http_reader.c: one HTTP/1.1 request at a time from a byte stream:
 * complete requests in any split, pipelined bytes left for the next one,
 * the header and body limits (431, 413), bad syntax (400), the headers the
 * web transports need, keep-alive rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "transport/http_reader.h"

static size_t feed_all(http_reader *r, const char *s)
{
    return http_reader_feed(r, s, strlen(s));
}

static void test_simple_get(void **state)
{
    http_reader r;
    http_reader_init(&r, 1000);
    const char *req = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nOrigin: http://o.example\r\n\r\n";
    assert_int_equal(feed_all(&r, req), strlen(req));
    assert_true(r.complete);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.method, HTTP_GET);
    assert_true(r.keep_alive);
    char path[64];
    http_reader_path(&r, path, sizeof path);
    assert_string_equal(path, "/metrics");
    assert_string_equal(r.origin, "http://o.example");
    http_reader_free(&r);
}

static void test_byte_by_byte_post(void **state)
{
    http_reader r;
    http_reader_init(&r, 1000);
    const char *req = "POST /http-bind/ HTTP/1.1\r\nContent-Length: 5\r\nX-Forwarded-For: 192.0.2.7\r\n"
                      "Cookie: ID=abc\r\n\r\nhello";
    for (size_t i = 0; req[i]; i++) {
        assert_false(r.complete);
        assert_int_equal(http_reader_feed(&r, req + i, 1), 1);
    }
    assert_true(r.complete);
    assert_int_equal(r.method, HTTP_POST);
    assert_int_equal(r.body.len, 5);
    assert_memory_equal(r.body.data, "hello", 5);
    assert_string_equal(r.forwarded_for, "192.0.2.7");
    assert_string_equal(r.cookie, "ID=abc");
    http_reader_free(&r);
}

static void test_pipelined_requests_one_at_a_time(void **state)
{
    http_reader r;
    http_reader_init(&r, 1000);
    const char *two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t used = feed_all(&r, two);
    assert_true(r.complete);
    assert_true(used < strlen(two));
    char path[16];
    http_reader_path(&r, path, sizeof path);
    assert_string_equal(path, "/a");
    assert_int_equal(http_reader_feed(&r, two + used, strlen(two) - used), 0);  /* waits */
    http_reader_next(&r);
    size_t used2 = http_reader_feed(&r, two + used, strlen(two) - used);
    assert_true(r.complete);
    assert_int_equal(used + used2, strlen(two));
    http_reader_path(&r, path, sizeof path);
    assert_string_equal(path, "/b");
    http_reader_free(&r);
}

static void test_body_limit(void **state)
{
    http_reader r;
    http_reader_init(&r, 10);
    feed_all(&r, "POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\n");
    assert_int_equal(r.error, 413);
    http_reader_free(&r);
    /* chunked: counted as it arrives */
    http_reader_init(&r, 10);
    feed_all(&r, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n");
    assert_int_equal(r.error, 413);
    http_reader_free(&r);
    /* exactly the limit is fine */
    http_reader_init(&r, 10);
    feed_all(&r, "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789");
    assert_true(r.complete);
    assert_int_equal(r.error, 0);
    http_reader_free(&r);
}

static void test_header_limit(void **state)
{
    http_reader r;
    http_reader_init(&r, 10);
    char *big = malloc(HTTP_MAX_HEADER + 100);
    int n = snprintf(big, 64, "GET / HTTP/1.1\r\nX-Big: ");
    memset(big + n, 'a', HTTP_MAX_HEADER);
    big[n + HTTP_MAX_HEADER] = 0;
    feed_all(&r, big);
    assert_int_equal(r.error, 431);
    http_reader_free(&r);
    /* a long URL counts too */
    http_reader_init(&r, 10);
    memcpy(big, "GET /", 5);
    memset(big + 5, 'u', HTTP_MAX_HEADER);
    big[5 + HTTP_MAX_HEADER] = 0;
    feed_all(&r, big);
    assert_int_equal(r.error, 431);
    http_reader_free(&r);
    free(big);
}

static void test_bad_requests(void **state)
{
    static const char *bad[] = {
        "THIS IS NOT HTTP\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_reader r;
        http_reader_init(&r, 100);
        feed_all(&r, bad[i]);
        assert_int_equal(r.error, 400);
        assert_non_null(r.why);
        assert_false(r.complete);
        http_reader_free(&r);
    }
}

static void test_keep_alive_rules(void **state)
{
    http_reader r;
    http_reader_init(&r, 100);
    feed_all(&r, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_false(r.keep_alive);
    http_reader_free(&r);
    http_reader_init(&r, 100);
    feed_all(&r, "GET / HTTP/1.0\r\n\r\n");
    assert_false(r.keep_alive);
    http_reader_free(&r);
    http_reader_init(&r, 100);
    feed_all(&r, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_true(r.keep_alive);
    http_reader_free(&r);
}

static void test_websocket_upgrade_headers(void **state)
{
    http_reader r;
    http_reader_init(&r, 100);
    const char *req = "GET /xmpp-websocket/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n"
                      "Sec-WebSocket-Protocol: xmpp\r\n\r\n\x81\x85";
    size_t used = feed_all(&r, req);
    assert_true(r.complete);
    assert_int_equal(r.error, 0);
    assert_int_equal(used, strlen(req) - 2);   /* the frame bytes stay for WebSocket */
    assert_string_equal(r.upgrade, "websocket");
    assert_string_equal(r.ws_key, "dGhlIHNhbXBsZSBub25jZQ==");
    assert_string_equal(r.ws_version, "13");
    assert_string_equal(r.ws_protocol, "chat, xmpp");   /* repeated headers joined */
    http_reader_free(&r);
}

/* The upload path (transport/http_upload.c): headers_done may refuse a
 * request before its body, or take the body as it arrives (no limit). */
static size_t sunk;
static int sink(void *ud, const char *at, size_t len)
{
    sunk += len;
    return sunk > 30 ? 413 : 0;
}

static int take_body(void *ud, http_reader *r)
{
    if (!strcmp(r->content_type ? r->content_type : "", "text/refused")) {
        r->why = "refused by type";
        return 403;
    }
    r->body_sink = sink;
    return 0;
}

static void test_headers_done_and_body_sink(void **state)
{
    http_reader r;
    http_reader_init(&r, 4);   /* far below the body */
    r.headers_done = take_body;
    sunk = 0;
    const char *req = "PUT /upload/x HTTP/1.1\r\nContent-Type: text/plain\r\nRange: bytes=1-2\r\n"
                      "Content-Length: 20\r\n\r\n01234567890123456789";
    assert_int_equal(feed_all(&r, req), strlen(req));
    assert_true(r.complete);
    assert_int_equal(r.error, 0);
    assert_int_equal(sunk, 20);
    assert_int_equal(r.body.len, 0);   /* nothing buffered */
    assert_string_equal(r.content_type, "text/plain");
    assert_string_equal(r.range, "bytes=1-2");
    http_reader_next(&r);
    assert_null(r.body_sink);          /* the next request buffers again */
    /* the sink refuses part-way */
    r.headers_done = take_body;
    const char *more = "PUT /upload/x HTTP/1.1\r\nContent-Length: 20\r\n\r\n01234567890123456789";
    feed_all(&r, more);
    assert_int_equal(r.error, 413);
    http_reader_free(&r);
    /* refused from the headers: no body byte is taken */
    http_reader_init(&r, 1000);
    r.headers_done = take_body;
    sunk = 0;
    const char *refused = "PUT /upload/x HTTP/1.1\r\nContent-Type: text/refused\r\n"
                          "Content-Length: 5\r\n\r\nhello";
    feed_all(&r, refused);
    assert_int_equal(r.error, 403);
    assert_string_equal(r.why, "refused by type");
    assert_int_equal(sunk, 0);
    http_reader_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_byte_by_byte_post),
        cmocka_unit_test(test_pipelined_requests_one_at_a_time),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_header_limit),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_websocket_upgrade_headers),
        cmocka_unit_test(test_headers_done_and_body_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
