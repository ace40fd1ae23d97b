/* muc_invite.c: mediated invitations and declines (XEP-0045 §7.8.2,
 * §7.8.3). The room relays them from its own JID; an invitation to a
 * members-only room by someone allowed to invite makes the invitee a
 * member. The communication restrictions judge them by real JIDs, as a
 * direct message from the inviter would be. */
#include "modules/muc_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "router/router.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

static void relay(muc_room *r, const xnode *st, const char *what, const xnode *el,
                  const char *to_s)
{
    xnode *m = xnode_new("message", NS_CLIENT);
    xnode_set_attr(m, "from", r->jid);
    xnode_set_attr(m, "to", to_s);
    xnode *x = xnode_add_child(m, "x", NS_MUC_USER);
    xnode *e = xnode_add_child(x, what, NS_MUC_USER);
    xnode_set_attr(e, "from", xnode_attr(st, "from"));
    const xnode *reason = xnode_child(el, "reason", NULL);
    if (reason)
        xnode_append(e, xnode_copy(reason));
    if (!strcmp(what, "invite") && r->cfg.password_protected && r->cfg.password) {
        xnode *pw = xnode_add_child(x, "password", NS_MUC_USER);
        xnode_add_text(pw, r->cfg.password, strlen(r->cfg.password));
    }
    router_route_service(m);
}

/* One <invite/> or <decline/> of st. */
static void invite_one(muc_room *r, const xnode *st, const xnode *el, bool invite)
{
    const char *from = xnode_attr(st, "from");
    const char *to_s = xnode_attr(el, "to");
    jid to;
    if (!to_s || jid_parse(to_s, &to) != 0) {
        muc_error(st, ERR_MODIFY, "jid-malformed", NULL);
        return;
    }
    char *bare = jid_bare_string(&to);
    char *norm = jid_to_string(&to);
    jid_clear(&to);
    muc_occ *o = from ? muc_occ_by_jid(r, from) : NULL;
    if (invite) {
        muc_affiliation a = o ? muc_aff_of(r, o->bare) : MUC_AFF_NONE;
        bool may = o && (r->cfg.allow_invites || a >= MUC_AFF_ADMIN ||
                         (!r->cfg.members_only && o->role >= MUC_ROLE_PARTICIPANT));
        if (!may) {
            muc_error(st, ERR_CANCEL, "not-allowed", "you may not invite");
            goto out;
        }
    }
    if (!muc_policy_allows(from, bare)) {
        muc_error(st, ERR_CANCEL, "policy-violation",
                  "the communication restrictions do not allow this invitation");
        goto out;
    }
    if (invite && r->cfg.members_only && muc_aff_of(r, bare) < MUC_AFF_MEMBER &&
        muc_aff_of(r, bare) != MUC_AFF_OUTCAST) {
        muc_aff_set(r, bare, MUC_AFF_MEMBER, NULL);
        muc_room_saved(r);
        log_info("muc: %s invited %s into members-only %s: now a member", o->bare, bare, r->jid);
    }
    relay(r, st, invite ? "invite" : "decline", el, norm);
out:
    free(bare);
    free(norm);
}

/* XEP-0045 §7.8.2 allows several invitations in one stanza: each is relayed
 * (at most MUC_INVITES_MAX, so one stanza cannot fan out without bound). */
#define MUC_INVITES_MAX 20

void muc_invite(muc_room *r, const xnode *st, const xnode *x)
{
    size_t n = 0;
    for (const xnode *e = xnode_first_element(x); e; e = xnode_next_element(e))
        if (!strcmp(e->name, "invite") && e->ns && !strcmp(e->ns, NS_MUC_USER))
            n++;
    if (n > MUC_INVITES_MAX) {
        log_info("muc: %s: %zu invitations in one stanza from %s refused (at most %d)", r->jid, n,
                 xnode_attr(st, "from"), MUC_INVITES_MAX);
        muc_error(st, ERR_MODIFY, "not-acceptable", "too many invitations in one message");
        return;
    }
    if (n == 0) {
        const xnode *d = xnode_child(x, "decline", NS_MUC_USER);
        if (d)
            invite_one(r, st, d, false);
        return;
    }
    for (const xnode *e = xnode_first_element(x); e; e = xnode_next_element(e))
        if (!strcmp(e->name, "invite") && e->ns && !strcmp(e->ns, NS_MUC_USER))
            invite_one(r, st, e, true);
}
