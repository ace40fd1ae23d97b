/* test_log.c: the logger (core/log.h) keeps every message on one line:
 * CR, LF, other C0 controls and DEL in a message (user input: a resource,
 * a stanza id) come out escaped, backslashes are doubled so the escapes are
 * unambiguous, UTF-8 passes unchanged, an escape is never cut in half, and
 * an over-long message is truncated to one line. log_msg is checked through
 * a pipe standing in for stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"

static void test_escape_controls(void **state)
{
    char out[128];
    const char in[] = "a\r\nb\tc\x01\x1f\x7f\\d";
    size_t n = log_escape(out, sizeof out, in, sizeof in - 1);
    assert_string_equal(out, "a\\r\\nb\\tc\\x01\\x1f\\x7f\\\\d");
    assert_int_equal(n, strlen(out));
}

static void test_escape_nul_and_utf8(void **state)
{
    char out[64];
    const char in[] = "x\0y \xc3\xa4\xe2\x82\xac";
    log_escape(out, sizeof out, in, sizeof in - 1);
    assert_string_equal(out, "x\\x00y \xc3\xa4\xe2\x82\xac");
}

static void test_escape_never_split(void **state)
{
    char out[6];   /* room for 5 characters */
    size_t n = log_escape(out, sizeof out, "ab\ncd", 5);
    assert_string_equal(out, "ab\\nc");
    assert_int_equal(n, 5);
    n = log_escape(out, sizeof out, "abcd\x01", 5);
    assert_string_equal(out, "abcd");   /* \x01 needs 4: left out whole */
    assert_int_equal(n, 4);
    n = log_escape(out, 1, "abc", 3);
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
}

/* log_msg with stderr redirected into a pipe; returns what was written. */
static char *capture(const char *msg)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    int saved = dup(STDERR_FILENO);
    dup2(p[1], STDERR_FILENO);
    close(p[1]);
    log_set_level(PLOG_INFO);
    log_msg(PLOG_WARN, "%s", msg);
    dup2(saved, STDERR_FILENO);
    close(saved);
    static char got[8192];
    size_t n = 0;
    ssize_t r;
    while ((r = read(p[0], got + n, sizeof got - 1 - n)) > 0)
        n += (size_t)r;
    close(p[0]);
    got[n] = 0;
    return got;
}

static int count_char(const char *s, char c)
{
    int n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

static void test_msg_one_line(void **state)
{
    char *got = capture("c2s: bound resource 'x\r\n2026-01-01 00:00:00.000 plucsd[crit] forged'");
    assert_int_equal(count_char(got, '\n'), 1);
    assert_int_equal(count_char(got, '\r'), 0);
    assert_non_null(strstr(got, "plucsd[warning] c2s: bound resource 'x\\r\\n2026-01-01"));
    assert_true(got[strlen(got) - 1] == '\n');
}

static void test_msg_long_is_one_line(void **state)
{
    char *big = malloc(6000);
    for (int i = 0; i < 5999; i++)
        big[i] = i % 2 ? '\n' : 'a';
    big[5999] = 0;
    char *got = capture(big);
    assert_int_equal(count_char(got, '\n'), 1);
    assert_true(got[strlen(got) - 1] == '\n');
    assert_true(strlen(got) < 4096);
    free(big);
}

/* The per-second budget: per_second lines pass, the rest are counted and
 * reported once when the next second begins (the clock is the field). */
static void test_budget(void **state)
{
    log_budget b = { 0 };
    int dropped;
    b.second = time(NULL);
    for (int i = 0; i < 3; i++) {
        assert_true(log_budget_take(&b, 3, &dropped));
        assert_int_equal(dropped, 0);
    }
    assert_false(log_budget_take(&b, 3, &dropped));
    assert_false(log_budget_take(&b, 3, &dropped));
    assert_int_equal(dropped, 0);
    b.second -= 1;   /* a new second begins */
    assert_true(log_budget_take(&b, 3, &dropped));
    assert_int_equal(dropped, 2);
    assert_true(log_budget_take(&b, 3, &dropped));
    assert_int_equal(dropped, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_controls),
        cmocka_unit_test(test_escape_nul_and_utf8),
        cmocka_unit_test(test_escape_never_split),
        cmocka_unit_test(test_msg_one_line),
        cmocka_unit_test(test_msg_long_is_one_line),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
