/* tls_cb.h: TLS channel-binding data of a server-side connection, for the
 * HT-SHA-256-* FAST mechanisms (XEP-0484) and the XEP-0440 advertisement:
 * tls-server-end-point (RFC 5929 §4: hash of our certificate), tls-unique
 * (RFC 5929 §3: the first Finished message, TLS <= 1.2 only) and
 * tls-exporter (RFC 9266: 32 bytes of keying material, TLS 1.3 only). */
#ifndef PLUCS_TLS_CB_H
#define PLUCS_TLS_CB_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "xmpp/sasl2.h"

#define TLS_CB_MAX 64

/* Fills out (TLS_CB_MAX bytes) with the binding data of type cb for ssl;
 * returns its length, 0 for HT_NONE, -1 when the connection cannot
 * compute it (no TLS, wrong TLS version, no certificate). */
int tls_cb_data(SSL *ssl, ht_cb cb, unsigned char out[TLS_CB_MAX]);
bool tls_cb_available(SSL *ssl, ht_cb cb);

#endif
