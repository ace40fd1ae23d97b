/* pubsub_api.c: pep.h, the engine's interface for other modules that
 * publish on an account's behalf, and its publish/retract hooks. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/pep.h"
#include "modules/pubsub_internal.h"
#include "xml/xml_fragment.h"

static pep_hook_fn hooks[PEP_MAX_HOOKS];
static int nhooks;

int pep_hook_add(pep_hook_fn fn)
{
    if (nhooks == PEP_MAX_HOOKS)
        return -1;
    hooks[nhooks++] = fn;
    return 0;
}

void ps_hooks_fire(const char *bare, const char *node, const char *item_id, const xnode *payload,
                   bool retract)
{
    for (int i = 0; i < nhooks; i++)
        hooks[i](bare, node, item_id, payload, retract);
}

bool pep_ready(void) { return ps_engine_loaded(); }

pep_status pep_publish(const char *bare, const char *node, const char *item_id,
                       const xnode *payload, pep_access access)
{
    if (!pubsub_enabled())
        return PEP_REFUSED;
    if (!bare || !strchr(bare, '@') || !node || !*node || !payload)
        return PEP_BAD;
    char *text = xml_to_string(payload, NULL);
    const config *c = config_current();
    if (strlen(text) > (size_t)c->pubsub_max_item_size) {
        free(text);
        return PEP_REFUSED;
    }
    pthread_mutex_lock(&ps_lock);
    ps_host *h = ps_host_get(bare, true);
    ps_node *n = ps_node_get(h, node);
    if (!n) {
        if (!pep_quota_exempt(node) && ps_owned_nodes(h, bare) >= (size_t)c->pubsub_max_nodes) {
            pthread_mutex_unlock(&ps_lock);
            free(text);
            log_info("pubsub: %s has %d nodes (plucs/pubsub/max_nodes): server publish on %s "
                     "refused", bare, c->pubsub_max_nodes, node);
            return PEP_REFUSED;
        }
        ps_config cfg;
        ps_config_defaults(&cfg, true, ps_limit_items());
        cfg.access = access;
        n = ps_node_create(h, node, bare, &cfg);
        ps_config_clear(&cfg);
    }
    ps_item *it = ps_item_publish(h, n, item_id, bare, text);
    free(text);
    char *id = xstrdup(it->id);
    ps_event *ev = ps_event_new(h, n, ps_event_items(node, it, n->cfg.deliver_payloads));
    pthread_mutex_unlock(&ps_lock);
    ps_notify(ev);
    ps_hooks_fire(bare, node, id, payload, false);
    free(id);
    return PEP_OK;
}

pep_status pep_retract(const char *bare, const char *node, const char *item_id)
{
    if (!bare || !node || !item_id)
        return PEP_BAD;
    pthread_mutex_lock(&ps_lock);
    ps_host *h = ps_host_get(bare, false);
    ps_node *n = ps_node_get(h, node);
    if (!n || !ps_item_retract(h, n, item_id)) {
        pthread_mutex_unlock(&ps_lock);
        return PEP_NOT_FOUND;
    }
    xnode *evx = ps_event_items(node, NULL, false);
    xnode_set_attr(xnode_add_child(xnode_first_element(evx), "retract", NS_PUBSUB_EVENT), "id",
                   item_id);
    ps_event *ev = ps_event_new(h, n, evx);
    pthread_mutex_unlock(&ps_lock);
    ps_notify(ev);
    ps_hooks_fire(bare, node, item_id, NULL, true);
    return PEP_OK;
}

pep_status pep_delete_if_empty(const char *bare, const char *node)
{
    if (!bare || !node)
        return PEP_BAD;
    pthread_mutex_lock(&ps_lock);
    ps_host *h = ps_host_get(bare, false);
    ps_node *n = ps_node_get(h, node);
    if (!n || n->nitems) {
        pthread_mutex_unlock(&ps_lock);
        return n ? PEP_REFUSED : PEP_NOT_FOUND;
    }
    ps_event *ev = NULL;
    if (n->cfg.notify_delete) {
        xnode *evx = xnode_new("event", NS_PUBSUB_EVENT);
        xnode_set_attr(xnode_add_child(evx, "delete", NS_PUBSUB_EVENT), "node", n->name);
        ev = ps_event_new(h, n, evx);
    }
    ps_node_delete(h, n);
    pthread_mutex_unlock(&ps_lock);
    if (ev)
        ps_notify(ev);
    return PEP_OK;
}

char **pep_accounts(void)
{
    pthread_mutex_lock(&ps_lock);
    char **v = ps_pep_hosts();
    pthread_mutex_unlock(&ps_lock);
    return v;
}

xnode *pep_last_item(const char *bare, const char *node, char **item_id)
{
    if (item_id)
        *item_id = NULL;
    if (!bare || !node)
        return NULL;
    char *text = NULL;
    pthread_mutex_lock(&ps_lock);
    ps_node *n = ps_node_get(ps_host_get(bare, false), node);
    if (n && n->newest) {
        text = xstrdup(n->newest->payload);
        if (item_id)
            *item_id = xstrdup(n->newest->id);
    }
    pthread_mutex_unlock(&ps_lock);
    xnode *p = text && *text ? xml_fragment_parse(text, strlen(text), NULL, 64) : NULL;
    free(text);
    return p;
}

void pep_disco_items(const char *bare, const char *requester, xnode *query)
{
    if (!bare || !requester || !query)
        return;
    const char *slash = strchr(requester, '/');
    char *rbare = slash ? xstrndup(requester, (size_t)(slash - requester)) : xstrdup(requester);
    ps_rel rel;
    char **groups;
    ps_rel_compute(bare, rbare, &rel, &groups);   /* roster not cached: seen as a stranger */
    pthread_mutex_lock(&ps_lock);
    ps_host *h = ps_host_get(bare, false);
    for (ps_node *n = h ? h->nodes : NULL; n; n = n->next) {
        rel.aff = ps_node_aff(n, rbare);
        if (ps_access_check(&n->cfg, &rel) != PS_ACCESS_OK)
            continue;
        xnode *it = xnode_add_child(query, "item", query->ns);
        xnode_set_attr(it, "jid", bare);
        xnode_set_attr(it, "node", n->name);
    }
    pthread_mutex_unlock(&ps_lock);
    ps_groups_free(groups);
    free(rbare);
}
