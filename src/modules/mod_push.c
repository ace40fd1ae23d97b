/* mod_push.c: push notifications (XEP-0357, urn:xmpp:push:0): wake a phone
 * whose sessions are all detached (stream management) or offline.
 *
 * - <enable jid node/> with an optional publish-options form registers an
 *   app server for the account (persisted, store_push.h; at most
 *   PUSH_MAX_REGS per account, beyond: resource-constraint); <disable jid
 *   node?/> removes one or every node of that app server.
 * - A message with a body for an account with no available resource
 *   (EV_UNDELIVERABLE: before mod_offline, which still stores it) or
 *   delivered to a detached session while no resource of the account is
 *   attached and available (EV_INBOUND) counts one; each registration gets
 *   an iq set from the account's domain to the app server carrying the
 *   summary form (message-count since the account went away, reset when a
 *   session is bound; last-message-sender unless the publish-options say
 *   include-sender=false; last-message-body only with include-body=true)
 *   and the stored publish-options.
 * - A sender the account blocked (XEP-0191) wakes nobody.
 * - At most one push per registration per plucs/push/interval seconds:
 *   the messages between still count, and a trailing push (a timer on the
 *   worker) carries the total when the interval ends.
 * - An error from the app server (XEP-0357 §6) removes the registration
 *   with a log line; the answer comes from a local session or over
 *   federation (EV_SERVER_IQ_REPLY).
 * - plucs/push=false: enable and disable are service-unavailable, nothing
 *   is sent and the account does not advertise the feature.
 * This file holds the registrations and the triggers; the sending side
 * (the form, the rate limit, the answers) is push_notify.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "core/worker.h"
#include "modules/blocklist.h"
#include "modules/module.h"
#include "modules/push_notify.h"
#include "modules/push_state.h"
#include "router/routes.h"
#include "store/store_blocklist.h"
#include "store/store_push.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

#define FORM_PUBLISH_OPTIONS "http://jabber.org/protocol/pubsub#publish-options"
#define PUSH_MAX_REGS 5

/* ---- triggers ---- */

typedef struct trigger_job {
    char *bare, *from, *sender, *body;
    store_push_regs *regs;   /* once listed */
} trigger_job;

static void trigger_job_free(void *p)
{
    trigger_job *j = p;
    free(j->bare);
    free(j->from);
    free(j->sender);
    free(j->body);
    store_push_regs_free(j->regs);
    free(j);
}

/* Counts the message and sends (or holds) one push per registration. */
static void notify(trigger_job *j)
{
    push_state_note(j->bare, j->sender, j->body);
    push_notify(j->bare, j->regs);
}

/* Whether one of the stored blocklist items (XEP-0191) matches from. */
static bool blocked_by(const store_blocklist *b, const char *from)
{
    jid addr;
    if (!from || jid_parse(from, &addr) != 0)
        return false;
    bool hit = false;
    for (size_t i = 0; i < b->n && !hit; i++) {
        jid item;
        if (jid_parse(b->items[i], &item) == 0) {
            hit = blocklist_item_matches(&item, &addr);
            jid_clear(&item);
        }
    }
    jid_clear(&addr);
    return hit;
}

/* A blocked sender wakes nobody (its message is never delivered either:
 * mod_blocking drops it when the stored messages come). The blocklist of
 * an absent account is read from the store, only for accounts that have
 * push registrations. */
static void block_checked(void *arg, store_blocklist *b)
{
    trigger_job *j = arg;
    if (b->status != STORE_OK && b->status != STORE_NOT_FOUND)
        log_err("push: cannot read the blocklist of %s; pushing anyway", j->bare);
    if (b->status == STORE_OK && blocked_by(b, j->from))
        log_debug("push: no push for %s: the sender is blocked", j->bare);
    else if (push_on())
        notify(j);
    store_blocklist_free(b);
    trigger_job_free(j);
}

static void listed(void *arg, store_push_regs *res)
{
    trigger_job *j = arg;
    if (res->status == STORE_OK && res->n && push_on()) {
        j->regs = res;
        if (j->from) {
            store_block_get(worker_self(), j->bare, block_checked, j, trigger_job_free);
            return;
        }
        notify(j);
        trigger_job_free(j);
        return;
    }
    if (res->status != STORE_OK)
        log_err("push: cannot read the push registrations of %s", j->bare);
    store_push_regs_free(res);
    trigger_job_free(j);
}

/* A message the user should be woken for: one with a body, not an error,
 * headline or groupchat message. */
static bool wakes(const xnode *st)
{
    if (stanza_kind_of(st) != STANZA_MESSAGE || !xnode_child(st, "body", NULL))
        return false;
    const char *type = xnode_attr(st, "type");
    return !type || !strcmp(type, "chat") || !strcmp(type, "normal");
}

static void trigger(const char *bare, const xnode *st)
{
    trigger_job *j = xcalloc(1, sizeof *j);
    j->bare = xstrdup(bare);
    const char *from = xnode_attr(st, "from");
    jid f;
    if (from && jid_parse(from, &f) == 0) {
        j->from = jid_to_string(&f);
        j->sender = jid_bare_string(&f);
        jid_clear(&f);
    }
    j->body = xnode_text(xnode_child(st, "body", NULL));
    store_push_list(worker_self(), bare, listed, j, trigger_job_free);
}

/* EV_UNDELIVERABLE: no available resource; offline storage runs after. */
static hook_result push_undeliverable(session *origin, xnode *st, const char *bare)
{
    (void)origin;
    if (push_on() && wakes(st))
        trigger(bare, st);
    return HOOK_CONTINUE;
}

