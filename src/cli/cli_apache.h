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
/* The snippet for c, appended to b. */
void apache_snippet(const config *c, struct buf *b);

#endif
