/* store_private.h: private XML storage (XEP-0049): elements a user's
 * clients store on the server for themselves. Key: (user, namespace,
 * element name), one serialized element each. Rules: a set replaces what
 * was stored under the same key and writes all its entries or none; the
 * module decides what may be stored, the stanza size limit bounds each
 * element, plucs/quota/private the total per user. Operations take an
 * arg_free (store.h). */
#ifndef PLUCS_STORE_PRIVATE_H
#define PLUCS_STORE_PRIVATE_H

#include "store/store.h"

typedef struct store_private_entry {
    const char *name;      /* the stored element's local name */
    const char *ns;        /* its namespace */
    const char *xml;       /* the element serialized (with its xmlns) */
} store_private_entry;

typedef struct store_private {
    store_status status;   /* STORE_NOT_FOUND: nothing stored under (name, ns) */
    char *xml;             /* NULL: nothing stored under (name, ns) */
} store_private;

void store_private_free(store_private *p);          /* NULL is fine */
typedef void (*store_private_fn)(void *arg, store_private *res);

/* The element stored for user under (name, ns). */
void store_private_get(worker *reply_to, const char *user, const char *name, const char *ns,
                       store_private_fn cb, void *arg, store_arg_free_fn arg_free);
/* Stores (replacing) every entry, all or none. value: entries written.
 * max_bytes > 0 (plucs/quota/private): when the user's stored elements,
 * namespaces and names would then take more bytes than that, nothing is
 * written and the status is STORE_FULL. */
void store_private_set(worker *reply_to, const char *user, const store_private_entry *entries,
                       size_t n, int64_t max_bytes, store_done_fn cb, void *arg,
                       store_arg_free_fn arg_free);

#endif
