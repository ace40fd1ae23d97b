/* cli_schema.c: `plucs schema install|check`. install adds the PLUCS
 * schema (schema/plucs.ldif) to a running slapd as the entry
 * cn=plucs,cn=schema,cn=config, over ldapi:// with SASL EXTERNAL (root on
 * the LDAP server, the way Debian's slapd lets root manage cn=config); it
 * first reads the directory's subschema, so a second run says "already
 * installed", and a directory that has only part of the schema, or the same
 * names under other OIDs, gets a clear refusal instead of a half-merged
 * schema. check reads the subschema subentry (any bind will do, also
 * ldap://) and lists every PLUCS attribute type and object class as
 * present, missing or present with another OID; exit 0 only when complete.
 * The comparison itself is in cli_schema_defs.c. */
#include "cli/cli_schema.h"
#include "cli/cli.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/registry.h"
#include "core/secret.h"

#include <errno.h>
#include <lber.h>
#include <ldap.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCHEMA_DN "cn=plucs,cn=schema,cn=config"

void cli_schema_usage(FILE *out)
{
    fputs("usage: plucs schema install [--uri URI] [--schema FILE]\n"
          "       plucs schema check [--uri URI] [--binddn DN --bindpw-file FILE] [--schema FILE] [--json]\n"
          "\n"
          "  install  add the PLUCS schema to a running slapd through cn=config: over\n"
          "           ldapi (default URI ldapi:///) with SASL EXTERNAL, as root on the\n"
          "           LDAP server. Nothing happens when it is installed already.\n"
          "  check    read the directory's subschema and list the PLUCS attribute types\n"
          "           and object classes found or missing, with their OIDs; exit 0 when\n"
          "           all are there with PLUCS's OIDs, 1 otherwise. Without --uri the\n"
          "           directory and bind of the registry (plucs/ldap/*) are used; with\n"
          "           --uri an anonymous bind unless --binddn is given (ldapi: EXTERNAL).\n"
          "  --schema FILE  the schema LDIF (default: plucs.ldif of the installed share\n"
          "           folder, /usr/share/plucs/schema, or the source tree's schema/)\n",
          out);
}

/* ---- the schema file ---- */

/* The default plucs.ldif: next to the installed binary (PREFIX/bin/plucs ->
 * PREFIX/share/plucs/schema), the Debian package's folder, the source tree
 * (build/plucs -> schema/). */
static bool find_schema_file(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char candidates[4][PATH_MAX + 64];
    int nc = 0;
    if (n > 0) {
        exe[n] = '\0';
        char *dir = dirname(exe);
        snprintf(candidates[nc++], sizeof candidates[0], "%s/../share/plucs/schema/plucs.ldif", dir);
        snprintf(candidates[nc++], sizeof candidates[0], "%s/../schema/plucs.ldif", dir);
    }
    snprintf(candidates[nc++], sizeof candidates[0], "/usr/share/plucs/schema/plucs.ldif");
    snprintf(candidates[nc++], sizeof candidates[0], "/usr/local/share/plucs/schema/plucs.ldif");
    for (int i = 0; i < nc; i++) {
        char real[PATH_MAX];
        if (access(candidates[i], R_OK) == 0 && realpath(candidates[i], real)) {
            snprintf(out, len, "%s", real);
            return true;
        }
    }
    return false;
}

/* ---- LDAP ---- */

static void ldap_failure(LDAP *ld, int rc, const char *what, char *err, size_t errlen)
{
    char *diag = NULL;
    if (ld)
        ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    snprintf(err, errlen, "%s: %s%s%s", what, ldap_err2string(rc), diag && *diag ? " - " : "",
             diag ? diag : "");
    ldap_memfree(diag);
}

static LDAP *open_uri(const char *uri, char *err, size_t errlen)
{
    LDAP *ld = NULL;
    int rc = ldap_initialize(&ld, uri);
    if (rc != LDAP_SUCCESS) {
        snprintf(err, errlen, "'%s' is not a usable LDAP URI: %s", uri, ldap_err2string(rc));
        return NULL;
    }
    int v3 = LDAP_VERSION3;
    struct timeval net = { 10, 0 }, api = { 30, 0 };
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &api);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    return ld;
}

