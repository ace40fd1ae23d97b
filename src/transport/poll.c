/* poll.c: HTTP polling sessions (see poll.h and XEP-0025). The request
 * data is fed to an XML stream parser exactly as TCP bytes are, so the
 * stream layer sees the same header/stanza/close events; the answer to each
 * poll is the output queued since the previous one. Keys: when the client
 * sends one, every later request must carry the key whose SHA-1 (base64)
 * is the previous key (optionally starting a new sequence with NEWKEY);
 * a wrong key ends the session (ID=-3:0). A session whose requests brought
 * no data for a sweep period frees its parser between stanzas
 * (idle_sweep.h), as a TCP stream does. */
#include "transport/poll.h"
#include "core/alloc.h"

#include <event2/event.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/i18n.h"
#include "core/idmap.h"
#include "core/log.h"
#include "transport/conn_limits.h"
#include "transport/framing.h"
#include "transport/idle_sweep.h"
#include "transport/transport.h"
#include "transport/xmpp_stream.h"

#define MAX_OUTPUT (4u << 20)
#define GRACE 10

typedef struct psess {
    uint64_t key;
    char id[20];
    char peer[112];
    char *last_key;      /* NULL: the client uses no keys */
    xmpp_stream *st;     /* NULL once gone */
    xstream *xs;
    buf out;
    bool ended;
    bool overflowed;         /* MAX_OUTPUT passed: nothing more is queued */
    struct event *timer; /* inactivity, then grace */
    struct event *finish_ev;
    idle_entry idle;         /* on the worker's sweep list while recently fed */
} psess;

static __thread idmap sessions;
static __thread bool sessions_ready;

int poll_key_matches(const char *key, const char *expected)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char b64[64];
    EVP_Digest(key, strlen(key), md, &n, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)b64, md, (int)n);
    return !strcmp(b64, expected);
}

static void reply(const http_ref *ref, const char *id, const char *data, size_t len)
{
    char headers[160];
    snprintf(headers, sizeof headers, "Set-Cookie: ID=%s; path=%s\r\n", id,
             config_current()->http_poll_url);
    char *copy = xmalloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = 0;
    http_reply(ref, 200, headers, copy, len);
}

static void reply_error(const http_ref *ref, const char *code) { reply(ref, code, "", 0); }

static void psess_free(psess *p)
{
    idle_forget(&p->idle);
    if (sessions_ready)
        idmap_del(&sessions, p->key);
    if (p->st)
        xmpp_stream_free(p->st);
    if (p->xs)
        xstream_free(p->xs);
    buf_free(&p->out);
    free(p->last_key);
    event_free(p->timer);
    event_free(p->finish_ev);
    free(p);
    conn_limits_web_session_release();
    transport_conn_closed();
}

static void timer_run(evutil_socket_t fd, short what, void *arg)
{
    psess *p = arg;
    if (p->ended) {
        psess_free(p);
        return;
    }
    log_info("poll: %s: session %s had no request for %d s, closing", p->peer, p->id,
             config_current()->http_bind_inactivity);
    xmpp_stream_close(p->st, NULL, NULL);
}

static void arm(psess *p, int seconds)
{
    struct timeval tv = { seconds, 0 };
    evtimer_add(p->timer, &tv);
}

static void finish_run(evutil_socket_t fd, short what, void *arg)
{
    psess *p = arg;
    if (p->st) {
        xmpp_stream_free(p->st);
        p->st = NULL;
    }
    if (transport_stopping())
        psess_free(p);
    else
        arm(p, GRACE);   /* the last output waits for one more poll */
}

/* ---- transport callbacks ---- */

static void t_header(void *t, const char *id, const char *from, const char *to, const char *lang)
{
    framing_stream_header(&((psess *)t)->out, id, from, to, lang);
}

static void t_write(void *t, const char *data, size_t len)
{
    psess *p = t;
    if (p->ended || p->overflowed)
        return;
    if (p->out.len + len > MAX_OUTPUT) {
        p->overflowed = true;   /* first: closing writes the stream error through here */
        log_warn("poll: %s: session %s does not poll, closing", p->peer, p->id);
        xmpp_stream_close(p->st, "policy-violation",
                          i18n(xmpp_stream_session(p->st)->lang, T_UNREAD));
        return;
    }
    buf_append(&p->out, data, len);
}

