/* mod_carbons.c: message carbons (XEP-0280, urn:xmpp:carbons:2): copies of
 * one-to-one chats to every resource of the account that asked for them.
 *
 * A resource turns carbons on or off with an iq set <enable/>/<disable/>;
 * the flag lives in its routing entry (routes_set_carbons), so the worker
 * of any sender sees it. On EV_MESSAGE_ROUTED (once per message, after the
 * policy stage) an eligible message (carbons_rules.h) yields:
 *  - <sent/> copies for the sender's other enabled resources (a message
 *    from a local session);
 *  - <received/> copies for the recipient's enabled resources that do not
 *    get the message itself (a message to a local account): for a full
 *    JID that is bound, all but that one; otherwise (bare JID, or a gone
 *    resource the router treats as the bare JID) all but the resources the
 *    router picks (routes_pick_top, or every available non-negative one for
 *    an error), mirroring router.c deliver_bare.
 * A message between two resources of one account yields only <sent/>
 * copies, to the resources that are neither its sender nor its recipients,
 * so no resource sees it twice.
 *
 * Forged carbons: a carbon is only trusted by a client when its 'from' is
 * the client's own bare JID (XEP-0280 §11). Copies made here carry that
 * 'from'; a message from anyone else that carries <sent/>/<received/> is
 * delivered as is (never carbon-copied itself): it is the client's duty to
 * ignore it, as the XEP requires, and the server stamps the true 'from' of
 * every stanza, so a contact cannot pose as the account itself.
 *
 * Messages to a service domain (MUC) do not pass EV_MESSAGE_ROUTED: a
 * private message to an occupant (an eligible message to a full JID of a
 * service domain) gets its <sent/> copies on EV_OUTBOUND instead; the
 * room's private messages to a local user get <received/> copies like any
 * message; groupchat never. */
#include "modules/carbons_rules.h"
#include "modules/module.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "metrics/metrics.h"
#include "router/router.h"
#include "router/routes.h"
#include "router/services.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

static void carbons_iq(session *s, const xnode *iq, const xnode *payload)
{
    const char *type = xnode_attr(iq, "type");
    const char *to = xnode_attr(iq, "to");
    if (!s->bare || s->remote || !s->bound) {
        session_send_free(s, stanza_error_reply(iq, ERR_AUTH, "forbidden", NULL));
        return;
    }
    if (to && strcmp(to, s->bare) && strcmp(to, s->domain)) {
        session_send_free(s, stanza_error_reply(iq, ERR_AUTH, "forbidden", NULL));
        return;
    }
    bool on = !strcmp(payload->name, "enable");
    if (!type || strcmp(type, "set") || (!on && strcmp(payload->name, "disable"))) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    routes_set_carbons(s->bare, s->id, on);
    log_debug("carbons: %s %s", s->full, on ? "enabled" : "disabled");
    session_send_free(s, iq_result(iq));
}

static bool excluded(uint64_t sid, const uint64_t *skip, size_t nskip)
{
    for (size_t i = 0; i < nskip; i++)
        if (skip[i] == sid)
            return true;
    return false;
}

/* Copies msg to every carbons-enabled resource of bare except skip. */
static void copy_to(const char *bare, const route_ref *refs, size_t n, const uint64_t *skip,
                    size_t nskip, const xnode *msg, bool sent)
{
    for (size_t i = 0; i < n; i++) {
        if (!refs[i].carbons || excluded(refs[i].sid, skip, nskip))
            continue;
        router_deliver_ref(&refs[i], carbons_wrap(msg, bare, sent));
        metrics_carbon(sent);
    }
}

/* The sessions of bare (refs) that receive a message addressed to `to`
 * themselves, as router.c delivers it; appended to skip. */
static size_t direct_recipients(const char *bare, const jid *to, const route_ref *refs, size_t n,
                                const char *type, uint64_t *skip, size_t nskip)
{
    route_ref r;
    if (to->resource && routes_find(bare, to->resource, &r)) {
        skip[nskip++] = r.sid;
        return nskip;
    }
    if (!strcmp(type, "error")) {
        for (size_t i = 0; i < n; i++)
            if (refs[i].available && refs[i].priority >= 0)
                skip[nskip++] = refs[i].sid;
        return nskip;
    }
    size_t top[ROUTES_MAX_RESOURCES];
    size_t k = routes_pick_top(refs, n, top);
    for (size_t i = 0; i < k; i++)
        skip[nskip++] = refs[top[i]].sid;
    return nskip;
}

static hook_result carbons_routed(session *s, xnode *st)
{
    if (!carbons_eligible(st))
        return HOOK_CONTINUE;
    const char *type = xnode_attr(st, "type");
    if (!type || !*type)
        type = "normal";
    const char *sender = s && !s->remote && s->bound ? s->bare : NULL;

    const char *to_s = xnode_attr(st, "to");
    jid to;
    char *to_bare = NULL;
    if (to_s && jid_parse(to_s, &to) == 0) {
        if (to.node && router_account((to_bare = jid_bare_string(&to))) == NULL) {
            free(to_bare);   /* a remote or unknown account: no received copies */
            to_bare = NULL;
        }
    } else {
        return HOOK_CONTINUE;
    }

    route_ref refs[ROUTES_MAX_RESOURCES];
    uint64_t skip[ROUTES_MAX_RESOURCES + 1];
    if (sender && to_bare && !strcmp(sender, to_bare)) {
        /* to oneself: sent copies to the resources not already in it */
        size_t n = router_resources(sender, refs, ROUTES_MAX_RESOURCES);
        skip[0] = s->id;
        size_t nskip = direct_recipients(to_bare, &to, refs, n, type, skip, 1);
        copy_to(sender, refs, n, skip, nskip, st, true);
    } else {
        if (sender) {
            size_t n = router_resources(sender, refs, ROUTES_MAX_RESOURCES);
            skip[0] = s->id;
            copy_to(sender, refs, n, skip, 1, st, true);
        }
        if (to_bare) {
            size_t n = router_resources(to_bare, refs, ROUTES_MAX_RESOURCES);
            size_t nskip = direct_recipients(to_bare, &to, refs, n, type, skip, 0);
            copy_to(to_bare, refs, n, skip, nskip, st, false);
        }
    }
    free(to_bare);
    jid_clear(&to);
    return HOOK_CONTINUE;
}

/* A private message to a MUC occupant (see the top). */
static hook_result carbons_outbound(session *s, xnode *st)
{
    if (!st->name || strcmp(st->name, "message") || !s->bound || s->remote)
        return HOOK_CONTINUE;
    const char *to_s = xnode_attr(st, "to");
    jid to;
    if (!to_s || jid_parse(to_s, &to) != 0)
        return HOOK_CONTINUE;
    if (to.resource && router_service(to.domain) && carbons_eligible(st)) {
        route_ref refs[ROUTES_MAX_RESOURCES];
        size_t n = router_resources(s->bare, refs, ROUTES_MAX_RESOURCES);
        copy_to(s->bare, refs, n, &s->id, 1, st, true);
    }
    jid_clear(&to);
    return HOOK_CONTINUE;
}

static void carbons_init(void)
{
    module_register_iq(NS_CARBONS, carbons_iq);
    module_add_feature(NS_CARBONS);
    module_add_account_feature(NS_CARBONS, NULL);
    module_hook_stanza(EV_MESSAGE_ROUTED, carbons_routed);
    module_hook_stanza(EV_OUTBOUND, carbons_outbound);
}

const module mod_carbons = {
    .name = "carbons",
    .init = carbons_init,
};
