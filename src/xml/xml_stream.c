/* xml_stream.c: the restricted XMPP stream parser (RFC 6120 §11) on expat.
 * A transport feeds raw bytes; this file reports the stream header, then one
 * complete xnode per top-level stanza, then the stream's end. It refuses
 * DTDs, entities, comments and processing instructions, and bounds stanza
 * size (counted in input bytes while the stanza is still arriving), nesting
 * depth and the header, so a peer can never make it allocate without limit.
 *
 * Memory: the xstream is a few dozen bytes plus expat's parser. Input is
 * handed to expat in slices of at most FEED_SLICE bytes, because expat copies
 * every XML_Parse() input into its own buffer (which never shrinks); this
 * keeps that buffer small for idle sessions whatever read size the transport
 * uses. After a big stanza has grown expat's buffer, the parser is replaced
 * by a fresh one primed with the same stream header (see xs_shrink). The
 * same happens when expat's own tables have grown: expat remembers every
 * distinct element and attribute name it has seen for the parser's life, so
 * a peer sending ever new names would otherwise grow a session without
 * bound. Expat's allocations are counted per stream for this (xs_malloc).
 *
 * That replacement may happen in the middle of a read: a peer that pipelines
 * stanzas with fresh names so that no read ever ends on a stanza boundary
 * would otherwise never let xs_shrink run. So when a stanza completes while
 * expat holds more than EXPAT_MEM_MAX, the parse stops right after its end
 * tag (like a reset), the parser is replaced, and the rest of the read goes
 * to the new one (xs_renew). Recreating the parser was chosen over capping
 * distinct names: a cap would refuse legitimate streams that use many
 * extensions over a long session, while a fresh parser costs a few
 * microseconds at most once per EXPAT_MEM_MAX bytes of new names, and the
 * stream's namespace context is exactly the header's declarations, which
 * the synthetic header repeats.
 *
 * Idle streams: an expat parser with its buffers and tables takes several
 * KiB, more than the rest of an idle client session. The transport calls
 * xstream_release() on a stream that has been quiet for a while; between
 * stanzas with nothing pending inside expat, the parser is freed and the
 * next xstream_feed() primes a fresh one with the same synthetic header
 * (xs_renew), so stanzas come out with the same namespaces and every limit
 * is counted from the stanza's own first byte as before.
 *
 * Memory of the stanza being built: input bytes alone do not bound it (an
 * inherited namespace, an empty element of 4 bytes becoming a 72-byte node),
 * so every allocation for the tree is charged to the stanza (xs_charge), with
 * expat's growth during the stanza, against a budget (XML_TREE_BUDGET, a
 * multiple of max_stanza); beyond it the stream fails like an oversized
 * stanza. Namespace URIs are interned per stream (ns_tab): all elements of
 * one namespace share one reference-counted string (xml_ns.c), charged once. */
#include "xml/xml.h"
#include "xml/xml_pool.h"
#include "xml/xnode_block.h"
#include "core/alloc.h"

#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_SEP '\x01'            /* cannot occur in XML 1.0 text at all */
#define FEED_SLICE 2048          /* bytes per XML_Parse() call */
#define HEADER_MAX 8192          /* stream header size in bytes */
#define HEADER_MAX_ATTRS 64
#define HEADER_MAX_NSDECL 8
#define SHRINK_AFTER 8192        /* pending bytes that make expat's buffer big */
#define TEXT_KEEP 4096           /* text accumulator kept between stanzas */
#define EXPAT_MEM_MAX 32768      /* expat memory that makes a parser "big" */
#define NS_TAB 16                /* namespaces interned per stream */
#define NS_KEEP 256              /* longer ones are dropped after each stanza */

typedef struct nsdecl {
    char *prefix;   /* NULL: default namespace */
    char *uri;
} nsdecl;

