/* privacy.h: privacy lists (XEP-0016 1.7). Three parts:
 *
 * - The list itself (privacy_list.c, pure): parsing a client's <list/>
 *   with every check §2 asks for, the XML form for answers, and the
 *   one-line-per-item text form kept in the store.
 * - Matching (privacy_match.c, pure): which item of a list decides a
 *   stanza of a kind from/to an address, given what the caller knows of
 *   the address's roster item (subscription, groups).
 * - The process-wide cache of online accounts' lists (privacy_cache.c):
 *   one entry per account with its lists, default list name and each bound
 *   resource's active list name, reference-counted by the sessions, loaded
 *   once from the store when the first session binds. Lists are immutable
 *   and reference-counted, so a stanza path matches a list outside the
 *   cache's lock while an edit installs a new one.
 *
 * mod_privacy.c is the protocol (iq, pushes, enforcement hooks, the
 * XEP-0191 interplay). */
#ifndef PLUCS_PRIVACY_H
#define PLUCS_PRIVACY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/account_table.h"
#include "xml/xml.h"
#include "xmpp/jid.h"
#include "router/events.h"

#define NS_PRIVACY "jabber:iq:privacy"

/* Limits (hostile input): items in one list, lists of one account, bytes
 * of a list name or of a group value. */
#define PRIVACY_MAX_ITEMS 1000
#define PRIVACY_MAX_LISTS 50
#define PRIVACY_MAX_NAME 1023
/* The default list XEP-0191 creates when there is none. */
#define PRIVACY_BLOCKLIST_NAME "blocklist"

/* Stanza kinds an item applies to; 0 in an item means every kind. */
#define PRIV_K_MESSAGE 1u
#define PRIV_K_IQ 2u
#define PRIV_K_PRESENCE_IN 4u
#define PRIV_K_PRESENCE_OUT 8u

typedef enum { PRIV_FALL = 0, PRIV_JID, PRIV_GROUP, PRIV_SUB } privacy_type;
/* Subscription values (as store_sub: none, to, from, both). */
typedef enum { PRIV_SUB_NONE = 0, PRIV_SUB_TO, PRIV_SUB_FROM, PRIV_SUB_BOTH } privacy_sub;

typedef struct privacy_item {
    privacy_type type;
    char *value;        /* prepared JID, group name, subscription; NULL for fall-through */
    jid j;              /* PRIV_JID: the parsed value */
    privacy_sub sub;    /* PRIV_SUB: the parsed value */
    bool allow;
    uint32_t order;
    unsigned kinds;     /* PRIV_K_* bits; 0: all */
} privacy_item;

typedef struct privacy_list {
    atomic_int refs;
    char *name;
    privacy_item *items;  /* sorted by order (unique) */
    size_t n;
    bool needs_roster;    /* has group or subscription items */
} privacy_list;

/* Why a client's list is refused. */
typedef enum {
    PRIV_OK = 0,
    PRIV_BAD,           /* bad-request: malformed item, duplicate order, ... */
    PRIV_TOO_MANY,      /* not-acceptable: more than max items */
} privacy_err;

/* A new list from a client's <list name='..'> with items (one reference).
 * NULL with *err (and *why: a short reason for the log) when refused. An
 * empty list is a valid result (n == 0): callers treat it as removal. */
privacy_list *privacy_list_parse(const xnode *list, size_t max_items, privacy_err *err,
                                 const char **why);
/* <list name='..'> with its items, in namespace NS_PRIVACY. */
xnode *privacy_list_xml(const privacy_list *l);
/* The store's text form (one line per item) and back; decode returns NULL
 * for text that is not such a form (logged by the caller). */
char *privacy_list_encode(const privacy_list *l);
privacy_list *privacy_list_decode(const char *name, const char *text);
/* A list built by code: takes items (array and contents), sorts them. */
privacy_list *privacy_list_new(const char *name, privacy_item *items, size_t n);
privacy_list *privacy_list_ref(privacy_list *l);
void privacy_list_unref(privacy_list *l);      /* NULL is fine */
void privacy_item_clear(privacy_item *it);
/* Copies src into dst (deep). */
void privacy_item_copy(privacy_item *dst, const privacy_item *src);
/* Whether it is a XEP-0191 block: jid, deny, every kind. */
bool privacy_item_is_block(const privacy_item *it);
/* The values of the list's block items (XEP-0191 §4 view), sorted,
 * malloc'ed strings in a malloc'ed array (*n of them). */
