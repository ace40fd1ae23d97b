/* cli_ldapw.c: the LDAP side shared by `plucs user|users|group|groups|host`
 * (see cli_ldapw.h): options, the bind (as ldap/hostdn with the registry's
 * secret file, like plucsd and cli_offline.c, or as --binddn with
 * --bindpw-file), single-entry look-ups, writes whose failures are explained
 * in words, the hosted domains (read with the daemon's own dir_reader code
 * so the answer cannot drift from what plucsd serves), and JSON output. */
#include "cli/cli_ldapw.h"
#include "cli/cli.h"
#include "cli/cli_ldapbind.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/registry.h"
#include "core/secret.h"
#include "directory/dir_build.h"
#include "directory/dir_reader.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cli_dir_common_usage(FILE *out)
{
    fputs("\n"
          "options (every directory command):\n"
          "  --binddn DN         bind as DN instead of the registry's ldap/hostdn (an\n"
          "                      administrator: the host may only read users and groups)\n"
          "  --bindpw-file FILE  the password of --binddn (first line of FILE)\n"
          "  --json              read commands: print JSON instead of text\n"
          "The LDAP servers and ldap/base come from the registry (--registry FILE).\n",
          out);
}

int cli_dir_opts_parse(int argc, char **argv, int first, bool allow_domain, cli_dir_opts *o)
{
    memset(o, 0, sizeof *o);
    o->args = xcalloc((size_t)argc + 1, sizeof *o->args);
    bool end = false;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        const char *name = NULL;
        if (!end && strcmp(a, "--") == 0) {
            end = true;
            continue;
        }
        if (!end && (strcmp(a, "--json") == 0)) {
            o->json = true;
            continue;
        }
        if (!end && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            o->help = true;
            continue;
        }
        if (!end && strncmp(a, "--binddn", 8) == 0 && (a[8] == '\0' || a[8] == '='))
            slot = &o->binddn, name = "--binddn";
        else if (!end && strncmp(a, "--bindpw-file", 13) == 0 && (a[13] == '\0' || a[13] == '='))
            slot = &o->bindpw_file, name = "--bindpw-file";
        else if (!end && allow_domain && strncmp(a, "--domain", 8) == 0 &&
                 (a[8] == '\0' || a[8] == '='))
            slot = &o->domain, name = "--domain";
        if (slot) {
            const char *eq = strchr(a, '=');
            if (eq) {
                *slot = eq + 1;
            } else if (i + 1 < argc) {
                *slot = argv[++i];
            } else {
                fprintf(stderr, "plucs: %s needs a value\n", name);
                cli_dir_opts_free(o);
                return -1;
            }
            continue;
        }
        if (!end && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "plucs: unknown option '%s'\n", a);
            cli_dir_opts_free(o);
            return -1;
        }
        o->args[o->nargs++] = argv[i];
    }
    if (o->binddn && !o->bindpw_file) {
        fputs("plucs: --binddn needs --bindpw-file FILE (the administrator's password)\n", stderr);
        cli_dir_opts_free(o);
        return -1;
    }
    if (o->bindpw_file && !o->binddn) {
        fputs("plucs: --bindpw-file needs --binddn DN\n", stderr);
        cli_dir_opts_free(o);
        return -1;
    }
    return 0;
}

void cli_dir_opts_free(cli_dir_opts *o)
{
    free(o->args);
    o->args = NULL;
    o->nargs = 0;
}

