/* cli.h: the sub-commands of the `plucs` administration tool. plucs.c parses
 * the global options (--registry FILE, --help) and dispatches here; each
 * sub-command returns the process exit code: 0 ok, 1 invalid or failed,
 * 2 usage error. */
#ifndef PLUCS_CLI_H
#define PLUCS_CLI_H

#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* `plucs config ...`: argv[0] is "config". registry_path: the --registry
 * FILE given, or NULL (then registry_default_path() decides). */
int cli_config(int argc, char **argv, const char *registry_path);
void cli_config_usage(FILE *out);

#endif