struct xstream {
    XML_Parser p;
    xstream_cb cb;
    void *ud;
    size_t max_stanza;
    unsigned max_depth;
    unsigned depth;            /* open elements, the stream header included */
    xnode *cur;                /* innermost open element of the stanza */
    buf text;                  /* character data not yet added to cur */
    uint64_t fed;              /* bytes given to the current parser */
    uint64_t stanza_start;     /* input offset of the stanza's start tag */
    uint64_t event_end;        /* input offset just after the last event */
    uint64_t skip;             /* bytes of synthetic header (priming) */
    nsdecl *hdr_ns;            /* namespaces declared on the stream header */
    char *hdr_qname;           /* its qualified name, e.g. "stream:stream" */
    unsigned n_hdr_ns;
    size_t expat_mem;          /* bytes expat has allocated for this stream */
    size_t expat_at_start;     /* expat_mem when the current stanza began */
    size_t budget;             /* memory one stanza may take (xs_charge) */
    size_t total_budget;       /* memory all stanzas may take, 0: no limit */
    size_t stanza_mem;         /* charged to the stanza being built */
    size_t total_mem;          /* charged to all stanzas so far */
    const char *ns_tab[NS_TAB];/* interned namespaces, one reference each */
    uint32_t ns_hash[NS_TAB];  /* their hashes: one comparison per lookup */
    unsigned ns_next;          /* next slot to replace */
    bool big;                  /* expat's buffer grew: shrink when idle */
    bool in_parse;             /* inside XML_Parse (callbacks may run) */
    bool in_feed;              /* inside xstream_feed: resets are deferred */
    bool priming;              /* feeding the synthetic header */
    bool failed, stopped, reset_pending;
    bool renew_pending;        /* replace the parser after this stanza (xs_renew) */
    bool released;             /* parser freed while idle (xstream_release) */
};

/* ---- expat memory accounting ----------------------------------------- */

/* Expat's allocator has no context pointer; the stream on whose behalf
 * expat runs is set around every expat call that may allocate or free. */
static _Thread_local xstream *xs_current;
/* Every block starts with a 16-byte header (keeps max_align_t alignment):
 * the size expat asked for, and where the block came from: the thread's
 * pool (xml_pool.h: released parsers give back whole pages) or malloc
 * (larger blocks, sanitizer builds). */
#define XS_HDR 16
typedef struct xs_hdr {
    size_t n;
    size_t pooled;
} xs_hdr;

static void *xs_malloc(size_t n)
{
    xs_hdr h = { n, 0 };
    char *p = NULL;
    if (XPOOL_ENABLED && n <= XPOOL_MAX - XS_HDR && (p = xpool_alloc(n + XS_HDR)))
        h.pooled = 1;
    else if (!(p = malloc(n + XS_HDR)))
        return NULL;
    memcpy(p, &h, sizeof h);
    if (xs_current)
        xs_current->expat_mem += n;
    return p + XS_HDR;
}

static void xs_account_free(size_t n)
{
    if (xs_current)
        xs_current->expat_mem = xs_current->expat_mem > n ? xs_current->expat_mem - n : 0;
}

static void xs_free_mem(void *ptr)
{
    if (!ptr)
        return;
    char *p = (char *)ptr - XS_HDR;
    xs_hdr h;
    memcpy(&h, p, sizeof h);
    xs_account_free(h.n);
    if (h.pooled)
        xpool_free(p);
    else
        free(p);
}

static void *xs_realloc(void *ptr, size_t n)
{
    if (!ptr)
        return xs_malloc(n);
    char *p = (char *)ptr - XS_HDR;
    xs_hdr h;
    memcpy(&h, p, sizeof h);
    if (h.pooled) {
        if (n + XS_HDR <= xpool_usable(p)) {   /* fits its object */
            xs_account_free(h.n);
            if (xs_current)
                xs_current->expat_mem += n;
            h.n = n;
            memcpy(p, &h, sizeof h);
            return ptr;
        }
        void *q = xs_malloc(n);
        if (!q)
            return NULL;
        memcpy(q, ptr, h.n < n ? h.n : n);
        xs_free_mem(ptr);
        return q;
    }
    char *q = realloc(p, n + XS_HDR);
    if (!q)
        return NULL;
    xs_account_free(h.n);
    h.n = n;
    memcpy(q, &h, sizeof h);
    if (xs_current)
        xs_current->expat_mem += n;
    return q + XS_HDR;
}

static const XML_Memory_Handling_Suite xs_mem = { xs_malloc, xs_realloc, xs_free_mem };

/* ---- helpers ---------------------------------------------------------- */

