/* sasl2_stream.c: SASL2 (XEP-0388) on a client stream, with Bind 2
 * (XEP-0386) and FAST tokens (XEP-0484). xmpp_stream.c offers it in the
 * features of encrypted streams and hands every urn:xmpp:sasl:2 element
 * here; password checks go through the same throttle and directory bind as
 * legacy SASL (xs_auth_start), token checks through the store, never LDAP.
 *
 * Inline in <authenticate/>: Bind 2 <bind/> (with <tag/>, carbons enable,
 * SM enable), FAST <request-token/> and <fast/>. SM <resume/> is not
 * inline-capable here (a client resumes after authenticating, as today). */
#include "transport/xmpp_stream_internal.h"
#include "core/alloc.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/log.h"
#include "router/router.h"
#include "router/routes.h"
#include "store/store.h"
#include "store/store_fast.h"
#include "transport/sm.h"
#include "transport/tls_cb.h"
#include "xmpp/fast_key.h"
#include "xmpp/jid.h"
#include "xmpp/sasl.h"
#include "xmpp/sasl2.h"

struct sasl2_state {
    sasl2_auth a;
    int ht;                          /* ht_cb of a token login, -1: PLAIN */
    unsigned char mac[32];           /* the client's Initiator HMAC */
    unsigned char cb[TLS_CB_MAX];    /* channel binding data of ht */
    int cblen;
    bool fast_ok;                    /* the token check succeeded: */
    unsigned char resp[32];          /* our Responder HMAC */
};

void sasl2_state_free(struct sasl2_state *q)
{
    if (!q)
        return;
    sasl2_auth_clear(&q->a);
    explicit_bzero(q, sizeof *q);
    free(q);
}

bool sasl2_is_fast(const struct sasl2_state *q) { return q && q->ht >= 0; }

bool sasl2_offered(const xmpp_stream *st)
{
    return st->secure && xmpp_stream_sm_capable(st);   /* TCP/TLS and WebSocket */
}

static SSL *stream_ssl(xmpp_stream *st)
{
    return st->t->tls ? st->t->tls(st->tctx) : NULL;
}

static bool fast_enabled(void)
{
    return config_current()->fast_days > 0 && fast_key() && store_running();
}

/* Whether mechanism cb can be used on this stream. */
static bool ht_usable(xmpp_stream *st, int cb)
{
    return cb >= 0 && cb < HT_COUNT && tls_cb_available(stream_ssl(st), (ht_cb)cb);
}

void sasl2_features(xmpp_stream *st, buf *out)
{
    const config *cfg = config_current();
    SSL *ssl = stream_ssl(st);
    buf_puts(out, "<authentication xmlns='" NS_SASL2 "'><mechanism>PLAIN</mechanism><inline>"
                  "<bind xmlns='" NS_BIND2 "'><inline><feature var='" NS_CARBONS2 "'/>");
    if (cfg->sm && xmpp_stream_sm_capable(st))
        buf_puts(out, "<feature var='" NS_SM "'/>");
    buf_puts(out, "</inline></bind>");
    if (fast_enabled()) {
        buf_puts(out, "<fast xmlns='" NS_FAST "'>");
        for (int i = HT_COUNT - 1; i >= 0; i--)
            if (tls_cb_available(ssl, (ht_cb)i))
                buf_printf(out, "<mechanism>%s</mechanism>", ht_mech_name((ht_cb)i));
        buf_puts(out, "</fast>");
    }
    buf_puts(out, "</inline></authentication>");
    if (ssl) {   /* XEP-0440: what our channel bindings are */
        buf_puts(out, "<sasl-channel-binding xmlns='" NS_SASL_CB "'>");
        for (int i = 1; i < HT_COUNT; i++)
            if (tls_cb_available(ssl, (ht_cb)i))
                buf_printf(out, "<channel-binding type='%s'/>", ht_cb_type((ht_cb)i));
        buf_puts(out, "</sasl-channel-binding>");
    }
}

