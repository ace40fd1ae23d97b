/* cli.h: the sub-commands of the `plucs` administration tool. plucs.c parses
 * the global options (--registry FILE, --help) and dispatches here; each
 * sub-command returns the process exit code: 0 ok, 1 invalid or failed,
 * 2 usage error. */
#ifndef PLUCS_CLI_H
#define PLUCS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"
#include "directory/directory.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* `plucs config ...`: argv[0] is "config". registry_path: the --registry
 * FILE given, or NULL (then registry_default_path() decides). */
int cli_config(int argc, char **argv, const char *registry_path);
void cli_config_usage(FILE *out);
/* `plucs config table [--format markdown|ucr-info]` (cli_config_table.c):
 * the built-in variable table for generated documents; argv[0] is "table". */
int cli_config_table(int argc, char **argv);

/* `plucs status [--json]` and `plucs reload` (cli_status.c): ask the running
 * plucsd through its control socket <plucs/rundir>/control. */
int cli_status(int argc, char **argv, const char *registry_path);
int cli_reload(int argc, char **argv, const char *registry_path);

/* `plucs explain [--offline] FROM TO | --matrix [DOMAIN]` (cli_explain.c):
 * the running server's answer, or (no daemon, --offline) the same rules
 * compiled from the directory by the tool itself. */
int cli_explain(int argc, char **argv, const char *registry_path);

/* Directory administration (cli_user.c, cli_group.c, cli_host.c; their
 * LDAP side is cli_ldapw.c): `plucs user|users|group|groups|host ...`;
 * argv[0] is the command's name. */
int cli_user(int argc, char **argv, const char *registry_path);
int cli_users(int argc, char **argv, const char *registry_path);
int cli_group(int argc, char **argv, const char *registry_path);
int cli_groups(int argc, char **argv, const char *registry_path);
int cli_host(int argc, char **argv, const char *registry_path);

/* The directory compiled by the tool (cli_offline.c): the snapshot the
 * server would build from the directory now, and the raw entries. */
typedef struct cli_directory {
    dir_snapshot *snap;
    bool msg_allow, pres_allow;     /* the policies it was compiled with */
    struct dir_entry **entries;
    size_t nentries;
    char **domains;                 /* served, normalised, NULL-terminated */
    size_t ndomains;
    char ignored[1024];             /* cli_directory_ignored's answer */
} cli_directory;

/* Binds and reads like the directory thread (synchronously); 0, or -1 with
 * one line in err. Problems the server would log (unknown group names,
 * ambiguous uids) are printed on stderr. */
int cli_directory_load(const config *c, cli_directory *d, char *err, size_t errlen);
void cli_directory_free(cli_directory *d);
/* control_explain_ctx.ignored for a cli_directory (ud). */
const char *cli_directory_ignored(void *ud, const dir_group *g, bool presence);

/* The control socket client (cli_status.c). Sends request (one line) to the
 * daemon whose plucs/rundir is rundir. Returns 1 when it answered (reply
 * filled; control_reply_clear it), 0 when no daemon listens (no socket, or
 * nothing accepts on it), -1 on any other failure (err says which). */
struct control_reply;
int cli_control_request(const char *rundir, const char *request, struct control_reply *reply,
                        char *err, size_t errlen);
/* plucs/rundir of the registry at path (NULL: the default); malloc'ed. */
char *cli_rundir(const char *registry_path);
/* For `plucs config set`: a reload through the control socket. 1 when the
 * daemon applied it, 0 when no daemon listens there (try SIGHUP), -1 when
 * the daemon refused it or could not be asked (printed on stderr). */
int cli_reload_daemon(const char *rundir);

#endif
