/* cli_schema_defs.c: the definitions in schema/plucs.ldif and their
 * comparison with a directory's subschema (see cli_schema.h). Kept apart
 * from the LDAP code so the parsing and the found/missing/other-OID rules
 * are unit-tested without a server. */
#include "cli/cli_schema.h"
#include "core/alloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void schema_defs_free(schema_defs *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->d[i].name);
        free(s->d[i].oid);
        free(s->d[i].text);
        free(s->d[i].found_oid);
    }
    free(s->d);
    s->d = NULL;
    s->n = 0;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

bool schema_def_split(const char *def, char **oid, char **name)
{
    *oid = *name = NULL;
    const char *p = skip_ws(def);
    if (*p++ != '(')
        return false;
    p = skip_ws(p);
    size_t n = strspn(p, "0123456789.");
    if (n == 0 || (p[n] != ' ' && p[n] != '\t' && p[n] != '\n'))
        return false;
    const char *o = p;
    p = skip_ws(p + n);
    if (strncasecmp(p, "NAME", 4) != 0)
        return false;
    p = skip_ws(p + 4);
    if (*p == '(')
        p = skip_ws(p + 1);
    if (*p != '\'')
        return false;
    const char *q = strchr(p + 1, '\'');
    if (!q || q == p + 1)
        return false;
    *oid = xstrndup(o, n);
    *name = xstrndup(p + 1, (size_t)(q - p - 1));
    return true;
}

static void add_def(schema_defs *s, enum schema_kind kind, const char *value, char *oid, char *name)
{
    s->d = xrealloc(s->d, (s->n + 1) * sizeof *s->d);
    s->d[s->n++] = (schema_def){ .kind = kind, .name = name, .oid = oid, .text = xstrdup(value) };
}

/* One logical LDIF line "attr: value" (already unfolded). */
static int take_line(schema_defs *s, const char *line, const char *file, int lineno, char *err,
                     size_t errlen)
{
    enum schema_kind kind;
    size_t alen;
    if (strncasecmp(line, "olcAttributeTypes:", alen = 18) == 0)
        kind = SCHEMA_ATTR;
    else if (strncasecmp(line, "olcObjectClasses:", alen = 17) == 0)
        kind = SCHEMA_CLASS;
    else
        return 0;
    const char *v = line + alen;
    if (*v == ':') {
        snprintf(err, errlen, "%s line %d: base64 values are not supported here", file, lineno);
        return -1;
    }
    v = skip_ws(v);
    if (*v == '{') {   /* cn=config's ordering prefix {N} */
        const char *close = strchr(v, '}');
        if (close)
            v = close + 1;
    }
    char *oid, *name;
    if (!schema_def_split(v, &oid, &name)) {
        snprintf(err, errlen, "%s line %d: not a schema definition '( OID NAME 'name' ... )'", file,
                 lineno);
        return -1;
    }
    add_def(s, kind, v, oid, name);
    return 0;
}

int schema_defs_parse(const char *text, const char *file, schema_defs *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t cap = strlen(text) + 1;
    char *logical = xmalloc(cap);
    size_t len = 0;
    int lineno = 0, start = 0;
    int rc = 0;
    for (const char *p = text; rc == 0;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n && p[n - 1] == '\r')
            n--;
        lineno++;
        if (n && p[0] == ' ') {            /* continuation of the logical line */
            memcpy(logical + len, p + 1, n - 1);
            len += n - 1;
        } else if (n && p[0] == '#') {
            /* comment: ends nothing, as in LDIF a comment cannot sit inside a folded value here */
        } else {
            logical[len] = '\0';
            if (len)
                rc = take_line(out, logical, file, start, err, errlen);
            len = 0;
            memcpy(logical, p, n);
            len = n;
            start = lineno;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    if (rc == 0 && len) {
        logical[len] = '\0';
        rc = take_line(out, logical, file, start, err, errlen);
    }
    free(logical);
    if (rc == 0 && out->n == 0) {
        snprintf(err, errlen, "%s: no olcAttributeTypes or olcObjectClasses in it", file);
        rc = -1;
    }
    if (rc != 0)
        schema_defs_free(out);
    return rc;
}

int schema_defs_load(const char *file, schema_defs *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(file, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read the schema file %s: %s", file, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, mem);
    bool bad = ferror(f);
    fclose(f);
    fclose(mem);
    int rc;
    if (bad) {
        snprintf(err, errlen, "cannot read the schema file %s", file);
        rc = -1;
    } else {
        rc = schema_defs_parse(text, file, out, err, errlen);
    }
    free(text);
    return rc;
}

/* Does definition text carry name among its NAMEs? */
static bool def_has_name(const char *def, const char *name)
{
    const char *p = def;
    size_t n = strlen(name);
    /* NAME 'a' or NAME ( 'a' 'b' ): look at every quoted word before DESC/SUP/... */
    const char *kw = NULL;
    for (const char *q = p; *q; q++)
        if ((q == p || isspace((unsigned char)q[-1])) && strncasecmp(q, "NAME", 4) == 0 &&
            isspace((unsigned char)q[4])) {
            kw = q + 4;
            break;
        }
    if (!kw)
        return false;
    p = skip_ws(kw);
    bool list = *p == '(';
    if (list)
        p = skip_ws(p + 1);
    while (*p == '\'') {
        const char *e = strchr(p + 1, '\'');
        if (!e)
            return false;
        if ((size_t)(e - p - 1) == n && strncasecmp(p + 1, name, n) == 0)
            return true;
        if (!list)
            return false;
        p = skip_ws(e + 1);
    }
    return false;
}

static char *oid_of(const char *def)
{
    const char *p = skip_ws(def);
    if (*p != '(')
        return NULL;
    p = skip_ws(p + 1);
    size_t n = strcspn(p, " \t\n");
    return n ? xstrndup(p, n) : NULL;
}

size_t schema_compare(schema_defs *s, const char *const *attrs, const char *const *classes)
{
    size_t missing = 0;
    for (size_t i = 0; i < s->n; i++) {
        schema_def *d = &s->d[i];
        const char *const *list = d->kind == SCHEMA_ATTR ? attrs : classes;
        free(d->found_oid);
        d->found_oid = NULL;
        d->state = SCHEMA_MISSING;
        for (size_t j = 0; list && list[j]; j++) {
            if (!def_has_name(list[j], d->name))
                continue;
            d->found_oid = oid_of(list[j]);
            d->state = d->found_oid && strcmp(d->found_oid, d->oid) == 0 ? SCHEMA_PRESENT : SCHEMA_OTHER_OID;
            break;
        }
        if (d->state != SCHEMA_PRESENT)
            missing++;
    }
    return missing;
}
