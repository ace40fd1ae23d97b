/* policy.c: see policy.h. Stanzas between resources of the same account,
 * iq stanzas, and anything from or to the server, a domain or a service are
 * never filtered; a remote party (no account here) belongs to no group and
 * is not filtered by this step either (no federation yet). A sender of a
 * served domain without an account in the snapshot (logged in before the
 * snapshot has its entry, or named by a stanza's 'from') is never
 * unrestricted: it is a user in no group (directory.md), whose empty lists
 * mean "nobody" unless the policy is allow. */
#include "router/policy.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/log.h"
#include "metrics/metrics.h"

#define LOG_PER_SECOND 10

/* Refusals are logged at info, at most LOG_PER_SECOND a second per
 * worker, so a flood cannot fill the disk. */
static void log_refusal(const char *from, const char *to)
{
    static __thread log_budget budget;
    int dropped;
    bool ok = log_budget_take(&budget, LOG_PER_SECOND, &dropped);
    if (dropped)
        log_info("policy: %d more refused message(s) not logged", dropped);
    if (ok)
        log_info("policy: message from %s to %s refused (plucs/mod/filter: no group of the "
                 "sender lists a group of the recipient; see `plucs explain`)", from, to);
}

static policy_verdict judge(const dir_snapshot *snap, const xnode *st, stanza_kind kind,
                            const char *fnode, const char *fdomain, const jid *to)
{
    const dir_account *a = dir_snapshot_account(snap, fnode, fdomain);
    const dir_account *b = dir_snapshot_account(snap, to->node, to->domain);
    if (!b || a == b)
        return POLICY_ALLOW;
    if (!a) {
        if (!dir_snapshot_serves(snap, fdomain))
            return POLICY_ALLOW;   /* remote: not this step's business */
        const config *cfg = config_current();
        bool allow = cfg && (kind == STANZA_PRESENCE ? cfg->filter_presence_allow
                                                     : cfg->filter_message_allow);
        if (allow)
            return POLICY_ALLOW;
        metrics_filter_refused();
        if (kind == STANZA_PRESENCE)
            return POLICY_DROP;
        char from[2 * JID_PART_MAX + 2];
        snprintf(from, sizeof from, "%s@%s (no account in the directory snapshot)", fnode, fdomain);
        log_refusal(from, b->bare);
        const char *type = xnode_attr(st, "type");
        return type && !strcmp(type, "error") ? POLICY_DROP : POLICY_REFUSE;
    }
    if (kind == STANZA_PRESENCE) {
        if (dir_may_see(snap, b, a))
            return POLICY_ALLOW;
        metrics_filter_refused();
        return POLICY_DROP;
    }
    if (dir_may_message(snap, a, b))
        return POLICY_ALLOW;
    metrics_filter_refused();
    log_refusal(a->bare, b->bare);
    const char *type = xnode_attr(st, "type");
    return type && !strcmp(type, "error") ? POLICY_DROP : POLICY_REFUSE;
}

policy_verdict policy_check(const dir_snapshot *snap, const xnode *st, stanza_kind kind,
                            const jid *to, const session *origin)
{
    if (!snap || !snap->filter || (kind != STANZA_MESSAGE && kind != STANZA_PRESENCE) ||
        !to->node)
        return POLICY_ALLOW;
    const char *from_s = xnode_attr(st, "from");
    if (!from_s)
        return POLICY_ALLOW;
    /* The sender is nearly always the client session being routed, whose
     * JID the router stamped: use its prepared parts instead of preparing
     * the address again (stringprep is the costly part of this check). */
    if (origin && origin->full && origin->node && !strcmp(from_s, origin->full))
        return judge(snap, st, kind, origin->node, origin->domain, to);
    jid from;
    if (jid_parse(from_s, &from) != 0)
        return POLICY_ALLOW;
    policy_verdict v = from.node ? judge(snap, st, kind, from.node, from.domain, to) : POLICY_ALLOW;
    jid_clear(&from);
    return v;
}
