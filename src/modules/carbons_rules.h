/* carbons_rules.h: which messages get carbon copies (XEP-0280 §6) and what
 * a copy looks like. Pure (no session, no routing), so unit tests cover
 * them; mod_carbons.c decides who receives the copies. */
#ifndef PLUCS_CARBONS_RULES_H
#define PLUCS_CARBONS_RULES_H

#include <stdbool.h>

#include "xml/xml.h"

#define NS_CARBONS "urn:xmpp:carbons:2"
#define NS_FORWARD "urn:xmpp:forward:0"
#define NS_HINTS "urn:xmpp:hints"

/* XEP-0280 §6 (1.0): a chat message; a normal one with a <body/> or with an
 * IM payload (chat state, receipt, chat marker); an error (the answer to
 * such a message). Never groupchat or headline, never a message carrying
 * <private xmlns='urn:xmpp:carbons:2'/> or <no-copy xmlns='urn:xmpp:hints'/>,
 * never a carbon itself (<sent/>/<received/>). A MUC private message (type
 * chat with muc#user <x/>) is eligible. */
bool carbons_eligible(const xnode *msg);

/* The copy of msg (borrowed) for the account bare: <message from=bare
 * type=msg's><sent|received xmlns=carbons><forwarded xmlns=forward:0>
 * <message .../></forwarded></…></message>; no 'to' (delivery sets the
 * resource's full JID). */
xnode *carbons_wrap(const xnode *msg, const char *bare, bool sent);

#endif
