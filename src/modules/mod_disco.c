/* mod_disco.c: XEP-0030 service discovery on the server JID: identity
 * server/im and the features modules registered (the same answer for the
 * XEP-0115 caps node, see caps.h). Items: the domain's MUC and upload
 * services. A bare
 * JID query answers the account identity. Other nodes of the server JID are
 * answered by the module that registered them (disco_add_node_handler). */
#include "modules/caps.h"
#include "modules/disco.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/module.h"
#include "modules/muc.h"
#include "modules/upload.h"
#include "modules/pep.h"
#include "xmpp/stanza.h"

#include <stdlib.h>
#include <string.h>

static struct {
    disco_node_fn info, items;
} node_handlers[DISCO_MAX_NODES];
static size_t nnode_handlers;

void disco_add_node_handler(disco_node_fn info, disco_node_fn items)
{
    if (nnode_handlers < DISCO_MAX_NODES) {
        node_handlers[nnode_handlers].info = info;
        node_handlers[nnode_handlers].items = items;
        nnode_handlers++;
    } else {
        log_err("disco: more than %d node handlers; one is ignored", DISCO_MAX_NODES);
    }
}

/* A registered module's answer for node of the server JID to: the result
 * iq, or NULL when no module takes the node. */
static xnode *node_answer(session *s, const xnode *iq, const char *to, const char *node,
                          bool info)
{
    xnode *r = iq_result(iq);
    xnode *q = xnode_add_child(r, "query", info ? NS_DISCO_INFO : NS_DISCO_ITEMS);
    xnode_set_attr(q, "node", node);
    for (size_t i = 0; i < nnode_handlers; i++) {
        disco_node_fn fn = info ? node_handlers[i].info : node_handlers[i].items;
        if (fn && fn(s, to, node, q))
            return r;
    }
    xnode_free(r);
    return NULL;
}

xnode *disco_server_info(void)
{
    xnode *q = xnode_new("query", NS_DISCO_INFO);
    xnode *id = xnode_add_child(q, "identity", NS_DISCO_INFO);
    xnode_set_attr(id, "category", "server");
    xnode_set_attr(id, "type", "im");
    xnode_set_attr(id, "name", "PLUCS");
    xnode_set_attr(xnode_add_child(q, "feature", NS_DISCO_INFO), "var", NS_DISCO_INFO);
    xnode_set_attr(xnode_add_child(q, "feature", NS_DISCO_INFO), "var", NS_DISCO_ITEMS);
    size_t n;
    const char *const *f = module_features(&n);
    for (size_t i = 0; i < n; i++)
        xnode_set_attr(xnode_add_child(q, "feature", NS_DISCO_INFO), "var", f[i]);
    return q;
}

static void disco_info(session *s, const xnode *iq, const xnode *payload)
{
    const char *type = xnode_attr(iq, "type");
    if (!type || strcmp(type, "get")) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "feature-not-implemented", NULL));
        return;
    }
    const char *to = xnode_attr(iq, "to");
    bool account = to && strchr(to, '@');
    const char *node = xnode_attr(payload, "node");
    if (node && !account && !caps_node_is_current(node)) {
        xnode *r = node_answer(s, iq, to ? to : s->domain, node, true);
        if (r) {
            session_send_free(s, r);
            return;
        }
    }
    if (node && (account || !caps_node_is_current(node))) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "item-not-found", NULL));
        return;
    }
    xnode *r = iq_result(iq);
    if (!account) {
        /* also for the entity capabilities node (XEP-0115 §6.2) */
        xnode *q = disco_server_info();
        xnode_set_attr(q, "node", node);
        xnode_append(r, q);
        session_send_free(s, r);
        return;
    }
    xnode *q = xnode_add_child(r, "query", NS_DISCO_INFO);
    xnode *id = xnode_add_child(q, "identity", NS_DISCO_INFO);
    xnode_set_attr(id, "category", "account");
    xnode_set_attr(id, "type", "registered");
    if (pubsub_enabled()) {      /* XEP-0163 §6.1: the account is a PEP service */
        xnode *pep = xnode_add_child(q, "identity", NS_DISCO_INFO);
        xnode_set_attr(pep, "category", "pubsub");
        xnode_set_attr(pep, "type", "pep");
    }
    xnode_set_attr(xnode_add_child(q, "feature", NS_DISCO_INFO), "var", NS_DISCO_INFO);
    size_t n;
    const char *const *f = module_account_features(&n);
    for (size_t i = 0; i < n; i++)
        xnode_set_attr(xnode_add_child(q, "feature", NS_DISCO_INFO), "var", f[i]);
    session_send_free(s, r);
}

/* One <item/> of disco#items for a service address (taken; NULL when the
 * service is off). */
static void add_service(xnode *q, char *addr, const char *name)
{
    if (!addr)
        return;
    xnode *it = xnode_add_child(q, "item", NS_DISCO_ITEMS);
    xnode_set_attr(it, "jid", addr);
    xnode_set_attr(it, "name", name);
    free(addr);
}

static void disco_items(session *s, const xnode *iq, const xnode *payload)
{
    const char *type = xnode_attr(iq, "type");
    if (!type || strcmp(type, "get")) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "feature-not-implemented", NULL));
        return;
    }
    xnode *r = iq_result(iq);
    xnode *q = xnode_add_child(r, "query", NS_DISCO_ITEMS);
    const char *to = xnode_attr(iq, "to");
    const char *from = xnode_attr(iq, "from") ? xnode_attr(iq, "from") : s->full;
    if (to && strchr(to, '@') && !strchr(to, '/') && pubsub_enabled() && from &&
        !xnode_attr(payload, "node")) {
        pep_disco_items(to, from, q);     /* an account: its PEP nodes (XEP-0163) */
        session_send_free(s, r);
        return;
    }
    /* the server's services of this domain (not of an account) */
    const char *domain = to && !strchr(to, '@') && !strchr(to, '/') ? to : s->domain;
    const char *node = xnode_attr(payload, "node");
    if (domain && node && !(to && (strchr(to, '@') || strchr(to, '/')))) {
        xnode *nr = node_answer(s, iq, domain, node, false);
        if (nr) {
            xnode_free(r);
            session_send_free(s, nr);
            return;
        }
    }
    if (domain && !(to && strchr(to, '@')) && !xnode_attr(payload, "node")) {
        add_service(q, muc_service_host(domain), "Chatrooms");
        add_service(q, pubsub_service_host(domain), "Publish-Subscribe");
        add_service(q, upload_service_host(domain), "HTTP File Upload");
    }
    session_send_free(s, r);
}

static void disco_init(void)
{
    module_register_iq(NS_DISCO_INFO, disco_info);
    module_allow_remote(NS_DISCO_INFO);   /* remote requesters too */
    module_register_iq(NS_DISCO_ITEMS, disco_items);
    module_allow_remote(NS_DISCO_ITEMS);   /* remote requesters too */
}

const module mod_disco = {
    .name = "disco",
    .init = disco_init,
};
