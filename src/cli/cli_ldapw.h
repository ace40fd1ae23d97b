/* cli_ldapw.h: what `plucs user|users|group|groups|host` (cli_user.c,
 * cli_group.c, cli_host.c) share: their common options (--binddn,
 * --bindpw-file, --json, --domain), one synchronous LDAP connection bound
 * as the registry's ldap/hostdn or as the administrator given, finding one
 * entry by an escaped filter, writing with errors an administrator can act
 * on (entry, attribute, reason; never a bare LDAP error number), the hosted
 * domains, and a few JSON helpers. The tool is a short-lived process with
 * nothing else to do, so blocking libldap calls are right here (the daemon
 * never uses this file). */
#ifndef PLUCS_CLI_LDAPW_H
#define PLUCS_CLI_LDAPW_H

#include <ldap.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"

/* The options every directory command takes, and its positional arguments
 * (pointers into argv). */
typedef struct cli_dir_opts {
    const char *binddn, *bindpw_file, *domain;
    bool json, help;
    char **args;          /* NULL-terminated, malloc'ed array */
    int nargs;
} cli_dir_opts;

/* Parses argv[first..argc). allow_domain: --domain is accepted. Returns 0,
 * or -1 after printing a usage error (then nothing to free). */
int cli_dir_opts_parse(int argc, char **argv, int first, bool allow_domain, cli_dir_opts *o);
void cli_dir_opts_free(cli_dir_opts *o);

/* The start of `plucs CMD VERB ARGS...` (user, group, host): --help or no
 * verb, an unknown verb (the caller passes min < 0), the options after the
 * verb, between min and max positional arguments, --json only for show.
 * true: o is parsed (cli_dir_opts_free it); false: return *rc (usage or
 * error printed, nothing to free). */
bool cli_dir_verb_start(int argc, char **argv, const char *cmd, int min, int max,
                        void (*usage)(FILE *), cli_dir_opts *o, int *rc);

/* One bound connection and the registry it came from (both owned). */
typedef struct cli_ldapw {
    LDAP *ld;
    config *cfg;
    const char *bound_as;     /* the bind DN (points into cfg or the options) */
    bool admin;               /* bound with --binddn */
} cli_ldapw;

/* Loads the registry and binds (to the first server that accepts). Returns
 * 0, or -1 after printing why on stderr. */
int cli_ldapw_open(cli_ldapw *l, const char *registry_path, const cli_dir_opts *o);
void cli_ldapw_close(cli_ldapw *l);

/* The start of a listing (`plucs users|groups [--domain D]`): the options
 * (no positional arguments), --domain checked (*want: its lower-case copy
 * or NULL), the bind. true: go on, and end with cli_ldapw_list_end; false:
 * return *rc (everything freed). */
bool cli_ldapw_list_start(int argc, char **argv, const char *registry_path, void (*usage)(FILE *),
                          cli_dir_opts *o, char **want, cli_ldapw *l, int *rc);
void cli_ldapw_list_end(cli_dir_opts *o, char *want, cli_ldapw *l);

/* "(&BEFORE(ATTR=VALUE)AFTER)" with VALUE escaped for a filter (RFC 4515);
 * value NULL: "(&BEFOREAFTER)". Malloc'ed. */
char *cli_filter_and(const char *before, const char *attr, const char *value, const char *after);

/* The one entry below ldap/base matching filter (built by the caller with
 * escaped values). kind/name name it in messages ("user 'bob'"). Returns 1
 * with *res (ldap_msgfree it) and *entry, 0 when none matches (message
 * printed), -1 on failure or ambiguity (message printed). */
int cli_ldapw_find(cli_ldapw *l, const char *kind, const char *name, const char *filter,
                   char **attrs, LDAPMessage **res, LDAPMessage **entry);

/* The DN of entry, malloc'ed ("" when the library cannot give it). */
char *cli_ldapw_dn(cli_ldapw *l, LDAPMessage *entry);
/* The first value of attr of every entry of res that has one, as a
 * NULL-terminated malloc'ed array (cli_strv_free); empty for NULL res. */
char **cli_ldapw_firsts(cli_ldapw *l, LDAPMessage *res, const char *attr);

/* The values of attr in entry (ldap_value_free_len them); NULL when none. */
struct berval **cli_ldapw_values(cli_ldapw *l, LDAPMessage *entry, const char *attr);
/* The first value of attr as a malloc'ed string, or NULL. */
char *cli_ldapw_first(cli_ldapw *l, LDAPMessage *entry, const char *attr);
/* Whether attr has value (case-insensitive, as the schema's matching). */
bool cli_ldapw_has_value(cli_ldapw *l, LDAPMessage *entry, const char *attr, const char *value);

/* A modification list under construction (values copied). */
typedef struct cli_mods {
    LDAPMod *m[8];
    int n;
} cli_mods;
void cli_mods_add(cli_mods *ms, int op, const char *attr, const char *const *values, int nvalues);
void cli_mods_free(cli_mods *ms);

/* Applies mods to dn. On failure prints one line naming kind 'name', the
 * attribute (attr) and the reason, with the remedy when there is one
 * (insufficient access: --binddn/--bindpw-file; unknown attribute or class:
 * the schema), and returns -1; 0 on success. */
int cli_ldapw_modify(cli_ldapw *l, const char *kind, const char *name, const char *dn,
                     const char *attr, cli_mods *ms);

/* A subtree search below ldap/base (all results, no paging needed for the
 * sizes an administrator lists; the server's size limit is reported).
 * Returns the result (ldap_msgfree it) or NULL after printing why. */
LDAPMessage *cli_ldapw_search(cli_ldapw *l, const char *filter, char **attrs);
/* The number of entries in res (0 for NULL): the bound for loops over it. */
size_t cli_ldapw_count(cli_ldapw *l, LDAPMessage *res);

/* Domains (lower case, sorted, unique; NULL-terminated, malloc'ed; free
 * with cli_strv_free). served: this host's (plucs/domains, else the host
 * object of the registry's hostname); otherwise every XMPP domain served by
 * any host object below ldap/base (hosts whose univentionService lacks XMPP
 * serve none). NULL after printing why. */
char **cli_ldapw_domains(cli_ldapw *l, bool served_only, size_t *n);
bool cli_strv_has(char *const *v, const char *s);     /* case-insensitive */
void cli_strv_free(char **v);

/* A domain name as xmppDomain(s) hold it: ASCII letters, digits, '-' and
 * '.', labels not empty; returns a lower-case copy or NULL (then err says
 * why). */
char *cli_domain_check(const char *d, char *err, size_t errlen);

/* JSON output: a string (quoted, escaped) or null for NULL. */
void cli_json_str(FILE *out, const char *s);
/* `, "key": value` (a JSON string or null): one field after the first. */
void cli_json_field(FILE *out, const char *key, const char *value);
/* ["s1", ...] of a NULL-terminated string array (NULL: []). */
void cli_json_strv(FILE *out, char *const *v);
/* ["v1", ...] of bervals (NULL: []). */
void cli_json_bvals(FILE *out, struct berval **v);

/* The usage lines shared by the directory commands' --help. */
void cli_dir_common_usage(FILE *out);

#endif
