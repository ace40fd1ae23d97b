/* pubsub_iq.c: how one XEP-0060 request is run, for both kinds of hosts
 * (service pubsub.D and PEP on an account); the use cases themselves are in
 * pubsub_items.c and pubsub_owner.c. One request is one job: the
 * requester's relationship to the node's owner is computed first (which may
 * wait for the owner's roster to load from the store, asynchronously), then
 * the request runs under ps_lock, and the notifications, pep.h hooks and
 * last-item deliveries it produced are sent after the lock is released.
 * Errors follow XEP-0060 (with pubsub#errors conditions); every refusal is
 * logged at info level naming the requester. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/disco.h"
#include "modules/pubsub_req.h"
#include "modules/roster.h"
#include "router/router.h"
#include "store/store_pubsub.h"
#include "xml/xml_fragment.h"
#include "xmpp/stanza.h"

static void job_free(void *p)
{
    ps_job *j = p;
    if (j->held)
        acct_release(j->held);
    xnode_free(j->iq);
    free(j->host);
    free(j);
}

static void send_reply(ps_job *j, xnode *r)
{
    if (!r)
        return;
    if (!j->has_session) {
        router_route_service(r);
        return;
    }
    session *s = session_find(worker_self(), j->sid);
    if (s && !s->closing)
        session_send_free(s, r);
    else
        xnode_free(r);
}

xnode *ps_err(const xnode *iq, const char *type, const char *cond, const char *pscond,
                  const char *feature)
{
    xnode *r = stanza_error_reply(iq, type, cond, NULL);
    xnode *e = r ? xnode_child(r, "error", NULL) : NULL;
    if (e && pscond) {
        xnode *x = xnode_add_child(e, pscond, NS_PUBSUB_ERRORS);
        if (feature)
            xnode_set_attr(x, "feature", feature);
    }
    return r;
}

xnode *ps_access_err(const xnode *iq, ps_access_result a)
{
    switch (a) {
    case PS_ACCESS_OUTCAST:
        return ps_err(iq, ERR_AUTH, "forbidden", NULL, NULL);
    case PS_ACCESS_PRESENCE_REQUIRED:
        return ps_err(iq, ERR_AUTH, "not-authorized", "presence-subscription-required", NULL);
    case PS_ACCESS_NOT_IN_GROUP:
        return ps_err(iq, ERR_AUTH, "not-authorized", "not-in-roster-group", NULL);
    case PS_ACCESS_CLOSED:
        return ps_err(iq, ERR_CANCEL, "not-allowed", "closed-node", NULL);
    case PS_ACCESS_OK:
        break;
    }
    return NULL;
}

xnode *ps_result_pubsub(const xnode *iq, const char *ns, xnode **pubsub)
{
    xnode *r = iq_result(iq);
    *pubsub = xnode_add_child(r, "pubsub", ns);
    return r;
}

void ps_add_event(ps_out *o, ps_event *ev)
{
    if (o->nevents < MAX_EVENTS)
        o->events[o->nevents++] = ev;
    else
        ps_notify(ev);   /* never reached: a request makes at most two */
}

char *ps_bare_of(const char *full)
{
    const char *slash = strchr(full, '/');
    return slash ? xstrndup(full, (size_t)(slash - full)) : xstrdup(full);
}

bool ps_need_set(req *r)
{
    if (!r->set)
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", NULL, NULL);
    return r->set;
}

ps_node *ps_need_node(req *r, const char *name)
{
    if (!name || !*name) {
        r->out->reply = ps_err(r->iq, ERR_MODIFY, "bad-request", "nodeid-required", NULL);
        return NULL;
    }
    ps_node *n = ps_node_get(ps_host_get(r->j->host, false), name);
    if (!n) {
        r->out->reply = ps_err(r->iq, ERR_CANCEL, "item-not-found", NULL, NULL);
        return NULL;
    }
    r->rel.aff = ps_node_aff(n, r->bare);
    if (!strcmp(n->owner, r->bare))
        r->rel.owner = true;
    return n;
}