bool cli_dir_verb_start(int argc, char **argv, const char *cmd, int min, int max,
                        void (*usage)(FILE *), cli_dir_opts *o, int *rc)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        *rc = argc < 2 ? CLI_USAGE : CLI_OK;
        return false;
    }
    const char *verb = argv[1];
    *rc = CLI_USAGE;
    if (min < 0) {
        fprintf(stderr, "plucs: %s: unknown sub-command '%s'\n\n", cmd, verb);
        usage(stderr);
        return false;
    }
    if (cli_dir_opts_parse(argc, argv, 2, false, o) != 0)
        return false;
    if (o->help) {
        usage(stdout);
        cli_dir_opts_free(o);
        *rc = CLI_OK;
        return false;
    }
    if (o->nargs < min || o->nargs > max || (o->json && strcmp(verb, "show") != 0)) {
        fprintf(stderr, "plucs: %s %s: wrong arguments\n\n", cmd, verb);
        usage(stderr);
        cli_dir_opts_free(o);
        return false;
    }
    return true;
}

static void report(void *ud, const char *line) { fprintf(stderr, "plucs: %s\n", line); }

/* Words for a failed bind, naming the usual remedies. */
static const char *bind_reason(int rc)
{
    return rc == LDAP_INVALID_CREDENTIALS ? "wrong DN or password"
           : rc == LDAP_SERVER_DOWN      ? "cannot reach the server"
                                         : ldap_err2string(rc);
}

int cli_ldapw_open(cli_ldapw *l, const char *registry_path, const cli_dir_opts *o)
{
    memset(l, 0, sizeof *l);
    const char *path = registry_default_path(registry_path);
    l->cfg = config_load(path, report, NULL);
    if (!l->cfg) {
        fprintf(stderr, "plucs: the registry %s is invalid\n", path);
        return -1;
    }
    const config *c = l->cfg;
    if (!c->ldap_base || !*c->ldap_base) {
        fprintf(stderr, "plucs: ldap/base is not set in %s\n", path);
        goto fail;
    }
    const char *dn = o->binddn ? o->binddn : (c->ldap_hostdn ? c->ldap_hostdn : "");
    const char *pwfile = o->binddn ? o->bindpw_file : c->ldap_secretfile;
    char secret[1024], err[512];
    if (secret_read(pwfile, secret, sizeof secret, err, sizeof err) != 0) {
        fprintf(stderr, "plucs: %s: %s\n", o->binddn ? "--bindpw-file" : "plucs/ldap/secretfile", err);
        goto fail;
    }
    if (o->binddn && !secret[0]) {
        fprintf(stderr, "plucs: --bindpw-file %s is empty: an LDAP bind without a password "
                        "would be anonymous\n", pwfile);
        goto fail;
    }
    struct berval cred = { strlen(secret), secret };
    char why[2048];
    l->ld = cli_ldap_bind(c, dn, &cred, bind_reason, why, sizeof why);
    explicit_bzero(secret, sizeof secret);
    if (!l->ld) {
        fprintf(stderr, "plucs: cannot bind to the directory as '%s': %s\n", dn[0] ? dn : "(anonymous)",
                why);
        goto fail;
    }
    l->bound_as = dn;
    l->admin = o->binddn != NULL;
    return 0;
fail:
    config_free(l->cfg);
    l->cfg = NULL;
    return -1;
}

void cli_ldapw_close(cli_ldapw *l)
{
    if (l->ld)
        ldap_unbind_ext_s(l->ld, NULL, NULL);
    config_free(l->cfg);
    memset(l, 0, sizeof *l);
}

bool cli_ldapw_list_start(int argc, char **argv, const char *registry_path, void (*usage)(FILE *),
                          cli_dir_opts *o, char **want, cli_ldapw *l, int *rc)
{
    *want = NULL;
    *rc = CLI_USAGE;
    if (cli_dir_opts_parse(argc, argv, 1, true, o) != 0)
        return false;
    if (o->help || o->nargs) {
        usage(o->help ? stdout : stderr);
        cli_dir_opts_free(o);
        *rc = o->help ? CLI_OK : CLI_USAGE;
        return false;
    }
    char err[256];
    if (o->domain && !(*want = cli_domain_check(o->domain, err, sizeof err))) {
        fprintf(stderr, "plucs: --domain %s\n", err);
        cli_dir_opts_free(o);
        return false;
    }
    if (cli_ldapw_open(l, registry_path, o) != 0) {
        free(*want);
        *want = NULL;
        cli_dir_opts_free(o);
        *rc = CLI_FAIL;
        return false;
    }
    return true;
}

