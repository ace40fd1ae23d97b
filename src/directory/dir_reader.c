/* dir_reader.c: reading LDAP entries into dir_entry and a host object into
 * served domains, for the directory thread and `plucs explain --offline`
 * alike (dir_reader.h says why there is only one). */
#include "directory/dir_reader.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>

void dir_reader_attrs(const char *userlabel, const char *grouplabel,
                      char *out[DIR_READER_NATTRS])
{
    static const char *const fixed[] = {
        "objectClass", "entryUUID", "uid", "cn", "xmppEnabled", "xmppDomain", "memberUid",
        "xmppMessageGroups", "xmppPresenceGroups",
        /* the password stamp of accounts (FAST token revocation) */
        "pwdChangedTime", "entryCSN", "modifyTimestamp",
        "jpegPhoto",    /* only its hash is kept: avatars follow the directory live */
        "xmppDomains", "univentionService",
    };
    size_t k = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        out[k++] = (char *)fixed[i];
    if (userlabel && *userlabel)
        out[k++] = (char *)userlabel;
    if (grouplabel && *grouplabel)
        out[k++] = (char *)grouplabel;
    out[k] = NULL;
}

/* The first value of attribute name, copied; NULL when absent. */
static char *first(const dir_attr *a, size_t n, const char *name, bool *oom)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(a[i].name, name) != 0 || !a[i].values || !a[i].values[0])
            continue;
        char *s = xstrndup(a[i].values[0]->bv_val, a[i].values[0]->bv_len);
        return s;
    }
    return NULL;
}

/* Every value of attribute name (all its occurrences), copied. */
static char **all(const dir_attr *a, size_t n, const char *name, size_t *count, bool *oom)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(a[i].name, name) == 0)
            for (size_t j = 0; a[i].values && a[i].values[j]; j++)
                k++;
    *count = 0;
    if (!k)
        return NULL;
    char **out = xcalloc(k, sizeof *out);
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(a[i].name, name) == 0)
            for (size_t j = 0; a[i].values && a[i].values[j]; j++) {
                const struct berval *v = a[i].values[j];
                if ((out[*count] = xstrndup(v->bv_val, v->bv_len)))
                    (*count)++;
                else
                    *oom = true;
            }
    return out;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The hex SHA-1 of the first jpegPhoto value into out ("" without one). */
static void photo_hash(const dir_attr *a, size_t n, char out[41])
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(a[i].name, "jpegPhoto") != 0 || !a[i].values || !a[i].values[0] ||
            !a[i].values[0]->bv_len)
            continue;
        unsigned char md[SHA_DIGEST_LENGTH];
        if (!SHA1((const unsigned char *)a[i].values[0]->bv_val, a[i].values[0]->bv_len, md))
            return;
        for (int k = 0; k < SHA_DIGEST_LENGTH; k++)
            sprintf(out + 2 * k, "%02x", md[k]);
        return;
    }
}

static bool value_is(const struct berval *v, const char *s)
{
    size_t len = strlen(s);
    return v->bv_len == len && strncasecmp(v->bv_val, s, len) == 0;
}

dir_entry *dir_entry_from_attrs(const char *dn, const dir_attr *a, size_t n,
                                const char *userlabel, const char *grouplabel, const char *key)
{
    dir_entry *e = xcalloc(1, sizeof *e);
    bool oom = false;
    e->dn = dn ? xstrdup(dn) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(a[i].name, "objectClass") != 0)
            continue;
        for (size_t j = 0; a[i].values && a[i].values[j]; j++) {
            const struct berval *v = a[i].values[j];
            if (value_is(v, "univentionXMPPAccount"))
                e->kinds |= DIR_E_ACCOUNT;
            else if (value_is(v, "univentionXMPPGroup"))
                e->kinds |= DIR_E_GROUP;
            else if (value_is(v, "univentionXMPPHost"))
                e->kinds |= DIR_E_HOST;
        }
    }
    char *en = first(a, n, "xmppEnabled", &oom);
    e->enabled = en && strcmp(en, "TRUE") == 0;
    free(en);
    if (key)
        e->key = xstrdup(key);
    else if ((e->key = first(a, n, "entryUUID", &oom)))
        for (char *p = e->key; *p; p++)        /* ASCII only: not the locale's */
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    else if (e->dn)
        e->key = xstrdup(e->dn);
    e->cn = first(a, n, "cn", &oom);
    if (e->kinds & DIR_E_ACCOUNT) {
        e->uid = first(a, n, "uid", &oom);
        e->domain = first(a, n, "xmppDomain", &oom);
        e->ulabel = first(a, n, userlabel, &oom);
        /* pwdChangedTime (ppolicy) when the directory keeps it; else any
         * modification of the entry counts as a possible password change:
         * entryCSN (OpenLDAP, microseconds and a change count) rather than
         * modifyTimestamp, which two changes within one second share */
        static const char *const stamps[] = { "pwdChangedTime", "entryCSN", "modifyTimestamp" };
        for (size_t i = 0; i < 3 && !e->pwstamp; i++) {
            char *v = first(a, n, stamps[i], &oom);
            if (v) {
                size_t len = strlen(v) + 3;
                e->pwstamp = xmalloc(len);
                snprintf(e->pwstamp, len, "%c:%s", "pcm"[i], v);
                free(v);
            }
        }
        photo_hash(a, n, e->photo);
    }
    if (e->kinds & DIR_E_GROUP) {
        e->glabel = first(a, n, grouplabel, &oom);
        e->members = all(a, n, "memberUid", &e->nmembers, &oom);
        e->mgroups = all(a, n, "xmppMessageGroups", &e->nmgroups, &oom);
        e->pgroups = all(a, n, "xmppPresenceGroups", &e->npgroups, &oom);
    }
    if (e->kinds & DIR_E_HOST) {
        /* only compared (dir_entry_same): a change re-reads the host object */
        size_t nd = 0, ns = 0;
        char **dv = all(a, n, "xmppDomains", &nd, &oom);
        char **sv = all(a, n, "univentionService", &ns, &oom);
        size_t len = 4;
        for (size_t i = 0; i < nd; i++)
            len += strlen(dv[i]) + 1;
        for (size_t i = 0; i < ns; i++)
            len += strlen(sv[i]) + 1;
        if ((e->hostattrs = xmalloc(len))) {
            char *p = e->hostattrs;
            for (size_t i = 0; i < nd; i++)
                p += sprintf(p, "%s ", dv[i]);
            p += sprintf(p, "| ");
            for (size_t i = 0; i < ns; i++)
                p += sprintf(p, "%s ", sv[i]);
        } else {
            oom = true;
        }
        free_list(dv, nd);
        free_list(sv, ns);
    }
    if (oom || !e->dn || !e->key) {
        dir_entry_free(e);
        return NULL;
    }
    return e;
}