static void t_end(void *t, bool header_open, bool error)
{
    psess *p = t;
    if (header_open)
        buf_puts(&p->out, "</stream:stream>");
    p->ended = true;
    if (p->xs)
        xstream_stop(p->xs);
    evtimer_del(p->timer);
    event_active(p->finish_ev, EV_TIMEOUT, 0);
}

static void t_input(void *t, bool on) {}

static void t_restart(void *t)
{
    psess *p = t;
    if (p->xs)
        xstream_reset(p->xs);
}

static void t_destroy(void *t) { psess_free(t); }

static const xmpp_transport poll_transport = {
    .name = "poll",
    .metric = "poll",
    .header = t_header,
    .write = t_write,
    .end = t_end,
    .input = t_input,
    .starttls = NULL,
    .restart = t_restart,
    .destroy = t_destroy,
};

/* ---- parser callbacks ---- */

static void xs_open(void *ud, const xnode *hdr, const char *default_ns)
{
    psess *p = ud;
    const char *lang = xnode_attr(hdr, "xml:lang");
    if (strcmp(hdr->name, "stream") || strcmp(hdr->ns, NS_STREAM) || !default_ns ||
        strcmp(default_ns, NS_CLIENT))
        xmpp_stream_open_refused(p->st, xnode_attr(hdr, "to"), lang, "invalid-namespace");
    else
        xmpp_stream_open(p->st, xnode_attr(hdr, "to"), xnode_attr(hdr, "version"), lang);
}

static void xs_stanza(void *ud, xnode *el) { xmpp_stream_stanza(((psess *)ud)->st, el); }
static void xs_close(void *ud) { xmpp_stream_end(((psess *)ud)->st); }

static void xs_error(void *ud, xstream_err kind, const char *detail)
{
    xmpp_stream_parse_error(((psess *)ud)->st, kind, detail);
}

static const xstream_cb xs_callbacks = { xs_open, xs_stanza, xs_close, xs_error };

/* ---- requests ---- */

typedef struct preq {
    http_ref ref;
    uint64_t key;            /* 0: a new session */
    char *keyv, *newkey;     /* may be NULL */
    char *data;
    size_t len;
    char peer[112];
} preq;

static void preq_free(preq *q)
{
    free(q->keyv);
    free(q->newkey);
    if (q->data)
        explicit_bzero(q->data, q->len);
    free(q->data);
    free(q);
}

static void answer(psess *p, const http_ref *ref)
{
    reply(ref, p->id, p->out.data ? p->out.data : "", p->out.len);
    buf_free(&p->out);
}

/* Quiet for a sweep period: the parser goes if no stanza is half-read
 * (xstream_release); the next data gets a fresh one. */
static void poll_idle(idle_entry *e)
{
    psess *p = (psess *)((char *)e - offsetof(psess, idle));
    if (p->st && !p->ended && xstream_release(p->xs))
        log_debug("poll: %s: session %s idle, XML parser released", p->peer, p->id);
}

static void feed(psess *p, preq *q)
{
    if (q->len && p->st && !p->ended) {
        xstream_feed(p->xs, q->data, q->len);
        if (p->st && !p->ended)
            idle_touch(event_get_base(p->timer), &p->idle, poll_idle);
    }
}

static void create(preq *q, bool secure)
{
    if (transport_stopping()) {
        reply_error(&q->ref, "-1:0");
        return;
    }
    if (!conn_limits_web_session_acquire(config_current()->http_max_sessions)) {
        unsigned skipped = 0;
        if (conn_limits_log_ok(CL_LOG_WEB_SESSIONS, 10, &skipped))
            log_warn("poll: %s: new session refused: %d BOSH and polling sessions "
                     "(plucs/http/max_sessions); %u more refused since the last line",
                     q->peer, config_current()->http_max_sessions, skipped);
        reply_error(&q->ref, "-1:0");   /* XEP-0025: server error */
        return;
    }
    if (!sessions_ready) {
        idmap_init(&sessions);
        sessions_ready = true;
    }
    worker *w = worker_self();
    psess *p = xcalloc(1, sizeof *p);
    do {
        uint64_t k;
        RAND_bytes((unsigned char *)&k, sizeof k);
        p->key = (k & ~(uint64_t)0xff & 0x7fffffffffffffffull) | (uint64_t)worker_id(w);
    } while (p->key == 0 || idmap_get(&sessions, p->key));
    snprintf(p->id, sizeof p->id, "%016" PRIx64, p->key);
    snprintf(p->peer, sizeof p->peer, "%s", q->peer);
    p->last_key = q->newkey ? xstrdup(q->newkey) : q->keyv ? xstrdup(q->keyv) : NULL;
    p->timer = evtimer_new(worker_base(w), timer_run, p);
    p->finish_ev = event_new(worker_base(w), -1, 0, finish_run, p);
    idmap_put(&sessions, p->key, p);
    transport_conn_opened();
    p->st = xmpp_stream_new(w, &poll_transport, p, q->peer, secure);
    p->xs = xstream_new(&xs_callbacks, p, (size_t)config_current()->max_stanza_size,
                        XMPP_STREAM_MAX_DEPTH);
    log_debug("poll: %s: session %s created", q->peer, p->id);
    feed(p, q);
    answer(p, &q->ref);
    if (!p->ended)
        arm(p, config_current()->http_bind_inactivity);
}

