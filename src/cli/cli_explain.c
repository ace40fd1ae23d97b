/* cli_explain.c: `plucs explain [--offline] FROM TO` and `plucs explain
 * [--offline] --matrix [DOMAIN]`: what the communication restrictions
 * (plucs/mod/filter) allow and why. The running server is asked first
 * (`explain` / `matrix` on its control socket), so the answer comes from the
 * very snapshot its router checks stanzas against. When no plucsd runs, or
 * with --offline, the tool compiles the rules from the directory itself
 * (cli_offline.c) with the registry's filter and policies and explains them
 * with the same code (control_explain.c). */
#include "cli/cli.h"

#include "control/control.h"
#include "core/registry.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: plucs explain [--offline] FROM TO\n"
          "       plucs explain [--offline] --matrix [DOMAIN]\n"
          "\n"
          "  FROM TO   two accounts (user@domain, or a uid that exists in one domain only):\n"
          "            messages in both directions and the presence each may see,\n"
          "            allowed or refused, and which groups and policies decided\n"
          "  --matrix  the group x group table of what members may do (of DOMAIN only)\n"
          "  --offline do not ask the running plucsd: compile the rules from the\n"
          "            directory (as when no plucsd runs)\n",
          out);
}

/* An argument that can travel on the control socket's line protocol. */
static bool plain_word(const char *s)
{
    if (!*s || strlen(s) > 400)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

static int print_or_fail(int rc, const buf *out, const char *err)
{
    if (rc != 0) {
        fprintf(stderr, "plucs: %s\n", err);
        return CLI_FAIL;
    }
    fputs(out->data ? out->data : "", stdout);
    return CLI_OK;
}

static void report(void *ud, const char *line) { fprintf(stderr, "plucs: %s\n", line); }

static int offline(const char *registry_path, bool matrix, char **args, int nargs)
{
    const char *path = registry_default_path(registry_path);
    config *c = config_load(path, report, NULL);
    if (!c) {
        fprintf(stderr, "plucs: the registry %s is invalid\n", path);
        return CLI_FAIL;
    }
    cli_directory d;
    char err[2048];
    if (cli_directory_load(c, &d, err, sizeof err) != 0) {
        fprintf(stderr, "plucs: cannot read the directory: %s\n", err);
        config_free(c);
        return CLI_FAIL;
    }
    control_explain_ctx x = {
        .snap = d.snap, .msg_allow = d.msg_allow, .pres_allow = d.pres_allow,
        .source = "compiled from the directory by plucs", .ignored = cli_directory_ignored,
        .ignored_ud = &d,
    };
    buf out;
    buf_init(&out);
    int rc = matrix ? control_matrix(&x, nargs ? args[0] : NULL, &out, err, sizeof err)
                    : control_explain(&x, args[0], args[1], &out, err, sizeof err);
    rc = print_or_fail(rc, &out, err);
    buf_free(&out);
    cli_directory_free(&d);
    config_free(c);
    return rc;
}

int cli_explain(int argc, char **argv, const char *registry_path)
{
    bool force_offline = false, matrix = false;
    char *args[3];
    int nargs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--offline") == 0) {
            force_offline = true;
        } else if (strcmp(argv[i], "--matrix") == 0) {
            matrix = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "plucs explain: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        } else if (nargs < 3) {
            args[nargs++] = argv[i];
        } else {
            nargs++;
        }
    }
    if (matrix ? nargs > 1 : nargs != 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    for (int i = 0; i < nargs; i++)
        if (!plain_word(args[i])) {
            fprintf(stderr, "plucs explain: '%s' is not a user or domain name\n", args[i]);
            return CLI_USAGE;
        }
    if (force_offline)
        return offline(registry_path, matrix, args, nargs);

    char *rundir = cli_rundir(registry_path);
    if (!rundir)
        return CLI_FAIL;
    buf req;
    buf_init(&req);
    if (matrix)
        buf_printf(&req, "matrix%s%s", nargs ? " " : "", nargs ? args[0] : "");
    else
        buf_printf(&req, "explain %s %s", args[0], args[1]);
    control_reply reply;
    char err[600];
    int rc = cli_control_request(rundir, req.data, &reply, err, sizeof err);
    buf_free(&req);
    free(rundir);
    if (rc == 0) {
        fprintf(stderr, "plucs: plucsd is not running; compiling the rules from the directory\n");
        return offline(registry_path, matrix, args, nargs);
    }
    if (rc < 0) {
        fprintf(stderr, "plucs: %s (--offline reads the directory instead)\n", err);
        return CLI_FAIL;
    }
    if (reply.ok) {
        fputs(reply.body.data ? reply.body.data : "", stdout);
        rc = CLI_OK;
    } else {
        fprintf(stderr, "plucs: %s\n", reply.error);
        rc = CLI_FAIL;
    }
    control_reply_clear(&reply);
    return rc;
}
