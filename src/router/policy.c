/* policy.c: see policy.h. Stanzas between resources of the same account,
 * iq stanzas, and anything from or to the server, a domain or a service are
 * never filtered. A remote party (a JID of a domain not served here,
 * reached through federation) belongs to no group (directory.md), and so
 * does a sender of a served domain without an account in the snapshot
 * (logged in before the snapshot has its entry, or named by a stanza's
 * 'from'): a user in no group counts as one group with empty lists, which
 * mean "everybody" under the allow policy and "nobody" under deny. So:
 *
 * - no-group sender -> account: allowed iff the policy is allow;
 * - account -> remote recipient: allowed iff one of the sender's groups
 *   (or its groupless self) has an empty list and the policy is allow,
 *   since a remote party is in no group a list could name;
 * - for presence the observer is the recipient: a remote observer (no
 *   group) sees an account iff the policy is allow; an account sees a
 *   remote party iff one of its groups has an empty presence list (or it
 *   has none) and the policy is allow. */
#include "router/policy.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/log.h"
#include "metrics/metrics.h"
#include "router/policy_index.h"

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

/* Whether account a's groups let it reach a party in no group: some group
 * of a (or a's groupless self) has an empty list and the policy is allow. */
static bool reaches_no_group(const dir_snapshot *snap, const dir_account *a, bool presence,
                             bool allow)
{
    if (!allow)
        return false;
    if (a->ngroups == 0)
        return true;
    for (uint32_t i = 0; i < a->ngroups; i++) {
        const dir_group *g = &snap->groups[a->groups[i]];
        if ((presence ? g->npgroups : g->nmgroups) == 0)
            return true;
    }
    return false;
}

static policy_verdict refused(const xnode *st, stanza_kind kind, const char *from, const char *to)
{
    metrics_filter_refused();
    if (kind == STANZA_PRESENCE)
        return POLICY_DROP;
    log_refusal(from, to);
    const char *type = xnode_attr(st, "type");
    return type && !strcmp(type, "error") ? POLICY_DROP : POLICY_REFUSE;
}

/* An account sending to a remote JID (to: not a served domain). */
static policy_verdict judge_remote_recipient(const dir_snapshot *snap, const xnode *st,
                                             stanza_kind kind, const dir_account *a,
                                             const jid *to)
{
    const config *cfg = config_current();
    bool presence = kind == STANZA_PRESENCE;
    bool allow = cfg && (presence ? cfg->filter_presence_allow : cfg->filter_message_allow);
    /* presence: the remote observer is in no group, its empty list names
     * nobody unless allow; a message: the sender's lists must reach it */
    if (presence ? allow : reaches_no_group(snap, a, false, allow))
        return POLICY_ALLOW;
    char rcpt[2 * JID_PART_MAX + 2];
    snprintf(rcpt, sizeof rcpt, "%s@%s (remote, in no group)", to->node, to->domain);
    return refused(st, kind, a->bare, rcpt);
}

static policy_verdict judge(const dir_snapshot *snap, const xnode *st, stanza_kind kind,
                            const char *fnode, const char *fdomain, const jid *to)
{
    const dir_account *a = policy_account(snap, fnode, fdomain);
    const dir_account *b = policy_account(snap, to->node, to->domain);
    if (!b && a && !dir_snapshot_serves(snap, to->domain))
        return judge_remote_recipient(snap, st, kind, a, to);
    if (!b || a == b)
        return POLICY_ALLOW;
    if (!a) {
        /* A sender in no group: remote, or a served domain's JID without
         * an account. */
        bool remote = !dir_snapshot_serves(snap, fdomain);
        const config *cfg = config_current();
        bool presence = kind == STANZA_PRESENCE;
        bool allow = cfg && (presence ? cfg->filter_presence_allow : cfg->filter_message_allow);
        /* presence: the account observes a party in no group */
        if (presence ? reaches_no_group(snap, b, true, allow) : allow)
            return POLICY_ALLOW;
        char from[2 * JID_PART_MAX + 2];
        snprintf(from, sizeof from, "%s@%s (%s)", fnode, fdomain,
                 remote ? "remote, in no group" : "no account in the directory snapshot");
        return refused(st, kind, from, b->bare);
    }
    if (kind == STANZA_PRESENCE)
        return dir_may_see(snap, b, a) ? POLICY_ALLOW : refused(st, kind, a->bare, b->bare);
    if (dir_may_message(snap, a, b))
        return POLICY_ALLOW;
    return refused(st, kind, a->bare, b->bare);
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
