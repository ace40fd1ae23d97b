/* tls_set.h: a set of server certificates (one SSL_CTX per PEM file) loaded
 * the way plucs/certfile and plucs/s2s/certfile describe them, shared by
 * tls.c (client streams) and s2s_tls.c (server-to-server streams). A set is
 * refcounted: its slot holds one reference while it is current, each SSL
 * made from it holds one (dropped by OpenSSL's ex_data free callback when
 * the SSL is freed), so a reload never cuts a live stream and the old set is
 * freed with its last stream. */
#ifndef PLUCS_TLS_SET_H
#define PLUCS_TLS_SET_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether cert carries name (for SNI and for picking a client certificate). */
typedef bool (*tls_names_fn)(X509 *cert, const char *name);

typedef struct tls_set tls_set;

/* Where the current set of one kind lives; sets made for it count in alive. */
typedef struct tls_slot {
    pthread_mutex_t lock;
    tls_set *current;
    int alive;
} tls_slot;
#define TLS_SLOT_INIT { PTHREAD_MUTEX_INITIALIZER, NULL, 0 }

/* Loads space-separated PEM files (each key and chain in one file, or X.pem
 * with X.key beside it) into a new set for slot, one SSL_CTX per file made
 * with method, TLS 1.2 or newer; SNI picks the context whose certificate
 * names match (names; the first file is the default). A file whose leaf
 * has the same subject and subjectAltName as an earlier one but another key
 * type (RSA beside ECDSA) joins that file's context instead: OpenSSL then
 * serves each client the type it supports. No session tickets (tls.c turns
 * them on for client streams, tls_ticket.h), no session cache, no early
 * data. key names the registry variable in error messages (a private key
 * that does not belong to its certificate is said so, with both files).
 * NULL with a one-line reason in err.
 * The caller may configure the contexts further before installing. */
tls_set *tls_set_load(tls_slot *slot, const char *certfiles, const char *key,
                      const SSL_METHOD *method, tls_names_fn names, char *err, size_t errlen);
size_t tls_set_count(const tls_set *s);
SSL_CTX *tls_set_ctx(const tls_set *s, size_t i);
X509 *tls_set_cert(const tls_set *s, size_t i);
/* Frees a set that was never installed. */
void tls_set_discard(tls_set *s);

/* Makes s current in its slot (taking over the caller's reference); the
 * previous set is freed when no SSL uses it any more. s NULL = none. */
void tls_slot_install(tls_slot *slot, tls_set *s);
/* A new SSL from context `which` of the slot's current set, holding a
 * reference to that set; which(s, ud) picks the context (NULL = the first).
 * NULL when no set is current. */
SSL *tls_slot_new_ssl(tls_slot *slot, size_t (*which)(const tls_set *s, const void *ud),
                      const void *ud);
bool tls_slot_available(tls_slot *slot);
int tls_slot_alive(tls_slot *slot);

#endif
