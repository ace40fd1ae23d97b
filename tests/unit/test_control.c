/* test_control.c: the control socket's line protocol (control_proto.c):
 * request parsing and its limits, answer framing with dot-stuffing and its
 * parser on the client side (complete, incomplete, foreign answers), and
 * the status body as JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/control.h"

static int parse(const char *text, control_request *req, char *err)
{
    static char line[4096];
    snprintf(line, sizeof line, "%s", text);
    return control_parse(line, req, err, 256);
}

static void test_parse_commands(void **state)
{
    control_request r;
    char err[256];
    assert_int_equal(parse("reload", &r, err), 0);
    assert_int_equal(r.cmd, CONTROL_RELOAD);
    assert_int_equal(r.argc, 0);
    assert_int_equal(parse("status\r", &r, err), 0);
    assert_int_equal(r.cmd, CONTROL_STATUS);
    assert_int_equal(parse("  explain\talice@a.test   bob  ", &r, err), 0);
    assert_int_equal(r.cmd, CONTROL_EXPLAIN);
    assert_int_equal(r.argc, 2);
    assert_string_equal(r.argv[0], "alice@a.test");
    assert_string_equal(r.argv[1], "bob");
    assert_int_equal(parse("matrix", &r, err), 0);
    assert_int_equal(r.cmd, CONTROL_MATRIX);
    assert_int_equal(r.argc, 0);
    assert_int_equal(parse("matrix a.test", &r, err), 0);
    assert_int_equal(r.argc, 1);
    assert_string_equal(r.argv[0], "a.test");
    assert_int_equal(parse("help", &r, err), 0);
    assert_int_equal(r.cmd, CONTROL_HELP);
    assert_non_null(strstr(control_help(), "explain FROM TO"));
}

static void test_parse_errors(void **state)
{
    control_request r;
    char err[256];
    assert_int_equal(parse("", &r, err), 1);          /* empty: nothing to answer */
    assert_int_equal(parse("   \r", &r, err), 1);
    assert_int_equal(parse("frobnicate", &r, err), -1);
    assert_string_equal(err, "unknown command 'frobnicate' (try: help)");
    assert_int_equal(parse("RELOAD", &r, err), -1);   /* commands are lower case */
    assert_int_equal(parse("reload now", &r, err), -1);
    assert_string_equal(err, "usage: reload");
    assert_int_equal(parse("explain alice", &r, err), -1);
    assert_string_equal(err, "usage: explain FROM TO");
    assert_int_equal(parse("explain a b c", &r, err), -1);
    assert_int_equal(parse("matrix a b", &r, err), -1);
    assert_string_equal(err, "usage: matrix [DOMAIN]");
    assert_int_equal(parse("status\x01", &r, err), -1);
    assert_string_equal(err, "control character in the request");
    assert_int_equal(parse("status\x7f", &r, err), -1);
    char longline[CONTROL_LINE_MAX + 10];
    memset(longline, 'x', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    assert_int_equal(parse(longline, &r, err), -1);
    assert_non_null(strstr(err, "longer than"));
    /* a very long unknown word is cut in the message */
    memset(longline, 'y', 200);
    longline[200] = '\0';
    assert_int_equal(parse(longline, &r, err), -1);
    assert_true(strlen(err) < 100);
}

static void test_reply_roundtrip(void **state)
{
    buf out;
    buf_init(&out);
    control_reply_begin(&out, NULL);
    control_reply_lines(&out, "key: value\n.hidden\n.\n\nlast");
    control_reply_end(&out);
    assert_string_equal(out.data, "ok\nkey: value\n..hidden\n..\n\nlast\n.\n");
    control_reply r;
    /* every prefix is incomplete */
    for (size_t n = 0; n < out.len; n++) {
        assert_int_equal(control_reply_parse(out.data, n, &r), 0);
        control_reply_clear(&r);
    }
    assert_int_equal(control_reply_parse(out.data, out.len, &r), (long)out.len);
    assert_true(r.ok);
    assert_null(r.error);
    assert_string_equal(r.body.data, "key: value\n.hidden\n.\n\nlast\n");
    control_reply_clear(&r);

    /* two answers back to back: the first one's length */
    size_t first = out.len;
    control_reply_begin(&out, "bad\nthing");
    control_reply_end(&out);
    assert_int_equal(control_reply_parse(out.data, out.len, &r), (long)first);
    control_reply_clear(&r);
    assert_int_equal(control_reply_parse(out.data + first, out.len - first, &r),
                     (long)(out.len - first));
    assert_false(r.ok);
    assert_string_equal(r.error, "bad thing");     /* one line, always */
    assert_null(r.body.data);
    control_reply_clear(&r);
    buf_free(&out);
}

static void test_reply_foreign(void **state)
{
    control_reply r;
    assert_int_equal(control_reply_parse("HTTP/1.1 200 OK\r\n", 17, &r), -1);
    assert_int_equal(control_reply_parse("okay\n.\n", 7, &r), -1);
    assert_int_equal(control_reply_parse("error:x\n.\n", 10, &r), -1);
    char junk[CONTROL_LINE_MAX + 2];
    memset(junk, 'j', sizeof junk);
    assert_int_equal(control_reply_parse(junk, sizeof junk, &r), -1);
    assert_int_equal(control_reply_parse("ok", 2, &r), 0);
    assert_int_equal(control_reply_parse("error: none\n.\n", 14, &r), 14);
    assert_string_equal(r.error, "none");
    control_reply_clear(&r);
}

static void test_status_json(void **state)
{
    buf out;
    buf_init(&out);
    control_status_json("version: 0.1.0\npid: 42\nuptime: 0\nneg: -3\nzero-lead: 007\n"
                        "domains: a.test b.test\nempty:\nquote: say \"hi\"\\\nnot a pair\n"
                        "big: 12345678901234567890\n", &out);
    assert_string_equal(out.data,
                        "{\n  \"version\": \"0.1.0\",\n  \"pid\": 42,\n  \"uptime\": 0,\n"
                        "  \"neg\": -3,\n  \"zero-lead\": \"007\",\n"
                        "  \"domains\": \"a.test b.test\",\n  \"empty\": \"\",\n"
                        "  \"quote\": \"say \\\"hi\\\"\\\\\",\n"
                        "  \"big\": \"12345678901234567890\"\n}\n");
    buf_reset(&out);
    control_status_json("", &out);
    assert_string_equal(out.data, "{}\n");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_commands),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_reply_roundtrip),
        cmocka_unit_test(test_reply_foreign),
        cmocka_unit_test(test_status_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
