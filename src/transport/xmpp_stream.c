/* xmpp_stream.c: the client stream logic shared by every transport (see
 * xmpp_stream.h): header checks, features, STARTTLS decision, SASL PLAIN
 * through directory_auth(), bind, dispatch to router_from_session(), session
 * pause/resume with held stanzas, the pre-authentication timeout, and the
 * one place where a stream error is written (xmpp_stream_close). */
#include "transport/xmpp_stream.h"
#include "core/alloc.h"

#include <event2/event.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/i18n.h"
#include "core/log.h"
#include "directory/directory.h"
#include "router/router.h"
#include "metrics/metrics.h"
#include "transport/sm.h"
#include "transport/tls.h"
#include "xmpp/auth_throttle.h"
#include "xmpp/jid.h"
#include "xmpp/sasl.h"
#include "xmpp/sasl2.h"
#include "xmpp/stanza.h"
#include "transport/xmpp_stream_internal.h"

#define LOGIN_TIMEOUT_MIN 5      /* plucs/c2s/login_timeout's lower bound */
#define MAX_AUTH_FAILURES 5      /* SASL failures of any kind on one connection */


static void handle_stanza(xmpp_stream *st, xnode *el);
static void delayed_auth_clear(xmpp_stream *st);
static xmpp_features_fn features_fn;

void xmpp_stream_set_features_fn(xmpp_features_fn fn) { features_fn = fn; }
static xmpp_element_fn element_fn;
void xmpp_stream_set_element_fn(xmpp_element_fn fn) { element_fn = fn; }

/* ---- output and flow control ---- */

static void st_write(xmpp_stream *st, const char *data, size_t len)
{
    if (!st->closing)
        st->t->write(st->tctx, data, len);
}

static void st_write_str(xmpp_stream *st, const char *s) { st_write(st, s, strlen(s)); }

/* Tells the transport whether input is wanted, when that changed. */
static void update_input(xmpp_stream *st)
{
    bool off = st->closing || st->paused || st->auth_pending || st->sm_wait;
    if (off == st->input_off)
        return;
    st->input_off = off;
    st->t->input(st->tctx, !off);
}

static void ops_write(session *s, const char *data, size_t len)
{
    xmpp_stream *st = s->conn;
    st_write(st, data, len);
    if (st->sm && !st->closing)
        sm_stanza_written(st, data, len);
}

static void ops_close(session *s, const char *condition, const char *text)
{
    xmpp_stream_close(s->conn, condition, text);
}

static void ops_pause(session *s)
{
    xmpp_stream *st = s->conn;
    st->paused++;
    update_input(st);
}

static void ops_resume(session *s)
{
    xmpp_stream *st = s->conn;
    if (st->paused == 0 || --st->paused > 0)
        return;
    while (st->held && !st->paused && !st->closing && !st->auth_pending && !st->sm_wait) {
        xnode *el = st->held;
        st->held = el->next;
        if (!st->held)
            st->held_last = NULL;
        el->next = NULL;
        handle_stanza(st, el);
    }
    update_input(st);
}

static const session_ops stream_ops = { ops_write, ops_close, ops_pause, ops_resume };

/* ---- lifetime ---- */

static void preauth_timeout(evutil_socket_t fd, short what, void *arg)
{
    xmpp_stream *st = arg;
    log_info("%s: %s: no session established within %d s, closing", st->t->name, st->peer,
             st->login_timeout);
    xmpp_stream_close(st, "connection-timeout", NULL);
}

xmpp_stream *xmpp_stream_new(worker *w, const xmpp_transport *t, void *tctx, const char *peer,
                             bool secure)
{
    xmpp_stream *st = xcalloc(1, sizeof *st);
    st->t = t;
    st->tctx = tctx;
    st->secure = secure;
    st->proxy_wid = -1;
    snprintf(st->peer, sizeof st->peer, "%s", peer ? peer : "?");
    auth_throttle_peer_key(st->peer, st->ip, sizeof st->ip);
    st->s = session_new(w, &stream_ops, st);
    /* From accept to a bound resource: covers a silent client, a stalled
     * stream header, TLS handshake and SASL alike (slowloris). */
    st->login_timeout = config_current()->c2s_login_timeout;
    if (st->login_timeout < LOGIN_TIMEOUT_MIN)
        st->login_timeout = LOGIN_TIMEOUT_MIN;
    st->timer = evtimer_new(worker_base(w), preauth_timeout, st);
    struct timeval tv = { st->login_timeout, 0 };
    evtimer_add(st->timer, &tv);
    return st;
}

