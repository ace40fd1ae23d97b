/* tls.h: the server's TLS contexts for client streams. Built from
 * plucs/certfile (one or more space-separated PEM files; each either holds
 * key and chain, or is X.pem with X.key beside it). The first certificate is
 * the default; SNI picks another when its names match. A file whose
 * certificate has the same names as an earlier one but another key type
 * (RSA and ECDSA) joins that one: OpenSSL serves each client the one it
 * supports (ECDSA is much cheaper per handshake). TLS 1.2 or newer. A
 * reload builds a new set and swaps it in for new streams; an older set is
 * freed as soon as the last TLS stream made from it is gone (refcounted). */
#ifndef PLUCS_TLS_H
#define PLUCS_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* plucs/tls/session_tickets: whether the next tls_load's contexts issue and
 * accept session tickets (tls_ticket.h). Default on. */
void tls_set_session_tickets(bool on);

/* Loads certfiles; on success installs them as current and returns 0; on
 * failure returns -1 with a one-line reason in err (current set unchanged). */
int tls_load(const char *certfiles, char *err, size_t errlen);
/* A new SSL for an accepted stream, or NULL when no certificate is loaded. */
SSL *tls_new_ssl(void);
int tls_available(void);
void tls_shutdown(void);
/* Certificate sets alive: the current one plus older ones still used by
 * streams (for tests). */
int tls_sets_alive(void);

#endif
