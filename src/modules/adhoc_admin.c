/* adhoc_admin.c: the XEP-0133 commands about who is online, on the served
 * domain the command was sent to: send an announcement to every online
 * session, the number and the list of online users, end a user's
 * sessions, a user's statistics. Who is online comes from the routing
 * table (routes.h), which every worker shares, so none of this waits for
 * another thread; ending a session is posted to the session's worker. The
 * accounts of a domain are the directory snapshot's (sorted by domain). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "modules/account_table.h"
#include "modules/adhoc.h"
#include "modules/async_job.h"
#include "router/router.h"
#include "router/routes.h"
#include "store/store_roster.h"
#include "xmpp/jid.h"

#define ANNOUNCE_MAX_LINES 200
#define TEXT_MAX_BYTES 8192
#define LIST_MAX 1000          /* online users listed at most */
#define END_MAX_JIDS 100       /* JIDs per end-user-session */

/* Calls fn for every account of domain in the worker's snapshot. */
static void each_account(const char *domain, void (*fn)(const dir_account *a, void *ud),
                         void *ud)
{
    const dir_snapshot *snap = router_snapshot();
    if (!snap)
        return;
    for (uint32_t i = 0; i < snap->naccounts; i++)
        if (!strcmp(snap->accounts[i].domain, domain))
            fn(&snap->accounts[i], ud);
}

/* ---- announce ---- */

static void announce_start(adhoc_req *r)
{
    xnode *x = adhoc_form_new("form", "Send announcement to all online users",
                              "The message goes to every online session of this domain.");
    adhoc_form_field(x, "subject", "text-single", "Subject", NULL, false);
    adhoc_form_field(x, "announcement", "text-multi", "Announcement", NULL, true);
    adhoc_reply_form(r, x);
}

typedef struct announce {
    const xnode *msg;     /* 'to' is set per session */
    size_t sessions, users;
} announce;

static void announce_one(const dir_account *a, void *ud)
{
    announce *an = ud;
    size_t n = account_deliver_all(a->bare, an->msg);
    an->sessions += n;
    an->users += n > 0;
}

static void announce_submit(adhoc_req *r, const xnode *form)
{
    bool bad = false;
    char *body = adhoc_form_text(form, "announcement", ANNOUNCE_MAX_LINES, TEXT_MAX_BYTES, &bad);
    char *subject = adhoc_form_text(form, "subject", 1, 256, &bad);
    if (bad || !body || !*body) {
        free(body);
        free(subject);
        adhoc_reply_error(r, "modify", "bad-request", "bad-payload",
                          bad ? "announcement too long (at most 200 lines of 8192 bytes)"
                              : "field announcement missing or empty");
        return;
    }
    xnode *m = xnode_new("message", NS_CLIENT);
    xnode_set_attr(m, "from", r->domain);
    xnode_set_attr(m, "type", "headline");
    if (subject && *subject)
        xnode_add_text(xnode_add_child(m, "subject", NS_CLIENT), subject, strlen(subject));
    xnode_add_text(xnode_add_child(m, "body", NS_CLIENT), body, strlen(body));
    announce an = { .msg = m };
    each_account(r->domain, announce_one, &an);
    xnode_free(m);
    log_info("adhoc: %s sent an announcement to %zu session(s) of %zu user(s) of %s", r->bare,
             an.sessions, an.users, r->domain);
    char note[128];
    snprintf(note, sizeof note, "Announcement sent to %zu session(s) of %zu user(s).",
             an.sessions, an.users);
    free(body);
    free(subject);
    adhoc_reply_done(r, NULL, "info", note);
}

static const adhoc_cmd cmd_announce = {
    NS_ADMIN "#announce", "Send Announcement to Online Users", announce_start, announce_submit,
};

/* ---- online users ---- */

typedef struct online {
    size_t users;
    bool list;
    buf jids;             /* newline separated */
} online;

static void online_one(const dir_account *a, void *ud)
{
    online *o = ud;
    if (!routes_count(a->bare))
        return;
    if (o->list && o->users < LIST_MAX) {
        if (o->jids.len)
            buf_append(&o->jids, "\n", 1);
        buf_puts(&o->jids, a->bare);
    }
    o->users++;
}

