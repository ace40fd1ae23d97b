/* store_pending.h: inbound subscription requests a user has not answered
 * yet (RFC 6121 3.1.3): the server keeps a request for an offline or
 * undecided user and delivers it again at every login until the user
 * approves or denies it. Key: (user, contact), the contact being the
 * requester. Rules: one request per contact, a repeated request replaces the
 * stored stanza; lists are sorted by contact. Conventions: store.h. */
#ifndef PLUCS_STORE_PENDING_H
#define PLUCS_STORE_PENDING_H

#include "store/store.h"

typedef struct store_pending_item {
    char *contact;         /* bare JID of the requester */
    char *stanza;          /* the <presence type='subscribe'/> as received */
} store_pending_item;

typedef struct store_pending {
    store_status status;
    store_pending_item *items;   /* sorted by contact */
    size_t n;
} store_pending;

void store_pending_free(store_pending *p);         /* NULL is fine */

typedef void (*store_pending_fn)(void *arg, store_pending *res);

/* Stores (or replaces: one per contact) a request from contact to user. */
void store_pending_add(worker *reply_to, const char *user, const char *contact,
                       const char *stanza_xml, store_done_fn cb, void *arg);
/* Forgets the request (STORE_NOT_FOUND when there was none). */
void store_pending_del(worker *reply_to, const char *user, const char *contact,
                       store_done_fn cb, void *arg);
void store_pending_list(worker *reply_to, const char *user, store_pending_fn cb, void *arg);

#endif
