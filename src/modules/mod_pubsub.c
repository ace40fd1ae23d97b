/* mod_pubsub.c: publish-subscribe (XEP-0060) at pubsub.DOMAIN and personal
 * eventing (XEP-0163) on every account. The descriptor wires the engine
 * (pubsub_engine.c, pubsub_iq.c, pubsub_notify.c, pubsub_caps.c) to the
 * core: the service domain (router_add_service, like mod_muc's
 * conference.D), iqs in the pubsub namespaces to an account's bare JID
 * (EV_SERVER_IQ dispatch), clients' presence for entity capabilities
 * (EV_OUTBOUND) and last-item delivery (EV_AVAILABLE), the answers to the
 * server's disco#info queries (EV_SERVER_IQ_REPLY), disco features, and the
 * counters of `plucs status` and /metrics. plucs/pubsub off: no service, no
 * PEP, nothing advertised. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/disco.h"
#include "modules/module.h"
#include "modules/service_host.h"
#include "modules/pubsub_internal.h"
#include "router/router.h"
#include "router/services.h"
#include "xmpp/stanza.h"

bool pubsub_enabled(void)
{
    const config *c = config_current();
    return c && c->pubsub;
}

static const char *host_fmt(const config *c)
{
    return c->pubsub_host ? c->pubsub_host : "pubsub.%s";
}

char *pubsub_service_host(const char *d)
{
    const config *c = config_current();
    if (!c || !c->pubsub || !d)
        return NULL;
    return service_host_expand(host_fmt(c), d);
}

static bool service_match(const char *domain)
{
    const config *c = config_current();
    return c && c->pubsub && service_host_match(host_fmt(c), domain);
}

/* A stanza for pubsub.D (ownership passes). */
static void service_stanza(xnode *st)
{
    const char *type = xnode_attr(st, "type");
    const char *to = xnode_attr(st, "to");
    if (stanza_kind_of(st) != STANZA_IQ || !type || !to || strchr(to, '@') ||
        (strcmp(type, "get") && strcmp(type, "set"))) {
        if (stanza_kind_of(st) == STANZA_MESSAGE && (!type || strcmp(type, "error")))
            router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
        xnode_free(st);
        return;
    }
    const xnode *q = xnode_first_element(st);
    if (q && (!strcmp(q->ns, NS_DISCO_INFO) || !strcmp(q->ns, NS_DISCO_ITEMS)) &&
        !strcmp(q->name, "query")) {
        ps_service_disco(st, to);
        xnode_free(st);
        return;
    }
    if (q && (!strcmp(q->ns, NS_PUBSUB) || !strcmp(q->ns, NS_PUBSUB_OWNER))) {
        char *host = xstrdup(to);
        ps_iq(NULL, st, host, false);
        free(host);
        return;
    }
    router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
    xnode_free(st);
}

/* An iq in a pubsub namespace to the server or an account's bare JID. */
static void pep_iq(session *s, const xnode *iq, const xnode *payload)
{
    (void)payload;
    const char *to = xnode_attr(iq, "to");
    if (!to)
        to = s->bare;
    if (!pubsub_enabled() || !to || !strchr(to, '@') || strchr(to, '/') ||
        !router_account(to)) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "service-unavailable", NULL));
        return;
    }
    xnode *copy = xnode_copy(iq);
    xnode_set_attr(copy, "to", to);
    if (!xnode_attr(copy, "from") && s->full)
        xnode_set_attr(copy, "from", s->full);
    if (!xnode_attr(copy, "from")) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        xnode_free(copy);
        return;
    }
    char *host = xstrdup(to);
    ps_iq(s, copy, host, true);
    free(host);
}

static hook_result outbound(session *s, xnode *st)
{
    if (pubsub_enabled() && stanza_kind_of(st) == STANZA_PRESENCE && !xnode_attr(st, "to"))
        ps_caps_presence(s, st);
    return HOOK_CONTINUE;
}

/* EV_INBOUND: a remote contact's presence reaching a local session is how
 * the server learns remote clients' caps (EV_REMOTE_PRESENCE belongs to
 * mod_presence, which ends it). */
static hook_result inbound(session *s, xnode *st)
{
    if (!pubsub_enabled() || !s->bare || stanza_kind_of(st) != STANZA_PRESENCE)
        return HOOK_CONTINUE;
    const char *from = xnode_attr(st, "from");
    const char *at = from ? strchr(from, '@') : NULL;
    const char *slash = at ? strchr(at, '/') : NULL;
    if (!slash || slash - at - 1 >= 1024)
        return HOOK_CONTINUE;
    char domain[1024];
    memcpy(domain, at + 1, (size_t)(slash - at - 1));
    domain[slash - at - 1] = 0;
    if (router_serves(domain))
        return HOOK_CONTINUE;        /* local clients announce theirs (EV_OUTBOUND) */
    if (ps_caps_remote_presence(from, s->bare, s->domain, st))
        ps_send_last_items_of(s->bare, from);
    return HOOK_CONTINUE;
}

