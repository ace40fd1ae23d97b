/* pubsub_items.c: the use cases of the pubsub namespace (XEP-0060 §6-7,
 * XEP-0223 publish-options, XEP-0163 auto-create): create, publish,
 * retract, items, subscribe, unsubscribe, the requester's subscriptions
 * and affiliations. Each runs under ps_lock and fills r->out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/pubsub_req.h"
#include "router/router.h"
#include "xml/xml_fragment.h"
#include "xmpp/stanza.h"

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

void ps_do_create(req *r)
{
    const char *name = xnode_attr(r->op, "node");
    char gen[40];
    if (!ps_need_set(r))
        return;
    if (!may_create(r->j, r->bare)) {
        log_info("pubsub: %s may not create nodes on %s: forbidden", r->from, r->j->host);
        r->out->reply = ps_err(r->iq, ERR_AUTH, "forbidden", NULL, NULL);
        return;
    }
    if (!name || !*name) {
        if (r->j->pep) {
            r->out->reply = ps_err(r->iq, ERR_MODIFY, "not-acceptable", "nodeid-required", NULL);
            return;
        }
        static _Atomic unsigned long long instant;
        snprintf(gen, sizeof gen, "instant-%llx-%llx", (unsigned long long)time(NULL),
                 ++instant);
        name = gen;
    }
    ps_host *h = ps_host_get(r->j->host, true);
    if (ps_node_get(h, name)) {
        r->out->reply = ps_err(r->iq, ERR_CANCEL, "conflict", NULL, NULL);
        return;
    }
    if (!(h->pep && pep_quota_exempt(name)) &&
        ps_owned_nodes(h, r->bare) >= (size_t)limit_nodes()) {
        log_info("pubsub: %s has %d nodes on %s (plucs/pubsub/max_nodes): create refused",
                 r->bare, limit_nodes(), r->j->host);
        r->out->reply = ps_err(r->iq, ERR_WAIT, "resource-constraint", NULL, NULL);
        return;
    }
    ps_config cfg;
    ps_config_defaults(&cfg, r->j->pep, ps_limit_items());
    const xnode *conf = xnode_child(r->pubsub, "configure", NS_PUBSUB);
    const xnode *x = conf ? xnode_child(conf, "x", NS_XDATA) : NULL;
    const char *bad;
    if (x && ps_config_apply(&cfg, x, ps_limit_items(), false, &bad) != 0) {
        log_info("pubsub: %s created node %s with a bad %s: refused", r->from, name, bad);
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "not-acceptable", NULL, NULL);
        ps_config_clear(&cfg);
        return;
    }
    ps_node_create(h, name, r->bare, &cfg);
    ps_config_clear(&cfg);
    xnode *ps;
    r->out->reply = ps_result_pubsub(r->iq, NS_PUBSUB, &ps);
    xnode_set_attr(xnode_add_child(ps, "create", NS_PUBSUB), "node", name);
}

void ps_do_publish(req *r)
{
    const char *name = xnode_attr(r->op, "node");
    if (!ps_need_set(r))
        return;
    if (!name || !*name) {
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", "nodeid-required", NULL);
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
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", "invalid-payload", NULL);
        return;
    }
    const xnode *payload = item ? xnode_first_element(item) : NULL;
    if (!item) {
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", "item-required", NULL);
        return;
    }
    if (!payload) {
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", "payload-required", NULL);
        return;
    }
    if (xnode_next_element(payload)) {
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", "invalid-payload", NULL);
        return;
    }
    char *text = xml_to_string(payload, NULL);
    size_t size = strlen(text);
    if (size > (size_t)limit_item_size()) {
        log_info("pubsub: %s published %zu bytes on %s/%s, more than plucs/pubsub/max_item_size "
                 "(%d): refused", r->from, size, r->j->host, name, limit_item_size());
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "not-acceptable", "payload-too-big", NULL);
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
            r->out->reply = r->j->pep ? ps_err(r->iq, ERR_AUTH, "forbidden", NULL, NULL)
                                      : ps_err(r->iq, ERR_CANCEL, "item-not-found", NULL, NULL);
            free(text);
            return;
        }
        if (!(h->pep && pep_quota_exempt(name)) &&
            ps_owned_nodes(h, r->bare) >= (size_t)limit_nodes()) {
            log_info("pubsub: %s has %d nodes on %s (plucs/pubsub/max_nodes): auto-create "
                     "refused", r->bare, limit_nodes(), r->j->host);
            r->out->reply = ps_err(r->iq, ERR_WAIT, "resource-constraint", NULL, NULL);
            free(text);
            return;
        }
        ps_config cfg;
        ps_config_defaults(&cfg, r->j->pep, ps_limit_items());
        if (x && ps_config_apply(&cfg, x, ps_limit_items(), false, &bad) != 0) {
            log_info("pubsub: %s: publish-options with a bad %s for new node %s: refused",
                     r->from, bad, name);
            r->out->reply = ps_err(r->iq, ERR_CANCEL, "conflict", "precondition-not-met", NULL);
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
            r->out->reply = ps_err(r->iq, ERR_AUTH, "forbidden", NULL, NULL);
            free(text);
            return;
        }
        if (x && !ps_config_matches(&n->cfg, x, ps_limit_items(), &bad)) {
            log_info("pubsub: %s: publish-options precondition %s not met on %s/%s", r->from,
                     bad, r->j->host, name);
            r->out->reply = ps_err(r->iq, ERR_CANCEL, "conflict", "precondition-not-met", NULL);
            free(text);
            return;
        }
    }
    ps_item *it = ps_item_publish(h, n, xnode_attr(item, "id"), r->bare, text);
    free(text);
    xnode *ps;
    r->out->reply = ps_result_pubsub(r->iq, NS_PUBSUB, &ps);
    xnode *pub = xnode_add_child(ps, "publish", NS_PUBSUB);
    xnode_set_attr(pub, "node", name);
    xnode_set_attr(xnode_add_child(pub, "item", NS_PUBSUB), "id", it->id);
    ps_add_event(r->out, ps_event_new(h, n, ps_event_items(name, it, n->cfg.deliver_payloads)));
    if (h->pep) {
        r->out->hook = true;
        r->out->hook_node = xstrdup(name);
        r->out->hook_id = xstrdup(it->id);
        r->out->hook_payload = xnode_copy(payload);
    }
}


static bool truthy(const char *v) { return v && (!strcmp(v, "1") || !strcmp(v, "true")); }

void ps_do_retract(req *r)
{
    if (!ps_need_set(r))
        return;
    ps_node *n = ps_need_node(r, xnode_attr(r->op, "node"));
    if (!n)
        return;
    const xnode *item = xnode_child(r->op, "item", NS_PUBSUB);
    const char *id = item ? xnode_attr(item, "id") : NULL;
    if (!id || !*id) {
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", "item-required", NULL);
        return;
    }
    if (!ps_may_publish(&n->cfg, &r->rel)) {
        log_info("pubsub: %s may not retract on %s/%s: forbidden", r->from, r->j->host, n->name);
        r->out->reply = ps_err(r->iq, ERR_AUTH, "forbidden", NULL, NULL);
        return;
    }
    ps_host *h = ps_host_get(r->j->host, false);
    if (!ps_item_retract(h, n, id)) {
        r->out->reply = ps_err(r->iq, ERR_CANCEL, "item-not-found", NULL, NULL);
        return;
    }
    r->out->reply = iq_result(r->iq);
    const char *notify = xnode_attr(r->op, "notify");
    if (notify ? truthy(notify) : n->cfg.notify_retract) {
        xnode *ev = ps_event_items(n->name, NULL, false);
        xnode_set_attr(xnode_add_child(xnode_first_element(ev), "retract", NS_PUBSUB_EVENT), "id",
                       id);
        ps_add_event(r->out, ps_event_new(h, n, ev));
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

void ps_do_items(req *r)
{
    if (r->set) {
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
        return;
    }
    ps_node *n = ps_need_node(r, xnode_attr(r->op, "node"));
    if (!n)
        return;
    ps_access_result a = ps_access_check(&n->cfg, &r->rel);
    if (a != PS_ACCESS_OK) {
        log_info("pubsub: %s may not read %s/%s (access model): refused", r->from, r->j->host,
                 n->name);
        r->out->reply = ps_access_err(r->iq, a);
        return;
    }
    xnode *ps;
    r->out->reply = ps_result_pubsub(r->iq, NS_PUBSUB, &ps);
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
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", "jid-required", NULL);
        return false;
    }
    char *b = ps_bare_of(jid_s);
    bool ok = !strcmp(b, r->bare);
    free(b);
    if (!ok)
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", "invalid-jid", NULL);
    return ok;
}

/* The node of a subscribe/unsubscribe set whose jid='..' (*who) is the
 * requester's, or NULL after answering. */
