/* muc_admin.c: the muc#admin and muc#owner iqs of a room (XEP-0045 §8-10):
 * kick (role none), voice (participant/visitor), moderator grants,
 * affiliation lists and edits with the permission rules of §5, the
 * configuration form (instant and reserved rooms) and destruction. */
#include "modules/muc_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "router/router.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

#define NS_DATA "jabber:x:data"

static void ok(const xnode *iq) { router_route_service(iq_result(iq)); }

/* The result of iq (a copy, ctx) once the change it made is committed: a
 * client is told only what survives a crash. */
static void ok_saved(void *ctx, bool saved)
{
    xnode *iq = ctx;
    if (saved)
        ok(iq);
    else
        muc_error(iq, ERR_WAIT, "internal-server-error", "the change could not be stored");
    xnode_free(iq);
}

static void iq_free(void *ctx) { xnode_free(ctx); }

static muc_affiliation requester_aff(muc_room *r, const xnode *iq, muc_occ **occ)
{
    const char *from = xnode_attr(iq, "from");
    *occ = from ? muc_occ_by_jid(r, from) : NULL;
    jid j;
    if (!from || jid_parse(from, &j) != 0)
        return MUC_AFF_NONE;
    char *bare = jid_bare_string(&j);
    jid_clear(&j);
    muc_affiliation a = muc_aff_of(r, bare);
    free(bare);
    return a;
}

static char *reason_of(const xnode *item)
{
    const xnode *re = xnode_child(item, "reason", NULL);
    return re ? xnode_text(re) : NULL;
}

static void list_get(muc_room *r, const xnode *iq, const xnode *item, muc_affiliation me,
                     muc_occ *occ)
{
    const char *aff_s = xnode_attr(item, "affiliation");
    const char *role_s = xnode_attr(item, "role");
    xnode *res = iq_result(iq);
    xnode *q = xnode_add_child(res, "query", NS_MUC_ADMIN);
    if (aff_s) {
        int a = muc_affiliation_parse(aff_s);
        bool may = a >= 0 && (a >= MUC_AFF_ADMIN ? me == MUC_AFF_OWNER : me >= MUC_AFF_ADMIN);
        if (!may || a == MUC_AFF_NONE) {
            xnode_free(res);
            muc_error(iq, a < 0 || a == MUC_AFF_NONE ? ERR_MODIFY : ERR_AUTH,
                      a < 0 || a == MUC_AFF_NONE ? "bad-request" : "forbidden", NULL);
            return;
        }
        for (size_t i = 0; i < r->naffs; i++)
            if ((int)r->affs[i].aff == a) {
                xnode *it = xnode_add_child(q, "item", NS_MUC_ADMIN);
                xnode_set_attr(it, "affiliation", aff_s);
                xnode_set_attr(it, "jid", r->affs[i].jid);
                if (r->affs[i].nick)
                    xnode_set_attr(it, "nick", r->affs[i].nick);
            }
    } else {
        int ro = muc_role_parse(role_s);
        if (ro <= 0 || !occ || occ->role != MUC_ROLE_MODERATOR) {
            xnode_free(res);
            muc_error(iq, ro <= 0 ? ERR_MODIFY : ERR_AUTH, ro <= 0 ? "bad-request" : "forbidden",
                      NULL);
            return;
        }
        for (muc_occ *o = r->occs; o; o = o->next)
            if ((int)o->role == ro) {
                xnode *it = xnode_add_child(q, "item", NS_MUC_ADMIN);
                xnode_set_attr(it, "role", role_s);
                xnode_set_attr(it, "nick", o->nick);
                xnode_set_attr(it, "affiliation",
                               muc_affiliation_name(muc_aff_of(r, o->bare)));
                xnode_set_attr(it, "jid", o->njids ? o->jids[0] : o->bare);
            }
    }
    router_route_service(res);
}

