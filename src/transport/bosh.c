/* bosh.c: BOSH sessions (see bosh.h and XEP-0124/0206).
 *
 * A session keeps: the rid expected next and the requests that arrived
 * ahead of it (processed in rid order), the requests it holds (answered
 * when a stanza is queued, when `wait` expires, or early when the client
 * sends more than `hold`), the last `requests` answers by rid (a repeated
 * rid gets the same bytes again), the queued output, and an inactivity
 * timer that runs while no request is held (`inactivity`, or the `pause`
 * the client asked for). When the stream ends, every held request gets the
 * terminate body; the session object (and with it the XMPP session: ended
 * hooks, unavailable presence) is freed at once, a small shell keeps the
 * final answer for a repeated request a little longer. */
#include "transport/bosh.h"
#include "core/alloc.h"

#include <event2/event.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/i18n.h"
#include "core/idmap.h"
#include "core/log.h"
#include "transport/bosh_body.h"
#include "transport/conn_limits.h"
#include "transport/framing.h"
#include "metrics/metrics.h"
#include "transport/transport.h"
#include "transport/xmpp_stream.h"

#define MAX_OUTPUT (4u << 20)
#define CACHE_SLOTS (BOSH_MAX_HOLD + 2)
#define GRACE 10                 /* seconds the final answer stays for a retry */

typedef struct breq {
    struct breq *next;
    struct bosh *b;
    http_ref ref;
    uint64_t rid;
    bosh_body body;
    struct event *wait_timer;    /* while held */
} breq;

typedef struct cached {
    uint64_t rid;
    char *data;
    size_t len;
} cached;

typedef struct bosh {
    uint64_t key;
    char sid[20];
    char peer[112];
    xmpp_stream *st;             /* NULL once the stream is gone */
    int wait, hold, requests, inactivity;
    int pause;                   /* seconds of an accepted pause, else 0 */
    uint64_t rid_next;
    breq *ahead;                 /* received early, sorted by rid */
    breq *held, *held_last;      /* oldest first */
    int nheld;
    cached cache[CACHE_SLOTS];
    unsigned cache_next;
    buf out;                     /* qualified elements not yet answered */
    char *stream_id, *from;
    char *final;                 /* the terminate body once ended */
    bool ended, final_sent;
    bool overflowed;             /* MAX_OUTPUT passed: nothing more is queued */
    struct event *flush_ev;      /* deferred: answer a held request with out */
    struct event *finish_ev;     /* deferred: after the stream ended */
    struct event *timer;         /* inactivity, then the grace period */
} bosh;

static __thread idmap sessions;
static __thread bool sessions_ready;

static void schedule_flush(bosh *b) { event_active(b->flush_ev, EV_TIMEOUT, 0); }

static void ensure_table(void)
{
    if (!sessions_ready) {
        idmap_init(&sessions);
        sessions_ready = true;
    }
}

/* ---- answers ---- */

static char *body_open(buf *o, const char *attrs)
{
    buf_puts(o, "<body xmlns='" NS_HTTPBIND "' xmlns:stream='" NS_STREAM "'");
    if (attrs)
        buf_puts(o, attrs);
    return o->data;
}

static void reply_bytes(const http_ref *ref, const char *data, size_t len)
{
    char *copy = xmalloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = 0;
    http_reply(ref, 200, NULL, copy, len);
}

/* A terminate answer for a request that has no session (or a bad one). */
static void reply_terminate(const http_ref *ref, const char *condition)
{
    buf o;
    buf_init(&o);
    buf_printf(&o, "<body xmlns='" NS_HTTPBIND "' type='terminate'");
    if (condition)
        buf_printf(&o, " condition='%s'", condition);
    buf_puts(&o, "/>");
    size_t len = o.len;
    http_reply(ref, 200, NULL, buf_steal(&o), len);
}

static void cache_put(bosh *b, uint64_t rid, const char *data, size_t len)
{
    cached *c = &b->cache[b->cache_next++ % CACHE_SLOTS];
    free(c->data);
    c->rid = rid;
    c->data = xmalloc(len + 1);
    memcpy(c->data, data, len);
    c->len = len;
}

