/* mod_ping.c: XEP-0199 XMPP Ping; answers pings to the server and, on the
 * user's behalf, to a bare JID. */
#include "modules/module.h"
#include "xmpp/stanza.h"

#include <string.h>

#define NS_PING "urn:xmpp:ping"

static void ping_iq(session *s, const xnode *iq, const xnode *payload)
{
    const char *type = xnode_attr(iq, "type");
    if (type && !strcmp(type, "get") && !strcmp(payload->name, "ping"))
        session_send_free(s, iq_result(iq));
    else
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "bad-request", NULL));
}

static void ping_init(void)
{
    module_register_iq(NS_PING, ping_iq);
    module_allow_remote(NS_PING);   /* remote requesters too */
    module_add_feature(NS_PING);
}

const module mod_ping = {
    .name = "ping",
    .init = ping_init,
};
