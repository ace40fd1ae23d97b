/* privacy_remote.c: broadcast presence to contacts on other servers.
 * Presence to a local contact meets the sender's presence-out rules and
 * blocklist on the contact's session (the inbound hooks of mod_privacy and
 * mod_blocking), and directed presence meets them on the outbound hook; a
 * broadcast copy for a remote contact passes neither, so mod_presence asks
 * here before sending it. */
#include <string.h>

#include "core/log.h"
#include "modules/blocklist.h"
#include "modules/privacy.h"
#include "router/session.h"
#include "xmpp/jid.h"

bool privacy_broadcast_allowed(session *s, const xnode *st, const char *contact)
{
    const char *type = xnode_attr(st, "type");
    if (type && !strcmp(type, "unavailable"))
        return true;    /* never leave a contact seeing a stale presence */
    if (!pcache_any() && !block_cache_any())
        return true;
    jid c;
    if (!s->bare || jid_parse(contact, &c) != 0)
        return true;
    bool ok = true;
    if (!account_exempt(s->bare, &c)) {
        if (block_cache_any() && block_cache_bare_blocks(s->bare, &c)) {
            ok = false;
        } else {
            privacy_sess *x = privacy_sess_of(s);
            privacy_list *l = x ? pcache_effective(x->a, x->sid) : NULL;
            ok = !l || privacy_allows(l, s->bare, &c, type ? 0 : PRIV_K_PRESENCE_OUT);
            privacy_list_unref(l);
        }
    }
    if (!ok) {
        log_debug("privacy: presence broadcast %s -> %s refused (presence-out or blocked)",
                  s->full, contact);
        privacy_stat_refused();
    }
    jid_clear(&c);
    return ok;
}

bool privacy_probe_allowed(const char *user, const xnode *pres, const char *prober)
{
    if (!pcache_any() && !block_cache_any())
        return true;
    jid c, f;
    const char *from = xnode_attr(pres, "from");
    if (jid_parse(prober, &c) != 0)
        return true;
    bool ok = true;
    if (!account_exempt(user, &c)) {
        if (block_cache_any() && block_cache_bare_blocks(user, &c)) {
            ok = false;
        } else if (from && jid_parse(from, &f) == 0) {
            privacy_list *l = pcache_effective_bare(user, f.resource);
            ok = !l || privacy_allows(l, user, &c, PRIV_K_PRESENCE_OUT);
            privacy_list_unref(l);
            jid_clear(&f);
        }
    }
    if (!ok) {
        log_debug("privacy: probe answer %s -> %s refused (presence-out or blocked)", user,
                  prober);
        privacy_stat_refused();
    }
    jid_clear(&c);
    return ok;
}
