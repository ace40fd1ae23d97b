/* test_tls_ticket.c: session tickets of client TLS (tls_ticket.c). In
 * memory (BIO pairs), a client that kept its session resumes it on the
 * next handshake (TLS 1.3 and 1.2); after one key rotation the ticket still
 * works (previous key), each TLS 1.3 resumption brings a fresh ticket (a
 * client uses one only once), after two rotations it gives a full handshake; with
 * plucs/tls/session_tickets off no ticket is issued and none resumes; the
 * server issues one TLS 1.3 ticket per handshake and never accepts early
 * data. */
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
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls_cert_fixture.h"
#include "transport/tls.h"
#include "transport/tls_ticket.h"

static char certpath[64];
static int tickets_seen;

static int make_cert(void **state)
{
    tls_cert_fixture(certpath, sizeof certpath, "/tmp/plucs-tls-ticket-XXXXXX");
    return 0;
}

static int remove_cert(void **state)
{
    tls_shutdown();
    unlink(certpath);
    return 0;
}

static int new_session(SSL *ssl, SSL_SESSION *sess)
{
    SSL_SESSION **keep = SSL_get_app_data(ssl);
    tickets_seen++;
    if (*keep)
        SSL_SESSION_free(*keep);
    *keep = sess;
    return 1;   /* we keep the reference */
}

/* One handshake between a client (offering *sess, if any) and a server SSL
 * of the current set, plus one application byte each way (so the client
 * reads the TLS 1.3 ticket). Replaces *sess with the newest session.
 * Returns whether the handshake was a resumption. */
static bool handshake(int max_version, SSL_SESSION **sess)
{
    static SSL_CTX *cctx;
    if (!cctx) {
        cctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_session_cache_mode(cctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(cctx, new_session);
    }
    SSL_CTX_set_max_proto_version(cctx, max_version);
    SSL *c = SSL_new(cctx);
    SSL *s = tls_new_ssl();
    assert_non_null(s);
    SSL_SESSION *keep = NULL;
    SSL_set_app_data(c, &keep);
    if (*sess)
        assert_int_equal(SSL_set_session(c, *sess), 1);
    BIO *cb, *sb;
    assert_int_equal(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    bool cdone = false, sdone = false;
    for (int i = 0; i < 100 && !(cdone && sdone); i++) {
        if (!cdone) {
            int r = SSL_do_handshake(c);
            cdone = r == 1;
            assert_true(r == 1 || SSL_get_error(c, r) == SSL_ERROR_WANT_READ);
        }
        if (!sdone) {
            int r = SSL_do_handshake(s);
            sdone = r == 1;
            assert_true(r == 1 || SSL_get_error(s, r) == SSL_ERROR_WANT_READ);
        }
    }
    assert_true(cdone && sdone);
    char byte = 'x';
    size_t n;
    assert_int_equal(SSL_write_ex(s, &byte, 1, &n), 1);
    assert_int_equal(SSL_read_ex(c, &byte, 1, &n), 1);
    assert_int_equal(SSL_write_ex(c, &byte, 1, &n), 1);
    assert_int_equal(SSL_read_ex(s, &byte, 1, &n), 1);
    assert_int_equal(SSL_get_max_early_data(s), 0);
    bool reused = SSL_session_reused(c);
    assert_int_equal(reused, SSL_session_reused(s));
    if (keep) {
        if (*sess)
            SSL_SESSION_free(*sess);
        *sess = keep;
    }
    /* a clean close: OpenSSL marks the session of an unclosed one unusable */
    SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c);
    SSL_free(s);
    return reused;
}

static void resumes(int version)
{
    char err[512];
    tls_set_session_tickets(true);
    assert_int_equal(tls_load(certpath, err, sizeof err), 0);
    SSL_SESSION *sess = NULL;
    tickets_seen = 0;
    assert_false(handshake(version, &sess));
    assert_non_null(sess);
    if (version == TLS1_3_VERSION)
        assert_int_equal(tickets_seen, 1);   /* SSL_CTX_set_num_tickets(1) */
    /* every reconnection resumes: TLS 1.3 tickets are used once, so each
     * resumption brings a fresh one */
    for (int i = 0; i < 3; i++) {
        tickets_seen = 0;
        assert_true(handshake(version, &sess));
        if (version == TLS1_3_VERSION)
            assert_int_equal(tickets_seen, 1);
    }
    /* one rotation: the previous key still decrypts (and a new ticket comes) */
    tls_ticket_age_for_test(1);
    assert_true(handshake(version, &sess));
    /* two rotations: the ticket's key is gone, a full handshake */
    tls_ticket_age_for_test(2);
    assert_false(handshake(version, &sess));
    assert_true(handshake(version, &sess));
    /* a reload keeps the process's keys: tickets survive it */
    assert_int_equal(tls_load(certpath, err, sizeof err), 0);
    assert_true(handshake(version, &sess));
    SSL_SESSION_free(sess);
}

static void test_tls13_resumes(void **state) { resumes(TLS1_3_VERSION); }
static void test_tls12_resumes(void **state) { resumes(TLS1_2_VERSION); }

static void off(int version)
{
    char err[512];
    tls_set_session_tickets(false);
    assert_int_equal(tls_load(certpath, err, sizeof err), 0);
    SSL_SESSION *sess = NULL;
    tickets_seen = 0;
    assert_false(handshake(version, &sess));
    if (version == TLS1_3_VERSION)
        assert_int_equal(tickets_seen, 0);
    if (sess) {
        assert_false(SSL_SESSION_has_ticket(sess));
        assert_false(handshake(version, &sess));
        SSL_SESSION_free(sess);
    }
    tls_set_session_tickets(true);
}

static void test_tls13_off(void **state) { off(TLS1_3_VERSION); }
static void test_tls12_off(void **state) { off(TLS1_2_VERSION); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls13_resumes),
        cmocka_unit_test(test_tls12_resumes),
        cmocka_unit_test(test_tls13_off),
        cmocka_unit_test(test_tls12_off),
    };
    return cmocka_run_group_tests(tests, make_cert, remove_cert);
}
