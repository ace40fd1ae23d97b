/* cli_host.c: `plucs host show|add-domain|remove-domain [HOST] DOMAIN`: the
 * XMPP domains a host object serves (xmppDomains on univentionXMPPHost,
 * spec/directory.md "Hosted domains"). HOST defaults to the registry's
 * hostname, the host whose object plucsd reads. The running plucsd re-reads
 * its host object when the change feed reports the change: a new domain is
 * served, a removed one ends its sessions, without a reload. */
#include "cli/cli.h"
#include "cli/cli_ldapw.h"

#include "core/alloc.h"
#include "directory/dir_build.h"
#include "directory/dir_reader.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XMPP_HOST_CLASS "univentionXMPPHost"

static void host_usage(FILE *out)
{
    fputs("usage: plucs host show [HOST] [--json]\n"
          "       plucs host add-domain [HOST] DOMAIN\n"
          "       plucs host remove-domain [HOST] DOMAIN\n"
          "\n"
          "  show           the host object's xmppDomains, univentionService and the\n"
          "                 domains it therefore serves\n"
          "  add-domain     add DOMAIN to xmppDomains (adds the univentionXMPPHost class\n"
          "                 when missing); the running plucsd serves it at once\n"
          "  remove-domain  remove DOMAIN; its sessions end\n"
          "HOST: the host object's cn; default the registry's hostname. Domains are\n"
          "stored in lower case.\n",
          out);
    cli_dir_common_usage(out);
}

static char *host_filter(const char *cn)
{
    return cli_filter_and("", "cn", cn,
                          "(|(objectClass=" XMPP_HOST_CLASS ")(objectClass=univentionHost)"
                          "(objectClass=device)(objectClass=ipHost)(objectClass=computer))");
}

/* The domains the host entry serves (as plucsd computes them). */
static char **host_serves(cli_ldapw *l, LDAPMessage *e, bool *service_refused)
{
    char **d = NULL;
    size_t n = 0;
    dir_attrs a;
    *service_refused = false;
    if (dir_attrs_from_ldap(l->ld, e, &a) == 0) {
        int r = dir_host_domains(a.v, a.n, &d, &n);
        if (r < 0)
            abort();
        *service_refused = r == 1;
        dir_attrs_free(&a);
    }
    d = xrealloc(d, (n + 1) * sizeof *d);
    dir_domains_normalise(d, &n);
    d[n] = NULL;
    return d;
}

static int host_show(cli_ldapw *l, const char *host, const char *cn, const char *dn, LDAPMessage *e,
                     bool json)
{
    bool xclass = cli_ldapw_has_value(l, e, "objectClass", XMPP_HOST_CLASS);
    struct berval **doms = cli_ldapw_values(l, e, "xmppDomains");
    struct berval **svc = cli_ldapw_values(l, e, "univentionService");
    bool refused;
    char **serves = host_serves(l, e, &refused);
    bool is_self = l->cfg->hostname && strcasecmp(l->cfg->hostname, host) == 0;
    bool overridden = is_self && l->cfg->domains;
    if (json) {
        fputs("{\"cn\": ", stdout);
        cli_json_str(stdout, cn);
        cli_json_field(stdout, "dn", dn);
        printf(", \"xmpp_class\": %s, \"xmppDomains\": ", xclass ? "true" : "false");
        cli_json_bvals(stdout, doms);
        fputs(", \"univentionService\": ", stdout);
        cli_json_bvals(stdout, svc);
        printf(", \"xmpp_service\": %s, \"serves\": ", refused ? "false" : "true");
        cli_json_strv(stdout, serves);
        printf(", \"this_host\": %s, \"overridden_by_plucs_domains\": %s}\n",
               is_self ? "true" : "false", overridden ? "true" : "false");
    } else {
        printf("host %s%s\n", cn, is_self ? " (this host: the registry's hostname)" : "");
        printf("  dn:                %s\n", dn);
        printf("  class:             %s\n", xclass ? XMPP_HOST_CLASS : "(no " XMPP_HOST_CLASS ")");
        printf("  xmppDomains:      ");
        for (size_t i = 0; doms && doms[i]; i++)
            printf(" %.*s", (int)doms[i]->bv_len, doms[i]->bv_val);
        printf("%s\n", doms && doms[0] ? "" : " (none)");
        printf("  univentionService:");
        for (size_t i = 0; svc && svc[i]; i++)
            printf(" %.*s", (int)svc[i]->bv_len, svc[i]->bv_val);
        printf("%s\n", svc && svc[0] ? "" : " (not set)");
        printf("  serves:           ");
        for (size_t i = 0; serves[i]; i++)
            printf(" %s", serves[i]);
        printf("%s\n", serves[0] ? ""
                       : refused ? " nothing (univentionService does not list XMPP)"
                                 : " nothing (no xmppDomains)");
        if (overridden)
            printf("note: plucs/domains is set in the registry and replaces this list for plucsd\n");
    }
    cli_strv_free(serves);
    ldap_value_free_len(doms);
    ldap_value_free_len(svc);
    return CLI_OK;
}