void cli_ldapw_list_end(cli_dir_opts *o, char *want, cli_ldapw *l)
{
    free(want);
    cli_ldapw_close(l);
    cli_dir_opts_free(o);
}

/* Words for a failed operation's result. */
static const char *reason_text(int rc)
{
    switch (rc) {
    case LDAP_INSUFFICIENT_ACCESS: return "insufficient access";
    case LDAP_NO_SUCH_OBJECT: return "the entry (or ldap/base) does not exist";
    case LDAP_SERVER_DOWN: return "the directory server went away";
    case LDAP_TIMEOUT: return "the directory did not answer in time";
    case LDAP_SIZELIMIT_EXCEEDED: return "the server's size limit was reached";
    case LDAP_UNDEFINED_TYPE: return "the directory does not know this attribute";
    case LDAP_OBJECT_CLASS_VIOLATION: return "the entry's object classes do not allow this";
    case LDAP_INVALID_SYNTAX: return "the value has an invalid syntax";
    case LDAP_CONSTRAINT_VIOLATION: return "the value violates a constraint";
    default: return ldap_err2string(rc);
    }
}

LDAPMessage *cli_ldapw_search(cli_ldapw *l, const char *filter, char **attrs)
{
    LDAPMessage *res = NULL;
    int rc = ldap_search_ext_s(l->ld, l->cfg->ldap_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL,
                               NULL, NULL, 0, &res);
    if (rc == LDAP_SUCCESS)
        return res;
    if (rc == LDAP_SIZELIMIT_EXCEEDED)
        fprintf(stderr, "plucs: warning: the directory's size limit cut the answer short "
                        "(searching %s below %s)\n", filter, l->cfg->ldap_base);
    else
        fprintf(stderr, "plucs: searching %s below %s: %s\n", filter, l->cfg->ldap_base,
                reason_text(rc));
    if (rc == LDAP_SIZELIMIT_EXCEEDED && res)
        return res;
    ldap_msgfree(res);
    return NULL;
}

size_t cli_ldapw_count(cli_ldapw *l, LDAPMessage *res)
{
    int n = res ? ldap_count_entries(l->ld, res) : 0;
    return n > 0 ? (size_t)n : 0;
}

int cli_ldapw_find(cli_ldapw *l, const char *kind, const char *name, const char *filter,
                   char **attrs, LDAPMessage **res, LDAPMessage **entry)
{
    *res = cli_ldapw_search(l, filter, attrs);
    *entry = NULL;
    if (!*res)
        return -1;
    int n = ldap_count_entries(l->ld, *res);
    if (n == 1) {
        *entry = ldap_first_entry(l->ld, *res);
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "plucs: %s '%s': no such %s under %s\n", kind, name,
                strcmp(kind, "user") == 0 ? "account" : kind, l->cfg->ldap_base);
    } else {
        fprintf(stderr, "plucs: %s '%s': %d entries match under %s, refusing to guess:", kind, name,
                n, l->cfg->ldap_base);
        for (LDAPMessage *m = ldap_first_entry(l->ld, *res); m; m = ldap_next_entry(l->ld, m)) {
            char *dn = ldap_get_dn(l->ld, m);
            fprintf(stderr, " %s", dn ? dn : "?");
            ldap_memfree(dn);
        }
        fputc('\n', stderr);
    }
    ldap_msgfree(*res);
    *res = NULL;
    return n == 0 ? 0 : -1;
}

char *cli_filter_and(const char *before, const char *attr, const char *value, const char *after)
{
    buf b;
    buf_init(&b);
    buf_printf(&b, "(&%s", before);
    if (value) {
        char *e = ldap_filter_escape(value);
        buf_printf(&b, "(%s=%s)", attr, e);
        free(e);
    }
    buf_printf(&b, "%s)", after);
    return buf_steal(&b);
}

