/* test_s2s_cert.c: server-to-server certificates (src/transport/s2s_tls.c,
 * s2s_certname.c). Certificates are made here with the OpenSSL API: a test
 * CA, leaves with SAN dNSName, wildcard, SRV-ID, XmppAddr, CN only, CN plus
 * a different SAN. s2s_cert_names is checked against RFC 6125's rules, then
 * real TLS handshakes over in-memory BIO pairs check s2s_tls_peer_verified:
 * trusted and right name, self-signed, wrong name, no client certificate,
 * SNI / client certificate selection by domain, ALPN xmpp-server, and
 * TLS older than 1.2 refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport/s2s_certname.h"
#include "transport/s2s_tls.h"

/* ---- making certificates ---- */

static EVP_PKEY *ca_key;
static X509 *ca_cert;
static char tmpdir[64];

/* SAN entries: "DNS:x", "SRV:_xmpp-server.x", "XMPP:x", "URI:x". */
static void add_san(X509 *x, const char *const *san)
{
    if (!san || !san[0])
        return;
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    for (const char *const *p = san; *p; p++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        const char *v = strchr(*p, ':') + 1;
        if (!strncmp(*p, "DNS:", 4) || !strncmp(*p, "URI:", 4)) {
            ASN1_IA5STRING *s = ASN1_IA5STRING_new();
            ASN1_STRING_set(s, v, -1);
            GENERAL_NAME_set0_value(g, !strncmp(*p, "DNS:", 4) ? GEN_DNS : GEN_URI, s);
        } else {
            bool srv = !strncmp(*p, "SRV:", 4);
            ASN1_TYPE *t = ASN1_TYPE_new();
            ASN1_STRING *s = srv ? ASN1_IA5STRING_new() : ASN1_UTF8STRING_new();
            ASN1_STRING_set(s, v, -1);
            ASN1_TYPE_set(t, srv ? V_ASN1_IA5STRING : V_ASN1_UTF8STRING, s);
            GENERAL_NAME_set0_othername(g, OBJ_nid2obj(srv ? NID_SRVName : NID_XmppAddr), t);
        }
        sk_GENERAL_NAME_push(gens, g);
    }
    assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0), 1);
    GENERAL_NAMES_free(gens);
}

/* A certificate for key with subject CN cn (NULL: none) and SAN san,
 * signed by the test CA, or self-signed when self. */
static const char *next_eku;   /* extendedKeyUsage of the next certificate, or NULL */

static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *const *san, bool self,
                       bool is_ca)
{
    static long serial = 1;
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"plucs test", -1, -1,
                               0);
    if (cn)
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, self ? n : X509_get_subject_name(ca_cert));
    if (is_ca) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (next_eku) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, ca_cert, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, next_eku);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        next_eku = NULL;
    }
    add_san(x, san);
    assert_true(X509_sign(x, self ? key : ca_key, EVP_sha256()) > 0);
    return x;
}

static X509 *leaf(const char *cn, const char *const *san)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = make_cert(k, cn, san, false, false);
    EVP_PKEY_free(k);
    return x;
}

/* Writes key + certificate (+ the CA unless self) to DIR/name.pem. */
static const char *write_pem(const char *name, EVP_PKEY *key, X509 *x, bool with_ca)
{
    static char path[8][256];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 256, "%s/%s.pem", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    if (key)
        assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(PEM_write_X509(f, x), 1);
    if (with_ca)
        assert_int_equal(PEM_write_X509(f, ca_cert), 1);
    fclose(f);
    return p;
}

/* A keypair and certificate for a test peer, kept for the handshakes. */
typedef struct {
    EVP_PKEY *key;
    X509 *cert;
    char path[256];
} peer;

static peer peer_a, peer_b, peer_self, peer_wrong, peer_srvauth, peer_email;
static char ca_path[256];

