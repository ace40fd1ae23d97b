/* cli_group.c: `plucs group show|enable|disable|allow-message|deny-message|
 * allow-presence|deny-presence GROUP [OTHER...]` and `plucs groups
 * [--domain D]`: XMPP groups (spec/directory.md "Groups") and the lists of
 * the communication restrictions (xmppMessageGroups, xmppPresenceGroups:
 * group cns, compared case-insensitively). allow-* refuses to name a group
 * that is not an XMPP group (plucsd would ignore it) and says how to enable
 * it; deny-* removes any name, so stale references can be cleaned up. */
#include "cli/cli.h"
#include "cli/cli_ldapw.h"

#include "core/alloc.h"
#include "core/buf.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XMPP_GROUP_CLASS "univentionXMPPGroup"

static void group_usage(FILE *out)
{
    fputs("usage: plucs group show GROUP [--json]\n"
          "       plucs group enable|disable GROUP\n"
          "       plucs group allow-message|deny-message GROUP OTHER...\n"
          "       plucs group allow-presence|deny-presence GROUP OTHER...\n"
          "\n"
          "  show            the group's XMPP attributes, members and lists (names in\n"
          "                  the lists that are not XMPP groups are marked: plucsd\n"
          "                  ignores them)\n"
          "  enable          xmppEnabled=TRUE (adds the univentionXMPPGroup class)\n"
          "  disable         xmppEnabled=FALSE: no longer in rosters or the rules\n"
          "  allow-message   add OTHER groups to xmppMessageGroups: members of GROUP\n"
          "                  may send messages to members of OTHER\n"
          "  deny-message    remove them again\n"
          "  allow-presence  add OTHER groups to xmppPresenceGroups: members of GROUP\n"
          "                  may see the presence of members of OTHER\n"
          "  deny-presence   remove them again\n"
          "GROUP and OTHER are group names (cn). OTHER must be an XMPP group for\n"
          "allow-*; with plucs/mod/filter the lists decide who may talk to whom\n"
          "(an empty list means the policy: plucs/mod/filter/*_policy).\n",
          out);
    cli_dir_common_usage(out);
}

static void groups_usage(FILE *out)
{
    fputs("usage: plucs groups [--domain D] [--json]\n"
          "\n"
          "  the XMPP groups (univentionXMPPGroup, xmppEnabled=TRUE), sorted by name,\n"
          "  with label and members; --domain D: only groups with members that are\n"
          "  accounts of D, and only those members.\n",
          out);
    cli_dir_common_usage(out);
}

static char *group_filter(const char *cn)
{
    return cli_filter_and("", "cn", cn,
                          "(|(objectClass=posixGroup)(objectClass=groupOfNames)"
                          "(objectClass=groupOfUniqueNames)(objectClass=" XMPP_GROUP_CLASS "))");
}

typedef struct group_entry {
    LDAPMessage *res, *e;
    char *dn, *cn, *enabled;
    bool xclass;
} group_entry;

static int group_find(cli_ldapw *l, const char *name, group_entry *g)
{
    memset(g, 0, sizeof *g);
    char *filter = group_filter(name);
    char *attrs[] = { "objectClass", "cn", "xmppEnabled", "memberUid", "xmppMessageGroups",
                      "xmppPresenceGroups", l->cfg->grouplabel ? l->cfg->grouplabel : "cn", NULL };
    int r = cli_ldapw_find(l, "group", name, filter, attrs, &g->res, &g->e);
    free(filter);
    if (r != 1)
        return r;
    g->dn = cli_ldapw_dn(l, g->e);
    /* the cn the user meant (a multi-valued cn: the one that matched) */
    struct berval **cns = cli_ldapw_values(l, g->e, "cn");
    for (size_t i = 0; cns && cns[i] && !g->cn; i++)
        if (cns[i]->bv_len == strlen(name) && strncasecmp(cns[i]->bv_val, name, cns[i]->bv_len) == 0)
            g->cn = xstrndup(cns[i]->bv_val, cns[i]->bv_len);
    ldap_value_free_len(cns);
    if (!g->cn)
        g->cn = xstrdup(name);
    g->enabled = cli_ldapw_first(l, g->e, "xmppEnabled");
    g->xclass = cli_ldapw_has_value(l, g->e, "objectClass", XMPP_GROUP_CLASS);
    return 1;
}

static void group_free(group_entry *g)
{
    ldap_msgfree(g->res);
    free(g->dn);
    free(g->cn);
    free(g->enabled);
}

