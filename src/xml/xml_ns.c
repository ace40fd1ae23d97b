/* xml_ns.c: namespace URIs as shared, immutable, reference-counted strings
 * (see xml.h). Every element of a stanza, and of every copy the router makes
 * for each recipient, names its namespace; a child inherits its parent's.
 * With one private copy per element, a peer declaring one 32 KB namespace
 * and sending 8,000 empty children made 64 KB of input into 250 MB of tree.
 * Here all elements of a namespace point at one string: the parser hands
 * out references from its small intern table (xml_stream.c), xnode_copy()
 * takes a reference instead of a copy, and the URIs the server itself uses
 * most ("", jabber:client and the xml: namespace) are static and never
 * allocated.
 *
 * The count is atomic because copies of a stanza travel to other workers'
 * inboxes and are freed there while the original is freed here. */
#include "xml/xml.h"
#include "core/alloc.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XNS_STATIC UINT_MAX   /* count of a string that is never freed */
#define XNS_MAGIC 0x786e7321u /* "xns!": catches a plain string put into ns */

typedef struct xns_hdr {
    uint32_t magic;
    atomic_uint refs;
    unsigned len;             /* strlen of the URI, for the intern table */
} xns_hdr;

/* The text follows its header directly: char has alignment 1, so the
 * array of these structs starts at sizeof(xns_hdr), as in a heap string. */
#define XNS_CONST(id, s)                          \
    static struct {                               \
        xns_hdr h;                                \
        char text[sizeof s];                      \
    } id = { { XNS_MAGIC, XNS_STATIC, sizeof s - 1 }, s }

XNS_CONST(ns_empty, "");
XNS_CONST(ns_client, NS_CLIENT);
XNS_CONST(ns_xml, NS_XML);   /* xml:lang on every stanza that has one */

/* The header of a shared string. A pointer that is not one (an xstrdup'ed
 * or literal string stored into xnode.ns by mistake) stops the process
 * here with a clear line rather than corrupting the heap later. */
static xns_hdr *hdr_of(const char *ns)
{
    xns_hdr *h = (xns_hdr *)(void *)((char *)ns - sizeof(xns_hdr));
    if (h->magic != XNS_MAGIC) {
        fprintf(stderr, "plucs: not a shared namespace string: %.40s\n", ns);
        abort();
    }
    return h;
}

const char *xns_new_static(const char *s, size_t len)
{
    if (len == 0)
        return ns_empty.text;
    if (len == sizeof NS_CLIENT - 1 && memcmp(s, NS_CLIENT, len) == 0)
        return ns_client.text;
    if (len == sizeof NS_XML - 1 && memcmp(s, NS_XML, len) == 0)
        return ns_xml.text;
    return NULL;
}

const char *xns_new(const char *s, size_t len)
{
    const char *st = xns_new_static(s, len);
    if (st)
        return st;
    if (len >= UINT_MAX)   /* longer than any stanza limit allows */
        len = UINT_MAX - 1;
    xns_hdr *h = xmalloc(sizeof *h + len + 1);
    h->magic = XNS_MAGIC;
    atomic_init(&h->refs, 1);
    h->len = (unsigned)len;
    char *t = (char *)(h + 1);
    memcpy(t, s, len);
    t[len] = 0;
    return t;
}

const char *xns_ref(const char *ns)
{
    if (!ns)
        return NULL;
    xns_hdr *h = hdr_of(ns);
    if (atomic_load_explicit(&h->refs, memory_order_relaxed) != XNS_STATIC)
        atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
    return ns;
}

void xns_unref(const char *ns)
{
    if (!ns)
        return;
    xns_hdr *h = hdr_of(ns);
    if (atomic_load_explicit(&h->refs, memory_order_relaxed) == XNS_STATIC)
        return;
    if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) == 1)
        free(h);
}

size_t xns_len(const char *ns)
{
    return ns ? hdr_of(ns)->len : 0;
}

bool xns_is_static(const char *ns)
{
    return ns && atomic_load_explicit(&hdr_of(ns)->refs, memory_order_relaxed) == XNS_STATIC;
}

size_t xns_footprint(size_t len)
{
    return sizeof(xns_hdr) + len + 1;
}
