/* cli_config.c: `plucs config`, the UCR look-alike: get, set (KEY=VALUE and
 * KEY?VALUE), unset, search [--verbose] [REGEX] and validate. A change is
 * validated completely before anything is written, written atomically, and
 * then a running plucsd is asked to reload (`reload` on its control socket
 * <plucs/rundir>/control, else SIGHUP to the pid in <plucs/rundir>/plucsd.pid).
 *
 * On a UCS host (the registry file is named base.conf) get and search read
 * UCR's layers merged (core/registry_layers.h) and search --verbose
 * says which layer each value comes from; set and unset write base.conf
 * only, like `ucr set`, and say so when a higher layer (base-ldap.conf,
 * base-forced.conf) overrides what was just written.
 *
 * Unknown keys: a key under plucs/ that is not in the variable table is a
 * typo and is refused ("unknown variable"); any other key is accepted as a
 * free UCR-style variable, because on a UCS host the file is UCR's own
 * base.conf and holds the variables of every other service. */
#include "cli/cli.h"
#include "core/alloc.h"
#include "cli/cli_apache.h"

#include "core/config.h"
#include "core/registry.h"
#include "core/registry_layers.h"

#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

void cli_config_usage(FILE *out)
{
    fputs("usage: plucs config get KEY\n"
          "       plucs config set KEY=VALUE|KEY?VALUE ...\n"
          "       plucs config unset KEY ...\n"
          "       plucs config search [--verbose] [--brief] [--key|--value|--all] [REGEX]\n"
          "       plucs config validate\n"
          "       plucs config table [--format markdown|ucr-info]\n"
          "\n"
          "  get       print the value of KEY (its default when it is not set)\n"
          "  set       set variables; KEY?VALUE sets only when KEY is not set yet.\n"
          "            Every pair is checked first: on any error nothing is written.\n"
          "  unset     remove variables from the file (back to their defaults)\n"
          "  search    print `key: value` for variables whose key matches REGEX\n"
          "            (POSIX extended); --verbose adds description, type, allowed\n"
          "            values and default; --value/--all match values / both\n"
          "  validate  check the whole file as the daemon would; exit 1 on any problem\n"
          "  table     print every built-in variable (for generated documents)\n"
          "\n"
          "After set and unset a running plucsd is asked to reload (it also reloads\n"
          "by itself when the files change on disk).\n"
          "A registry named base.conf (UCS) is read with UCR's layers from its folder:\n"
          "base-forced.conf > base-schedule.conf > base-ldap.conf > base.conf >\n"
          "base-defaults.conf; set and unset write base.conf only, and search --verbose\n"
          "shows the layer of each value.\n",
          out);
}

static registry *load_or_complain(const char *path)
{
    registry *r = registry_load(path);
    if (!r)
        fprintf(stderr, "plucs: cannot read %s: %s\n", path, strerror(errno));
    return r;
}

/* The merged layers of path (see registry_layers.h), or NULL after saying why. */
static registry_stack *load_stack_or_complain(const char *path)
{
    char failed[4096];
    registry_stack *s = registry_stack_load(path, failed, sizeof failed);
    if (!s)
        fprintf(stderr, "plucs: cannot read %s: %s\n", failed, strerror(errno));
    return s;
}

/* After set/unset wrote base.conf: a higher layer still decides the value. */
static void note_overridden(const char *path, const char *key, bool was_unset)
{
    registry_stack *s = registry_stack_load(path, NULL, 0);
    int origin = registry_stack_origin(s, key);
    if (origin > REG_LAYER_BASE)
        fprintf(stderr, "plucs: %s is %s in %s, which takes precedence over %s: the value in effect is '%s'\n",
                key, was_unset ? "still set" : "also set", registry_stack_file(s, origin), path,
                registry_stack_layer_get(s, origin, key));
    registry_stack_free(s);
}

static bool unknown_plucs_key(const char *key)
{
    return strncmp(key, "plucs/", 6) == 0 && !reg_var_find(key);
}