static void available(session *s)
{
    if (pubsub_enabled() && s->full && ps_caps_known(s->full))
        ps_send_last_items(s->full);
}

static void ended(session *s)
{
    if (s->full)
        ps_caps_forget(s->full, s->id);
}

static hook_result reply(session *s, xnode *st) { return ps_caps_reply(s, st); }

static const char *const account_features[] = {
    NS_PUBSUB,
    "http://jabber.org/protocol/pubsub#publish",
    "http://jabber.org/protocol/pubsub#auto-create",
    "http://jabber.org/protocol/pubsub#create-nodes",
    "http://jabber.org/protocol/pubsub#publish-options",
    "http://jabber.org/protocol/pubsub#persistent-items",
    "http://jabber.org/protocol/pubsub#retract-items",
    "http://jabber.org/protocol/pubsub#purge-nodes",
    "http://jabber.org/protocol/pubsub#delete-nodes",
    "http://jabber.org/protocol/pubsub#retrieve-items",
    "http://jabber.org/protocol/pubsub#subscribe",
    "http://jabber.org/protocol/pubsub#retrieve-subscriptions",
    "http://jabber.org/protocol/pubsub#retrieve-affiliations",
    "http://jabber.org/protocol/pubsub#access-open",
    "http://jabber.org/protocol/pubsub#access-presence",
    "http://jabber.org/protocol/pubsub#access-roster",
    "http://jabber.org/protocol/pubsub#access-whitelist",
    "http://jabber.org/protocol/pubsub#config-node",
    "http://jabber.org/protocol/pubsub#last-published",
    "http://jabber.org/protocol/pubsub#item-ids",
    "http://jabber.org/protocol/pubsub#filtered-notifications",
    "http://jabber.org/protocol/pubsub#presence-notifications",
};

static void pubsub_init(void)
{
    ps_engine_load();
    module_register_iq(NS_PUBSUB, pep_iq);
    module_allow_remote(NS_PUBSUB);      /* contacts elsewhere read PEP by the access model */
    module_register_iq(NS_PUBSUB_OWNER, pep_iq);
    for (size_t i = 0; i < sizeof account_features / sizeof account_features[0]; i++)
        module_add_account_feature(account_features[i], pubsub_enabled);
    module_hook_stanza(EV_OUTBOUND, outbound);
    module_hook_stanza(EV_INBOUND, inbound);
    module_hook_stanza(EV_SERVER_IQ_REPLY, reply);
    module_hook_session(EV_AVAILABLE, available);
    module_hook_session(EV_ENDED, ended);
    if (router_add_service(service_match, service_stanza) != 0)
        log_warn("pubsub: the router's service table is full; no pubsub service");
}

static void pubsub_shutdown(void)
{
    ps_caps_free();
    ps_engine_free();
}

/* `plucs status` and /metrics (weak in control_status.c / metrics.c). */
void pubsub_status_lines(buf *out);
void pubsub_metrics_lines(buf *out);

void pubsub_status_lines(buf *out)
{
    buf_printf(out, "pubsub/nodes: %llu\n", (unsigned long long)ps_count_nodes());
    buf_printf(out, "pubsub/items: %llu\n", (unsigned long long)ps_count_items());
}

void pubsub_metrics_lines(buf *out)
{
    buf_printf(out, "# HELP plucs_pubsub_nodes PubSub and PEP nodes (XEP-0060, XEP-0163).\n"
                    "# TYPE plucs_pubsub_nodes gauge\nplucs_pubsub_nodes %llu\n"
                    "# HELP plucs_pubsub_items Items kept in PubSub and PEP nodes.\n"
                    "# TYPE plucs_pubsub_items gauge\nplucs_pubsub_items %llu\n"
                    "# HELP plucs_pubsub_caps_queries_total disco#info queries sent to learn "
                    "clients' entity capabilities (XEP-0115).\n"
                    "# TYPE plucs_pubsub_caps_queries_total counter\n"
                    "plucs_pubsub_caps_queries_total %llu\n",
               (unsigned long long)ps_count_nodes(), (unsigned long long)ps_count_items(),
               (unsigned long long)ps_caps_queries());
}

const module mod_pubsub = {
    .name = "pubsub",
    .init = pubsub_init,
    .shutdown = pubsub_shutdown,
};
