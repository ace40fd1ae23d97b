/* s2s_certname.c: does a peer's certificate name an XMPP domain? RFC 6125
 * as RFC 6120 §13.7.1.2 applies it to server-to-server streams: SAN dNSName
 * (DNS-ID, wildcards only as the whole left-most label), SRV-ID otherName
 * id-on-dnsSRV "_xmpp-server.DOMAIN", XmppAddr otherName equal to the
 * domain; the subject CN only when the certificate presents no DNS-ID,
 * SRV-ID, URI-ID or XmppAddr at all (RFC 6125 §6.4.4). Written out rather
 * than X509_check_host, which knows neither SRV-ID nor XmppAddr and would
 * fall back to the CN in the presence of an SRV-ID-only certificate. */
#include "transport/s2s_certname.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "transport/s2s_tls.h"

/* domain without one trailing dot: its length. */
static size_t dlen(const char *d)
{
    size_t n = strlen(d);
    if (n > 0 && d[n - 1] == '.')
        n--;
    return n;
}

bool s2s_dns_name_matches(const char *p, size_t plen, const char *domain)
{
    size_t n = dlen(domain);
    if (plen > 0 && p[plen - 1] == '.')
        plen--;
    if (plen == 0 || n == 0 || memchr(p, '\0', plen))
        return false;
    if (plen == n && strncasecmp(p, domain, n) == 0)
        return p[0] != '*';
    /* "*.rest": rest must have two labels or more, and the domain is one
     * non-empty label followed by ".rest". */
    if (plen < 3 || p[0] != '*' || p[1] != '.')
        return false;
    const char *rest = p + 2;
    size_t rlen = plen - 2;
    if (!memchr(rest, '.', rlen) || memchr(rest, '*', rlen))
        return false;
    const char *dot = memchr(domain, '.', n);
    if (!dot || dot == domain)
        return false;
    size_t tail = n - (size_t)(dot + 1 - domain);
    return tail == rlen && strncasecmp(dot + 1, rest, rlen) == 0;
}

static bool asn1_str_eq(const ASN1_STRING *s, const char *want, size_t wlen)
{
    const unsigned char *d = ASN1_STRING_get0_data(s);
    size_t l = (size_t)ASN1_STRING_length(s);
    return l == wlen && !memchr(d, '\0', l) && strncasecmp((const char *)d, want, l) == 0;
}

/* An otherName of type nid with a string value, or NULL. */
static const ASN1_STRING *other_name(const GENERAL_NAME *g, int nid, int vtype)
{
    if (g->type != GEN_OTHERNAME || OBJ_obj2nid(g->d.otherName->type_id) != nid)
        return NULL;
    const ASN1_TYPE *v = g->d.otherName->value;
    if (!v || v->type != vtype)
        return NULL;
    return v->value.asn1_string;
}

bool s2s_cert_names(struct x509_st *cert, const char *domain)
{
    if (!cert || !domain || !*domain)
        return false;
    size_t n = dlen(domain);
    char srv[300];
    int sl = snprintf(srv, sizeof srv, "_xmpp-server.%.*s", (int)n, domain);
    bool has_ids = false, ok = false;
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !ok; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const ASN1_STRING *s;
        if (g->type == GEN_DNS) {
            has_ids = true;
            ok = s2s_dns_name_matches((const char *)ASN1_STRING_get0_data(g->d.dNSName),
                                      (size_t)ASN1_STRING_length(g->d.dNSName), domain);
        } else if (g->type == GEN_URI) {
            has_ids = true;   /* a URI-ID: no CN fallback, no match for us */
        } else if ((s = other_name(g, NID_SRVName, V_ASN1_IA5STRING))) {
            has_ids = true;
            ok = sl > 0 && (size_t)sl < sizeof srv && asn1_str_eq(s, srv, (size_t)sl);
        } else if ((s = other_name(g, NID_XmppAddr, V_ASN1_UTF8STRING))) {
            has_ids = true;
            ok = asn1_str_eq(s, domain, n);
        } else if (g->type == GEN_OTHERNAME) {
            int nid = OBJ_obj2nid(g->d.otherName->type_id);
            if (nid == NID_SRVName || nid == NID_XmppAddr)
                has_ids = true;   /* malformed value: still present */
        }
    }
    GENERAL_NAMES_free(gens);
    if (ok || has_ids)
        return ok;
    X509_NAME *subj = X509_get_subject_name(cert);
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0;) {
        const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
        unsigned char *u = NULL;
        int ul = ASN1_STRING_to_UTF8(&u, cn);
        bool m = ul > 0 && s2s_dns_name_matches((const char *)u, (size_t)ul, domain);
        OPENSSL_free(u);
        if (m)
            return true;
    }
    return false;
}

static void append(char *buf, size_t len, const char *prefix, const unsigned char *d, int l)
{
    size_t o = strlen(buf);
    if (o + 1 >= len)
        return;
    snprintf(buf + o, len - o, "%s%s%.*s", o ? ", " : "", prefix, l, (const char *)d);
}

void s2s_cert_describe(X509 *cert, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const ASN1_STRING *s = NULL;
        const char *prefix = "";
        if (g->type == GEN_DNS)
            s = g->d.dNSName;
        else if (g->type == GEN_URI)
            s = g->d.uniformResourceIdentifier, prefix = "URI:";
        else if ((s = other_name(g, NID_SRVName, V_ASN1_IA5STRING)))
            prefix = "SRV:";
        else if ((s = other_name(g, NID_XmppAddr, V_ASN1_UTF8STRING)))
            prefix = "xmpp:";
        if (s)
            append(buf, len, prefix, ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
    }
    GENERAL_NAMES_free(gens);
    if (buf[0])
        return;
    X509_NAME *subj = X509_get_subject_name(cert);
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0;) {
        const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
        append(buf, len, "CN=", ASN1_STRING_get0_data(cn), ASN1_STRING_length(cn));
    }
    if (!buf[0])
        snprintf(buf, len, "no name");
}