/* The login timeout is over for good (bound or resumed): its event goes,
 * so that an idle session does not keep it. */
void xs_login_timer_free(xmpp_stream *st)
{
    if (st->timer) {
        event_free(st->timer);
        st->timer = NULL;
    }
}

void xmpp_stream_free(xmpp_stream *st)
{
    if (!st)
        return;
    if (st->s && st->proxy_wid >= 0)
        sm_proxy_gone(st, !st->closing || st->lost);
    if (st->s) {
        if (st->s->bound)
            log_info("%s: %s (%s) disconnected", st->t->name, st->s->full, st->peer);
        if (st->counted)
            metrics_session_add(st->t->metric, st->s->domain, -1);
        /* A connection lost without a close: SM may keep the session. */
        if (!sm_stream_free(st, !st->closing))
            session_free(st->s);
    }
    if (st->timer)
        event_free(st->timer);
    delayed_auth_clear(st);
    sasl2_state_free(st->sasl2);
    while (st->held) {
        xnode *next = st->held->next;
        st->held->next = NULL;
        xnode_free(st->held);
        st->held = next;
    }
    free(st);
}

void xmpp_stream_destroy_transport(xmpp_stream *st) { st->t->destroy(st->tctx); }

session *xmpp_stream_session(xmpp_stream *st) { return st->s; }

void xmpp_stream_write(xmpp_stream *st, const char *data, size_t len) { st_write(st, data, len); }
struct sm_state *xmpp_stream_sm(const xmpp_stream *st) { return st->sm; }
void xmpp_stream_set_sm(xmpp_stream *st, struct sm_state *sm) { st->sm = sm; }

struct sm_state *xmpp_stream_sm_of_session(const session *s)
{
    return s->ops == &stream_ops ? ((xmpp_stream *)s->conn)->sm : NULL;
}

bool xmpp_stream_sm_capable(const xmpp_stream *st)
{
    return !strcmp(st->t->name, "c2s") || !strcmp(st->t->name, "websocket");
}

session *xmpp_stream_take_session(xmpp_stream *st)
{
    session *old = st->s;
    if (st->counted) {
        metrics_session_add(st->t->metric, old->domain, -1);
        st->counted = false;
    }
    st->s = session_new(old->w, &stream_ops, st);
    st->s->domain = old->domain ? xstrdup(old->domain) : NULL;
    memcpy(st->s->lang, old->lang, sizeof old->lang);
    return old;
}

xmpp_stream *xmpp_stream_of(session *s) { return s->ops == &stream_ops ? s->conn : NULL; }

void xmpp_stream_set_proxy(xmpp_stream *st, int wid, uint64_t sid)
{
    st->proxy_wid = wid;
    st->proxy_sid = sid;
}

bool xmpp_stream_proxy(const xmpp_stream *st, int *wid, uint64_t *sid)
{
    *wid = st->proxy_wid;
    *sid = st->proxy_sid;
    return st->proxy_wid >= 0;
}

void xmpp_stream_resumed_remote(xmpp_stream *st)
{
    xs_login_timer_free(st);
    log_info("%s: %s resumed from %s (session on worker %d)", st->t->name, st->s->bare, st->peer,
             st->proxy_wid);
}

void xmpp_stream_adopt(xmpp_stream *st, session *s)
{
    session_free(st->s);   /* authenticated, never bound: no hooks */
    st->s = s;
    s->ops = &stream_ops;
    s->conn = st;
    s->closing = false;
    xs_login_timer_free(st);   /* the login timeout: the session is bound */
    log_info("%s: %s resumed from %s", st->t->name, s->full, st->peer);
}
bool xmpp_stream_closing(const xmpp_stream *st) { return st->closing; }

