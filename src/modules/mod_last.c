/* mod_last.c: XEP-0012 last activity.
 *
 * - To the server (a served domain): seconds since plucsd started.
 * - To an account's bare JID (or without 'to': the user's own): 0 while
 *   the account has an available resource, else the seconds since its last
 *   logout with the status text of its last unavailable presence. Every
 *   session end records (time, status) in the store; the last one to end
 *   is the one that counts, so two sessions ending at the same moment on
 *   different workers cannot leave a stale record behind.
 * - Who may ask (XEP-0012 §4: those subscribed to the user's presence):
 *   with the shared roster everyone in the user's domain is a contact, so
 *   the user and accounts of the same domain; others get forbidden. Someone
 *   the user blocked (XEP-0191) gets service-unavailable, as for any iq.
 *   A remote requester (federation) may ask iff the user's personal roster
 *   shares presence with it (subscription from/both), else forbidden.
 * - A full JID is never seen here: the router hands it to that client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/alloc.h"
#include "modules/blocklist.h"
#include "modules/module.h"
#include "modules/roster.h"
#include "router/router.h"
#include "router/routes.h"
#include "store/store_blocklist.h"
#include "store/store_last.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

#define NS_LAST "jabber:iq:last"

static struct timespec started;
static int slot = -1;   /* per session: status text of its last unavailable presence */

/* ---- recording logouts ---- */

static hook_result last_outbound(session *s, xnode *st)
{
    if (xnode_attr(st, "to") || stanza_kind_of(st) != STANZA_PRESENCE)
        return HOOK_CONTINUE;
    const char *type = xnode_attr(st, "type");
    if (!type) {
        free(s->slots[slot]);       /* available again: forget the old status */
        s->slots[slot] = NULL;
    } else if (!strcmp(type, "unavailable")) {
        xnode *status = xnode_child(st, "status", NULL);
        free(s->slots[slot]);
        s->slots[slot] = status ? xnode_text(status) : NULL;
    }
    return HOOK_CONTINUE;
}

static void last_ended(session *s)
{
    store_last_set(NULL, s->bare, (int64_t)time(NULL), s->slots[slot], NULL, NULL, NULL);
}

/* ---- answering ---- */

static xnode *last_reply(const xnode *iq, long long seconds, const char *text)
{
    xnode *r = iq_result(iq);
    xnode *q = xnode_add_child(r, "query", NS_LAST);
    char num[24];
    snprintf(num, sizeof num, "%lld", seconds < 0 ? 0 : seconds);
    xnode_set_attr(q, "seconds", num);
    if (text && *text)
        xnode_add_text(q, text, strlen(text));
    return r;
}

/* An offline query in flight: the blocklist is read first, then the record. */
typedef struct last_job {
    uint64_t sid;
    char *target;
    char *asker;       /* the requester's full JID */
    xnode *iq;         /* id, from, to of the request */
} last_job;

static void job_free(void *p)
{
    last_job *j = p;
    free(j->target);
    free(j->asker);
    xnode_free(j->iq);
    free(j);
}

static void record_read(void *arg, store_last *res)
{
    last_job *j = arg;
    session *s = session_find(worker_self(), j->sid);
    if (s && !s->closing) {
        if (res->status == STORE_OK)
            session_send_free(s, last_reply(j->iq, (long long)(time(NULL) - res->stamp), res->text));
        else if (res->status == STORE_NOT_FOUND)
            session_send_free(s, stanza_error_reply(j->iq, ERR_CANCEL, "item-not-found", NULL));
        else
            session_send_free(s, stanza_error_reply(j->iq, ERR_WAIT, "internal-server-error", NULL));
    }
    store_last_free(res);
    job_free(j);
}

static void blocklist_read(void *arg, store_blocklist *res)
{
    last_job *j = arg;
    bool blocked = false;
    jid asker;
    if (res->n && jid_parse(j->asker, &asker) == 0) {
        for (size_t i = 0; i < res->n && !blocked; i++) {
            jid item;
            if (jid_parse(res->items[i], &item) == 0) {
                blocked = blocklist_item_matches(&item, &asker);
                jid_clear(&item);
            }
        }
        jid_clear(&asker);
    }
    store_blocklist_free(res);
    session *s = session_find(worker_self(), j->sid);
    if (!s || s->closing) {
        job_free(j);
    } else if (blocked) {
        session_send_free(s, stanza_error_reply(j->iq, ERR_CANCEL, "service-unavailable", NULL));
        job_free(j);
    } else {
        store_last_get(s->w, j->target, record_read, j, job_free);
    }
}

static bool any_available(const char *bare)
{
    route_ref refs[ROUTES_MAX_RESOURCES];
    size_t n = router_resources(bare, refs, ROUTES_MAX_RESOURCES);
    for (size_t i = 0; i < n; i++)
        if (refs[i].available)
            return true;
    return false;
}

