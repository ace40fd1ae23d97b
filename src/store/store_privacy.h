/* store_privacy.h: privacy lists (XEP-0016). Key: (user, list name), one
 * row per list holding the list's items in the text form of
 * modules/privacy.h (the store does not look inside), plus one row per
 * user naming the default list. Rules: a put replaces the list of that
 * name; removing a list that is the default also clears the default; a
 * result is never partial. The privacy module keeps an online account's
 * lists in memory and writes every change through to here; they are read
 * once when the account's first session binds. Operations take an
 * arg_free (store.h). */
#ifndef PLUCS_STORE_PRIVACY_H
#define PLUCS_STORE_PRIVACY_H

#include "store/store.h"

typedef struct store_privacy_list {
    char *name;
    char *text;
} store_privacy_list;

typedef struct store_privacy {
    store_status status;
    char *user;                  /* the request's user */
    store_privacy_list *lists;   /* sorted by name; NULL when n == 0 */
    size_t n;
    char *dflt;                  /* the default list's name; NULL: none */
} store_privacy;

void store_privacy_free(store_privacy *p);          /* NULL is fine */
typedef void (*store_privacy_fn)(void *arg, store_privacy *res);

void store_privacy_get(worker *reply_to, const char *user, store_privacy_fn cb, void *arg,
                       store_arg_free_fn arg_free);
/* Stores (replacing) list name with text; text NULL removes the list
 * (and the default when it named it). value: rows changed. */
void store_privacy_put(worker *reply_to, const char *user, const char *name, const char *text,
                       store_done_fn cb, void *arg, store_arg_free_fn arg_free);
/* Sets the default list's name (NULL: none). */
void store_privacy_set_default(worker *reply_to, const char *user, const char *name,
                               store_done_fn cb, void *arg, store_arg_free_fn arg_free);

#endif
