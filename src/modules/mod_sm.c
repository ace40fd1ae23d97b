/* mod_sm.c: the disco#info face of XEP-0198 stream management. The protocol
 * itself lives in the transport (src/transport/sm*.c: it is about streams,
 * not stanzas); this descriptor only advertises urn:xmpp:sm:3 on the server
 * JID when plucs/sm is on at start-up (features are registered once; the
 * stream feature after authentication follows reloads). */
#include "core/config.h"
#include "modules/module.h"

static void sm_init(void)
{
    const config *cfg = config_current();
    if (cfg && cfg->sm)
        module_add_feature("urn:xmpp:sm:3");
}

const module mod_sm = {
    .name = "sm",
    .init = sm_init,
};
