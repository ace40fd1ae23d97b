/* mod_adhoc.c: XEP-0050 Ad-Hoc Commands (1.3.0) on the server's domain JID,
 * carrying the XEP-0133 Service Administration (1.3.1) commands of
 * adhoc_admin.c and adhoc_motd.c. This file is the protocol: disco of the
 * command list and of each command node, who may run them, the
 * execute/complete/cancel stages with their sessionid, and the errors.
 *
 * Who: members of the directory group plucs/admin/group (an XMPP group of
 * the current snapshot, so a membership change applies without restart;
 * "" = nobody). Everybody else sees an empty command list and gets
 * forbidden on execute. Remote requesters never reach the handler (no
 * module_allow_remote). Commands act on the served domain they were sent
 * to; the JIDs they take must be of a served domain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "metrics/metrics.h"
#include "modules/adhoc.h"
#include "modules/adhoc_motd_index.h"
#include "modules/disco.h"
#include "modules/module.h"
#include "router/router.h"
#include "xmpp/stanza.h"

static const adhoc_cmd *find_cmd(const char *node)
{
    const adhoc_cmd *const *lists[] = { adhoc_admin_cmds, adhoc_motd_cmds };
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (const adhoc_cmd *const *c = lists[l]; *c; c++)
            if (node && !strcmp((*c)->node, node))
                return *c;
    return NULL;
}

/* Whether s's account is a member of plucs/admin/group in the worker's
 * current snapshot. */
static bool is_admin(const session *s)
{
    const char *cn = config_current()->admin_group;
    if (!cn || !*cn || s->remote || !s->bare)
        return false;
    const dir_snapshot *snap = router_snapshot();
    const dir_account *a = snap ? router_account(s->bare) : NULL;
    return dir_snapshot_member(snap, a, cn);
}

/* The served domain a command iq addresses (its 'to', or the stream's
 * domain); NULL for an account or a resource. */
static const char *target_domain(const session *s, const char *to)
{
    if (!to)
        return s->domain;
    if (strchr(to, '@') || strchr(to, '/') || !router_serves(to))
        return NULL;
    return to;
}

/* ---- disco (XEP-0050 §2) ---- */

static bool disco_items(session *s, const char *to, const char *node, xnode *q)
{
    if (strcmp(node, NS_COMMANDS))
        return false;
    if (!is_admin(s))
        return true;            /* no commands for others */
    const adhoc_cmd *const *lists[] = { adhoc_admin_cmds, adhoc_motd_cmds };
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (const adhoc_cmd *const *c = lists[l]; *c; c++) {
            xnode *it = xnode_add_child(q, "item", NS_DISCO_ITEMS);
            xnode_set_attr(it, "jid", to);
            xnode_set_attr(it, "node", (*c)->node);
            xnode_set_attr(it, "name", (*c)->name);
        }
    return true;
}

static bool disco_info(session *s, const char *to, const char *node, xnode *q)
{
    (void)to;
    const adhoc_cmd *c = find_cmd(node);
    if (!c && strcmp(node, NS_COMMANDS))
        return false;
    if (c && !is_admin(s))
        return false;           /* item-not-found: nothing to see */
    xnode *id = xnode_add_child(q, "identity", NS_DISCO_INFO);
    xnode_set_attr(id, "category", "automation");
    xnode_set_attr(id, "type", c ? "command-node" : "command-list");
    xnode_set_attr(id, "name", c ? c->name : "Commands");
    if (c) {
        xnode_set_attr(xnode_add_child(q, "feature", NS_DISCO_INFO), "var", NS_COMMANDS);
        xnode_set_attr(xnode_add_child(q, "feature", NS_DISCO_INFO), "var", NS_XDATA);
    }
    return true;
}

/* ---- replies ---- */

session *adhoc_req_session(const adhoc_req *r)
{
    session *s = session_find(worker_self(), r->sid);
    return s && !s->closing ? s : NULL;
}

void adhoc_req_free(void *p)
{
    adhoc_req *r = p;
    if (!r)
        return;
    xnode_free(r->iq);
    free(r->bare);
    free(r->domain);
    free(r);
}