static void fast_authenticate(xmpp_stream *st, struct sasl2_state *q)
{
    if (!q->a.initial || !*q->a.initial || !q->a.agent_id) {
        xs_log_refusal("%s: %s: FAST %s without %s", st->t->name, st->peer, q->a.mechanism,
                       q->a.agent_id ? "an initial response" : "a user-agent id");
        xs_sasl_refuse(st, "malformed-request");
        return;
    }
    size_t n;
    char *msg = base64_decode(q->a.initial, strlen(q->a.initial), &n);
    char *authcid = NULL;
    if (!msg || ht_split((unsigned char *)msg, n, &authcid, q->mac) != 0) {
        free(msg);
        xs_log_refusal("%s: %s: malformed %s message", st->t->name, st->peer, q->a.mechanism);
        xs_sasl_refuse(st, "malformed-request");
        return;
    }
    free(msg);
    q->cblen = tls_cb_data(stream_ssl(st), (ht_cb)q->ht, q->cb);
    char *node = q->cblen >= 0 ? xs_authcid_node(st, authcid) : NULL;
    if (!node) {
        xs_log_refusal("%s: FAST authentication of '%.64s' from %s failed: not a user of %s",
                       st->t->name, authcid, st->peer, st->s->domain);
        free(authcid);
        fast_count_login(false);
        xs_sasl_refuse(st, "not-authorized");
        return;
    }
    free(authcid);
    xs_auth_start(st, node, NULL);   /* takes node; throttled like a password */
}

void sasl2_element(xmpp_stream *st, xnode *el)
{
    if (!strcmp(el->name, "abort")) {
        if (!st->sasl2)
            st->sasl2 = xcalloc(1, sizeof *st->sasl2);
        xs_sasl_failure(st, "aborted");
        return;
    }
    if (!strcmp(el->name, "response") && st->sasl2 && st->awaiting_response) {
        st->awaiting_response = false;
        char *text = xnode_text(el);
        xs_sasl_plain(st, text ? text : "");
        if (text) {
            explicit_bzero(text, strlen(text));
            free(text);
        }
        return;
    }
    if (strcmp(el->name, "authenticate") || st->sasl2) {
        if (!st->sasl2)
            st->sasl2 = xcalloc(1, sizeof *st->sasl2);
        xs_log_refusal("%s: %s: unexpected SASL2 element <%.32s/>", st->t->name, st->peer, el->name);
        xs_sasl_refuse(st, "malformed-request");
        return;
    }
    struct sasl2_state *q = xcalloc(1, sizeof *q);
    q->ht = -1;
    st->sasl2 = q;
    sasl2_parse_result pr = sasl2_auth_parse(el, &q->a);
    if (pr != SASL2_OK) {
        xs_log_refusal("%s: %s: malformed SASL2 <authenticate/>: %s", st->t->name, st->peer,
                       sasl2_parse_result_name(pr));
        xs_sasl_refuse(st, "malformed-request");
        return;
    }
    if (!strcmp(q->a.mechanism, "PLAIN")) {
        if (!q->a.initial || !*q->a.initial || !strcmp(q->a.initial, "=")) {
            st->awaiting_response = true;
            xmpp_stream_write(st, "<challenge xmlns='" NS_SASL2 "'/>",
                              strlen("<challenge xmlns='" NS_SASL2 "'/>"));
        } else {
            xs_sasl_plain(st, q->a.initial);
        }
        return;
    }
    int ht = ht_mech_parse(q->a.mechanism);
    if (ht >= 0 && fast_enabled() && ht_usable(st, ht)) {
        q->ht = ht;
        fast_authenticate(st, q);
        return;
    }
    xs_log_refusal("%s: %s: SASL2 mechanism '%.32s' is not offered", st->t->name, st->peer,
                   q->a.mechanism);
    xs_sasl_refuse(st, "invalid-mechanism");
}

/* ---- the token check ---- */

typedef struct fast_ck {
    worker *w;
    uint64_t sid;
    char *node, *domain, *bare, *agent;
    unsigned char mac[32];
    unsigned char cb[TLS_CB_MAX];
    int cblen;
    bool has_count;
    int64_t count;
    bool invalidate;
    void (*done)(void *arg, dir_auth_result r);
    void *arg;
} fast_ck;

static void fast_ck_free(void *p)
{
    fast_ck *ck = p;
    free(ck->node);
    free(ck->domain);
    free(ck->bare);
    free(ck->agent);
    explicit_bzero(ck, sizeof *ck);
    free(ck);
}