static void online_num_start(adhoc_req *r)
{
    online o = {0};
    buf_init(&o.jids);
    each_account(r->domain, online_one, &o);
    char num[32];
    snprintf(num, sizeof num, "%zu", o.users);
    xnode *x = adhoc_form_new("result", "Number of online users", NULL);
    adhoc_form_field(x, "onlineusersnum", "text-single", "The number of online users", num,
                     false);
    adhoc_reply_done(r, x, NULL, NULL);
}

static void online_list_start(adhoc_req *r)
{
    online o = { .list = true };
    buf_init(&o.jids);
    each_account(r->domain, online_one, &o);
    char *jids = buf_steal(&o.jids);
    xnode *x = adhoc_form_new("result", "Online users", NULL);
    adhoc_form_field(x, "onlineuserjids", "jid-multi", "The list of all online users",
                     *jids ? jids : NULL, false);
    free(jids);
    char note[96];
    if (o.users > LIST_MAX)
        snprintf(note, sizeof note, "%zu users are online; the first %d are listed.", o.users,
                 LIST_MAX);
    adhoc_reply_done(r, x, o.users > LIST_MAX ? "warn" : NULL, o.users > LIST_MAX ? note : NULL);
}

static const adhoc_cmd cmd_online_num = {
    NS_ADMIN "#get-online-users-num", "Get Number of Online Users", online_num_start, NULL,
};
static const adhoc_cmd cmd_online_list = {
    NS_ADMIN "#get-online-users-list", "Get List of Online Users", online_list_start, NULL,
};

/* ---- JIDs of submitted forms ---- */

/* Parses one submitted JID of an account of a served domain; NULL with
 * *why set otherwise. */
static bool parse_account_jid(const char *s, jid *out, const char **why)
{
    if (jid_parse(s, out) != 0) {
        *why = "not a valid JID";
        return false;
    }
    if (!out->node) {
        *why = "not a user's JID";
    } else if (!router_serves(out->domain)) {
        *why = "not a domain served by this server";
    } else {
        return true;
    }
    jid_clear(out);
    return false;
}

/* ---- end user session ---- */

/* arg: the administrator's bare JID (owned). */
static void kick_run(session *s, void *by)
{
    if (!s->closing) {
        log_info("adhoc: %s's session ended by administrator %s", s->full ? s->full : "?",
                 (const char *)by);
        s->ops->close(s, "policy-violation", "Your session was ended by an administrator.");
    }
    free(by);
}

static void end_start(adhoc_req *r)
{
    xnode *x = adhoc_form_new("form", "End user session",
                              "A bare JID ends every session of the user, a full JID one.");
    adhoc_form_field(x, "accountjids", "jid-multi", "The Jabber ID(s) for which to end sessions",
                     NULL, true);
    adhoc_reply_form(r, x);
}

static void end_submit(adhoc_req *r, const xnode *form)
{
    bool bad = false;
    char *list = adhoc_form_text(form, "accountjids", END_MAX_JIDS, 3071, &bad);
    if (bad || !list || !*list) {
        free(list);
        adhoc_reply_error(r, "modify", "bad-request", "bad-payload",
                          bad ? "too many JIDs (at most 100) or one too long"
                              : "field accountjids missing or empty");
        return;
    }
    /* Check every JID first: a bad one ends nothing. */
    size_t ended = 0;
    for (int pass = 0; pass < 2; pass++) {
        char *save = NULL, *copy = xstrdup(list);
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            jid j;
            const char *why = NULL;
            if (!parse_account_jid(line, &j, &why)) {
                char msg[160];
                snprintf(msg, sizeof msg, "accountjids value \"%.64s\": %s", line, why);
                free(copy);        /* line points into it */
                free(list);
                adhoc_reply_error(r, "modify", "bad-request", "bad-payload", msg);
                return;
            }
            if (pass == 1) {
                char *bare = jid_bare_string(&j);
                route_ref refs[ROUTES_MAX_RESOURCES];
                size_t n = 0;
                if (j.resource)
                    n = routes_find(bare, j.resource, &refs[0]) ? 1 : 0;
                else
                    n = router_resources(bare, refs, ROUTES_MAX_RESOURCES);
                for (size_t i = 0; i < n; i++)
                    session_post(refs[i].worker, refs[i].sid, kick_run, xstrdup(r->bare), free);
                ended += n;
                free(bare);
            }
            jid_clear(&j);
        }
        free(copy);
    }
    free(list);
    log_info("adhoc: %s ends %zu session(s)", r->bare, ended);
    char note[96];
    snprintf(note, sizeof note, "%zu session(s) ended.", ended);
    adhoc_reply_done(r, NULL, "info", note);
}