static void make_peer(peer *p, const char *name, const char *dns, bool self)
{
    const char *san[] = { dns, NULL };
    p->key = EVP_EC_gen("P-256");
    p->cert = make_cert(p->key, NULL, san, self, false);
    snprintf(p->path, sizeof p->path, "%s", write_pem(name, p->key, p->cert, !self));
}

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/plucs-s2s-cert.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    ca_key = EVP_EC_gen("P-256");
    ca_cert = make_cert(ca_key, "plucs test CA", NULL, true, true);
    snprintf(ca_path, sizeof ca_path, "%s", write_pem("ca", NULL, ca_cert, false));
    make_peer(&peer_a, "a", "DNS:a.test", false);
    make_peer(&peer_b, "b", "DNS:b.test", false);
    make_peer(&peer_self, "self", "DNS:a.test", true);
    make_peer(&peer_wrong, "wrong", "DNS:c.test", false);
    next_eku = "serverAuth";
    make_peer(&peer_srvauth, "srvauth", "DNS:e.test", false);
    next_eku = "emailProtection";
    make_peer(&peer_email, "email", "DNS:m.test", false);
    return 0;
}

static void peer_free(peer *p)
{
    EVP_PKEY_free(p->key);
    X509_free(p->cert);
}

static int teardown(void **state)
{
    s2s_tls_shutdown();
    peer_free(&peer_a);
    peer_free(&peer_b);
    peer_free(&peer_self);
    peer_free(&peer_wrong);
    peer_free(&peer_srvauth);
    peer_free(&peer_email);
    X509_free(ca_cert);
    EVP_PKEY_free(ca_key);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- RFC 6125 matching ---- */

static bool names(const char *cn, const char *const *san, const char *domain)
{
    X509 *x = leaf(cn, san);
    bool r = s2s_cert_names(x, domain);
    X509_free(x);
    return r;
}

static void test_dns_id(void **state)
{
    const char *san[] = { "DNS:a.test", "DNS:other.example", NULL };
    assert_true(names(NULL, san, "a.test"));
    assert_true(names(NULL, san, "A.Test"));
    assert_true(names(NULL, san, "a.test."));
    assert_true(names(NULL, san, "other.example"));
    assert_false(names(NULL, san, "b.test"));
    assert_false(names(NULL, san, "x.a.test"));
    assert_false(names(NULL, san, "test"));
    assert_false(names(NULL, san, ""));
}

static void test_wildcard(void **state)
{
    const char *san[] = { "DNS:*.w.test", NULL };
    assert_true(names(NULL, san, "x.w.test"));
    assert_true(names(NULL, san, "X.W.TEST"));
    assert_false(names(NULL, san, "w.test"));        /* exactly one label */
    assert_false(names(NULL, san, "y.x.w.test"));
    assert_false(names(NULL, san, "x.v.test"));
    const char *tld[] = { "DNS:*.test", NULL };      /* too wide */
    assert_false(names(NULL, tld, "a.test"));
    const char *partial[] = { "DNS:x*.w.test", "DNS:a.*.test", "DNS:*", NULL };
    assert_false(names(NULL, partial, "xy.w.test"));
    assert_false(names(NULL, partial, "a.w.test"));
    assert_false(names(NULL, partial, "test"));
    assert_false(names(NULL, partial, "*"));
    assert_true(s2s_dns_name_matches("*.w.test", 8, "q.w.test"));
    assert_false(s2s_dns_name_matches("*.w.test", 8, "*.w.test"));
}

static void test_srv_id(void **state)
{
    const char *san[] = { "SRV:_xmpp-server.s.test", "SRV:_xmpp-client.c.test", NULL };
    assert_true(names(NULL, san, "s.test"));
    assert_true(names(NULL, san, "S.TEST"));
    assert_false(names(NULL, san, "c.test"));        /* client service, not server */
    assert_false(names(NULL, san, "t.test"));
    /* an SRV-ID hides the CN */
    assert_false(names("cn.test", san, "cn.test"));
}

static void test_xmppaddr(void **state)
{
    const char *san[] = { "XMPP:x.test", "XMPP:user@y.test", NULL };
    assert_true(names(NULL, san, "x.test"));
    assert_false(names(NULL, san, "y.test"));
    assert_false(names("cn.test", san, "cn.test"));
}

static void test_cn_only_when_no_san(void **state)
{
    assert_true(names("cn.test", NULL, "cn.test"));
    assert_true(names("*.wc.test", NULL, "a.wc.test"));
    assert_false(names("cn.test", NULL, "other.test"));
    const char *san[] = { "DNS:other.test", NULL };
    assert_false(names("cn.test", san, "cn.test"));  /* never the CN when SANs exist */
    assert_true(names("cn.test", san, "other.test"));
    const char *uri[] = { "URI:xmpp:cn.test", NULL };
    assert_false(names("cn.test", uri, "cn.test"));  /* a URI-ID hides the CN too */
    assert_false(names(NULL, NULL, "cn.test"));
}

static void test_describe(void **state)
{
    const char *san[] = { "DNS:a.test", "SRV:_xmpp-server.b.test", "XMPP:c.test", NULL };
    X509 *x = leaf("cn.test", san);
    char buf[200];
    s2s_cert_describe(x, buf, sizeof buf);
    assert_string_equal(buf, "a.test, SRV:_xmpp-server.b.test, xmpp:c.test");
    X509_free(x);
    x = leaf("cn.test", NULL);
    s2s_cert_describe(x, buf, sizeof buf);
    assert_string_equal(buf, "CN=cn.test");
    X509_free(x);
}

/* ---- handshakes ---- */

/* Runs the handshake between client and server over a BIO pair (bounded);
 * true when both finished. */
static bool handshake(SSL *client, SSL *server)
{
    BIO *bc, *bs;
    assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
    SSL_set_bio(client, bc, bc);
    SSL_set_bio(server, bs, bs);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
    bool cdone = false, sdone = false;
    for (int i = 0; i < 50 && !(cdone && sdone); i++) {
        if (!cdone) {
            int r = SSL_do_handshake(client);
            if (r == 1)
                cdone = true;
            else if (SSL_get_error(client, r) != SSL_ERROR_WANT_READ)
                break;
        }
        if (!sdone) {
            int r = SSL_do_handshake(server);
            if (r == 1)
                sdone = true;
            else if (SSL_get_error(server, r) != SSL_ERROR_WANT_READ)
                break;
        }
    }
    ERR_clear_error();
    return cdone && sdone;
}

/* A plain SSL_CTX for a foreign peer presenting p (NULL: no certificate),
 * trusting the test CA. */
static SSL *foreign(const peer *p, bool server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (p) {
        assert_int_equal(SSL_CTX_use_certificate(ctx, p->cert), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey(ctx, p->key), 1);
    }
    SSL_CTX_load_verify_file(ctx, ca_path);
    SSL *ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);   /* the SSL holds it */
    return ssl;
}

