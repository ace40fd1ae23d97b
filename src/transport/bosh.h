/* bosh.h: BOSH (XEP-0124 with XEP-0206), the HTTP long-polling transport of
 * client streams. A BOSH session lives on one worker (its sid names it) and
 * owns an xmpp_stream like any TCP stream; HTTP requests for it may arrive
 * on any worker's connection and are posted to the session's worker, and
 * answers go back through http_reply(). */
#ifndef PLUCS_BOSH_H
#define PLUCS_BOSH_H

#include <stdbool.h>
#include <stddef.h>

#include "transport/http.h"

#define BOSH_MAX_WAIT 60        /* seconds a request may be held */
#define BOSH_MAX_HOLD 2
#define BOSH_POLLING 2
#define BOSH_MAXPAUSE 120

/* A POST to the BOSH URL, on the HTTP connection's worker. body is
 * borrowed. */
/* secure: the request counts as encrypted (HTTPS or the loopback proxy). */
void bosh_request(const http_ref *ref, const char *body, size_t len, const char *peer,
                  bool secure);
/* After the worker's loop ended: frees what is left. */
void bosh_worker_cleanup(void);

#endif