static cached *cache_get(bosh *b, uint64_t rid)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (b->cache[i].data && b->cache[i].rid == rid)
            return &b->cache[i];
    return NULL;
}

static void breq_free(breq *r)
{
    if (r->wait_timer)
        event_free(r->wait_timer);
    bosh_body_clear(&r->body);
    free(r);
}

/* Answers r with data and remembers the answer under its rid. */
static void answer(bosh *b, breq *r, const char *data, size_t len)
{
    cache_put(b, r->rid, data, len);
    reply_bytes(&r->ref, data, len);
}

/* Takes r out of the held list (it must be in it). */
static void unhold(bosh *b, breq *r)
{
    breq **pp = &b->held;
    breq *prev = NULL;
    while (*pp && *pp != r) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = r->next;
    if (b->held_last == r)
        b->held_last = prev;
    r->next = NULL;
    b->nheld--;
    metrics_bosh_held_add(-1);
}

static void arm_inactivity(bosh *b);

/* Answers a held request with the queued output (or an empty body). */
static void answer_held(bosh *b, breq *r)
{
    unhold(b, r);
    buf o;
    buf_init(&o);
    if (b->out.len) {
        body_open(&o, ">");
        buf_append(&o, b->out.data, b->out.len);
        buf_puts(&o, "</body>");
        buf_reset(&b->out);
        if (b->out.cap > 65536)
            buf_free(&b->out);
    } else {
        buf_puts(&o, "<body xmlns='" NS_HTTPBIND "'/>");
    }
    answer(b, r, o.data, o.len);
    buf_free(&o);
    breq_free(r);
    if (b->nheld == 0)
        arm_inactivity(b);
}

static void flush_run(evutil_socket_t fd, short what, void *arg)
{
    bosh *b = arg;
    if (b->out.len && b->held && !b->ended)
        answer_held(b, b->held);
}

static void wait_expired(evutil_socket_t fd, short what, void *arg)
{
    breq *r = arg;
    answer_held(r->b, r);
}

/* ---- lifetime ---- */

static void bosh_free(bosh *b)
{
    if (sessions_ready)
        idmap_del(&sessions, b->key);
    while (b->held) {
        breq *r = b->held;
        unhold(b, r);
        reply_terminate(&r->ref, "system-shutdown");
        breq_free(r);
    }
    while (b->ahead) {
        breq *r = b->ahead;
        b->ahead = r->next;
        reply_terminate(&r->ref, "item-not-found");
        breq_free(r);
    }
    if (b->st)
        xmpp_stream_free(b->st);
    for (int i = 0; i < CACHE_SLOTS; i++)
        free(b->cache[i].data);
    buf_free(&b->out);
    free(b->stream_id);
    free(b->from);
    free(b->final);
    event_free(b->flush_ev);
    event_free(b->finish_ev);
    event_free(b->timer);
    free(b);
    metrics_bosh_sessions_add(-1);
    conn_limits_web_session_release();
    transport_conn_closed();
}

static void timer_run(evutil_socket_t fd, short what, void *arg)
{
    bosh *b = arg;
    if (b->ended) {   /* the grace period is over */
        bosh_free(b);
        return;
    }
    log_info("bosh: %s: session %s%s%s had no request for %d s, closing", b->peer, b->sid,
             xmpp_stream_session(b->st)->full ? " of " : "",
             xmpp_stream_session(b->st)->full ? xmpp_stream_session(b->st)->full : "",
             b->pause ? b->pause : b->inactivity);
    xmpp_stream_close(b->st, NULL, NULL);
}

static void arm_inactivity(bosh *b)
{
    if (b->ended)
        return;
    struct timeval tv = { b->pause ? b->pause : b->inactivity, 0 };
    evtimer_add(b->timer, &tv);
}

/* After the stream ended: every held request gets the terminate body; the
 * XMPP session goes now; the shell stays a little for a repeated rid. */
