/* plucs.c: main of the `plucs` administration tool. Takes the global option
 * --registry FILE (before or after the sub-command; $PLUCS_REGISTRY works
 * too), prints help, and hands the rest of the command line to the
 * sub-command's function (see cli.h). */
#include "cli/cli_apache.h"
#include "core/alloc.h"
#include "cli/cli.h"
#include "cli/cli_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv, const char *registry_path);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    { "config", cli_config, "read, change and check the configuration registry" },
    { "apache", cli_apache, "write or remove the Apache reverse-proxy snippet (plucs/http/proxy)" },
    { "status", cli_status, "what the running plucsd serves: sessions, domains, directory (--json)" },
    { "reload", cli_reload, "make the running plucsd re-read the registry and apply directory changes" },
    { "explain", cli_explain, "what plucs/mod/filter allows between two users, or --matrix" },
    { "user", cli_user, "show, enable, disable an XMPP account, set its domain (directory)" },
    { "users", cli_users, "list the XMPP accounts [--domain D] (directory)" },
    { "group", cli_group, "show, enable, disable an XMPP group, change its message/presence lists" },
    { "groups", cli_groups, "list the XMPP groups [--domain D] (directory)" },
    { "host", cli_host, "show a host's XMPP domains, add or remove one (directory)" },
    { "schema", cli_schema, "install the PLUCS LDAP schema (cn=config) or check a directory for it" },
};

static void usage(FILE *out)
{
    fputs("usage: plucs [--registry FILE] COMMAND [ARGS...]\n"
          "\n"
          "options:\n"
          "  --registry FILE  the registry file to use (also $PLUCS_REGISTRY; default:\n"
          "                   /etc/univention/base.conf if it exists, else /etc/plucs/registry.conf)\n"
          "  -h, --help       this help\n"
          "\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    fputc('\n', out);
    cli_config_usage(out);
}

int main(int argc, char **argv)
{
    /* Take --registry out of argv wherever it is (before a lone "--"). */
    const char *registry_path = NULL;
    char **args = xcalloc((size_t)argc + 1, sizeof *args);
    int n = 0;
    int end_of_options = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!end_of_options && strcmp(a, "--") == 0) {
            end_of_options = 1;
            args[n++] = argv[i];
        } else if (!end_of_options && strcmp(a, "--registry") == 0) {
            if (i + 1 >= argc) {
                fputs("plucs: --registry needs a file name\n", stderr);
                free(args);
                return 2;
            }
            registry_path = argv[++i];
        } else if (!end_of_options && strncmp(a, "--registry=", 11) == 0) {
            registry_path = a + 11;
        } else {
            args[n++] = argv[i];
        }
    }
    args[n] = NULL;

    int rc;
    if (n == 0) {
        usage(stderr);
        rc = 2;
    } else if (strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0 || strcmp(args[0], "help") == 0) {
        usage(stdout);
        rc = 0;
    } else {
        rc = -1;
        for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
            if (strcmp(args[0], subcommands[i].name) == 0)
                rc = subcommands[i].run(n, args, registry_path);
        if (rc < 0) {
            fprintf(stderr, "plucs: unknown command '%s'\n\n", args[0]);
            usage(stderr);
            rc = 2;
        }
    }
    free(args);
    return rc;
}
