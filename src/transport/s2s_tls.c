/* s2s_tls.c: TLS for server-to-server streams (see s2s_tls.h). Our
 * certificates are a tls_set (same loader and refcounting as c2s) whose
 * contexts serve both directions (TLS_method): accepted streams pick the
 * certificate by SNI, outgoing ones present the certificate for the local
 * domain as client certificate and send SNI = the remote domain and ALPN
 * "xmpp-server" (XEP-0368). Peers are always asked for a certificate and
 * verified against one shared trust store (plucs/s2s/cafile or the
 * system's), but the handshake never fails on it: the verify callback
 * accepts everything and s2s_tls_peer_verified() decides afterwards,
 * because dialback may still authenticate an unverified peer. */
#include "transport/s2s_tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "transport/s2s_certname.h"
#include "transport/tls_set.h"

static tls_slot slot = TLS_SLOT_INIT;

static bool names_domain(X509 *cert, const char *name) { return s2s_cert_names(cert, name); }

/* The chain's result is kept in SSL_get_verify_result; the handshake goes on. */
static int verify_accept(int preverify_ok, X509_STORE_CTX *ctx)
{
    (void)preverify_ok;
    (void)ctx;
    return 1;
}

/* XEP-0368: "xmpp-server" by ALPN, chosen when the peer offers it; a peer
 * offering something else gets no ALPN (not a failure). */
static const unsigned char alpn_xmpp_server[] = "\x0bxmpp-server";

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, alpn_xmpp_server, sizeof alpn_xmpp_server - 1, in,
                              inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static X509_STORE *trust_load(const char *cafile, char *err, size_t errlen)
{
    X509_STORE *st = X509_STORE_new();
    if (!st) {
        snprintf(err, errlen, "plucs/s2s/cafile: out of memory");
        return NULL;
    }
    int ok = cafile && *cafile ? X509_STORE_load_file(st, cafile)
                               : X509_STORE_set_default_paths(st);
    if (ok != 1) {
        unsigned long e = ERR_get_error();
        char reason[256] = "no certificates";
        if (e)
            ERR_error_string_n(e, reason, sizeof reason);
        ERR_clear_error();
        if (cafile && *cafile)
            snprintf(err, errlen, "plucs/s2s/cafile: cannot load '%s': %s", cafile, reason);
        else
            snprintf(err, errlen, "plucs/s2s/cafile: the system's CA store: %s", reason);
        X509_STORE_free(st);
        return NULL;
    }
    ERR_clear_error();
    return st;
}

int s2s_tls_load(const char *certfiles, const char *cafile, char *err, size_t errlen)
{
    X509_STORE *st = trust_load(cafile, err, errlen);
    if (!st)
        return -1;
    tls_set *s = tls_set_load(&slot, certfiles, "plucs/s2s/certfile", TLS_method(), names_domain,
                              err, errlen);
    if (!s) {
        X509_STORE_free(st);
        return -1;
    }
    for (size_t i = 0; i < tls_set_count(s); i++) {
        SSL_CTX *ctx = tls_set_ctx(s, i);
        SSL_CTX_set1_cert_store(ctx, st);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_accept);
        SSL_CTX_set_verify_depth(ctx, 10);
        /* Either end presents its server certificate, also as TLS client:
         * OpenSSL's "ssl_client" purpose would refuse the many that carry
         * only serverAuth (Let's Encrypt no longer issues clientAuth).
         * The chain is still checked (CA flags, dates, signatures); the
         * leaf's key usage is judged in s2s_tls_peer_verified. */
        SSL_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
        SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    }
    X509_STORE_free(st);   /* the contexts hold it */
    tls_slot_install(&slot, s);
    return 0;
}

bool s2s_tls_available(void) { return tls_slot_available(&slot); }

SSL *s2s_tls_accept_ssl(void)
{
    SSL *ssl = tls_slot_new_ssl(&slot, NULL, NULL);
    if (ssl)
        SSL_set_accept_state(ssl);
    return ssl;
}

static size_t pick_local(const tls_set *s, const void *ud)
{
    for (size_t i = 0; i < tls_set_count(s); i++)
        if (s2s_cert_names(tls_set_cert(s, i), ud))
            return i;
    return 0;
}

SSL *s2s_tls_connect_ssl(const char *local_domain, const char *remote_domain)
{
    SSL *ssl = tls_slot_new_ssl(&slot, local_domain ? pick_local : NULL, local_domain);
    if (!ssl)
        return NULL;
    SSL_set_connect_state(ssl);
    /* harmless on STARTTLS, expected on direct TLS (XEP-0368) */
    SSL_set_alpn_protos(ssl, alpn_xmpp_server, sizeof alpn_xmpp_server - 1);
    if (remote_domain && *remote_domain && SSL_set_tlsext_host_name(ssl, remote_domain) != 1) {
        ERR_clear_error();
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

bool s2s_tls_peer_verified(SSL *ssl, const char *domain, char *why, size_t whylen)
{
    char dummy[1];
    if (!why || !whylen) {
        why = dummy;
        whylen = sizeof dummy;
    }
    X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
    if (!cert) {
        snprintf(why, whylen, "no certificate");
        return false;
    }
    long r = SSL_get_verify_result(ssl);
    if (r != X509_V_OK) {
        snprintf(why, whylen, "%s", X509_verify_cert_error_string(r));
        return false;
    }
    if ((X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) &&
        !(X509_get_extended_key_usage(cert) & (XKU_SSL_SERVER | XKU_SSL_CLIENT))) {
        snprintf(why, whylen, "certificate not for TLS (extended key usage)");
        return false;
    }
    if (!s2s_cert_names(cert, domain)) {
        char names[200];
        s2s_cert_describe(cert, names, sizeof names);
        snprintf(why, whylen, "certificate names %s, not %s", names, domain ? domain : "");
        return false;
    }
    return true;
}

void s2s_tls_shutdown(void) { tls_slot_install(&slot, NULL); }

int s2s_tls_sets_alive(void) { return tls_slot_alive(&slot); }
