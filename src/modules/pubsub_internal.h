/* pubsub_internal.h: what the PubSub files share (mod_pubsub.c,
 * pubsub_engine.c, pubsub_iq.c, pubsub_notify.c, pubsub_caps.c). One engine
 * serves two kinds of hosts: the service pubsub.D (host = that domain) and
 * PEP (host = an account's bare JID). All nodes live in memory under one
 * process-wide lock (ps_lock), written through to the store
 * (store_pubsub.h); loaded once at start. */
#ifndef PLUCS_PUBSUB_INTERNAL_H
#define PLUCS_PUBSUB_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "modules/pubsub_config.h"
#include "router/events.h"
#include "router/session.h"

typedef struct ps_item {
    struct ps_item *prev, *next;   /* prev: older, next: newer */
    char *id;
    char *publisher;               /* bare JID */
    char *payload;                 /* serialized payload element ("" = none) */
    int64_t seq;
    int64_t ts;                    /* ms since the epoch */
} ps_item;

typedef struct ps_affent {
    char *jid;
    ps_aff aff;
} ps_affent;

typedef struct ps_subent {
    char *jid;                     /* as subscribed (bare or full) */
    char subid[24];
} ps_subent;

typedef struct ps_node {
    struct ps_node *next;
    char *name;
    char *owner;                   /* creator's bare JID (PEP: the account) */
    ps_config cfg;
    ps_affent *affs;
    size_t naffs;
    ps_subent *subs;
    size_t nsubs;
    ps_item *oldest, *newest;
    size_t nitems;
} ps_node;

typedef struct ps_host {
    struct ps_host *next;
    char *jid;
    bool pep;
    ps_node *nodes;
    size_t nnodes;
} ps_host;

/* ---- the engine (pubsub_engine.c); everything below under ps_lock ---- */
extern pthread_mutex_t ps_lock;

/* Loads the store's nodes; before the workers start (blocks the caller). */
void ps_engine_load(void);
bool ps_engine_loaded(void);
void ps_engine_free(void);
uint64_t ps_count_nodes(void);   /* no lock needed */
uint64_t ps_count_items(void);
int ps_limit_items(void);        /* plucs/pubsub/max_items (>= 1) */

ps_host *ps_host_get(const char *addr, bool create);
ps_node *ps_node_get(const ps_host *h, const char *name);
/* The bare JIDs of every PEP host that has nodes (malloc'ed, NULL-terminated;
 * free with ps_groups_free). */
char **ps_pep_hosts(void);
/* Creates (and stores) a node; cfg is copied. */
ps_node *ps_node_create(ps_host *h, const char *name, const char *owner, const ps_config *cfg);
void ps_node_delete(ps_host *h, ps_node *n);
/* Stores n's configuration, affiliations and subscriptions; trims items
 * beyond a lowered max_items. */
void ps_node_save(ps_host *h, ps_node *n);
/* How many nodes owner owns on h (PEP: all of h's). */
size_t ps_owned_nodes(const ps_host *h, const char *owner);

ps_item *ps_item_find(const ps_node *n, const char *id);
/* Adds or replaces item id (NULL: generated) and trims to max_items; the
 * item (valid until the lock is released). */
ps_item *ps_item_publish(ps_host *h, ps_node *n, const char *id, const char *publisher,
                         const char *payload);
bool ps_item_retract(ps_host *h, ps_node *n, const char *id);
void ps_node_purge(ps_host *h, ps_node *n);

ps_aff ps_node_aff(const ps_node *n, const char *bare);
void ps_node_set_aff(ps_node *n, const char *addr, ps_aff aff);
ps_subent *ps_node_sub(const ps_node *n, const char *addr);
ps_subent *ps_node_subscribe(ps_node *n, const char *addr);
bool ps_node_unsubscribe(ps_node *n, const char *addr);

/* ---- relationship of a requester to an owner (mod_pubsub.c) ---- */
/* Fills rel (groups malloc'ed into *groups, free with ps_groups_free).
 * false when the owner's personal roster is not cached yet. Not under
 * ps_lock (it takes the roster's). */
bool ps_rel_compute(const char *owner, const char *requester, ps_rel *rel, char ***groups);
void ps_groups_free(char **groups);

/* ---- notifications (pubsub_notify.c); not under ps_lock ---- */
typedef struct ps_event {
    char *host;
    bool pep;
    char *node;
    char *owner;
    ps_config cfg;             /* copy */
    char **subscribers;        /* explicit subscriptions, NULL-terminated */
    xnode *event;              /* <event xmlns=pubsub#event> */
    const char *only;          /* non-NULL: only this full JID (last item) */
} ps_event;
/* Builds an event from node n (under ps_lock): copies what it needs. */
ps_event *ps_event_new(const ps_host *h, const ps_node *n, xnode *event);
/* Sends to every recipient and frees ev. */
void ps_notify(ps_event *ev);
/* Frees ev unsent. */
void ps_event_free(ps_event *ev);
/* <event><items node><item id>payload</item></items></event> (payload may be NULL). */
xnode *ps_event_items(const char *node, const ps_item *it, bool with_payload);
/* Sends the newest item of every node the full JID wants (+notify) on
 * its own PEP and its contacts' (on_sub_and_presence), after its first
 * available presence or when its caps became known. */
void ps_send_last_items(const char *full);
void ps_send_last_items_of(const char *host, const char *full);
/* Routes a stanza from host (service or account). */
void ps_route(bool pep, xnode *st);

/* ---- entity capabilities (pubsub_caps.c) ---- */
/* An outbound presence of s: learns its caps (may query them). */
void ps_caps_presence(session *s, const xnode *presence);
/* Forgets full's caps when session sid announced them (a newer session
 * with the same full JID keeps its own). */
void ps_caps_forget(const char *full, uint64_t sid);
/* A presence from remote full to local account via (seen as it reaches
 * via's session on served domain `domain`): learns its caps like a local
 * client's. True when its caps are known and new for it: time to send it
 * via's last items. */
bool ps_caps_remote_presence(const char *full, const char *via, const char *domain,
                             const xnode *presence);
/* The local account a remote full sent presence to (malloc'ed) or NULL. */
char *ps_caps_via(const char *full);
/* Whether full advertised node+notify (its caps are known). */
bool ps_caps_wants(const char *full, const char *node);
bool ps_caps_known(const char *full);
/* The available resources of bare (full JIDs, malloc'ed, NULL-terminated)
 * whose caps include node+notify. */
char **ps_caps_recipients(const char *bare, const char *node);
hook_result ps_caps_reply(session *s, xnode *st);
uint64_t ps_caps_queries(void);
void ps_caps_free(void);

/* ---- protocol (pubsub_iq.c) ---- */
/* An iq for host (ownership of iq passes). s: the local session of the
 * requester (PEP path) or NULL (service path: answers are routed). */
void ps_iq(session *s, xnode *iq, const char *host, bool pep);
/* The service's disco answers (service host, node queries). */
void ps_service_disco(xnode *iq, const char *host);

/* ---- pep.h hooks ---- */
void ps_hooks_fire(const char *bare, const char *node, const char *item_id, const xnode *payload,
                   bool retract);

#endif
