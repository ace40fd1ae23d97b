/* pubsub_iq.c: the XEP-0060 protocol of the engine, for both kinds of
 * hosts (service pubsub.D and PEP on an account), with XEP-0223
 * publish-options and XEP-0163 auto-create. One request is one job: the
 * requester's relationship to the node's owner is computed first (which may
 * wait for the owner's roster to load from the store, asynchronously), then
 * the request runs under ps_lock, and the notifications, pep.h hooks and
 * last-item deliveries it produced are sent after the lock is released.
 * Errors follow XEP-0060 (with pubsub#errors conditions); every refusal is
 * logged at info level naming the requester. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/disco.h"
#include "modules/pubsub_internal.h"
#include "modules/roster.h"
#include "router/router.h"
#include "xml/xml_fragment.h"
#include "xmpp/stanza.h"

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

static void job_free(void *p)
{
    ps_job *j = p;
    if (j->held)
        acct_release(j->held);
    xnode_free(j->iq);
    free(j->host);
    free(j);
}

static void send_reply(ps_job *j, xnode *r)
{
    if (!r)
        return;
    if (!j->has_session) {
        router_route_service(r);
        return;
    }
    session *s = session_find(worker_self(), j->sid);
    if (s && !s->closing)
        session_send_free(s, r);
    else
        xnode_free(r);
}

static xnode *err(const xnode *iq, const char *type, const char *cond, const char *pscond,
                  const char *feature)
{
    xnode *r = stanza_error_reply(iq, type, cond, NULL);
    xnode *e = r ? xnode_child(r, "error", NULL) : NULL;
    if (e && pscond) {
        xnode *x = xnode_add_child(e, pscond, NS_PUBSUB_ERRORS);
        if (feature)
            xnode_set_attr(x, "feature", feature);
    }
    return r;
}

static xnode *access_err(const xnode *iq, ps_access_result a)
{
    switch (a) {
    case PS_ACCESS_OUTCAST:
        return err(iq, ERR_AUTH, "forbidden", NULL, NULL);
    case PS_ACCESS_PRESENCE_REQUIRED:
        return err(iq, ERR_AUTH, "not-authorized", "presence-subscription-required", NULL);
    case PS_ACCESS_NOT_IN_GROUP:
        return err(iq, ERR_AUTH, "not-authorized", "not-in-roster-group", NULL);
    case PS_ACCESS_CLOSED:
        return err(iq, ERR_CANCEL, "not-allowed", "closed-node", NULL);
    case PS_ACCESS_OK:
        break;
    }
    return NULL;
}

static xnode *result_pubsub(const xnode *iq, const char *ns, xnode **pubsub)
{
    xnode *r = iq_result(iq);
    *pubsub = xnode_add_child(r, "pubsub", ns);
    return r;
}

static void add_event(ps_out *o, ps_event *ev)
{
    if (o->nevents < MAX_EVENTS)
        o->events[o->nevents++] = ev;
    else
        ps_notify(ev);   /* never reached: a request makes at most two */
}

static char *bare_of(const char *full)
{
    const char *slash = strchr(full, '/');
    return slash ? xstrndup(full, (size_t)(slash - full)) : xstrdup(full);
}

static int limit_nodes(void)
{
    const config *c = config_current();
    return c ? c->pubsub_max_nodes : 1000;
}

static int limit_item_size(void)
{
    const config *c = config_current();
    return c ? c->pubsub_max_item_size : 65536;
}

/* Who may create nodes here: the account itself on PEP, any account of a
 * served domain on the service. */
static bool may_create(const ps_job *j, const char *from_bare)
{
    if (j->pep)
        return !strcmp(j->host, from_bare);
    return router_account(from_bare) != NULL;
}

/* ---- requests (under ps_lock) ---- */

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

