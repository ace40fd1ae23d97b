/* mod_session.c: the legacy session establishment iq (RFC 3921 §3,
 * advertised as optional per draft-cridland-xmpp-session). Old clients send
 * it after binding; it has no effect beyond a result. */
#include "modules/module.h"
#include "xmpp/stanza.h"

static void session_iq(session *s, const xnode *iq, const xnode *payload)
{
    session_send_free(s, iq_result(iq));
}

static void session_init(void)
{
    module_register_iq(NS_SESSION, session_iq);
}

const module mod_session = {
    .name = "session",
    .init = session_init,
};
