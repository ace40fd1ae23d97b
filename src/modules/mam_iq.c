/* mam_iq.c: the urn:xmpp:mam:2 iq of XEP-0313: the query form (get), a
 * query (set: the results as <message/>s, then the iq result with <fin/>
 * and the XEP-0059 RSM <set/>), and the preferences (<prefs/> get/set).
 * Only the owner asks about their archive: 'to' absent or their bare JID,
 * else forbidden (remote requesters never reach this handler). While
 * plucs/mam is false everything is service-unavailable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/async_job.h"
#include "modules/mam_internal.h"
#include "modules/mam_proto.h"
#include "store/store_mam.h"
#include "xml/xml_fragment.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

#define NS_DELAY "urn:xmpp:delay"
#define STORED_MAX_DEPTH 64

typedef struct iq_job {
    uint64_t sid;
    xnode *iq;           /* id, from, to, type of the request */
    char *queryid;
    bool flip;
} iq_job;

static void job_free(void *p)
{
    iq_job *j = p;
    xnode_free(j->iq);
    free(j->queryid);
    free(j);
}

static iq_job *job_new(session *s, const xnode *iq)
{
    iq_job *j = xcalloc(1, sizeof *j);
    j->sid = s->id;
    j->iq = iq_envelope(iq);
    return j;
}

static session *job_session(const iq_job *j)
{
    session *s = session_find(worker_self(), j->sid);
    return s && !s->closing ? s : NULL;
}

static void add_field(xnode *x, const char *type, const char *var, const char *value)
{
    xnode *f = xnode_add_child(x, "field", NS_XDATA);
    xnode_set_attr(f, "type", type);
    xnode_set_attr(f, "var", var);
    if (value) {
        xnode *v = xnode_add_child(f, "value", NS_XDATA);
        xnode_add_text(v, value, strlen(value));
    }
}

static void send_form(session *s, const xnode *iq)
{
    xnode *r = iq_result(iq);
    xnode *q = xnode_add_child(r, "query", NS_MAM);
    xnode *x = xnode_add_child(q, "x", NS_XDATA);
    xnode_set_attr(x, "type", "form");
    add_field(x, "hidden", "FORM_TYPE", NS_MAM);
    add_field(x, "jid-single", "with", NULL);
    add_field(x, "text-single", "start", NULL);
    add_field(x, "text-single", "end", NULL);
    add_field(x, "text-single", "before-id", NULL);
    add_field(x, "text-single", "after-id", NULL);
    session_send_free(s, r);
}

static void add_text(xnode *parent, const char *name, const char *ns, const char *text)
{
    xnode *c = xnode_add_child(parent, name, ns);
    xnode_add_text(c, text, strlen(text));
}

/* ---- query ---- */

static void send_result(session *s, const iq_job *j, const store_mam_msg *m)
{
    xnode *fwd = xml_fragment_parse(m->stanza, strlen(m->stanza), NS_CLIENT, STORED_MAX_DEPTH);
    if (!fwd) {
        log_err("mam: archived message of %s cannot be parsed; skipped", s->bare);
        return;
    }
    char id[MAM_ID_LEN + 1], stamp[48];
    mam_id_encode(m->id, id);
    mam_time_format(m->ts_us, stamp, sizeof stamp);
    xnode *msg = xnode_new("message", NS_CLIENT);
    xnode_set_attr(msg, "to", s->full);
    xnode_set_attr(msg, "from", s->bare);
    xnode *res = xnode_add_child(msg, "result", NS_MAM);
    if (j->queryid)
        xnode_set_attr(res, "queryid", j->queryid);
    xnode_set_attr(res, "id", id);
    xnode *f = xnode_add_child(res, "forwarded", NS_FORWARD);
    xnode_set_attr(xnode_add_child(f, "delay", NS_DELAY), "stamp", stamp);
    xnode_append(f, fwd);
    session_send_free(s, msg);
}

