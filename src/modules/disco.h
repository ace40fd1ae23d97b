/* disco.h: what mod_disco answers about the server, for the modules that
 * describe the same thing another way (caps.h hashes it). */
#ifndef PLUCS_DISCO_H
#define PLUCS_DISCO_H

#include <stdbool.h>

#include "router/session.h"
#include "xml/xml.h"

#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

/* The server's disco#info <query/>: identity and every feature. New node. */
xnode *disco_server_info(void);

/* Nodes of the server JID that another module answers (XEP-0050's command
 * list and its commands). info/items fill q (the <query/> of the result,
 * its node attribute already set) for requester s and return true, or
 * return false when node is not theirs; to is the served domain asked.
 * Registered from a module's init (at most DISCO_MAX_NODES). */
#define DISCO_MAX_NODES 4
typedef bool (*disco_node_fn)(session *s, const char *to, const char *node, xnode *q);
void disco_add_node_handler(disco_node_fn info, disco_node_fn items);

#endif