static void handle(psess *p, preq *q)
{
    if (p->ended) {   /* the last output, then gone */
        answer(p, &q->ref);
        psess_free(p);
        return;
    }
    if (p->last_key) {
        if (!q->keyv || !poll_key_matches(q->keyv, p->last_key)) {
            log_info("poll: %s: session %s: key sequence error, closing", q->peer, p->id);
            reply_error(&q->ref, "-3:0");
            xmpp_stream_close(p->st, NULL, NULL);
            return;
        }
        free(p->last_key);
        p->last_key = xstrdup(q->newkey ? q->newkey : q->keyv);
    }
    feed(p, q);
    answer(p, &q->ref);
    if (!p->ended)
        arm(p, config_current()->http_bind_inactivity);
}

static void job_run(void *arg)
{
    preq *q = arg;
    psess *p = sessions_ready ? idmap_get(&sessions, q->key) : NULL;
    if (!p) {
        log_info("poll: %s: unknown session %016" PRIx64, q->peer, q->key);
        reply_error(&q->ref, "-2:0");
    } else {
        handle(p, q);
    }
    preq_free(q);
}

static void job_drop(void *arg)
{
    preq *q = arg;
    reply_error(&q->ref, "-1:0");
    preq_free(q);
}

void poll_request(const http_ref *ref, const char *body, size_t len, const char *cookie,
                  const char *peer, bool secure)
{
    const char *comma = memchr(body, ',', len);
    size_t plen = comma ? (size_t)(comma - body) : 0;
    if (!comma || plen == 0 || plen > 200) {
        log_info("poll: %s: request without 'ID[;KEY],' prefix", peer);
        reply_error(ref, "-2:0");
        return;
    }
    char prefix[201];
    memcpy(prefix, body, plen);
    prefix[plen] = 0;
    preq *q = xcalloc(1, sizeof *q);
    q->ref = *ref;
    snprintf(q->peer, sizeof q->peer, "%s", peer);
    char *save = NULL;
    char *id = strtok_r(prefix, ";", &save);
    char *k = strtok_r(NULL, ";", &save);
    char *nk = strtok_r(NULL, ";", &save);
    q->keyv = k ? xstrdup(k) : NULL;
    q->newkey = nk ? xstrdup(nk) : NULL;
    q->len = len - plen - 1;
    q->data = xmalloc(q->len + 1);
    memcpy(q->data, comma + 1, q->len);
    if (!id || !strcmp(id, "0")) {
        create(q, secure);
        preq_free(q);
        return;
    }
    char *end;
    q->key = strtoull(id, &end, 16);
    if (strlen(id) != 16 || *end || q->key == 0 || (int)(q->key & 0xff) >= workers_count()) {
        log_info("poll: %s: unknown session '%.40s'", peer, id);
        reply_error(ref, "-2:0");
        preq_free(q);
        return;
    }
    worker_post_drop(worker_get((int)(q->key & 0xff)), job_run, job_drop, q);
}

void poll_worker_cleanup(void)
{
    if (!sessions_ready)
        return;
    for (;;) {
        psess *p = NULL;
        for (size_t i = 0; i < sessions.cap && !p; i++)
            if (idmap_live(&sessions, i))
                p = sessions.vals[i];
        if (!p)
            break;
        psess_free(p);
    }
    idmap_free(&sessions);
    sessions_ready = false;
}
