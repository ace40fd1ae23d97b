/* jid.c: parsing and preparing JIDs (RFC 7622 in spirit, with the RFC 3920
 * stringprep profiles libidn provides: nodeprep, nameprep, resourceprep).
 * Every to/from address of every stanza passes through here, so pure ASCII
 * parts, by far the common case, take a fast path that gives the same result
 * as the stringprep profiles without their UCS-4 round trips. */
#include "xmpp/jid.h"
#include "core/alloc.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <stringprep.h>

#include "xmpp/utf8.h"

/* Raw parts longer than this cannot prepare to JID_PART_MAX bytes in any
 * sane way; refusing them early bounds the work done on hostile input. */
#define JID_RAW_MAX (4 * JID_PART_MAX)

static bool is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

enum prep_kind { PREP_NODE, PREP_NAME, PREP_RESOURCE };

/* Runs a stringprep profile on a non-ASCII part. */
static char *prep_slow(const char *s, size_t n, enum prep_kind kind)
{
    if (!utf8_valid(s, n))
        return NULL;
    size_t cap = n + 1 > JID_PART_MAX + 1 ? n + 1 : JID_PART_MAX + 1;
    char *b = xmalloc(cap);
    memcpy(b, s, n);
    b[n] = 0;
    int rc;
    switch (kind) {
    case PREP_NODE: rc = stringprep_xmpp_nodeprep(b, cap); break;
    case PREP_NAME: rc = stringprep_nameprep(b, cap); break;
    default: rc = stringprep_xmpp_resourceprep(b, cap); break;
    }
    if (rc != STRINGPREP_OK) {
        free(b);
        return NULL;
    }
    return b;
}

/* Prepares one part; NULL when invalid. */
static char *prep_part(const char *s, size_t n, enum prep_kind kind)
{
    if (n == 0 || n > JID_RAW_MAX)
        return NULL;
    char *out;
    if (is_ascii(s, n)) {
        out = xstrndup(s, n);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)out[i];
            if (c < 0x20 || c == 0x7f) {   /* ASCII controls: prohibited everywhere */
                free(out);
                return NULL;
            }
            if (kind != PREP_RESOURCE && c >= 'A' && c <= 'Z')
                out[i] = (char)(c + 32);
        }
    } else {
        out = prep_slow(s, n, kind);
        if (!out)
            return NULL;
    }
    size_t len = strlen(out);
    if (len == 0 || len > JID_PART_MAX) {
        free(out);
        return NULL;
    }
    if (kind == PREP_NODE && strpbrk(out, " \"&'/:<>@")) {
        free(out);
        return NULL;
    }
    return out;
}

char *jid_nodeprep(const char *s)
{
    return s ? prep_part(s, strlen(s), PREP_NODE) : NULL;
}

char *jid_resourceprep(const char *s)
{
    return s ? prep_part(s, strlen(s), PREP_RESOURCE) : NULL;
}

/* Checks a prepared domain: an IP literal or dot-separated labels. */
static bool domain_valid(char *d)
{
    size_t len = strlen(d);
    if (d[0] == '[') {   /* IPv6 literal */
        if (len < 3 || d[len - 1] != ']' || len - 2 >= INET6_ADDRSTRLEN)
            return false;
        char tmp[INET6_ADDRSTRLEN];
        memcpy(tmp, d + 1, len - 2);
        tmp[len - 2] = 0;
        struct in6_addr a6;
        return inet_pton(AF_INET6, tmp, &a6) == 1;
    }
    const char *label = d;
    bool wide = false;   /* label has non-ASCII: its DNS form is an A-label */
    for (const char *p = d;; p++) {
        if (*p == '.' || *p == 0) {
            size_t l = (size_t)(p - label);
            if (l == 0 || (l > 63 && !wide))
                return false;
            wide = false;
            if (label[0] == '-' || p[-1] == '-')
                return false;
            if (*p == 0)
                break;
            label = p + 1;
            continue;
        }
        unsigned char c = (unsigned char)*p;
        if (c >= 0x80) {
            wide = true;   /* prepared non-ASCII is fine */
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

char *jid_nameprep(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n > 1 && s[n - 1] == '.')   /* one trailing dot: the DNS root */
        n--;
    char *d = prep_part(s, n, PREP_NAME);
    if (!d)
        return NULL;
    if (!domain_valid(d)) {
        free(d);
        return NULL;
    }
    return d;
}

int jid_parse(const char *s, jid *out)
{
    if (!out)
        return -1;
    out->node = out->domain = out->resource = NULL;
    if (!s)
        return -1;
    const char *slash = strchr(s, '/');
    size_t barelen = slash ? (size_t)(slash - s) : strlen(s);
    const char *at = memchr(s, '@', barelen);
    const char *dom = at ? at + 1 : s;
    size_t domlen = barelen - (size_t)(dom - s);

    jid j = { NULL, NULL, NULL };
    if (at && !(j.node = prep_part(s, (size_t)(at - s), PREP_NODE)))
        goto bad;
    if (slash && !(j.resource = prep_part(slash + 1, strlen(slash + 1), PREP_RESOURCE)))
        goto bad;
    if (domlen == 0 || domlen > JID_RAW_MAX)
        goto bad;
    char *raw = xstrndup(dom, domlen);
    j.domain = jid_nameprep(raw);
    free(raw);
    if (!j.domain)
        goto bad;
    *out = j;
    return 0;
bad:
    jid_clear(&j);
    return -1;
}

void jid_clear(jid *j)
{
    if (!j)
        return;
    free(j->node);
    free(j->domain);
    free(j->resource);
    j->node = j->domain = j->resource = NULL;
}

int jid_copy(const jid *src, jid *dst)
{
    if (!src || !dst || !src->domain)
        return -1;
    dst->node = src->node ? xstrndup(src->node, strlen(src->node)) : NULL;
    dst->domain = xstrndup(src->domain, strlen(src->domain));
    dst->resource = src->resource ? xstrndup(src->resource, strlen(src->resource)) : NULL;
    return 0;
}

static char *jid_join(const jid *j, bool full)
{
    size_t nl = j->node ? strlen(j->node) : 0;
    size_t dl = j->domain ? strlen(j->domain) : 0;
    size_t rl = full && j->resource ? strlen(j->resource) : 0;
    char *s = xmalloc(nl + 1 + dl + 1 + rl + 1), *p = s;
    if (j->node) {
        memcpy(p, j->node, nl);
        p += nl;
        *p++ = '@';
    }
    if (dl) {
        memcpy(p, j->domain, dl);
        p += dl;
    }
    if (full && j->resource) {
        *p++ = '/';
        memcpy(p, j->resource, rl);
        p += rl;
    }
    *p = 0;
    return s;
}

char *jid_to_string(const jid *j) { return j ? jid_join(j, true) : NULL; }
char *jid_bare_string(const jid *j) { return j ? jid_join(j, false) : NULL; }

static bool part_equal(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool jid_bare_equal(const jid *a, const jid *b)
{
    if (!a || !b)
        return false;
    return part_equal(a->node, b->node) && part_equal(a->domain, b->domain);
}

bool jid_equal(const jid *a, const jid *b)
{
    return jid_bare_equal(a, b) && part_equal(a->resource, b->resource);
}