static int bind_external(LDAP *ld, const char *uri, char *err, size_t errlen)
{
    /* An empty initial response (not an absent one): cyrus SASL in slapd
     * otherwise answers with an empty challenge first. */
    static char empty[] = "";
    struct berval none = { 0, empty };
    int rc = LDAP_SASL_BIND_IN_PROGRESS;
    for (int round = 0; round < 3 && rc == LDAP_SASL_BIND_IN_PROGRESS; round++)
        rc = ldap_sasl_bind_s(ld, NULL, "EXTERNAL", &none, NULL, NULL, NULL);
    if (rc != LDAP_SUCCESS) {
        char what[600];
        snprintf(what, sizeof what, "SASL EXTERNAL bind to %s", uri);
        ldap_failure(ld, rc, what, err, errlen);
    }
    return rc == LDAP_SUCCESS ? 0 : -1;
}

static int bind_simple(LDAP *ld, const char *uri, const char *dn, const char *pwfile, char *err,
                       size_t errlen)
{
    char secret[1024] = "";
    if (pwfile && secret_read(pwfile, secret, sizeof secret, err, errlen) != 0)
        return -1;
    struct berval cred = { strlen(secret), secret };
    int rc = ldap_sasl_bind_s(ld, dn ? dn : "", LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    explicit_bzero(secret, sizeof secret);
    if (rc != LDAP_SUCCESS) {
        char what[1200];
        snprintf(what, sizeof what, "bind to %s as '%s'", uri, dn && *dn ? dn : "(anonymous)");
        ldap_failure(ld, rc, what, err, errlen);
        return -1;
    }
    return 0;
}

typedef struct subschema {
    char *dn;        /* owned */
    char **attrs;    /* owned, NULL-terminated attributeTypes values */
    char **classes;  /* owned, NULL-terminated objectClasses values */
} subschema;

static void subschema_free(subschema *s)
{
    free(s->dn);
    for (char **p = s->attrs; p && *p; p++)
        free(*p);
    for (char **p = s->classes; p && *p; p++)
        free(*p);
    free(s->attrs);
    free(s->classes);
    memset(s, 0, sizeof *s);
}

static char **values_of(LDAP *ld, LDAPMessage *e, const char *attr)
{
    struct berval **v = ldap_get_values_len(ld, e, attr);
    size_t n = v ? (size_t)ldap_count_values_len(v) : 0;
    char **out = xcalloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = xstrndup(v[i]->bv_val, v[i]->bv_len);
    ldap_value_free_len(v);
    return out;
}

/* Reads the root DSE's subschemaSubentry, then that entry's definitions. */
static int read_subschema(LDAP *ld, const char *uri, subschema *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *root_attrs[] = { "subschemaSubentry", NULL };
    LDAPMessage *res = NULL;
    int rc = ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", root_attrs, 0, NULL, NULL,
                               NULL, 0, &res);
    LDAPMessage *e = rc == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
    char **dn = e ? values_of(ld, e, "subschemaSubentry") : NULL;
    ldap_msgfree(res);
    out->dn = xstrdup(dn && dn[0] ? dn[0] : "cn=Subschema");
    for (char **p = dn; p && *p; p++)
        free(*p);
    free(dn);

    char *attrs[] = { "attributeTypes", "objectClasses", NULL };
    res = NULL;
    rc = ldap_search_ext_s(ld, out->dn, LDAP_SCOPE_BASE, "(objectClass=subschema)", attrs, 0, NULL,
                           NULL, NULL, 0, &res);
    e = rc == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
    if (!e) {
        char what[1200];
        snprintf(what, sizeof what, "reading the subschema subentry %s on %s", out->dn, uri);
        ldap_failure(ld, rc == LDAP_SUCCESS ? LDAP_NO_SUCH_OBJECT : rc, what, err, errlen);
        ldap_msgfree(res);
        subschema_free(out);
        return -1;
    }
    out->attrs = values_of(ld, e, "attributeTypes");
    out->classes = values_of(ld, e, "objectClasses");
    ldap_msgfree(res);
    return 0;
}

