/* muc_msg.c: messages and iqs addressed to a room or an occupant on the
 * room's owner worker: groupchat fan-out with the room's stanza-id,
 * subject changes, private messages (allowpm and the communication
 * restrictions by real JIDs), invitations, and the room's iqs (disco,
 * admin, owner, self-ping, iqs between occupants). */
#include "modules/muc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "modules/disco.h"
#include "router/router.h"
#include "xmpp/stanza.h"

#define NS_SID "urn:xmpp:sid:0"
#define NS_PING "urn:xmpp:ping"
#define RATE_PER_SEC 10.0
#define RATE_BURST 20.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool rate_ok(muc_occ *o)
{
    double t = now_s();
    if (o->last > 0) {
        o->tokens += (t - o->last) * RATE_PER_SEC;
        if (o->tokens > RATE_BURST)
            o->tokens = RATE_BURST;
    }
    o->last = t;
    if (o->tokens < 1)
        return false;
    o->tokens -= 1;
    return true;
}

static char *occ_jid(const muc_room *r, const char *nick)
{
    size_t n = strlen(r->jid) + strlen(nick) + 2;
    char *s = xmalloc(n);
    snprintf(s, n, "%s/%s", r->jid, nick);
    return s;
}

static void groupchat(muc_room *r, muc_occ *o, const xnode *st)
{
    const xnode *subj = xnode_child(st, "subject", NULL);
    const xnode *body = xnode_child(st, "body", NULL);
    if (!rate_ok(o)) {
        static __thread log_budget budget;
        int dropped;
        if (log_budget_take(&budget, 10, &dropped))
            log_info("muc: %s in %s sends too fast (%.0f/s): resource-constraint", o->bare,
                     r->jid, RATE_PER_SEC);
        muc_error(st, ERR_WAIT, "resource-constraint", "too many messages");
        return;
    }
    if (subj && !body) {
        bool may = o->role == MUC_ROLE_MODERATOR ||
                   (r->cfg.change_subject && o->role == MUC_ROLE_PARTICIPANT);
        if (!may) {
            muc_error(st, ERR_AUTH, "forbidden", "you may not change the subject");
            return;
        }
        char *t = xnode_text(subj);
        size_t len = t ? strlen(t) : 0;
        free(t);
        if (len > MUC_SUBJECT_MAX) {
            log_info("muc: %s in %s: subject of %zu bytes refused (max %d)", o->bare, r->jid,
                     len, MUC_SUBJECT_MAX);
            muc_error(st, ERR_MODIFY, "not-acceptable", "subject too long");
            return;
        }
    } else if (o->role < MUC_ROLE_PARTICIPANT) {
        muc_error(st, ERR_AUTH, "forbidden", "visitors may not speak");
        return;
    }
    xnode *m = xnode_copy(st);
    char *from = occ_jid(r, o->nick);
    xnode_set_attr(m, "from", from);
    free(from);
    xnode_set_attr(m, "to", NULL);
    /* drop stanza-ids a client may have forged */
    for (xnode *c = xnode_first_element(m), *n; c; c = n) {
        n = xnode_next_element(c);
        if (!strcmp(c->ns, NS_SID) && !strcmp(c->name, "stanza-id")) {
            xnode_unlink(c);
            xnode_free(c);
        }
    }
    char id[40];
    snprintf(id, sizeof id, "%llx-%llx", (unsigned long long)time(NULL), ++r->serial);
    xnode *sid = xnode_add_child(m, "stanza-id", NS_SID);
    xnode_set_attr(sid, "id", id);
    xnode_set_attr(sid, "by", r->jid);
    if (subj && !body) {
        xnode_free(r->subject);
        r->subject = xnode_copy(m);
    } else {
        muc_hist_add(r, m);
    }
    muc_stat_groupchat();
    for (muc_occ *v = r->occs; v; v = v->next)
        muc_send_occ(r, v, xnode_copy(m));
    xnode_free(m);
}

static void private_message(muc_room *r, muc_occ *o, const xnode *st, const char *nick)
{
    const char *type = xnode_attr(st, "type");
    if (type && !strcmp(type, "groupchat")) {
        muc_error(st, ERR_MODIFY, "bad-request", "groupchat to an occupant");
        return;
    }
    if (!o) {
        muc_error(st, ERR_MODIFY, "not-acceptable", "you are not in the room");
        return;
    }
    muc_occ *t = muc_occ_by_nick(r, nick);
    if (!t) {
        muc_error(st, ERR_CANCEL, "item-not-found", NULL);
        return;
    }
    bool allowed = r->cfg.allow_pm == MUC_PM_ANYONE ||
                   (r->cfg.allow_pm == MUC_PM_PARTICIPANTS && o->role >= MUC_ROLE_PARTICIPANT) ||
                   (r->cfg.allow_pm == MUC_PM_MODERATORS && o->role == MUC_ROLE_MODERATOR);
    if (!allowed) {
        muc_error(st, ERR_CANCEL, "not-allowed", "private messages are not allowed here");
        return;
    }
    if (!rate_ok(o)) {
        muc_error(st, ERR_WAIT, "resource-constraint", "too many messages");
        return;
    }
    if (!muc_policy_allows(xnode_attr(st, "from"), t->bare)) {
        muc_error(st, ERR_CANCEL, "policy-violation",
                  "the communication restrictions do not allow this message");
        return;
    }
    xnode *m = xnode_copy(st);
    char *from = occ_jid(r, o->nick);
    xnode_set_attr(m, "from", from);
    free(from);
    if (!xnode_child(m, "x", NS_MUC_USER))
        xnode_add_child(m, "x", NS_MUC_USER);
    muc_send_occ(r, t, m);
}