/* One role change; 0 or an error condition. */
static const char *set_role(muc_room *r, muc_occ *me_occ, muc_affiliation me, const xnode *item)
{
    const char *nick = xnode_attr(item, "nick");
    int ro = muc_role_parse(xnode_attr(item, "role"));
    if (!nick || ro < 0)
        return "bad-request";
    muc_occ *t = muc_occ_by_nick(r, nick);
    if (!t)
        return "item-not-found";
    if (!me_occ || me_occ->role != MUC_ROLE_MODERATOR)
        return "forbidden";
    muc_affiliation ta = muc_aff_of(r, t->bare);
    if (ro == MUC_ROLE_MODERATOR || t->role == MUC_ROLE_MODERATOR) {
        /* granting or revoking moderator: admins and owners, never on a
         * higher affiliation */
        if (me < MUC_AFF_ADMIN || (ta >= MUC_AFF_ADMIN && ro != MUC_ROLE_MODERATOR))
            return "not-allowed";
    }
    if (ta >= MUC_AFF_ADMIN && ro < MUC_ROLE_MODERATOR)
        return "not-allowed";   /* admins and owners cannot be kicked or muted */
    char *reason = reason_of(item);
    if (ro == MUC_ROLE_NONE) {
        int c = 307;
        log_info("muc: %s kicked from %s", t->bare, r->jid);
        muc_occ_remove(r, t, &c, 1, reason, NULL);
    } else {
        t->role = (muc_role)ro;
        muc_occ_broadcast(r, t, NULL, 0);
    }
    free(reason);
    return NULL;
}

static const char *set_aff(muc_room *r, muc_affiliation me, const xnode *item, char **who)
{
    int a = muc_affiliation_parse(xnode_attr(item, "affiliation"));
    const char *jid_s = xnode_attr(item, "jid");
    const char *nick = xnode_attr(item, "nick");
    if (a < 0)
        return "bad-request";
    char *bare = NULL;
    if (jid_s) {
        jid j;
        if (jid_parse(jid_s, &j) != 0)
            return "jid-malformed";
        bare = jid_bare_string(&j);
        jid_clear(&j);
    } else if (nick) {
        muc_occ *t = muc_occ_by_nick(r, nick);
        if (!t)
            return "item-not-found";
        bare = strdup(t->bare);
    } else {
        return "bad-request";
    }
    muc_affiliation cur = muc_aff_of(r, bare);
    bool may = me == MUC_AFF_OWNER ||
               (me == MUC_AFF_ADMIN && cur < MUC_AFF_ADMIN && a < MUC_AFF_ADMIN);
    if (!may) {
        free(bare);
        return "not-allowed";
    }
    if (cur == MUC_AFF_OWNER && a != MUC_AFF_OWNER) {
        size_t owners = 0;
        for (size_t i = 0; i < r->naffs; i++)
            owners += r->affs[i].aff == MUC_AFF_OWNER;
        if (owners <= 1) {
            free(bare);
            return "conflict";   /* §10.6: the last owner stays */
        }
    }
    /* a nick given with a JID is the member's reserved nick */
    muc_aff_set(r, bare, (muc_affiliation)a, jid_s ? nick : NULL);
    *who = bare;
    return NULL;
}

static void admin_set(muc_room *r, const xnode *iq, const xnode *q, muc_affiliation me,
                      muc_occ *occ)
{
    const char *err = NULL;
    bool affs = false;
    for (const xnode *it = xnode_first_element(q); it && !err; it = xnode_next_element(it)) {
        if (strcmp(it->name, "item"))
            continue;
        if (xnode_attr(it, "affiliation")) {
            char *who = NULL;
            err = set_aff(r, me, it, &who);
            if (!err) {
                char *reason = reason_of(it);
                muc_aff_enforce(r, who, reason);
                log_info("muc: %s is now %s of %s", who,
                         xnode_attr(it, "affiliation"), r->jid);
                free(reason);
                free(who);
                affs = true;
            }
        } else {
            err = set_role(r, occ, me, it);
        }
    }
    if (affs && !err) {
        muc_room_saved_then(r, ok_saved, xnode_copy(iq), iq_free);
        return;
    }
    if (affs)
        muc_room_saved(r);
    if (err)
        muc_error(iq, !strcmp(err, "bad-request") || !strcmp(err, "jid-malformed") ? ERR_MODIFY
                      : !strcmp(err, "item-not-found") || !strcmp(err, "conflict") ? ERR_CANCEL
                                                                                  : ERR_AUTH,
                  err, NULL);
    else
        ok(iq);
}

