/* privacy_match.c: which item of a privacy list decides a stanza
 * (XEP-0016 1.7 §2.1, §2.2): items in ascending order, the first one that
 * matches the other party and covers the stanza's kind decides; no such
 * item lets the stanza through. Pure code (unit-tested). */
#include "modules/privacy.h"

#include <string.h>

static bool eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool privacy_jid_matches(const jid *item, const jid *addr)
{
    if (!item || !addr || !item->domain || !addr->domain || !eq(item->domain, addr->domain))
        return false;
    if (item->node) {
        if (!eq(item->node, addr->node))
            return false;
        return !item->resource || eq(item->resource, addr->resource);
    }
    if (item->resource)
        return !addr->node && eq(item->resource, addr->resource);
    return true;    /* the domain: itself and every JID at it */
}

static bool item_matches(const privacy_item *it, const privacy_contact *c)
{
    switch (it->type) {
    case PRIV_FALL:
        return true;
    case PRIV_JID:
        return privacy_jid_matches(&it->j, c->addr);
    case PRIV_SUB:
        return it->sub == c->sub;
    case PRIV_GROUP:
        for (size_t i = 0; i < c->ngroups; i++)
            if (c->groups[i] && !strcmp(c->groups[i], it->value))
                return true;
        return false;
    }
    return false;
}

bool privacy_list_allows(const privacy_list *l, const privacy_contact *c, unsigned kind)
{
    if (!l)
        return true;
    for (size_t i = 0; i < l->n; i++) {
        const privacy_item *it = &l->items[i];
        if (it->kinds && !(it->kinds & kind))
            continue;
        if (item_matches(it, c))
            return it->allow;
    }
    return true;
}