static void do_create(req *r)
{
    const char *name = xnode_attr(r->op, "node");
    char gen[40];
    if (!r->set) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
        return;
    }
    if (!may_create(r->j, r->bare)) {
        log_info("pubsub: %s may not create nodes on %s: forbidden", r->from, r->j->host);
        r->out->reply = err(r->iq, ERR_AUTH, "forbidden", NULL, NULL);
        return;
    }
    if (!name || !*name) {
        if (r->j->pep) {
            r->out->reply = err(r->iq, ERR_MODIFY, "not-acceptable", "nodeid-required", NULL);
            return;
        }
        static _Atomic unsigned long long instant;
        snprintf(gen, sizeof gen, "instant-%llx-%llx", (unsigned long long)time(NULL),
                 ++instant);
        name = gen;
    }
    ps_host *h = ps_host_get(r->j->host, true);
    if (ps_node_get(h, name)) {
        r->out->reply = err(r->iq, ERR_CANCEL, "conflict", NULL, NULL);
        return;
    }
    if (!(h->pep && pep_quota_exempt(name)) &&
        ps_owned_nodes(h, r->bare) >= (size_t)limit_nodes()) {
        log_info("pubsub: %s has %d nodes on %s (plucs/pubsub/max_nodes): create refused",
                 r->bare, limit_nodes(), r->j->host);
        r->out->reply = err(r->iq, ERR_WAIT, "resource-constraint", NULL, NULL);
        return;
    }
    ps_config cfg;
    ps_config_defaults(&cfg, r->j->pep, ps_limit_items());
    const xnode *conf = xnode_child(r->pubsub, "configure", NS_PUBSUB);
    const xnode *x = conf ? xnode_child(conf, "x", NS_XDATA) : NULL;
    const char *bad;
    if (x && ps_config_apply(&cfg, x, ps_limit_items(), false, &bad) != 0) {
        log_info("pubsub: %s created node %s with a bad %s: refused", r->from, name, bad);
        r->out->reply = err(r->iq, ERR_MODIFY, "not-acceptable", NULL, NULL);
        ps_config_clear(&cfg);
        return;
    }
    ps_node_create(h, name, r->bare, &cfg);
    ps_config_clear(&cfg);
    xnode *ps;
    r->out->reply = result_pubsub(r->iq, NS_PUBSUB, &ps);
    xnode_set_attr(xnode_add_child(ps, "create", NS_PUBSUB), "node", name);
}

static void do_publish(req *r)
{
    const char *name = xnode_attr(r->op, "node");
    if (!r->set) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
        return;
    }
    if (!name || !*name) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", "nodeid-required", NULL);
        return;
    }
    const xnode *item = NULL;
    int nitems = 0;
    for (const xnode *c = xnode_first_element(r->op); c; c = xnode_next_element(c))
        if (!strcmp(c->name, "item") && !strcmp(c->ns, NS_PUBSUB)) {
            item = c;
            nitems++;
        }
    if (nitems > 1) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", "invalid-payload", NULL);
        return;
    }
    const xnode *payload = item ? xnode_first_element(item) : NULL;
    if (!item) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", "item-required", NULL);
        return;
    }
    if (!payload) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", "payload-required", NULL);
        return;
    }
    if (xnode_next_element(payload)) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", "invalid-payload", NULL);
        return;
    }
    char *text = xml_to_string(payload, NULL);
    size_t size = strlen(text);
    if (size > (size_t)limit_item_size()) {
        log_info("pubsub: %s published %zu bytes on %s/%s, more than plucs/pubsub/max_item_size "
                 "(%d): refused", r->from, size, r->j->host, name, limit_item_size());
        r->out->reply = err(r->iq, ERR_MODIFY, "not-acceptable", "payload-too-big", NULL);
        free(text);
        return;
    }
    const xnode *po = xnode_child(r->pubsub, "publish-options", NS_PUBSUB);
    const xnode *x = po ? xnode_child(po, "x", NS_XDATA) : NULL;
    ps_host *h = ps_host_get(r->j->host, true);
    ps_node *n = ps_node_get(h, name);
    const char *bad = NULL;
    if (!n) {
        if (!may_create(r->j, r->bare)) {
            log_info("pubsub: %s published on missing node %s of %s: %s", r->from, name,
                     r->j->host, r->j->pep ? "forbidden" : "item-not-found");
            r->out->reply = r->j->pep ? err(r->iq, ERR_AUTH, "forbidden", NULL, NULL)
                                      : err(r->iq, ERR_CANCEL, "item-not-found", NULL, NULL);
            free(text);
            return;
        }
        if (!(h->pep && pep_quota_exempt(name)) &&
            ps_owned_nodes(h, r->bare) >= (size_t)limit_nodes()) {
            log_info("pubsub: %s has %d nodes on %s (plucs/pubsub/max_nodes): auto-create "
                     "refused", r->bare, limit_nodes(), r->j->host);
            r->out->reply = err(r->iq, ERR_WAIT, "resource-constraint", NULL, NULL);
            free(text);
            return;
        }
        ps_config cfg;
        ps_config_defaults(&cfg, r->j->pep, ps_limit_items());
        if (x && ps_config_apply(&cfg, x, ps_limit_items(), false, &bad) != 0) {
            log_info("pubsub: %s: publish-options with a bad %s for new node %s: refused",
                     r->from, bad, name);
            r->out->reply = err(r->iq, ERR_CANCEL, "conflict", "precondition-not-met", NULL);
            ps_config_clear(&cfg);
            free(text);
            return;
        }
        n = ps_node_create(h, name, r->bare, &cfg);
        ps_config_clear(&cfg);
    } else {
        r->rel.aff = ps_node_aff(n, r->bare);
        if (!ps_may_publish(&n->cfg, &r->rel)) {
            log_info("pubsub: %s may not publish on %s/%s: forbidden", r->from, r->j->host,
                     name);
            r->out->reply = err(r->iq, ERR_AUTH, "forbidden", NULL, NULL);
            free(text);
            return;
        }
        if (x && !ps_config_matches(&n->cfg, x, ps_limit_items(), &bad)) {
            log_info("pubsub: %s: publish-options precondition %s not met on %s/%s", r->from,
                     bad, r->j->host, name);
            r->out->reply = err(r->iq, ERR_CANCEL, "conflict", "precondition-not-met", NULL);
            free(text);
            return;
        }
    }
    ps_item *it = ps_item_publish(h, n, xnode_attr(item, "id"), r->bare, text);
    free(text);
    xnode *ps;
    r->out->reply = result_pubsub(r->iq, NS_PUBSUB, &ps);
    xnode *pub = xnode_add_child(ps, "publish", NS_PUBSUB);
    xnode_set_attr(pub, "node", name);
    xnode_set_attr(xnode_add_child(pub, "item", NS_PUBSUB), "id", it->id);
    add_event(r->out, ps_event_new(h, n, ps_event_items(name, it, n->cfg.deliver_payloads)));
    if (h->pep) {
        r->out->hook = true;
        r->out->hook_node = xstrdup(name);
        r->out->hook_id = xstrdup(it->id);
        r->out->hook_payload = xnode_copy(payload);
    }
}

