/* registry.c: the registry file itself (UCR base.conf format, `key: value`
 * per line). Parsing keeps every line — comments, blank lines, unknown keys
 * and even lines that are not `key: value` — so that a write changes only
 * what was set or unset. Writes are atomic (temp file in the same folder,
 * fsync, rename, fsync of the folder). The variable table is in
 * registry_vars.c, value checks in registry_validate.c. */
#include "core/registry.h"
#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct reg_line {
    char *key;      /* owned; NULL for comment, blank or junk lines */
    char *value;    /* owned; key lines only */
    char *text;     /* owned; non-key lines: the line verbatim */
    int lineno;     /* line number in the loaded file; 0 when added later */
    bool junk;      /* not a comment, not blank, not `key: value` */
} reg_line;

/* A copy of s, "" for NULL. */
static char *str_or_empty(const char *s) { return xstrdup(s ? s : ""); }

struct registry {
    reg_line *lines;
    size_t count, cap;
};

static reg_line *add_line(registry *r)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        reg_line *n = xrealloc(r->lines, cap * sizeof *n);
        r->lines = n;
        r->cap = cap;
    }
    reg_line *l = &r->lines[r->count++];
    memset(l, 0, sizeof *l);
    return l;
}

registry *registry_new(void)
{
    registry *r = xcalloc(1, sizeof *r);
    return r;
}

void registry_free(registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free(r->lines[i].key);
        free(r->lines[i].value);
        free(r->lines[i].text);
    }
    free(r->lines);
    free(r);
}

/* Splits `key: value` / `key:`; false when the line is not of that form. */
static bool split_key_line(const char *line, char **key, char **value)
{
    size_t klen = strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789/_.-");
    if (klen == 0 || line[klen] != ':')
        return false;
    const char *v;
    if (line[klen + 1] == '\0')
        v = "";
    else if (line[klen + 1] == ' ')
        v = line + klen + 2;
    else
        return false;
    *key = xstrndup(line, klen);
    *value = str_or_empty(v);
    if (!*key || !*value) {
        fputs("plucs: out of memory\n", stderr);
        exit(1);
    }
    return true;
}

static void parse_line(registry *r, char *line, int lineno)
{
    size_t n = strlen(line);
    if (n && line[n - 1] == '\n')
        line[--n] = '\0';
    reg_line *l = add_line(r);
    l->lineno = lineno;
    const char *p = line + strspn(line, " \t\r");
    if (*p == '\0' || *p == '#') {
        l->text = str_or_empty(line);
        return;
    }
    while (n && line[n - 1] == '\r')   /* a file edited on Windows; all of them, or a
                                         * value ending in CR would not read back */
        line[--n] = '\0';
    if (!split_key_line(line, &l->key, &l->value)) {
        l->text = str_or_empty(line);
        l->junk = true;
    }
}

registry *registry_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? registry_new() : NULL;
    registry *r = registry_new();
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    errno = 0;
    while (getline(&line, &cap, f) >= 0)
        parse_line(r, line, ++lineno);
    int err = ferror(f) ? (errno ? errno : EIO) : 0;
    free(line);
    fclose(f);
    if (err) {
        registry_free(r);
        errno = err;
        return NULL;
    }
    return r;
}

/* The last line holding key (last one wins), or NULL. */
static reg_line *find_last(const registry *r, const char *key)
{
    if (!r || !key)
        return NULL;
    for (size_t i = r->count; i-- > 0;)
        if (r->lines[i].key && strcmp(r->lines[i].key, key) == 0)
            return &r->lines[i];
    return NULL;
}

const char *registry_get_raw(const registry *r, const char *key)
{
    reg_line *l = find_last(r, key);
    return l ? l->value : NULL;
}

const char *registry_get(const registry *r, const char *key)
{
    const char *raw = registry_get_raw(r, key);
    if (raw)
        return raw;
    if (key && strcmp(key, "plucs/s2s/certfile") == 0)
        return registry_get(r, "plucs/certfile");
    const reg_var *v = reg_var_find(key);
    return v ? reg_default(v) : NULL;
}