static bool xs_halted(const xstream *xs)
{
    return xs->failed || xs->stopped || xs->reset_pending || xs->renew_pending;
}

static void xs_fail(xstream *xs, xstream_err kind, const char *detail)
{
    if (xs_halted(xs))
        return;
    xs->failed = true;
    if (xs->in_parse && xs->p)
        XML_StopParser(xs->p, XML_FALSE);
    if (xs->cb.error)
        xs->cb.error(xs->ud, kind, detail);
}

/* What an allocation of n bytes takes from the heap (glibc: 8 bytes of
 * header, 16-byte granules, 32 at least), so the budget counts memory, not
 * only the bytes asked for. */
static size_t mcost(size_t n)
{
    n = (n + 8 + 15) & ~(size_t)15;
    return n < 32 ? 32 : n;
}

/* Charges cost bytes to the stanza being built and checks its budgets
 * (expat's growth since the stanza began counts too). Returns false when the
 * stream just failed. */
static bool xs_charge(xstream *xs, size_t cost)
{
    xs->stanza_mem += cost;
    xs->total_mem += cost;
    size_t grown = xs->expat_mem > xs->expat_at_start ? xs->expat_mem - xs->expat_at_start : 0;
    if (xs->stanza_mem + grown > xs->budget ||
        (xs->total_budget && xs->total_mem > xs->total_budget)) {
        xs_fail(xs, XS_ERR_TOO_BIG, "stanza needs too much memory");
        return false;
    }
    return true;
}

/* A reference to the namespace s[0..len), shared with every element of this
 * stream that uses it while it stays in the table; a new string is charged
 * to *cost. */
static const char *xs_intern(xstream *xs, const char *s, size_t len, size_t *cost)
{
    const char *st = xns_new_static(s, len);
    if (st)
        return st;
    uint32_t h = 2166136261u;   /* FNV-1a: one pass, like expat's own copy */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    for (unsigned i = 0; i < NS_TAB; i++) {
        const char *t = xs->ns_tab[i];
        if (t && xs->ns_hash[i] == h && xns_len(t) == len && memcmp(t, s, len) == 0)
            return xns_ref(t);
    }
    const char *ns = xns_new(s, len);
    *cost += mcost(xns_footprint(len));
    unsigned slot = xs->ns_next++ % NS_TAB;
    xns_unref(xs->ns_tab[slot]);
    xs->ns_tab[slot] = xns_ref(ns);
    xs->ns_hash[slot] = h;
    return ns;
}

/* Drops the table's references; with long_only, only those to long URIs
 * (kept between stanzas they would hold up to NS_TAB * max_stanza). */
static void xs_ns_drop(xstream *xs, bool long_only)
{
    for (unsigned i = 0; i < NS_TAB; i++) {
        if (!xs->ns_tab[i] || (long_only && xns_len(xs->ns_tab[i]) <= NS_KEEP))
            continue;
        xns_unref(xs->ns_tab[i]);
        xs->ns_tab[i] = NULL;
    }
}

/* Records where the current event ends and enforces the stanza size while
 * the stanza is arriving. Returns false when the stream just failed. */
static bool xs_track(xstream *xs)
{
    XML_Index idx = XML_GetCurrentByteIndex(xs->p);
    if (idx >= 0)
        xs->event_end = (uint64_t)idx + (uint64_t)XML_GetCurrentByteCount(xs->p);
    if (xs->cur && xs->event_end - xs->stanza_start > xs->max_stanza) {
        xs_fail(xs, XS_ERR_TOO_BIG, "stanza too big");
        return false;
    }
    return !xs->cur || xs_charge(xs, 0);
}

/* Splits an expat name "uri<SEP>local[<SEP>prefix]" (or "local"). */
static void split_name(const char *full, const char **uri, size_t *urilen,
                       const char **local, size_t *locallen,
                       const char **prefix)
{
    const char *s1 = strchr(full, NS_SEP);
    if (!s1) {
        *uri = "";
        *urilen = 0;
        *local = full;
        *locallen = strlen(full);
        *prefix = NULL;
        return;
    }
    *uri = full;
    *urilen = (size_t)(s1 - full);
    *local = s1 + 1;
    const char *s2 = strchr(*local, NS_SEP);
    *locallen = s2 ? (size_t)(s2 - *local) : strlen(*local);
    *prefix = s2 ? s2 + 1 : NULL;
}