static bool group_is_xmpp(const group_entry *g)
{
    return g->xclass && g->enabled && strcmp(g->enabled, "TRUE") == 0;
}

/* The cns of every XMPP group (NULL-terminated), for marking ignored names. */
static char **xmpp_group_names(cli_ldapw *l)
{
    char *attrs[] = { "cn", NULL };
    LDAPMessage *res = cli_ldapw_search(l, "(&(objectClass=" XMPP_GROUP_CLASS ")(xmppEnabled=TRUE))",
                                        attrs);
    size_t n = 0, cap = 1;
    char **out = xcalloc(cap, sizeof *out);
    for (LDAPMessage *m = res ? ldap_first_entry(l->ld, res) : NULL; m; m = ldap_next_entry(l->ld, m)) {
        struct berval **v = cli_ldapw_values(l, m, "cn");
        for (size_t i = 0; v && v[i]; i++) {
            out = xrealloc(out, (n + 2) * sizeof *out);
            out[n++] = xstrndup(v[i]->bv_val, v[i]->bv_len);
        }
        ldap_value_free_len(v);
    }
    out[n] = NULL;
    ldap_msgfree(res);
    return out;
}

static void print_list(cli_ldapw *l, LDAPMessage *e, const char *attr, char **xmpp, bool json)
{
    struct berval **v = cli_ldapw_values(l, e, attr);
    if (json) {
        cli_json_bvals(stdout, v);
        fputs(", \"", stdout);
        fputs(attr, stdout);
        fputs("_ignored\": [", stdout);
        int k = 0;
        for (size_t i = 0; v && v[i]; i++) {
            char *s = xstrndup(v[i]->bv_val, v[i]->bv_len);
            if (!cli_strv_has(xmpp, s)) {
                fputs(k++ ? ", " : "", stdout);
                cli_json_str(stdout, s);
            }
            free(s);
        }
        fputc(']', stdout);
    } else {
        printf("  %-19s", attr);
        for (size_t i = 0; v && v[i]; i++) {
            char *s = xstrndup(v[i]->bv_val, v[i]->bv_len);
            printf(" %s%s", s, cli_strv_has(xmpp, s) ? "" : " (ignored: not an XMPP group)");
            free(s);
        }
        printf("%s\n", v && v[0] ? "" : " (empty: the policy applies)");
    }
    ldap_value_free_len(v);
}

static int group_show(cli_ldapw *l, const char *name, bool json)
{
    group_entry g;
    if (group_find(l, name, &g) != 1)
        return CLI_FAIL;
    const char *label_attr = l->cfg->grouplabel ? l->cfg->grouplabel : "cn";
    char *label = cli_ldapw_first(l, g.e, label_attr);
    struct berval **members = cli_ldapw_values(l, g.e, "memberUid");
    char **xmpp = xmpp_group_names(l);
    if (json) {
        fputs("{\"cn\": ", stdout);
        cli_json_str(stdout, g.cn);
        cli_json_field(stdout, "dn", g.dn);
        printf(", \"xmpp_class\": %s, \"enabled\": %s, \"xmppEnabled\": ", g.xclass ? "true" : "false",
               group_is_xmpp(&g) ? "true" : "false");
        cli_json_str(stdout, g.enabled);
        cli_json_field(stdout, "label", label);
        fputs(", \"members\": ", stdout);
        cli_json_bvals(stdout, members);
        fputs(", \"xmppMessageGroups\": ", stdout);
        print_list(l, g.e, "xmppMessageGroups", xmpp, true);
        fputs(", \"xmppPresenceGroups\": ", stdout);
        print_list(l, g.e, "xmppPresenceGroups", xmpp, true);
        fputs("}\n", stdout);
    } else {
        printf("group %s\n", g.cn);
        printf("  dn:                 %s\n", g.dn);
        printf("  class:              %s\n", g.xclass ? XMPP_GROUP_CLASS : "(no " XMPP_GROUP_CLASS ")");
        printf("  xmppEnabled:        %s%s\n", g.enabled ? g.enabled : "(not set)",
               group_is_xmpp(&g) ? "" : " (not an XMPP group: plucs group enable)");
        printf("  label:              %s (%s)\n", label ? label : "(none)", label_attr);
        printf("  members:           ");
        for (size_t i = 0; members && members[i]; i++)
            printf(" %.*s", (int)members[i]->bv_len, members[i]->bv_val);
        printf("%s\n", members && members[0] ? "" : " (none)");
        print_list(l, g.e, "xmppMessageGroups", xmpp, false);
        print_list(l, g.e, "xmppPresenceGroups", xmpp, false);
    }
    cli_strv_free(xmpp);
    ldap_value_free_len(members);
    free(label);
    group_free(&g);
    return CLI_OK;
}