void registry_set(registry *r, const char *key, const char *value)
{
    if (!r || !key)
        return;
    reg_line *l = find_last(r, key);
    if (l) {
        char *v = str_or_empty(value);
        free(l->value);
        l->value = v;
        return;
    }
    l = add_line(r);
    l->key = str_or_empty(key);
    l->value = str_or_empty(value);
}

bool registry_unset(registry *r, const char *key)
{
    if (!r || !key)
        return false;
    bool removed = false;
    size_t out = 0;
    for (size_t i = 0; i < r->count; i++) {
        reg_line *l = &r->lines[i];
        if (l->key && strcmp(l->key, key) == 0) {
            free(l->key);
            free(l->value);
            free(l->text);
            removed = true;
            continue;
        }
        r->lines[out++] = *l;
    }
    r->count = out;
    return removed;
}

void registry_each(const registry *r, void (*fn)(void *ud, const char *key, const char *value), void *ud)
{
    if (!r || !fn)
        return;
    for (size_t i = 0; i < r->count; i++) {
        const reg_line *l = &r->lines[i];
        if (l->key && find_last(r, l->key) == l)
            fn(ud, l->key, l->value);
    }
}

int registry_check(const registry *r, void (*report)(void *ud, const char *line), void *ud)
{
    int problems = 0;
    char msg[1024];
    if (!r)
        return 0;
    for (size_t i = 0; i < r->count; i++) {
        const reg_line *l = &r->lines[i];
        if (l->junk) {
            snprintf(msg, sizeof msg, "line %d: not a 'key: value' line", l->lineno);
            problems++;
            if (report)
                report(ud, msg);
            continue;
        }
        if (!l->key || find_last(r, l->key) != l || !reg_var_find(l->key))
            continue;
        if (reg_validate(l->key, l->value, msg, sizeof msg) != 0) {
            problems++;
            if (report)
                report(ud, msg);
        }
    }
    return problems;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_lines(int fd, const registry *r)
{
    for (size_t i = 0; i < r->count; i++) {
        const reg_line *l = &r->lines[i];
        if (l->key) {
            if (write_all(fd, l->key, strlen(l->key)) < 0 || write_all(fd, ":", 1) < 0)
                return -1;
            if (l->value[0] && (write_all(fd, " ", 1) < 0 || write_all(fd, l->value, strlen(l->value)) < 0))
                return -1;
        } else if (write_all(fd, l->text, strlen(l->text)) < 0) {
            return -1;
        }
        if (write_all(fd, "\n", 1) < 0)
            return -1;
    }
    return 0;
}

int registry_save(const registry *r, const char *path)
{
    if (!r || !path || !*path) {
        errno = EINVAL;
        return -1;
    }
    /* Write through a symlink to its target, as an editor would. */
    char target[PATH_MAX];
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && realpath(path, target))
        path = target;
    else
        snprintf(target, sizeof target, "%s", path);

    mode_t mode = 0644;
    bool have_old = stat(path, &st) == 0;
    if (have_old)
        mode = st.st_mode & 07777;

    char dir[PATH_MAX], tmp[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s", path);
    char *d = dirname(dir);
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s", path);
    char *b = basename(base);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", d, b) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    int err = 0;
    if (write_lines(fd, r) < 0 || fsync(fd) < 0 || fchmod(fd, mode) < 0)
        err = errno;
    if (!err && have_old && (st.st_uid != geteuid() || st.st_gid != getegid()))
        (void)!fchown(fd, st.st_uid, st.st_gid);   /* best effort: keep the owner */
    if (close(fd) < 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) < 0)
        err = errno;
    if (err) {
        unlink(tmp);
        errno = err;
        return -1;
    }
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

const char *registry_default_path(const char *explicit_path)
{
    if (explicit_path && *explicit_path)
        return explicit_path;
    const char *env = getenv("PLUCS_REGISTRY");
    if (env && *env)
        return env;
    if (access("/etc/univention/base.conf", F_OK) == 0)
        return "/etc/univention/base.conf";
    return "/etc/plucs/registry.conf";
}