/* Builds an element from expat's name and attributes; adds what it
 * allocated to *cost. */
static xnode *build_element(xstream *xs, const XML_Char *name, const XML_Char **atts,
                            size_t *cost)
{
    const char *uri, *local, *prefix;
    size_t urilen, locallen;
    split_name(name, &uri, &urilen, &local, &locallen, &prefix);

    /* First pass: the bytes of the element's strings, so that the node,
     * its attribute array and its strings take one allocation
     * (xnode_block.h). */
    size_t count = 0, strbytes = locallen + 1;
    for (; atts[count * 2]; count++) {
        const char *au, *al, *ap;
        size_t aulen, allen;
        split_name(atts[count * 2], &au, &aulen, &al, &allen, &ap);
        strbytes += allen + 1 + strlen(atts[count * 2 + 1]) + 1;
        if (aulen)
            strbytes += (ap ? strlen(ap) : 2) + 1;
    }
    xblock b;
    xnode *n = xblock_start(&b, count, strbytes);
    n->name = xblock_strn(&b, local, locallen);
    n->ns = xs_intern(xs, uri, urilen, cost);
    /* Charged as the separate allocations it replaces would be: the
     * budget's meaning (XML_TREE_BUDGET) stays the same. */
    *cost += mcost(sizeof *n) + mcost(locallen + 1);
    if (!count)
        return n;
    *cost += mcost(count * sizeof *n->attrs);
    for (size_t i = 0; i < count; i++) {
        xattr *a = &n->attrs[i];
        split_name(atts[i * 2], &uri, &urilen, &local, &locallen, &prefix);
        if (urilen == 0) {
            a->name = xblock_strn(&b, local, locallen);
            *cost += mcost(locallen + 1);
        } else {
            if (!prefix)   /* cannot happen with triplets; be safe */
                prefix = "ns";
            size_t plen = strlen(prefix);
            a->name = xblock_alloc(&b, plen + 1 + locallen);
            memcpy(a->name, prefix, plen);
            a->name[plen] = ':';
            memcpy(a->name + plen + 1, local, locallen);
            a->ns = xs_intern(xs, uri, urilen, cost);
            *cost += mcost(plen + 1 + locallen + 1);
        }
        size_t vlen = strlen(atts[i * 2 + 1]);
        a->value = xblock_strn(&b, atts[i * 2 + 1], vlen);
        *cost += mcost(vlen + 1);
    }
    n->nattrs = (uint32_t)count;
    return n;
}