char **privacy_list_blocks(const privacy_list *l, size_t *n);

/* A new list named name: base's items (none when NULL) with a block item
 * (XEP-0191 §4: jid, deny, every kind) for each of the n prepared JIDs
 * that base does not block yet, put before all of base's items (orders
 * below base's first, or the whole list renumbered 0, 1, ... keeping its
 * sequence when there is no room). */
privacy_list *privacy_list_with_blocks(const privacy_list *base, const char *name,
                                       char *const *jids, size_t n);

/* ---- matching ---- */

/* What the list owner's roster says about the other party. */
typedef struct privacy_contact {
    const jid *addr;          /* the other party's address */
    privacy_sub sub;          /* none when not in the roster; shared contacts: both */
    char *const *groups;      /* roster groups (personal and shared) of the contact */
    size_t ngroups;
} privacy_contact;

/* XEP-0016 §2.1 JID matching: item full JID, bare JID, domain/resource,
 * domain (that domain only). */
bool privacy_jid_matches(const jid *item, const jid *addr);
/* Whether l lets a stanza of kind (one PRIV_K_* bit, or 0 for a kind only
 * items without children cover: outbound message/iq, subscription
 * presence) through: the lowest-order matching item decides; no matching
 * item: allowed. */
bool privacy_list_allows(const privacy_list *l, const privacy_contact *c, unsigned kind);

/* ---- the cache ---- */

typedef struct privacy_acct privacy_acct;

typedef account_waiter privacy_waiter;

privacy_acct *pcache_acquire(const char *bare, bool *created);
void pcache_release(privacy_acct *a);
/* Remembers (worker, sid) to resume when a is not loaded yet (true). */
bool pcache_wait(privacy_acct *a, int worker, uint64_t sid);
bool pcache_loaded(privacy_acct *a);
/* Installs the stored lists (takes them; freed when a is gone or loaded
 * already) and default name; returns the waiters (malloc'ed, *nw). */
privacy_waiter *pcache_install(const char *bare, privacy_list **lists, size_t n,
                               const char *dflt, size_t *nw);
/* False while no online account has any list (lock-free). */
bool pcache_any(void);
/* Lists of online accounts in memory. */
size_t pcache_lists(void);

/* A bound session of the account (sid: the session's id, unique in the
 * process; it starts without an active list) / gone. */
void pcache_session_add(privacy_acct *a, uint64_t sid, const char *resource);
void pcache_session_del(privacy_acct *a, uint64_t sid);

/* A reference to the list that applies to the session (its active one,
 * else the default), or NULL. By bare JID and resource for the
 * presence-out check of another account (NULL when it is not online). */
privacy_list *pcache_effective(privacy_acct *a, uint64_t sid);
privacy_list *pcache_effective_bare(const char *bare, const char *resource);
/* A reference to bare's default list (NULL: none), and whether bare's
 * entry is in the table and loaded (online, or loaded for an offline
 * check); when not, the answer is unknown. */
privacy_list *pcache_default_bare(const char *bare, bool *loaded);

/* Names: the session's active list (NULL: none), the default (NULL:
 * none) and every list name sorted (malloc'ed copies; free with
 * pcache_names_free). */
typedef struct privacy_names {
    char *active, *dflt;
    char **names;
    size_t n;
} privacy_names;
void pcache_names(privacy_acct *a, uint64_t sid, privacy_names *out);
void pcache_names_free(privacy_names *p);
privacy_list *pcache_get(privacy_acct *a, const char *name);   /* a reference or NULL */
privacy_list *pcache_default(privacy_acct *a);                  /* a reference or NULL */
char *pcache_default_name(privacy_acct *a);                     /* malloc'ed or NULL */

/* Outcomes of the editing operations below. */
typedef enum {
    PC_OK = 0,
    PC_NOT_FOUND,       /* item-not-found */
    PC_CONFLICT,        /* conflict: in use by another session */
    PC_TOO_MANY,        /* resource-constraint: too many lists */
} pcache_res;

