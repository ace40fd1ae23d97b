/* s2s_tls.c: TLS for server-to-server streams (see s2s_tls.h). FIRST CUT:
 * no certificates yet (every call says "none loaded"). */
#include "transport/s2s_tls.h"

#include <stdio.h>

int s2s_tls_load(const char *certfiles, const char *cafile, char *err, size_t errlen)
{
    (void)certfiles;
    (void)cafile;
    snprintf(err, errlen, "server-to-server TLS is not built yet");
    return -1;
}
bool s2s_tls_available(void) { return false; }
SSL *s2s_tls_accept_ssl(void) { return NULL; }
SSL *s2s_tls_connect_ssl(const char *l, const char *r)
{
    (void)l;
    (void)r;
    return NULL;
}
bool s2s_tls_peer_verified(SSL *ssl, const char *domain, char *why, size_t whylen)
{
    (void)ssl;
    (void)domain;
    snprintf(why, whylen, "no certificate");
    return false;
}
bool s2s_cert_names(struct x509_st *cert, const char *domain)
{
    (void)cert;
    (void)domain;
    return false;
}
void s2s_tls_shutdown(void) {}
