/* pep.h: the internal API of the PubSub engine (mod_pubsub, pubsub_*.c) for
 * other modules that publish on an account's behalf (XEP-0163 personal
 * eventing): the directory's jpegPhoto as avatar (XEP-0084), bookmark sync
 * (XEP-0411), nickname (XEP-0172). Everything here is thread-safe: any
 * worker may call it; the engine keeps its nodes under one lock and sends
 * notifications itself (routed, so the caller's worker does not matter).
 * Persistence goes through the asynchronous store; nothing here blocks. */
#ifndef PLUCS_PEP_H
#define PLUCS_PEP_H

#include <stdbool.h>

#include "xml/xml.h"

#define NS_PUBSUB        "http://jabber.org/protocol/pubsub"
#define NS_PUBSUB_OWNER  "http://jabber.org/protocol/pubsub#owner"
#define NS_PUBSUB_EVENT  "http://jabber.org/protocol/pubsub#event"
#define NS_PUBSUB_ERRORS "http://jabber.org/protocol/pubsub#errors"

/* Access models (XEP-0060 §4.5). */
typedef enum pep_access {
    PEP_ACCESS_OPEN = 0,
    PEP_ACCESS_PRESENCE,
    PEP_ACCESS_ROSTER,
    PEP_ACCESS_WHITELIST,
} pep_access;

typedef enum pep_status {
    PEP_OK = 0,
    PEP_NOT_FOUND,      /* no such node / item */
    PEP_REFUSED,        /* a quota (max_nodes, max_item_size) or pubsub off */
    PEP_BAD,            /* bad arguments (no payload, bad jid) */
} pep_status;

/* Publishes payload (borrowed, copied) as item item_id (NULL: a generated
 * id) on node of account bare's PEP service, on the server's behalf. A
 * missing node is created with access model `access`, persist_items true,
 * max_items 1 (an existing node keeps its configuration). Notifications go
 * out as for a publish by the owner. */
pep_status pep_publish(const char *bare, const char *node, const char *item_id,
                       const xnode *payload, pep_access access);
/* Retracts item_id (notify="true" semantics: subscribers get <retract/>). */
pep_status pep_retract(const char *bare, const char *node, const char *item_id);
/* Deletes node of account bare's PEP service when it holds no item any more
 * (subscribers get <delete/> when the node's pubsub#notify_delete says so);
 * PEP_NOT_FOUND when there is no such node, PEP_REFUSED when it has items. */
pep_status pep_delete_if_empty(const char *bare, const char *node);
/* The accounts (bare JIDs) that have PEP nodes, malloc'ed and
 * NULL-terminated; free each and the array. */
char **pep_accounts(void);
/* A copy of the newest item's payload (caller frees with xnode_free) and
 * its id (*item_id malloc'ed when item_id is non-NULL), or NULL when the
 * node does not exist, is empty, or was not loaded from the store yet
 * (see pep_ready). */
xnode *pep_last_item(const char *bare, const char *node, char **item_id);
/* Whether the engine loaded its stored nodes (true shortly after start). */
bool pep_ready(void);

/* Another module learns of every publish and retract on a PEP node (any
 * account, any origin: client or pep_publish). Called after the engine
 * released its lock, on the thread that published; payload is borrowed
 * (NULL for a retract). retract: item_id was removed. Hooks are registered
 * from a module's init (before the workers start); at most PEP_MAX_HOOKS. */
typedef void (*pep_hook_fn)(const char *bare, const char *node, const char *item_id,
                            const xnode *payload, bool retract);
#define PEP_MAX_HOOKS 4
int pep_hook_add(pep_hook_fn fn);

/* Whether a PEP node is one the server fills on the account's behalf
 * (XEP-0084 avatar data/metadata, XEP-0172 nickname: mod_pepdata); such
 * nodes do not count towards plucs/pubsub/max_nodes (pep_avatar.c). */
bool pep_quota_exempt(const char *node);

/* Adds to a disco#items <query/> (XEP-0030) one <item jid=bare node=N/>
 * per node of account bare's PEP service that requester (a JID) may read.
 * For mod_disco. */
void pep_disco_items(const char *bare, const char *requester, xnode *query);

/* The service host pubsub.D for served domain d (malloc'ed), or NULL when
 * plucs/pubsub is off. */
char *pubsub_service_host(const char *d);
/* Whether plucs/pubsub is on in the current configuration. */
bool pubsub_enabled(void);

#endif
