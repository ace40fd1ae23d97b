/* xml_serialize.c: writes xnode trees as XML text, the last step before a
 * transport sends a stanza. Attributes are single-quoted; an xmlns attribute
 * is written only where an element's namespace differs from the one in scope
 * (the parent's, or ctx_ns for the top element); namespaced attributes other
 * than xml:* get their prefix declared on the element that carries them. */
#include "xml/xml.h"

#include <stdlib.h>
#include <string.h>

/* Bytes that need escaping: bit 1 in text, bit 2 in attribute values.
 * A table lookup per byte keeps the common case (no special byte in a
 * JID, an id or a body) a tight scan; the escapes themselves are rare. */
static const unsigned char esc_class[256] = {
    ['&'] = 3, ['<'] = 3, ['>'] = 1, ['\''] = 2, ['"'] = 2,
    ['\r'] = 3, ['\n'] = 2, ['\t'] = 2,
};

static const char *esc_rep(char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '\'': return "&apos;";
    case '"': return "&quot;";
    case '\r': return "&#13;";
    case '\n': return "&#10;";
    default: return "&#9;";   /* '\t' */
    }
}

/* Escapes text (attr false: & < > and CR) or an attribute value (attr true:
 * & < ' " and the whitespace a parser would normalise away). Runs of plain
 * bytes are appended in one piece. */
void xml_escape(buf *out, const char *s, size_t len, bool attr)
{
    const unsigned char mask = attr ? 2 : 1;
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (!(esc_class[u[i]] & mask))
            continue;
        if (i > run)
            buf_append(out, s + run, i - run);
        buf_puts(out, esc_rep(s[i]));
        run = i + 1;
    }
    if (len > run)
        buf_append(out, s + run, len - run);
}

/* xml_escape for a terminated string, as the serializer's strings are:
 * strcspn (vectorised in libc) finds the next special byte, and no
 * separate strlen pass is needed. */
static void escape_cstr(buf *out, const char *s, bool attr)
{
    const char *set = attr ? "&<'\"\r\n\t" : "&<>\r";
    for (;;) {
        size_t k = strcspn(s, set);
        if (k)
            buf_append(out, s, k);
        if (!s[k])
            return;
        buf_puts(out, esc_rep(s[k]));
        s += k + 1;
    }
}

static void put_attr(buf *out, const char *name, const char *value)
{
    buf_append(out, " ", 1);
    buf_puts(out, name);
    buf_append(out, "='", 2);
    escape_cstr(out, value, true);
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
            escape_cstr(out, a->ns, true);
            buf_printf(out, "' a%zu:%s='", i, c ? c + 1 : a->name);
            escape_cstr(out, a->value, true);
            buf_append(out, "'", 1);
            continue;
        }
        size_t plen = (size_t)(c - a->name);
        if (!prefix_declared(n, i, a->name, plen)) {
            buf_append(out, " xmlns:", 7);
            buf_append(out, a->name, plen);
            buf_append(out, "='", 2);
            escape_cstr(out, a->ns, true);
            buf_append(out, "'", 1);
        }
        put_attr(out, a->name, a->value);
    }
}

static void serialize_node(const xnode *n, const char *scope_ns, buf *out)
{
    if (!n->name) {
        if (n->text)
            escape_cstr(out, n->text, false);
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
        escape_cstr(out, ns, true);
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
