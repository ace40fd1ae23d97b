/* xml.h: the stanza tree, its serializer and the restricted XMPP stream
 * parser (expat). A transport feeds bytes into an xstream and receives the
 * stream header, then one complete xnode per top-level stanza; everything
 * above the transport works on xnodes only.
 *
 * Namespaces: every element carries its namespace URI in `ns` (resolved by
 * expat). Top-level stanzas of a client stream have ns "jabber:client". The
 * serializer writes an xmlns attribute only where an element's ns differs
 * from its parent's (or from the context ns given for the top element).
 *
 * Namespace strings (xnode.ns, xattr.ns) are shared and immutable: they come
 * from xns_new()/xns_ref() and are released with xns_unref(), never free()d
 * or written. Elements of one stanza, and copies of it, share one string per
 * namespace (xml_ns.c), so inheriting a long namespace costs nothing. */
#ifndef PLUCS_XML_H
#define PLUCS_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define NS_CLIENT   "jabber:client"
#define NS_SERVER   "jabber:server"
#define NS_STREAM   "http://etherx.jabber.org/streams"
#define NS_STREAMS  "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_STANZAS  "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_TLS      "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL     "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND     "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION  "urn:ietf:params:xml:ns:xmpp-session"
#define NS_XML      "http://www.w3.org/XML/1998/namespace"

typedef struct xattr {
    char *name;   /* local name; "xml:lang" for the xml namespace; for other
                     namespaced attributes "prefix:local" with ns set */
    const char *ns; /* shared (xns_*); NULL for unqualified attributes */
    char *value;
} xattr;

typedef struct xnode xnode;
struct xnode {
    char *name;           /* element local name; NULL for a text node */
    const char *ns;       /* element namespace URI, shared (xns_*); never NULL
                             for elements */
    char *text;           /* text node content (unescaped); NULL for elements */
    xattr *attrs;
    uint32_t nattrs;
    uint32_t blk;         /* bytes of the node's own allocation: a string or
                             the attribute array inside [n, n + blk) is part
                             of it, not freed on its own (xnode_block.h);
                             0: every piece is separate */
    xnode *children;      /* first child */
    xnode *last;          /* last child (O(1) append) */
    xnode *next;          /* next sibling */
    xnode *parent;
};

/* Shared namespace strings. xns_new returns a new reference to a string
 * equal to s[0..len) ("", jabber:client and NS_XML are static, never
 * allocated); xns_ref takes one more reference, xns_unref drops one (NULL
 * is ignored by both). */
const char *xns_new(const char *s, size_t len);
const char *xns_new_static(const char *s, size_t len);   /* NULL unless static */
const char *xns_ref(const char *ns);
void xns_unref(const char *ns);
size_t xns_len(const char *ns);
bool xns_is_static(const char *ns);
size_t xns_footprint(size_t len);   /* bytes a heap string of len takes */

/* Tree building. Every function copies its string arguments (namespaces are
 * shared, see above). */
xnode *xnode_new(const char *name, const char *ns);
void xnode_free(xnode *n);                  /* frees n and its subtree; n may be NULL */
xnode *xnode_copy(const xnode *n);          /* deep copy (namespaces shared), parent = NULL */
void xnode_set_ns(xnode *n, const char *ns);   /* replaces n's namespace */
const char *xnode_attr(const xnode *n, const char *name);     /* unqualified or "xml:lang" */
void xnode_set_attr(xnode *n, const char *name, const char *value); /* value NULL removes */
xnode *xnode_add_child(xnode *parent, const char *name, const char *ns);
void xnode_append(xnode *parent, xnode *child);  /* takes ownership of child */
void xnode_unlink(xnode *child);                 /* detaches from its parent, caller owns */
void xnode_add_text(xnode *parent, const char *text, size_t len);
xnode *xnode_child(const xnode *n, const char *name, const char *ns); /* NULL name/ns = any */
xnode *xnode_first_element(const xnode *n);
xnode *xnode_next_element(const xnode *n);
char *xnode_text(const xnode *n);           /* concatenated direct text children, malloc'ed */

