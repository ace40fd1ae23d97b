/* idmap.c: see idmap.h. Linear probing with tombstones, rebuilt at 50% use
 * (live entries plus tombstones) to the size the live entries need. */
#include "core/idmap.h"
#include "core/alloc.h"

#include <stdlib.h>

#define TOMB UINT64_MAX

static size_t slot_of(uint64_t id, size_t cap)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id & (cap - 1);
}

void idmap_init(idmap *m)
{
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->used = m->count = 0;
}

void idmap_free(idmap *m)
{
    free(m->keys);
    free(m->vals);
    idmap_init(m);
}

void *idmap_get(const idmap *m, uint64_t id)
{
    if (!m->cap)
        return NULL;
    for (size_t i = slot_of(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == id)
            return m->vals[i];
        if (m->keys[i] == 0)
            return NULL;
    }
}

/* Rebuilds the table for its live entries, at most a quarter full
 * afterwards. The size comes from the live count, never from the old
 * capacity: when sessions come and go, the slots fill with tombstones, and
 * a rebuild that doubled every time would grow the table with the number
 * of logins since start (a leak in a login storm). So churn rebuilds at
 * the same size, and a table whose sessions left shrinks. */
static void idmap_grow(idmap *m)
{
    size_t ncap = 16;
    while ((m->count + 1) * 4 > ncap)
        ncap *= 2;
    uint64_t *ok = m->keys;
    void **ov = m->vals;
    size_t ocap = m->cap;
    m->keys = xcalloc(ncap, sizeof *m->keys);
    m->vals = xcalloc(ncap, sizeof *m->vals);
    m->cap = ncap;
    m->used = m->count = 0;
    for (size_t i = 0; i < ocap; i++)
        if (ok[i] && ok[i] != TOMB)
            idmap_put(m, ok[i], ov[i]);
    free(ok);
    free(ov);
}

void idmap_put(idmap *m, uint64_t id, void *val)
{
    if ((m->used + 1) * 2 > m->cap)
        idmap_grow(m);
    size_t tomb = SIZE_MAX;
    for (size_t i = slot_of(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == id) {
            m->vals[i] = val;
            return;
        }
        if (m->keys[i] == TOMB && tomb == SIZE_MAX)
            tomb = i;
        if (m->keys[i] == 0) {
            if (tomb != SIZE_MAX)
                i = tomb;
            else
                m->used++;
            m->keys[i] = id;
            m->vals[i] = val;
            m->count++;
            return;
        }
    }
}

void *idmap_del(idmap *m, uint64_t id)
{
    if (!m->cap)
        return NULL;
    for (size_t i = slot_of(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == id) {
            void *v = m->vals[i];
            m->keys[i] = TOMB;
            m->vals[i] = NULL;
            m->count--;
            return v;
        }
        if (m->keys[i] == 0)
            return NULL;
    }
}
