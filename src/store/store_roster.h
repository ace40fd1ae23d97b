/* store_roster.h: a user's personal roster (RFC 6121): the contacts they
 * added by hand, each with its subscription state, and the user's roster
 * version. Keys: (user, contact) for an item, user for the version.
 * Rules: every change of a user's items raises the version by one in the
 * same transaction, so a version a client caches (roster versioning, RFC
 * 6121 2.6) names one exact state; the version is 0 for a user whose roster
 * never changed. A newline in a group name is stored as a space, and empty
 * group names are dropped. Conventions: store.h. */
#ifndef PLUCS_STORE_ROSTER_H
#define PLUCS_STORE_ROSTER_H

#include "store/store.h"

typedef enum {
    STORE_SUB_NONE = 0,
    STORE_SUB_TO,
    STORE_SUB_FROM,
    STORE_SUB_BOTH,
} store_sub;

const char *store_sub_name(store_sub s);           /* "none", "to", "from", "both" */
int store_sub_parse(const char *s, store_sub *out); /* 0 or -1 */

typedef struct store_roster_item {
    char *contact;         /* bare JID */
    char *name;            /* NULL: no name attribute */
    store_sub subscription;
    bool ask;              /* ask='subscribe': an outbound request is pending */
    bool approved;         /* pre-approved inbound subscription (RFC 6121 3.4) */
    char **groups;         /* NULL-terminated, never NULL in results; may be NULL in requests */
} store_roster_item;

typedef struct store_roster {
    store_status status;
    int64_t version;       /* the user's roster version; 0 if never changed */
    store_roster_item *items;
    size_t n;
} store_roster;

void store_roster_free(store_roster *r);           /* NULL is fine */

typedef void (*store_roster_fn)(void *arg, store_roster *res);

/* All items of user (sorted by contact) and the roster version. */
void store_roster_get(worker *reply_to, const char *user, store_roster_fn cb, void *arg);
/* The single item user/contact (res->n is 0 or 1) and the version. */
void store_roster_get_item(worker *reply_to, const char *user, const char *contact,
                           store_roster_fn cb, void *arg);
/* Inserts or replaces the item (item->contact names it). A newline in a
 * group name is stored as a space. value: the new roster version. */
void store_roster_set(worker *reply_to, const char *user, const store_roster_item *item,
                      store_done_fn cb, void *arg);
/* Removes the item. value: the new roster version (STORE_NOT_FOUND and the
 * unchanged version when there was no such item). */
void store_roster_del(worker *reply_to, const char *user, const char *contact,
                      store_done_fn cb, void *arg);

#endif