static ps_node *need_node(req *r, const char *name)
{
    if (!name || !*name) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", "nodeid-required", NULL);
        return NULL;
    }
    ps_node *n = ps_node_get(ps_host_get(r->j->host, false), name);
    if (!n) {
        r->out->reply = err(r->iq, ERR_CANCEL, "item-not-found", NULL, NULL);
        return NULL;
    }
    r->rel.aff = ps_node_aff(n, r->bare);
    if (!strcmp(n->owner, r->bare))
        r->rel.owner = true;
    return n;
}

static bool truthy(const char *v) { return v && (!strcmp(v, "1") || !strcmp(v, "true")); }

static void do_retract(req *r)
{
    if (!r->set) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
        return;
    }
    ps_node *n = need_node(r, xnode_attr(r->op, "node"));
    if (!n)
        return;
    const xnode *item = xnode_child(r->op, "item", NS_PUBSUB);
    const char *id = item ? xnode_attr(item, "id") : NULL;
    if (!id || !*id) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", "item-required", NULL);
        return;
    }
    if (!ps_may_publish(&n->cfg, &r->rel)) {
        log_info("pubsub: %s may not retract on %s/%s: forbidden", r->from, r->j->host, n->name);
        r->out->reply = err(r->iq, ERR_AUTH, "forbidden", NULL, NULL);
        return;
    }
    ps_host *h = ps_host_get(r->j->host, false);
    if (!ps_item_retract(h, n, id)) {
        r->out->reply = err(r->iq, ERR_CANCEL, "item-not-found", NULL, NULL);
        return;
    }
    r->out->reply = iq_result(r->iq);
    const char *notify = xnode_attr(r->op, "notify");
    if (notify ? truthy(notify) : n->cfg.notify_retract) {
        xnode *ev = ps_event_items(n->name, NULL, false);
        xnode_set_attr(xnode_add_child(xnode_first_element(ev), "retract", NS_PUBSUB_EVENT), "id",
                       id);
        add_event(r->out, ps_event_new(h, n, ev));
    }
    if (h->pep) {
        r->out->hook = r->out->hook_retract = true;
        r->out->hook_node = xstrdup(n->name);
        r->out->hook_id = xstrdup(id);
    }
}

