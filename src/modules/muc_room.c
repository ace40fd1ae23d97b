/* muc_room.c: a room's state on its owner worker: the per-worker room
 * list, affiliations, occupants and their presence (XEP-0045 §7.2-7.4,
 * roles and affiliations of §5), removal (kick, ban, membership loss,
 * destruction). Messages are in muc_msg.c. */
#include "modules/muc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "router/router.h"
#include "xmpp/stanza.h"

static __thread muc_room *rooms;   /* the rooms of this worker */

muc_room *muc_find(const char *room_jid)
{
    for (muc_room *r = rooms; r; r = r->next)
        if (!strcmp(r->jid, room_jid))
            return r;
    return NULL;
}

muc_room *muc_create(const char *room_jid, const char *creator)
{
    muc_room *r = xcalloc(1, sizeof *r);
    r->jid = xstrdup(room_jid);
    r->creator = creator ? xstrdup(creator) : NULL;
    muc_config_defaults(&r->cfg);
    muc_hist_resize(r);
    r->next = rooms;
    rooms = r;
    muc_stat_rooms(1);
    muc_index_put(r->jid, r->creator, NULL, r->cfg.public_room);
    return r;
}

static void occ_free(muc_occ *o)
{
    free(o->nick);
    free(o->bare);
    for (size_t i = 0; i < o->njids; i++)
        free(o->jids[i]);
    free(o->jids);
    xnode_free(o->presence);
    free(o);
}

