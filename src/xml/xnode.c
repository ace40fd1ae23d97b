/* xnode.c: the stanza tree (see xml.h). Every element and text node owns its
 * strings, except namespaces, which are shared references (xml_ns.c); a
 * node owns its children. The stream parser builds these trees,
 * the router and modules inspect and edit them, the serializer writes them.
 * A node's name, attributes and text may share the node's own allocation
 * (xnode_block.h): such a piece is never freed or reallocated on its own.
 * Allocation failure aborts, as in buf.c. */
#include "xml/xml.h"
#include "xml/xnode_block.h"
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- element blocks (xnode_block.h) ---- */

size_t xblock_size(size_t nattrs, size_t strbytes)
{
    return sizeof(xnode) + nattrs * sizeof(xattr) + strbytes;
}

/* One allocation for the node, its attribute array and its strings. */
static xnode *block_new(xblock *b, size_t nattrs, size_t size)
{
    char *m = xmalloc(size);
    xnode *n = (xnode *)m;
    memset(n, 0, sizeof *n);
    n->blk = (uint32_t)size;
    b->p = m + sizeof *n;
    if (nattrs) {
        n->attrs = (xattr *)b->p;
        memset(n->attrs, 0, nattrs * sizeof *n->attrs);
        b->p += nattrs * sizeof *n->attrs;
    }
    b->end = m + size;
    b->n = n;
    return n;
}

xnode *xblock_start(xblock *b, size_t nattrs, size_t strbytes)
{
    size_t size = xblock_size(nattrs, strbytes);
    if (XNODE_BLOCKS && size <= UINT32_MAX)
        return block_new(b, nattrs, size);
    /* Separate pieces (ASan builds; an element of more than 4 GiB). */
    xnode *n = xcalloc(1, sizeof *n);
    if (nattrs)
        n->attrs = xcalloc(nattrs, sizeof *n->attrs);
    b->p = b->end = NULL;
    b->n = n;
    return n;
}

char *xblock_alloc(xblock *b, size_t len)
{
    if (b->p && (size_t)(b->end - b->p) >= len + 1) {
        char *s = b->p;
        b->p += len + 1;
        s[len] = 0;
        return s;
    }
    char *s = xmalloc(len + 1);   /* the caller under-counted: still correct */
    s[len] = 0;
    return s;
}

char *xblock_strn(xblock *b, const char *s, size_t len)
{
    char *d = xblock_alloc(b, len);
    memcpy(d, s, len);
    return d;
}

/* Whether p was allocated on its own (not inside n's block). */
static bool own(const xnode *n, const void *p)
{
    uintptr_t a = (uintptr_t)p, base = (uintptr_t)n;
    return !n->blk || a < base || a >= base + n->blk;
}

static void free_own(const xnode *n, void *p)
{
    if (p && own(n, p))
        free(p);
}

xnode *xnode_new(const char *name, const char *ns)
{
    if (!name)
        name = "";
    size_t len = strlen(name);
    xblock b;
    xnode *n = xblock_start(&b, 0, len + 1);
    n->name = xblock_strn(&b, name, len);
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
        free_own(n, n->attrs[i].name);
        xns_unref(n->attrs[i].ns);
        free_own(n, n->attrs[i].value);
    }
    free_own(n, n->attrs);
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
    free_own(n, n->name);
    xns_unref(n->ns);
    free_own(n, n->text);
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
    size_t strbytes = (n->name ? strlen(n->name) + 1 : 0) + (n->text ? strlen(n->text) + 1 : 0);
    for (size_t i = 0; i < n->nattrs; i++)
        strbytes += strlen(n->attrs[i].name) + 1 + strlen(n->attrs[i].value) + 1;
    xblock b;
    xnode *c = xblock_start(&b, n->nattrs, strbytes);
    if (n->name)
        c->name = xblock_strn(&b, n->name, strlen(n->name));
    c->ns = xns_ref(n->ns);   /* shared: a copy per recipient adds no URI */
    if (n->text)
        c->text = xblock_strn(&b, n->text, strlen(n->text));
    c->nattrs = n->nattrs;
    for (size_t i = 0; i < n->nattrs; i++) {
        c->attrs[i].name = xblock_strn(&b, n->attrs[i].name, strlen(n->attrs[i].name));
        c->attrs[i].ns = xns_ref(n->attrs[i].ns);
        c->attrs[i].value = xblock_strn(&b, n->attrs[i].value, strlen(n->attrs[i].value));
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
            free_own(n, n->attrs[i].value);
            n->attrs[i].value = v;
        } else {
            free_own(n, n->attrs[i].name);
            xns_unref(n->attrs[i].ns);
            free_own(n, n->attrs[i].value);
            memmove(&n->attrs[i], &n->attrs[i + 1], (n->nattrs - i - 1) * sizeof *n->attrs);
            n->nattrs--;
        }
        return;
    }
    if (!value)
        return;
    xattr *a;
    if (!n->attrs || own(n, n->attrs)) {
        a = xrealloc(n->attrs, (n->nattrs + 1) * sizeof *a);
    } else {   /* the array is part of the node's block: move it out */
        a = xmalloc((n->nattrs + 1) * sizeof *a);
        memcpy(a, n->attrs, n->nattrs * sizeof *a);
    }
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
        char *t;
        if (own(l, l->text)) {
            t = xrealloc(l->text, old + len + 1);
        } else {   /* part of the text node's block: move it out */
            t = xmalloc(old + len + 1);
            memcpy(t, l->text, old);
        }
        memcpy(t + old, text, len);
        t[old + len] = 0;
        l->text = t;
        return;
    }
    xblock b;
    xnode *t = xblock_start(&b, 0, len + 1);
    t->text = xblock_strn(&b, text, len);
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