static void queried(void *arg, store_mam_result *res)
{
    iq_job *j = arg;
    session *s = job_session(j);
    if (!s) {
        /* gone */
    } else if (res->status == STORE_NOT_FOUND) {
        session_send_free(s, stanza_error_reply(j->iq, ERR_CANCEL, "item-not-found", NULL));
    } else if (res->status != STORE_OK) {
        session_send_free(s, stanza_error_reply(j->iq, ERR_WAIT, "internal-server-error", NULL));
    } else {
        for (size_t k = 0; k < res->n; k++)
            send_result(s, j, &res->msgs[j->flip ? res->n - 1 - k : k]);
        xnode *r = iq_result(j->iq);
        xnode *fin = xnode_add_child(r, "fin", NS_MAM);
        if (j->queryid)
            xnode_set_attr(fin, "queryid", j->queryid);
        if (res->complete)
            xnode_set_attr(fin, "complete", "true");
        xnode *set = xnode_add_child(fin, "set", NS_RSM);
        char num[32];
        if (res->n) {
            const store_mam_msg *first = &res->msgs[j->flip ? res->n - 1 : 0];
            const store_mam_msg *last = &res->msgs[j->flip ? 0 : res->n - 1];
            char id[MAM_ID_LEN + 1];
            mam_id_encode(first->id, id);
            xnode *fe = xnode_add_child(set, "first", NS_RSM);
            if (res->first_index >= 0) {
                snprintf(num, sizeof num, "%lld", (long long)res->first_index);
                xnode_set_attr(fe, "index", num);
            }
            xnode_add_text(fe, id, strlen(id));
            mam_id_encode(last->id, id);
            add_text(set, "last", NS_RSM, id);
        }
        if (res->count >= 0) {
            snprintf(num, sizeof num, "%lld", (long long)res->count);
            add_text(set, "count", NS_RSM, num);
        }
        session_send_free(s, r);
    }
    store_mam_result_free(res);
    job_free(j);
}

/* A prepared bare JID for the form's 'with' (a full JID narrows to its
 * bare one: the archive keeps bare JIDs), NULL when invalid. */
static char *with_bare(const char *with)
{
    jid w;
    if (jid_parse(with, &w) != 0)
        return NULL;
    char *b = jid_bare_string(&w);
    jid_clear(&w);
    return b;
}

static void run_query(session *s, const xnode *iq, const xnode *payload)
{
    mam_request rq;
    const char *why = NULL;
    if (mam_request_parse(payload, &rq, &why) != 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", why));
        return;
    }
    if (rq.after_id < 0 || rq.before_id < 0 || rq.rsm_after < 0 || rq.rsm_before < 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "item-not-found", NULL));
        mam_request_clear(&rq);
        return;
    }
    store_mam_query q = { .owner = s->bare, .lo = 0, .hi = INT64_MAX, .max = rq.max };
    if (rq.with) {
        q.with = with_bare(rq.with);
        if (!q.with) {
            session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "jid-malformed", NULL));
            mam_request_clear(&rq);
            return;
        }
    }
    if (rq.start_us >= 0)
        q.lo = STORE_MAM_ID_LO(rq.start_us);
    if (rq.end_us >= 0)
        q.hi = STORE_MAM_ID_HI(rq.end_us);
    if (rq.after_id > 0 && rq.after_id + 1 > q.lo)
        q.lo = rq.after_id + 1;
    if (rq.before_id > 0 && rq.before_id - 1 < q.hi)
        q.hi = rq.before_id - 1;
    q.check_ids[0] = rq.after_id;
    q.check_ids[1] = rq.before_id;
    q.after = rq.rsm_after;
    q.before = rq.rsm_before;
    q.last = rq.rsm_before_empty;
    iq_job *j = job_new(s, iq);
    const char *qid = xnode_attr(payload, "queryid");
    j->queryid = qid ? xstrdup(qid) : NULL;
    j->flip = rq.flip;
    store_mam_query_run(s->w, &q, queried, j, job_free);
    free(q.with);
    mam_request_clear(&rq);
}

/* ---- preferences ---- */

static const char *const DEFAULTS[] = { "always", "never", "roster" };

static void add_list(xnode *prefs, const char *name, char *const *v)
{
    xnode *l = xnode_add_child(prefs, name, NS_MAM);
    for (size_t i = 0; v && v[i]; i++)
        add_text(l, "jid", NS_MAM, v[i]);
}

static void prefs_reply(session *s, const xnode *iq, int dflt, char *const *always,
                        char *const *never)
{
    xnode *r = iq_result(iq);
    xnode *p = xnode_add_child(r, "prefs", NS_MAM);
    xnode_set_attr(p, "default", DEFAULTS[dflt >= 0 && dflt <= 2 ? dflt : 0]);
    add_list(p, "always", always);
    add_list(p, "never", never);
    session_send_free(s, r);
}

