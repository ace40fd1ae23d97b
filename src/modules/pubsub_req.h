/* pubsub_req.h: one PubSub request as the protocol files share it
 * (pubsub_iq.c runs it, pubsub_items.c and pubsub_owner.c implement the
 * use cases under ps_lock, filling a ps_out that is sent after the lock). */
#ifndef PLUCS_PUBSUB_REQ_H
#define PLUCS_PUBSUB_REQ_H

#include "modules/pubsub_internal.h"
#include "modules/roster.h"

#define PAYLOAD_MAX_DEPTH 64
#define MAX_EVENTS 4
#define PS_MAX_SUBS_PER_JID 16       /* one account's subscriptions on a node */
#define PS_MAX_SUBS_PER_NODE 100000
#define PS_NAME_MAX 1023             /* bytes of a node name or an item id */

typedef struct ps_job {
    xnode *iq;
    char *host;
    bool pep;
    bool has_session;
    uint64_t sid;
    acct *held;            /* the owner's roster, kept loaded for the retry */
} ps_job;

/* What a request produced, sent after the lock. */
typedef struct ps_out {
    xnode *reply;
    ps_event *events[MAX_EVENTS];
    int nevents;
    /* pep.h hook */
    bool hook;
    bool hook_retract;
    char *hook_node, *hook_id;
    xnode *hook_payload;
    /* last item to a new subscriber */
    xnode *last_msg;
} ps_out;

typedef struct req {
    ps_job *j;
    const xnode *iq;
    const xnode *pubsub;      /* <pubsub/> */
    const xnode *op;          /* its first element */
    const char *from;         /* full */
    const char *bare;
    bool set;
    ps_rel rel;
    ps_host *h;
    ps_out *out;
} req;

/* Helpers (pubsub_iq.c). */
xnode *ps_err(const xnode *iq, const char *type, const char *cond, const char *pscond,
              const char *feature);
xnode *ps_access_err(const xnode *iq, ps_access_result a);
xnode *ps_result_pubsub(const xnode *iq, const char *ns, xnode **pubsub);
void ps_add_event(ps_out *o, ps_event *ev);
char *ps_bare_of(const char *full);       /* malloc'ed */
/* The node the request names (sets r->rel.aff and owner), or NULL after
 * answering nodeid-required / item-not-found. */
ps_node *ps_need_node(req *r, const char *name);
/* Whether the request is an iq set; false after answering bad-request. */
bool ps_need_set(req *r);

/* Use cases of the pubsub namespace (pubsub_items.c). */
void ps_do_create(req *r);
void ps_do_publish(req *r);
void ps_do_retract(req *r);
void ps_do_items(req *r);
void ps_do_subscribe(req *r);
void ps_do_unsubscribe(req *r);
void ps_do_mine(req *r, bool subs);
/* Use cases of pubsub#owner (pubsub_owner.c). */
void ps_do_configure(req *r);
void ps_do_default(req *r);
void ps_do_delete(req *r);
void ps_do_purge(req *r);
void ps_do_owner_list(req *r, bool subs);

#endif