void muc_room_message(const xnode *st, const char *room_jid, const jid *to)
{
    const char *from = xnode_attr(st, "from");
    const char *type = xnode_attr(st, "type");
    muc_room *r = muc_find(room_jid);
    if (type && !strcmp(type, "error")) {
        /* an occupant's server bounced something: it is gone (§7.2.9) */
        muc_occ *o = r && from ? muc_occ_by_jid(r, from) : NULL;
        if (o && o->njids == 1) {
            int c = 333;
            muc_occ_remove(r, o, &c, 1, NULL, NULL);
            muc_maybe_vanish(r);
        }
        return;
    }
    if (!r || r->locked) {
        muc_error(st, ERR_CANCEL, "item-not-found", NULL);
        return;
    }
    muc_occ *o = from ? muc_occ_by_jid(r, from) : NULL;
    if (to->resource) {
        private_message(r, o, st, to->resource);
        return;
    }
    const xnode *x = xnode_child(st, "x", NS_MUC_USER);
    if (x && (xnode_child(x, "invite", NS_MUC_USER) || xnode_child(x, "decline", NS_MUC_USER))) {
        muc_invite(r, st, x);
        return;
    }
    if (type && !strcmp(type, "groupchat")) {
        if (!o) {
            muc_error(st, ERR_MODIFY, "not-acceptable", "you are not in the room");
            return;
        }
        groupchat(r, o, st);
        return;
    }
    muc_error(st, ERR_MODIFY, "bad-request", NULL);
}

/* ---- iqs ---- */

static void reply(const xnode *iq, xnode *r)
{
    router_route_service(r);
    (void)iq;
}

static void room_items(muc_room *r, const xnode *iq, const muc_occ *asker)
{
    xnode *res = iq_result(iq);
    xnode *q = xnode_add_child(res, "query", NS_DISCO_ITEMS);
    if (asker && muc_may_see_jids(r, asker))
        for (muc_occ *o = r->occs; o; o = o->next) {
            char *j = occ_jid(r, o->nick);
            xnode_set_attr(xnode_add_child(q, "item", NS_DISCO_ITEMS), "jid", j);
            free(j);
        }
    reply(iq, res);
}

static void forward_iq(muc_room *r, muc_occ *o, const xnode *iq, const char *nick)
{
    muc_occ *t = muc_occ_by_nick(r, nick);
    if (!t || !t->njids) {
        muc_error(iq, ERR_CANCEL, "item-not-found", NULL);
        return;
    }
    xnode *c = xnode_copy(iq);
    char *from = occ_jid(r, o->nick);
    xnode_set_attr(c, "from", from);
    free(from);
    xnode_set_attr(c, "to", t->jids[0]);
    router_route_service(c);
}

void muc_room_iq(const xnode *iq, const char *room_jid, const jid *to)
{
    const char *type = xnode_attr(iq, "type");
    const char *from = xnode_attr(iq, "from");
    bool request = type && (!strcmp(type, "get") || !strcmp(type, "set"));
    muc_room *r = muc_find(room_jid);
    const xnode *q = xnode_first_element(iq);
    if (!r) {
        if (request)
            muc_error(iq, ERR_CANCEL, "item-not-found", NULL);
        return;
    }
    muc_occ *o = from ? muc_occ_by_jid(r, from) : NULL;
    if (to->resource) {
        /* XEP-0410: a ping to one's own occupant JID is answered here */
        if (request && q && !strcmp(q->ns, NS_PING)) {
            muc_occ *t = muc_occ_by_nick(r, to->resource);
            if (!o)
                muc_error(iq, ERR_MODIFY, "not-acceptable", "not an occupant");
            else if (!t)
                muc_error(iq, ERR_CANCEL, "item-not-found", NULL);
            else
                reply(iq, iq_result(iq));
            return;
        }
        if (!o) {
            if (request)
                muc_error(iq, ERR_MODIFY, "not-acceptable", "not an occupant");
            return;
        }
        if (!request) {   /* an answer to a forwarded iq: back to the asker */
            forward_iq(r, o, iq, to->resource);
            return;
        }
        if (r->cfg.allow_pm == MUC_PM_NONE && o->role != MUC_ROLE_MODERATOR) {
            muc_error(iq, ERR_CANCEL, "not-allowed", NULL);
            return;
        }
        forward_iq(r, o, iq, to->resource);
        return;
    }
    if (!request || !q)
        return;
    if (r->locked && muc_aff_of(r, o ? o->bare : NULL) != MUC_AFF_OWNER &&
        strcmp(q->ns, NS_MUC_OWNER)) {
        muc_error(iq, ERR_CANCEL, "item-not-found", NULL);
        return;
    }
    if (!strcmp(q->ns, NS_DISCO_INFO) && !strcmp(type, "get")) {
        if (xnode_attr(q, "node")) {
            muc_error(iq, ERR_CANCEL, "item-not-found", NULL);
            return;
        }
        xnode *res = iq_result(iq);
        xnode_append(res, muc_room_info(r));
        reply(iq, res);
    } else if (!strcmp(q->ns, NS_DISCO_ITEMS) && !strcmp(type, "get")) {
        room_items(r, iq, o);
    } else if (!strcmp(q->ns, NS_MUC_ADMIN)) {
        muc_admin_iq(r, iq, q);
    } else if (!strcmp(q->ns, NS_MUC_OWNER)) {
        muc_owner_iq(r, iq, q);
    } else if (!strcmp(q->ns, NS_PING) && !strcmp(type, "get")) {
        reply(iq, iq_result(iq));
    } else {
        muc_error(iq, ERR_CANCEL, "service-unavailable", NULL);
    }
}
