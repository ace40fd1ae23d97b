/* sm_pipe.c: resumption on another worker (XEP-0198 with plucs/threads > 1).
 *
 * A session lives on one worker for its whole life (modules keep per-session
 * state there). When the client resumes on a connection that landed on
 * another worker, the session stays on its worker A and the new stream on
 * worker B becomes a pipe:
 *   B -> A: the resumption request, then every element the client sends,
 *           then "gone" (lost: the connection broke; else it was closed);
 *   A -> B: the answer (<resumed/> and the resent stanzas, or <failed/>),
 *           then bytes to write, input off/on (A's session paused), close.
 * Both sides name each other by (worker, session id) and look the other up
 * on their own thread when a message arrives, so either side may go away at
 * any time: a message for a session that is gone, or that now belongs to
 * another pipe, is dropped (and a late answer for a gone stream is sent
 * back as "gone", which detaches the session again). */
#include "transport/sm_internal.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/worker.h"
#include "metrics/metrics.h"
#include "router/router.h"
#include "xmpp/stanza.h"

struct sm_pipe {
    worker *b;               /* the stream's worker */
    uint64_t b_sid;          /* the stream's session there */
    int paused;              /* A's session pause count */
    xnode *held, *held_last; /* elements that came while paused */
};

/* ---- messages ---- */

enum { UP_RESUME, UP_ELEMENT, UP_GONE };

typedef struct up_msg {
    int kind;
    worker *b;
    uint64_t b_sid;
    uint64_t a_sid;          /* UP_ELEMENT, UP_GONE */
    xnode *el;               /* UP_ELEMENT */
    bool lost;               /* UP_GONE */
    char *previd, *bare;     /* UP_RESUME */
    uint32_t h;
} up_msg;

enum { DOWN_ANSWER, DOWN_BYTES, DOWN_CLOSE, DOWN_INPUT };

typedef struct down_msg {
    int kind;
    int a_wid;
    uint64_t a_sid;
    uint64_t b_sid;
    bool ok;                 /* DOWN_ANSWER: resumed */
    bool on;                 /* DOWN_INPUT */
    bool error;              /* DOWN_CLOSE: with a condition */
    char *cond, *text;
    size_t len;
    char *data;
} down_msg;

static void up_free(void *arg)
{
    up_msg *m = arg;
    xnode_free(m->el);
    free(m->previd);
    free(m->bare);
    free(m);
}

static void down_free(void *arg)
{
    down_msg *m = arg;
    free(m->cond);
    free(m->text);
    free(m->data);
    free(m);
}

static void up_run(void *arg);
static void down_run(void *arg);

static void post_up(worker *a, up_msg *m) { worker_post_drop(a, up_run, up_free, m); }

static void post_down(sm_state *sm, down_msg *m)
{
    m->a_wid = worker_id(sm->s->w);
    m->a_sid = sm->s->id;
    m->b_sid = sm->pipe->b_sid;
    worker_post_drop(sm->pipe->b, down_run, down_free, m);
}

/* ---- A: the session's side ---- */

static void pipe_close(session *s, const char *condition, const char *text);

static void pipe_handle(sm_state *sm, xnode *el)
{
    session *s = sm->s;
    if (!strcmp(el->ns, NS_SM)) {
        sm_attached_element(sm, el);
        xnode_free(el);
        return;
    }
    stanza_kind kind = strcmp(el->ns, NS_CLIENT) ? STANZA_NONE : stanza_kind_of(el);
    if (!kind) {
        log_info("sm: %s: unsupported stanza <%s/> on a resumed stream", s->full, el->name);
        xnode_free(el);
        pipe_close(s, "unsupported-stanza-type", NULL);
        return;
    }
    sm->q.handled++;
    if (kind == STANZA_IQ && xnode_child(el, "bind", NS_BIND)) {
        session_send_free(s, stanza_error_reply(el, ERR_CANCEL, "not-allowed", NULL));
        xnode_free(el);
        return;
    }
    metrics_stanza_routed("tcp");
    router_from_session(s, el);
}

static void pipe_write(session *s, const char *data, size_t len)
{
    sm_state *sm = s->conn;
    if (sm->ending)
        return;
    if (sm->pipe) {
        sm_pipe_send(sm, data, len);
        sm_written(sm, data, len);
    }
    else
        sm_queue_push(&sm->q, data, len, sm_now_ms());   /* rerouted at the end */
}

static void pipe_close(session *s, const char *condition, const char *text)
{
    sm_state *sm = s->conn;
    if (s->closing)
        return;
    if (sm->pipe) {
        sm_pipe_close(sm, condition, text);
        sm_pipe_free(sm);
    }
    sm_end_soon(sm);
}