static void dispatch(req *r)
{
    const char *op = r->op->name;
    bool owner_ns = !strcmp(r->pubsub->ns, NS_PUBSUB_OWNER);
    if (!owner_ns && !strcmp(op, "create"))
        ps_do_create(r);
    else if (!owner_ns && !strcmp(op, "publish"))
        ps_do_publish(r);
    else if (!owner_ns && !strcmp(op, "retract"))
        ps_do_retract(r);
    else if (!owner_ns && !strcmp(op, "items"))
        ps_do_items(r);
    else if (!owner_ns && !strcmp(op, "subscribe"))
        ps_do_subscribe(r);
    else if (!owner_ns && !strcmp(op, "unsubscribe"))
        ps_do_unsubscribe(r);
    else if (!owner_ns && !strcmp(op, "subscriptions"))
        ps_do_mine(r, true);
    else if (!owner_ns && !strcmp(op, "affiliations"))
        ps_do_mine(r, false);
    else if (owner_ns && !strcmp(op, "configure"))
        ps_do_configure(r);
    else if (owner_ns && !strcmp(op, "default") && !r->set)
        ps_do_default(r);
    else if (owner_ns && !strcmp(op, "delete"))
        ps_do_delete(r);
    else if (owner_ns && !strcmp(op, "purge"))
        ps_do_purge(r);
    else if (owner_ns && !strcmp(op, "subscriptions"))
        ps_do_owner_list(r, true);
    else if (owner_ns && !strcmp(op, "affiliations"))
        ps_do_owner_list(r, false);
    else if (!owner_ns && !strcmp(op, "options"))
        r->out->reply = ps_err(r->iq, ERR_CANCEL, "feature-not-implemented", "unsupported",
                            "subscription-options");
    else
        r->out->reply = ps_err(r->iq, ERR_CANCEL, "feature-not-implemented", NULL, NULL);
}

/* ---- the job ---- */

/* Sends what a request produced: the answer first, then notifications,
 * the last item for a new subscriber, the pep.h hooks. Frees o's content. */
static void flush_now(bool has_session, uint64_t sid, bool pep, const char *host, ps_out *o)
{
    ps_job j = { .has_session = has_session, .sid = sid, .pep = pep };
    send_reply(&j, o->reply);
    o->reply = NULL;
    for (int i = 0; i < o->nevents; i++)
        ps_notify(o->events[i]);
    o->nevents = 0;
    if (o->last_msg)
        ps_route(pep, o->last_msg);
    o->last_msg = NULL;
    if (o->hook)
        ps_hooks_fire(host, o->hook_node, o->hook_id, o->hook_payload, o->hook_retract);
    free(o->hook_node);
    free(o->hook_id);
    xnode_free(o->hook_payload);
    o->hook_node = o->hook_id = NULL;
    o->hook_payload = NULL;
}

/* A request's output held until the store committed what it changed. */
typedef struct held_out {
    bool has_session;
    uint64_t sid;
    bool pep;
    char *host;
    ps_out out;
} held_out;

static void held_free(void *p)
{
    held_out *h = p;
    xnode_free(h->out.reply);
    for (int i = 0; i < h->out.nevents; i++)
        ps_event_free(h->out.events[i]);   /* the worker stopped: nobody to tell */
    xnode_free(h->out.last_msg);
    free(h->out.hook_node);
    free(h->out.hook_id);
    xnode_free(h->out.hook_payload);
    free(h->host);
    free(h);
}

static void held_send(void *arg, store_status st, int64_t value)
{
    (void)value;
    held_out *h = arg;
    if (st != STORE_OK)
        log_err("pubsub: the store did not confirm a change of %s; answering anyway", h->host);
    flush_now(h->has_session, h->sid, h->pep, h->host, &h->out);
    held_free(h);
}

/* A successful set is answered once the store committed it (store.h: what
 * a client was told is stored survives a crash); the rest at once. */
