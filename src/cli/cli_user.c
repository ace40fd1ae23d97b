/* cli_user.c: `plucs user show|enable|disable|set-domain UID [DOMAIN]` and
 * `plucs users [--domain D]`: XMPP accounts administered from the command
 * line, with the defaults of the manual (4.1.1) and spec/directory.md
 * ("Defaults for new accounts"): enabling writes xmppEnabled=TRUE and, when
 * no domain is given and the user has none, the only XMPP domain served by
 * any host when there is exactly one, otherwise the registry's domainname;
 * the auxiliary class univentionXMPPAccount is added when missing. The
 * running plucsd sees the change through its change feed like any other
 * directory change; nothing here talks to the daemon. */
#include "cli/cli.h"
#include "cli/cli_ldapw.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "xmpp/jid.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XMPP_USER_CLASS "univentionXMPPAccount"
#define XMPP_GROUP_CLASS "univentionXMPPGroup"

static void user_usage(FILE *out)
{
    fputs("usage: plucs user show UID [--json]\n"
          "       plucs user enable UID [DOMAIN]\n"
          "       plucs user disable UID\n"
          "       plucs user set-domain UID DOMAIN\n"
          "\n"
          "  show        the entry's XMPP attributes, its JID, whether it is an account\n"
          "              this server serves, and its XMPP groups\n"
          "  enable      xmppEnabled=TRUE (adds the univentionXMPPAccount class when\n"
          "              missing). The domain: DOMAIN when given, else the user's\n"
          "              xmppDomain when set, else the only XMPP domain served by any\n"
          "              host when there is exactly one, else the registry's domainname\n"
          "  disable     xmppEnabled=FALSE (the domain is kept); sessions end at once\n"
          "  set-domain  xmppDomain=DOMAIN (does not enable)\n"
          "Enabling or disabling twice is fine: nothing is written the second time.\n",
          out);
    cli_dir_common_usage(out);
}

static void users_usage(FILE *out)
{
    fputs("usage: plucs users [--domain D] [--json]\n"
          "\n"
          "  the enabled XMPP accounts (xmppEnabled=TRUE), sorted by uid, with their\n"
          "  JID and label; --domain D: only those of domain D. Accounts whose domain\n"
          "  this server does not serve are marked.\n",
          out);
    cli_dir_common_usage(out);
}

/* The filter for the user entry of uid (escaped). */
static char *user_filter(const char *uid)
{
    return cli_filter_and("", "uid", uid,
                          "(|(objectClass=posixAccount)(objectClass=person)(objectClass="
                          XMPP_USER_CLASS "))");
}

typedef struct user_entry {
    LDAPMessage *res, *e;
    char *dn, *uid, *enabled, *domain;
    bool xclass;
} user_entry;

static int user_find(cli_ldapw *l, const char *uid, user_entry *u)
{
    memset(u, 0, sizeof *u);
    char *filter = user_filter(uid);
    char *attrs[] = { "objectClass", "uid", "xmppEnabled", "xmppDomain",
                      l->cfg->userlabel ? l->cfg->userlabel : "gecos", NULL };
    int r = cli_ldapw_find(l, "user", uid, filter, attrs, &u->res, &u->e);
    free(filter);
    if (r != 1)
        return r;
    u->dn = cli_ldapw_dn(l, u->e);
    u->uid = cli_ldapw_first(l, u->e, "uid");
    u->enabled = cli_ldapw_first(l, u->e, "xmppEnabled");
    u->domain = cli_ldapw_first(l, u->e, "xmppDomain");
    u->xclass = cli_ldapw_has_value(l, u->e, "objectClass", XMPP_USER_CLASS);
    return 1;
}

static void user_free(user_entry *u)
{
    ldap_msgfree(u->res);
    free(u->dn);
    free(u->uid);
    free(u->enabled);
    free(u->domain);
}

/* "uid@domain" with the localpart prepared as plucsd does, or NULL when
 * the uid cannot be a localpart. */
static char *user_jid(const char *uid, const char *domain)
{
    char *node = jid_nodeprep(uid);
    if (!node || !domain)
        return free(node), NULL;
    buf b;
    buf_init(&b);
    buf_printf(&b, "%s@%s", node, domain);
    free(node);
    return buf_steal(&b);
}

