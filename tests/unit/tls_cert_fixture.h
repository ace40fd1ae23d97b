/* tls_cert_fixture.h: the TLS unit tests need a server certificate; this
 * writes a self-signed P-256 one (CN a.test, valid for an hour) with its
 * key into one new PEM file, named from template (mkstemp: ends in XXXXXX).
 * Included by the test files that load it into tls.c; they unlink it. */
#ifndef PLUCS_TLS_CERT_FIXTURE_H
#define PLUCS_TLS_CERT_FIXTURE_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

static void tls_cert_fixture(char *path, size_t len, const char *template_)
{
    snprintf(path, len, "%s", template_);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"a.test", -1, -1, 0);
    X509_set_issuer_name(x, n);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(PEM_write_X509(f, x), 1);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

#endif