static void user_last(session *s, const xnode *iq, const jid *target, bool allowed)
{
    char *bare = jid_bare_string(target);
    bool self = !s->remote && !strcmp(bare, s->bare);
    /* the requester, as the stanza names it (the remote pseudo-session
     * serves many requesters) */
    const char *asker_s = s->remote ? xnode_attr(iq, "from") : s->full;
    if (!asker_s || (!self && !allowed && (s->remote || strcmp(target->domain, s->domain)))) {
        log_info("last: %s may not ask for the last activity of %s", asker_s ? asker_s : "?",
                 bare);
        session_send_free(s, stanza_error_reply(iq, ERR_AUTH, "forbidden", NULL));
        free(bare);
        return;
    }
    const dir_snapshot *snap = router_snapshot();
    if (!snap || !dir_snapshot_account(snap, target->node, target->domain)) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "service-unavailable", NULL));
        free(bare);
        return;
    }
    jid asker;
    bool blocked = false, online = routes_count(bare) > 0;
    if (!self && online && jid_parse(asker_s, &asker) == 0) {
        blocked = block_cache_bare_blocks(bare, &asker);
        jid_clear(&asker);
    }
    if (blocked) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "service-unavailable", NULL));
    } else if (any_available(bare)) {
        session_send_free(s, last_reply(iq, 0, NULL));
    } else {
        last_job *j = xcalloc(1, sizeof *j);
        j->sid = s->id;
        j->target = bare;
        bare = NULL;
        j->asker = xstrdup(asker_s);
        j->iq = xnode_new("iq", iq->ns);
        static const char *const keep[] = { "id", "from", "to" };
        for (size_t i = 0; i < 3; i++)
            xnode_set_attr(j->iq, keep[i], xnode_attr(iq, keep[i]));
        xnode_set_attr(j->iq, "type", "get");
        if (self || online)   /* a bound session means the list is in the cache */
            store_last_get(s->w, j->target, record_read, j, job_free);
        else
            store_block_get(s->w, j->target, blocklist_read, j, job_free);
    }
    free(bare);
}

/* A remote requester: allowed once the user's roster says from/both. */
typedef struct remote_job {
    uint64_t sid;
    xnode *iq;
} remote_job;

static void remote_job_free(void *p)
{
    remote_job *r = p;
    xnode_free(r->iq);
    free(r);
}

static void remote_checked(void *ud, store_sub sub)
{
    remote_job *r = ud;
    session *s = session_find(worker_self(), r->sid);
    jid target;
    if (s && jid_parse(xnode_attr(r->iq, "to"), &target) == 0) {
        user_last(s, r->iq, &target, sub == STORE_SUB_FROM || sub == STORE_SUB_BOTH);
        jid_clear(&target);
    }
    remote_job_free(r);
}

static void remote_last(session *s, const xnode *iq, const jid *target)
{
    jid from;
    const char *from_s = xnode_attr(iq, "from");
    if (!from_s || jid_parse(from_s, &from) != 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_AUTH, "forbidden", NULL));
        return;
    }
    remote_job *r = xcalloc(1, sizeof *r);
    r->sid = s->id;
    r->iq = xnode_copy(iq);
    char *user = jid_bare_string(target), *requester = jid_bare_string(&from);
    jid_clear(&from);
    roster_subscription_state(user, requester, remote_checked, remote_job_free, r);
    free(user);
    free(requester);
}

static void last_iq(session *s, const xnode *iq, const xnode *payload)
{
    const char *type = xnode_attr(iq, "type");
    if (!type || strcmp(type, "get") || strcmp(payload->name, "query")) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    const char *to = xnode_attr(iq, "to");
    jid target;
    if (!to && !s->bare) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "jid-malformed", NULL));
        return;
    }
    if (jid_parse(to ? to : s->bare, &target) != 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "jid-malformed", NULL));
        return;
    }
    if (!target.node) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        session_send_free(s, last_reply(iq, (long long)(now.tv_sec - started.tv_sec), NULL));
    } else if (s->remote) {
        remote_last(s, iq, &target);
    } else {
        user_last(s, iq, &target, false);
    }
    jid_clear(&target);
}

static void last_init(void)
{
    clock_gettime(CLOCK_MONOTONIC, &started);
    module_register_iq(NS_LAST, last_iq);
    module_allow_remote(NS_LAST);   /* contacts elsewhere: see remote_last */
    module_add_feature(NS_LAST);
    module_hook_stanza(EV_OUTBOUND, last_outbound);
    module_hook_session(EV_ENDED, last_ended);
}

const module mod_last = {
    .name = "last",
    .init = last_init,
    .slot = &slot,
    .slot_free = free,
};