static void finish_run(evutil_socket_t fd, short what, void *arg)
{
    bosh *b = arg;
    if (b->st) {
        xmpp_stream_free(b->st);
        b->st = NULL;
    }
    while (b->held) {
        breq *r = b->held;
        unhold(b, r);
        if (!b->final_sent) {
            answer(b, r, b->final, strlen(b->final));
            b->final_sent = true;
        } else {
            static const char t[] = "<body xmlns='" NS_HTTPBIND "' type='terminate'/>";
            answer(b, r, t, sizeof t - 1);
        }
        breq_free(r);
    }
    if (b->final_sent || transport_stopping()) {
        bosh_free(b);
        return;
    }
    struct timeval tv = { GRACE, 0 };
    evtimer_add(b->timer, &tv);
}

/* ---- transport callbacks ---- */

static void t_header(void *t, const char *id, const char *from, const char *to, const char *lang)
{
    bosh *b = t;
    free(b->stream_id);
    free(b->from);
    b->stream_id = xstrdup(id);
    b->from = from ? xstrdup(from) : NULL;
}

static void t_write(void *t, const char *data, size_t len)
{
    bosh *b = t;
    if (b->ended || b->overflowed)
        return;
    if (b->out.len + len > MAX_OUTPUT) {
        b->overflowed = true;   /* first: closing writes the stream error through here */
        log_warn("bosh: %s: session %s does not fetch its stanzas, closing", b->peer, b->sid);
        xmpp_stream_close(b->st, "policy-violation",
                          i18n(xmpp_stream_session(b->st)->lang, T_UNREAD));
        return;
    }
    framing_qualify(&b->out, data, len);
    schedule_flush(b);
}

static bool is_bosh_condition(const char *c)
{
    static const char *const list[] = { "host-gone", "host-unknown", "improper-addressing",
                                        "internal-server-error", "policy-violation",
                                        "system-shutdown", "see-other-uri", NULL };
    for (int i = 0; list[i]; i++)
        if (!strcmp(c, list[i]))
            return true;
    return false;
}

static void t_end(void *t, bool header_open, bool error)
{
    bosh *b = t;
    if (b->ended)
        return;
    b->ended = true;
    evtimer_del(b->timer);
    buf o;
    buf_init(&o);
    buf_puts(&o, "<body xmlns='" NS_HTTPBIND "' xmlns:stream='" NS_STREAM "' type='terminate'");
    if (error) {
        /* The stream error is the last element queued: <stream:error><COND */
        char cond[48] = "remote-stream-error";
        const char *e = b->out.data ? strstr(b->out.data, "<stream:error") : NULL;
        const char *c = e ? strstr(e, "><") : NULL;
        if (c) {
            size_t n = strcspn(c + 2, " />");
            if (n < sizeof cond) {
                char name[48];
                memcpy(name, c + 2, n);
                name[n] = 0;
                if (is_bosh_condition(name))
                    snprintf(cond, sizeof cond, "%s", name);
            }
        }
        buf_printf(&o, " condition='%s'", cond);
    }
    if (b->out.len) {
        buf_puts(&o, ">");
        buf_append(&o, b->out.data, b->out.len);
        buf_puts(&o, "</body>");
    } else {
        buf_puts(&o, "/>");
    }
    buf_free(&b->out);
    b->final = buf_steal(&o);
    event_active(b->finish_ev, EV_TIMEOUT, 0);
}

static void t_input(void *t, bool on) {}   /* stanzas are held by the stream layer */
static void t_destroy(void *t) { bosh_free(t); }

static const xmpp_transport bosh_transport = {
    .name = "bosh",
    .metric = "bosh",
    .header = t_header,
    .write = t_write,
    .end = t_end,
    .input = t_input,
    .starttls = NULL,
    .restart = NULL,
    .destroy = t_destroy,
};

/* ---- requests ---- */

static void hold_request(bosh *b, breq *r)
{
    r->next = NULL;
    if (b->held_last)
        b->held_last->next = r;
    else
        b->held = r;
    b->held_last = r;
    b->nheld++;
    metrics_bosh_held_add(1);
    r->wait_timer = evtimer_new(worker_base(worker_self()), wait_expired, r);
    struct timeval tv = { b->wait, 0 };
    evtimer_add(r->wait_timer, &tv);
}

