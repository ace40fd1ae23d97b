/* cli_offline.c: the directory snapshot compiled by the `plucs` tool itself,
 * for `plucs explain` when no plucsd runs (or with --offline). It reads what
 * the directory thread reads, the way it reads it, but synchronously (the
 * tool has nothing else to do): simple bind as ldap/hostdn with the secret
 * file over the configured servers in order, the host object for the served
 * domains (or plucs/domains), the enabled XMPP accounts and groups with
 * paged searches, and then the same builder and permission compiler as the
 * server (dir_build.c, dir_permissions.c). It keeps the raw entries, so it
 * can also say which names in a group's lists were ignored. */
#include "cli/cli.h"

#include "directory/dir_build.h"
#include "core/secret.h"

#include <ctype.h>
#include <errno.h>
#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFFLINE_NET_TIMEOUT_S 5
#define OFFLINE_PAGE_SIZE 500

/* A bound handle to the first server that accepts the bind, or NULL. */
static LDAP *connect_bind(const config *c, char *err, size_t errlen)
{
    char secret[1024];
    if (secret_read(c->ldap_secretfile, secret, sizeof secret, err, errlen) != 0)
        return NULL;
    struct berval cred = { strlen(secret), secret };
    size_t o = 0;
    err[0] = '\0';
    for (size_t i = 0; c->ldap_uris && c->ldap_uris[i]; i++) {
        const char *uri = c->ldap_uris[i];
        LDAP *ld = NULL;
        int rc = ldap_initialize(&ld, uri);
        if (rc == LDAP_SUCCESS) {
            int v3 = LDAP_VERSION3, zero = 0, demand = LDAP_OPT_X_TLS_DEMAND;
            struct timeval net = { OFFLINE_NET_TIMEOUT_S, 0 }, api = { 30, 0 };
            ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
            ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
            ldap_set_option(ld, LDAP_OPT_TIMEOUT, &api);
            ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
            if (strncasecmp(uri, "ldaps://", 8) == 0) {
                if (c->ldap_cacert)
                    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c->ldap_cacert);
                ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
                ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
            }
            rc = ldap_sasl_bind_s(ld, c->ldap_hostdn ? c->ldap_hostdn : "", LDAP_SASL_SIMPLE, &cred,
                                  NULL, NULL, NULL);
            if (rc == LDAP_SUCCESS) {
                explicit_bzero(secret, sizeof secret);
                return ld;
            }
        }
        char *diag = NULL;
        if (ld)
            ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
        if (o < errlen)
            o += (size_t)snprintf(err + o, errlen - o, "%s%s: %s%s%s", o ? "; " : "", uri,
                                  ldap_err2string(rc), diag && *diag ? " - " : "",
                                  diag && *diag ? diag : "");
        ldap_memfree(diag);
        if (ld)
            ldap_unbind_ext_s(ld, NULL, NULL);
    }
    explicit_bzero(secret, sizeof secret);
    if (!err[0])
        snprintf(err, errlen, "no LDAP server configured (ldap/server/name or plucs/ldap/uri)");
    return NULL;
}

static char *first(LDAP *ld, LDAPMessage *m, const char *attr)
{
    struct berval **v = ldap_get_values_len(ld, m, attr);
    char *s = (v && v[0]) ? strndup(v[0]->bv_val, v[0]->bv_len) : NULL;
    ldap_value_free_len(v);
    return s;
}

static char **all(LDAP *ld, LDAPMessage *m, const char *attr, size_t *n)
{
    struct berval **v = ldap_get_values_len(ld, m, attr);
    *n = 0;
    size_t k = 0;
    while (v && v[k])
        k++;
    char **out = k ? calloc(k, sizeof *out) : NULL;
    for (size_t i = 0; out && i < k; i++)
        if ((out[*n] = strndup(v[i]->bv_val, v[i]->bv_len)))
            (*n)++;
    ldap_value_free_len(v);
    return out;
}

