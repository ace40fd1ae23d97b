/* store_push.h: push notification registrations (XEP-0357): the app
 * servers (JID + node) an account's clients asked to be woken through, each
 * with the publish-options form the client gave (serialized <x/>, may be
 * empty), sent back with every push. Key: (user, jid, node). Rules: an add
 * replaces the registration with the same key; an add that would leave the
 * user with more than max registrations writes nothing (STORE_FULL).
 * Operations take an arg_free (store.h). */
#ifndef PLUCS_STORE_PUSH_H
#define PLUCS_STORE_PUSH_H

#include "store/store.h"

typedef struct store_push_reg {
    char *jid;             /* the app server */
    char *node;            /* its node for this device */
    char *form;            /* publish-options <x/> serialized, "" when none */
} store_push_reg;

typedef struct store_push_regs {
    store_status status;
    store_push_reg *items; /* sorted by (jid, node) */
    size_t n;
} store_push_regs;

void store_push_regs_free(store_push_regs *r);      /* NULL is fine */
typedef void (*store_push_regs_fn)(void *arg, store_push_regs *res);

/* Every registration of user. */
void store_push_list(worker *reply_to, const char *user, store_push_regs_fn cb, void *arg,
                     store_arg_free_fn arg_free);
/* Adds (replacing) a registration; form may be NULL. max > 0: more than max
 * registrations afterwards -> STORE_FULL, nothing written. value: the count. */
void store_push_add(worker *reply_to, const char *user, const char *jid, const char *node,
                    const char *form, int64_t max, store_done_fn cb, void *arg,
                    store_arg_free_fn arg_free);
/* Removes the registration (jid, node), or every one of jid when node is
 * NULL. value: registrations removed. */
void store_push_remove(worker *reply_to, const char *user, const char *jid, const char *node,
                       store_done_fn cb, void *arg, store_arg_free_fn arg_free);

#endif