char *dir_host_filter(const char *hostname)
{
    char *esc = ldap_filter_escape(hostname ? hostname : "");
    if (!esc)
        return NULL;
    char *f = NULL;
    if (asprintf(&f, "(&(objectClass=univentionXMPPHost)(cn=%s))", esc) < 0)
        f = NULL;
    free(esc);
    return f;
}

int dir_host_domains(const dir_attr *a, size_t n, char ***domains, size_t *nd)
{
    bool service = false, xmpp = false;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(a[i].name, "univentionService") == 0)
            for (size_t j = 0; a[i].values && a[i].values[j]; j++) {
                service = true;
                if (value_is(a[i].values[j], "XMPP"))
                    xmpp = true;
            }
    if (service && !xmpp)
        return 1;
    bool oom = false;
    size_t k = 0;
    char **v = all(a, n, "xmppDomains", &k, &oom);
    if (oom) {
        free_list(v, k);
        return -1;
    }
    if (!k)
        return 0;
    char **grown = xrealloc(*domains, (*nd + k + 1) * sizeof *grown);
    memcpy(grown + *nd, v, k * sizeof *v);
    *nd += k;
    grown[*nd] = NULL;
    *domains = grown;
    free(v);
    return 0;
}

int dir_attrs_from_ldap(LDAP *ld, LDAPMessage *msg, dir_attrs *out)
{
    memset(out, 0, sizeof *out);
    char *dn = ldap_get_dn(ld, msg);
    out->dn = dn ? xstrdup(dn) : NULL;
    ldap_memfree(dn);
    if (!out->dn)
        return -1;
    size_t cap = 0;
    bool failed = false;
    BerElement *ber = NULL;
    for (char *name = ldap_first_attribute(ld, msg, &ber); name;
         name = ldap_next_attribute(ld, msg, ber)) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            dir_attr *g = xrealloc(out->v, cap * sizeof *g);
            out->v = g;
        }
        struct berval **vals = ldap_get_values_len(ld, msg, name);
        char *copy = xstrdup(name);
        ldap_memfree(name);
        if (!copy) {
            ldap_value_free_len(vals);
            failed = true;
            break;
        }
        out->v[out->n].name = copy;
        out->v[out->n].values = vals;
        out->n++;
    }
    ber_free(ber, 0);
    if (failed) {           /* an entry missing attributes would read wrong */
        dir_attrs_free(out);
        return -1;
    }
    return 0;
}

void dir_attrs_free(dir_attrs *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free((char *)a->v[i].name);
        ldap_value_free_len(a->v[i].values);
    }
    free(a->v);
    free(a->dn);
    memset(a, 0, sizeof *a);
}

dir_entry *dir_entry_from_ldap(LDAP *ld, LDAPMessage *msg, const char *userlabel,
                               const char *grouplabel, const char *key)
{
    dir_attrs a;
    if (dir_attrs_from_ldap(ld, msg, &a) != 0)
        return NULL;
    dir_entry *e = dir_entry_from_attrs(a.dn, a.v, a.n, userlabel, grouplabel, key);
    dir_attrs_free(&a);
    return e;
}