static void add_item(xnode *items, const ps_item *it)
{
    xnode *x = xnode_add_child(items, "item", NS_PUBSUB);
    xnode_set_attr(x, "id", it->id);
    if (it->payload && *it->payload) {
        xnode *p = xml_fragment_parse(it->payload, strlen(it->payload), NULL, PAYLOAD_MAX_DEPTH);
        if (p)
            xnode_append(x, p);
    }
}

static void do_items(req *r)
{
    if (r->set) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
        return;
    }
    ps_node *n = need_node(r, xnode_attr(r->op, "node"));
    if (!n)
        return;
    ps_access_result a = ps_access_check(&n->cfg, &r->rel);
    if (a != PS_ACCESS_OK) {
        log_info("pubsub: %s may not read %s/%s (access model): refused", r->from, r->j->host,
                 n->name);
        r->out->reply = access_err(r->iq, a);
        return;
    }
    xnode *ps;
    r->out->reply = result_pubsub(r->iq, NS_PUBSUB, &ps);
    xnode *items = xnode_add_child(ps, "items", NS_PUBSUB);
    xnode_set_attr(items, "node", n->name);
    bool by_id = false;
    for (const xnode *c = xnode_first_element(r->op); c; c = xnode_next_element(c)) {
        const char *id = xnode_attr(c, "id");
        if (strcmp(c->name, "item") || !id)
            continue;
        by_id = true;
        const ps_item *it = ps_item_find(n, id);
        if (it)
            add_item(items, it);
    }
    if (by_id)
        return;
    const char *mi = xnode_attr(r->op, "max_items");
    long max = mi ? strtol(mi, NULL, 10) : 0;
    const ps_item *start = n->oldest;
    if (max > 0) {
        start = n->newest;
        for (long k = 1; k < max && start && start->prev; k++)
            start = start->prev;
    }
    for (const ps_item *it = start; it; it = it->next)
        add_item(items, it);
}

static bool jid_ok(req *r, const char *jid_s)
{
    if (!jid_s) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", "jid-required", NULL);
        return false;
    }
    char *b = bare_of(jid_s);
    bool ok = !strcmp(b, r->bare);
    free(b);
    if (!ok)
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", "invalid-jid", NULL);
    return ok;
}

/* Subscriptions of bare (itself or its resources) on n. */
static size_t subs_of(const ps_node *n, const char *bare)
{
    size_t k = 0, len = strlen(bare);
    for (size_t i = 0; i < n->nsubs; i++)
        k += !strncmp(n->subs[i].jid, bare, len) &&
             (n->subs[i].jid[len] == 0 || n->subs[i].jid[len] == '/');
    return k;
}

static void do_subscribe(req *r)
{
    if (!r->set) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
        return;
    }
    const char *who = xnode_attr(r->op, "jid");
    if (!jid_ok(r, who))
        return;
    ps_node *n = need_node(r, xnode_attr(r->op, "node"));
    if (!n)
        return;
    ps_access_result a = ps_access_check(&n->cfg, &r->rel);
    if (a != PS_ACCESS_OK) {
        log_info("pubsub: %s may not subscribe to %s/%s (access model): refused", r->from,
                 r->j->host, n->name);
        r->out->reply = access_err(r->iq, a);
        return;
    }
    ps_host *h = ps_host_get(r->j->host, false);
    if (!ps_node_sub(n, who) && (subs_of(n, r->bare) >= PS_MAX_SUBS_PER_JID ||
                                 n->nsubs >= PS_MAX_SUBS_PER_NODE)) {
        log_info("pubsub: %s has too many subscriptions on %s/%s: refused", r->from, h->jid,
                 n->name);
        r->out->reply = err(r->iq, ERR_CANCEL, "not-allowed", "too-many-subscriptions", NULL);
        return;
    }
    ps_subent *s = ps_node_subscribe(n, who);
    ps_node_save(h, n);
    xnode *ps;
    r->out->reply = result_pubsub(r->iq, NS_PUBSUB, &ps);
    xnode *sub = xnode_add_child(ps, "subscription", NS_PUBSUB);
    xnode_set_attr(sub, "node", n->name);
    xnode_set_attr(sub, "jid", who);
    xnode_set_attr(sub, "subid", s->subid);
    xnode_set_attr(sub, "subscription", "subscribed");
    if (n->cfg.send_last != PS_SEND_NEVER && n->newest) {
        xnode *m = xnode_new("message", NS_CLIENT);
        xnode_set_attr(m, "from", h->jid);
        xnode_set_attr(m, "to", who);
        xnode_set_attr(m, "type", "headline");
        xnode_append(m, ps_event_items(n->name, n->newest, n->cfg.deliver_payloads));
        r->out->last_msg = m;
    }
}

