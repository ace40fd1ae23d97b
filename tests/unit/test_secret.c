/* test_secret.c: secret_read (core/secret.h), the one reader of the LDAP
 * host secret file shared by plucsd and `plucs explain --offline`: a missing
 * file is an error naming it, an empty file or no path is an empty secret,
 * trailing newlines are stripped (inner ones kept), and a secret that does
 * not fit is refused instead of silently truncated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/secret.h"

static char path[64];

static int setup(void **state)
{
    snprintf(path, sizeof path, "/tmp/plucs-test-secret-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    unlink(path);
    return 0;
}

static void write_file(const char *content)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void test_missing(void **state)
{
    char buf[32] = "x", err[256] = "";
    assert_int_equal(secret_read("/nonexistent/plucs-secret", buf, sizeof buf, err, sizeof err), -1);
    assert_string_equal(buf, "");
    assert_non_null(strstr(err, "cannot read the secret file /nonexistent/plucs-secret"));
}

static void test_no_path(void **state)
{
    char buf[32] = "x", err[256] = "";
    assert_int_equal(secret_read(NULL, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "");
    strcpy(buf, "x");
    assert_int_equal(secret_read("", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "");
}

static void test_empty(void **state)
{
    char buf[32] = "x", err[256] = "";
    write_file("");
    assert_int_equal(secret_read(path, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "");
    write_file("\n");
    assert_int_equal(secret_read(path, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "");
}

static void test_trailing_newline(void **state)
{
    char buf[32], err[256] = "";
    write_file("s3cret\n");
    assert_int_equal(secret_read(path, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "s3cret");
    write_file("s3cret\r\n\n");
    assert_int_equal(secret_read(path, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "s3cret");
    write_file("two\nlines\n");
    assert_int_equal(secret_read(path, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "two\nlines");
    write_file(" spaces kept ");
    assert_int_equal(secret_read(path, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, " spaces kept ");
}

static void test_too_long(void **state)
{
    char buf[8], err[256] = "";
    write_file("1234567\n\n");             /* exactly fits, newlines beyond */
    assert_int_equal(secret_read(path, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "1234567");
    write_file("12345678");                /* one byte too many */
    assert_int_equal(secret_read(path, buf, sizeof buf, err, sizeof err), -1);
    assert_string_equal(buf, "");
    assert_non_null(strstr(err, "holds more than 7 bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_no_path),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