/* Serialization. ctx_ns: the namespace in scope around n (NS_CLIENT for a
 * stanza on a client stream); no xmlns is written when n->ns equals it. */
void xml_serialize(const xnode *n, const char *ctx_ns, buf *out);
char *xml_to_string(const xnode *n, const char *ctx_ns);     /* malloc'ed */
void xml_escape(buf *out, const char *s, size_t len, bool attr);

/* The stream parser. */
typedef enum {
    XS_ERR_XML = 1,        /* not well-formed -> <not-well-formed/> */
    XS_ERR_RESTRICTED,     /* DTD, entity, PI, comment -> <restricted-xml/> */
    XS_ERR_TOO_BIG,        /* stanza larger than max_stanza, or its tree larger
                              than its memory budget -> <policy-violation/> */
    XS_ERR_DEPTH,          /* nesting deeper than max_depth -> <policy-violation/> */
} xstream_err;

typedef struct xstream_cb {
    /* The stream header element, with its attributes and ns (no children).
     * Owned by the parser, valid during the call. default_ns is the default
     * namespace declared on it (e.g. "jabber:client"), NULL if none. */
    void (*open)(void *ud, const xnode *header, const char *default_ns);
    /* A complete top-level stanza; ownership passes to the callee. */
    void (*stanza)(void *ud, xnode *stanza);
    /* </stream:stream> received. */
    void (*close)(void *ud);
    /* The stream is broken; no further callbacks follow until xstream_reset(). */
    void (*error)(void *ud, xstream_err kind, const char *detail);
} xstream_cb;

typedef struct xstream xstream;

/* The memory a stanza may take while it is built (its tree, the namespace
 * strings it adds, expat's growth meanwhile), for a max_stanza in input
 * bytes. Dense markup takes several times its input as a tree (an element
 * node is 72 bytes; a realistic bookmark or roster item about 6x its text),
 * so the budget is a multiple; beyond it the stream fails with
 * XS_ERR_TOO_BIG exactly like an oversized stanza. */
#define XML_TREE_BUDGET(max_stanza) (8 * (size_t)(max_stanza) + 65536)

xstream *xstream_new(const xstream_cb *cb, void *ud, size_t max_stanza, unsigned max_depth);
void xstream_free(xstream *xs);
/* Feeds bytes. Returns 0, or -1 after the error callback was called.
 * Callbacks run inside this call. A callback may call xstream_reset() (after
 * STARTTLS or SASL success): parsing stops after the current element and the
 * bytes not yet parsed are fed to the fresh parser within the same call.
 * A callback may also call xstream_stop(), after which feed returns at once
 * and ignores the rest (the transport is closing). */
int xstream_feed(xstream *xs, const char *data, size_t len);
void xstream_reset(xstream *xs);
void xstream_stop(xstream *xs);
/* Also sets the tree budget to XML_TREE_BUDGET(max_stanza). */
void xstream_set_max_stanza(xstream *xs, size_t max_stanza);
/* Overrides the memory budgets: per_stanza for one stanza under
 * construction, total (0: none) for everything this xstream builds over
 * its life, for callers that keep all stanzas (a BOSH <body/>). */
void xstream_set_tree_budget(xstream *xs, size_t per_stanza, size_t total);
/* Memory accounted to the stanzas built so far (what the budgets count). */
size_t xstream_tree_bytes(const xstream *xs);
/* For an idle stream: frees expat's parser (and the text buffer) when the
 * stream is between stanzas with nothing pending; the next xstream_feed()
 * makes a fresh one primed with the stream header's qualified name and
 * namespace declarations. Returns whether it was released (false: not at
 * a stanza boundary, not opened yet, broken or stopped; nothing changed).
 * Never call it from a callback. */
bool xstream_release(xstream *xs);
/* Whether the parser is released (tests, statistics). */
bool xstream_released(const xstream *xs);

#endif
