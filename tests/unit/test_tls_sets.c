/* test_tls_sets.c: TLS contexts from earlier reloads are freed once no
 * stream uses them (refcounted sets, the SSL holding its reference): after
 * many reloads only the current set and the ones still used by a live SSL
 * are alive, and SNI on an SSL of an old set still works after reloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls_cert_fixture.h"
#include "transport/tls.h"

static char certpath[64];

static int make_cert(void **state)
{
    tls_cert_fixture(certpath, sizeof certpath, "/tmp/plucs-tls-sets-XXXXXX");
    return 0;
}

static int remove_cert(void **state)
{
    unlink(certpath);
    return 0;
}

static void test_reloads_free_unused_sets(void **state)
{
    char err[512];
    assert_int_equal(tls_load(certpath, err, sizeof err), 0);
    assert_int_equal(tls_sets_alive(), 1);
    for (int i = 0; i < 50; i++)
        assert_int_equal(tls_load(certpath, err, sizeof err), 0);
    assert_int_equal(tls_sets_alive(), 1);   /* before: 51, kept until exit */

    SSL *old = tls_new_ssl();   /* a stream of this set outlives two reloads */
    assert_non_null(old);
    assert_int_equal(tls_load(certpath, err, sizeof err), 0);
    assert_int_equal(tls_load(certpath, err, sizeof err), 0);
    assert_int_equal(tls_sets_alive(), 2);
    SSL *cur = tls_new_ssl();
    assert_int_equal(tls_sets_alive(), 2);
    SSL_free(old);
    assert_int_equal(tls_sets_alive(), 1);

    /* a failed load changes nothing */
    assert_int_equal(tls_load("/nonexistent/cert.pem", err, sizeof err), -1);
    assert_int_equal(tls_sets_alive(), 1);

    tls_shutdown();
    assert_int_equal(tls_sets_alive(), 1);   /* cur still holds it */
    assert_null(tls_new_ssl());
    SSL_free(cur);
    assert_int_equal(tls_sets_alive(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reloads_free_unused_sets),
    };
    return cmocka_run_group_tests(tests, make_cert, remove_cert);
}