/* Asks a running daemon to reload; quiet when none runs. */
static void signal_daemon(const char *rundir)
{
    char pidfile[4096];
    snprintf(pidfile, sizeof pidfile, "%s/plucsd.pid", rundir);
    FILE *f = fopen(pidfile, "r");
    if (!f)
        return;
    char line[64] = "";
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!got)
        return;
    char *end;
    errno = 0;
    long pid = strtol(line, &end, 10);
    if (errno || end == line || pid <= 1 || pid > 0x3fffffff || (*end && *end != '\n' && *end != ' '))
        return;
    if (kill((pid_t)pid, 0) != 0) {
        if (errno == EPERM)
            fprintf(stderr, "plucs: plucsd (pid %ld) runs, but may not be signalled by you: reload it yourself\n",
                    pid);
        return;   /* ESRCH: a stale pid file, no daemon */
    }
    if (kill((pid_t)pid, SIGHUP) == 0)
        fprintf(stderr, "plucs: asked plucsd (pid %ld) to reload\n", pid);
    else
        fprintf(stderr, "plucs: cannot signal plucsd (pid %ld): %s\n", pid, strerror(errno));
}

static int save_and_reload(registry *r, const char *path, const char *rundir)
{
    if (registry_save(r, path) != 0) {
        fprintf(stderr, "plucs: cannot write %s: %s\n", path, strerror(errno));
        return CLI_FAIL;
    }
    apache_sync(path, false);   /* the Apache snippet follows the plucs/http variables */
    int asked = cli_reload_daemon(rundir);
    if (asked == 0)
        signal_daemon(rundir);
    return asked < 0 ? CLI_FAIL : CLI_OK;
}

static int cmd_get(int argc, char **argv, const char *path)
{
    if (argc != 2) {
        cli_config_usage(stderr);
        return CLI_USAGE;
    }
    const char *key = argv[1];
    registry_stack *s = load_stack_or_complain(path);
    if (!s)
        return CLI_FAIL;
    const registry *r = registry_stack_merged(s);
    int rc = CLI_OK;
    const char *v = registry_get(r, key);
    if (!v && unknown_plucs_key(key)) {
        fprintf(stderr, "%s: unknown variable\n", key);
        rc = CLI_FAIL;
    } else {
        printf("%s\n", v ? v : "");
    }
    registry_stack_free(s);
    return rc;
}

typedef struct {
    char *key;       /* owned */
    const char *value;
    bool if_unset;   /* KEY?VALUE */
} pending;

static int cmd_set(int argc, char **argv, const char *path)
{
    if (argc < 2) {
        cli_config_usage(stderr);
        return CLI_USAGE;
    }
    int n = argc - 1;
    pending *p = xcalloc((size_t)n, sizeof *p);
    int rc = CLI_OK;
    for (int i = 0; i < n && rc != CLI_USAGE; i++) {
        const char *a = argv[i + 1];
        size_t klen = strcspn(a, "=?");
        if (!a[klen]) {
            fprintf(stderr, "plucs config set: '%s' is not KEY=VALUE or KEY?VALUE\n", a);
            rc = CLI_USAGE;
            break;
        }
        p[i].key = xstrndup(a, klen);
        p[i].value = a + klen + 1;
        p[i].if_unset = a[klen] == '?';
        if (!p[i].key) {
            rc = CLI_FAIL;
            break;
        }
        char err[1024];
        if (!reg_key_valid(p[i].key)) {
            fprintf(stderr, "%s: invalid key (allowed: a-z, 0-9, '/', '_', '.', '-')\n", p[i].key);
            rc = CLI_FAIL;
        } else if (unknown_plucs_key(p[i].key)) {
            fprintf(stderr, "%s: unknown variable (plucs config search --verbose plucs/ lists them)\n", p[i].key);
            rc = CLI_FAIL;
        } else if (reg_validate(p[i].key, p[i].value, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            rc = CLI_FAIL;
        }
    }
    registry *r = NULL;
    if (rc == CLI_OK && !(r = load_or_complain(path)))
        rc = CLI_FAIL;
    if (rc == CLI_OK) {
        char *rundir = cli_rundir(path);   /* the running daemon's (all layers) */
        bool changed = false;
        for (int i = 0; i < n; i++) {
            if (p[i].if_unset && registry_get_raw(r, p[i].key))
                continue;
            const char *old = registry_get_raw(r, p[i].key);
            if (old && strcmp(old, p[i].value) == 0)
                continue;
            registry_set(r, p[i].key, p[i].value);
            changed = true;
        }
        if (changed)
            rc = save_and_reload(r, path, rundir);
        free(rundir);
        for (int i = 0; i < n && rc == CLI_OK; i++)
            note_overridden(path, p[i].key, false);
    }
    registry_free(r);
    for (int i = 0; i < n; i++)
        free(p[i].key);
    free(p);
    return rc;
}

static int cmd_unset(int argc, char **argv, const char *path)
{
    if (argc < 2) {
        cli_config_usage(stderr);
        return CLI_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        if (!reg_key_valid(argv[i])) {
            fprintf(stderr, "%s: invalid key (allowed: a-z, 0-9, '/', '_', '.', '-')\n", argv[i]);
            return CLI_FAIL;
        }
    }
    registry *r = load_or_complain(path);
    if (!r)
        return CLI_FAIL;
    char *rundir = cli_rundir(path);
    bool changed = false;
    for (int i = 1; i < argc; i++)
        changed |= registry_unset(r, argv[i]);
    int rc = changed ? save_and_reload(r, path, rundir) : CLI_OK;
    free(rundir);
    for (int i = 1; i < argc && rc == CLI_OK; i++)
        note_overridden(path, argv[i], true);
    registry_free(r);
    return rc;
}

/* ---- search ---- */

typedef struct {
    const char *key;
    const char *value;
    const reg_var *var;   /* NULL for a key the table does not know */
} entry;

typedef struct {
    entry *e;
    size_t n, cap;
} entries;

static void add_entry(entries *es, const char *key, const char *value, const reg_var *var)
{
    if (es->n == es->cap) {
        size_t cap = es->cap ? es->cap * 2 : 64;
        entry *ne = xrealloc(es->e, cap * sizeof *ne);
        es->e = ne;
        es->cap = cap;
    }
    es->e[es->n++] = (entry){ key, value, var };
}

static void add_unknown(void *ud, const char *key, const char *value)
{
    if (!reg_var_find(key))
        add_entry(ud, key, value, NULL);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->key, ((const entry *)b)->key);
}

