/* s2s_certname.h: internals of RFC 6125 name matching shared by s2s_tls.c
 * (s2s_cert_names itself is declared in s2s_tls.h). */
#ifndef PLUCS_S2S_CERTNAME_H
#define PLUCS_S2S_CERTNAME_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether a presented DNS name (maybe "*.rest") matches domain: case-
 * insensitive, a wildcard only as the whole left-most label standing for
 * exactly one label, and only above at least two labels. */
bool s2s_dns_name_matches(const char *presented, size_t plen, const char *domain);
/* The names cert presents for s2s (dNSName, SRV-ID, XmppAddr; else the CN),
 * comma-separated into buf, for log lines. */
void s2s_cert_describe(X509 *cert, char *buf, size_t len);

#endif