static void do_unsubscribe(req *r)
{
    if (!r->set) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
        return;
    }
    const char *who = xnode_attr(r->op, "jid");
    if (!jid_ok(r, who))
        return;
    ps_node *n = need_node(r, xnode_attr(r->op, "node"));
    if (!n)
        return;
    if (!ps_node_unsubscribe(n, who)) {
        r->out->reply = err(r->iq, ERR_CANCEL, "unexpected-request", "not-subscribed", NULL);
        return;
    }
    ps_node_save(ps_host_get(r->j->host, false), n);
    r->out->reply = iq_result(r->iq);
}

/* subscriptions / affiliations of the requester (NS_PUBSUB get). */
static void do_mine(req *r, bool subs)
{
    if (r->set) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
        return;
    }
    const char *only = xnode_attr(r->op, "node");
    xnode *ps;
    r->out->reply = result_pubsub(r->iq, NS_PUBSUB, &ps);
    xnode *list = xnode_add_child(ps, subs ? "subscriptions" : "affiliations", NS_PUBSUB);
    ps_host *h = ps_host_get(r->j->host, false);
    size_t blen = strlen(r->bare);
    for (ps_node *n = h ? h->nodes : NULL; n; n = n->next) {
        if (only && strcmp(only, n->name))
            continue;
        if (subs) {
            for (size_t i = 0; i < n->nsubs; i++) {
                const char *jj = n->subs[i].jid;
                if (strncmp(jj, r->bare, blen) || (jj[blen] && jj[blen] != '/'))
                    continue;
                xnode *s = xnode_add_child(list, "subscription", NS_PUBSUB);
                xnode_set_attr(s, "node", n->name);
                xnode_set_attr(s, "jid", jj);
                xnode_set_attr(s, "subid", n->subs[i].subid);
                xnode_set_attr(s, "subscription", "subscribed");
            }
        } else {
            ps_aff a = ps_node_aff(n, r->bare);
            if (a == PS_AFF_NONE)
                continue;
            xnode *s = xnode_add_child(list, "affiliation", NS_PUBSUB);
            xnode_set_attr(s, "node", n->name);
            xnode_set_attr(s, "affiliation", ps_aff_name(a));
        }
    }
}

/* ---- owner use cases (pubsub#owner) ---- */

static ps_node *need_owner(req *r)
{
    ps_node *n = need_node(r, xnode_attr(r->op, "node"));
    if (n && !r->rel.owner && r->rel.aff != PS_AFF_OWNER) {
        log_info("pubsub: %s is no owner of %s/%s: forbidden", r->from, r->j->host, n->name);
        r->out->reply = err(r->iq, ERR_AUTH, "forbidden", NULL, NULL);
        return NULL;
    }
    return n;
}

static void do_configure(req *r)
{
    ps_node *n = need_owner(r);
    if (!n)
        return;
    if (!r->set) {
        xnode *ps;
        r->out->reply = result_pubsub(r->iq, NS_PUBSUB_OWNER, &ps);
        xnode *c = xnode_add_child(ps, "configure", NS_PUBSUB_OWNER);
        xnode_set_attr(c, "node", n->name);
        xnode_append(c, ps_config_form(&n->cfg, ps_limit_items()));
        return;
    }
    const xnode *x = xnode_child(r->op, "x", NS_XDATA);
    const char *bad;
    if (!x || ps_config_apply(&n->cfg, x, ps_limit_items(), false, &bad) != 0) {
        log_info("pubsub: %s configured %s/%s with a bad form: refused", r->from, r->j->host,
                 n->name);
        r->out->reply = err(r->iq, ERR_MODIFY, "not-acceptable", NULL, NULL);
        return;
    }
    ps_node_save(ps_host_get(r->j->host, false), n);
    r->out->reply = iq_result(r->iq);
}

static void do_default(req *r)
{
    ps_config cfg;
    ps_config_defaults(&cfg, r->j->pep, ps_limit_items());
    xnode *ps;
    r->out->reply = result_pubsub(r->iq, NS_PUBSUB_OWNER, &ps);
    xnode_append(xnode_add_child(ps, "default", NS_PUBSUB_OWNER),
                 ps_config_form(&cfg, ps_limit_items()));
    ps_config_clear(&cfg);
}