static void pipe_input(sm_state *sm, bool on)
{
    down_msg *m = xcalloc(1, sizeof *m);
    m->kind = DOWN_INPUT;
    m->on = on;
    post_down(sm, m);
}

static void pipe_pause(session *s)
{
    sm_state *sm = s->conn;
    if (sm->pipe && sm->pipe->paused++ == 0)
        pipe_input(sm, false);
}

static void pipe_resume(session *s)
{
    sm_state *sm = s->conn;
    sm_pipe *p = sm->pipe;
    if (!p || p->paused == 0 || --p->paused > 0)
        return;
    while (sm->pipe == p && p->held && !p->paused && !s->closing) {
        xnode *el = p->held;
        p->held = el->next;
        if (!p->held)
            p->held_last = NULL;
        el->next = NULL;
        pipe_handle(sm, el);
    }
    if (sm->pipe == p && !p->paused)
        pipe_input(sm, true);
}

static const session_ops pipe_ops = { pipe_write, pipe_close, pipe_pause, pipe_resume };

sm_state *sm_pipe_state_of(const session *s) { return s->ops == &pipe_ops ? s->conn : NULL; }

void sm_pipe_send(sm_state *sm, const char *data, size_t len)
{
    if (!sm->pipe)
        return;
    down_msg *m = xcalloc(1, sizeof *m);
    m->kind = DOWN_BYTES;
    m->data = xmalloc(len ? len : 1);
    memcpy(m->data, data, len);
    m->len = len;
    post_down(sm, m);
}

void sm_pipe_close(sm_state *sm, const char *condition, const char *text)
{
    if (!sm->pipe)
        return;
    down_msg *m = xcalloc(1, sizeof *m);
    m->kind = DOWN_CLOSE;
    m->error = condition != NULL;
    m->cond = condition ? xstrdup(condition) : NULL;
    m->text = text ? xstrdup(text) : NULL;
    post_down(sm, m);
}

void sm_pipe_free(sm_state *sm)
{
    sm_pipe *p = sm->pipe;
    if (!p)
        return;
    sm->pipe = NULL;
    while (p->held) {
        xnode *n = p->held->next;
        p->held->next = NULL;
        xnode_free(p->held);
        p->held = n;
    }
    free(p);
}

/* The session a message from B is for, when it is still attached to the
 * pipe of that stream. */
static sm_state *pipe_target(const up_msg *m)
{
    session *s = session_find(worker_self(), m->a_sid);
    sm_state *sm = s ? sm_pipe_state_of(s) : NULL;
    if (!sm || !sm->pipe || sm->pipe->b != m->b || sm->pipe->b_sid != m->b_sid)
        return NULL;
    return sm;
}

static void up_resume(up_msg *m)
{
    bool bad_h;
    sm_state *sm = sm_take_for_resume(m->previd, m->bare, m->h, &bad_h);
    down_msg *d = xcalloc(1, sizeof *d);
    d->kind = DOWN_ANSWER;
    d->b_sid = m->b_sid;
    buf b;
    buf_init(&b);
    if (!sm) {
        metrics_sm_resumption(false);
        log_info("sm: %s: resumption of '%.80s' from worker %d refused (%s)", m->bare, m->previd,
                 worker_id(m->b), bad_h ? "h beyond what was sent" : "unknown or expired");
        buf_printf(&b, "<failed xmlns='" NS_SM "'><%s xmlns='" NS_STANZAS "'/></failed>",
                   bad_h ? "unexpected-request" : "item-not-found");
        d->a_wid = worker_id(worker_self());
        d->data = xmalloc(b.len + 1);
        memcpy(d->data, b.data, b.len);
        d->len = b.len;
        buf_free(&b);
        worker_post_drop(m->b, down_run, down_free, d);
        return;
    }
    session *s = sm->s;
    s->ops = &pipe_ops;
    s->conn = sm;
    s->closing = false;
    sm->pipe = xcalloc(1, sizeof *sm->pipe);
    sm->pipe->b = m->b;
    sm->pipe->b_sid = m->b_sid;
    sm_list_add(sm);   /* no stream of this worker: freed by the worker list */
    sm_resumed_bytes(sm, &b);
    d->ok = true;
    d->data = xmalloc(b.len + 1);
    memcpy(d->data, b.data, b.len);
    d->len = b.len;
    buf_free(&b);
    post_down(sm, d);
    sm_resend(sm);
    log_info("sm: %s: resumed through worker %d", s->full, worker_id(m->b));
    sm_after_resume(sm);
}