static bool all_space(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Adds pending text to the open element. Returns false when that broke
 * the stanza's memory budget. */
static bool flush_text(xstream *xs)
{
    size_t len = xs->text.len;
    if (len && xs->cur)
        xnode_add_text(xs->cur, xs->text.data, len);
    buf_reset(&xs->text);
    return !len || !xs->cur || xs_charge(xs, mcost(sizeof(xnode)) + mcost(len + 1));
}

static const char *hdr_default_ns(const xstream *xs)
{
    for (unsigned i = 0; i < xs->n_hdr_ns; i++)
        if (!xs->hdr_ns[i].prefix)
            return xs->hdr_ns[i].uri;
    return NULL;
}

static void free_hdr_ns(xstream *xs)
{
    for (unsigned i = 0; i < xs->n_hdr_ns; i++) {
        free(xs->hdr_ns[i].prefix);
        free(xs->hdr_ns[i].uri);
    }
    free(xs->hdr_ns);
    xs->hdr_ns = NULL;
    xs->n_hdr_ns = 0;
    free(xs->hdr_qname);
    xs->hdr_qname = NULL;
}

/* ---- expat handlers --------------------------------------------------- */

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xstream *xs = ud;
    if (xs_halted(xs) || !xs_track(xs))
        return;

    if (xs->depth == 0) {   /* the stream header */
        size_t nattrs = 0;
        while (atts[nattrs * 2])
            nattrs++;
        if (XML_GetCurrentByteCount(xs->p) > HEADER_MAX || nattrs > HEADER_MAX_ATTRS) {
            xs_fail(xs, XS_ERR_TOO_BIG, "stream header too big");
            return;
        }
        xs->depth = 1;
        if (xs->priming)
            return;
        free(xs->hdr_qname);
        {
            const char *uri, *local, *prefix;
            size_t urilen, locallen;
            split_name(name, &uri, &urilen, &local, &locallen, &prefix);
            size_t plen = prefix ? strlen(prefix) : 0;
            xs->hdr_qname = xmalloc(plen + 1 + locallen + 1);
            char *q = xs->hdr_qname;
            if (plen) {
                memcpy(q, prefix, plen);
                q[plen] = ':';
                q += plen + 1;
            }
            memcpy(q, local, locallen);
            q[locallen] = 0;
        }
        size_t cost = 0;
        xnode *h = build_element(xs, name, atts, &cost);   /* bounded by HEADER_MAX */
        if (xs->cb.open)
            xs->cb.open(xs->ud, h, hdr_default_ns(xs));
        xnode_free(h);
        return;
    }

    if (xs->depth >= xs->max_depth + 1u) {
        xs_fail(xs, XS_ERR_DEPTH, "elements nested too deeply");
        return;
    }
    if (xs->depth == 1) {
        buf_reset(&xs->text);   /* keepalive whitespace */
        XML_Index idx = XML_GetCurrentByteIndex(xs->p);
        xs->stanza_start = idx >= 0 ? (uint64_t)idx : xs->event_end;
        if (xs->event_end - xs->stanza_start > xs->max_stanza) {
            xs_fail(xs, XS_ERR_TOO_BIG, "stanza too big");   /* the start tag alone */
            return;
        }
        xs->stanza_mem = 0;
        xs->expat_at_start = xs->expat_mem;
        size_t cost = 0;
        xs->cur = build_element(xs, name, atts, &cost);
        xs->depth++;
        xs_charge(xs, cost);
    } else {
        if (!flush_text(xs))
            return;
        size_t cost = 0;
        xnode *n = build_element(xs, name, atts, &cost);
        xnode_append(xs->cur, n);
        xs->cur = n;
        xs->depth++;
        xs_charge(xs, cost);
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    xstream *xs = ud;
    if (xs_halted(xs) || !xs_track(xs))
        return;
    if (xs->depth == 1) {   /* </stream:stream> */
        xs->depth = 0;
        buf_reset(&xs->text);
        if (xs->cb.close)
            xs->cb.close(xs->ud);
        return;
    }
    if (!flush_text(xs))
        return;
    xs->depth--;
    xnode *n = xs->cur;
    xs->cur = n->parent;
    if (xs->depth == 1) {
        if (xs->text.cap > TEXT_KEEP)
            buf_free(&xs->text);
        xs->stanza_mem = 0;
        xs_ns_drop(xs, true);
        if (xs->cb.stanza)
            xs->cb.stanza(xs->ud, n);
        else
            xnode_free(n);
        /* Expat's tables grew (new names): replace the parser right here,
         * even mid-read (see the top of this file). */
        if (!xs_halted(xs) && !xs->priming && xs->expat_mem > EXPAT_MEM_MAX) {
            xs->renew_pending = true;
            if (xs->in_parse)
                XML_StopParser(xs->p, XML_FALSE);
        }
    }
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    xstream *xs = ud;
    if (xs_halted(xs) || !xs_track(xs) || len <= 0)
        return;
    if (xs->depth <= 1) {
        if (!all_space(s, (size_t)len))
            xs_fail(xs, XS_ERR_XML, "text outside a stanza");
        return;
    }
    buf_append(&xs->text, s, (size_t)len);
}

static void XMLCALL on_nsdecl(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
    xstream *xs = ud;
    if (xs_halted(xs) || xs->depth != 0)
        return;
    /* Declarations on the stream header: remembered for open() and for
     * priming a replacement parser (xs_shrink). */
    if (xs->n_hdr_ns >= HEADER_MAX_NSDECL) {
        xs_fail(xs, XS_ERR_TOO_BIG, "too many namespace declarations on the stream header");
        return;
    }
    nsdecl *d = xrealloc(xs->hdr_ns, (xs->n_hdr_ns + 1) * sizeof *d);
    xs->hdr_ns = d;
    d[xs->n_hdr_ns].prefix = prefix ? xstrndup(prefix, strlen(prefix)) : NULL;
    d[xs->n_hdr_ns].uri = xstrndup(uri ? uri : "", uri ? strlen(uri) : 0);
    xs->n_hdr_ns++;
}

static void XMLCALL on_xmldecl(void *ud, const XML_Char *version,
                               const XML_Char *encoding, int standalone)
{
    xstream *xs = ud;
    if (xs_halted(xs) || !xs_track(xs))
        return;
    if (encoding && strcasecmp(encoding, "UTF-8") != 0)
        xs_fail(xs, XS_ERR_XML, "only UTF-8 is allowed");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    xs_fail(ud, XS_ERR_RESTRICTED, "DTD");
}

static void XMLCALL on_entitydecl(void *ud, const XML_Char *name, int is_param,
                                  const XML_Char *value, int value_length,
                                  const XML_Char *base, const XML_Char *sysid,
                                  const XML_Char *pubid, const XML_Char *notation)
{
    xs_fail(ud, XS_ERR_RESTRICTED, "entity declaration");
}

static void XMLCALL on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    xs_fail(ud, XS_ERR_RESTRICTED, "processing instruction");
}