/* After a disable: the XMPP groups whose lists name cn (plucsd now ignores
 * those names, so their members may lose permissions). */
static void note_referrers(cli_ldapw *l, const char *cn)
{
    char *e = ldap_filter_escape(cn);
    buf f;
    buf_init(&f);
    buf_printf(&f, "(&(objectClass=" XMPP_GROUP_CLASS ")(xmppEnabled=TRUE)(|(xmppMessageGroups=%s)"
                   "(xmppPresenceGroups=%s)))", e, e);
    free(e);
    char *attrs[] = { "cn", NULL };
    LDAPMessage *res = cli_ldapw_search(l, f.data, attrs);
    buf_free(&f);
    int k = 0;
    for (LDAPMessage *m = res ? ldap_first_entry(l->ld, res) : NULL; m; m = ldap_next_entry(l->ld, m)) {
        char *name = cli_ldapw_first(l, m, "cn");
        if (!name)
            continue;
        printf("%s %s", k++ ? "," : "note: the lists of these XMPP groups name it and are now "
                                    "ignored there:", name);
        free(name);
    }
    if (k)
        putchar('\n');
    ldap_msgfree(res);
}

static int group_enable(cli_ldapw *l, const char *name, bool enable)
{
    group_entry g;
    if (group_find(l, name, &g) != 1)
        return CLI_FAIL;
    int rc = CLI_FAIL;
    bool is_true = g.enabled && strcmp(g.enabled, "TRUE") == 0;
    if (enable ? (g.xclass && is_true) : (!g.xclass || !g.enabled || strcmp(g.enabled, "FALSE") == 0)) {
        printf("group '%s': already %s, nothing changed\n", g.cn, enable ? "enabled" : "disabled");
        group_free(&g);
        return CLI_OK;
    }
    cli_mods ms = { .n = 0 };
    const char *cls[] = { XMPP_GROUP_CLASS }, *val[] = { enable ? "TRUE" : "FALSE" };
    if (!g.xclass)
        cli_mods_add(&ms, LDAP_MOD_ADD, "objectClass", cls, 1);
    cli_mods_add(&ms, LDAP_MOD_REPLACE, "xmppEnabled", val, 1);
    if (cli_ldapw_modify(l, "group", g.cn, g.dn, "xmppEnabled", &ms) == 0) {
        printf("group '%s': %s (xmppEnabled=%s)\n", g.cn, enable ? "enabled" : "disabled", val[0]);
        if (!enable)
            note_referrers(l, g.cn);
        rc = CLI_OK;
    }
    cli_mods_free(&ms);
    group_free(&g);
    return rc;
}

