/* xml_serialize.c: writes xnode trees as XML text, the last step before a
 * transport sends a stanza. Attributes are single-quoted; an xmlns attribute
 * is written only where an element's namespace differs from the one in scope
 * (the parent's, or ctx_ns for the top element); namespaced attributes other
 * than xml:* get their prefix declared on the element that carries them. */
#include "xml/xml.h"

#include <stdlib.h>
#include <string.h>

/* Escapes text (attr false: & < > and CR) or an attribute value (attr true:
 * & < ' " and the whitespace a parser would normalise away). Runs of plain
 * bytes are appended in one piece. */
void xml_escape(buf *out, const char *s, size_t len, bool attr)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = attr ? NULL : "&gt;"; break;
        case '\'': rep = attr ? "&apos;" : NULL; break;
        case '"': rep = attr ? "&quot;" : NULL; break;
        case '\r': rep = "&#13;"; break;
        case '\n': rep = attr ? "&#10;" : NULL; break;
        case '\t': rep = attr ? "&#9;" : NULL; break;
        default: break;
        }
        if (!rep)
            continue;
        if (i > run)
            buf_append(out, s + run, i - run);
        buf_puts(out, rep);
        run = i + 1;
    }
    if (len > run)
        buf_append(out, s + run, len - run);
}

static void put_attr(buf *out, const char *name, const char *value)
{
    buf_append(out, " ", 1);
    buf_puts(out, name);
    buf_append(out, "='", 2);
    xml_escape(out, value, strlen(value), true);
    buf_append(out, "'", 1);
}

/* Has an earlier attribute of n (index < upto) already declared the prefix
 * of attribute upto? */
static bool prefix_declared(const xnode *n, size_t upto, const char *prefix, size_t plen)
{
    for (size_t i = 0; i < upto; i++) {
        const xattr *a = &n->attrs[i];
        if (!a->ns || strcmp(a->ns, NS_XML) == 0)
            continue;
        const char *c = strchr(a->name, ':');
        if (c && (size_t)(c - a->name) == plen && memcmp(a->name, prefix, plen) == 0)
            return true;
    }
    return false;
}

static void put_attrs(const xnode *n, buf *out)
{
    for (size_t i = 0; i < n->nattrs; i++) {
        const xattr *a = &n->attrs[i];
        if (!a->name || !a->value)
            continue;
        if (!a->ns || strcmp(a->ns, NS_XML) == 0 || strncmp(a->name, "xml:", 4) == 0) {
            put_attr(out, a->name, a->value);
            continue;
        }
        const char *c = strchr(a->name, ':');
        if (!c || c == a->name) {
            /* A namespaced attribute without a prefix (built by hand):
             * give it one of its own. */
            buf_printf(out, " xmlns:a%zu='", i);
            xml_escape(out, a->ns, strlen(a->ns), true);
            buf_printf(out, "' a%zu:%s='", i, c ? c + 1 : a->name);
            xml_escape(out, a->value, strlen(a->value), true);
            buf_append(out, "'", 1);
            continue;
        }
        size_t plen = (size_t)(c - a->name);
        if (!prefix_declared(n, i, a->name, plen)) {
            buf_append(out, " xmlns:", 7);
            buf_append(out, a->name, plen);
            buf_append(out, "='", 2);
            xml_escape(out, a->ns, strlen(a->ns), true);
            buf_append(out, "'", 1);
        }
        put_attr(out, a->name, a->value);
    }
}

static void serialize_node(const xnode *n, const char *scope_ns, buf *out)
{
    if (!n->name) {
        if (n->text)
            xml_escape(out, n->text, strlen(n->text), false);
        return;
    }
    const char *ns = n->ns ? n->ns : "";
    /* An element in the XML namespace (<xml:x/> on input) keeps its
     * predeclared prefix: binding the default namespace to it is forbidden
     * and would break the recipient's stream (found by fuzz_xml). Its
     * children stay in the surrounding default namespace. */
    bool xml_prefixed = strcmp(ns, NS_XML) == 0;
    if (xml_prefixed)
        ns = scope_ns ? scope_ns : "";
    buf_append(out, xml_prefixed ? "<xml:" : "<", xml_prefixed ? 5 : 1);
    buf_puts(out, n->name);
    if (ns != scope_ns && strcmp(ns, scope_ns ? scope_ns : "") != 0) {   /* shared: often equal */
        buf_append(out, " xmlns='", 8);
        xml_escape(out, ns, strlen(ns), true);
        buf_append(out, "'", 1);
    }
    put_attrs(n, out);
    if (!n->children) {
        buf_append(out, "/>", 2);
        return;
    }
    buf_append(out, ">", 1);
    for (const xnode *k = n->children; k; k = k->next)
        serialize_node(k, ns, out);
    buf_append(out, xml_prefixed ? "</xml:" : "</", xml_prefixed ? 6 : 2);
    buf_puts(out, n->name);
    buf_append(out, ">", 1);
}

void xml_serialize(const xnode *n, const char *ctx_ns, buf *out)
{
    if (n && out)
        serialize_node(n, ctx_ns, out);
}

char *xml_to_string(const xnode *n, const char *ctx_ns)
{
    buf b;
    buf_init(&b);
    buf_append(&b, "", 0);   /* an empty tree still yields "" */
    xml_serialize(n, ctx_ns, &b);
    return buf_steal(&b);
}
