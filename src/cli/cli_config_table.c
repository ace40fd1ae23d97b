/* cli_config_table.c: `plucs config table [--format markdown|ucr-info]`,
 * the built-in variable table printed for documents generated from it: the
 * variable reference of docs/admin-guide.md (markdown) and UCS's registry.info
 * description file (ucr-info). Generating both from the table the daemon
 * validates with keeps them from drifting apart from the code. */
#include "cli/cli.h"
#include "core/registry.h"

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

static const char *default_text(const reg_var *v)
{
    if (v->flags & REG_F_REQUIRED)
        return "(required)";
    if (!v->def)
        return "(computed from the system)";
    return v->def[0] ? v->def : "(empty)";
}

static void print_markdown(void)
{
    size_t n;
    const reg_var *vars = reg_vars(&n);
    puts("| Variable | Type | Allowed | Default | Applies | Description |");
    puts("|---|---|---|---|---|---|");
    for (size_t i = 0; i < n; i++) {
        const reg_var *v = &vars[i];
        char allowed[512];
        reg_allowed(v, allowed, sizeof allowed);
        const char *applies = (v->flags & REG_F_STATIC)   ? "restart"
                            : (v->flags & REG_F_RESTART)  ? "reload (listeners re-bound)"
                            : (v->flags & REG_F_INERT)    ? "not used yet"
                                                          : "reload";
        printf("| `%s%s` | %s | ", v->key, (v->flags & REG_F_PREFIX) ? "DOMAIN" : "", reg_type_name(v->type));
        md_cell(allowed);
        fputs(" | ", stdout);
        const char *d = default_text(v);
        if (d[0] == '(')
            fputs(d, stdout);
        else {
            fputs("`", stdout);
            md_cell(d);
            fputs("`", stdout);
        }
        printf(" | %s | ", applies);
        md_cell(v->desc_en);
        puts(" |");
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
