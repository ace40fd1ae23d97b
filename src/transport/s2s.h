/* s2s.h: federation, the server-to-server transport (RFC 6120 over TCP
 * with STARTTLS or direct TLS, SASL EXTERNAL / XEP-0178, Server Dialback /
 * XEP-0220). To the router a remote domain is one more route: stanzas for a
 * domain this server does not serve go to s2s_send(); stanzas a peer
 * authenticated for its domain come in through router_from_remote(). */
#ifndef PLUCS_S2S_H
#define PLUCS_S2S_H

#include <stdbool.h>

#include "xml/xml.h"

/* A stanza (from: a local JID, to: a JID of a domain not served here),
 * from any worker thread. Ownership passes when it returns true: the stanza
 * is queued for the peer, and bounced to its sender later when the peer
 * cannot be reached. false when federation is off (plucs/s2s=false): st is
 * not taken and the caller bounces it. */
bool s2s_send(xnode *st);

#endif