static void prefs_got(void *arg, store_mam_prefs *p)
{
    iq_job *j = arg;
    session *s = job_session(j);
    if (s && (p->status == STORE_OK || p->status == STORE_NOT_FOUND))
        prefs_reply(s, j->iq, p->status == STORE_OK ? p->dflt : MAM_PREF_ALWAYS, p->always,
                    p->never);
    else if (s)
        session_send_free(s, stanza_error_reply(j->iq, ERR_WAIT, "internal-server-error", NULL));
    store_mam_prefs_free(p);
    job_free(j);
}

typedef struct prefs_job {
    iq_job base;
    store_mam_prefs p;
} prefs_job;

static void prefs_job_free(void *arg)
{
    prefs_job *j = arg;
    for (int k = 0; k < 2; k++) {
        char **v = k ? j->p.never : j->p.always;
        for (size_t i = 0; v && v[i]; i++)
            free(v[i]);
        free(v);
    }
    xnode_free(j->base.iq);
    free(j->base.queryid);
    free(j);
}

static void prefs_stored(void *arg, store_status st, int64_t value)
{
    (void)value;
    prefs_job *j = arg;
    session *s = job_session(&j->base);
    if (s && st == STORE_OK)
        prefs_reply(s, j->base.iq, j->p.dflt, j->p.always, j->p.never);
    else if (s)
        session_send_free(s, stanza_error_reply(j->base.iq, ERR_WAIT, "internal-server-error",
                                                NULL));
    prefs_job_free(j);
}

/* The bare JIDs of <list><jid/>...</list> (NULL-terminated), NULL when one
 * is malformed. */
static char **jid_list(const xnode *list)
{
    size_t n = 0, cap = 0;
    char **v = xcalloc(1, sizeof *v);
    for (const xnode *c = list ? xnode_first_element(list) : NULL; c; c = xnode_next_element(c)) {
        if (strcmp(c->name, "jid"))
            continue;
        char *t = xnode_text(c);
        char *b = t ? with_bare(t) : NULL;
        free(t);
        if (!b) {
            for (size_t i = 0; i < n; i++)
                free(v[i]);
            free(v);
            return NULL;
        }
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 8;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[n++] = b;
        v[n] = NULL;
    }
    return v;
}

static void prefs_set(session *s, const xnode *iq, const xnode *payload)
{
    const char *d = xnode_attr(payload, "default");
    int dflt = -1;
    for (int i = 0; d && i < 3; i++)
        if (!strcmp(d, DEFAULTS[i]))
            dflt = i;
    if (dflt < 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request",
                                                "default must be always, never or roster"));
        return;
    }
    char **always = jid_list(xnode_child(payload, "always", NS_MAM));
    char **never = jid_list(xnode_child(payload, "never", NS_MAM));
    prefs_job *j = xcalloc(1, sizeof *j);
    j->base.sid = s->id;
    iq_job *tmp = job_new(s, iq);
    j->base.iq = tmp->iq;
    free(tmp);
    j->p.dflt = dflt;
    j->p.always = always;
    j->p.never = never;
    if (!always || !never) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "jid-malformed", NULL));
        prefs_job_free(j);
        return;
    }
    store_mam_prefs_set(s->w, s->bare, &j->p, prefs_stored, j, prefs_job_free);
}

void mam_iq(session *s, const xnode *iq, const xnode *payload)
{
    if (!config_current()->mam) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "service-unavailable", NULL));
        return;
    }
    const char *to = xnode_attr(iq, "to");
    if (!s->bare || (to && strcmp(to, s->bare))) {
        log_info("mam: %s asked for the archive of %s: forbidden", s->bare ? s->bare : "?",
                 to ? to : "?");
        session_send_free(s, stanza_error_reply(iq, ERR_AUTH, "forbidden", NULL));
        return;
    }
    const char *type = xnode_attr(iq, "type");
    bool get = type && !strcmp(type, "get");
    if (!strcmp(payload->name, "prefs")) {
        if (get)
            store_mam_prefs_get(s->w, s->bare, prefs_got, job_new(s, iq), job_free);
        else
            prefs_set(s, iq, payload);
    } else if (!strcmp(payload->name, "query")) {
        if (get)
            send_form(s, iq);
        else
            run_query(s, iq, payload);
    } else {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
    }
}
