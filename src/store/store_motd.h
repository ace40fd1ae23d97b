/* store_motd.h: the message of the day (XEP-0133 set/edit/delete-motd),
 * one per served domain, and which version of it each account has already
 * been shown. Key: domain for the message, user (bare JID) for what was
 * seen. Rules: every set replaces the text and raises the domain's
 * version, so a changed message is shown once more; delete removes the
 * message and every "seen" mark of the domain; take returns the message
 * only when user has not seen its current version and marks it seen in the
 * same transaction, so a user gets each version once however many
 * resources log in at the same time. Operations take an arg_free (store.h). */
#ifndef PLUCS_STORE_MOTD_H
#define PLUCS_STORE_MOTD_H

#include "store/store.h"

typedef struct store_motd {
    store_status status;   /* STORE_NOT_FOUND: no message (take: or already seen) */
    char *text;            /* NULL unless STORE_OK */
    int64_t version;       /* the domain's version of the message */
} store_motd;

void store_motd_free(store_motd *m);                /* NULL is fine */
typedef void (*store_motd_fn)(void *arg, store_motd *res);

/* The domain's message (for editing). */
void store_motd_get(worker *reply_to, const char *domain, store_motd_fn cb, void *arg,
                    store_arg_free_fn arg_free);
/* The domain's message if user has not seen this version; marks it seen. */
void store_motd_take(worker *reply_to, const char *domain, const char *user, store_motd_fn cb,
                     void *arg, store_arg_free_fn arg_free);
/* Replaces the domain's message; value: its new version. */
void store_motd_set(worker *reply_to, const char *domain, const char *text, store_done_fn cb,
                    void *arg, store_arg_free_fn arg_free);
/* Removes the domain's message and its seen marks; value: 1 when there was
 * one, else 0. */
void store_motd_delete(worker *reply_to, const char *domain, store_done_fn cb, void *arg,
                       store_arg_free_fn arg_free);

/* Every domain that has a message, with its version (so that delivery asks
 * the store only for those: adhoc_motd_index.c). */
typedef struct store_motd_list {
    store_status status;
    size_t n;
    char **domains;
    int64_t *versions;
} store_motd_list;

void store_motd_list_free(store_motd_list *l);      /* NULL is fine */
typedef void (*store_motd_list_fn)(void *arg, store_motd_list *res);
void store_motd_domains(worker *reply_to, store_motd_list_fn cb, void *arg,
                        store_arg_free_fn arg_free);

#endif