static int host_change(cli_ldapw *l, const char *cn, const char *dn, LDAPMessage *e,
                       const char *domain_arg, bool add)
{
    char err[256];
    char *domain = cli_domain_check(domain_arg, err, sizeof err);
    if (!domain && add) {
        fprintf(stderr, "plucs: host '%s': xmppDomains %s\n", cn, err);
        return CLI_FAIL;
    }
    if (!domain)
        domain = xstrdup(domain_arg);     /* removing a bad value must be possible */
    bool xclass = cli_ldapw_has_value(l, e, "objectClass", XMPP_HOST_CLASS);
    struct berval **cur = cli_ldapw_values(l, e, "xmppDomains");
    char *stored = NULL;
    size_t ncur = 0;
    for (; cur && cur[ncur]; ncur++)
        if (!stored && cur[ncur]->bv_len == strlen(domain) &&
            strncasecmp(cur[ncur]->bv_val, domain, cur[ncur]->bv_len) == 0)
            stored = xstrndup(cur[ncur]->bv_val, cur[ncur]->bv_len);
    ldap_value_free_len(cur);
    int rc = CLI_FAIL;
    if (add ? stored != NULL : stored == NULL) {
        printf("host '%s': xmppDomains %s %s, nothing changed\n", cn,
               add ? "already holds" : "does not hold", domain);
        rc = CLI_OK;
        goto out;
    }
    cli_mods ms = { .n = 0 };
    const char *cls[] = { XMPP_HOST_CLASS }, *v[] = { add ? domain : stored };
    if (add && !xclass)
        cli_mods_add(&ms, LDAP_MOD_ADD, "objectClass", cls, 1);
    cli_mods_add(&ms, add ? LDAP_MOD_ADD : LDAP_MOD_DELETE, "xmppDomains", v, 1);
    if (cli_ldapw_modify(l, "host", cn, dn, "xmppDomains", &ms) == 0) {
        printf("host '%s': %s %s %s xmppDomains\n", cn, add ? "added" : "removed", v[0],
               add ? "to" : "from");
        if (!add && ncur == 1)
            printf("note: host '%s' now has no xmppDomains: it serves no domain\n", cn);
        bool refused;
        char **serves = host_serves(l, e, &refused);
        if (refused)
            printf("note: host '%s' has univentionService values without XMPP: it serves no "
                   "domain until XMPP is added there\n", cn);
        cli_strv_free(serves);
        if (l->cfg->hostname && strcasecmp(l->cfg->hostname, cn) == 0 && l->cfg->domains)
            printf("note: plucs/domains is set in the registry and replaces xmppDomains for this "
                   "host's plucsd\n");
        rc = CLI_OK;
    }
    cli_mods_free(&ms);
out:
    free(stored);
    free(domain);
    return rc;
}

int cli_host(int argc, char **argv, const char *registry_path)
{
    const char *verb = argc > 1 ? argv[1] : "";
    bool show = strcmp(verb, "show") == 0, add = strcmp(verb, "add-domain") == 0;
    bool known = show || add || strcmp(verb, "remove-domain") == 0;
    cli_dir_opts o;
    int rc;
    if (!cli_dir_verb_start(argc, argv, "host", known ? (show ? 0 : 1) : -1, show ? 1 : 2, host_usage,
                            &o, &rc))
        return rc;
    cli_ldapw l;
    if (cli_ldapw_open(&l, registry_path, &o) != 0) {
        cli_dir_opts_free(&o);
        return CLI_FAIL;
    }
    rc = CLI_FAIL;
    const char *host = (show ? o.nargs == 1 : o.nargs == 2) ? o.args[0] : l.cfg->hostname;
    const char *domain = show ? NULL : o.args[o.nargs - 1];
    if (!host || !*host) {
        fprintf(stderr, "plucs: host %s: no HOST given and the registry has no hostname\n", verb);
        goto out;
    }
    char *filter = host_filter(host);
    char *attrs[] = { "objectClass", "cn", "xmppDomains", "univentionService", NULL };
    LDAPMessage *res = NULL, *e = NULL;
    int r = cli_ldapw_find(&l, "host", host, filter, attrs, &res, &e);
    free(filter);
    if (r == 1) {
        char *dn = cli_ldapw_dn(&l, e);
        rc = show ? host_show(&l, host, host, dn, e, o.json) : host_change(&l, host, dn, e, domain, add);
        free(dn);
    }
    ldap_msgfree(res);
out:
    cli_ldapw_close(&l);
    cli_dir_opts_free(&o);
    return rc;
}