typedef struct {
    const char *type, *allowed, *def, *none, *computed, *same_as, *restart, *rebind, *required,
        *unknown, *inert, *layer, *builtin;
} labels;

static const labels labels_en = { "type", "allowed", "default", "(none)", "computed from the system",
                                  "the value of plucs/certfile", "changing it needs a restart",
                                  "listeners are re-bound automatically",
                                  "required: must be set for the daemon to start",
                                  "not a PLUCS variable (kept as it is)",
                                  "inert: not used yet, federation (server-to-server) is not built",
                                  "layer", "default" };
static const labels labels_de = { "Typ", "erlaubt", "Standard", "(keiner)", "vom System ermittelt",
                                  "der Wert von plucs/certfile", "eine Änderung erfordert einen Neustart",
                                  "Listener werden automatisch neu gebunden",
                                  "erforderlich: muss gesetzt sein, damit der Dienst startet",
                                  "keine PLUCS-Variable (bleibt unverändert)",
                                  "wirkungslos: noch nicht benutzt, Föderation (Server-zu-Server) ist nicht eingebaut",
                                  "Ebene", "Standard" };

/* Where the value comes from: the layer file, or "default". */
static void print_layer(const entry *e, const registry_stack *s, const labels *L)
{
    int origin = registry_stack_origin(s, e->key);
    printf(" %s: %s\n", L->layer, origin < 0 ? L->builtin : registry_stack_file(s, origin));
}

static void print_verbose(const entry *e, const registry_stack *s, bool german)
{
    const labels *L = german ? &labels_de : &labels_en;
    const reg_var *v = e->var;
    print_layer(e, s, L);
    if (!v) {
        printf(" %s\n", L->unknown);
        return;
    }
    printf(" %s\n", german ? v->desc_de : v->desc_en);
    if (v->flags & REG_F_INERT)
        printf(" %s\n", L->inert);
    char allowed[256];
    printf(" %s: %s; %s: %s\n", L->type, reg_type_name(v->type), L->allowed, reg_allowed(v, allowed, sizeof allowed));
    if (strcmp(v->key, "plucs/s2s/certfile") == 0)
        printf(" %s: %s\n", L->def, L->same_as);
    else if (!v->def && !(v->flags & REG_F_REQUIRED) && reg_default(v)[0])
        printf(" %s: %s (%s)\n", L->def, reg_default(v), L->computed);
    else
        printf(" %s: %s\n", L->def, reg_default(v)[0] ? reg_default(v) : L->none);
    if (v->flags & REG_F_REQUIRED)
        printf(" %s\n", L->required);
    if (v->flags & REG_F_STATIC)
        printf(" %s\n", L->restart);
    if (v->flags & REG_F_RESTART)
        printf(" %s\n", L->rebind);
}

