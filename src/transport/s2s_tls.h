/* s2s_tls.h: TLS for server-to-server streams. Our certificates come from
 * plucs/s2s/certfile (same formats as plucs/certfile; SNI picks the one for
 * the local domain); peers are verified against plucs/s2s/cafile or the
 * system's CA store and matched to their domain as RFC 6125 says (SAN
 * dNSName with wildcards, SRV-ID _xmpp-server.DOMAIN; the CN only when the
 * certificate has no such SAN). TLS 1.2 or newer, both directions. */
#ifndef PLUCS_S2S_TLS_H
#define PLUCS_S2S_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* Loads certfiles and the trust store (cafile "" = system default); on
 * success installs them for new streams and returns 0; -1 with a one-line
 * reason naming the file in err (the current set stays). */
int s2s_tls_load(const char *certfiles, const char *cafile, char *err, size_t errlen);
bool s2s_tls_available(void);
/* A new SSL for an incoming stream (STARTTLS or direct TLS; SNI selects the
 * local domain's certificate), or NULL when none is loaded. The peer's
 * certificate is requested but not required. */
SSL *s2s_tls_accept_ssl(void);
/* A new SSL for an outgoing stream from local_domain to remote_domain: SNI =
 * remote_domain, our certificate for local_domain presented as client
 * certificate. NULL when none is loaded. */
SSL *s2s_tls_connect_ssl(const char *local_domain, const char *remote_domain);
/* After the handshake: whether the peer's certificate chain verified
 * against the trust store and names domain (RFC 6125). why gets the reason
 * when not (e.g. "self-signed certificate", "certificate names b.test, not
 * a.test", "no certificate"). */
bool s2s_tls_peer_verified(SSL *ssl, const char *domain, char *why, size_t whylen);
/* Pure matching, for tests: whether cert names domain per RFC 6125. */
struct x509_st;
bool s2s_cert_names(struct x509_st *cert, const char *domain);
void s2s_tls_shutdown(void);
/* Certificate sets alive: the current one plus older ones still used by
 * streams (for tests). */
int s2s_tls_sets_alive(void);

#endif
