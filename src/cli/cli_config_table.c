/* cli_config_table.c: `plucs config table [--format markdown|ucr-info]`,
 * the built-in variable table printed for documents generated from it: the
 * variable reference of docs/admin-guide.md (markdown) and UCS's registry.info
 * description file (ucr-info). Generating both from the table the daemon
 * validates with keeps them from drifting apart from the code. */
#include "cli/cli.h"
#include "core/registry.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A description cell for a markdown table: '|' escaped, nothing else. */
static void md_cell(const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", stdout);
        else
            putchar(*s);
    }
}

/* What a default without a fixed value is computed from (registry_vars.c
 * and config.c compute them); a variable missing here reads "(computed)". */
static const struct { const char *key, *text; } computed_defaults[] = {
    { "hostname", "(the system's short host name)" },
    { "domainname", "(the system's DNS domain)" },
    { "plucs/language", "(`de` when the locale is German, else `en`)" },
    { "plucs/s2s/certfile", "(the value of `plucs/certfile`)" },
};

static const char *default_text(const reg_var *v)
{
    if (v->flags & REG_F_REQUIRED)
        return "(required)";
    if (!v->def) {
        for (size_t i = 0; i < sizeof computed_defaults / sizeof computed_defaults[0]; i++)
            if (strcmp(v->key, computed_defaults[i].key) == 0)
                return computed_defaults[i].text;
        return "(computed)";
    }
    return v->def[0] ? v->def : "(empty)";
}

/* The markdown reference is grouped under headings so that an administrator
 * finds a variable by what it is for. A variable belongs to the first group
 * with a matching prefix ("plucs/s2s" matches plucs/s2s and plucs/s2s/...);
 * whatever matches none lands in "Other variables", so a new variable always
 * appears even before someone files it under a heading here. */
typedef struct md_group {
    const char *title;
    const char *prefixes[12];
} md_group;

static const md_group md_groups[] = {
    { "Host identity and directory connection",
      { "hostname", "domainname", "ldap", "plucs/ldap" } },
    { "The service",
      { "plucs/autostart", "plucs/language", "plucs/restart", "plucs/loglevel", "plucs/domains",
        "plucs/threads", "plucs/store", "plucs/rundir", "plucs/max_stanza_size", "plucs/offline",
        "plucs/admin" } },
    { "Directory groups: rosters, labels and communication restrictions",
      { "plucs/userlabel", "plucs/grouplabel", "plucs/roster", "plucs/mod/filter" } },
    { "Client connections and TLS",
      { "plucs/certfile", "plucs/tls", "plucs/c2s" } },
    { "Federation (server-to-server)", { "plucs/s2s" } },
    { "Web clients and Apache (BOSH, polling, WebSocket)", { "plucs/http" } },
    { "Group chat", { "plucs/muc" } },
    { "Phones and several devices", { "plucs/sm", "plucs/csi", "plucs/mam", "plucs/push", "plucs/fast" } },
    { "Publish-subscribe, avatars and file upload", { "plucs/pubsub", "plucs/upload" } },
    { "Quotas", { "plucs/quota" } },
};
#define MD_NGROUPS (sizeof md_groups / sizeof md_groups[0])

static bool md_prefix_match(const char *key, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(key, prefix, n) == 0 && (key[n] == '\0' || key[n] == '/');
}

/* Index of the group a key belongs to; MD_NGROUPS for "Other variables". */
static size_t md_group_of(const char *key)
{
    for (size_t g = 0; g < MD_NGROUPS; g++)
        for (size_t i = 0; i < 12 && md_groups[g].prefixes[i]; i++)
            if (md_prefix_match(key, md_groups[g].prefixes[i]))
                return g;
    return MD_NGROUPS;
}

static void md_row(const reg_var *v)
{
    char allowed[512];
    if (v->type == REG_BOOL)
        snprintf(allowed, sizeof allowed, "`true` or `false`");
    else
        reg_allowed(v, allowed, sizeof allowed);
    const char *applies = (v->flags & REG_F_STATIC)   ? "restart"
                        : (v->flags & REG_F_RESTART)  ? "reload, listeners re-bound"
                        : (v->flags & REG_F_INERT)    ? "not used yet"
                                                      : "reload";
    printf("| `%s%s` | ", v->key, (v->flags & REG_F_PREFIX) ? "DOMAIN" : "");
    const char *d = default_text(v);
    if (d[0] == '(')
        fputs(d, stdout);
    else {
        fputs("`", stdout);
        md_cell(d);
        fputs("`", stdout);
    }
    fputs(" | ", stdout);
    md_cell(allowed);
    printf(" | %s | ", applies);
    md_cell(v->desc_en);
    puts(" |");
}

static void print_markdown(void)
{
    size_t n;
    const reg_var *vars = reg_vars(&n);
    puts("Booleans accept `true`, `yes`, `1`, `on`, `enable`, `enabled` and `false`, `no`, `0`, `off`,");
    puts("`disable`, `disabled`, in any case. Applies: *reload* means a running plucsd takes the new");
    puts("value at its next reload, without dropping sessions (`plucs config set` asks for one);");
    puts("*restart* means it is read only when plucsd starts.");
    for (size_t g = 0; g <= MD_NGROUPS; g++) {
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            if (md_group_of(vars[i].key) != g)
                continue;
            if (!any) {
                printf("\n### %s\n\n", g < MD_NGROUPS ? md_groups[g].title : "Other variables");
                puts("| Variable | Default | Allowed | Applies | Description |");
                puts("|---|---|---|---|---|");
                any = true;
            }
            md_row(&vars[i]);
        }
    }
}

/* UCS's registry.info format: one [key] section per variable. */
static const char *ucr_type(const reg_var *v)
{
    switch (v->type) {
    case REG_BOOL: return "bool";
    case REG_INT:  return v->min >= 0 ? "uint" : "int";
    default:       return "str";
    }
}

static void print_ucr_info(void)
{
    size_t n;
    const reg_var *vars = reg_vars(&n);
    for (size_t i = 0; i < n; i++) {
        const reg_var *v = &vars[i];
        if (strncmp(v->key, "plucs/", 6) != 0)
            continue;   /* hostname, domainname, ldap/...: UCS describes its own */
        printf("[%s%s]\n", v->key, (v->flags & REG_F_PREFIX) ? ".*" : "");
        printf("Description[en]=%s\n", v->desc_en);
        printf("Description[de]=%s\n", v->desc_de);
        printf("Type=%s\n", ucr_type(v));
        if (v->type == REG_INT)
            printf("Min=%d\nMax=%d\n", v->min, v->max);
        if (v->def && v->def[0])
            printf("Default=%s\n", v->def);
        puts("Categories=service-plucs\n");
    }
}

int cli_config_table(int argc, char **argv)
{
    const char *format = "markdown";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            format = argv[++i];
        else if (strncmp(argv[i], "--format=", 9) == 0)
            format = argv[i] + 9;
        else {
            fprintf(stderr, "plucs config table: unknown argument '%s' (allowed: --format markdown|ucr-info)\n",
                    argv[i]);
            return CLI_USAGE;
        }
    }
    if (strcmp(format, "markdown") == 0)
        print_markdown();
    else if (strcmp(format, "ucr-info") == 0)
        print_ucr_info();
    else {
        fprintf(stderr, "plucs config table: unknown format '%s' (allowed: markdown, ucr-info)\n", format);
        return CLI_USAGE;
    }
    return CLI_OK;
}
