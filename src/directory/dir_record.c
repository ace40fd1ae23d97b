/* dir_record.c: the small attribute map a directory query returns (see
 * dir_query.h): an entry's DN and attribute values, binary-safe so that a
 * jpegPhoto travels unchanged from the directory thread to a module. Built
 * on the directory thread, read and freed on a worker. */
#include "directory/dir_query.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const dir_attr *dir_record_attr(const dir_record *r, const char *name)
{
    for (size_t i = 0; r && i < r->nattrs; i++)
        if (!strcasecmp(r->attrs[i].name, name))
            return &r->attrs[i];
    return NULL;
}

const char *dir_record_str(const dir_record *r, const char *name)
{
    const dir_attr *a = dir_record_attr(r, name);
    if (!a || a->nvalues == 0 || a->values[0].len == 0)
        return NULL;
    return a->values[0].data;
}

int dir_record_add(dir_record *r, const char *name, const void *data, size_t len)
{
    dir_attr *a = (dir_attr *)dir_record_attr(r, name);
    if (!a) {
        dir_attr *n = xrealloc(r->attrs, (r->nattrs + 1) * sizeof *n);
        r->attrs = n;
        a = &n[r->nattrs];
        memset(a, 0, sizeof *a);
        if (!(a->name = xstrdup(name)))
            return -1;
        r->nattrs++;
    }
    dir_value *v = xrealloc(a->values, (a->nvalues + 1) * sizeof *v);
    a->values = v;
    char *copy = xmalloc(len + 1);
    if (len)
        memcpy(copy, data, len);
    copy[len] = '\0';
    v[a->nvalues].data = copy;
    v[a->nvalues].len = len;
    a->nvalues++;
    return 0;
}

void dir_record_clear(dir_record *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nattrs; i++) {
        for (size_t j = 0; j < r->attrs[i].nvalues; j++)
            free(r->attrs[i].values[j].data);
        free(r->attrs[i].values);
        free(r->attrs[i].name);
    }
    free(r->attrs);
    free(r->dn);
    memset(r, 0, sizeof *r);
}