static void do_delete(req *r)
{
    if (!r->set) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
        return;
    }
    ps_node *n = need_owner(r);
    if (!n)
        return;
    ps_host *h = ps_host_get(r->j->host, false);
    if (n->cfg.notify_delete) {
        xnode *ev = xnode_new("event", NS_PUBSUB_EVENT);
        xnode_set_attr(xnode_add_child(ev, "delete", NS_PUBSUB_EVENT), "node", n->name);
        add_event(r->out, ps_event_new(h, n, ev));
    }
    ps_node_delete(h, n);
    r->out->reply = iq_result(r->iq);
}

static void do_purge(req *r)
{
    if (!r->set) {
        r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
        return;
    }
    ps_node *n = need_owner(r);
    if (!n)
        return;
    ps_host *h = ps_host_get(r->j->host, false);
    ps_node_purge(h, n);
    xnode *ev = xnode_new("event", NS_PUBSUB_EVENT);
    xnode_set_attr(xnode_add_child(ev, "purge", NS_PUBSUB_EVENT), "node", n->name);
    add_event(r->out, ps_event_new(h, n, ev));
    r->out->reply = iq_result(r->iq);
}

static void do_owner_list(req *r, bool subs)
{
    ps_node *n = need_owner(r);
    if (!n)
        return;
    ps_host *h = ps_host_get(r->j->host, false);
    if (r->set) {
        for (const xnode *c = xnode_first_element(r->op); c; c = xnode_next_element(c)) {
            const char *who = xnode_attr(c, "jid");
            const char *v = xnode_attr(c, subs ? "subscription" : "affiliation");
            ps_aff a;
            if (!who || !v || (!subs && ps_aff_parse(v, &a) != 0)) {
                r->out->reply = err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
                return;
            }
            if (subs && !strcmp(v, "none"))
                ps_node_unsubscribe(n, who);
            else if (subs && !strcmp(v, "subscribed"))
                ps_node_subscribe(n, who);
            else if (!subs) {
                char *b = bare_of(who);
                if (strcmp(b, n->owner))     /* the creator stays owner */
                    ps_node_set_aff(n, b, a);
                free(b);
            }
        }
        ps_node_save(h, n);
        r->out->reply = iq_result(r->iq);
        return;
    }
    xnode *ps;
    r->out->reply = result_pubsub(r->iq, NS_PUBSUB_OWNER, &ps);
    xnode *list = xnode_add_child(ps, subs ? "subscriptions" : "affiliations", NS_PUBSUB_OWNER);
    xnode_set_attr(list, "node", n->name);
    if (subs)
        for (size_t i = 0; i < n->nsubs; i++) {
            xnode *s = xnode_add_child(list, "subscription", NS_PUBSUB_OWNER);
            xnode_set_attr(s, "jid", n->subs[i].jid);
            xnode_set_attr(s, "subscription", "subscribed");
            xnode_set_attr(s, "subid", n->subs[i].subid);
        }
    else
        for (size_t i = 0; i < n->naffs; i++) {
            xnode *s = xnode_add_child(list, "affiliation", NS_PUBSUB_OWNER);
            xnode_set_attr(s, "jid", n->affs[i].jid);
            xnode_set_attr(s, "affiliation", ps_aff_name(n->affs[i].aff));
        }
}

static void dispatch(req *r)
{
    const char *op = r->op->name;
    bool owner_ns = !strcmp(r->pubsub->ns, NS_PUBSUB_OWNER);
    if (!owner_ns && !strcmp(op, "create"))
        do_create(r);
    else if (!owner_ns && !strcmp(op, "publish"))
        do_publish(r);
    else if (!owner_ns && !strcmp(op, "retract"))
        do_retract(r);
    else if (!owner_ns && !strcmp(op, "items"))
        do_items(r);
    else if (!owner_ns && !strcmp(op, "subscribe"))
        do_subscribe(r);
    else if (!owner_ns && !strcmp(op, "unsubscribe"))
        do_unsubscribe(r);
    else if (!owner_ns && !strcmp(op, "subscriptions"))
        do_mine(r, true);
    else if (!owner_ns && !strcmp(op, "affiliations"))
        do_mine(r, false);
    else if (owner_ns && !strcmp(op, "configure"))
        do_configure(r);
    else if (owner_ns && !strcmp(op, "default") && !r->set)
        do_default(r);
    else if (owner_ns && !strcmp(op, "delete"))
        do_delete(r);
    else if (owner_ns && !strcmp(op, "purge"))
        do_purge(r);
    else if (owner_ns && !strcmp(op, "subscriptions"))
        do_owner_list(r, true);
    else if (owner_ns && !strcmp(op, "affiliations"))
        do_owner_list(r, false);
    else if (!owner_ns && !strcmp(op, "options"))
        r->out->reply = err(r->iq, ERR_CANCEL, "feature-not-implemented", "unsupported",
                            "subscription-options");
    else
        r->out->reply = err(r->iq, ERR_CANCEL, "feature-not-implemented", NULL, NULL);
}

