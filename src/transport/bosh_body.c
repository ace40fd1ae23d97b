/* bosh_body.c: see bosh_body.h. The body is parsed like a tiny stream: the
 * <body> element is the "header", each child a "stanza", so the limits of
 * the stream parser (stanza size, depth, no DTD/entities/comments) hold for
 * BOSH exactly as for TCP, and the memory all children of one body take
 * is bounded like that of one stanza (xstream_set_tree_budget). */
#include "transport/bosh_body.h"
#include "core/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/framing.h"

typedef struct parse_state {
    bosh_body *b;
    xnode *last;
    bool opened, closed, failed;
    char why[96];
} parse_state;

static void retag(xnode *n)
{
    if (!n->name)
        return;
    if (n->ns && !strcmp(n->ns, NS_HTTPBIND))
        xnode_set_ns(n, NS_CLIENT);
    for (xnode *k = n->children; k; k = k->next)
        retag(k);
}

static void p_open(void *ud, const xnode *hdr, const char *default_ns)
{
    parse_state *ps = ud;
    ps->opened = true;
    if (strcmp(hdr->name, "body") || strcmp(hdr->ns, NS_HTTPBIND)) {
        snprintf(ps->why, sizeof ps->why, "root element is not <body xmlns='%s'/>", NS_HTTPBIND);
        ps->failed = true;
        return;
    }
    ps->b->attrs = xnode_copy(hdr);
}

static void p_stanza(void *ud, xnode *el)
{
    parse_state *ps = ud;
    if (ps->failed || ps->closed) {
        xnode_free(el);
        return;
    }
    retag(el);
    el->next = NULL;
    if (ps->last)
        ps->last->next = el;
    else
        ps->b->kids = el;
    ps->last = el;
    ps->b->nkids++;
}

static void p_close(void *ud) { ((parse_state *)ud)->closed = true; }

static void p_error(void *ud, xstream_err kind, const char *detail)
{
    parse_state *ps = ud;
    ps->failed = true;
    snprintf(ps->why, sizeof ps->why, "%s", detail ? detail : "not well-formed");
}

int bosh_body_parse(const char *data, size_t len, size_t max_stanza, bosh_body *b, char *err,
                    size_t errlen)
{
    static const xstream_cb cb = { p_open, p_stanza, p_close, p_error };
    memset(b, 0, sizeof *b);
    parse_state ps = { .b = b };
    xstream *xs = xstream_new(&cb, &ps, max_stanza, 64);
    /* All children are kept until the body is handled: their trees share
     * one budget, as if they were one stanza (the body is at most
     * max_stanza plus some slack in bytes). */
    xstream_set_tree_budget(xs, 0, XML_TREE_BUDGET(max_stanza));
    xstream_feed(xs, data, len);
    xstream_free(xs);
    if (!ps.failed && (!ps.opened || !ps.closed))
        snprintf(ps.why, sizeof ps.why, "%s", ps.opened ? "incomplete <body/>" : "empty request");
    if (ps.failed || !ps.opened || !ps.closed || !b->attrs) {
        if (err && errlen)
            snprintf(err, errlen, "%s", ps.why[0] ? ps.why : "not a <body/>");
        bosh_body_clear(b);
        return -1;
    }
    return 0;
}

void bosh_body_clear(bosh_body *b)
{
    xnode_free(b->attrs);
    while (b->kids) {
        xnode *next = b->kids->next;
        b->kids->next = NULL;
        xnode_free(b->kids);
        b->kids = next;
    }
    memset(b, 0, sizeof *b);
}

const char *bosh_attr_xbosh(const xnode *body, const char *local)
{
    for (size_t i = 0; i < body->nattrs; i++) {
        const xattr *a = &body->attrs[i];
        if (!a->ns || strcmp(a->ns, NS_XBOSH) || !a->name)
            continue;
        const char *c = strchr(a->name, ':');
        if (!strcmp(c ? c + 1 : a->name, local))
            return a->value;
    }
    return NULL;
}

long bosh_attr_long(const xnode *body, const char *name, long def)
{
    const char *v = xnode_attr(body, name);
    if (!v || !*v)
        return def;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < 0)
        return def;
    return n;
}

bool bosh_attr_rid(const xnode *body, uint64_t *rid)
{
    const char *v = xnode_attr(body, "rid");
    if (!v || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 16)
        return false;
    unsigned long long n = strtoull(v, NULL, 10);
    if (n == 0 || n >= (1ull << 53))
        return false;
    *rid = n;
    return true;
}

rid_verdict bosh_rid_check(uint64_t next, unsigned window, uint64_t rid)
{
    if (rid < next)
        return RID_OLD;
    if (rid == next)
        return RID_NEXT;
    if (rid - next < window)
        return RID_AHEAD;
    return RID_OUTSIDE;
}