static void load_ab(void)
{
    char files[600], err[512];
    snprintf(files, sizeof files, "%s %s", peer_a.path, peer_b.path);
    assert_int_equal(s2s_tls_load(files, ca_path, err, sizeof err), 0);
    assert_true(s2s_tls_available());
}

static void test_trusted_right_name(void **state)
{
    load_ab();
    /* we as a.test connect to ourselves as b.test: both ends verify */
    SSL *c = s2s_tls_connect_ssl("a.test", "b.test");
    SSL *s = s2s_tls_accept_ssl();
    assert_non_null(c);
    assert_non_null(s);
    assert_true(handshake(c, s));
    char why[256] = "";
    assert_true(s2s_tls_peer_verified(c, "b.test", why, sizeof why));
    assert_true(s2s_tls_peer_verified(s, "a.test", why, sizeof why));
    /* the same chain for another domain: the name is refused */
    assert_false(s2s_tls_peer_verified(c, "a.test", why, sizeof why));
    assert_string_equal(why, "certificate names b.test, not a.test");
    assert_true(SSL_version(c) >= TLS1_2_VERSION);
    const unsigned char *alpn;
    unsigned alpnlen;
    SSL_get0_alpn_selected(s, &alpn, &alpnlen);
    assert_int_equal(alpnlen, 11);
    assert_memory_equal(alpn, "xmpp-server", 11);
    SSL_free(c);
    SSL_free(s);
}