static ps_node *sub_node(req *r, const char **who)
{
    if (!ps_need_set(r))
        return NULL;
    *who = xnode_attr(r->op, "jid");
    if (!jid_ok(r, *who))
        return NULL;
    return ps_need_node(r, xnode_attr(r->op, "node"));
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

void ps_do_subscribe(req *r)
{
    const char *who;
    ps_node *n = sub_node(r, &who);
    if (!n)
        return;
    ps_access_result a = ps_access_check(&n->cfg, &r->rel);
    if (a != PS_ACCESS_OK) {
        log_info("pubsub: %s may not subscribe to %s/%s (access model): refused", r->from,
                 r->j->host, n->name);
        r->out->reply = ps_access_err(r->iq, a);
        return;
    }
    ps_host *h = ps_host_get(r->j->host, false);
    if (!ps_node_sub(n, who) && (subs_of(n, r->bare) >= PS_MAX_SUBS_PER_JID ||
                                 n->nsubs >= PS_MAX_SUBS_PER_NODE)) {
        log_info("pubsub: %s has too many subscriptions on %s/%s: refused", r->from, h->jid,
                 n->name);
        r->out->reply = ps_err(r->iq, ERR_CANCEL, "not-allowed", "too-many-subscriptions", NULL);
        return;
    }
    ps_subent *s = ps_node_subscribe(n, who);
    ps_node_save(h, n);
    xnode *ps;
    r->out->reply = ps_result_pubsub(r->iq, NS_PUBSUB, &ps);
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

void ps_do_unsubscribe(req *r)
{
    const char *who;
    ps_node *n = sub_node(r, &who);
    if (!n)
        return;
    if (!ps_node_unsubscribe(n, who)) {
        r->out->reply = ps_err(r->iq, ERR_CANCEL, "unexpected-request", "not-subscribed", NULL);
        return;
    }
    ps_node_save(ps_host_get(r->j->host, false), n);
    r->out->reply = iq_result(r->iq);
}

/* subscriptions / affiliations of the requester (NS_PUBSUB get). */
void ps_do_mine(req *r, bool subs)
{
    if (r->set) {
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
        return;
    }
    const char *only = xnode_attr(r->op, "node");
    xnode *ps;
    r->out->reply = ps_result_pubsub(r->iq, NS_PUBSUB, &ps);
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