char *cli_ldapw_dn(cli_ldapw *l, LDAPMessage *entry)
{
    char *dn = ldap_get_dn(l->ld, entry);
    char *out = xstrdup(dn ? dn : "");
    ldap_memfree(dn);
    return out;
}

char **cli_ldapw_firsts(cli_ldapw *l, LDAPMessage *res, const char *attr)
{
    size_t n = 0, cap = cli_ldapw_count(l, res);
    char **out = xcalloc(cap + 1, sizeof *out);
    for (LDAPMessage *m = res ? ldap_first_entry(l->ld, res) : NULL; m && n < cap;
         m = ldap_next_entry(l->ld, m)) {
        char *v = cli_ldapw_first(l, m, attr);
        if (v)
            out[n++] = v;
    }
    return out;
}

struct berval **cli_ldapw_values(cli_ldapw *l, LDAPMessage *entry, const char *attr)
{
    return ldap_get_values_len(l->ld, entry, attr);
}

char *cli_ldapw_first(cli_ldapw *l, LDAPMessage *entry, const char *attr)
{
    struct berval **v = ldap_get_values_len(l->ld, entry, attr);
    char *s = NULL;
    if (v && v[0])
        s = xstrndup(v[0]->bv_val, v[0]->bv_len);
    ldap_value_free_len(v);
    return s;
}

bool cli_ldapw_has_value(cli_ldapw *l, LDAPMessage *entry, const char *attr, const char *value)
{
    struct berval **v = ldap_get_values_len(l->ld, entry, attr);
    bool found = false;
    size_t len = strlen(value);
    for (size_t i = 0; v && v[i] && !found; i++)
        found = v[i]->bv_len == len && strncasecmp(v[i]->bv_val, value, len) == 0;
    ldap_value_free_len(v);
    return found;
}

void cli_mods_add(cli_mods *ms, int op, const char *attr, const char *const *values, int nvalues)
{
    if (ms->n >= (int)(sizeof ms->m / sizeof ms->m[0]) - 1)
        abort();                 /* a programming error: the commands use at most 4 */
    LDAPMod *m = xcalloc(1, sizeof *m);
    m->mod_op = op;
    m->mod_type = xstrdup(attr);
    m->mod_values = xcalloc((size_t)nvalues + 1, sizeof *m->mod_values);
    for (int i = 0; i < nvalues; i++)
        m->mod_values[i] = xstrdup(values[i]);
    ms->m[ms->n++] = m;
    ms->m[ms->n] = NULL;
}

void cli_mods_free(cli_mods *ms)
{
    for (int i = 0; i < ms->n; i++) {
        for (char **v = ms->m[i]->mod_values; v && *v; v++)
            free(*v);
        free(ms->m[i]->mod_values);
        free(ms->m[i]->mod_type);
        free(ms->m[i]);
    }
    ms->n = 0;
}

