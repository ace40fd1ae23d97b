/* mod_sm.c: the disco#info face of XEP-0198 stream management. The protocol
 * itself lives in the transport (src/transport/sm*.c: it is about streams,
 * not stanzas); this descriptor only advertises urn:xmpp:sm:3 on the server
 * JID while plucs/sm is on (like the stream feature after authentication,
 * it follows reloads). */
#include "core/config.h"
#include "modules/module.h"

static bool sm_on(void)
{
    const config *cfg = config_current();
    return cfg && cfg->sm;
}

static void sm_init(void) { module_add_feature_when("urn:xmpp:sm:3", sm_on); }

const module mod_sm = {
    .name = "sm",
    .init = sm_init,
};