static void XMLCALL on_comment(void *ud, const XML_Char *data)
{
    xs_fail(ud, XS_ERR_RESTRICTED, "comment");
}

static void XMLCALL on_skipped(void *ud, const XML_Char *name, int is_param)
{
    xs_fail(ud, XS_ERR_RESTRICTED, "entity reference");
}

/* ---- parser lifecycle ------------------------------------------------- */

static void xs_free_parser(xstream *xs)
{
    if (!xs->p)
        return;
    xstream *saved = xs_current;
    xs_current = xs;
    XML_ParserFree(xs->p);
    xs_current = saved;
    xs->p = NULL;
}

static void xs_new_parser(xstream *xs)
{
    xs_free_parser(xs);
    xstream *saved = xs_current;
    xs_current = xs;
    xs->expat_mem = 0;
    const XML_Char sep[2] = { NS_SEP, 0 };
    xs->p = XML_ParserCreate_MM("UTF-8", &xs_mem, sep);
    xs_current = saved;
    XML_SetReturnNSTriplet(xs->p, 1);
    XML_SetUserData(xs->p, xs);
    XML_SetElementHandler(xs->p, on_start, on_end);
    XML_SetCharacterDataHandler(xs->p, on_text);
    XML_SetStartNamespaceDeclHandler(xs->p, on_nsdecl);
    XML_SetXmlDeclHandler(xs->p, on_xmldecl);
    XML_SetStartDoctypeDeclHandler(xs->p, on_doctype);
    XML_SetEntityDeclHandler(xs->p, on_entitydecl);
    XML_SetProcessingInstructionHandler(xs->p, on_pi);
    XML_SetCommentHandler(xs->p, on_comment);
    XML_SetSkippedEntityHandler(xs->p, on_skipped);
    XML_SetParamEntityParsing(xs->p, XML_PARAM_ENTITY_PARSING_NEVER);
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 6)
    /* Deferral would delay callbacks and break the byte accounting. */
    XML_SetReparseDeferralEnabled(xs->p, XML_FALSE);
#endif
    xs->fed = xs->stanza_start = xs->event_end = xs->skip = 0;
    xs->expat_at_start = xs->expat_mem;
    xs->stanza_mem = 0;
    xs->big = false;
    xs->released = false;
}

/* Drops all per-stream state and starts a fresh parser. */
static void xs_restart(xstream *xs)
{
    if (xs->cur) {
        while (xs->cur->parent)
            xs->cur = xs->cur->parent;
        xnode_free(xs->cur);
        xs->cur = NULL;
    }
    buf_free(&xs->text);
    free_hdr_ns(xs);
    xs_ns_drop(xs, false);
    xs->depth = 0;
    xs->failed = xs->stopped = xs->reset_pending = xs->renew_pending = false;
    xs_new_parser(xs);
}