static void fast_got(void *arg, store_fast_list *l)
{
    fast_ck *ck = arg;
    dir_auth_result r = DIR_AUTH_FAILED;
    const char *why = "no valid token for this client";
    session *s = session_find(ck->w, ck->sid);
    xmpp_stream *st = s ? xmpp_stream_of(s) : NULL;
    const dir_snapshot *snap = router_snapshot();
    const dir_account *acct = snap ? dir_snapshot_account(snap, ck->node, ck->domain) : NULL;
    const unsigned char *key = fast_key();
    if (l->status == STORE_ERROR) {
        r = DIR_AUTH_UNAVAILABLE;
        why = "store unavailable";
    } else if (!acct) {
        why = "not an enabled account";
        if (snap && snap->complete)
            store_fast_revoke(NULL, ck->bare, NULL, NULL, NULL);
    } else if (key) {
        for (size_t i = 0; i < l->n; i++) {
            store_fast_token *t = &l->v[i];
            char *tok = fast_token_derive(key, FAST_KEY_LEN, t->nonce, ck->bare, ck->agent);
            char h[65];
            fast_token_hash(tok, h);
            unsigned char mac[32];
            ht_hmac(tok, strlen(tok), true, ck->cb, (size_t)ck->cblen, mac);
            bool match = !strcmp(h, t->hash) && CRYPTO_memcmp(mac, ck->mac, 32) == 0;
            if (match && strcmp(t->stamp ? t->stamp : "", acct->pwstamp ? acct->pwstamp : "")) {
                why = "password changed since the token was issued (tokens revoked)";
                store_fast_revoke(NULL, ck->bare, NULL, NULL, NULL);
            } else if (match && ck->has_count && t->count >= 0 && ck->count <= t->count) {
                why = "count not above the last one (replay?)";
            } else if (match) {
                r = DIR_AUTH_OK;
                if (st && st->sasl2) {
                    st->sasl2->fast_ok = true;
                    ht_hmac(tok, strlen(tok), false, ck->cb, (size_t)ck->cblen,
                            st->sasl2->resp);
                }
                store_fast_used(NULL, ck->bare, ck->agent, t->id, ck->invalidate,
                                ck->has_count ? ck->count : -1, NULL, NULL, NULL);
            }
            explicit_bzero(tok, strlen(tok));
            free(tok);
            if (match)
                break;
        }
    }
    if (r != DIR_AUTH_UNAVAILABLE)
        fast_count_login(r == DIR_AUTH_OK);
    if (r == DIR_AUTH_FAILED)
        xs_log_refusal("fast: token login of %s (agent '%.40s') refused: %s", ck->bare, ck->agent,
                       why);
    store_fast_list_free(l);
    ck->done(ck->arg, r);
    fast_ck_free(ck);
}

void sasl2_fast_check(xmpp_stream *st, const char *node, void (*done)(void *arg, dir_auth_result r),
                      void *arg)
{
    struct sasl2_state *q = st->sasl2;
    fast_ck *ck = xcalloc(1, sizeof *ck);
    ck->w = st->s->w;
    ck->sid = st->s->id;
    ck->node = xstrdup(node);
    ck->domain = xstrdup(st->s->domain);
    size_t n = strlen(node) + strlen(st->s->domain) + 2;
    ck->bare = xmalloc(n);
    snprintf(ck->bare, n, "%s@%s", node, st->s->domain);
    ck->agent = xstrdup(q->a.agent_id);
    memcpy(ck->mac, q->mac, sizeof ck->mac);
    ck->cblen = q->cblen > 0 ? q->cblen : 0;
    memcpy(ck->cb, q->cb, (size_t)ck->cblen);
    ck->has_count = q->a.fast_has_count;
    ck->count = (int64_t)q->a.fast_count;
    ck->invalidate = q->a.fast_invalidate;
    ck->done = done;
    ck->arg = arg;
    store_fast_get(ck->w, ck->bare, ck->agent, (int64_t)time(NULL), fast_got, ck, fast_ck_free);
}

/* ---- success ---- */