/* ---- output ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static const char *state_word(enum schema_state s)
{
    return s == SCHEMA_PRESENT ? "present" : s == SCHEMA_OTHER_OID ? "other-oid" : "missing";
}

static void print_report(const schema_defs *d, const char *uri, const subschema *ss, size_t missing,
                         bool json)
{
    if (json) {
        printf("{\"uri\": ");
        json_str(stdout, uri);
        printf(", \"subschema\": ");
        json_str(stdout, ss->dn);
        printf(", \"complete\": %s, \"attributeTypes\": [", missing ? "false" : "true");
        for (int k = 0; k < 2; k++) {
            bool first = true;
            for (size_t i = 0; i < d->n; i++) {
                const schema_def *x = &d->d[i];
                if ((int)x->kind != k)
                    continue;
                printf("%s{\"name\": ", first ? "" : ", ");
                first = false;
                json_str(stdout, x->name);
                printf(", \"oid\": ");
                json_str(stdout, x->oid);
                printf(", \"state\": \"%s\", \"found_oid\": ", state_word(x->state));
                if (x->found_oid)
                    json_str(stdout, x->found_oid);
                else
                    printf("null");
                printf("}");
            }
            printf(k == 0 ? "], \"objectClasses\": [" : "]}\n");
        }
        return;
    }
    printf("subschema %s on %s:\n", ss->dn, uri);
    for (size_t i = 0; i < d->n; i++) {
        const schema_def *x = &d->d[i];
        const char *kind = x->kind == SCHEMA_ATTR ? "attribute type" : "object class";
        if (x->state == SCHEMA_PRESENT)
            printf("  present  %-14s %-22s %s\n", kind, x->name, x->oid);
        else if (x->state == SCHEMA_MISSING)
            printf("  missing  %-14s %-22s %s\n", kind, x->name, x->oid);
        else
            printf("  other    %-14s %-22s %s (PLUCS uses %s)\n", kind, x->name, x->found_oid, x->oid);
    }
    if (missing)
        printf("the PLUCS schema is incomplete: %zu of %zu definitions missing or different\n", missing,
               d->n);
    else
        printf("the PLUCS schema is installed (%zu definitions)\n", d->n);
}

/* ---- options ---- */

typedef struct opts {
    const char *uri, *schema, *binddn, *bindpw_file;
    bool json;
} opts;

static int parse_opts(int argc, char **argv, opts *o, bool check)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "--uri"))
            slot = &o->uri;
        else if (!strcmp(a, "--schema"))
            slot = &o->schema;
        else if (check && !strcmp(a, "--binddn"))
            slot = &o->binddn;
        else if (check && !strcmp(a, "--bindpw-file"))
            slot = &o->bindpw_file;
        else if (check && !strcmp(a, "--json")) {
            o->json = true;
            continue;
        } else {
            fprintf(stderr, "plucs schema %s: unknown argument '%s'\n", argv[0], a);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "plucs schema %s: %s needs a value\n", argv[0], a);
            return -1;
        }
        *slot = argv[++i];
    }
    return 0;
}

static int load_defs(const opts *o, schema_defs *d)
{
    char file[PATH_MAX], err[1024];
    if (o->schema)
        snprintf(file, sizeof file, "%s", o->schema);
    else if (!find_schema_file(file, sizeof file)) {
        fprintf(stderr, "plucs: cannot find plucs.ldif (looked next to the program, in "
                        "/usr/share/plucs/schema and /usr/local/share/plucs/schema): use --schema FILE\n");
        return -1;
    }
    if (schema_defs_load(file, d, err, sizeof err) != 0) {
        fprintf(stderr, "plucs: %s\n", err);
        return -1;
    }
    return 0;
}

/* The connection for check: --uri (anonymous, --binddn, or EXTERNAL on
 * ldapi), else every URI of the registry with the host's bind. */