/* allow-* / deny-*: others[0..n) added to or removed from attr of name. */
static int group_list_change(cli_ldapw *l, const char *name, const char *attr, bool add,
                             char **others, int n)
{
    group_entry g;
    if (group_find(l, name, &g) != 1)
        return CLI_FAIL;
    int rc = CLI_FAIL;
    const char **vals = xcalloc((size_t)n + 1, sizeof *vals);
    char **owned = xcalloc((size_t)n + 1, sizeof *owned);
    int nv = 0, no = 0;
    if (add && !g.xclass) {
        fprintf(stderr, "plucs: group '%s': not an XMPP group (no " XMPP_GROUP_CLASS " class), so it "
                        "cannot have %s — run: plucs group enable %s\n", g.cn, attr, g.cn);
        goto out;
    }
    struct berval **cur = cli_ldapw_values(l, g.e, attr);
    for (int i = 0; i < n; i++) {
        const char *want = others[i];
        const char *stored = NULL;       /* the value as the entry holds it */
        for (size_t k = 0; cur && cur[k] && !stored; k++)
            if (cur[k]->bv_len == strlen(want) && strncasecmp(cur[k]->bv_val, want, cur[k]->bv_len) == 0)
                stored = want;
        bool dup = false;
        for (int k = 0; k < nv && !dup; k++)
            dup = strcasecmp(vals[k], want) == 0;
        if (dup)
            continue;
        if (add) {
            group_entry o;
            int r = group_find(l, want, &o);
            if (r != 1) {
                if (r == 0)
                    fprintf(stderr, "plucs: group '%s': nothing changed: '%s' in %s must name an "
                                    "XMPP group\n", g.cn, want, attr);
                ldap_value_free_len(cur);
                goto out;
            }
            if (!group_is_xmpp(&o)) {
                fprintf(stderr, "plucs: group '%s': refusing to add '%s' to %s: it is not an XMPP "
                                "group (%s), plucsd would ignore it — run: plucs group enable %s\n",
                        g.cn, o.cn, attr,
                        !o.xclass ? "no " XMPP_GROUP_CLASS " class" : "xmppEnabled is not TRUE", o.cn);
                group_free(&o);
                ldap_value_free_len(cur);
                goto out;
            }
            if (stored) {
                printf("group '%s': %s already names %s\n", g.cn, attr, o.cn);
            } else {
                owned[no] = xstrdup(o.cn);
                vals[nv++] = owned[no++];
            }
            group_free(&o);
        } else {
            bool found = false;
            for (size_t k = 0; cur && cur[k]; k++)
                if (cur[k]->bv_len == strlen(want) &&
                    strncasecmp(cur[k]->bv_val, want, cur[k]->bv_len) == 0) {
                    owned[no] = xstrndup(cur[k]->bv_val, cur[k]->bv_len);
                    vals[nv++] = owned[no++];
                    found = true;
                    break;
                }
            if (!found)
                printf("group '%s': %s does not name %s\n", g.cn, attr, want);
        }
    }
    size_t ncur = 0;
    while (cur && cur[ncur])
        ncur++;
    ldap_value_free_len(cur);
    if (nv == 0) {
        printf("group '%s': nothing changed\n", g.cn);
        rc = CLI_OK;
        goto out;
    }
    cli_mods ms = { .n = 0 };
    cli_mods_add(&ms, add ? LDAP_MOD_ADD : LDAP_MOD_DELETE, attr, vals, nv);
    if (cli_ldapw_modify(l, "group", g.cn, g.dn, attr, &ms) == 0) {
        printf("group '%s': %s %s:", g.cn, add ? "added to" : "removed from", attr);
        for (int k = 0; k < nv; k++)
            printf(" %s", vals[k]);
        putchar('\n');
        if (!add && ncur == (size_t)nv) {
            bool msg = strcmp(attr, "xmppMessageGroups") == 0;
            bool allow = msg ? l->cfg->filter_message_allow : l->cfg->filter_presence_allow;
            printf("note: %s of '%s' is now empty: plucs/mod/filter/%s (%s) applies%s\n", attr, g.cn,
                   msg ? "message_policy" : "presence_policy", allow ? "allow" : "deny",
                   allow ? " — its members may now reach everyone" : "");
        }
        if (add && !group_is_xmpp(&g))
            printf("note: group '%s' itself is disabled: its lists apply once it is enabled "
                   "(plucs group enable %s)\n", g.cn, g.cn);
        rc = CLI_OK;
    }
    cli_mods_free(&ms);
out:
    for (int k = 0; k < no; k++)
        free(owned[k]);
    free(owned);
    free(vals);
    group_free(&g);
    return rc;
}

int cli_group(int argc, char **argv, const char *registry_path)
{
    static const struct { const char *verb, *attr; bool add; } lists[] = {
        { "allow-message", "xmppMessageGroups", true },
        { "deny-message", "xmppMessageGroups", false },
        { "allow-presence", "xmppPresenceGroups", true },
        { "deny-presence", "xmppPresenceGroups", false },
    };
    const char *verb = argc > 1 ? argv[1] : "";
    int list = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(verb, lists[i].verb) == 0)
            list = i;
    bool single = strcmp(verb, "show") == 0 || strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0;
    int min = single ? 1 : list >= 0 ? 2 : -1, max = single ? 1 : INT_MAX;
    cli_dir_opts o;
    int rc;
    if (!cli_dir_verb_start(argc, argv, "group", min, max, group_usage, &o, &rc))
        return rc;
    cli_ldapw l;
    rc = CLI_FAIL;
    if (cli_ldapw_open(&l, registry_path, &o) == 0) {
        if (strcmp(verb, "show") == 0)
            rc = group_show(&l, o.args[0], o.json);
        else if (single)
            rc = group_enable(&l, o.args[0], strcmp(verb, "enable") == 0);
        else
            rc = group_list_change(&l, o.args[0], lists[list].attr, lists[list].add, o.args + 1,
                                   o.nargs - 1);
        cli_ldapw_close(&l);
    }
    cli_dir_opts_free(&o);
    return rc;
}