/* The same reading as the directory thread's dir_entry_read(). */
static dir_entry *entry_read(LDAP *ld, LDAPMessage *msg, const config *c)
{
    dir_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    char *dn = ldap_get_dn(ld, msg);
    e->dn = dn ? strdup(dn) : NULL;
    ldap_memfree(dn);
    struct berval **oc = ldap_get_values_len(ld, msg, "objectClass");
    for (size_t i = 0; oc && oc[i]; i++) {
        const struct berval *v = oc[i];
#define IS(name) (v->bv_len == sizeof name - 1 && strncasecmp(v->bv_val, name, v->bv_len) == 0)
        if (IS("univentionXMPPAccount"))
            e->kinds |= DIR_E_ACCOUNT;
        else if (IS("univentionXMPPGroup"))
            e->kinds |= DIR_E_GROUP;
#undef IS
    }
    ldap_value_free_len(oc);
    char *en = first(ld, msg, "xmppEnabled");
    e->enabled = en && strcmp(en, "TRUE") == 0;
    free(en);
    if ((e->key = first(ld, msg, "entryUUID")))
        for (char *p = e->key; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    else if (e->dn)
        e->key = strdup(e->dn);
    e->cn = first(ld, msg, "cn");
    if (e->kinds & DIR_E_ACCOUNT) {
        e->uid = first(ld, msg, "uid");
        e->domain = first(ld, msg, "xmppDomain");
        e->ulabel = first(ld, msg, c->userlabel);
    }
    if (e->kinds & DIR_E_GROUP) {
        e->glabel = first(ld, msg, c->grouplabel);
        e->members = all(ld, msg, "memberUid", &e->nmembers);
        e->mgroups = all(ld, msg, "xmppMessageGroups", &e->nmgroups);
        e->pgroups = all(ld, msg, "xmppPresenceGroups", &e->npgroups);
    }
    if (!e->dn || !e->key) {
        dir_entry_free(e);
        return NULL;
    }
    return e;
}

static int push_entry(cli_directory *d, dir_entry *e)
{
    dir_entry **n = realloc(d->entries, (d->nentries + 1) * sizeof *n);
    if (!n) {
        dir_entry_free(e);
        return -1;
    }
    d->entries = n;
    d->entries[d->nentries++] = e;
    return 0;
}

/* A paged subtree search below ldap/base; each entry goes to push_entry. */
static int search_all(LDAP *ld, const config *c, const char *filter, cli_directory *d,
                      char *err, size_t errlen)
{
    char *attrs[] = { "objectClass", "entryUUID", "uid", "cn", "xmppEnabled", "xmppDomain",
                      "memberUid", "xmppMessageGroups", "xmppPresenceGroups",
                      c->userlabel, c->grouplabel, NULL };
    struct berval *cookie = NULL;
    int result = -1;
    for (;;) {
        LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL };
        int rc = ldap_create_page_control(ld, OFFLINE_PAGE_SIZE, cookie, 0, &page);
        if (rc != LDAP_SUCCESS)
            break;
        ctrls[0] = page;
        LDAPMessage *res = NULL;
        rc = ldap_search_ext_s(ld, c->ldap_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, ctrls, NULL,
                               NULL, 0, &res);
        ldap_control_free(page);
        if (rc != LDAP_SUCCESS) {
            snprintf(err, errlen, "searching %s below %s: %s", filter, c->ldap_base,
                     ldap_err2string(rc));
            ldap_msgfree(res);
            break;
        }
        for (LDAPMessage *m = ldap_first_entry(ld, res); m; m = ldap_next_entry(ld, m)) {
            dir_entry *e = entry_read(ld, m, c);
            if (e && push_entry(d, e) != 0)
                e = NULL;
            if (!e) {
                snprintf(err, errlen, "out of memory");
                ldap_msgfree(res);
                goto out;
            }
        }
        LDAPControl **sctrls = NULL;
        int prc = ldap_parse_result(ld, res, &rc, NULL, NULL, NULL, &sctrls, 1);
        if (prc != LDAP_SUCCESS || rc != LDAP_SUCCESS) {
            snprintf(err, errlen, "searching %s below %s: %s", filter, c->ldap_base,
                     ldap_err2string(prc != LDAP_SUCCESS ? prc : rc));
            ldap_controls_free(sctrls);
            break;
        }
        LDAPControl *pr = sctrls ? ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, sctrls, NULL) : NULL;
        ber_int_t count = 0;
        struct berval next = { 0, NULL };
        if (pr && ldap_parse_pageresponse_control(ld, pr, &count, &next) != LDAP_SUCCESS)
            next.bv_len = 0;
        ldap_controls_free(sctrls);
        ber_bvfree(cookie);
        cookie = NULL;
        if (!next.bv_len) {
            ber_memfree(next.bv_val);
            result = 0;
            break;
        }
        cookie = ber_bvdup(&next);
        ber_memfree(next.bv_val);
        if (!cookie)
            break;
    }
out:
    ber_bvfree(cookie);
    return result;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_domain(cli_directory *d, const char *dom, size_t len)
{
    char *s = strndup(dom, len);
    char **n = s ? realloc(d->domains, (d->ndomains + 2) * sizeof *n) : NULL;
    if (!n) {
        free(s);
        return -1;
    }
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    d->domains = n;
    d->domains[d->ndomains++] = s;
    d->domains[d->ndomains] = NULL;
    return 0;
}