static void test_sni_and_client_cert_selection(void **state)
{
    load_ab();
    const char *pairs[][2] = { { "a.test", "b.test" }, { "b.test", "a.test" },
                               { "unknown.test", "a.test" } };
    for (int i = 0; i < 3; i++) {
        SSL *c = s2s_tls_connect_ssl(pairs[i][0], pairs[i][1]);
        SSL *s = s2s_tls_accept_ssl();
        assert_true(handshake(c, s));
        assert_string_equal(SSL_get_servername(s, TLSEXT_NAMETYPE_host_name), pairs[i][1]);
        /* the server presented the remote domain's certificate */
        assert_true(s2s_cert_names(SSL_get0_peer_certificate(c), pairs[i][1]));
        /* the client presented the local domain's one (default: the first) */
        const char *want = i == 2 ? "a.test" : pairs[i][0];
        assert_true(s2s_cert_names(SSL_get0_peer_certificate(s), want));
        SSL_free(c);
        SSL_free(s);
    }
    /* no SNI from a foreign client: the default (first) certificate */
    SSL *c = foreign(NULL, false);
    SSL *s = s2s_tls_accept_ssl();
    assert_true(handshake(c, s));
    assert_true(s2s_cert_names(SSL_get0_peer_certificate(c), "a.test"));
    SSL_free(c);
    SSL_free(s);
}

static void test_self_signed_refused(void **state)
{
    load_ab();
    char why[256] = "";
    /* a self-signed client */
    SSL *c = foreign(&peer_self, false);
    SSL *s = s2s_tls_accept_ssl();
    assert_true(handshake(c, s));   /* the handshake goes on ... */
    assert_false(s2s_tls_peer_verified(s, "a.test", why, sizeof why));   /* ... the check does not */
    assert_non_null(strstr(why, "self"));
    SSL_free(c);
    SSL_free(s);
    /* a self-signed server */
    c = s2s_tls_connect_ssl("b.test", "a.test");
    s = foreign(&peer_self, true);
    assert_true(handshake(c, s));
    assert_false(s2s_tls_peer_verified(c, "a.test", why, sizeof why));
    assert_non_null(strstr(why, "self"));
    SSL_free(c);
    SSL_free(s);
}

static void test_wrong_name_refused(void **state)
{
    load_ab();
    char why[256] = "";
    SSL *c = foreign(&peer_wrong, false);
    SSL *s = s2s_tls_accept_ssl();
    assert_true(handshake(c, s));
    assert_false(s2s_tls_peer_verified(s, "a.test", why, sizeof why));
    assert_string_equal(why, "certificate names c.test, not a.test");
    assert_true(s2s_tls_peer_verified(s, "c.test", why, sizeof why));
    SSL_free(c);
    SSL_free(s);
}

static void test_no_client_certificate(void **state)
{
    load_ab();
    char why[256] = "";
    SSL *c = foreign(NULL, false);
    SSL *s = s2s_tls_accept_ssl();
    assert_true(handshake(c, s));   /* requested, not required */
    assert_false(s2s_tls_peer_verified(s, "a.test", why, sizeof why));
    assert_string_equal(why, "no certificate");
    SSL_free(c);
    SSL_free(s);
}

