/* poll.h: HTTP polling (XEP-0025, obsolete, named by the manual) as a
 * transport of client streams. Each POST carries "ID;KEY[;NEWKEY],DATA"
 * where DATA is the next piece of the client's XML stream; the answer is
 * whatever the server queued, and the identifier comes back as the ID
 * cookie. A session lives on one worker (its identifier names it) and owns
 * an xmpp_stream like any TCP stream. */
#ifndef PLUCS_POLL_H
#define PLUCS_POLL_H

#include <stdbool.h>
#include <stddef.h>

#include "transport/http.h"

/* secure: the request counts as encrypted (HTTPS or the loopback proxy). */
void poll_request(const http_ref *ref, const char *body, size_t len, const char *cookie,
                  const char *peer, bool secure);
void poll_worker_cleanup(void);

/* base64(sha1(key)) == expected: the XEP-0025 key sequence check. */
int poll_key_matches(const char *key, const char *expected);

#endif
