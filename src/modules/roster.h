/* roster.h: rosters (RFC 6121 §2-3). A roster is the shared part computed
 * from the directory snapshot (shared_roster.h) plus the personal items a
 * user manages, kept in the store and cached per online account (shared
 * by the account's sessions on every worker, under the account's lock).
 * roster_state.c holds the subscription state machine as a pure function. */
#ifndef PLUCS_ROSTER_H
#define PLUCS_ROSTER_H

#include <pthread.h>
#include <stdbool.h>

#include "router/session.h"
#include "store/store_pending.h"
#include "store/store_roster.h"

#define NS_ROSTER "jabber:iq:roster"

/* ---- the subscription state machine (pure) ---- */

typedef enum {
    RS_SET,               /* the user edits name / groups */
    RS_OUT_SUBSCRIBE,     /* the user asks to see the contact */
    RS_OUT_SUBSCRIBED,    /* the user lets the contact see them */
    RS_OUT_UNSUBSCRIBE,   /* the user stops seeing the contact */
    RS_OUT_UNSUBSCRIBED,  /* the user stops letting the contact see them / denies */
    RS_IN_SUBSCRIBE,      /* the contact asks to see the user */
    RS_IN_SUBSCRIBED,     /* the contact lets the user see them */
    RS_IN_UNSUBSCRIBE,    /* the contact stops seeing the user */
    RS_IN_UNSUBSCRIBED,   /* the contact stops letting the user see them */
} roster_op;

/* What the caller must do besides storing the item. */
#define RS_ACT_STORE       1u   /* the item changed: store it and push it */
#define RS_ACT_ROUTE       2u   /* route the stanza on to the contact */
#define RS_ACT_DELIVER     4u   /* deliver the inbound stanza to the user's resources */
#define RS_ACT_AUTOREPLY   8u   /* answer 'subscribed' on the user's behalf */
#define RS_ACT_PENDING_ADD 16u  /* remember the inbound request (user offline or undecided) */
#define RS_ACT_PENDING_DEL 32u  /* forget a remembered inbound request */
#define RS_ACT_PRESENCE    64u  /* send the user's current presence to the contact */
#define RS_ACT_UNAVAILABLE 128u /* send the user's 'unavailable' to the contact */

/* Applies op to the user's item about a contact. *exists says whether the
 * item exists (updated); pending: an inbound request is stored. Returns the
 * RS_ACT_* flags. */
unsigned roster_apply(store_roster_item *it, bool *exists, bool pending, roster_op op);

/* ---- limits (RFC 6121 §2.3.3; pure) ---- */

#define ROSTER_NAME_MAX   1023   /* bytes of an item's name */
#define ROSTER_GROUP_MAX  1023   /* bytes of one group name */
#define ROSTER_GROUPS_MAX 100    /* distinct groups of one item */

/* Whether an item's name (NULL: none) and its distinct groups fit the
 * limits above (a roster set beyond them is not-acceptable). Empty group
 * names are refused too. */
bool roster_item_fits(const char *name, char *const *groups, size_t ngroups);
/* Whether a user who has n personal items may store one more (exists: the
 * item is there already, so nothing is added) under quota items
 * (plucs/quota/roster; 0: no limit). Beyond it: resource-constraint. */
bool roster_quota_allows(size_t n, bool exists, int quota);

/* ---- the per-account cache ---- */

typedef struct acct {
    char *bare;
    int refs;                 /* under the table lock */
    pthread_mutex_t lock;     /* guards everything below */
    bool loaded;
    int64_t version;          /* the store's roster version */
    store_roster_item *items; /* sorted by contact */
    size_t n;
    char **pending;           /* contacts whose inbound subscription request waits */
    size_t npending;
} acct;

acct *acct_acquire(const char *bare);   /* creates when needed; one reference */
acct *acct_find(const char *bare);      /* a reference, or NULL when nobody is online */
acct *acct_ref(acct *a);                /* one more reference */
void acct_release(acct *a);
/* Under a->lock: */
store_roster_item *acct_item(acct *a, const char *contact);
void acct_item_put(acct *a, const store_roster_item *it);   /* copies */
void acct_item_del(acct *a, const char *contact);
void acct_load(acct *a, store_roster *r, store_pending *p);  /* takes the items */
bool acct_pending_has(acct *a, const char *contact);
void acct_pending_set(acct *a, const char *contact, bool on);

/* Makes sure a is loaded from the store, then runs fn(ud) on this worker
 * (at once when it is loaded already). a must be referenced by the caller
 * until fn ran. Pending loads are freed at worker exit (roster_thread_exit). */
void acct_when_loaded(acct *a, void (*fn)(void *ud), void (*free_ud)(void *ud), void *ud);
void roster_thread_exit(void);

void roster_item_clear(store_roster_item *it);
void roster_item_copy(store_roster_item *dst, const store_roster_item *src);

/* ---- for presence and subscriptions ---- */

/* Personal contacts of user whose subscription matches: want_from (they
 * may see the user: from/both), want_to (the user sees them: to/both).
 * NULL-terminated, malloc'ed; free with roster_list_free. */
char **roster_personal_list(const char *user, bool want_from, bool want_to);
void roster_list_free(char **list);

/* Runs the state machine for user's item about contact and does what it
 * says except routing/delivery, which the caller does when the return has
 * RS_ACT_ROUTE / RS_ACT_DELIVER (st: the subscription stanza, for pending).
 * Asynchronous when the user's roster is not cached (user offline); then
 * `then(ud, acts)` runs later on this worker. */
void roster_subscription(const char *user, const char *contact, roster_op op, const xnode *st,
                         void (*then)(void *ud, unsigned acts), void (*free_ud)(void *ud),
                         void *ud);

/* Calls fn(ud, sub) on this worker with user's subscription state about
 * contact (STORE_SUB_NONE when there is no personal item), once user's
 * roster is loaded: at once when it is cached, else after the store
 * answered. fn owns ud; free_ud(ud) runs instead when the worker stops
 * first. For answering remote parties (probes, permission checks). */
void roster_subscription_state(const char *user, const char *contact,
                               void (*fn)(void *ud, store_sub sub), void (*free_ud)(void *ud),
                               void *ud);

/* Sends a roster push for user/contact (item NULL: subscription='remove')
 * to every interested resource of user. */
void roster_push(const char *user, const store_roster_item *item, const char *contact,
                 int64_t version);
/* The same with a ready <item/>. version < 0: the account's current one. */
void roster_push_node(const char *user, const xnode *item, int64_t version);
/* The push iq itself (to send to one session). */
xnode *roster_push_iq(const char *user, const xnode *item, int64_t version);

/* Is contact in user's shared roster (directory)? */
bool roster_is_shared(const char *user_bare, const char *contact_bare);

#endif