static void issue_token(xmpp_stream *st, struct sasl2_state *q, buf *out)
{
    const config *cfg = config_current();
    session *s = st->s;
    if (!q->a.agent_id || !fast_enabled() || !ht_usable(st, q->a.request_token)) {
        log_info("fast: %s: no token issued (%s)", s->bare,
                 !q->a.agent_id ? "no user-agent id" : !fast_enabled() ? "FAST is off"
                                                      : "mechanism not usable on this stream");
        return;
    }
    unsigned char rnd[16];
    char nonce[33];
    RAND_bytes(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
    char *tok = fast_token_derive(fast_key(), FAST_KEY_LEN, nonce, s->bare, q->a.agent_id);
    char h[65];
    fast_token_hash(tok, h);
    const dir_snapshot *snap = router_snapshot();
    const dir_account *acct = snap ? dir_snapshot_account(snap, s->node, s->domain) : NULL;
    time_t expiry = time(NULL) + (time_t)cfg->fast_days * 86400;
    store_fast_issue(NULL, s->bare, q->a.agent_id, nonce, h,
                     acct && acct->pwstamp ? acct->pwstamp : "", (int64_t)expiry, NULL, NULL, NULL);
    struct tm tm;
    gmtime_r(&expiry, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    buf_printf(out, "<token xmlns='" NS_FAST "' expiry='%s' token='%s'/>", when, tok);
    explicit_bzero(tok, strlen(tok));
    free(tok);
    fast_count_issued();
    log_info("fast: %s: token issued for %s (user agent '%.40s'), expires %s", s->bare,
             ht_mech_name((ht_cb)q->a.request_token), q->a.agent_id, when);
}

/* Bind 2's resource: the client's tag (resourceprep'ed) and a random part. */
static char *bind2_resource(const char *tag)
{
    char *t = tag && *tag ? jid_resourceprep(tag) : NULL;
    unsigned char rnd[4];
    RAND_bytes(rnd, sizeof rnd);
    size_t n = (t ? strlen(t) : 0) + 16;
    char *res = xmalloc(n);
    snprintf(res, n, "%s%s%02x%02x%02x%02x", t && *t ? t : "", t && *t ? "." : "", rnd[0], rnd[1],
             rnd[2], rnd[3]);
    free(t);
    return res;
}

void sasl2_success(xmpp_stream *st)
{
    struct sasl2_state *q = st->sasl2;
    st->sasl2 = NULL;
    session *s = st->s;
    buf b;
    buf_init(&b);
    buf_puts(&b, "<success xmlns='" NS_SASL2 "'>");
    if (q->ht >= 0 && q->fast_ok) {
        char *d = base64_encode(q->resp, sizeof q->resp);
        buf_printf(&b, "<additional-data>%s</additional-data>", d);
        free(d);
    }
    bool bound = false;
    if (q->a.bind) {
        char *res = bind2_resource(q->a.tag);
        bound = session_bind(s, res) == 0;
        if (!bound)
            log_warn("%s: %s: Bind 2 of resource '%s' failed", st->t->name, s->bare, res);
        free(res);
    }
    buf_puts(&b, "<authorization-identifier>");
    xml_escape(&b, bound ? s->full : s->bare, strlen(bound ? s->full : s->bare), false);
    buf_puts(&b, "</authorization-identifier>");
    if (bound) {
        buf_puts(&b, "<bound xmlns='" NS_BIND2 "'>");
        if (q->a.bind_sm)
            sm_enable_inline(st, q->a.bind_sm_resume, &b);
        buf_puts(&b, "</bound>");
    }
    if (q->a.request_token >= 0)
        issue_token(st, q, &b);
    buf_puts(&b, "</success>");
    xmpp_stream_write(st, b.data, b.len);
    buf_free(&b);
    if (st->t->authenticated)
        st->t->authenticated(st->tctx);
    if (bound) {
        log_info("%s: %s bound from %s (Bind 2)", st->t->name, s->full, st->peer);
        xs_login_timer_free(st);
        router_session_bound(s);
        if (q->a.bind_carbons && !s->closing) {
            routes_set_carbons(s->bare, s->id, true);
            log_debug("carbons: %s enabled (Bind 2)", s->full);
        }
    } else {
        xs_send_features(st);   /* resource binding and the rest, no restart */
    }
    sasl2_state_free(q);
}