static int cmd_search(int argc, char **argv, const char *path)
{
    bool verbose = false, match_key = true, match_value = false;
    const char *pattern = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
            verbose = true;
        else if (strcmp(a, "--brief") == 0)
            verbose = false;
        else if (strcmp(a, "--key") == 0)
            match_key = true, match_value = false;
        else if (strcmp(a, "--value") == 0)
            match_key = false, match_value = true;
        else if (strcmp(a, "--all") == 0)
            match_key = true, match_value = true;
        else if (a[0] == '-' && a[1] && !pattern) {
            fprintf(stderr, "plucs config search: unknown option '%s'\n", a);
            return CLI_USAGE;
        } else if (!pattern)
            pattern = a;
        else {
            cli_config_usage(stderr);
            return CLI_USAGE;
        }
    }
    regex_t re;
    if (pattern) {
        int err = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
        if (err) {
            char msg[256];
            regerror(err, &re, msg, sizeof msg);
            fprintf(stderr, "plucs config search: invalid regular expression '%s': %s\n", pattern, msg);
            return CLI_USAGE;
        }
    }
    registry_stack *s = load_stack_or_complain(path);
    if (!s) {
        if (pattern)
            regfree(&re);
        return CLI_FAIL;
    }
    const registry *r = registry_stack_merged(s);
    entries es = { 0 };
    size_t nvars;
    const reg_var *vars = reg_vars(&nvars);
    for (size_t i = 0; i < nvars; i++)
        add_entry(&es, vars[i].key, registry_get(r, vars[i].key), &vars[i]);
    registry_each(r, add_unknown, &es);
    qsort(es.e, es.n, sizeof *es.e, cmp_entry);

    bool german = strncmp(registry_get(r, "plucs/language"), "de", 2) == 0;
    size_t shown = 0;
    for (size_t i = 0; i < es.n; i++) {
        const entry *e = &es.e[i];
        if (pattern) {
            bool hit = (match_key && regexec(&re, e->key, 0, NULL, 0) == 0) ||
                       (match_value && regexec(&re, e->value, 0, NULL, 0) == 0);
            if (!hit)
                continue;
        }
        if (verbose && shown++)
            putchar('\n');
        printf("%s: %s\n", e->key, e->value);
        if (verbose)
            print_verbose(e, s, german);
    }
    free(es.e);
    registry_stack_free(s);
    if (pattern)
        regfree(&re);
    return CLI_OK;
}

static void report_stderr(void *ud, const char *line)
{
    fprintf(stderr, "%s\n", line);
}

static int cmd_validate(int argc, char **argv, const char *path)
{
    if (argc != 1) {
        cli_config_usage(stderr);
        return CLI_USAGE;
    }
    config *c = config_load(path, report_stderr, NULL);
    if (!c)
        return CLI_FAIL;
    config_free(c);
    return CLI_OK;
}

int cli_config(int argc, char **argv, const char *registry_path)
{
    if (argc < 2) {
        cli_config_usage(stderr);
        return CLI_USAGE;
    }
    const char *path = registry_default_path(registry_path);
    const char *sub = argv[1];
    argc--;
    argv++;
    if (strcmp(sub, "get") == 0)
        return cmd_get(argc, argv, path);
    if (strcmp(sub, "set") == 0)
        return cmd_set(argc, argv, path);
    if (strcmp(sub, "unset") == 0)
        return cmd_unset(argc, argv, path);
    if (strcmp(sub, "search") == 0)
        return cmd_search(argc, argv, path);
    if (strcmp(sub, "validate") == 0)
        return cmd_validate(argc, argv, path);
    if (strcmp(sub, "table") == 0)
        return cli_config_table(argc, argv);
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        cli_config_usage(stdout);
        return CLI_OK;
    }
    fprintf(stderr, "plucs config: unknown sub-command '%s'\n\n", sub);
    cli_config_usage(stderr);
    return CLI_USAGE;
}
