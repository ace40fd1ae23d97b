/* dir_entries.c: the directory thread's copy of the raw LDAP entries it
 * builds snapshots from (hosts, accounts, groups), in a hash table keyed by
 * entryUUID (what the change feed names entries by; the DN when a server
 * has no entryUUID). The initial read, the change feed and the polling
 * fallback all feed it; each insert/delete says whether it mattered, so
 * that only relevant changes lead to a new snapshot. Entries are read by
 * dir_reader.c, the reader `plucs explain --offline` uses too. */
#include "directory/dir_internal.h"
#include "core/alloc.h"
#include "directory/dir_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;      /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

/* Slot of key (linear probing; tombstones are not needed because deletion
 * re-inserts the rest of the cluster). */
static size_t slot(const dir *d, const char *key)
{
    size_t mask = d->ecap - 1, i = hash(key) & mask;
    while (d->etab[i] && strcmp(d->etab[i]->key, key) != 0)
        i = (i + 1) & mask;
    return i;
}

static int grow(dir *d)
{
    size_t cap = d->ecap ? d->ecap * 2 : 1024;
    dir_entry **old = d->etab;
    size_t oldcap = d->ecap;
    d->etab = xcalloc(cap, sizeof *d->etab);
    d->ecap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            d->etab[slot(d, old[i]->key)] = old[i];
    free(old);
    return 0;
}

static void remove_at(dir *d, size_t i)
{
    size_t mask = d->ecap - 1;
    d->etab[i] = NULL;
    d->ecount--;
    for (size_t j = (i + 1) & mask; d->etab[j]; j = (j + 1) & mask) {
        dir_entry *e = d->etab[j];
        d->etab[j] = NULL;
        d->etab[slot(d, e->key)] = e;
    }
}

static void host_touched(dir *d, const dir_entry *e)
{
    if (e && (e->kinds & DIR_E_HOST) && e->cn && strcasecmp(e->cn, d->set->hostname) == 0)
        dir_hosts_read(d);
}

bool dir_entries_put(dir *d, dir_entry *e)
{
    if ((d->ecount + 1) * 2 > d->ecap && grow(d) != 0) {
        dir_entry_free(e);
        return false;
    }
    e->seen = true;
    size_t i = slot(d, e->key);
    dir_entry *old = d->etab[i];
    bool changed;
    if (old) {
        bool same = dir_entry_same(old, e);
        changed = !same && (dir_entry_relevant(old) || dir_entry_relevant(e));
        if (!same) {
            host_touched(d, old);       /* a read in flight absorbs the second call */
            host_touched(d, e);
        }
        dir_entry_free(old);
    } else {
        d->ecount++;
        changed = dir_entry_relevant(e);
        host_touched(d, e);
    }
    d->etab[i] = e;
    return changed;
}

bool dir_entries_del(dir *d, const char *key)
{
    if (!d->ecap)
        return false;
    size_t i = slot(d, key);
    dir_entry *e = d->etab[i];
    if (!e)
        return false;
    bool changed = dir_entry_relevant(e);
    host_touched(d, e);
    remove_at(d, i);
    dir_entry_free(e);
    return changed;
}

bool dir_entries_mark(dir *d, const char *key)
{
    if (!d->ecap)
        return false;
    dir_entry *e = d->etab[slot(d, key)];
    if (e)
        e->seen = true;
    return e != NULL;
}

void dir_entries_unmark_all(dir *d)
{
    for (size_t i = 0; i < d->ecap; i++)
        if (d->etab[i])
            d->etab[i]->seen = false;
}

unsigned dir_entries_sweep(dir *d, bool keep_hosts)
{
    unsigned n = 0;
    for (size_t i = 0; i < d->ecap;) {
        dir_entry *e = d->etab[i];
        if (e && !e->seen && !(keep_hosts && (e->kinds & DIR_E_HOST))) {
            if (dir_entry_relevant(e))
                n++;
            host_touched(d, e);
            remove_at(d, i);          /* may move a later entry into slot i */
            dir_entry_free(e);
            continue;
        }
        i++;
    }
    return n;
}

dir_entry **dir_entries_list(dir *d, size_t *n)
{
    dir_entry **v = xmalloc((d->ecount + 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; v && i < d->ecap; i++)
        if (d->etab[i])
            v[k++] = d->etab[i];
    *n = k;
    return v;
}

void dir_entries_clear(dir *d)
{
    for (size_t i = 0; i < d->ecap; i++)
        dir_entry_free(d->etab[i]);
    free(d->etab);
    d->etab = NULL;
    d->ecap = d->ecount = 0;
}

/* --- reading an LDAP entry: the shared reader (dir_reader.c) ----------- */

char **dir_entry_attrs(dir *d)
{
    static char *attrs[DIR_READER_NATTRS];
    dir_reader_attrs(d->set->userlabel, d->set->grouplabel, attrs);
    return attrs;
}

dir_entry *dir_entry_read(dir *d, LDAPMessage *msg, const char *key)
{
    return dir_entry_from_ldap(d->svc->ld, msg, d->set->userlabel, d->set->grouplabel, key);
}
