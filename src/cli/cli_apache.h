/* cli_apache.h: `plucs apache` and the Apache snippet it keeps (see
 * cli_apache.c); apache_sync() also runs after every `plucs config` change. */
#ifndef PLUCS_CLI_APACHE_H
#define PLUCS_CLI_APACHE_H

#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"

struct buf;

/* `plucs apache [--print]`: argv[0] is "apache". */
int cli_apache(int argc, char **argv, const char *registry_path);
void cli_apache_usage(FILE *out);
/* Writes or removes the snippet as plucs/http/proxy says (quiet when
 * nothing changed unless verbose). Returns a CLI_* code. */
int apache_sync(const char *registry_path, bool verbose);
/* The same; *changed (may be NULL) says whether the file was written or
 * removed. */
int apache_sync_changed(const char *registry_path, bool verbose, bool *changed);
/* `plucs apache follow [--reload-command CMD]` (cli_apache_follow.c);
 * argv[0] is "follow". Runs until SIGTERM/SIGINT. */
int apache_follow(int argc, char **argv, const char *registry_path);
/* The snippet for c, appended to b. */
void apache_snippet(const config *c, struct buf *b);

#endif
