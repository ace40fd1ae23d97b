/* store_last.h: last activity (XEP-0012): when each account last logged
 * out and with which status text, for queries about users who are offline.
 * Key: user, one record per account. Rule: every logout replaces the
 * record. Operations take an arg_free (store.h). */
#ifndef PLUCS_STORE_LAST_H
#define PLUCS_STORE_LAST_H

#include "store/store.h"

typedef struct store_last {
    store_status status;   /* STORE_NOT_FOUND: nothing recorded for user */
    int64_t stamp;         /* unix time in seconds of the last logout */
    char *text;            /* the status text of the last unavailable presence, "" if none */
} store_last;

void store_last_free(store_last *l);                /* NULL is fine */
typedef void (*store_last_fn)(void *arg, store_last *res);

/* Records the logout of user at stamp (unix seconds) with its status text
 * (NULL: none), replacing what was recorded. */
void store_last_set(worker *reply_to, const char *user, int64_t stamp, const char *text,
                    store_done_fn cb, void *arg, store_arg_free_fn arg_free);
void store_last_get(worker *reply_to, const char *user, store_last_fn cb, void *arg,
                    store_arg_free_fn arg_free);

#endif