/* EV_INBOUND to a detached session (stream management keeps it for
 * resumption): a push when no resource of the account is attached and
 * available, once per message (by the first resource routing picked). */
static hook_result push_inbound(session *s, xnode *st)
{
    if (!s->detached || !s->bare || !push_on() || !wakes(st))
        return HOOK_CONTINUE;
    route_ref refs[ROUTES_MAX_RESOURCES];
    size_t n = routes_lookup(s->bare, refs, ROUTES_MAX_RESOURCES);
    for (size_t i = 0; i < n; i++)
        if (refs[i].available && !refs[i].detached)
            return HOOK_CONTINUE;
    const char *to = xnode_attr(st, "to");
    if (!to || !strchr(to, '/')) {
        size_t top[ROUTES_MAX_RESOURCES];
        size_t k = routes_pick_top(refs, n, top);
        if (k && refs[top[0]].sid != s->id)
            return HOOK_CONTINUE;   /* another detached resource counts it */
    }
    trigger(s->bare, st);
    return HOOK_CONTINUE;
}

/* EV_BOUND: the account is back; the next absence counts from zero. */
static void push_bound(session *s)
{
    if (s->bare)
        push_state_reset(s->bare);
}

/* ---- enable / disable ---- */

typedef struct iq_job {
    uint64_t sid;
    xnode *iq;          /* id, from, to, type of the request */
    char *jid, *node;   /* enable: for the rate state; disable: what goes */
} iq_job;

static void iq_job_free(void *p)
{
    iq_job *j = p;
    xnode_free(j->iq);
    free(j->jid);
    free(j->node);
    free(j);
}

static iq_job *iq_job_new(session *s, const xnode *iq)
{
    iq_job *j = xcalloc(1, sizeof *j);
    j->sid = s->id;
    j->iq = iq_envelope(iq);
    return j;
}

static void changed(void *arg, store_status st, int64_t value)
{
    (void)value;
    iq_job *j = arg;
    session *s = session_find(worker_self(), j->sid);
    if (s && !s->closing) {
        if (st == STORE_OK) {
            session_send_free(s, iq_result(j->iq));
        } else if (st == STORE_FULL) {
            log_info("push: %s has %d push registrations already: refusing another", s->bare,
                     PUSH_MAX_REGS);
            session_send_free(s, stanza_error_reply(j->iq, ERR_WAIT, "resource-constraint", NULL));
        } else {
            session_send_free(s, stanza_error_reply(j->iq, ERR_WAIT, "internal-server-error",
                                                    NULL));
        }
    }
    iq_job_free(j);
}

/* The prepared form of the jid attribute, or NULL. */
static char *prepared_jid(const xnode *el)
{
    const char *v = xnode_attr(el, "jid");
    jid j;
    if (!v || jid_parse(v, &j) != 0)
        return NULL;
    char *s = jid_to_string(&j);
    jid_clear(&j);
    return s;
}

static void push_iq(session *s, const xnode *iq, const xnode *payload)
{
    const char *type = xnode_attr(iq, "type"), *to = xnode_attr(iq, "to");
    if (!push_on()) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "service-unavailable", NULL));
        return;
    }
    if (to && strcmp(to, s->bare) && (!s->domain || strcmp(to, s->domain))) {
        session_send_free(s, stanza_error_reply(iq, ERR_AUTH, "forbidden", NULL));
        return;
    }
    bool enable = !strcmp(payload->name, "enable"), disable = !strcmp(payload->name, "disable");
    const char *node = xnode_attr(payload, "node");
    char *app = prepared_jid(payload);
    if (!type || strcmp(type, "set") || (!enable && !disable) || !app ||
        (enable && (!node || !*node))) {
        free(app);
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    iq_job *j = iq_job_new(s, iq);
    j->jid = app;
    j->node = node ? xstrdup(node) : NULL;
    if (disable) {
        push_state_forget(s->bare, app, node);
        log_info("push: %s disabled push to %s%s%s", s->bare, app, node ? " node " : "",
                 node ? node : "");
        store_push_remove(s->w, s->bare, app, node, changed, j, iq_job_free);
        return;
    }
    char *form = NULL;
    const xnode *x = xnode_child(payload, "x", NS_XDATA);
    if (x) {
        char *ft = push_form_value(x, "FORM_TYPE");
        bool ok = ft && !strcmp(ft, FORM_PUBLISH_OPTIONS);
        free(ft);
        if (!ok) {
            iq_job_free(j);
            session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
            return;
        }
        form = xml_to_string(x, NULL);
    }
    push_state_forget(s->bare, app, node);   /* a new registration: no old rate state */
    log_info("push: %s enabled push to %s node %s", s->bare, app, node);
    store_push_add(s->w, s->bare, app, node, form, PUSH_MAX_REGS, changed, j, iq_job_free);
    free(form);
}

static void push_init(void)
{
    module_register_iq(NS_PUSH, push_iq);
    module_add_account_feature(NS_PUSH, push_on);
    module_hook_undeliverable(push_undeliverable);
    module_hook_stanza(EV_INBOUND, push_inbound);
    module_hook_stanza(EV_SERVER_IQ_REPLY, push_notify_answer);
    module_hook_session(EV_BOUND, push_bound);
}

static void push_shutdown(void)
{
    push_state_clear();
}

const module mod_push = {
    .name = "push",
    .init = push_init,
    .shutdown = push_shutdown,
    .thread_exit = push_notify_thread_exit,
};