void muc_free_room(muc_room *r)
{
    for (muc_room **p = &rooms; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    muc_index_del(r->jid);
    muc_stat_rooms(-1);
    while (r->occs) {
        muc_occ *o = r->occs;
        r->occs = o->next;
        muc_stat_occupants(-1);
        occ_free(o);
    }
    for (size_t i = 0; i < r->naffs; i++) {
        free(r->affs[i].jid);
        free(r->affs[i].nick);
    }
    free(r->affs);
    muc_hist_clear(r);
    free(r->hist);
    xnode_free(r->subject);
    muc_config_clear(&r->cfg);
    free(r->jid);
    free(r->creator);
    free(r);
}

void muc_rooms_each_local(void (*fn)(const muc_room_view *v, void *ud), void *ud)
{
    for (muc_room *r = rooms; r; r = r->next) {
        muc_room_view v = { r->jid, &r->cfg, r->affs, r->naffs, r->nocc, r->locked };
        fn(&v, ud);
    }
}

/* ---- affiliations ---- */

muc_affiliation muc_aff_of(const muc_room *r, const char *bare)
{
    for (size_t i = 0; bare && i < r->naffs; i++)
        if (!strcmp(r->affs[i].jid, bare))
            return r->affs[i].aff;
    return MUC_AFF_NONE;
}

void muc_aff_set(muc_room *r, const char *bare, muc_affiliation a, const char *nick)
{
    for (size_t i = 0; i < r->naffs; i++) {
        if (strcmp(r->affs[i].jid, bare))
            continue;
        if (a == MUC_AFF_NONE) {
            free(r->affs[i].jid);
            free(r->affs[i].nick);
            r->affs[i] = r->affs[--r->naffs];
        } else {
            r->affs[i].aff = a;
            if (nick) {
                free(r->affs[i].nick);
                r->affs[i].nick = xstrdup(nick);
            }
        }
        return;
    }
    if (a == MUC_AFF_NONE)
        return;
    r->affs = xrealloc(r->affs, (r->naffs + 1) * sizeof *r->affs);
    r->affs[r->naffs].jid = xstrdup(bare);
    r->affs[r->naffs].aff = a;
    r->affs[r->naffs].nick = nick ? xstrdup(nick) : NULL;
    r->naffs++;
}

muc_role muc_default_role(const muc_room *r, muc_affiliation a)
{
    if (a >= MUC_AFF_ADMIN)
        return MUC_ROLE_MODERATOR;
    if (r->cfg.moderated && a < MUC_AFF_MEMBER)
        return MUC_ROLE_VISITOR;
    return MUC_ROLE_PARTICIPANT;
}

/* ---- occupants ---- */

muc_occ *muc_occ_by_nick(const muc_room *r, const char *nick)
{
    for (muc_occ *o = r->occs; o; o = o->next)
        if (!strcmp(o->nick, nick))
            return o;
    return NULL;
}

muc_occ *muc_occ_by_jid(const muc_room *r, const char *full)
{
    for (muc_occ *o = r->occs; o; o = o->next)
        for (size_t i = 0; i < o->njids; i++)
            if (!strcmp(o->jids[i], full))
                return o;
    return NULL;
}

static char *occ_jid(const muc_room *r, const char *nick)
{
    size_t n = strlen(r->jid) + strlen(nick) + 2;
    char *s = xmalloc(n);
    snprintf(s, n, "%s/%s", r->jid, nick);
    return s;
}

void muc_send_occ(const muc_room *r, const muc_occ *o, xnode *st)
{
    for (size_t i = 0; i < o->njids; i++) {
        xnode *c = i + 1 < o->njids ? xnode_copy(st) : st;
        xnode_set_attr(c, "to", o->jids[i]);
        router_route_service(c);
    }
    if (!o->njids)
        xnode_free(st);
}

bool muc_may_see_jids(const muc_room *r, const muc_occ *viewer)
{
    return r->cfg.whois == MUC_WHOIS_ANYONE || (viewer && viewer->role == MUC_ROLE_MODERATOR);
}

xnode *muc_occ_presence(const muc_room *r, const muc_occ *o, const muc_occ *viewer,
                        bool unavailable, const int *codes, size_t ncodes)
{
    xnode *p;
    if (!unavailable && o->presence) {
        p = xnode_copy(o->presence);
    } else {
        p = xnode_new("presence", NS_CLIENT);
    }
    if (unavailable)
        xnode_set_attr(p, "type", "unavailable");
    char *from = occ_jid(r, o->nick);
    xnode_set_attr(p, "from", from);
    free(from);
    xnode *x = xnode_add_child(p, "x", NS_MUC_USER);
    xnode *item = xnode_add_child(x, "item", NS_MUC_USER);
    xnode_set_attr(item, "affiliation", muc_affiliation_name(muc_aff_of(r, o->bare)));
    xnode_set_attr(item, "role", unavailable ? "none" : muc_role_name(o->role));
    if (muc_may_see_jids(r, viewer) || viewer == o)
        xnode_set_attr(item, "jid", o->njids ? o->jids[0] : o->bare);
    for (size_t i = 0; i < ncodes; i++) {
        char c[8];
        snprintf(c, sizeof c, "%d", codes[i]);
        xnode_set_attr(xnode_add_child(x, "status", NS_MUC_USER), "code", c);
    }
    return p;
}

/* Everyone sees o (unavailable or not) with codes; o itself gets 110. */
static void broadcast_occ(muc_room *r, muc_occ *o, bool unavailable, const int *codes,
                          size_t ncodes, const char *reason, const xnode *destroy,
                          const char *newnick)
{
    for (muc_occ *v = r->occs; v; v = v->next) {
        int all[8];
        size_t n = 0;
        for (size_t i = 0; i < ncodes && n < 6; i++)
            all[n++] = codes[i];
        if (v == o)
            all[n++] = 110;
        xnode *p = muc_occ_presence(r, o, v, unavailable, all, n);
        xnode *x = xnode_child(p, "x", NS_MUC_USER);
        xnode *item = xnode_child(x, "item", NS_MUC_USER);
        if (newnick)
            xnode_set_attr(item, "nick", newnick);
        if (reason) {
            xnode *re = xnode_add_child(item, "reason", NS_MUC_USER);
            xnode_add_text(re, reason, strlen(reason));
        }
        if (destroy)
            xnode_append(x, xnode_copy(destroy));
        muc_send_occ(r, v, p);
    }
}

void muc_occ_broadcast(muc_room *r, muc_occ *o, const int *codes, size_t ncodes)
{
    broadcast_occ(r, o, false, codes, ncodes, NULL, NULL, NULL);
}

static void unlink_occ(muc_room *r, muc_occ *o)
{
    for (muc_occ **p = &r->occs; *p; p = &(*p)->next)
        if (*p == o) {
            *p = o->next;
            r->nocc--;
            muc_stat_occupants(-1);
            return;
        }
}

void muc_occ_remove(muc_room *r, muc_occ *o, const int *codes, size_t ncodes,
                    const char *reason, xnode *destroy)
{
    /* o is still in the list so that it gets its own unavailable (110). */
    broadcast_occ(r, o, true, codes, ncodes, reason, destroy, NULL);
    unlink_occ(r, o);
    occ_free(o);
}

void muc_aff_enforce(muc_room *r, const char *bare, const char *reason)
{
    muc_affiliation a = muc_aff_of(r, bare);
    muc_occ *next;
    for (muc_occ *o = r->occs; o; o = next) {
        next = o->next;
        if (strcmp(o->bare, bare))
            continue;
        if (a == MUC_AFF_OUTCAST) {
            int c = 301;
            muc_occ_remove(r, o, &c, 1, reason, NULL);
        } else if (r->cfg.members_only && a < MUC_AFF_MEMBER) {
            int c = 321;
            muc_occ_remove(r, o, &c, 1, reason, NULL);
        } else {
            muc_role want = muc_default_role(r, a);
            if (a >= MUC_AFF_ADMIN || o->role == MUC_ROLE_MODERATOR || want != o->role)
                o->role = want;
            muc_occ_broadcast(r, o, NULL, 0);
        }
    }
}

static muc_save_fn save_hook;
void muc_set_save_hook(muc_save_fn fn) { save_hook = fn; }

void muc_room_saved_then(muc_room *r, muc_save_done_fn done, void *ctx,
                         void (*ctx_free)(void *ctx))
{
    muc_index_put(r->jid, r->creator, r->cfg.name, r->cfg.public_room && !r->locked);
    if (!save_hook) {
        if (done)
            done(ctx, true);
        else if (ctx_free && ctx)
            ctx_free(ctx);
        return;
    }
    muc_room_view v = { r->jid, &r->cfg, r->affs, r->naffs, r->nocc, r->locked };
    save_hook(&v, false, done, ctx, ctx_free);
}

void muc_room_saved(muc_room *r) { muc_room_saved_then(r, NULL, NULL, NULL); }

void muc_destroy(muc_room *r, const char *alt, const char *reason)
{
    xnode *d = xnode_new("destroy", NS_MUC_USER);
    if (alt)
        xnode_set_attr(d, "jid", alt);
    if (reason) {
        xnode *re = xnode_add_child(d, "reason", NS_MUC_USER);
        xnode_add_text(re, reason, strlen(reason));
    }
    while (r->occs)
        muc_occ_remove(r, r->occs, NULL, 0, NULL, d);
    xnode_free(d);
    if (save_hook && r->cfg.persistent) {
        muc_room_view v = { r->jid, &r->cfg, r->affs, r->naffs, 0, r->locked };
        save_hook(&v, true, NULL, NULL, NULL);
    }
    log_info("muc: room %s destroyed", r->jid);
    muc_free_room(r);
}

void muc_maybe_vanish(muc_room *r)
{
    if (!r->occs && !r->cfg.persistent) {
        log_debug("muc: temporary room %s is empty: gone", r->jid);
        muc_free_room(r);
    }
}

void muc_error(const xnode *st, const char *type, const char *cond, const char *text)
{
    router_bounce(st, type, cond, text);
}

/* ---- join, presence update, nick change, leave ---- */

static bool nick_ok(const char *raw, char **out)
{
    for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    char *n = jid_resourceprep(raw);
    if (!n || !*n || strlen(n) > MUC_NICK_MAX) {
        free(n);
        return false;
    }
    *out = n;
    return true;
}

static xnode *stored_presence(const xnode *st)
{
    xnode *p = xnode_new("presence", NS_CLIENT);
    for (xnode *c = xnode_first_element(st); c; c = xnode_next_element(c))
        if (strcmp(c->ns, NS_MUC) && strcmp(c->ns, NS_MUC_USER))
            xnode_append(p, xnode_copy(c));
    return p;
}

static void send_subject(muc_room *r, muc_occ *o)
{
    xnode *m;
    if (r->subject) {
        m = xnode_copy(r->subject);
    } else {
        m = xnode_new("message", NS_CLIENT);
        xnode_set_attr(m, "type", "groupchat");
        xnode_set_attr(m, "from", r->jid);
        xnode_add_child(m, "subject", NS_CLIENT);
    }
    muc_send_occ(r, o, m);
}

static void join(const xnode *st, const char *room_jid, const char *from, const jid *fromj,
                 const char *nickraw)
{
    muc_room *r = muc_find(room_jid);
    char *nick = NULL;
    if (!nick_ok(nickraw, &nick)) {
        log_info("muc: %s refused a nickname in %s (control characters, stringprep or "
                 "longer than %d bytes)", from, room_jid, MUC_NICK_MAX);
        muc_error(st, ERR_MODIFY, "jid-malformed", "nickname not acceptable");
        return;
    }
    char *bare = jid_bare_string(fromj);
    const xnode *mucx = xnode_child(st, "x", NS_MUC);
    bool created = false;
    if (!r) {
        if (!muc_may_create(bare)) {
            log_info("muc: %s may not create room %s (plucs/muc/create)", bare, room_jid);
            muc_error(st, ERR_CANCEL, "not-allowed", "room creation is not allowed");
            goto out;
        }
        if (!muc_index_reserve(room_jid, bare, MUC_ROOMS_PER_CREATOR)) {
            log_info("muc: %s has %d rooms already: %s refused", bare, MUC_ROOMS_PER_CREATOR,
                     room_jid);
            muc_error(st, ERR_WAIT, "resource-constraint", "too many rooms");
            goto out;
        }
        r = muc_create(room_jid, bare);
        muc_aff_set(r, bare, MUC_AFF_OWNER, NULL);
        r->locked = mucx != NULL;   /* a MUC client configures it first */
        created = true;
        log_info("muc: %s created room %s%s", bare, room_jid, r->locked ? " (locked)" : "");
    }
    muc_affiliation aff = muc_aff_of(r, bare);
    muc_occ *same = muc_occ_by_nick(r, nick);
    if (r->locked && !created && aff != MUC_AFF_OWNER) {
        muc_error(st, ERR_CANCEL, "item-not-found", "the room is not configured yet");
        goto out;
    }
    if (aff == MUC_AFF_OUTCAST) {
        muc_error(st, ERR_AUTH, "forbidden", "banned");
        goto out;
    }
    if (same && strcmp(same->bare, bare)) {
        muc_error(st, ERR_CANCEL, "conflict", "nickname in use");
        goto out;
    }
    for (size_t i = 0; !same && i < r->naffs; i++)
        if (r->affs[i].nick && !strcmp(r->affs[i].nick, nick) && strcmp(r->affs[i].jid, bare)) {
            muc_error(st, ERR_CANCEL, "conflict", "nickname reserved");
            goto out;
        }
    if (r->cfg.members_only && aff < MUC_AFF_MEMBER) {
        muc_error(st, ERR_AUTH, "registration-required", "members only");
        goto out;
    }
    if (r->cfg.password_protected && aff < MUC_AFF_OWNER && !same) {
        const xnode *pw = mucx ? xnode_child(mucx, "password", NULL) : NULL;
        char *given = pw ? xnode_text(pw) : NULL;
        bool ok = given && r->cfg.password && !strcmp(given, r->cfg.password);
        free(given);
        if (!ok) {
            muc_error(st, ERR_AUTH, "not-authorized", "password required");
            goto out;
        }
    }
    if (!same && r->nocc >= (size_t)r->cfg.max_users && aff < MUC_AFF_ADMIN) {
        log_info("muc: room %s is full (%d occupants): %s refused", r->jid, r->cfg.max_users,
                 from);
        muc_error(st, ERR_WAIT, "service-unavailable", "the room is full");
        goto out;
    }
    muc_occ *o = same;
    if (o) {   /* another resource of the same user: the same occupant */
        o->jids = xrealloc(o->jids, (o->njids + 1) * sizeof *o->jids);
        o->jids[o->njids++] = xstrdup(from);
    } else {
        o = xcalloc(1, sizeof *o);
        o->nick = nick;
        nick = NULL;
        o->bare = xstrdup(bare);
        o->jids = xmalloc(sizeof *o->jids);
        o->jids[0] = xstrdup(from);
        o->njids = 1;
        o->role = muc_default_role(r, aff);
        o->tokens = 20;
        /* appended: presence of existing occupants first */
        muc_occ **p = &r->occs;
        while (*p)
            p = &(*p)->next;
        *p = o;
        r->nocc++;
        muc_stat_occupants(1);
    }
    xnode_free(o->presence);
    o->presence = stored_presence(st);
    /* the joiner sees everyone else first */
    for (muc_occ *v = r->occs; v; v = v->next) {
        if (v == o)
            continue;
        xnode *p = muc_occ_presence(r, v, o, false, NULL, 0);
        xnode_set_attr(p, "to", from);
        router_route_service(p);
    }
    int codes[4];
    size_t n = 0;
    if (r->cfg.whois == MUC_WHOIS_ANYONE)
        codes[n++] = 100;
    if (created)
        codes[n++] = 201;
    if (same) {
        /* only the new resource learns about the join */
        int all[4];
        memcpy(all, codes, n * sizeof *codes);
        all[n] = 110;
        xnode *p = muc_occ_presence(r, o, o, false, all, n + 1);
        xnode_set_attr(p, "to", from);
        router_route_service(p);
    } else {
        muc_occ_broadcast(r, o, codes, n);
    }
    if (!r->locked) {
        const xnode *h = mucx ? xnode_child(mucx, "history", NULL) : NULL;
        muc_occ one = *o;   /* history and subject only to the joining resource */
        char *j1[1] = { (char *)from };
        one.jids = j1;
        one.njids = 1;
        muc_hist_send(r, &one, h);
        send_subject(r, &one);
    }
out:
    free(nick);
    free(bare);
}

static void leave(muc_room *r, muc_occ *o, const char *from, const xnode *st)
{
    if (o->njids > 1) {   /* one resource of several leaves */
        for (size_t i = 0; i < o->njids; i++)
            if (!strcmp(o->jids[i], from)) {
                xnode *p = muc_occ_presence(r, o, o, true, (int[]){ 110 }, 1);
                xnode_set_attr(p, "to", from);
                router_route_service(p);
                free(o->jids[i]);
                o->jids[i] = o->jids[--o->njids];
                break;
            }
        return;
    }
    xnode *status = st ? xnode_child(st, "status", NULL) : NULL;
    if (status) {
        xnode_free(o->presence);
        o->presence = xnode_new("presence", NS_CLIENT);
        xnode_append(o->presence, xnode_copy(status));
    }
    for (muc_occ *v = r->occs; v; v = v->next) {
        int c = 110;
        xnode *p = muc_occ_presence(r, o, v, true, &c, v == o);
        if (status)
            xnode_append(p, xnode_copy(status));
        muc_send_occ(r, v, p);
    }
    unlink_occ(r, o);
    occ_free(o);
    muc_maybe_vanish(r);
}

static void nick_change(muc_room *r, muc_occ *o, const xnode *st, const char *nickraw)
{
    char *nick = NULL;
    if (!nick_ok(nickraw, &nick)) {
        muc_error(st, ERR_MODIFY, "jid-malformed", "nickname not acceptable");
        return;
    }
    muc_occ *other = muc_occ_by_nick(r, nick);
    bool reserved = false;
    for (size_t i = 0; i < r->naffs; i++)
        if (r->affs[i].nick && !strcmp(r->affs[i].nick, nick) && strcmp(r->affs[i].jid, o->bare))
            reserved = true;
    if ((other && other != o) || reserved) {
        muc_error(st, ERR_CANCEL, "conflict", "nickname in use");
        free(nick);
        return;
    }
    int c = 303;
    broadcast_occ(r, o, true, &c, 1, NULL, NULL, nick);
    free(o->nick);
    o->nick = nick;
    xnode_free(o->presence);
    o->presence = stored_presence(st);
    muc_occ_broadcast(r, o, NULL, 0);
}

void muc_room_presence(const xnode *st, const char *room_jid, const jid *to)
{
    const char *from = xnode_attr(st, "from");
    const char *type = xnode_attr(st, "type");
    jid fj;
    if (!from || jid_parse(from, &fj) != 0)
        return;
    muc_room *r = muc_find(room_jid);
    muc_occ *o = r ? muc_occ_by_jid(r, from) : NULL;
    if (type && (!strcmp(type, "unavailable") || !strcmp(type, "error"))) {
        if (o)
            leave(r, o, from, st);
    } else if (type) {
        /* probes, subscriptions: nothing for a room */
    } else if (!to->resource) {
        muc_error(st, ERR_MODIFY, "jid-malformed", "a nickname is required");
    } else if (o && !strcmp(o->nick, to->resource)) {
        xnode_free(o->presence);   /* a presence update */
        o->presence = stored_presence(st);
        muc_occ_broadcast(r, o, NULL, 0);
    } else if (o) {
        nick_change(r, o, st, to->resource);
    } else {
        join(st, room_jid, from, &fj, to->resource);
    }
    jid_clear(&fj);
}

void muc_rooms_free_local(void)
{
    while (rooms)
        muc_free_room(rooms);
}

void muc_rooms_shutdown_local(void)
{
    for (muc_room *r = rooms; r; r = r->next)
        while (r->occs) {
            int c = 332;
            muc_occ_remove(r, r->occs, &c, 1, NULL, NULL);
        }
}