/* One request in rid order. Takes r. */
static void process(bosh *b, breq *r)
{
    const xnode *a = r->body.attrs;
    const char *type = xnode_attr(a, "type");
    const char *restart = bosh_attr_xbosh(a, "restart");
    long pause = bosh_attr_long(a, "pause", 0);
    r->b = b;
    while (r->body.kids) {
        xnode *el = r->body.kids;
        r->body.kids = el->next;
        el->next = NULL;
        if (b->st && !b->ended)
            xmpp_stream_stanza(b->st, el);
        else
            xnode_free(el);
    }
    if (restart && (!strcmp(restart, "true") || !strcmp(restart, "1")) && b->st && !b->ended) {
        session *s = xmpp_stream_session(b->st);
        /* lang NULL: the session keeps its language (passing s->lang itself
         * made xmpp_stream_open strcpy it onto itself; found by fuzz_bosh_poll) */
        xmpp_stream_open(b->st, s->domain, "1.0", NULL);
    }
    hold_request(b, r);
    if (type && !strcmp(type, "terminate")) {
        log_info("bosh: %s: session %s terminated by the client", b->peer, b->sid);
        if (b->st && !b->ended)
            xmpp_stream_end(b->st);
        return;
    }
    if (pause > 0) {
        b->pause = pause > BOSH_MAXPAUSE ? BOSH_MAXPAUSE : (int)pause;
        log_debug("bosh: %s: session %s paused for %d s", b->peer, b->sid, b->pause);
        while (b->held)
            answer_held(b, b->held);
        return;
    }
    b->pause = 0;
    while (b->nheld > b->hold)
        answer_held(b, b->held);
    if (b->out.len)
        schedule_flush(b);
}

static void terminate_session(bosh *b, const char *condition)
{
    /* The answer to the request that caused it is the terminate body. */
    if (b->st && !b->ended)
        xmpp_stream_close(b->st, NULL, NULL);
    free(b->final);
    buf o;
    buf_init(&o);
    buf_printf(&o, "<body xmlns='" NS_HTTPBIND "' type='terminate' condition='%s'/>", condition);
    b->final = buf_steal(&o);
}

static void handle(bosh *b, breq *r)
{
    evtimer_del(b->timer);
    if (b->ended) {
        /* The stream is gone: the final answer, once. */
        if (b->final)
            reply_bytes(&r->ref, b->final, strlen(b->final));
        else
            reply_terminate(&r->ref, "item-not-found");
        breq_free(r);
        bosh_free(b);
        return;
    }
    uint64_t rid = 0;
    if (!bosh_attr_rid(r->body.attrs, &rid)) {
        reply_terminate(&r->ref, "bad-request");
        breq_free(r);
        if (!b->nheld)
            arm_inactivity(b);
        return;
    }
    r->rid = rid;
    switch (bosh_rid_check(b->rid_next, (unsigned)b->requests, rid)) {
    case RID_OLD: {
        cached *c = cache_get(b, rid);
        if (c) {
            log_debug("bosh: %s: session %s: rid %" PRIu64 " repeated, same answer", b->peer,
                      b->sid, rid);
            reply_bytes(&r->ref, c->data, c->len);
            breq_free(r);
        } else {
            breq *h = b->held;
            while (h && h->rid != rid)
                h = h->next;
            if (h) {   /* the client lost the held request: this one replaces it */
                static const char empty[] = "<body xmlns='" NS_HTTPBIND "'/>";
                reply_bytes(&h->ref, empty, sizeof empty - 1);
                h->ref = r->ref;
                breq_free(r);
            } else {
                log_info("bosh: %s: session %s: rid %" PRIu64 " is no longer known, terminating",
                         b->peer, b->sid, rid);
                reply_terminate(&r->ref, "item-not-found");
                breq_free(r);
                terminate_session(b, "item-not-found");
                return;
            }
        }
        break;
    }
    case RID_OUTSIDE:
        log_info("bosh: %s: session %s: rid %" PRIu64 " outside the window (expected %" PRIu64
                 ", requests %d), terminating",
                 b->peer, b->sid, rid, b->rid_next, b->requests);
        reply_terminate(&r->ref, "item-not-found");
        breq_free(r);
        terminate_session(b, "item-not-found");
        return;
    case RID_AHEAD: {
        int n = b->nheld;
        breq **pp = &b->ahead;
        while (*pp && (*pp)->rid < rid) {
            pp = &(*pp)->next;
            n++;
        }
        for (breq *x = *pp; x; x = x->next)
            n++;
        if ((*pp && (*pp)->rid == rid) || n + 1 > b->requests) {
            log_info("bosh: %s: session %s: too many requests at once, terminating", b->peer,
                     b->sid);
            reply_terminate(&r->ref, "policy-violation");
            breq_free(r);
            terminate_session(b, "policy-violation");
            return;
        }
        r->next = *pp;
        *pp = r;
        break;
    }
    case RID_NEXT:
        b->rid_next++;
        process(b, r);
        while (b->ahead && b->ahead->rid == b->rid_next && !b->ended) {
            breq *x = b->ahead;
            b->ahead = x->next;
            b->rid_next++;
            process(b, x);
        }
        break;
    }
    if (!b->nheld && !b->ended)
        arm_inactivity(b);
}

