/* tls_cb.c: channel-binding data (see tls_cb.h) from OpenSSL. */
#include "transport/tls_cb.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <string.h>

/* RFC 5929 §4.1: the certificate's signature hash, except MD5 and SHA-1
 * (and unknown ones) become SHA-256. */
static const EVP_MD *endpoint_md(X509 *cert)
{
    int md_nid = NID_undef;
    if (!OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, NULL))
        return EVP_sha256();
    if (md_nid == NID_sha384)
        return EVP_sha384();
    if (md_nid == NID_sha512)
        return EVP_sha512();
    return EVP_sha256();
}

int tls_cb_data(SSL *ssl, ht_cb cb, unsigned char out[TLS_CB_MAX])
{
    if (cb == HT_NONE)
        return 0;
    if (!ssl || !SSL_is_init_finished(ssl))
        return -1;
    int version = SSL_version(ssl);
    switch (cb) {
    case HT_ENDP: {
        X509 *cert = SSL_get_certificate(ssl);
        unsigned int n = 0;
        if (!cert || !X509_digest(cert, endpoint_md(cert), out, &n) || n > TLS_CB_MAX)
            return -1;
        return (int)n;
    }
    case HT_UNIQ: {
        if (version >= TLS1_3_VERSION)
            return -1;
        /* The first Finished of the handshake: the client's on a full
         * handshake, ours on a resumed one. */
        size_t n = SSL_session_reused(ssl) ? SSL_get_finished(ssl, out, TLS_CB_MAX)
                                           : SSL_get_peer_finished(ssl, out, TLS_CB_MAX);
        return n > 0 && n <= TLS_CB_MAX ? (int)n : -1;
    }
    case HT_EXPR: {
        static const char label[] = "EXPORTER-Channel-Binding";
        if (version < TLS1_3_VERSION)
            return -1;
        if (SSL_export_keying_material(ssl, out, 32, label, sizeof label - 1, NULL, 0, 0) != 1)
            return -1;
        return 32;
    }
    default:
        return -1;
    }
}

bool tls_cb_available(SSL *ssl, ht_cb cb)
{
    unsigned char tmp[TLS_CB_MAX];
    int n = tls_cb_data(ssl, cb, tmp);
    memset(tmp, 0, sizeof tmp);
    return n >= 0;
}
