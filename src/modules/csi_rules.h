/* csi_rules.h: what a client that said it is inactive (XEP-0352) may wait
 * for. Pure, so unit tests cover it; mod_csi.c holds and flushes. */
#ifndef PLUCS_CSI_RULES_H
#define PLUCS_CSI_RULES_H

#include "xml/xml.h"

#define NS_CSI "urn:xmpp:csi:0"

typedef enum {
    CSI_URGENT = 0,   /* deliver now (after what is held, in order) */
    CSI_PRESENCE,     /* availability update: hold, only the latest per sender */
    CSI_CHATSTATE,    /* a message with only a XEP-0085 chat state: hold */
} csi_kind;

/* Held: presence without type or of type unavailable; a message without
 * <body/> whose payload is a chat state (besides <thread/>, XEP-0359 ids,
 * XEP-0334 hints, delay), also inside a carbon (XEP-0280). Urgent:
 * everything else: messages with a body (chat, groupchat...), iq,
 * subscription presence, errors. */
csi_kind csi_classify(const xnode *st);

#endif