/* Adds or replaces l (takes the reference, also when refused). */
pcache_res pcache_put(privacy_acct *a, privacy_list *l, size_t max_lists);
/* Removes a list: conflict when another session has it active, or it is
 * the default while another session uses the default (has no active
 * list). *was_default says the default went with it. */
pcache_res pcache_remove(privacy_acct *a, const char *name, uint64_t sid, bool *was_default);
/* name NULL declines. */
pcache_res pcache_set_active(privacy_acct *a, uint64_t sid, const char *name);
/* name NULL declines; conflict when another session uses the default. */
pcache_res pcache_set_default(privacy_acct *a, uint64_t sid, const char *name);
/* Every bound session's effective list (a reference each, NULL: none),
 * for comparing before and after a change. */
typedef struct privacy_eff {
    uint64_t sid;
    char *resource;
    privacy_list *l;
} privacy_eff;
privacy_eff *pcache_effective_all(privacy_acct *a, size_t *n);
void privacy_eff_free(privacy_eff *v, size_t n);
/* Server-side (XEP-0191 interplay): puts l (a reference is taken) and
 * makes it the default, without the conflict rule and the list limit. */
void pcache_force_default(privacy_acct *a, privacy_list *l);

void pcache_shutdown(void);

/* ---- between mod_privacy.c and privacy_iq.c ---- */

struct session;
typedef struct privacy_sess {
    privacy_acct *a;      /* a reference, released with the session */
    uint64_t sid;
} privacy_sess;

/* The session's privacy state (NULL before bind / for strangers). */
privacy_sess *privacy_sess_of(struct session *s);
/* Sends a copy of st to every bound resource of bare, straight to the
 * sessions (no hooks); 'to' becomes each session's full JID. */
void privacy_send_all(const char *bare, const xnode *st);
/* Writes st (taken; 'to' becomes the session's full JID) straight to the
 * session sid on worker (no hooks). */
void privacy_post(int wid, uint64_t sid, xnode *st);
/* The jabber:iq:privacy handler. */
void privacy_iq(struct session *s, const xnode *iq, const xnode *payload);
/* The blocking module's observer (XEP-0191 §4). */
void privacy_on_blocking(struct session *s, bool block, char *const *items, size_t n);
/* Whether l (owned by owner) lets a stanza of kind to/from addr through,
 * with owner's roster consulted for group and subscription items. */
bool privacy_allows(const privacy_list *l, const char *owner, const jid *addr, unsigned kind);
/* After a change of bare's lists: presence follows every session whose
 * effective list changed (before: pcache_effective_all() taken before the
 * change). */
void privacy_presence_update(const char *bare, privacy_acct *a, const privacy_eff *before,
                             size_t nb);
/* Counts a stanza refused by a privacy list (plucs status, /metrics). */
void privacy_stat_refused(void);
/* Starts loading bare's lists into its entry (privacy_acquire created
 * it): the store read, the legacy blocklist, then pcache_install, then
 * privacy_offline_loaded(bare). */
struct worker;
void privacy_load(struct worker *w, const char *bare);

/* ---- the offline account's default list (privacy_offline.c) ---- */

/* EV_MESSAGE_ROUTED: a chat/normal message for an account with no
 * available resource to take it meets the account's default list before
 * archive, push and offline storage; held while the lists load. */
hook_result privacy_offline_routed(struct session *origin, xnode *st);
/* bare's lists are in its entry now: sends on the messages held for it. */
void privacy_offline_loaded(const char *bare);
/* Frees what is still held (shutdown, before pcache_shutdown). */
void privacy_offline_shutdown(void);
/* Held messages now (plucs status). */
size_t privacy_offline_held(void);

/* ---- presence broadcast to remote contacts (privacy_remote.c) ---- */

/* Whether s's broadcast presence st may go to the remote contact
 * (bare JID): s's effective list (presence-out) and its blocklist. An
 * 'unavailable' always passes, so nobody keeps a stale presence. */
bool privacy_broadcast_allowed(struct session *s, const xnode *st, const char *contact);
/* The same for the current presence pres of one of user's resources
 * answering a remote contact's probe (prober: a JID). */
bool privacy_probe_allowed(const char *user, const xnode *pres, const char *prober);

void privacy_store_list(const char *bare, const char *name, const privacy_list *l);

#endif
