/* xnode.c: the stanza tree (see xml.h). Every element and text node owns its
 * strings, except namespaces, which are shared references (xml_ns.c); a
 * node owns its children. The stream parser builds these trees,
 * the router and modules inspect and edit them, the serializer writes them.
 * Allocation failure aborts, as in buf.c. */
#include "xml/xml.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

xnode *xnode_new(const char *name, const char *ns)
{
    xnode *n = xcalloc(1, sizeof *n);
    n->name = xstrdup(name ? name : "");
    n->ns = ns ? xns_new(ns, strlen(ns)) : xns_new("", 0);
    return n;
}

void xnode_set_ns(xnode *n, const char *ns)
{
    if (!n || !n->name)
        return;
    const char *v = ns ? xns_new(ns, strlen(ns)) : xns_new("", 0);
    xns_unref(n->ns);
    n->ns = v;
}

static void xnode_free_attrs(xnode *n)
{
    for (size_t i = 0; i < n->nattrs; i++) {
        free(n->attrs[i].name);
        xns_unref(n->attrs[i].ns);
        free(n->attrs[i].value);
    }
    free(n->attrs);
    n->attrs = NULL;
    n->nattrs = 0;
}

static void xnode_free_subtree(xnode *n)
{
    /* Recursive over depth only (the parser bounds depth with max_depth). */
    xnode *k = n->children;
    while (k) {
        xnode *next = k->next;
        xnode_free_subtree(k);
        k = next;
    }
    xnode_free_attrs(n);
    free(n->name);
    xns_unref(n->ns);
    free(n->text);
    free(n);
}

void xnode_free(xnode *n)
{
    if (!n)
        return;
    if (n->parent)   /* still linked: detach so the parent stays valid */
        xnode_unlink(n);
    xnode_free_subtree(n);
}

static xnode *xnode_copy_one(const xnode *n)
{
    xnode *c = xcalloc(1, sizeof *c);
    if (n->name)
        c->name = xstrdup(n->name);
    c->ns = xns_ref(n->ns);   /* shared: a copy per recipient adds no URI */
    if (n->text)
        c->text = xstrdup(n->text);
    if (n->nattrs) {
        c->attrs = xcalloc(1, n->nattrs * sizeof *c->attrs);
        c->nattrs = n->nattrs;
        for (size_t i = 0; i < n->nattrs; i++) {
            c->attrs[i].name = xstrdup(n->attrs[i].name);
            c->attrs[i].ns = xns_ref(n->attrs[i].ns);
            c->attrs[i].value = xstrdup(n->attrs[i].value);
        }
    }
    for (const xnode *k = n->children; k; k = k->next)
        xnode_append(c, xnode_copy_one(k));
    return c;
}

xnode *xnode_copy(const xnode *n)
{
    return n ? xnode_copy_one(n) : NULL;
}

const char *xnode_attr(const xnode *n, const char *name)
{
    if (!n || !name)
        return NULL;
    for (size_t i = 0; i < n->nattrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return n->attrs[i].value;
    return NULL;
}

void xnode_set_attr(xnode *n, const char *name, const char *value)
{
    if (!n || !name || !n->name)
        return;
    for (size_t i = 0; i < n->nattrs; i++) {
        if (strcmp(n->attrs[i].name, name) != 0)
            continue;
        if (value) {
            char *v = xstrdup(value);
            free(n->attrs[i].value);
            n->attrs[i].value = v;
        } else {
            free(n->attrs[i].name);
            xns_unref(n->attrs[i].ns);
            free(n->attrs[i].value);
            memmove(&n->attrs[i], &n->attrs[i + 1], (n->nattrs - i - 1) * sizeof *n->attrs);
            n->nattrs--;
        }
        return;
    }
    if (!value)
        return;
    xattr *a = xrealloc(n->attrs, (n->nattrs + 1) * sizeof *a);
    n->attrs = a;
    a[n->nattrs].name = xstrdup(name);
    a[n->nattrs].ns = strncmp(name, "xml:", 4) == 0 ? xns_new(NS_XML, strlen(NS_XML)) : NULL;
    a[n->nattrs].value = xstrdup(value);
    n->nattrs++;
}

void xnode_append(xnode *parent, xnode *child)
{
    if (!parent || !child)
        return;
    child->parent = parent;
    child->next = NULL;
    if (parent->last)
        parent->last->next = child;
    else
        parent->children = child;
    parent->last = child;
}

xnode *xnode_add_child(xnode *parent, const char *name, const char *ns)
{
    xnode *c = xnode_new(name, ns);
    xnode_append(parent, c);
    return c;
}

void xnode_unlink(xnode *child)
{
    if (!child || !child->parent)
        return;
    xnode *p = child->parent, *prev = NULL;
    for (xnode *k = p->children; k; prev = k, k = k->next) {
        if (k != child)
            continue;
        if (prev)
            prev->next = k->next;
        else
            p->children = k->next;
        if (p->last == k)
            p->last = prev;
        break;
    }
    child->parent = NULL;
    child->next = NULL;
}

void xnode_add_text(xnode *parent, const char *text, size_t len)
{
    if (!parent || !text || !len)
        return;
    xnode *l = parent->last;
    if (l && !l->name) {   /* merge with an adjacent text node */
        size_t old = strlen(l->text);
        char *t = xrealloc(l->text, old + len + 1);
        memcpy(t + old, text, len);
        t[old + len] = 0;
        l->text = t;
        return;
    }
    xnode *t = xcalloc(1, sizeof *t);
    t->text = xstrndup(text, len);
    xnode_append(parent, t);
}

xnode *xnode_child(const xnode *n, const char *name, const char *ns)
{
    if (!n)
        return NULL;
    for (xnode *k = n->children; k; k = k->next) {
        if (!k->name)
            continue;
        if (name && strcmp(k->name, name) != 0)
            continue;
        if (ns && strcmp(k->ns ? k->ns : "", ns) != 0)
            continue;
        return k;
    }
    return NULL;
}

xnode *xnode_first_element(const xnode *n)
{
    return xnode_child(n, NULL, NULL);
}

xnode *xnode_next_element(const xnode *n)
{
    if (!n)
        return NULL;
    for (xnode *k = n->next; k; k = k->next)
        if (k->name)
            return k;
    return NULL;
}

char *xnode_text(const xnode *n)
{
    size_t len = 0;
    if (n)
        for (const xnode *k = n->children; k; k = k->next)
            if (!k->name && k->text)
                len += strlen(k->text);
    char *s = xmalloc(len + 1), *p = s;
    if (n)
        for (const xnode *k = n->children; k; k = k->next)
            if (!k->name && k->text) {
                size_t l = strlen(k->text);
                memcpy(p, k->text, l);
                p += l;
            }
    *p = 0;
    return s;
}
