/* idmap.h: a small open-addressing hash map from non-zero 64-bit ids to
 * pointers. Each worker keeps its sessions in one, so a stanza posted to a
 * worker names its target by id and never by a pointer that may be stale. */
#ifndef PLUCS_IDMAP_H
#define PLUCS_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct idmap {
    uint64_t *keys;    /* 0 = empty, UINT64_MAX = deleted */
    void **vals;
    size_t cap;        /* power of two */
    size_t used;       /* live + deleted slots */
    size_t count;      /* live entries */
} idmap;

void idmap_init(idmap *m);
void idmap_free(idmap *m);                       /* frees the table, not the values */
void *idmap_get(const idmap *m, uint64_t id);
void idmap_put(idmap *m, uint64_t id, void *val); /* id must be non-zero and < UINT64_MAX */
void *idmap_del(idmap *m, uint64_t id);           /* returns the removed value or NULL */
/* Iteration: for (size_t i = 0; i < m->cap; i++) if (idmap_live(m, i)) ... */
static inline int idmap_live(const idmap *m, size_t i) { return m->keys[i] && m->keys[i] != UINT64_MAX; }

#endif
