/* dir_query_filter.c: the LDAP filters of the directory queries (see
 * dir_query.h), pure so that the unit tests can check that every value a
 * user typed is escaped (RFC 4515) and cannot change a filter's meaning.
 * The account filter is directory.md's; the search filter ANDs one
 * substring assertion per filled field inside the domain's enabled
 * accounts. */
#include "directory/dir_query.h"
#include "directory/directory.h"
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *dir_account_filter(const char *uid, const char *domain)
{
    char *u = ldap_filter_escape(uid), *d = ldap_filter_escape(domain), *f = NULL;
    if (!u || !d || asprintf(&f, "(&(objectClass=univentionXMPPAccount)(uid=%s)"
                             "(xmppEnabled=TRUE)(xmppDomain=%s))", u, d) < 0)
        f = NULL;
    free(u);
    free(d);
    return f;
}

char *dir_substring_filter(const char *attr, const char *value, size_t len)
{
    char *v = ldap_filter_escape_len(value, len), *f = NULL;
    if (!v || asprintf(&f, "(%s=*%s*)", attr, v) < 0)
        f = NULL;
    free(v);
    return f;
}

/* The term without surrounding white space; *len 0 when not filled. */
static const char *trimmed(const char *s, size_t *len)
{
    *len = 0;
    if (!s)
        return NULL;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    *len = n;
    return s;
}

/* Appends (attr=*term*) for a filled term; false on allocation failure. */
static bool add_term(buf *b, const char *attr, const char *term)
{
    size_t len;
    const char *t = trimmed(term, &len);
    if (len == 0)
        return true;
    char *f = dir_substring_filter(attr, t, len);
    if (!f)
        return false;
    buf_puts(b, f);
    free(f);
    return true;
}

char *dir_search_filter(const char *domain, const dir_search_terms *t)
{
    char *d = ldap_filter_escape(domain);
    if (!d)
        return NULL;
    buf b;
    buf_init(&b);
    buf_puts(&b, "(&(objectClass=univentionXMPPAccount)(xmppEnabled=TRUE)(xmppDomain=");
    buf_puts(&b, d);
    buf_puts(&b, ")");
    free(d);
    bool ok = add_term(&b, "uid", t->uid) && add_term(&b, "givenName", t->given) &&
              add_term(&b, "sn", t->family);
    size_t elen;
    trimmed(t->email, &elen);
    if (ok && elen) {
        buf_puts(&b, "(|");
        ok = add_term(&b, "mailPrimaryAddress", t->email) && add_term(&b, "mail", t->email);
        buf_puts(&b, ")");
    }
    buf_puts(&b, ")");
    if (!ok) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}
