/* cli_offline.c: the directory snapshot compiled by the `plucs` tool itself,
 * for `plucs explain` when no plucsd runs (or with --offline). Only the LDAP
 * conversation is its own, synchronous (the tool has nothing else to do):
 * simple bind as ldap/hostdn over the configured servers in order, the host
 * object (or plucs/domains), the enabled XMPP accounts and groups with paged
 * searches. Everything it reads goes through the daemon's code: the secret
 * file (core/secret.c), the entries and the host object's domains
 * (directory/dir_reader.c), the domain normalisation, the builder and the
 * permission compiler (dir_snapshot.c, dir_build.c, dir_permissions.c), so
 * its answer cannot drift from the server's. It keeps the raw entries, so it
 * can also say which names in a group's lists were ignored. */
#include "cli/cli.h"
#include "cli/cli_ldapbind.h"
#include "core/alloc.h"

#include "directory/dir_build.h"
#include "directory/dir_reader.h"
#include "core/secret.h"

#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFFLINE_PAGE_SIZE 500

static const char *err_words(int rc) { return ldap_err2string(rc); }

/* A bound handle (as ldap/hostdn) to the first server that accepts, or NULL. */
static LDAP *connect_bind(const config *c, char *err, size_t errlen)
{
    char secret[1024];
    if (secret_read(c->ldap_secretfile, secret, sizeof secret, err, errlen) != 0)
        return NULL;
    struct berval cred = { strlen(secret), secret };
    LDAP *ld = cli_ldap_bind(c, c->ldap_hostdn ? c->ldap_hostdn : "", &cred, err_words, err, errlen);
    explicit_bzero(secret, sizeof secret);
    return ld;
}

static int push_entry(cli_directory *d, dir_entry *e)
{
    dir_entry **n = xrealloc(d->entries, (d->nentries + 1) * sizeof *n);
    d->entries = n;
    d->entries[d->nentries++] = e;
    return 0;
}

/* A paged subtree search below ldap/base; each entry goes to push_entry. */
static int search_all(LDAP *ld, const config *c, const char *filter, cli_directory *d,
                      char *err, size_t errlen)
{
    char *attrs[DIR_READER_NATTRS];
    dir_reader_attrs(c->userlabel, c->grouplabel, attrs);
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
            dir_entry *e = dir_entry_from_ldap(ld, m, c->userlabel, c->grouplabel, NULL);
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

/* The served domains: plucs/domains, else the host object, read and
 * normalised as the directory thread does (dir_hosts.c, dir_reader.c). */
static int read_domains(LDAP *ld, const config *c, cli_directory *d, char *err, size_t errlen)
{
    if (c->domains) {
        size_t n = 0;
        while (c->domains[n])
            n++;
        if (!(d->domains = xcalloc(n + 1, sizeof *d->domains)))
            return -1;
        for (size_t i = 0; i < n; i++) {
            if (!(d->domains[i] = xstrdup(c->domains[i])))
                return -1;
            d->ndomains++;
        }
    } else {
        char *filter = dir_host_filter(c->hostname);
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
            dir_attrs a;
            int hr = -1;
            if (dir_attrs_from_ldap(ld, m, &a) == 0) {
                hr = dir_host_domains(a.v, a.n, &d->domains, &d->ndomains);
                dir_attrs_free(&a);
            }
            if (hr < 0) {
                snprintf(err, errlen, "out of memory");
                ldap_msgfree(res);
                return -1;
            }
        }
        ldap_msgfree(res);
    }
    dir_domains_normalise(d->domains, &d->ndomains);
    if (d->domains)
        d->domains[d->ndomains] = NULL;
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