static void up_run(void *arg)
{
    up_msg *m = arg;
    if (m->kind == UP_RESUME) {
        up_resume(m);
    } else {
        sm_state *sm = pipe_target(m);
        if (sm && m->kind == UP_ELEMENT) {
            sm_pipe *p = sm->pipe;
            xnode *el = m->el;
            m->el = NULL;
            if (p->paused) {
                el->next = NULL;
                if (p->held_last)
                    p->held_last->next = el;
                else
                    p->held = el;
                p->held_last = el;
            } else {
                pipe_handle(sm, el);
            }
        } else if (sm && m->kind == UP_GONE) {
            if (m->lost && sm->resume) {
                sm_detach(sm, sm->s);
            } else {
                sm_pipe_free(sm);
                sm_end_soon(sm);
            }
        }
    }
    up_free(m);
}

/* ---- B: the new stream's side ---- */

void sm_pipe_request(xmpp_stream *st, int wid, const char *previd, uint32_t h)
{
    session *cur = xmpp_stream_session(st);
    up_msg *m = xcalloc(1, sizeof *m);
    m->kind = UP_RESUME;
    m->b = cur->w;
    m->b_sid = cur->id;
    m->previd = xstrdup(previd);
    m->bare = xstrdup(cur->bare);
    m->h = h;
    xmpp_stream_set_proxy(st, wid, 0);
    xmpp_stream_hold(st, true);
    post_up(worker_get(wid), m);
}

/* The stream a message from A is for; NULL when it is gone or no longer
 * proxies that session (answer: the pending request). */
static xmpp_stream *proxy_target(const down_msg *m)
{
    session *bs = session_find(worker_self(), m->b_sid);
    xmpp_stream *st = bs ? xmpp_stream_of(bs) : NULL;
    int wid;
    uint64_t sid;
    if (!st || xmpp_stream_closing(st) || !xmpp_stream_proxy(st, &wid, &sid) || wid != m->a_wid)
        return NULL;
    if (m->kind == DOWN_ANSWER ? sid != 0 : sid != m->a_sid)
        return NULL;
    return st;
}

static void down_run(void *arg)
{
    down_msg *m = arg;
    xmpp_stream *st = proxy_target(m);
    if (!st) {
        if (m->kind == DOWN_ANSWER && m->ok) {
            /* The new connection went away before the answer: the session
             * waits again. */
            up_msg *u = xcalloc(1, sizeof *u);
            u->kind = UP_GONE;
            u->b = worker_self();
            u->b_sid = m->b_sid;
            u->a_sid = m->a_sid;
            u->lost = true;
            post_up(worker_get(m->a_wid), u);
        }
        down_free(m);
        return;
    }
    switch (m->kind) {
    case DOWN_ANSWER:
        if (m->ok) {
            xmpp_stream_set_proxy(st, m->a_wid, m->a_sid);
            xmpp_stream_resumed_remote(st);
        } else {
            xmpp_stream_set_proxy(st, -1, 0);
        }
        xmpp_stream_write(st, m->data, m->len);
        xmpp_stream_hold(st, false);
        break;
    case DOWN_BYTES:
        xmpp_stream_write(st, m->data, m->len);
        break;
    case DOWN_CLOSE:
        xmpp_stream_set_proxy(st, -1, 0);   /* the session knows */
        xmpp_stream_close(st, m->error ? m->cond : NULL, m->text);
        break;
    case DOWN_INPUT:
        xmpp_stream_pause_input(st, !m->on);
        break;
    }
    down_free(m);
}

void sm_proxy_element(xmpp_stream *st, xnode *el)
{
    int wid;
    uint64_t sid;
    if (!xmpp_stream_proxy(st, &wid, &sid) || !sid) {
        xnode_free(el);
        return;
    }
    up_msg *m = xcalloc(1, sizeof *m);
    m->kind = UP_ELEMENT;
    m->b = worker_self();
    m->b_sid = xmpp_stream_session(st)->id;
    m->a_sid = sid;
    m->el = el;
    post_up(worker_get(wid), m);
}

void sm_proxy_gone(xmpp_stream *st, bool lost)
{
    int wid;
    uint64_t sid;
    if (!xmpp_stream_proxy(st, &wid, &sid) || !sid)
        return;
    xmpp_stream_set_proxy(st, -1, 0);
    up_msg *m = xcalloc(1, sizeof *m);
    m->kind = UP_GONE;
    m->b = worker_self();
    m->b_sid = xmpp_stream_session(st)->id;
    m->a_sid = sid;
    m->lost = lost;
    post_up(worker_get(wid), m);
}