int cli_ldapw_modify(cli_ldapw *l, const char *kind, const char *name, const char *dn,
                     const char *attr, cli_mods *ms)
{
    ms->m[ms->n] = NULL;
    int rc = ldap_modify_ext_s(l->ld, dn, ms->m, NULL, NULL);
    if (rc == LDAP_SUCCESS)
        return 0;
    char *diag = NULL;
    ldap_get_option(l->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    const char *hint = "";
    if (rc == LDAP_INSUFFICIENT_ACCESS)
        hint = l->admin ? " — the --binddn given may not write it either"
                        : " — use --binddn/--bindpw-file with an administrator";
    else if (rc == LDAP_UNDEFINED_TYPE || rc == LDAP_OBJECT_CLASS_VIOLATION)
        hint = " — is the PLUCS schema installed in this directory? (plucs schema check)";
    if (rc == LDAP_INSUFFICIENT_ACCESS)
        fprintf(stderr, "plucs: %s '%s': insufficient access to write %s (entry %s)", kind, name, attr,
                dn);
    else
        fprintf(stderr, "plucs: %s '%s': cannot write %s (entry %s): %s", kind, name, attr, dn,
                reason_text(rc));
    fprintf(stderr, "%s%s%s%s\n", hint, diag && *diag ? " [server: " : "", diag && *diag ? diag : "",
            diag && *diag ? "]" : "");
    ldap_memfree(diag);
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **cli_ldapw_domains(cli_ldapw *l, bool served_only, size_t *n)
{
    const config *c = l->cfg;
    char **d = NULL;
    *n = 0;
    if (served_only && c->domains) {
        size_t k = 0;
        while (c->domains[k])
            k++;
        d = xcalloc(k + 1, sizeof *d);
        for (size_t i = 0; i < k; i++)
            d[(*n)++] = xstrdup(c->domains[i]);
    } else {
        char *filter = served_only ? dir_host_filter(c->hostname)
                                   : xstrdup("(objectClass=univentionXMPPHost)");
        char *attrs[] = { "xmppDomains", "univentionService", NULL };
        LDAPMessage *res = filter ? cli_ldapw_search(l, filter, attrs) : NULL;
        free(filter);
        if (!res)
            return NULL;
        for (LDAPMessage *m = ldap_first_entry(l->ld, res); m; m = ldap_next_entry(l->ld, m)) {
            dir_attrs a;
            if (dir_attrs_from_ldap(l->ld, m, &a) != 0)
                continue;
            if (dir_host_domains(a.v, a.n, &d, n) < 0)
                abort();
            dir_attrs_free(&a);
        }
        ldap_msgfree(res);
        d = xrealloc(d, (*n + 1) * sizeof *d);
    }
    dir_domains_normalise(d, n);
    qsort(d, *n, sizeof *d, cmp_str);
    d[*n] = NULL;
    return d;
}

bool cli_strv_has(char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcasecmp(v[i], s) == 0)
            return true;
    return false;
}

void cli_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

char *cli_domain_check(const char *d, char *err, size_t errlen)
{
    size_t len = strlen(d), label = 0;
    const char *bad = NULL;
    if (len == 0 || len > 253)
        bad = len ? "longer than 253 characters" : "empty";
    for (size_t i = 0; i < len && !bad; i++) {
        unsigned char ch = (unsigned char)d[i];
        if (ch == '.') {
            if (label == 0)
                bad = "an empty label (two dots, or a dot at the start)";
            label = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   ch == '-') {
            if (++label > 63)
                bad = "a label longer than 63 characters";
        } else {
            bad = "a character other than letters, digits, '-' and '.' (write IDNs as xn--...)";
        }
    }
    if (!bad && label == 0)
        bad = "a dot at the end";
    if (bad) {
        snprintf(err, errlen, "'%s' is not a domain name: %s", d, bad);
        return NULL;
    }
    char *out = xstrdup(d);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

static void json_bytes(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", out);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

void cli_json_str(FILE *out, const char *s)
{
    if (!s)
        fputs("null", out);
    else
        json_bytes(out, s, strlen(s));
}

void cli_json_field(FILE *out, const char *key, const char *value)
{
    fprintf(out, ", \"%s\": ", key);
    cli_json_str(out, value);
}

void cli_json_strv(FILE *out, char *const *v)
{
    fputc('[', out);
    for (size_t i = 0; v && v[i]; i++) {
        fputs(i ? ", " : "", out);
        cli_json_str(out, v[i]);
    }
    fputc(']', out);
}

void cli_json_bvals(FILE *out, struct berval **v)
{
    fputc('[', out);
    for (size_t i = 0; v && v[i]; i++) {
        if (i)
            fputs(", ", out);
        json_bytes(out, v[i]->bv_val, v[i]->bv_len);
    }
    fputc(']', out);
}