xstream *xstream_new(const xstream_cb *cb, void *ud, size_t max_stanza, unsigned max_depth)
{
    xstream *xs = xcalloc(1, sizeof *xs);
    if (cb)
        xs->cb = *cb;
    xs->ud = ud;
    xs->max_stanza = max_stanza ? max_stanza : 65536;
    xs->max_depth = max_depth ? max_depth : 64;
    xs->budget = XML_TREE_BUDGET(xs->max_stanza);
    buf_init(&xs->text);
    xs_new_parser(xs);
    return xs;
}

void xstream_free(xstream *xs)
{
    if (!xs)
        return;
    if (xs->cur) {
        while (xs->cur->parent)
            xs->cur = xs->cur->parent;
        xnode_free(xs->cur);
    }
    buf_free(&xs->text);
    free_hdr_ns(xs);
    xs_ns_drop(xs, false);
    xs_free_parser(xs);
    free(xs);
}

void xstream_reset(xstream *xs)
{
    if (!xs)
        return;
    if (xs->in_feed) {   /* finished by xstream_feed once expat returns */
        if (!xs_halted(xs) && xs->in_parse && xs->p)
            XML_StopParser(xs->p, XML_FALSE);
        xs->reset_pending = true;
        return;
    }
    xs_restart(xs);
}

void xstream_stop(xstream *xs)
{
    if (!xs || xs_halted(xs))
        return;
    xs->stopped = true;
    if (xs->in_parse && xs->p)
        XML_StopParser(xs->p, XML_FALSE);
}

void xstream_set_max_stanza(xstream *xs, size_t max_stanza)
{
    if (xs && max_stanza) {
        xs->max_stanza = max_stanza;
        xs->budget = XML_TREE_BUDGET(max_stanza);
    }
}

void xstream_set_tree_budget(xstream *xs, size_t per_stanza, size_t total)
{
    if (!xs)
        return;
    if (per_stanza)
        xs->budget = per_stanza;
    xs->total_budget = total;
}

size_t xstream_tree_bytes(const xstream *xs)
{
    return xs ? xs->total_mem : 0;
}

/* ---- feeding ---------------------------------------------------------- */

/* One XML_Parse() call. Returns the number of bytes of data consumed, which
 * is less than len only when a callback asked for a reset. */
static size_t xs_parse(xstream *xs, const char *data, size_t len)
{
    uint64_t base = xs->fed;
    xstream *saved = xs_current;
    xs_current = xs;
    xs->in_parse = true;
    enum XML_Status st = XML_Parse(xs->p, data, (int)len, XML_FALSE);
    xs->in_parse = false;
    xs_current = saved;
    xs->fed += len;
    if ((xs->reset_pending || xs->renew_pending) && !xs->failed && !xs->stopped) {
        uint64_t used = xs->event_end > base ? xs->event_end - base : 0;
        return used < len ? (size_t)used : len;
    }
    if (xs_halted(xs))
        return len;
    if (st != XML_STATUS_OK) {
        enum XML_Error e = XML_GetErrorCode(xs->p);
        char detail[160];
        snprintf(detail, sizeof detail, "%s (line %lu, column %lu)", XML_ErrorString(e),
                 (unsigned long)XML_GetCurrentLineNumber(xs->p),
                 (unsigned long)XML_GetCurrentColumnNumber(xs->p));
        xs_fail(xs, XS_ERR_XML, detail);
        return len;
    }
    /* Bytes expat holds without having reported them: a tag still arriving,
     * or a stanza still open. Both are bounded here, before they pile up. */
    uint64_t pending = xs->fed - (xs->event_end > xs->skip ? xs->event_end : xs->skip);
    if (xs->cur) {
        if (xs->fed - xs->stanza_start > xs->max_stanza)
            xs_fail(xs, XS_ERR_TOO_BIG, "stanza too big");
    } else if (pending > (xs->depth ? xs->max_stanza : HEADER_MAX)) {
        xs_fail(xs, XS_ERR_TOO_BIG, xs->depth ? "stanza too big" : "stream header too big");
    }
    if (pending > SHRINK_AFTER || xs->expat_mem > EXPAT_MEM_MAX)
        xs->big = true;
    return len;
}

/* Replaces the parser by a fresh one that has seen only a synthetic stream
 * header with the same namespace declarations. Only possible between
 * stanzas, with nothing pending inside expat: at the end of a read
 * (xs_shrink) or right after a stanza's end tag (renew_pending). */
