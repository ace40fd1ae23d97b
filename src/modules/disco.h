/* disco.h: what mod_disco answers about the server, for the modules that
 * describe the same thing another way (caps.h hashes it). */
#ifndef PLUCS_DISCO_H
#define PLUCS_DISCO_H

#include "xml/xml.h"

#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

/* The server's disco#info <query/>: identity and every feature. New node. */
xnode *disco_server_info(void);

/* A feature of every account's bare JID (disco#info to user@domain, e.g.
 * urn:xmpp:push:0), advertised while on() (NULL: always) says it works
 * under the current configuration. From a module's init only. */
#include <stdbool.h>
void disco_add_account_feature(const char *var, bool (*on)(void));

#endif
