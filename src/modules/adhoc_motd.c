/* adhoc_motd.c: the message of the day (XEP-0133 set-motd, edit-motd,
 * delete-motd) of each served domain, and its delivery: at a user's next
 * login (initial presence, EV_AVAILABLE) after it was set or changed, once
 * per user, as a normal message from the domain (the store marks it seen in
 * the same transaction it reads it: store_motd.h). Setting it does not
 * interrupt users who are online now; use the announcement for that. Every
 * store call is asynchronous; its answer finds the session by id. A login
 * asks the store only when its domain has a message (adhoc_motd_index.h),
 * so that logins do not each cost a transaction while none is set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "modules/adhoc.h"
#include "modules/adhoc_motd_index.h"
#include "modules/async_job.h"
#include "router/events.h"
#include "store/store_motd.h"
#include "xmpp/stanza.h"

#define MOTD_MAX_LINES 200
#define MOTD_MAX_BYTES 8192

/* The requesting session, or NULL after freeing r (the client left). */
static session *req_session(adhoc_req *r)
{
    session *s = adhoc_req_session(r);
    if (!s)
        adhoc_req_free(r);
    return s;
}

/* Whether the store failed (then r is answered with an error and freed). */
static bool store_failed(adhoc_req *r, bool failed)
{
    if (failed)
        adhoc_reply_error(r, "wait", "internal-server-error", NULL, "store error");
    return failed;
}

static xnode *motd_form(const char *title, const char *current)
{
    xnode *x = adhoc_form_new("form", title,
                              "Users see it once at their next login, and again after a change.");
    adhoc_form_field(x, "motd", "text-multi", "Message of the day", current, true);
    return x;
}

static void set_start(adhoc_req *r)
{
    adhoc_reply_form(r, motd_form("Set message of the day", NULL));
}

static void got_current(void *arg, store_motd *m)
{
    adhoc_req *r = arg;
    if (!store_failed(r, m->status == STORE_ERROR))
        adhoc_reply_form(r, motd_form("Edit message of the day", m->text));
    store_motd_free(m);
}

static void edit_start(adhoc_req *r)
{
    session *s = req_session(r);
    if (s)
        store_motd_get(s->w, r->domain, got_current, r, adhoc_req_free);
}

static void stored(void *arg, store_status st, int64_t version)
{
    adhoc_req *r = arg;
    if (store_failed(r, st != STORE_OK))
        return;
    log_info("adhoc: %s set the message of the day of %s (version %lld)", r->bare, r->domain,
             (long long)version);
    adhoc_reply_done(r, NULL, "info", "Message of the day set.");
}

static void set_submit(adhoc_req *r, const xnode *form)
{
    session *s = req_session(r);
    if (!s)
        return;
    bool bad = false;
    char *text = adhoc_form_text(form, "motd", MOTD_MAX_LINES, MOTD_MAX_BYTES, &bad);
    if (bad || !text || !*text) {
        free(text);
        adhoc_reply_error(r, "modify", "bad-request", "bad-payload",
                          bad ? "motd too long (at most 200 lines of 8192 bytes)"
                              : "field motd missing or empty (delete-motd removes it)");
        return;
    }
    motd_index_set(s->w, r->domain, text, stored, r, adhoc_req_free);
    free(text);
}

static void deleted(void *arg, store_status st, int64_t removed)
{
    adhoc_req *r = arg;
    if (store_failed(r, st != STORE_OK))
        return;
    log_info("adhoc: %s deleted the message of the day of %s%s", r->bare, r->domain,
             removed ? "" : " (there was none)");
    adhoc_reply_done(r, NULL, "info",
                     removed ? "Message of the day deleted." : "There was no message of the day.");
}

static void delete_start(adhoc_req *r)
{
    session *s = req_session(r);
    if (s)
        motd_index_delete(s->w, r->domain, deleted, r, adhoc_req_free);
}

static const adhoc_cmd cmd_set = {
    NS_ADMIN "#set-motd", "Set Message of the Day", set_start, set_submit,
};
static const adhoc_cmd cmd_edit = {
    NS_ADMIN "#edit-motd", "Edit Message of the Day", edit_start, set_submit,
};
static const adhoc_cmd cmd_delete = {
    NS_ADMIN "#delete-motd", "Delete Message of the Day", delete_start, NULL,
};

const adhoc_cmd *const adhoc_motd_cmds[] = { &cmd_set, &cmd_edit, &cmd_delete, NULL };

/* ---- delivery at login ---- */

static void taken(void *arg, store_motd *m)
{
    uint64_t *sid = arg;
    session *s = session_find(worker_self(), *sid);
    if (s && !s->closing && m->status == STORE_OK && m->text) {
        xnode *msg = xnode_new("message", NS_CLIENT);
        xnode_set_attr(msg, "from", s->domain);
        xnode_set_attr(msg, "to", s->full);
        xnode_set_attr(msg, "type", "normal");
        xnode_add_text(xnode_add_child(msg, "subject", NS_CLIENT), "Message of the day",
                       strlen("Message of the day"));
        xnode_add_text(xnode_add_child(msg, "body", NS_CLIENT), m->text, strlen(m->text));
        if (events_stanza(EV_INBOUND, s, msg) == HOOK_CONTINUE)
            session_send(s, msg);
        xnode_free(msg);
        log_info("adhoc: message of the day (version %lld) delivered to %s",
                 (long long)m->version, s->full);
    }
    store_motd_free(m);
    free(sid);
}

void adhoc_motd_deliver(session *s)
{
    if (!s->bare || !s->domain || s->remote || !motd_index_may_have(s->domain))
        return;
    log_debug("adhoc: asking the store for the message of the day of %s for %s", s->domain,
              s->bare);
    uint64_t *sid = xmalloc(sizeof *sid);
    *sid = s->id;
    store_motd_take(s->w, s->domain, s->bare, taken, sid, free);
}