static void xs_renew(xstream *xs)
{
    buf h;
    buf_init(&h);
    buf_puts(&h, "<");
    buf_puts(&h, xs->hdr_qname);
    for (unsigned i = 0; i < xs->n_hdr_ns; i++) {
        if (xs->hdr_ns[i].prefix) {
            buf_puts(&h, " xmlns:");
            buf_puts(&h, xs->hdr_ns[i].prefix);
        } else {
            buf_puts(&h, " xmlns");
        }
        buf_puts(&h, "='");
        xml_escape(&h, xs->hdr_ns[i].uri, strlen(xs->hdr_ns[i].uri), true);
        buf_puts(&h, "'");
    }
    buf_puts(&h, ">");
    nsdecl *keep = xs->hdr_ns;
    unsigned nkeep = xs->n_hdr_ns;
    char *keep_qname = xs->hdr_qname;
    xs->hdr_ns = NULL;
    xs->n_hdr_ns = 0;
    xs->hdr_qname = NULL;
    xs_new_parser(xs);
    xs->depth = 0;
    xs->priming = true;
    xstream *saved = xs_current;
    xs_current = xs;
    xs->in_parse = true;
    enum XML_Status st = XML_Parse(xs->p, h.data, (int)h.len, XML_FALSE);
    xs->in_parse = false;
    xs_current = saved;
    xs->priming = false;
    xs->fed = xs->skip = xs->event_end = h.len;
    free_hdr_ns(xs);
    xs->hdr_ns = keep;
    xs->n_hdr_ns = nkeep;
    xs->hdr_qname = keep_qname;
    if (st != XML_STATUS_OK || xs->failed || xs->depth != 1)
        xs_fail(xs, XS_ERR_XML, "internal: cannot re-prime parser");
    buf_free(&h);
}

/* At the end of a read: replaces a parser whose buffer or tables grew. */
static void xs_shrink(xstream *xs)
{
    if (!xs->big || xs->depth != 1 || xs->cur || xs->event_end != xs->fed || !xs->hdr_qname)
        return;
    xs_renew(xs);
}

static int xs_feed_slices(xstream *xs, const char *data, size_t len)
{
    size_t pos = 0;
    if (xs->released) {
        xs_renew(xs);   /* clears released; a failure was reported */
        if (xs->failed)
            return -1;
    }
    while (pos < len) {
        size_t n = len - pos < FEED_SLICE ? len - pos : FEED_SLICE;
        pos += xs_parse(xs, data + pos, n);
        if (xs->failed || xs->stopped) {
            /* error() or a stop may itself have asked for a reset: the
             * rest of this input belongs to the broken stream */
            int rc = xs->failed ? -1 : 0;
            if (xs->reset_pending)
                xs_restart(xs);
            return rc;
        }
        if (xs->reset_pending) {
            xs_restart(xs);
        } else if (xs->renew_pending) {
            xs->renew_pending = false;
            xs_renew(xs);
            if (xs->failed)
                return -1;
        }
    }
    xs_shrink(xs);
    if (xs->text.cap > TEXT_KEEP && !xs->cur)
        buf_free(&xs->text);
    return xs->failed ? -1 : 0;
}

int xstream_feed(xstream *xs, const char *data, size_t len)
{
    if (!xs)
        return -1;
    if (xs->failed)
        return -1;
    if (xs->stopped || xs->in_feed)   /* closing, or fed re-entrantly */
        return 0;
    xs->in_feed = true;
    int rc = xs_feed_slices(xs, data, len);
    xs->in_feed = false;
    return rc;
}

/* ---- idle streams ------------------------------------------------------ */

bool xstream_release(xstream *xs)
{
    if (!xs || !xs->p || xs->released || xs->in_feed || xs->in_parse || xs_halted(xs) ||
        xs->depth != 1 || xs->cur || !xs->hdr_qname || xs->event_end != xs->fed)
        return false;
    xs_free_parser(xs);
    xs->released = true;
    xs->big = false;
    xs->expat_mem = 0;
    buf_free(&xs->text);
    xs_ns_drop(xs, false);
    return true;
}

bool xstream_released(const xstream *xs) { return xs && xs->released; }