/* The served domains: plucs/domains, else the host object (as dir_hosts.c). */
static int read_domains(LDAP *ld, const config *c, cli_directory *d, char *err, size_t errlen)
{
    if (c->domains) {
        for (size_t i = 0; c->domains[i]; i++)
            if (add_domain(d, c->domains[i], strlen(c->domains[i])) != 0)
                return -1;
    } else {
        char *esc = ldap_filter_escape(c->hostname ? c->hostname : "");
        char *filter = NULL;
        if (!esc || asprintf(&filter, "(&(objectClass=univentionXMPPHost)(cn=%s))", esc) < 0)
            filter = NULL;
        free(esc);
        if (!filter)
            return -1;
        char *attrs[] = { "xmppDomains", "univentionService", NULL };
        LDAPMessage *res = NULL;
        int rc = ldap_search_ext_s(ld, c->ldap_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL,
                                   NULL, NULL, 0, &res);
        if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
            snprintf(err, errlen, "reading the host object %s: %s", filter, ldap_err2string(rc));
            free(filter);
            ldap_msgfree(res);
            return -1;
        }
        free(filter);
        for (LDAPMessage *m = ldap_first_entry(ld, res); m; m = ldap_next_entry(ld, m)) {
            struct berval **svc = ldap_get_values_len(ld, m, "univentionService");
            bool refused = svc && svc[0];
            for (size_t i = 0; svc && svc[i]; i++)
                if (svc[i]->bv_len == 4 && strncasecmp(svc[i]->bv_val, "XMPP", 4) == 0)
                    refused = false;
            ldap_value_free_len(svc);
            if (refused)
                continue;
            struct berval **doms = ldap_get_values_len(ld, m, "xmppDomains");
            for (size_t i = 0; doms && doms[i]; i++)
                add_domain(d, doms[i]->bv_val, doms[i]->bv_len);
            ldap_value_free_len(doms);
        }
        ldap_msgfree(res);
    }
    if (d->ndomains > 1)
        qsort(d->domains, d->ndomains, sizeof *d->domains, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < d->ndomains; i++) {
        if (k && strcmp(d->domains[k - 1], d->domains[i]) == 0)
            free(d->domains[i]);
        else
            d->domains[k++] = d->domains[i];
    }
    d->ndomains = k;
    if (d->domains)
        d->domains[k] = NULL;
    return 0;
}

static void on_warning(void *ud, const char *line) { fprintf(stderr, "plucs: directory: %s\n", line); }

int cli_directory_load(const config *c, cli_directory *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->msg_allow = c->filter_message_allow;
    d->pres_allow = c->filter_presence_allow;
    LDAP *ld = connect_bind(c, err, errlen);
    if (!ld)
        return -1;
    int rc = -1;
    if (read_domains(ld, c, d, err, errlen) == 0 &&
        search_all(ld, c, "(&(objectClass=univentionXMPPAccount)(xmppEnabled=TRUE))", d, err,
                   errlen) == 0 &&
        search_all(ld, c, "(&(objectClass=univentionXMPPGroup)(xmppEnabled=TRUE))", d, err,
                   errlen) == 0) {
        dir_build_opts o = {
            .filter = c->filter, .msg_allow = c->filter_message_allow,
            .pres_allow = c->filter_presence_allow, .complete = true, .serial = 0,
            .warn = on_warning,
        };
        d->snap = dir_snapshot_build(d->domains, d->ndomains, d->entries, d->nentries, &o);
        if (d->snap)
            rc = 0;
        else
            snprintf(err, errlen, "out of memory building the snapshot");
    }
    ldap_unbind_ext_s(ld, NULL, NULL);
    if (rc != 0)
        cli_directory_free(d);
    return rc;
}

void cli_directory_free(cli_directory *d)
{
    dir_snapshot_unref(d->snap);
    for (size_t i = 0; i < d->nentries; i++)
        dir_entry_free(d->entries[i]);
    free(d->entries);
    for (size_t i = 0; i < d->ndomains; i++)
        free(d->domains[i]);
    free(d->domains);
    memset(d, 0, sizeof *d);
}

const char *cli_directory_ignored(void *ud, const dir_group *g, bool presence)
{
    cli_directory *d = ud;
    for (size_t i = 0; i < d->nentries; i++) {
        const dir_entry *e = d->entries[i];
        if (!(e->kinds & DIR_E_GROUP) || !e->enabled || !e->cn || strcasecmp(e->cn, g->cn) != 0)
            continue;
        char **l = presence ? e->pgroups : e->mgroups;
        size_t n = presence ? e->npgroups : e->nmgroups, o = 0;
        d->ignored[0] = '\0';
        for (size_t k = 0; k < n && o < sizeof d->ignored; k++)
            if (!dir_snapshot_group(d->snap, l[k]))
                o += (size_t)snprintf(d->ignored + o, sizeof d->ignored - o, "%s%s", o ? ", " : "",
                                      l[k]);
        return d->ignored[0] ? d->ignored : NULL;
    }
    return NULL;
}