/* The XMPP groups uid is a member of (cn values), sorted by the server. */
static char **user_groups(cli_ldapw *l, const char *uid)
{
    char *f = cli_filter_and("(objectClass=" XMPP_GROUP_CLASS ")(xmppEnabled=TRUE)", "memberUid", uid, "");
    char *attrs[] = { "cn", NULL };
    LDAPMessage *res = cli_ldapw_search(l, f, attrs);
    free(f);
    char **out = cli_ldapw_firsts(l, res, "cn");
    ldap_msgfree(res);
    return out;
}

static int user_show(cli_ldapw *l, const char *uid, bool json)
{
    user_entry u;
    int r = user_find(l, uid, &u);
    if (r != 1)
        return CLI_FAIL;
    const char *label_attr = l->cfg->userlabel ? l->cfg->userlabel : "gecos";
    char *label = cli_ldapw_first(l, u.e, label_attr);
    size_t nserved = 0;
    char **served = cli_ldapw_domains(l, true, &nserved);
    bool enabled = u.enabled && strcmp(u.enabled, "TRUE") == 0;
    bool is_served = u.domain && cli_strv_has(served, u.domain);
    char *j = user_jid(u.uid ? u.uid : uid, u.domain);
    bool account = u.xclass && enabled && j && is_served;
    char **groups = user_groups(l, u.uid ? u.uid : uid);
    if (json) {
        fputs("{\"uid\": ", stdout);
        cli_json_str(stdout, u.uid);
        cli_json_field(stdout, "dn", u.dn);
        printf(", \"xmpp_class\": %s, \"enabled\": %s, \"xmppEnabled\": ", u.xclass ? "true" : "false",
               enabled ? "true" : "false");
        cli_json_str(stdout, u.enabled);
        cli_json_field(stdout, "domain", u.domain);
        cli_json_field(stdout, "jid", j);
        printf(", \"served\": %s, \"account\": %s, \"label\": ", is_served ? "true" : "false",
               account ? "true" : "false");
        cli_json_str(stdout, label);
        fputs(", \"groups\": ", stdout);
        cli_json_strv(stdout, groups);
        fputs("}\n", stdout);
    } else {
        printf("user %s\n", u.uid ? u.uid : uid);
        printf("  dn:          %s\n", u.dn);
        printf("  class:       %s\n", u.xclass ? XMPP_USER_CLASS : "(no " XMPP_USER_CLASS ")");
        printf("  xmppEnabled: %s\n", u.enabled ? u.enabled : "(not set)");
        printf("  xmppDomain:  %s\n", u.domain ? u.domain : "(not set)");
        printf("  jid:         %s\n", j ? j : "(none)");
        const char *why = account ? "an account served by this server"
                          : !u.xclass || !enabled ? "not enabled (plucs user enable)"
                          : !u.domain ? "no xmppDomain (plucs user set-domain)"
                          : !j ? "the uid cannot be the local part of a JID"
                               : "its domain is not served by this host (plucs host add-domain)";
        printf("  status:      %s\n", why);
        printf("  label:       %s (%s)\n", label ? label : "(none)", label_attr);
        printf("  groups:     ");
        for (size_t i = 0; groups[i]; i++)
            printf(" %s", groups[i]);
        printf("%s\n", groups[0] ? "" : " (no XMPP group)");
    }
    cli_strv_free(groups);
    cli_strv_free(served);
    free(j);
    free(label);
    user_free(&u);
    return CLI_OK;
}

/* The domain enable writes when none is given and the user has none; why
 * gets a phrase for the output. NULL after printing why not. */
static char *default_domain(cli_ldapw *l, const char *uid, char *why, size_t whylen)
{
    size_t n = 0;
    char **all = cli_ldapw_domains(l, false, &n);
    if (!all)
        return NULL;
    char *d = NULL;
    if (n == 1) {
        d = xstrdup(all[0]);
        snprintf(why, whylen, "the only XMPP domain served by any host");
    } else if (l->cfg->domainname && *l->cfg->domainname) {
        char err[256];
        d = cli_domain_check(l->cfg->domainname, err, sizeof err);
        if (!d)
            fprintf(stderr, "plucs: user '%s': the registry's domainname %s\n", uid, err);
        else
            snprintf(why, whylen, "the registry's domainname; %zu XMPP domains are served by "
                     "hosts", n);
    } else {
        fprintf(stderr, "plucs: user '%s': no domain given, %zu XMPP domains are served by hosts "
                        "and the registry has no domainname: give one (plucs user enable %s DOMAIN)\n",
                uid, n, uid);
    }
    cli_strv_free(all);
    return d;
}