static LDAP *connect_for_check(const opts *o, const char *registry_path, char *used, size_t usedlen,
                               char *err, size_t errlen)
{
    if (o->uri) {
        snprintf(used, usedlen, "%s", o->uri);
        LDAP *ld = open_uri(o->uri, err, errlen);
        if (!ld)
            return NULL;
        int rc = !o->binddn && !strncmp(o->uri, "ldapi:", 6)
                     ? bind_external(ld, o->uri, err, errlen)
                     : bind_simple(ld, o->uri, o->binddn, o->bindpw_file, err, errlen);
        if (rc != 0) {
            ldap_unbind_ext_s(ld, NULL, NULL);
            return NULL;
        }
        return ld;
    }
    char cerr[1024] = "";
    config *c = config_load(registry_path, NULL, NULL);
    if (!c) {
        snprintf(err, errlen, "the registry %s is invalid (plucs config validate says why); use --uri",
                 registry_default_path(registry_path));
        return NULL;
    }
    LDAP *ld = NULL;
    for (size_t i = 0; c->ldap_uris && c->ldap_uris[i] && !ld; i++) {
        const char *uri = c->ldap_uris[i];
        ld = open_uri(uri, cerr, sizeof cerr);
        if (!ld)
            continue;
        if (!strncmp(uri, "ldaps:", 6) || !strncmp(uri, "ldap:", 5)) {
            int demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
            if (c->ldap_cacert && *c->ldap_cacert)
                ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c->ldap_cacert);
            ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
            ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
        }
        const char *dn = o->binddn ? o->binddn : c->ldap_hostdn;
        const char *pw = o->binddn ? o->bindpw_file : c->ldap_secretfile;
        if (bind_simple(ld, uri, dn, pw, cerr, sizeof cerr) != 0) {
            ldap_unbind_ext_s(ld, NULL, NULL);
            ld = NULL;
        } else {
            snprintf(used, usedlen, "%s", uri);
        }
    }
    if (!ld)
        snprintf(err, errlen, "%s", *cerr ? cerr : "no LDAP server configured (plucs/ldap/uri)");
    config_free(c);
    return ld;
}

static int cmd_check(int argc, char **argv, const char *registry_path)
{
    opts o;
    if (parse_opts(argc, argv, &o, true) != 0)
        return CLI_USAGE;
    schema_defs d;
    if (load_defs(&o, &d) != 0)
        return CLI_FAIL;
    char err[2048], uri[1024] = "";
    LDAP *ld = connect_for_check(&o, registry_path, uri, sizeof uri, err, sizeof err);
    if (!ld) {
        fprintf(stderr, "plucs: %s\n", err);
        schema_defs_free(&d);
        return CLI_FAIL;
    }
    subschema ss;
    int rc = CLI_FAIL;
    if (read_subschema(ld, uri, &ss, err, sizeof err) != 0) {
        fprintf(stderr, "plucs: %s\n", err);
    } else {
        size_t missing = schema_compare(&d, (const char *const *)ss.attrs, (const char *const *)ss.classes);
        print_report(&d, uri, &ss, missing, o.json);
        rc = missing ? CLI_FAIL : CLI_OK;
        subschema_free(&ss);
    }
    ldap_unbind_ext_s(ld, NULL, NULL);
    schema_defs_free(&d);
    return rc;
}

/* The entry cn=plucs,cn=schema,cn=config with every definition. */
static int add_schema(LDAP *ld, const char *uri, const schema_defs *d, char *err, size_t errlen)
{
    size_t na = 0, nc = 0;
    for (size_t i = 0; i < d->n; i++)
        d->d[i].kind == SCHEMA_ATTR ? na++ : nc++;
    char **at = xcalloc(na + 1, sizeof *at), **oc = xcalloc(nc + 1, sizeof *oc);
    na = nc = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->d[i].kind == SCHEMA_ATTR)
            at[na++] = d->d[i].text;
        else
            oc[nc++] = d->d[i].text;
    }
    char *ocv[] = { "olcSchemaConfig", NULL }, *cnv[] = { "plucs", NULL };
    LDAPMod m_oc = { LDAP_MOD_ADD, "objectClass", { .modv_strvals = ocv } };
    LDAPMod m_cn = { LDAP_MOD_ADD, "cn", { .modv_strvals = cnv } };
    LDAPMod m_at = { LDAP_MOD_ADD, "olcAttributeTypes", { .modv_strvals = at } };
    LDAPMod m_cl = { LDAP_MOD_ADD, "olcObjectClasses", { .modv_strvals = oc } };
    LDAPMod *mods[] = { &m_oc, &m_cn, &m_at, &m_cl, NULL };
    int rc = ldap_add_ext_s(ld, SCHEMA_DN, mods, NULL, NULL);
    free(at);
    free(oc);
    if (rc == LDAP_SUCCESS)
        return 0;
    char what[1200];
    if (rc == LDAP_INSUFFICIENT_ACCESS)
        snprintf(what, sizeof what, "adding %s on %s was refused (run it as root on the LDAP server: "
                                    "cn=config must grant manage to "
                                    "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth)",
                 SCHEMA_DN, uri);
    else if (rc == LDAP_ALREADY_EXISTS)
        snprintf(what, sizeof what, "adding %s on %s: an entry of that name exists, but the "
                                    "subschema does not show all of PLUCS's definitions", SCHEMA_DN, uri);
    else if (rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_UNWILLING_TO_PERFORM)
        snprintf(what, sizeof what, "adding %s on %s (a slapd configured with slapd.conf instead of "
                                    "cn=config, as on UCS, takes plucs.schema with an include line; "
                                    "on UCS the app's join script registers it)", SCHEMA_DN, uri);
    else
        snprintf(what, sizeof what, "adding %s on %s", SCHEMA_DN, uri);
    ldap_failure(ld, rc, what, err, errlen);
    return -1;
}