void muc_admin_iq(muc_room *r, const xnode *iq, const xnode *q)
{
    muc_occ *occ;
    muc_affiliation me = requester_aff(r, iq, &occ);
    const xnode *item = xnode_child(q, "item", NULL);
    if (!item) {
        muc_error(iq, ERR_MODIFY, "bad-request", NULL);
        return;
    }
    if (!strcmp(xnode_attr(iq, "type"), "get"))
        list_get(r, iq, item, me, occ);
    else
        admin_set(r, iq, q, me, occ);
}

void muc_owner_iq(muc_room *r, const xnode *iq, const xnode *q)
{
    muc_occ *occ;
    muc_affiliation me = requester_aff(r, iq, &occ);
    if (me != MUC_AFF_OWNER) {
        muc_error(iq, ERR_AUTH, "forbidden", NULL);
        return;
    }
    if (!strcmp(xnode_attr(iq, "type"), "get")) {
        xnode *res = iq_result(iq);
        xnode *rq = xnode_add_child(res, "query", NS_MUC_OWNER);
        xnode_append(rq, muc_config_form(r));
        router_route_service(res);
        return;
    }
    const xnode *d = xnode_child(q, "destroy", NULL);
    if (d) {
        const xnode *re = xnode_child(d, "reason", NULL);
        char *reason = re ? xnode_text(re) : NULL;
        ok(iq);
        muc_destroy(r, xnode_attr(d, "jid"), reason);
        free(reason);
        return;
    }
    const xnode *x = xnode_child(q, "x", NS_DATA);
    const char *type = x ? xnode_attr(x, "type") : NULL;
    if (type && !strcmp(type, "cancel")) {
        ok(iq);
        if (r->locked)
            muc_destroy(r, NULL, NULL);
        return;
    }
    if (!type || strcmp(type, "submit")) {
        muc_error(iq, ERR_MODIFY, "bad-request", NULL);
        return;
    }
    bool was_members_only = r->cfg.members_only;
    if (muc_config_apply(r, x) != 0) {
        muc_error(iq, ERR_MODIFY, "not-acceptable", "invalid configuration value");
        return;
    }
    bool unlocked = r->locked;
    r->locked = false;
    log_info("muc: room %s %s", r->jid, unlocked ? "configured and unlocked" : "reconfigured");
    /* §10.2: 104 to occupants on a configuration change */
    for (muc_occ *o = r->occs; o && !unlocked; o = o->next) {
        xnode *m = xnode_new("message", NS_CLIENT);
        xnode_set_attr(m, "from", r->jid);
        xnode_set_attr(m, "type", "groupchat");
        xnode *ux = xnode_add_child(m, "x", NS_MUC_USER);
        xnode_set_attr(xnode_add_child(ux, "status", NS_MUC_USER), "code", "104");
        muc_send_occ(r, o, m);
    }
    if (!was_members_only && r->cfg.members_only) {
        muc_occ *next;
        for (muc_occ *o = r->occs; o; o = next) {
            next = o->next;
            if (muc_aff_of(r, o->bare) < MUC_AFF_MEMBER) {
                int c = 322;
                muc_occ_remove(r, o, &c, 1, NULL, NULL);
            }
        }
    }
    muc_room_saved_then(r, ok_saved, xnode_copy(iq), iq_free);
}
