/* test_secret.c: secret_read (core/secret.h), the one reader of the LDAP
 * host secret file shared by plucsd and `plucs explain --offline`: a missing
 * file is an error naming it, an empty file or no path is an empty secret,
 * trailing newlines are stripped (inner ones kept), and a secret that does
 * not fit is refused instead of silently truncated. secret_check_mode warns,
 * naming the file and its mode, when the group or everyone may read it;
 * with $CREDENTIALS_DIRECTORY (systemd LoadCredential=) holding a file of
 * the secret's base name, that file is read and checked instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static void test_mode_warning(void **state)
{
    char warn[512] = "";
    write_file("s3cret\n");
    chmod(path, 0600);
    assert_int_equal(secret_check_mode(path, warn, sizeof warn), 0);
    chmod(path, 0400);
    assert_int_equal(secret_check_mode(path, warn, sizeof warn), 0);
    chmod(path, 0640);
    assert_int_equal(secret_check_mode(path, warn, sizeof warn), 1);
    assert_non_null(strstr(warn, path));
    assert_non_null(strstr(warn, "mode 0640"));
    assert_non_null(strstr(warn, "its group"));
    chmod(path, 0644);
    assert_int_equal(secret_check_mode(path, warn, sizeof warn), 1);
    assert_non_null(strstr(warn, "mode 0644"));
    assert_non_null(strstr(warn, "every local user"));
    assert_int_equal(secret_check_mode(NULL, warn, sizeof warn), 0);
    assert_int_equal(secret_check_mode("/nonexistent/plucs-secret", warn, sizeof warn), 0);
}

static void test_credentials_directory(void **state)
{
    char dir[] = "/tmp/plucs-test-cred-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cred[128];
    snprintf(cred, sizeof cred, "%s/machine.secret", dir);
    FILE *f = fopen(cred, "w");
    assert_non_null(f);
    fputs("from-credential\n", f);
    fclose(f);
    chmod(cred, 0400);
    char buf[64], err[256] = "", warn[512] = "", where[4096];

    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    /* the configured path need not exist: the credential stands in for it */
    assert_int_equal(secret_read("/etc/nonexistent/machine.secret", buf, sizeof buf, err,
                                 sizeof err), 0);
    assert_string_equal(buf, "from-credential");
    assert_string_equal(secret_path("/etc/machine.secret", where, sizeof where), cred);
    assert_int_equal(secret_check_mode("/etc/machine.secret", warn, sizeof warn), 0);
    chmod(cred, 0644);
    assert_int_equal(secret_check_mode("/etc/machine.secret", warn, sizeof warn), 1);
    assert_non_null(strstr(warn, cred));
    /* another base name is not in the directory: the path itself is read */
    write_file("plain\n");
    assert_int_equal(secret_read(path, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "plain");

    unsetenv("CREDENTIALS_DIRECTORY");
    assert_string_equal(secret_path("/etc/machine.secret", where, sizeof where),
                        "/etc/machine.secret");
    assert_int_equal(secret_read("/etc/nonexistent/machine.secret", buf, sizeof buf, err,
                                 sizeof err), -1);
    unlink(cred);
    rmdir(dir);
}

/* The unit's SetCredential=machine.secret:\n stands in for a missing
 * /etc/machine.secret: a credential of nothing but line breaks is ignored
 * and the configured path is read. */
static void test_blank_credential(void **state)
{
    char dir[] = "/tmp/plucs-test-cred-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cred[128], buf[64], err[256] = "", where[4096];
    snprintf(cred, sizeof cred, "%s/%s", dir, strrchr(path, '/') + 1);
    const char *blanks[] = { "", "\n", "\r\n" };
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    for (size_t i = 0; i < sizeof blanks / sizeof blanks[0]; i++) {
        FILE *f = fopen(cred, "w");
        assert_non_null(f);
        fputs(blanks[i], f);
        fclose(f);
        write_file("from-path\n");
        assert_string_equal(secret_path(path, where, sizeof where), path);
        assert_int_equal(secret_read(path, buf, sizeof buf, err, sizeof err), 0);
        assert_string_equal(buf, "from-path");
    }
    /* one real byte makes it the secret */
    FILE *f = fopen(cred, "w");
    assert_non_null(f);
    fputs("x\n", f);
    fclose(f);
    assert_string_equal(secret_path(path, where, sizeof where), cred);
    assert_int_equal(secret_read(path, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "x");
    unsetenv("CREDENTIALS_DIRECTORY");
    unlink(cred);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_no_path),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credentials_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blank_credential, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