/* ---- session creation ---- */

static bosh *bosh_new(worker *w, const char *peer)
{
    ensure_table();
    bosh *b = xcalloc(1, sizeof *b);
    do {
        uint64_t k;
        RAND_bytes((unsigned char *)&k, sizeof k);
        b->key = (k & ~(uint64_t)0xff & 0x7fffffffffffffffull) | (uint64_t)worker_id(w);
    } while (b->key == 0 || idmap_get(&sessions, b->key));
    snprintf(b->sid, sizeof b->sid, "%016" PRIx64, b->key);
    snprintf(b->peer, sizeof b->peer, "%s", peer);
    b->flush_ev = event_new(worker_base(w), -1, 0, flush_run, b);
    b->finish_ev = event_new(worker_base(w), -1, 0, finish_run, b);
    b->timer = evtimer_new(worker_base(w), timer_run, b);
    idmap_put(&sessions, b->key, b);
    metrics_bosh_sessions_add(1);
    transport_conn_opened();
    return b;
}

static void create(breq *r, const char *peer, bool secure)
{
    const xnode *a = r->body.attrs;
    uint64_t rid;
    if (!bosh_attr_rid(a, &rid)) {
        reply_terminate(&r->ref, "bad-request");
        breq_free(r);
        return;
    }
    if (transport_stopping()) {
        reply_terminate(&r->ref, "system-shutdown");
        breq_free(r);
        return;
    }
    if (!conn_limits_web_session_acquire(config_current()->http_max_sessions)) {
        unsigned skipped = 0;
        if (conn_limits_log_ok(CL_LOG_WEB_SESSIONS, 10, &skipped))
            log_warn("bosh: %s: new session refused: %d BOSH and polling sessions "
                     "(plucs/http/max_sessions); %u more refused since the last line",
                     peer, config_current()->http_max_sessions, skipped);
        reply_terminate(&r->ref, "policy-violation");
        breq_free(r);
        return;
    }
    worker *w = worker_self();
    bosh *b = bosh_new(w, peer);
    long wait = bosh_attr_long(a, "wait", BOSH_MAX_WAIT);
    long hold = bosh_attr_long(a, "hold", 1);
    b->wait = wait < 1 ? 1 : wait > BOSH_MAX_WAIT ? BOSH_MAX_WAIT : (int)wait;
    b->hold = hold > BOSH_MAX_HOLD ? BOSH_MAX_HOLD : (int)hold;
    b->requests = b->hold + 1 < 2 ? 2 : b->hold + 1;
    b->inactivity = config_current()->http_bind_inactivity;
    b->rid_next = rid + 1;
    r->rid = rid;
    r->b = b;

    const char *version = bosh_attr_xbosh(a, "version");
    const char *lang = xnode_attr(a, "xml:lang");
    b->st = xmpp_stream_new(w, &bosh_transport, b, peer, secure);
    log_debug("bosh: %s: session %s created (wait %d, hold %d)", peer, b->sid, b->wait, b->hold);
    /* Stream children in the creation request are not allowed; ignored. */
    xmpp_stream_open(b->st, xnode_attr(a, "to"), version ? version : "1.0", lang);
    if (b->ended) {
        /* Refused (unknown host...): the terminate body answers. */
        hold_request(b, r);
        return;
    }
    buf o;
    buf_init(&o);
    buf_printf(&o,
               "<body xmlns='" NS_HTTPBIND "' xmlns:xmpp='" NS_XBOSH "' xmlns:stream='" NS_STREAM
               "' sid='%s' wait='%d' requests='%d' hold='%d' inactivity='%d' polling='%d' "
               "maxpause='%d' ver='1.11' secure='true' xmpp:version='1.0' xmpp:restartlogic='true'",
               b->sid, b->wait, b->requests, b->hold, b->inactivity, BOSH_POLLING, BOSH_MAXPAUSE);
    if (b->from) {
        buf_puts(&o, " from='");
        xml_escape(&o, b->from, strlen(b->from), true);
        buf_puts(&o, "'");
    }
    if (b->stream_id)
        buf_printf(&o, " authid='%s'", b->stream_id);
    buf_puts(&o, ">");
    buf_append(&o, b->out.data ? b->out.data : "", b->out.len);
    buf_puts(&o, "</body>");
    buf_reset(&b->out);
    answer(b, r, o.data, o.len);
    buf_free(&o);
    breq_free(r);
    arm_inactivity(b);
}