/* ---- the job ---- */

static void flush(ps_job *j, ps_out *o)
{
    send_reply(j, o->reply);
    for (int i = 0; i < o->nevents; i++)
        ps_notify(o->events[i]);
    if (o->last_msg)
        ps_route(j->pep, o->last_msg);
    if (o->hook)
        ps_hooks_fire(j->host, o->hook_node, o->hook_id, o->hook_payload, o->hook_retract);
    free(o->hook_node);
    free(o->hook_id);
    xnode_free(o->hook_payload);
}

static void run(void *ud);

/* The owner of the node the request is about (NULL: none yet); whether its
 * access model needs the owner's roster. Under ps_lock. */
static char *node_owner(const ps_job *j, const char *node, bool *roster)
{
    *roster = false;
    ps_node *n = node ? ps_node_get(ps_host_get(j->host, false), node) : NULL;
    if (!n)
        return j->pep ? xstrdup(j->host) : NULL;
    *roster = n->cfg.access == PEP_ACCESS_PRESENCE || n->cfg.access == PEP_ACCESS_ROSTER;
    return xstrdup(n->owner);
}

static void run(void *ud)
{
    ps_job *j = ud;
    const xnode *iq = j->iq;
    const char *from = xnode_attr(iq, "from");
    const char *type = xnode_attr(iq, "type");
    const xnode *pubsub = xnode_first_element(iq);
    const xnode *op = pubsub ? xnode_first_element(pubsub) : NULL;
    ps_out out = {0};
    if (!from || !type || !pubsub || strcmp(pubsub->name, "pubsub") || !op) {
        send_reply(j, err(iq, ERR_MODIFY, "bad-request", NULL, NULL));
        job_free(j);
        return;
    }
    const char *nattr = xnode_attr(op, "node");
    const xnode *it0 = xnode_child(op, "item", NULL);
    const char *iattr = it0 ? xnode_attr(it0, "id") : NULL;
    if ((nattr && strlen(nattr) > PS_NAME_MAX) || (iattr && strlen(iattr) > PS_NAME_MAX)) {
        log_info("pubsub: %s sent a node name or item id longer than %d bytes: refused", from,
                 PS_NAME_MAX);
        send_reply(j, err(iq, ERR_MODIFY, "not-acceptable", NULL, NULL));
        job_free(j);
        return;
    }
    char *bare = bare_of(from);
    bool need_roster;
    pthread_mutex_lock(&ps_lock);
    char *owner = node_owner(j, xnode_attr(op, "node"), &need_roster);
    pthread_mutex_unlock(&ps_lock);
    req r = { .j = j, .iq = iq, .pubsub = pubsub, .op = op, .from = from, .bare = bare,
              .set = !strcmp(type, "set"), .out = &out };
    char **groups = NULL;
    bool complete = owner ? ps_rel_compute(owner, bare, &r.rel, &groups) : true;
    if (!owner)
        memset(&r.rel, 0, sizeof r.rel);
    if (!complete && need_roster && !j->held && router_account(owner) && worker_self()) {
        /* the owner's roster is not cached: load it, then run again */
        log_debug("pubsub: loading the roster of %s to answer %s", owner, from);
        ps_groups_free(groups);
        j->held = acct_acquire(owner);
        free(owner);
        free(bare);
        acct_when_loaded(j->held, run, job_free, j);
        return;
    }
    free(owner);
    pthread_mutex_lock(&ps_lock);
    dispatch(&r);
    pthread_mutex_unlock(&ps_lock);
    ps_groups_free(groups);
    free(bare);
    flush(j, &out);
    job_free(j);
}

void ps_iq(session *s, xnode *iq, const char *host, bool pep)
{
    ps_job *j = xcalloc(1, sizeof *j);
    j->iq = iq;
    j->host = xstrdup(host);
    j->pep = pep;
    if (s) {
        j->has_session = true;
        j->sid = s->id;
    }
    run(j);
}

/* ---- the service's disco (XEP-0030 on pubsub.D) ---- */

