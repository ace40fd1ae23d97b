/* policy.c: see policy.h. Stanzas between resources of the same account,
 * iq stanzas, and anything from or to the server, a domain or a service are
 * never filtered; a remote party (no account here) belongs to no group and
 * is not filtered by this step either (no federation yet). */
#include "router/policy.h"

#include <string.h>
#include <time.h>

#include "core/i18n.h"
#include "core/log.h"
#include "router/router.h"
#include "metrics/metrics.h"
#include "xmpp/stanza.h"

#define LOG_PER_SECOND 10

/* Refusals are logged at info, at most LOG_PER_SECOND a second per
 * worker, so a flood cannot fill the disk. */
static void log_refusal(const char *from, const char *to)
{
    static __thread time_t second;
    static __thread int count, dropped;
    time_t now = time(NULL);
    if (now != second) {
        if (dropped)
            log_info("policy: %d more refused message(s) not logged", dropped);
        second = now;
        count = dropped = 0;
    }
    if (count++ < LOG_PER_SECOND)
        log_info("policy: message from %s to %s refused (plucs/mod/filter: no group of the "
                 "sender lists a group of the recipient; see `plucs explain`)", from, to);
    else
        dropped++;
}

bool policy_allows(const dir_snapshot *snap, const xnode *st, char kind, const jid *to)
{
    if (!snap || !snap->filter || (kind != 'm' && kind != 'p') || !to->node)
        return true;
    const char *from_s = xnode_attr(st, "from");
    if (!from_s)
        return true;
    /* The sender is nearly always the client session being routed, whose
     * JID the router stamped: use its prepared parts instead of preparing
     * the address again (stringprep is the costly part of this check). */
    session *o = router_origin();
    jid from = { 0 };
    const char *fnode, *fdomain;
    if (o && o->full && o->node && !strcmp(from_s, o->full)) {
        fnode = o->node;
        fdomain = o->domain;
    } else if (jid_parse(from_s, &from) == 0) {
        fnode = from.node;
        fdomain = from.domain;
    } else {
        return true;
    }
    bool ok = true;
    if (fnode) {
        const dir_account *a = dir_snapshot_account(snap, fnode, fdomain);
        const dir_account *b = dir_snapshot_account(snap, to->node, to->domain);
        if (a && b && a != b) {
            if (kind == 'm') {
                ok = dir_may_message(snap, a, b);
                if (!ok) {
                    const char *type = xnode_attr(st, "type");
                    metrics_filter_refused();
                    log_refusal(a->bare, b->bare);
                    if (!type || strcmp(type, "error"))
                        router_bounce(st, ERR_CANCEL, "policy-violation",
                                      i18n(o ? o->lang : NULL, T_POLICY_MESSAGE));
                }
            } else {
                ok = dir_may_see(snap, b, a);
                if (!ok)
                    metrics_filter_refused();
            }
        }
    }
    jid_clear(&from);
    return ok;
}