static void note_unserved(cli_ldapw *l, const char *domain)
{
    size_t n = 0;
    char **served = cli_ldapw_domains(l, true, &n);
    if (served && !cli_strv_has(served, domain))
        printf("note: %s is not served by host '%s' (plucs host add-domain %s)\n", domain,
               l->cfg->hostname ? l->cfg->hostname : "", domain);
    cli_strv_free(served);
}

static int user_write(cli_ldapw *l, const char *verb, const char *uid, const char *arg)
{
    user_entry u;
    if (user_find(l, uid, &u) != 1)
        return CLI_FAIL;
    const char *name = u.uid ? u.uid : uid;
    char *domain = NULL, why[160] = "";
    int rc = CLI_FAIL;
    char err[256];
    if (arg) {
        if (!(domain = cli_domain_check(arg, err, sizeof err))) {
            fprintf(stderr, "plucs: user '%s': xmppDomain %s\n", name, err);
            goto out;
        }
    }
    cli_mods ms = { .n = 0 };
    const char *cls[] = { XMPP_USER_CLASS };
    bool is_enable = strcmp(verb, "enable") == 0, is_disable = strcmp(verb, "disable") == 0;
    const char *attr = "xmppDomain";
    if (is_enable) {
        attr = "xmppEnabled";
        if (!domain && u.domain) {
            char *ok = cli_domain_check(u.domain, err, sizeof err);
            domain = ok ? ok : xstrdup(u.domain);
        }
        if (!domain && !(domain = default_domain(l, name, why, sizeof why)))
            goto out;
        bool same = u.xclass && u.enabled && strcmp(u.enabled, "TRUE") == 0 && u.domain &&
                    strcmp(u.domain, domain) == 0;
        if (same) {
            printf("user '%s': already enabled in %s, nothing changed\n", name, domain);
            rc = CLI_OK;
            goto out;
        }
        if (!u.xclass)
            cli_mods_add(&ms, LDAP_MOD_ADD, "objectClass", cls, 1);
        const char *t[] = { "TRUE" }, *dv[] = { domain };
        cli_mods_add(&ms, LDAP_MOD_REPLACE, "xmppEnabled", t, 1);
        if (!u.domain || strcmp(u.domain, domain) != 0)
            cli_mods_add(&ms, LDAP_MOD_REPLACE, "xmppDomain", dv, 1);
    } else if (is_disable) {
        attr = "xmppEnabled";
        /* "true" or another odd value is not enabled for plucsd either,
         * but is rewritten as FALSE so the entry says what it means */
        if (!u.xclass || !u.enabled || strcmp(u.enabled, "FALSE") == 0) {
            printf("user '%s': already disabled, nothing changed\n", name);
            rc = CLI_OK;
            goto out;
        }
        const char *f[] = { "FALSE" };
        cli_mods_add(&ms, LDAP_MOD_REPLACE, "xmppEnabled", f, 1);
    } else {                          /* set-domain */
        if (u.xclass && u.domain && strcmp(u.domain, domain) == 0) {
            printf("user '%s': xmppDomain is already %s, nothing changed\n", name, domain);
            rc = CLI_OK;
            goto out;
        }
        if (!u.xclass)
            cli_mods_add(&ms, LDAP_MOD_ADD, "objectClass", cls, 1);
        const char *dv[] = { domain };
        cli_mods_add(&ms, LDAP_MOD_REPLACE, "xmppDomain", dv, 1);
    }
    int w = cli_ldapw_modify(l, "user", name, u.dn, attr, &ms);
    cli_mods_free(&ms);
    if (w != 0)
        goto out;
    rc = CLI_OK;
    if (is_enable) {
        char *j = user_jid(name, domain);
        printf("user '%s': enabled as %s", name, j ? j : domain);
        if (why[0])
            printf(" (xmppDomain %s: %s)", domain, why);
        putchar('\n');
        if (!j)
            printf("note: the uid '%s' cannot be the local part of a JID: it cannot log in\n", name);
        free(j);
        note_unserved(l, domain);
    } else if (is_disable) {
        printf("user '%s': disabled (xmppEnabled=FALSE)\n", name);
    } else {
        printf("user '%s': xmppDomain set to %s%s\n", name, domain,
               u.enabled && strcmp(u.enabled, "TRUE") == 0 ? "" : " (not enabled: plucs user enable)");
        note_unserved(l, domain);
    }
out:
    free(domain);
    user_free(&u);
    return rc;
}

