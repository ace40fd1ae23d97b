/* dir_snapshot.c: the immutable, reference-counted view of the directory
 * that the directory thread publishes and workers read without locks (for
 * now: the hosted domains). */
#include "directory/dir_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

dir_snapshot *dir_snapshot_new(char **domains, size_t n, bool complete, uint64_t serial)
{
    dir_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->domains = calloc(n + 1, sizeof *s->domains);
    if (!s->domains) {
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        s->domains[i] = strdup(domains[i]);
        if (!s->domains[i]) {
            s->ndomains = i;
            atomic_init(&s->refs, 1);
            dir_snapshot_unref(s);
            return NULL;
        }
    }
    s->ndomains = n;
    s->complete = complete;
    s->serial = serial;
    atomic_init(&s->refs, 1);
    return s;
}

dir_snapshot *dir_snapshot_ref(dir_snapshot *s)
{
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

void dir_snapshot_unref(dir_snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->ndomains; i++)
        free(s->domains[i]);
    free(s->domains);
    free(s);
}

bool dir_snapshot_serves(const dir_snapshot *s, const char *domain)
{
    if (!s || !domain)
        return false;
    for (size_t i = 0; i < s->ndomains; i++)
        if (strcasecmp(s->domains[i], domain) == 0)
            return true;
    return false;
}

bool dir_snapshot_same_domains(const dir_snapshot *s, char **domains, size_t n)
{
    if (s->ndomains != n)
        return false;
    for (size_t i = 0; i < n; i++)     /* both sorted */
        if (strcmp(s->domains[i], domains[i]) != 0)
            return false;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void dir_domains_normalise(char **domains, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        for (char *p = domains[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    if (*n > 1)
        qsort(domains, *n, sizeof *domains, cmp_str);
    size_t o = 0;
    for (size_t i = 0; i < *n; i++) {
        if (domains[i][0] == '\0' || (o > 0 && strcmp(domains[o - 1], domains[i]) == 0))
            free(domains[i]);
        else
            domains[o++] = domains[i];
    }
    *n = o;
}