static void test_untrusted_with_other_ca(void **state)
{
    /* with the system store instead of the test CA, a.test is unknown */
    char err[512];
    char files[600];
    snprintf(files, sizeof files, "%s %s", peer_a.path, peer_b.path);
    assert_int_equal(s2s_tls_load(files, "", err, sizeof err), 0);
    SSL *c = s2s_tls_connect_ssl("a.test", "b.test");
    SSL *s = s2s_tls_accept_ssl();
    assert_true(handshake(c, s));
    char why[256] = "";
    assert_false(s2s_tls_peer_verified(c, "b.test", why, sizeof why));
    /* the chain ends in the test CA, which the system does not trust */
    assert_string_equal(why, "self-signed certificate in certificate chain");   /* unable to get local issuer certificate */
    SSL_free(c);
    SSL_free(s);
}

/* A client certificate with serverAuth only (what Let's Encrypt issues) is
 * fine for s2s; one for e-mail only is not. */
static void test_key_usage(void **state)
{
    load_ab();
    char why[256] = "";
    SSL *c = foreign(&peer_srvauth, false);
    SSL *s = s2s_tls_accept_ssl();
    assert_true(handshake(c, s));
    assert_true(s2s_tls_peer_verified(s, "e.test", why, sizeof why));
    SSL_free(c);
    SSL_free(s);
    c = foreign(&peer_email, false);
    s = s2s_tls_accept_ssl();
    assert_true(handshake(c, s));
    assert_false(s2s_tls_peer_verified(s, "m.test", why, sizeof why));
    assert_string_equal(why, "certificate not for TLS (extended key usage)");
    SSL_free(c);
    SSL_free(s);
}

static void test_tls11_refused(void **state)
{
    load_ab();
    SSL *c = foreign(NULL, false);
    SSL_set_min_proto_version(c, TLS1_VERSION);
    SSL_set_max_proto_version(c, TLS1_1_VERSION);
    SSL_set_security_level(c, 0);
    SSL *s = s2s_tls_accept_ssl();
    assert_false(handshake(c, s));
    SSL_free(c);
    SSL_free(s);
}

static void test_load_errors_and_sets(void **state)
{
    char err[512];
    load_ab();
    assert_int_equal(s2s_tls_sets_alive(), 1);
    SSL *old = s2s_tls_accept_ssl();
    load_ab();
    assert_int_equal(s2s_tls_sets_alive(), 2);   /* old lives while its stream does */
    SSL_free(old);
    assert_int_equal(s2s_tls_sets_alive(), 1);

    assert_int_equal(s2s_tls_load(peer_a.path, "/nonexistent/ca.pem", err, sizeof err), -1);
    assert_non_null(strstr(err, "plucs/s2s/cafile"));
    assert_non_null(strstr(err, "/nonexistent/ca.pem"));
    assert_int_equal(s2s_tls_load("/nonexistent/x.pem", ca_path, err, sizeof err), -1);
    assert_non_null(strstr(err, "plucs/s2s/certfile"));
    assert_int_equal(s2s_tls_load("", ca_path, err, sizeof err), -1);
    assert_non_null(strstr(err, "plucs/s2s/certfile"));
    assert_int_equal(s2s_tls_sets_alive(), 1);   /* failures change nothing */
    assert_true(s2s_tls_available());

    s2s_tls_shutdown();
    assert_false(s2s_tls_available());
    assert_null(s2s_tls_accept_ssl());
    assert_null(s2s_tls_connect_ssl("a.test", "b.test"));
    assert_int_equal(s2s_tls_sets_alive(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_id),
        cmocka_unit_test(test_wildcard),
        cmocka_unit_test(test_srv_id),
        cmocka_unit_test(test_xmppaddr),
        cmocka_unit_test(test_cn_only_when_no_san),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_trusted_right_name),
        cmocka_unit_test(test_sni_and_client_cert_selection),
        cmocka_unit_test(test_self_signed_refused),
        cmocka_unit_test(test_wrong_name_refused),
        cmocka_unit_test(test_no_client_certificate),
        cmocka_unit_test(test_untrusted_with_other_ca),
        cmocka_unit_test(test_key_usage),
        cmocka_unit_test(test_tls11_refused),
        cmocka_unit_test(test_load_errors_and_sets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
