/* stanza.c: replies and stanza errors, see stanza.h. */
#include "xmpp/stanza.h"

#include <string.h>

stanza_kind stanza_kind_of(const xnode *st)
{
    if (!st || !st->name)
        return STANZA_NONE;
    if (!strcmp(st->name, "message"))
        return STANZA_MESSAGE;
    if (!strcmp(st->name, "presence"))
        return STANZA_PRESENCE;
    if (!strcmp(st->name, "iq"))
        return STANZA_IQ;
    return STANZA_NONE;
}

xnode *iq_result(const xnode *iq)
{
    xnode *r = xnode_new("iq", iq->ns);
    xnode_set_attr(r, "type", "result");
    const char *id = xnode_attr(iq, "id");
    if (id)
        xnode_set_attr(r, "id", id);
    const char *from = xnode_attr(iq, "from");
    const char *to = xnode_attr(iq, "to");
    if (from)
        xnode_set_attr(r, "to", from);
    if (to)
        xnode_set_attr(r, "from", to);
    return r;
}

xnode *stanza_error_reply(const xnode *st, const char *type, const char *condition,
                          const char *text)
{
    const char *t = xnode_attr(st, "type");
    if (t && !strcmp(t, "error"))
        return NULL;
    xnode *r;
    if (stanza_kind_of(st) == STANZA_IQ) {
        /* An iq error carries at most the request's payload (we send none). */
        r = xnode_new("iq", st->ns);
        const char *id = xnode_attr(st, "id");
        if (id)
            xnode_set_attr(r, "id", id);
    } else {
        r = xnode_copy(st);
        xnode_set_attr(r, "from", NULL);
        xnode_set_attr(r, "to", NULL);
    }
    const char *from = xnode_attr(st, "from");
    const char *to = xnode_attr(st, "to");
    if (from)
        xnode_set_attr(r, "to", from);
    if (to)
        xnode_set_attr(r, "from", to);
    xnode_set_attr(r, "type", "error");
    xnode *e = xnode_add_child(r, "error", r->ns);
    xnode_set_attr(e, "type", type);
    xnode_add_child(e, condition, NS_STANZAS);
    if (text) {
        xnode *tx = xnode_add_child(e, "text", NS_STANZAS);
        xnode_add_text(tx, text, strlen(text));
    }
    return r;
}

xnode *iq_envelope(const xnode *iq)
{
    xnode *e = xnode_new("iq", iq->ns);
    static const char *const keep[] = { "id", "from", "to", "type" };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        xnode_set_attr(e, keep[i], xnode_attr(iq, keep[i]));
    return e;
}