static void send_header(xmpp_stream *st, const char *to)
{
    unsigned char rnd[12];
    char id[32];
    RAND_bytes(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(id + 2 * i, 3, "%02x", rnd[i]);
    st->t->header(st->tctx, id, st->s->domain, to, i18n_lang(st->s->lang[0] ? st->s->lang : NULL));
    st->header_sent = true;
}

void xmpp_stream_close(xmpp_stream *st, const char *condition, const char *text)
{
    /* ending: a transport may call back in here while the error is written
     * (its output limit); the outer call finishes the job. */
    if (st->closing || st->ending)
        return;
    st->ending = true;
    if (condition) {
        if (!st->header_sent)
            send_header(st, NULL);
        buf b;
        buf_init(&b);
        buf_printf(&b, "<stream:error><%s xmlns='" NS_STREAMS "'/>", condition);
        if (text) {
            buf_printf(&b, "<text xmlns='" NS_STREAMS "' xml:lang='%s'>", i18n_lang(st->s->lang));
            xml_escape(&b, text, strlen(text), false);
            buf_puts(&b, "</text>");
        }
        buf_puts(&b, "</stream:error>");
        st_write(st, b.data, b.len);
        buf_free(&b);
    }
    st->closing = true;
    st->s->closing = true;
    if (st->timer)
        evtimer_del(st->timer);
    if (st->auth_delay)
        evtimer_del(st->auth_delay);
    st->input_off = true;
    st->t->end(st->tctx, st->header_sent, condition != NULL);
}

void xmpp_stream_end(xmpp_stream *st) { xmpp_stream_close(st, NULL, NULL); }

void xmpp_stream_connection_lost(xmpp_stream *st)
{
    if (st->closing)
        return;
    st->lost = true;
    sm_connection_lost(st);   /* SM may keep the session for a resumption */
    xmpp_stream_close(st, NULL, NULL);
}

void xmpp_stream_parse_error(xmpp_stream *st, xstream_err kind, const char *detail)
{
    const char *cond = "not-well-formed";
    const char *text = NULL;
    switch (kind) {
    case XS_ERR_XML:
        break;
    case XS_ERR_RESTRICTED:
        cond = "restricted-xml";
        break;
    case XS_ERR_TOO_BIG:
        cond = "policy-violation";
        text = i18n(st->s->lang, T_TOO_BIG);
        break;
    case XS_ERR_DEPTH:
        cond = "policy-violation";
        text = i18n(st->s->lang, T_TOO_DEEP);
        break;
    }
    log_info("%s: %s%s%s: closing stream: %s (%s)", st->t->name, st->peer, st->s->full ? " " : "",
             st->s->full ? st->s->full : "", cond, detail ? detail : "");
    xmpp_stream_close(st, cond, text);
}

/* ---- features ---- */

static bool tls_offerable(const xmpp_stream *st)
{
    return !st->secure && st->t->starttls && config_current()->tls != TLS_OFF && tls_available();
}

void xs_send_features(xmpp_stream *st)
{
    const config *cfg = config_current();
    buf b;
    buf_init(&b);
    buf_puts(&b, "<stream:features>");
    if (!st->authed) {
        if (tls_offerable(st))
            buf_puts(&b, cfg->tls == TLS_REQUIRED
                             ? "<starttls xmlns='" NS_TLS "'><required/></starttls>"
                             : "<starttls xmlns='" NS_TLS "'/>");
        if (st->secure || cfg->tls != TLS_REQUIRED)
            buf_puts(&b, "<mechanisms xmlns='" NS_SASL "'><mechanism>PLAIN</mechanism></mechanisms>");
        if (sasl2_offered(st))
            sasl2_features(st, &b);
    } else {
        buf_puts(&b, "<bind xmlns='" NS_BIND "'/>"
                     "<session xmlns='" NS_SESSION "'><optional/></session>");
    }
    if (features_fn)
        features_fn(st->s, st->authed, &b);
    sm_features(st, st->authed, &b);
    buf_puts(&b, "</stream:features>");
    st_write(st, b.data, b.len);
    buf_free(&b);
}

/* ---- stream header ---- */

void xmpp_stream_open_refused(xmpp_stream *st, const char *to, const char *lang,
                              const char *condition)
{
    if (st->closing)
        return;
    if (lang && strlen(lang) < sizeof st->s->lang)
        strcpy(st->s->lang, lang);

    /* Learn the domain first so that even an error header says who we are. */
    char *domain = to ? jid_nameprep(to) : NULL;
    bool served = domain && router_serves(domain);
    if (served && !st->s->domain)
        st->s->domain = xstrdup(domain);
    if (!st->header_sent)
        send_header(st, NULL);
    free(domain);
    xmpp_stream_close(st, condition, NULL);
}

void xmpp_stream_open(xmpp_stream *st, const char *to, const char *version, const char *lang)
{
    if (st->closing)
        return;
    st->await_restart = false;   /* the restart RFC 6120 asks for */
    if (lang && strlen(lang) < sizeof st->s->lang)
        strcpy(st->s->lang, lang);

    char *domain = to ? jid_nameprep(to) : NULL;
    bool served = domain && router_serves(domain);
    if (served && !st->s->domain)
        st->s->domain = xstrdup(domain);
    if (!st->header_sent)
        send_header(st, NULL);

    if (!version || atoi(version) != 1) {
        log_info("%s: %s: unsupported stream version '%s'", st->t->name, st->peer,
                 version ? version : "");
        xmpp_stream_close(st, "unsupported-version", i18n(st->s->lang, T_VERSION));
    } else if (!served) {
        log_info("%s: %s: stream to domain '%s' that is not served", st->t->name, st->peer,
                 to ? to : "");
        xmpp_stream_close(st, "host-unknown", NULL);
    } else if (strcmp(domain, st->s->domain)) {
        log_info("%s: %s: restarted stream changed domain to '%s'", st->t->name, st->peer, domain);
        xmpp_stream_close(st, "host-unknown", NULL);
    } else {
        xs_send_features(st);
    }
    free(domain);
}

/* ---- SASL PLAIN ---- */

struct auth_req {
    uint64_t sid;
    worker *w;
    char *node;
    char *account;   /* node@domain: the throttle's key */
};

static void auth_req_free(auth_req *a)
{
    if (!a)
        return;
    free(a->node);
    free(a->account);
    free(a);
}

/* One throttle for every worker: a client reconnecting lands on another
 * worker. Its lock is held for a few hash lookups per SASL attempt. */
static pthread_mutex_t throttle_lock = PTHREAD_MUTEX_INITIALIZER;
static auth_throttle *throttle;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Locks the throttle (made on first use); the caller unlocks throttle_lock. */
static auth_throttle *throttle_lock_get(void)
{
    pthread_mutex_lock(&throttle_lock);
    if (!throttle)
        throttle = auth_throttle_new(AT_DEFAULT_CAP);
    return throttle;
}

static at_verdict throttle_attempt(const xmpp_stream *st, const char *account)
{
    at_verdict v = auth_throttle_attempt(throttle_lock_get(), st->ip, account, now_ms());
    pthread_mutex_unlock(&throttle_lock);
    return v;
}

static void throttle_result(const xmpp_stream *st, const char *account, bool ok)
{
    auth_throttle_result(throttle_lock_get(), st->ip, account, ok, now_ms());
    pthread_mutex_unlock(&throttle_lock);
}

/* Per-attempt SASL refusal lines: at most REFUSALS_PER_SECOND a second per
 * worker (then one line saying how many were not written), so a client
 * that reconnects in a loop cannot fill the disk. The throttle's own lines
 * are once per offender per minute. */
#define REFUSALS_PER_SECOND 20
void xs_log_refusal(const char *fmt, ...)
{
    static __thread log_budget budget;
    int dropped;
    bool ok = log_budget_take(&budget, REFUSALS_PER_SECOND, &dropped);
    if (dropped)
        log_info("auth: %d more failed authentication attempt(s) not logged", dropped);
    if (!ok)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_info("%s", line);
}

/* Every SASL failure counts against the connection (a client cannot repeat
 * invalid-authzid or invalid-mechanism for the whole login timeout), except
 * the directory being unavailable, which is not the client's doing. */
static void sasl_failure_counted(xmpp_stream *st, const char *condition, bool counts)
{
    char out[200];
    if (st->sasl2) {   /* XEP-0388: the condition keeps RFC 6120's namespace */
        snprintf(out, sizeof out, "<failure xmlns='" NS_SASL2 "'><%s xmlns='" NS_SASL "'/></failure>",
                 condition);
        sasl2_state_free(st->sasl2);
        st->sasl2 = NULL;
        st->awaiting_response = false;
    } else {
        snprintf(out, sizeof out, "<failure xmlns='" NS_SASL "'><%s/></failure>", condition);
    }
    st_write_str(st, out);
    if (counts && ++st->auth_failures >= MAX_AUTH_FAILURES) {
        log_info("%s: %s: too many failed authentication attempts", st->t->name, st->peer);
        xmpp_stream_close(st, "policy-violation", i18n(st->s->lang, T_TOO_MANY_AUTH));
    }
}

void xs_sasl_failure(xmpp_stream *st, const char *condition)
{
    sasl_failure_counted(st, condition, true);
}

/* A failure that is the client's, before any password check: counts for the
 * connection and against its address in the throttle. */
void xs_sasl_refuse(xmpp_stream *st, const char *condition)
{
    metrics_auth(false);
    throttle_result(st, NULL, false);
    xs_sasl_failure(st, condition);
}

/* Processes what the transport delivered while the check was pending, or
 * lets it deliver more. */
static void auth_resume(xmpp_stream *st)
{
    if (!st->paused) {
        st->paused++;
        ops_resume(st->s);
    } else {
        update_input(st);
    }
}

/* Drops what came after <auth/> or <starttls/>: RFC 6120 §5.4.3.3 and
 * §6.4.6 (the client waits for the answer, then opens a new stream). */
static void discard_held(xmpp_stream *st, const char *after)
{
    int n = 0;
    while (st->held) {
        xnode *next = st->held->next;
        st->held->next = NULL;
        xnode_free(st->held);
        st->held = next;
        n++;
    }
    st->held_last = NULL;
    if (n && !st->discard_logged) {
        st->discard_logged = true;
        log_info("%s: %s: discarding %d element%s sent after %s before the stream restart",
                 st->t->name, st->peer, n, n == 1 ? "" : "s", after);
    }
}

static void auth_done(void *arg, dir_auth_result r)
{
    auth_req *a = arg;
    session *s = session_find(a->w, a->sid);
    if (!s || s->closing) {
        auth_req_free(a);
        return;
    }
    xmpp_stream *st = s->conn;
    st->auth_pending = false;
    metrics_auth(r == DIR_AUTH_OK);
    if (r == DIR_AUTH_OK) {
        throttle_result(st, a->account, true);
        s->node = a->node;
        a->node = NULL;
        size_t n = strlen(s->node) + strlen(s->domain) + 2;
        s->bare = xmalloc(n);
        snprintf(s->bare, n, "%s@%s", s->node, s->domain);
        st->authed = true;
        st->header_sent = false;
        st->counted = true;
        metrics_session_add(st->t->metric, s->domain, 1);
        log_info("%s: %s authenticated from %s%s", st->t->name, s->bare, st->peer,
                 st->sasl2 ? (sasl2_is_fast(st->sasl2) ? " (SASL2, FAST token)" : " (SASL2)") : "");
        if (st->sasl2) {
            st->header_sent = true;   /* the same stream goes on */
            sasl2_success(st);   /* no stream restart (XEP-0388) */
            auth_req_free(a);
            auth_resume(st);
            return;
        }
        st_write_str(st, "<success xmlns='" NS_SASL "'/>");
        discard_held(st, "<auth/>");
        st->await_restart = true;
        /* The client starts a new stream. */
        if (st->t->restart)
            st->t->restart(st->tctx);
    } else if (r == DIR_AUTH_FAILED) {
        throttle_result(st, a->account, false);
        xs_log_refusal("%s: authentication of %s@%s from %s failed: not-authorized", st->t->name, a->node,
                 s->domain, st->peer);
        xs_sasl_failure(st, "not-authorized");
    } else {
        log_warn("%s: authentication of %s@%s from %s failed: directory unavailable", st->t->name,
                 a->node, s->domain, st->peer);
        sasl_failure_counted(st, "temporary-auth-failure", false);
    }
    auth_req_free(a);
    /* Stanzas that arrived during a failed check, then what waits in the
     * transport (pipelining). */
    auth_resume(st);
}

void xmpp_stream_hold(xmpp_stream *st, bool on)
{
    if (st->sm_wait == on)
        return;
    st->sm_wait = on;
    if (on)
        update_input(st);
    else
        auth_resume(st);
}

void xmpp_stream_pause_input(xmpp_stream *st, bool pause)
{
    if (pause)
        ops_pause(st->s);
    else
        ops_resume(st->s);
}

static void delayed_auth_clear(xmpp_stream *st)
{
    if (st->auth_delay) {
        event_free(st->auth_delay);
        st->auth_delay = NULL;
    }
    auth_req_free(st->delayed);
    st->delayed = NULL;
    if (st->delayed_password) {
        explicit_bzero(st->delayed_password, strlen(st->delayed_password));
        free(st->delayed_password);
        st->delayed_password = NULL;
    }
}

/* The check itself: the directory's bind for a password, the store's
 * tokens for FAST (no password: sasl2_stream.c). */
static void auth_check(xmpp_stream *st, auth_req *a, const char *password)
{
    if (!password && st->sasl2 && sasl2_is_fast(st->sasl2))
        sasl2_fast_check(st, a->node, auth_done, a);
    else
        directory_auth(a->w, a->node, st->s->domain, password ? password : "", auth_done, a);
}

/* The throttle's delay is over: check the password now, or refuse. */
static void auth_delay_done(evutil_socket_t fd, short what, void *arg)
{
    xmpp_stream *st = arg;
    auth_req *a = st->delayed;
    st->delayed = NULL;
    if (st->closing || !a) {
        auth_req_free(a);
        delayed_auth_clear(st);
        return;
    }
    if (st->delayed_refuse) {
        st->auth_pending = false;
        metrics_auth(false);
        throttle_result(st, NULL, false);
        log_info("%s: authentication of %s from %s refused: too many failed attempts "
                 "(temporary-auth-failure)", st->t->name, a->account, st->peer);
        auth_req_free(a);
        delayed_auth_clear(st);
        xs_sasl_failure(st, "temporary-auth-failure");
        if (!st->closing)
            auth_resume(st);
        return;
    }
    auth_check(st, a, st->delayed_password);
    delayed_auth_clear(st);
}

/* Starts the password check of node@domain, after the throttle's delay. */
void xs_auth_start(xmpp_stream *st, char *node, const char *password)
{
    auth_req *a = xcalloc(1, sizeof *a);
    a->sid = st->s->id;
    a->w = st->s->w;
    a->node = node;
    size_t n = strlen(node) + strlen(st->s->domain) + 2;
    a->account = xmalloc(n);
    snprintf(a->account, n, "%s@%s", node, st->s->domain);
    st->auth_pending = true;
    update_input(st);   /* nothing may come before the answer */

    at_verdict v = throttle_attempt(st, a->account);
    if (v.log_ip)
        log_info("auth: %s: %d failed authentications from this address; answers delayed "
                 "(now %lld ms)%s", st->ip, v.ip_failures, (long long)v.delay_ms,
                 v.refuse ? ", further attempts refused" : "");
    if (v.log_account)
        log_info("auth: %s: %d failed authentications for this account; attempts from "
                 "addresses that failed are spaced (now %lld ms)%s", a->account,
                 v.account_failures, (long long)v.delay_ms,
                 v.refuse ? ", further attempts refused" : "");
    if (v.delay_ms <= 0 && !v.refuse) {
        auth_check(st, a, password);
        return;
    }
    delayed_auth_clear(st);
    st->delayed = a;
    st->delayed_password = password ? xstrdup(password) : NULL;
    st->delayed_refuse = v.refuse;
    st->auth_delay = evtimer_new(worker_base(st->s->w), auth_delay_done, st);
    struct timeval tv = { (time_t)(v.delay_ms / 1000), (suseconds_t)(v.delay_ms % 1000) * 1000 };
    evtimer_add(st->auth_delay, &tv);
}

char *xs_authcid_node(xmpp_stream *st, const char *authcid)
{
    /* authcid is the uid, or uid@domain for clients that send the JID. */
    char *copy = xstrdup(authcid);
    char *at = strrchr(copy, '@');
    char *node = NULL;
    bool ok = true;
    if (at) {
        *at = 0;
        char *d = jid_nameprep(at + 1);
        ok = d && !strcmp(d, st->s->domain);
        free(d);
    }
    if (ok && *copy)
        node = jid_nodeprep(copy);
    free(copy);
    return node;
}

void xs_sasl_plain(xmpp_stream *st, const char *b64)
{
    char *authzid = NULL, *authcid = NULL, *password = NULL;
    if (sasl_plain_decode(b64, strlen(b64), &authzid, &authcid, &password) != SASL_PLAIN_OK) {
        xs_log_refusal("%s: %s: malformed SASL PLAIN message", st->t->name, st->peer);
        xs_sasl_refuse(st, "malformed-request");
        return;
    }
    char *node = xs_authcid_node(st, authcid);
    bool ok = node != NULL;
    if (ok && *authzid) {
        jid z;
        bool parsed = jid_parse(authzid, &z) == 0;
        ok = parsed && !z.resource && z.node && !strcmp(z.node, node) &&
             !strcmp(z.domain, st->s->domain);
        if (parsed)
            jid_clear(&z);
        if (!ok) {
            xs_log_refusal("%s: %s: authzid '%.64s' is not %s@%s", st->t->name, st->peer, authzid, node,
                     st->s->domain);
            xs_sasl_refuse(st, "invalid-authzid");
            goto out;
        }
    }
    if (!ok || !node) {
        xs_log_refusal("%s: authentication of '%.64s' from %s failed: not a user of %s", st->t->name,
                 authcid, st->peer, st->s->domain);
        xs_sasl_refuse(st, "not-authorized");
        goto out;
    }
    xs_auth_start(st, node, password);
    node = NULL;
out:
    free(node);
    if (password) {
        explicit_bzero(password, strlen(password));
        free(password);
    }
    free(authzid);
    free(authcid);
}

static void handle_sasl(xmpp_stream *st, xnode *el)
{
    const config *cfg = config_current();
    if (st->auth_pending) {
        xs_sasl_failure(st, "aborted");
        return;
    }
    if (!strcmp(el->name, "abort")) {
        st->awaiting_response = false;
        xs_sasl_failure(st, "aborted");
        return;
    }
    if (!st->secure && cfg->tls == TLS_REQUIRED) {
        xs_log_refusal("%s: %s: refusing authentication without TLS (plucs/tls=required)", st->t->name,
                 st->peer);
        xs_sasl_failure(st, "encryption-required");
        return;
    }
    char *text = xnode_text(el);
    if (!strcmp(el->name, "auth")) {
        const char *mech = xnode_attr(el, "mechanism");
        if (!mech || strcmp(mech, "PLAIN")) {
            xs_log_refusal("%s: %s: SASL mechanism '%.32s' is not offered", st->t->name, st->peer,
                     mech ? mech : "");
            xs_sasl_refuse(st, "invalid-mechanism");
        } else if (!text || !*text) {
            st->awaiting_response = true;   /* PLAIN with an empty challenge */
            st_write_str(st, "<challenge xmlns='" NS_SASL "'/>");
        } else {
            xs_sasl_plain(st, text);
        }
    } else if (!strcmp(el->name, "response") && st->awaiting_response) {
        st->awaiting_response = false;
        xs_sasl_plain(st, text ? text : "");
    } else {
        xs_log_refusal("%s: %s: unexpected SASL element <%.32s/>", st->t->name, st->peer, el->name);
        xs_sasl_refuse(st, "malformed-request");
    }
    if (text) {
        explicit_bzero(text, strlen(text));
        free(text);
    }
}

/* ---- stanzas ---- */

static void handle_bind(xmpp_stream *st, xnode *iq, xnode *bind)
{
    session *s = st->s;
    const char *type = xnode_attr(iq, "type");
    if (!type || strcmp(type, "set")) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    if (s->bound) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "not-allowed", NULL));
        return;
    }
    char *want = NULL, *res = NULL;
    xnode *r = xnode_child(bind, "resource", NS_BIND);
    if (r)
        want = xnode_text(r);
    if (want && *want) {
        res = jid_resourceprep(want);
        if (!res) {
            session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request",
                                                    i18n(s->lang, T_BAD_RESOURCE)));
            free(want);
            return;
        }
    }
    free(want);
    if (session_bind(s, res) != 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_WAIT, "internal-server-error", NULL));
        free(res);
        return;
    }
    free(res);
    log_info("%s: %s bound from %s", st->t->name, s->full, st->peer);
    xs_login_timer_free(st);
    xnode *reply = iq_result(iq);
    xnode_set_attr(reply, "from", NULL);
    xnode *j = xnode_add_child(xnode_add_child(reply, "bind", NS_BIND), "jid", NS_BIND);
    xnode_add_text(j, s->full, strlen(s->full));
    session_send_free(s, reply);
    router_session_bound(s);
}