static const char *const service_features[] = {
    NS_PUBSUB, "http://jabber.org/protocol/pubsub#publish",
    "http://jabber.org/protocol/pubsub#create-nodes",
    "http://jabber.org/protocol/pubsub#instant-nodes",
    "http://jabber.org/protocol/pubsub#auto-create",
    "http://jabber.org/protocol/pubsub#publish-options",
    "http://jabber.org/protocol/pubsub#persistent-items",
    "http://jabber.org/protocol/pubsub#retract-items",
    "http://jabber.org/protocol/pubsub#purge-nodes",
    "http://jabber.org/protocol/pubsub#delete-nodes",
    "http://jabber.org/protocol/pubsub#retrieve-items",
    "http://jabber.org/protocol/pubsub#subscribe",
    "http://jabber.org/protocol/pubsub#retrieve-subscriptions",
    "http://jabber.org/protocol/pubsub#retrieve-affiliations",
    "http://jabber.org/protocol/pubsub#manage-subscriptions",
    "http://jabber.org/protocol/pubsub#modify-affiliations",
    "http://jabber.org/protocol/pubsub#access-open",
    "http://jabber.org/protocol/pubsub#access-presence",
    "http://jabber.org/protocol/pubsub#access-roster",
    "http://jabber.org/protocol/pubsub#access-whitelist",
    "http://jabber.org/protocol/pubsub#config-node",
    "http://jabber.org/protocol/pubsub#create-and-configure",
    "http://jabber.org/protocol/pubsub#retrieve-default",
    "http://jabber.org/protocol/pubsub#item-ids",
    "http://jabber.org/protocol/pubsub#last-published",
    "http://jabber.org/protocol/pubsub#outcast-affiliation",
    "http://jabber.org/protocol/pubsub#publisher-affiliation",
    "http://jabber.org/protocol/pubsub#member-affiliation",
    NULL,
};

const char *const *ps_features(void) { return service_features; }

void ps_service_disco(xnode *iq, const char *host)
{
    const xnode *q = xnode_first_element(iq);
    const char *node = xnode_attr(q, "node");
    const char *type = xnode_attr(iq, "type");
    if (!type || strcmp(type, "get")) {
        router_route_service(err(iq, ERR_CANCEL, "feature-not-implemented", NULL, NULL));
        return;
    }
    bool info = !strcmp(q->ns, NS_DISCO_INFO);
    xnode *r = iq_result(iq);
    xnode *rq = xnode_add_child(r, "query", q->ns);
    if (node)
        xnode_set_attr(rq, "node", node);
    pthread_mutex_lock(&ps_lock);
    ps_host *h = ps_host_get(host, false);
    ps_node *n = node ? ps_node_get(h, node) : NULL;
    if (node && !n) {
        pthread_mutex_unlock(&ps_lock);
        xnode_free(r);
        router_route_service(err(iq, ERR_CANCEL, "item-not-found", NULL, NULL));
        return;
    }
    if (info) {
        xnode *id = xnode_add_child(rq, "identity", NS_DISCO_INFO);
        xnode_set_attr(id, "category", "pubsub");
        xnode_set_attr(id, "type", node ? "leaf" : "service");
        if (!node)
            xnode_set_attr(id, "name", "Publish-Subscribe");
        xnode_set_attr(xnode_add_child(rq, "feature", NS_DISCO_INFO), "var", NS_DISCO_INFO);
        xnode_set_attr(xnode_add_child(rq, "feature", NS_DISCO_INFO), "var", NS_DISCO_ITEMS);
        for (const char *const *f = service_features; *f; f++)
            xnode_set_attr(xnode_add_child(rq, "feature", NS_DISCO_INFO), "var", *f);
    } else if (!node) {
        for (ps_node *k = h ? h->nodes : NULL; k; k = k->next) {
            xnode *it = xnode_add_child(rq, "item", NS_DISCO_ITEMS);
            xnode_set_attr(it, "jid", host);
            xnode_set_attr(it, "node", k->name);
            if (k->cfg.title[0])
                xnode_set_attr(it, "name", k->cfg.title);
        }
    } else if (n->cfg.access == PEP_ACCESS_OPEN) {
        for (ps_item *it = n->oldest; it; it = it->next) {
            xnode *x = xnode_add_child(rq, "item", NS_DISCO_ITEMS);
            xnode_set_attr(x, "jid", host);
            xnode_set_attr(x, "name", it->id);
        }
    }
    pthread_mutex_unlock(&ps_lock);
    router_route_service(r);
}
