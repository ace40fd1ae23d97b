/* pubsub_disco.c: service discovery (XEP-0030) of the service pubsub.D:
 * identity pubsub/service and the features implemented, its nodes
 * (disco#items), a node's identity pubsub/leaf and, for open nodes, its
 * item ids. */
#include <stdlib.h>
#include <string.h>

#include "modules/disco.h"
#include "modules/pubsub_req.h"
#include "router/router.h"
#include "xmpp/stanza.h"

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

void ps_service_disco(xnode *iq, const char *host)
{
    const xnode *q = xnode_first_element(iq);
    const char *node = xnode_attr(q, "node");
    const char *type = xnode_attr(iq, "type");
    if (!type || strcmp(type, "get")) {
        router_route_service(ps_err(iq, ERR_CANCEL, "feature-not-implemented", NULL, NULL));
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
        router_route_service(ps_err(iq, ERR_CANCEL, "item-not-found", NULL, NULL));
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
