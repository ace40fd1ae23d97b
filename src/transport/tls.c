/* tls.c: server TLS contexts for client streams, see tls.h. Loading and
 * refcounting are tls_set.c's, shared with s2s_tls.c. */
#include "transport/tls.h"

#include <openssl/x509v3.h>

#include "transport/tls_set.h"
#include "transport/tls_ticket.h"

static tls_slot slot = TLS_SLOT_INIT;
static bool tickets = true;   /* plucs/tls/session_tickets, read by tls_load */

static bool names_host(X509 *cert, const char *name)
{
    return X509_check_host(cert, name, 0, 0, NULL) == 1;
}

int tls_load(const char *certfiles, char *err, size_t errlen)
{
    tls_set *s = tls_set_load(&slot, certfiles, "plucs/certfile", TLS_server_method(), names_host,
                              err, errlen);
    if (!s)
        return -1;
    for (size_t i = 0; i < tls_set_count(s); i++)
        tls_ticket_setup(tls_set_ctx(s, i), tickets);
    tls_slot_install(&slot, s);
    return 0;
}

void tls_set_session_tickets(bool on) { tickets = on; }

SSL *tls_new_ssl(void) { return tls_slot_new_ssl(&slot, NULL, NULL); }
int tls_available(void) { return tls_slot_available(&slot); }
void tls_shutdown(void) { tls_slot_install(&slot, NULL); }
int tls_sets_alive(void) { return tls_slot_alive(&slot); }