static int cmp_cn(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

int cli_groups(int argc, char **argv, const char *registry_path)
{
    cli_dir_opts o;
    cli_ldapw l;
    char *want;
    int rc;
    if (!cli_ldapw_list_start(argc, argv, registry_path, groups_usage, &o, &want, &l, &rc))
        return rc;
    rc = CLI_FAIL;
    /* --domain: the uids of the enabled accounts of that domain */
    char **uids = NULL;
    if (want) {
        char *f = cli_filter_and("(objectClass=univentionXMPPAccount)(xmppEnabled=TRUE)", "xmppDomain",
                                 want, "");
        char *attrs[] = { "uid", NULL };
        LDAPMessage *res = cli_ldapw_search(&l, f, attrs);
        free(f);
        if (!res)
            goto out;
        uids = cli_ldapw_firsts(&l, res, "uid");
        ldap_msgfree(res);
    }
    const char *label_attr = l.cfg->grouplabel ? l.cfg->grouplabel : "cn";
    char *attrs[] = { "cn", "memberUid", "xmppMessageGroups", "xmppPresenceGroups",
                      (char *)label_attr, NULL };
    LDAPMessage *res = cli_ldapw_search(&l, "(&(objectClass=" XMPP_GROUP_CLASS ")(xmppEnabled=TRUE))",
                                        attrs);
    if (!res)
        goto out;
    size_t cap = cli_ldapw_count(&l, res), n = 0;
    LDAPMessage **es = xcalloc(cap + 1, sizeof *es);
    char **cns = xcalloc(cap + 1, sizeof *cns);
    for (LDAPMessage *m = ldap_first_entry(l.ld, res); m && n < cap; m = ldap_next_entry(l.ld, m)) {
        char *cn = cli_ldapw_first(&l, m, "cn");
        if (!cn)
            continue;
        cns[n] = cn;
        es[n++] = m;
    }
    /* sorted by name; an insertion sort keeps cns and es together */
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && cmp_cn(&cns[k - 1], &cns[k]) > 0; k--) {
            char *t = cns[k]; cns[k] = cns[k - 1]; cns[k - 1] = t;
            LDAPMessage *tm = es[k]; es[k] = es[k - 1]; es[k - 1] = tm;
        }
    if (o.json)
        fputc('[', stdout);
    int shown = 0;
    for (size_t i = 0; i < n; i++) {
        struct berval **mem = cli_ldapw_values(&l, es[i], "memberUid");
        char **keep = xcalloc(1, sizeof *keep);
        size_t nk = 0;
        for (size_t k = 0; mem && mem[k]; k++) {
            char *u = xstrndup(mem[k]->bv_val, mem[k]->bv_len);
            if (!uids || cli_strv_has(uids, u)) {
                keep = xrealloc(keep, (nk + 2) * sizeof *keep);
                keep[nk++] = u;
                keep[nk] = NULL;
            } else {
                free(u);
            }
        }
        ldap_value_free_len(mem);
        if (uids && nk == 0) {
            cli_strv_free(keep);
            continue;
        }
        char *label = cli_ldapw_first(&l, es[i], label_attr);
        struct berval **mg = cli_ldapw_values(&l, es[i], "xmppMessageGroups");
        struct berval **pg = cli_ldapw_values(&l, es[i], "xmppPresenceGroups");
        char *dn = ldap_get_dn(l.ld, es[i]);
        if (o.json) {
            fputs(shown ? ",\n {\"cn\": " : "{\"cn\": ", stdout);
            cli_json_str(stdout, cns[i]);
            cli_json_field(stdout, "dn", dn);
            cli_json_field(stdout, "label", label);
            fputs(", \"members\": ", stdout);
            cli_json_strv(stdout, keep);
            fputs(", \"xmppMessageGroups\": ", stdout);
            cli_json_bvals(stdout, mg);
            fputs(", \"xmppPresenceGroups\": ", stdout);
            cli_json_bvals(stdout, pg);
            fputc('}', stdout);
        } else {
            printf("%-20s %-24s", cns[i], label ? label : "(no label)");
            for (size_t k = 0; k < nk; k++)
                printf(" %s", keep[k]);
            putchar('\n');
        }
        shown++;
        ldap_memfree(dn);
        ldap_value_free_len(mg);
        ldap_value_free_len(pg);
        free(label);
        cli_strv_free(keep);
    }
    if (o.json)
        fputs("]\n", stdout);
    for (size_t i = 0; i < n; i++)
        free(cns[i]);
    free(cns);
    free(es);
    ldap_msgfree(res);
    rc = CLI_OK;
out:
    cli_strv_free(uids);
    cli_ldapw_list_end(&o, want, &l);
    return rc;
}