/* ---- entry from the HTTP side ---- */

typedef struct bosh_job {
    breq *r;
    uint64_t key;
    char peer[112];
} bosh_job;

static void job_run(void *arg)
{
    bosh_job *j = arg;
    ensure_table();
    bosh *b = idmap_get(&sessions, j->key);
    if (!b) {
        log_info("bosh: %s: unknown sid %016" PRIx64, j->peer, j->key);
        reply_terminate(&j->r->ref, "item-not-found");
        breq_free(j->r);
    } else {
        handle(b, j->r);
    }
    free(j);
}

static void job_drop(void *arg)
{
    bosh_job *j = arg;
    reply_terminate(&j->r->ref, "system-shutdown");
    breq_free(j->r);
    free(j);
}

void bosh_request(const http_ref *ref, const char *body, size_t len, const char *peer,
                  bool secure)
{
    breq *r = xcalloc(1, sizeof *r);
    r->ref = *ref;
    char err[128];
    if (bosh_body_parse(body, len, (size_t)config_current()->max_stanza_size, &r->body, err,
                        sizeof err) != 0) {
        log_info("bosh: %s: bad request body: %s", peer, err);
        char *t = xstrdup("<body xmlns='" NS_HTTPBIND "' type='terminate' condition='bad-request'/>");
        http_reply(ref, 400, NULL, t, strlen(t));
        free(r);
        return;
    }
    const char *sid = xnode_attr(r->body.attrs, "sid");
    if (!sid) {
        create(r, peer, secure);
        return;
    }
    char *end;
    uint64_t key = strtoull(sid, &end, 16);
    int nw = workers_count();
    if (strlen(sid) != 16 || *end || key == 0 || (int)(key & 0xff) >= nw) {
        log_info("bosh: %s: unknown sid '%.40s'", peer, sid);
        reply_terminate(ref, "item-not-found");
        breq_free(r);
        return;
    }
    bosh_job *j = xcalloc(1, sizeof *j);
    j->r = r;
    j->key = key;
    snprintf(j->peer, sizeof j->peer, "%s", peer);
    worker_post_drop(worker_get((int)(key & 0xff)), job_run, job_drop, j);
}

void bosh_worker_cleanup(void)
{
    if (!sessions_ready)
        return;
    for (;;) {
        bosh *b = NULL;
        for (size_t i = 0; i < sessions.cap && !b; i++)
            if (idmap_live(&sessions, i))
                b = sessions.vals[i];
        if (!b)
            break;
        bosh_free(b);
    }
    idmap_free(&sessions);
    sessions_ready = false;
}