int cli_user(int argc, char **argv, const char *registry_path)
{
    const char *verb = argc > 1 ? argv[1] : "";
    int want_min = -1, want_max = -1;
    if (strcmp(verb, "show") == 0 || strcmp(verb, "disable") == 0)
        want_min = want_max = 1;
    else if (strcmp(verb, "enable") == 0)
        want_min = 1, want_max = 2;
    else if (strcmp(verb, "set-domain") == 0)
        want_min = want_max = 2;
    cli_dir_opts o;
    int rc;
    if (!cli_dir_verb_start(argc, argv, "user", want_min, want_max, user_usage, &o, &rc))
        return rc;
    cli_ldapw l;
    rc = CLI_FAIL;
    if (cli_ldapw_open(&l, registry_path, &o) == 0) {
        if (strcmp(verb, "show") == 0)
            rc = user_show(&l, o.args[0], o.json);
        else
            rc = user_write(&l, verb, o.args[0], o.nargs > 1 ? o.args[1] : NULL);
        cli_ldapw_close(&l);
    }
    cli_dir_opts_free(&o);
    return rc;
}

typedef struct user_row {
    char *uid, *dn, *domain, *label, *jid;
    bool served;
} user_row;

static int cmp_row(const void *a, const void *b)
{
    const user_row *x = a, *y = b;
    return strcmp(x->uid ? x->uid : "", y->uid ? y->uid : "");
}

int cli_users(int argc, char **argv, const char *registry_path)
{
    cli_dir_opts o;
    cli_ldapw l;
    char *want;
    int rc;
    if (!cli_ldapw_list_start(argc, argv, registry_path, users_usage, &o, &want, &l, &rc))
        return rc;
    rc = CLI_FAIL;
    char *f = cli_filter_and("(objectClass=" XMPP_USER_CLASS ")(xmppEnabled=TRUE)", "xmppDomain", want, "");
    const char *label_attr = l.cfg->userlabel ? l.cfg->userlabel : "gecos";
    char *attrs[] = { "uid", "xmppDomain", (char *)label_attr, NULL };
    size_t nserved = 0;
    char **served = cli_ldapw_domains(&l, true, &nserved);
    LDAPMessage *res = cli_ldapw_search(&l, f, attrs);
    if (res) {
        size_t n = 0, cap = cli_ldapw_count(&l, res);
        user_row *rows = xcalloc(cap + 1, sizeof *rows);
        for (LDAPMessage *m = ldap_first_entry(l.ld, res); m && n < cap; m = ldap_next_entry(l.ld, m)) {
            user_row *r = &rows[n++];
            r->dn = cli_ldapw_dn(&l, m);
            r->uid = cli_ldapw_first(&l, m, "uid");
            r->domain = cli_ldapw_first(&l, m, "xmppDomain");
            if (r->domain)
                for (char *p = r->domain; *p; p++)
                    if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
            r->label = cli_ldapw_first(&l, m, label_attr);
            r->jid = r->uid ? user_jid(r->uid, r->domain) : NULL;
            r->served = r->domain && cli_strv_has(served, r->domain);
        }
        qsort(rows, n, sizeof *rows, cmp_row);
        if (o.json)
            fputc('[', stdout);
        for (size_t i = 0; i < n; i++) {
            user_row *r = &rows[i];
            if (o.json) {
                fputs(i ? ",\n {\"uid\": " : "{\"uid\": ", stdout);
                cli_json_str(stdout, r->uid);
                cli_json_field(stdout, "dn", r->dn);
                cli_json_field(stdout, "domain", r->domain);
                cli_json_field(stdout, "jid", r->jid);
                printf(", \"served\": %s, \"label\": ", r->served ? "true" : "false");
                cli_json_str(stdout, r->label);
                fputc('}', stdout);
            } else {
                printf("%-32s %s%s\n", r->jid ? r->jid : r->uid ? r->uid : r->dn,
                       r->label ? r->label : "",
                       !r->domain ? " [no xmppDomain]" : !r->jid ? " [uid cannot be a JID]"
                       : !r->served ? " [domain not served here]" : "");
            }
            free(r->uid);
            free(r->dn);
            free(r->domain);
            free(r->label);
            free(r->jid);
        }
        if (o.json)
            fputs("]\n", stdout);
        free(rows);
        ldap_msgfree(res);
        rc = CLI_OK;
    }
    free(f);
    cli_strv_free(served);
    cli_ldapw_list_end(&o, want, &l);
    return rc;
}
