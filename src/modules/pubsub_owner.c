/* pubsub_owner.c: the owner use cases (XEP-0060 §8, pubsub#owner):
 * configure, default configuration, delete and purge with notifications,
 * subscriptions and affiliations management. Each runs under ps_lock and
 * fills r->out; only the node's owner gets past need_owner(). */
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

/* ---- owner use cases (pubsub#owner) ---- */

static ps_node *need_owner(req *r)
{
    ps_node *n = ps_need_node(r, xnode_attr(r->op, "node"));
    if (n && !r->rel.owner && r->rel.aff != PS_AFF_OWNER) {
        log_info("pubsub: %s is no owner of %s/%s: forbidden", r->from, r->j->host, n->name);
        r->out->reply = ps_err(r->iq, ERR_AUTH, "forbidden", NULL, NULL);
        return NULL;
    }
    return n;
}

void ps_do_configure(req *r)
{
    ps_node *n = need_owner(r);
    if (!n)
        return;
    if (!r->set) {
        xnode *ps;
        r->out->reply = ps_result_pubsub(r->iq, NS_PUBSUB_OWNER, &ps);
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
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "not-acceptable", NULL, NULL);
        return;
    }
    ps_node_save(ps_host_get(r->j->host, false), n);
    r->out->reply = iq_result(r->iq);
}

void ps_do_default(req *r)
{
    ps_config cfg;
    ps_config_defaults(&cfg, r->j->pep, ps_limit_items());
    xnode *ps;
    r->out->reply = ps_result_pubsub(r->iq, NS_PUBSUB_OWNER, &ps);
    xnode_append(xnode_add_child(ps, "default", NS_PUBSUB_OWNER),
                 ps_config_form(&cfg, ps_limit_items()));
    ps_config_clear(&cfg);
}

void ps_do_delete(req *r)
{
    if (!ps_need_set(r))
        return;
    ps_node *n = need_owner(r);
    if (!n)
        return;
    ps_host *h = ps_host_get(r->j->host, false);
    if (n->cfg.notify_delete) {
        xnode *ev = xnode_new("event", NS_PUBSUB_EVENT);
        xnode_set_attr(xnode_add_child(ev, "delete", NS_PUBSUB_EVENT), "node", n->name);
        ps_add_event(r->out, ps_event_new(h, n, ev));
    }
    ps_node_delete(h, n);
    r->out->reply = iq_result(r->iq);
}

void ps_do_purge(req *r)
{
    if (!ps_need_set(r))
        return;
    ps_node *n = need_owner(r);
    if (!n)
        return;
    ps_host *h = ps_host_get(r->j->host, false);
    ps_node_purge(h, n);
    xnode *ev = xnode_new("event", NS_PUBSUB_EVENT);
    xnode_set_attr(xnode_add_child(ev, "purge", NS_PUBSUB_EVENT), "node", n->name);
    ps_add_event(r->out, ps_event_new(h, n, ev));
    r->out->reply = iq_result(r->iq);
}

void ps_do_owner_list(req *r, bool subs)
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
                r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
                return;
            }
            if (subs && !strcmp(v, "none"))
                ps_node_unsubscribe(n, who);
            else if (subs && !strcmp(v, "subscribed"))
                ps_node_subscribe(n, who);
            else if (!subs) {
                char *b = ps_bare_of(who);
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
    r->out->reply = ps_result_pubsub(r->iq, NS_PUBSUB_OWNER, &ps);
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
