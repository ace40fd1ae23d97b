/* mod_version.c: XEP-0092 software version of the server: name PLUCS and
 * the release from core/version.h; no <os/> (nothing a client needs, and
 * one less detail to hand an attacker). A query to an account's bare JID
 * is not answered on the user's behalf (service-unavailable); one to a
 * full JID never gets here, the router hands it to that client. */
#include <string.h>

#include "core/version.h"
#include "modules/module.h"
#include "xmpp/stanza.h"

#define NS_VERSION "jabber:iq:version"

static void version_iq(session *s, const xnode *iq, const xnode *payload)
{
    const char *type = xnode_attr(iq, "type");
    const char *to = xnode_attr(iq, "to");
    if (to && strchr(to, '@')) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "service-unavailable", NULL));
        return;
    }
    if (!type || strcmp(type, "get") || strcmp(payload->name, "query")) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    xnode *r = iq_result(iq);
    xnode *q = xnode_add_child(r, "query", NS_VERSION);
    xnode *name = xnode_add_child(q, "name", NS_VERSION);
    xnode_add_text(name, PLUCS_NAME, strlen(PLUCS_NAME));
    xnode *ver = xnode_add_child(q, "version", NS_VERSION);
    xnode_add_text(ver, PLUCS_VERSION, strlen(PLUCS_VERSION));
    session_send_free(s, r);
}

static void version_init(void)
{
    module_register_iq(NS_VERSION, version_iq);
    module_allow_remote(NS_VERSION);   /* remote requesters too */
    module_add_feature(NS_VERSION);
}

const module mod_version = {
    .name = "version",
    .init = version_init,
};
