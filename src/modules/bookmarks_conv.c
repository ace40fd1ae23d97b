/* bookmarks_conv.c: one bookmark between XEP-0402 and XEP-0048 (see
 * bookmarks_conv.h). Attributes: name, autojoin ("true"/"1" true); children
 * nick and password; XEP-0402 <extensions/> has no legacy form and is
 * dropped in that direction. */
#include "modules/bookmarks_conv.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "xmpp/jid.h"

char *bm_room_jid(const char *raw)
{
    jid j;
    if (!raw || jid_parse(raw, &j) != 0)
        return NULL;
    char *out = j.node && !j.resource ? jid_bare_string(&j) : NULL;
    jid_clear(&j);
    return out;
}

static bool truthy(const char *v)
{
    return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

/* Copies the text child `name` of from (any namespace) into to as a child
 * in namespace ns, when present and not empty. */
static void copy_text(const xnode *from, xnode *to, const char *name, const char *ns)
{
    xnode *c = xnode_child(from, name, NULL);
    char *t = c ? xnode_text(c) : NULL;
    if (t && *t)
        xnode_add_text(xnode_add_child(to, name, ns), t, strlen(t));
    free(t);
}

xnode *bm_to_pep(const xnode *legacy, char **jid_out)
{
    *jid_out = NULL;
    if (!legacy || strcmp(legacy->name, "conference") != 0)
        return NULL;
    char *room = bm_room_jid(xnode_attr(legacy, "jid"));
    if (!room)
        return NULL;
    xnode *c = xnode_new("conference", NS_BOOKMARKS2);
    const char *name = xnode_attr(legacy, "name");
    if (name && *name)
        xnode_set_attr(c, "name", name);
    xnode_set_attr(c, "autojoin", truthy(xnode_attr(legacy, "autojoin")) ? "true" : "false");
    copy_text(legacy, c, "nick", NS_BOOKMARKS2);
    copy_text(legacy, c, "password", NS_BOOKMARKS2);
    *jid_out = room;
    return c;
}

xnode *bm_from_pep(const char *item_id, const xnode *pep)
{
    if (!pep || strcmp(pep->name, "conference") != 0 || strcmp(pep->ns, NS_BOOKMARKS2) != 0)
        return NULL;
    char *room = bm_room_jid(item_id);
    if (!room)
        return NULL;
    xnode *c = xnode_new("conference", NS_BOOKMARKS_LEGACY);
    xnode_set_attr(c, "jid", room);
    free(room);
    const char *name = xnode_attr(pep, "name");
    if (name && *name)
        xnode_set_attr(c, "name", name);
    xnode_set_attr(c, "autojoin", truthy(xnode_attr(pep, "autojoin")) ? "true" : "false");
    copy_text(pep, c, "nick", NS_BOOKMARKS_LEGACY);
    copy_text(pep, c, "password", NS_BOOKMARKS_LEGACY);
    return c;
}

static bool same_text(const xnode *a, const xnode *b, const char *name)
{
    xnode *x = xnode_child(a, name, NULL), *y = xnode_child(b, name, NULL);
    char *s = x ? xnode_text(x) : NULL, *t = y ? xnode_text(y) : NULL;
    bool same = !strcmp(s ? s : "", t ? t : "");
    free(s);
    free(t);
    return same;
}

bool bm_same(const xnode *a, const xnode *b)
{
    if (!a || !b)
        return a == b;
    const char *na = xnode_attr(a, "name"), *nb = xnode_attr(b, "name");
    return !strcmp(na ? na : "", nb ? nb : "") &&
           truthy(xnode_attr(a, "autojoin")) == truthy(xnode_attr(b, "autojoin")) &&
           same_text(a, b, "nick") && same_text(a, b, "password");
}

xnode *bm_storage_build(const xnode *old, xnode *const *confs, size_t n)
{
    xnode *st = xnode_new("storage", NS_BOOKMARKS_LEGACY);
    for (size_t i = 0; i < n; i++)
        xnode_append(st, xnode_copy(confs[i]));
    for (const xnode *c = old ? xnode_first_element(old) : NULL; c; c = xnode_next_element(c))
        if (strcmp(c->name, "conference") != 0)
            xnode_append(st, xnode_copy(c));
    return st;
}
