/* tls_ticket.h: session tickets for client TLS (plucs/tls/session_tickets).
 * A reconnecting client resumes its TLS session from a ticket instead of a
 * full handshake (no certificate signature, no key exchange with the
 * certificate's key): the largest CPU cost of a TLS login. Tickets are
 * stateless (the server keeps nothing per client); the keys that protect
 * them live only in this process's memory and rotate (see tls_ticket.c). No
 * early data (0-RTT) is ever accepted. */
#ifndef PLUCS_TLS_TICKET_H
#define PLUCS_TLS_TICKET_H

#include <openssl/ssl.h>
#include <stdbool.h>

/* How long a ticket key encrypts new tickets; a ticket is accepted while
 * its key is the current or the previous one, and a client is told to keep
 * it at most this long (the session timeout). */
#define TLS_TICKET_ROTATE_SECONDS (6 * 3600)

/* Sets ctx up for tickets (on: one ticket per handshake, this file's keys,
 * TLS 1.2 and 1.3) or without them (off: SSL_OP_NO_TICKET, none issued,
 * none accepted). In both cases no session cache and no early data. */
void tls_ticket_setup(SSL_CTX *ctx, bool on);

/* For tests: makes the next ticket operation rotate the keys as if the
 * period had passed (n times). */
void tls_ticket_age_for_test(int n);

#endif
