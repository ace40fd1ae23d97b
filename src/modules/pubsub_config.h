/* pubsub_config.h: a node's configuration (XEP-0060 §8.2, the
 * pubsub#node_config form), its parsing from data forms (node_config on
 * create/configure, publish-options of XEP-0223), the precondition check,
 * the form rendering, its stored text, and the access decision of
 * XEP-0060 §4.5 / §6.1.3 / §6.5.9. Pure functions, no state: unit tested
 * in tests/unit/test_pubsub_config.c. */
#ifndef PLUCS_PUBSUB_CONFIG_H
#define PLUCS_PUBSUB_CONFIG_H

#include <stdbool.h>

#include "modules/pep.h"
#include "xml/xml.h"

#define NS_XDATA "jabber:x:data"
#define PS_FORM_NODE_CONFIG "http://jabber.org/protocol/pubsub#node_config"
#define PS_FORM_PUBLISH_OPTIONS "http://jabber.org/protocol/pubsub#publish-options"
#define PS_GROUPS_MAX 32

typedef enum { PS_SEND_NEVER = 0, PS_SEND_ON_SUB, PS_SEND_ON_SUB_AND_PRESENCE } ps_send_last;
typedef enum { PS_PUBLISH_PUBLISHERS = 0, PS_PUBLISH_OPEN } ps_publish_model;

typedef struct ps_config {
    pep_access access;
    ps_publish_model publish_model;
    bool persist_items;
    int max_items;              /* >= 1; the limit plucs/pubsub/max_items for "max" */
    ps_send_last send_last;
    bool notify_retract;
    bool notify_delete;
    bool deliver_payloads;
    char title[256];
    char *groups[PS_GROUPS_MAX + 1];   /* roster_groups_allowed, NULL-terminated, owned */
} ps_config;

/* Defaults: pep chooses XEP-0163's (access presence, max_items 1,
 * send_last on_sub_and_presence), else a service node's (open, 10, never).
 * limit is plucs/pubsub/max_items. */
void ps_config_defaults(ps_config *c, bool pep, int limit);
void ps_config_clear(ps_config *c);           /* frees the groups */
void ps_config_copy(ps_config *dst, const ps_config *src);

/* Applies the fields of data form x (a <x xmlns='jabber:x:data'/>; its
 * FORM_TYPE, if any, must be node_config or publish-options). Unknown
 * fields are ignored when strict is false, refused when true. 0, or -1 with
 * the offending field in *bad (static). c is unchanged on failure. */
int ps_config_apply(ps_config *c, const xnode *x, int limit, bool strict, const char **bad);
/* XEP-0223 §3: whether every field of x states what c has. *bad names the
 * first field that differs. */
bool ps_config_matches(const ps_config *c, const xnode *x, int limit, const char **bad);
/* The node_config form (type "form", for configure get). New node. */
xnode *ps_config_form(const ps_config *c, int limit);

/* The stored text ("key=value" lines) and back (unknown keys ignored). */
char *ps_config_serialize(const ps_config *c);    /* malloc'ed */
void ps_config_parse(ps_config *c, const char *text, int limit);

/* Affiliations (XEP-0060 §4.1). */
typedef enum { PS_AFF_NONE = 0, PS_AFF_OUTCAST, PS_AFF_MEMBER, PS_AFF_PUBLISHER,
               PS_AFF_OWNER } ps_aff;
const char *ps_aff_name(ps_aff a);
int ps_aff_parse(const char *s, ps_aff *out);   /* 0 or -1 */

/* What the requester is to the node's owner. */
typedef struct ps_rel {
    ps_aff aff;              /* explicit affiliation on the node */
    bool owner;              /* the owner's bare JID (or the owner itself) */
    bool presence_sub;       /* has a subscription to the owner's presence
                                (from/both, or a shared roster contact) */
    const char *const *groups;  /* groups of the requester in the owner's
                                   roster (personal and shared), NULL-terminated
                                   or NULL */
} ps_rel;

typedef enum {
    PS_ACCESS_OK = 0,
    PS_ACCESS_OUTCAST,             /* forbidden (auth) */
    PS_ACCESS_PRESENCE_REQUIRED,   /* not-authorized + presence-subscription-required */
    PS_ACCESS_NOT_IN_GROUP,        /* not-authorized + not-in-roster-group */
    PS_ACCESS_CLOSED,              /* not-allowed + closed-node */
} ps_access_result;

/* May the requester read items of / subscribe to a node configured c? */
ps_access_result ps_access_check(const ps_config *c, const ps_rel *r);
/* May the requester publish / retract? (owner and publishers; everyone
 * but outcasts with publish_model open) */
bool ps_may_publish(const ps_config *c, const ps_rel *r);

#endif
