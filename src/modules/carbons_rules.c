/* carbons_rules.c: XEP-0280 eligibility and the carbon wrapper, see
 * carbons_rules.h. */
#include "modules/carbons_rules.h"

#include <string.h>

#define NS_CHATSTATES "http://jabber.org/protocol/chatstates"
#define NS_RECEIPTS "urn:xmpp:receipts"
#define NS_MARKERS "urn:xmpp:chat-markers:0"

static bool has_im_payload(const xnode *msg)
{
    for (const xnode *c = xnode_first_element(msg); c; c = xnode_next_element(c))
        if (!strcmp(c->ns, NS_CHATSTATES) || !strcmp(c->ns, NS_RECEIPTS) ||
            !strcmp(c->ns, NS_MARKERS))
            return true;
    return false;
}

bool carbons_eligible(const xnode *msg)
{
    if (!msg || !msg->name || strcmp(msg->name, "message"))
        return false;
    if (xnode_child(msg, "private", NS_CARBONS) || xnode_child(msg, "no-copy", NS_HINTS) ||
        xnode_child(msg, "sent", NS_CARBONS) || xnode_child(msg, "received", NS_CARBONS))
        return false;
    const char *type = xnode_attr(msg, "type");
    if (!type || !*type)
        type = "normal";
    if (!strcmp(type, "chat") || !strcmp(type, "error"))
        return true;
    if (!strcmp(type, "normal"))
        return xnode_child(msg, "body", NULL) || has_im_payload(msg);
    return false;   /* groupchat, headline, unknown types */
}

xnode *carbons_wrap(const xnode *msg, const char *bare, bool sent)
{
    xnode *m = xnode_new("message", NS_CLIENT);
    xnode_set_attr(m, "from", bare);
    const char *type = xnode_attr(msg, "type");
    if (type)
        xnode_set_attr(m, "type", type);
    xnode *w = xnode_add_child(m, sent ? "sent" : "received", NS_CARBONS);
    xnode *f = xnode_add_child(w, "forwarded", NS_FORWARD);
    xnode *inner = xnode_copy(msg);
    xnode_set_ns(inner, NS_CLIENT);
    xnode_append(f, inner);
    return m;
}