void xmpp_stream_stanza(xmpp_stream *st, xnode *el)
{
    if (st->closing) {
        xnode_free(el);
        return;
    }
    if (!st->s->domain) {
        /* Nothing before an accepted stream header (or WebSocket <open/>):
         * the stream has no domain to log in to (found by fuzz_ws). */
        log_info("%s: %s: <%s/> before the stream was opened", st->t->name, st->peer, el->name);
        xnode_free(el);
        xmpp_stream_close(st, "not-well-formed", NULL);
        return;
    }
    if (st->paused || st->auth_pending || st->sm_wait) {
        /* Processed in order once the session resumes. */
        el->next = NULL;
        if (st->held_last)
            st->held_last->next = el;
        else
            st->held = el;
        st->held_last = el;
        return;
    }
    handle_stanza(st, el);
}

static void handle_stanza(xmpp_stream *st, xnode *el)
{
    if (st->await_restart) {
        /* Sent after <starttls/> or <auth/> without waiting for the answer
         * and the new stream: never processed (RFC 6120 §5.4.3.3, §6.4.6). */
        if (!st->discard_logged) {
            st->discard_logged = true;
            log_info("%s: %s: discarding <%s/> sent before the stream restart", st->t->name,
                     st->peer, el->name);
        }
        xnode_free(el);
        return;
    }
    if (!st->authed) {
        if (!strcmp(el->ns, NS_TLS) && !strcmp(el->name, "starttls")) {
            if (!tls_offerable(st)) {
                st_write_str(st, "<failure xmlns='" NS_TLS "'/>");
                xmpp_stream_close(st, NULL, NULL);
            } else {
                st_write_str(st, "<proceed xmlns='" NS_TLS "'/>");
                st->secure = true;
                st->header_sent = false;
                st->await_restart = true;
                st->t->starttls(st->tctx);
            }
        } else if (!strcmp(el->ns, NS_SASL) && !st->sasl2) {
            handle_sasl(st, el);
        } else if (!strcmp(el->ns, NS_SASL2) && sasl2_offered(st)) {
            sasl2_element(st, el);
        } else {
            log_info("%s: %s: <%s/> before authentication", st->t->name, st->peer, el->name);
            xmpp_stream_close(st, "not-authorized", NULL);
        }
        xnode_free(el);
        return;
    }
    if (st->proxy_wid >= 0 && st->proxy_sid) {
        sm_proxy_element(st, el);   /* resumed on another worker */
        return;
    }
    if (!strcmp(el->ns, NS_SM)) {
        sm_element(st, el);
        xnode_free(el);
        return;
    }
    stanza_kind kind = strcmp(el->ns, NS_CLIENT) ? STANZA_NONE : stanza_kind_of(el);
    if (!kind && element_fn && element_fn(st->s, el)) {
        xnode_free(el);
        return;
    }
    if (!kind) {
        log_info("%s: %s: unsupported stanza <%s xmlns='%s'/>", st->t->name, st->peer, el->name,
                 el->ns);
        xmpp_stream_close(st, "unsupported-stanza-type", NULL);
        xnode_free(el);
        return;
    }
    if (st->sm)
        sm_stanza_handled(st);
    if (kind == STANZA_IQ) {
        xnode *bind = xnode_child(el, "bind", NS_BIND);
        if (bind) {
            handle_bind(st, el, bind);
            xnode_free(el);
            return;
        }
    }
    if (!st->s->bound) {
        if (kind == STANZA_IQ)
            session_send_free(st->s, stanza_error_reply(el, ERR_AUTH, "not-authorized",
                                                        i18n(st->s->lang, T_BIND_FIRST)));
        xnode_free(el);
        return;
    }
    metrics_stanza_routed(st->t->metric);
    router_from_session(st->s, el);
}