static void flush(ps_job *j, ps_out *o)
{
    const char *type = xnode_attr(j->iq, "type");
    const char *rtype = o->reply ? xnode_attr(o->reply, "type") : NULL;
    worker *w = worker_self();
    if (w && store_running() && type && !strcmp(type, "set") && rtype &&
        !strcmp(rtype, "result")) {
        held_out *h = xcalloc(1, sizeof *h);
        h->has_session = j->has_session;
        h->sid = j->sid;
        h->pep = j->pep;
        h->host = xstrdup(j->host);
        h->out = *o;
        store_pubsub_barrier(w, held_send, h, held_free);
        return;
    }
    flush_now(j->has_session, j->sid, j->pep, j->host, o);
}

static void run(void *ud);

/* The owner of the node the request is about (NULL: none yet); whether its
 * access model needs the owner's roster. Under ps_lock. */
static char *node_owner(const ps_job *j, const char *node, bool *roster)
{
    *roster = false;
    ps_node *n = node ? ps_node_get(ps_host_get(j->host, false), node) : NULL;
    if (!n)
        return j->pep ? xstrdup(j->host) : NULL;
    *roster = n->cfg.access == PEP_ACCESS_PRESENCE || n->cfg.access == PEP_ACCESS_ROSTER;
    return xstrdup(n->owner);
}

static void run(void *ud)
{
    ps_job *j = ud;
    const xnode *iq = j->iq;
    const char *from = xnode_attr(iq, "from");
    const char *type = xnode_attr(iq, "type");
    const xnode *pubsub = xnode_first_element(iq);
    const xnode *op = pubsub ? xnode_first_element(pubsub) : NULL;
    ps_out out = {0};
    if (!from || !type || !pubsub || strcmp(pubsub->name, "pubsub") || !op) {
        send_reply(j, ps_err(iq, ERR_MODIFY, "bad-request", NULL, NULL));
        job_free(j);
        return;
    }
    const char *nattr = xnode_attr(op, "node");
    const xnode *it0 = xnode_child(op, "item", NULL);
    const char *iattr = it0 ? xnode_attr(it0, "id") : NULL;
    if ((nattr && strlen(nattr) > PS_NAME_MAX) || (iattr && strlen(iattr) > PS_NAME_MAX)) {
        log_info("pubsub: %s sent a node name or item id longer than %d bytes: refused", from,
                 PS_NAME_MAX);
        send_reply(j, ps_err(iq, ERR_MODIFY, "not-acceptable", NULL, NULL));
        job_free(j);
        return;
    }
    char *bare = ps_bare_of(from);
    bool need_roster;
    pthread_mutex_lock(&ps_lock);
    char *owner = node_owner(j, xnode_attr(op, "node"), &need_roster);
    pthread_mutex_unlock(&ps_lock);
    req r = { .j = j, .iq = iq, .pubsub = pubsub, .op = op, .from = from, .bare = bare,
              .set = !strcmp(type, "set"), .out = &out };
    char **groups = NULL;
    bool complete = owner ? ps_rel_compute(owner, bare, &r.rel, &groups) : true;
    if (!owner)
        memset(&r.rel, 0, sizeof r.rel);
    if (!complete && need_roster && !j->held && router_account(owner) && worker_self()) {
        /* the owner's roster is not cached: load it, then run again */
        log_debug("pubsub: loading the roster of %s to answer %s", owner, from);
        ps_groups_free(groups);
        j->held = acct_acquire(owner);
        free(owner);
        free(bare);
        acct_when_loaded(j->held, run, job_free, j);
        return;
    }
    free(owner);
    pthread_mutex_lock(&ps_lock);
    dispatch(&r);
    pthread_mutex_unlock(&ps_lock);
    ps_groups_free(groups);
    free(bare);
    flush(j, &out);
    job_free(j);
}

void ps_iq(session *s, xnode *iq, const char *host, bool pep)
{
    ps_job *j = xcalloc(1, sizeof *j);
    j->iq = iq;
    j->host = xstrdup(host);
    j->pep = pep;
    if (s) {
        j->has_session = true;
        j->sid = s->id;
    }
    run(j);
}