static xnode *command_result(const adhoc_req *r, const char *status)
{
    xnode *res = iq_result(r->iq);
    xnode *c = xnode_add_child(res, "command", NS_COMMANDS);
    xnode_set_attr(c, "node", r->cmd->node);
    xnode_set_attr(c, "sessionid", r->sessionid);
    xnode_set_attr(c, "status", status);
    return res;
}

void adhoc_reply_form(adhoc_req *r, xnode *form)
{
    session *s = adhoc_req_session(r);
    if (!s) {
        xnode_free(form);
        adhoc_req_free(r);
        return;
    }
    if (!adhoc_session_open(r->sid, r->sessionid, r->cmd, r->domain)) {
        xnode_free(form);
        log_warn("adhoc: %s: too many open command sessions on this worker (%d); refused",
                 r->bare, ADHOC_MAX_PER_WORKER);
        session_send_free(s, stanza_error_reply(r->iq, ERR_WAIT, "resource-constraint", NULL));
        adhoc_req_free(r);
        return;
    }
    xnode *res = command_result(r, "executing");
    xnode *c = xnode_first_element(res);
    xnode *actions = xnode_add_child(c, "actions", NS_COMMANDS);
    xnode_set_attr(actions, "execute", "complete");
    xnode_add_child(actions, "complete", NS_COMMANDS);
    xnode_append(c, form);
    session_send_free(s, res);
    adhoc_req_free(r);
}

void adhoc_reply_done(adhoc_req *r, xnode *form, const char *note_type, const char *note)
{
    session *s = adhoc_req_session(r);
    if (s) {
        xnode *res = command_result(r, "completed");
        xnode *c = xnode_first_element(res);
        if (note) {
            xnode *n = xnode_add_child(c, "note", NS_COMMANDS);
            xnode_set_attr(n, "type", note_type ? note_type : "info");
            xnode_add_text(n, note, strlen(note));
        }
        if (form)
            xnode_append(c, form);
        session_send_free(s, res);
    } else {
        xnode_free(form);
    }
    adhoc_req_free(r);
}

static void send_error(session *s, const xnode *iq, const char *type, const char *condition,
                       const char *specific)
{
    xnode *e = stanza_error_reply(iq, type, condition, NULL);
    xnode *err = e ? xnode_child(e, "error", NULL) : NULL;
    if (err && specific)
        xnode_add_child(err, specific, NS_COMMANDS);
    session_send_free(s, e);
}

void adhoc_reply_error(adhoc_req *r, const char *type, const char *condition,
                       const char *specific, const char *why)
{
    log_info("adhoc: %s ran %s: %s%s%s (%s)", r->bare, r->cmd->node, condition,
             specific ? "/" : "", specific ? specific : "", why ? why : "");
    session *s = adhoc_req_session(r);
    if (s)
        send_error(s, r->iq, type, condition, specific);
    adhoc_req_free(r);
}

/* ---- the iq ---- */

static void refuse(session *s, const xnode *iq, const char *type, const char *condition,
                   const char *specific, const char *node, const char *why)
{
    log_info("adhoc: %s: command %s refused with %s%s%s: %s", s->full ? s->full : "?",
             node ? node : "(none)", condition, specific ? "/" : "", specific ? specific : "",
             why);
    send_error(s, iq, type, condition, specific);
}

static void new_sessionid(char *out, size_t n)
{
    unsigned char rnd[8];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        memset(rnd, 0, sizeof rnd);
    snprintf(out, n, "%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
             rnd[4], rnd[5], rnd[6], rnd[7]);
}