static int cmd_install(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o, false) != 0)
        return CLI_USAGE;
    const char *uri = o.uri ? o.uri : "ldapi:///";
    schema_defs d;
    if (load_defs(&o, &d) != 0)
        return CLI_FAIL;
    char err[2048];
    LDAP *ld = open_uri(uri, err, sizeof err);
    if (!ld || bind_external(ld, uri, err, sizeof err) != 0) {
        fprintf(stderr, "plucs: %s\n", err);
        if (ld)
            ldap_unbind_ext_s(ld, NULL, NULL);
        schema_defs_free(&d);
        return CLI_FAIL;
    }
    int rc = CLI_FAIL;
    subschema ss;
    if (read_subschema(ld, uri, &ss, err, sizeof err) != 0) {
        fprintf(stderr, "plucs: %s\n", err);
        goto out;
    }
    size_t missing = schema_compare(&d, (const char *const *)ss.attrs, (const char *const *)ss.classes);
    subschema_free(&ss);
    if (missing == 0) {
        printf("the PLUCS schema is already installed on %s (%zu definitions)\n", uri, d.n);
        rc = CLI_OK;
        goto out;
    }
    if (missing != d.n) {
        fprintf(stderr, "plucs: %s already has part of the PLUCS schema; not changing it:\n", uri);
        for (size_t i = 0; i < d.n; i++) {
            const schema_def *x = &d.d[i];
            const char *kind = x->kind == SCHEMA_ATTR ? "attribute type" : "object class";
            if (x->state == SCHEMA_PRESENT)
                fprintf(stderr, "  present  %s %s %s\n", kind, x->name, x->oid);
            else if (x->state == SCHEMA_MISSING)
                fprintf(stderr, "  missing  %s %s %s\n", kind, x->name, x->oid);
            else
                fprintf(stderr, "  other    %s %s has OID %s, PLUCS uses %s\n", kind, x->name,
                        x->found_oid, x->oid);
        }
        fprintf(stderr, "plucs: remove or complete the existing definitions by hand "
                        "(plucs schema check lists them)\n");
        goto out;
    }
    for (size_t i = 0; i < d.n; i++)
        if (d.d[i].state == SCHEMA_OTHER_OID) {
            fprintf(stderr, "plucs: %s defines %s with OID %s, PLUCS uses %s; not changing it\n", uri,
                    d.d[i].name, d.d[i].found_oid, d.d[i].oid);
            goto out;
        }
    if (add_schema(ld, uri, &d, err, sizeof err) != 0) {
        fprintf(stderr, "plucs: %s\n", err);
        goto out;
    }
    printf("installed the PLUCS schema on %s as %s (%zu definitions)\n", uri, SCHEMA_DN, d.n);
    rc = CLI_OK;
out:
    ldap_unbind_ext_s(ld, NULL, NULL);
    schema_defs_free(&d);
    return rc;
}

int cli_schema(int argc, char **argv, const char *registry_path)
{
    if (argc < 2) {
        cli_schema_usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "install"))
        return cmd_install(argc - 1, argv + 1);
    if (!strcmp(argv[1], "check"))
        return cmd_check(argc - 1, argv + 1, registry_path);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        cli_schema_usage(stdout);
        return CLI_OK;
    }
    fprintf(stderr, "plucs schema: unknown sub-command '%s'\n\n", argv[1]);
    cli_schema_usage(stderr);
    return CLI_USAGE;
}
