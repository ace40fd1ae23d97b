/* presence.h: presence (RFC 6121 §4) and subscriptions (§3): broadcasts to
 * shared and subscribed contacts, probes answered from the routing table,
 * directed presence tracked per session, unavailable when a session ends
 * for any reason; and offline messages (XEP-0160 semantics with XEP-0203
 * delay stamps). */
#ifndef PLUCS_PRESENCE_H
#define PLUCS_PRESENCE_H

#include <stdbool.h>

#include "router/session.h"
#include "xml/xml.h"

/* A presence without 'to' from session s; takes ownership. */
void presence_outbound(session *s, xnode *st);
/* A presence with 'to' from session s (directed or subscription); takes
 * ownership. */
void presence_directed(session *s, xnode *st);
/* A subscription stanza (subscribe...unsubscribed) from s; st borrowed. */
void presence_subscription_out(session *s, const xnode *st);

/* Offline storage of a message for bare (an account with no available
 * resource); takes ownership. Pauses the sending session until the store
 * committed (router_origin()). */
void offline_store(xnode *st, const char *bare);
/* Delivers s's stored messages (after its initial presence). */
void offline_deliver(session *s);

void mod_offline_init(void);

#endif