static void adhoc_iq(session *s, const xnode *iq, const xnode *cmd_el)
{
    const char *type = xnode_attr(iq, "type");
    const char *node = xnode_attr(cmd_el, "node");
    if (!type || strcmp(type, "set") || strcmp(cmd_el->name, "command") || !node) {
        refuse(s, iq, ERR_MODIFY, "bad-request", NULL, node, "not a command set with a node");
        return;
    }
    const char *domain = target_domain(s, xnode_attr(iq, "to"));
    const adhoc_cmd *cmd = find_cmd(node);
    if (!domain || !cmd) {
        refuse(s, iq, ERR_CANCEL, "item-not-found", NULL, node, "no such command here");
        return;
    }
    if (!is_admin(s)) {
        metrics_adhoc_command(false);
        const char *cn = config_current()->admin_group;
        log_info("adhoc: %s may not run %s: not a member of plucs/admin/group (%s)",
                   s->bare ? s->bare : "?", node, cn && *cn ? cn : "empty: nobody");
        send_error(s, iq, ERR_AUTH, "forbidden", NULL);
        return;
    }
    const char *action = xnode_attr(cmd_el, "action");
    if (!action)
        action = "execute";
    bool cancel = !strcmp(action, "cancel");
    bool complete = !strcmp(action, "complete") || !strcmp(action, "execute");
    if (!cancel && !complete) {
        bool known = !strcmp(action, "next") || !strcmp(action, "prev");
        refuse(s, iq, ERR_MODIFY, "bad-request", known ? "bad-action" : "malformed-action",
               node, "action not offered");
        return;
    }
    const char *sessionid = xnode_attr(cmd_el, "sessionid");
    adhoc_req *r = xcalloc(1, sizeof *r);
    r->sid = s->id;
    r->bare = xstrdup(s->bare);
    r->iq = iq_envelope(iq);
    r->cmd = cmd;
    if (!sessionid) {
        if (cancel) {
            adhoc_req_free(r);
            refuse(s, iq, ERR_MODIFY, "bad-request", "bad-sessionid", node,
                   "cancel without a sessionid");
            return;
        }
        metrics_adhoc_command(true);
        r->domain = xstrdup(domain);
        new_sessionid(r->sessionid, sizeof r->sessionid);
        log_info("adhoc: %s executes %s on %s", s->bare, node, domain);
        cmd->start(r);
        return;
    }
    const adhoc_cmd *opened = NULL;
    char *odomain = NULL;
    adhoc_lookup found = strlen(sessionid) < sizeof r->sessionid
                             ? adhoc_session_take(s->id, sessionid, &opened, &odomain)
                             : ADHOC_UNKNOWN;
    if (found == ADHOC_FOUND && opened != cmd) {
        found = ADHOC_UNKNOWN;         /* another command's session: gone now */
        free(odomain);
        odomain = NULL;
    }
    if (found != ADHOC_FOUND) {
        adhoc_req_free(r);
        if (found == ADHOC_EXPIRED)
            refuse(s, iq, ERR_CANCEL, "not-allowed", "session-expired", node,
                   "command session expired");
        else
            refuse(s, iq, ERR_MODIFY, "bad-request", "bad-sessionid", node,
                   "unknown sessionid");
        return;
    }
    r->domain = odomain;
    snprintf(r->sessionid, sizeof r->sessionid, "%s", sessionid);
    if (cancel) {
        xnode *res = command_result(r, "canceled");
        session_send_free(s, res);
        adhoc_req_free(r);
        return;
    }
    const xnode *form = adhoc_form_submitted(cmd_el);
    if (!form || !cmd->submit) {
        adhoc_reply_error(r, ERR_MODIFY, "bad-request", "bad-payload",
                          "no submitted jabber:x:data form of " NS_ADMIN);
        return;
    }
    metrics_adhoc_command(true);
    cmd->submit(r, form);
}

static void adhoc_ended(session *s)
{
    adhoc_session_drop_all(s->id);
}

/* The message of the day index is loaded once, on worker 0 (its first
 * snapshot comes at start-up, before the directory answered). */
static void motd_snapshot(const dir_snapshot *old, const config *old_cfg,
                          const dir_snapshot *snap)
{
    (void)old;
    (void)old_cfg;
    (void)snap;
    worker *self = worker_self();
    if (self && worker_id(self) == 0)
        motd_index_load(self);
}

static void adhoc_init(void)
{
    motd_index_reset();
    module_register_iq(NS_COMMANDS, adhoc_iq);
    module_add_feature(NS_COMMANDS);
    module_hook_session(EV_ENDED, adhoc_ended);
    module_hook_session(EV_AVAILABLE, adhoc_motd_deliver);
    module_hook_snapshot(motd_snapshot);
    disco_add_node_handler(disco_info, disco_items);
}

const module mod_adhoc = {
    .name = "adhoc",
    .init = adhoc_init,
    .shutdown = motd_index_reset,
    .thread_exit = adhoc_sessions_thread_exit,
};
