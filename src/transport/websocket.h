/* websocket.h: XMPP over WebSocket (RFC 7395) as a transport of client
 * streams. http.c validates the upgrade request (the xmpp sub-protocol,
 * version 13, allowed origin) and writes the 101 answer, then hands the
 * connection here; wslay does the framing (fragments, masking, ping/pong,
 * close codes, the message size limit) and every text message is exactly
 * one XML element: <open/>, a stanza, or <close/>. */
#ifndef PLUCS_WEBSOCKET_H
#define PLUCS_WEBSOCKET_H

#include <stdbool.h>

#include "core/worker.h"
#include "transport/conn_limits.h"

struct bufferevent;

#define WS_PING_INTERVAL 30      /* seconds of silence before we ping */

/* Takes over bev (already switched to WebSocket) on the calling worker;
 * bytes after the handshake may already wait in its input. */
/* secure: counts as encrypted (HTTPS or the loopback proxy). */
/* slot: the pre-authentication count taken at the upgrade (may be NULL);
 * released once the stream authenticated or closed. */
void websocket_accept(worker *w, struct bufferevent *bev, const char *peer, bool secure,
                      const conn_slot *slot);

#endif