static const adhoc_cmd cmd_end = {
    NS_ADMIN "#end-user-session", "End User Session", end_start, end_submit,
};

/* ---- user statistics ---- */

static void stats_start(adhoc_req *r)
{
    xnode *x = adhoc_form_new("form", "Get user statistics", NULL);
    adhoc_form_field(x, "accountjid", "jid-single", "The Jabber ID for which to get statistics",
                     NULL, true);
    adhoc_reply_form(r, x);
}

typedef struct stats_job {
    adhoc_req *r;
    char *bare;
    char *resources;      /* newline separated full JIDs */
    size_t nres;
} stats_job;

static void stats_job_free(void *p)
{
    stats_job *j = p;
    /* only when the worker stopped: the request dies with it */
    adhoc_req_free(j->r);
    free(j->bare);
    free(j->resources);
    free(j);
}

static void stats_roster(void *arg, store_roster *res)
{
    stats_job *j = async_job_take(arg);
    char num[32];
    xnode *x = adhoc_form_new("result", "User statistics", NULL);
    adhoc_form_field(x, "accountjid", "jid-single", "The Jabber ID", j->bare, false);
    if (res->status == STORE_OK || res->status == STORE_NOT_FOUND) {
        snprintf(num, sizeof num, "%zu", res->status == STORE_OK ? res->n : 0);
        adhoc_form_field(x, "rostersize", "text-single", "Roster size (personal items)", num,
                         false);
    }
    snprintf(num, sizeof num, "%zu", j->nres);
    adhoc_form_field(x, "onlineresourcesnum", "text-single", "Sessions", num, false);
    adhoc_form_field(x, "onlineresources", "text-multi", "Available resources",
                     j->resources && *j->resources ? j->resources : NULL, false);
    store_roster_free(res);
    adhoc_req *r = j->r;
    j->r = NULL;
    stats_job_free(j);
    adhoc_reply_done(r, x, NULL, NULL);
}

static void stats_submit(adhoc_req *r, const xnode *form)
{
    bool bad = false;
    char *s = adhoc_form_text(form, "accountjid", 1, 3071, &bad);
    jid j;
    const char *why = bad ? "more than one value or too long" : "missing";
    if (bad || !s || !parse_account_jid(s, &j, &why)) {
        char msg[160];
        snprintf(msg, sizeof msg, "accountjid value \"%.64s\": %s", s ? s : "", why);
        free(s);
        adhoc_reply_error(r, "modify", "bad-request", "bad-payload", msg);
        return;
    }
    free(s);
    stats_job *sj = xcalloc(1, sizeof *sj);
    sj->r = r;
    sj->bare = jid_bare_string(&j);
    jid_clear(&j);
    route_ref refs[ROUTES_MAX_RESOURCES];
    sj->nres = router_resources(sj->bare, refs, ROUTES_MAX_RESOURCES);
    xnode *pres[ROUTES_MAX_RESOURCES];
    size_t np = routes_presences(sj->bare, pres, ROUTES_MAX_RESOURCES);
    buf b;
    buf_init(&b);
    for (size_t i = 0; i < np; i++) {
        const char *from = xnode_attr(pres[i], "from");
        if (from) {
            if (b.len)
                buf_append(&b, "\n", 1);
            buf_puts(&b, from);
        }
        xnode_free(pres[i]);
    }
    sj->resources = buf_steal(&b);
    session *owner = adhoc_req_session(r);
    store_roster_get(owner ? owner->w : worker_self(), sj->bare, stats_roster,
                     async_job_new(sj, stats_job_free));
}

static const adhoc_cmd cmd_stats = {
    NS_ADMIN "#get-user-stats", "Get User Statistics", stats_start, stats_submit,
};

const adhoc_cmd *const adhoc_admin_cmds[] = {
    &cmd_announce, &cmd_online_num, &cmd_online_list, &cmd_end, &cmd_stats, NULL,
};
