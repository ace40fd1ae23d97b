/* csi_rules.c: XEP-0352 classification of stanzas for an inactive client,
 * see csi_rules.h. */
#include "modules/csi_rules.h"

#include <string.h>

#define NS_CHATSTATES "http://jabber.org/protocol/chatstates"
#define NS_CARBONS "urn:xmpp:carbons:2"
#define NS_FORWARD "urn:xmpp:forward:0"

/* Elements a pure chat-state message may carry besides the state. */
static bool incidental(const xnode *c)
{
    return !strcmp(c->name, "thread") || !strcmp(c->ns, "urn:xmpp:sid:0") ||
           !strcmp(c->ns, "urn:xmpp:hints") || !strcmp(c->ns, "urn:xmpp:delay");
}

static bool only_chatstate(const xnode *msg, int depth)
{
    const char *type = xnode_attr(msg, "type");
    if (type && !strcmp(type, "error"))
        return false;
    bool state = false;
    for (const xnode *c = xnode_first_element(msg); c; c = xnode_next_element(c)) {
        if (!strcmp(c->ns, NS_CHATSTATES)) {
            state = true;
        } else if (!strcmp(c->ns, NS_CARBONS) && depth == 0 &&
                   (!strcmp(c->name, "sent") || !strcmp(c->name, "received"))) {
            const xnode *f = xnode_child(c, "forwarded", NS_FORWARD);
            const xnode *inner = f ? xnode_child(f, "message", NULL) : NULL;
            if (!inner || !only_chatstate(inner, 1))
                return false;
            state = true;
        } else if (!incidental(c)) {
            return false;   /* a body, or any other payload */
        }
    }
    return state;
}

csi_kind csi_classify(const xnode *st)
{
    if (!st || !st->name)
        return CSI_URGENT;
    if (!strcmp(st->name, "presence")) {
        const char *type = xnode_attr(st, "type");
        return !type || !strcmp(type, "unavailable") ? CSI_PRESENCE : CSI_URGENT;
    }
    if (!strcmp(st->name, "message"))
        return only_chatstate(st, 0) ? CSI_CHATSTATE : CSI_URGENT;
    return CSI_URGENT;
}
