/* sasl2.c: parsing <authenticate/> (XEP-0388, with its Bind 2 and FAST
 * children) and the HT-SHA-256-* computations (XEP-0484). Pure functions;
 * see sasl2.h. */
#include "xmpp/sasl2.h"
#include "core/alloc.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/sasl.h"

#define NS_SM3 "urn:xmpp:sm:3"

static const char *const mech_names[HT_COUNT] = {
    "HT-SHA-256-NONE", "HT-SHA-256-ENDP", "HT-SHA-256-UNIQ", "HT-SHA-256-EXPR",
};
static const char *const cb_types[HT_COUNT] = {
    NULL, "tls-server-end-point", "tls-unique", "tls-exporter",
};

const char *ht_mech_name(ht_cb cb) { return cb < HT_COUNT ? mech_names[cb] : NULL; }
const char *ht_cb_type(ht_cb cb) { return cb < HT_COUNT ? cb_types[cb] : NULL; }

int ht_mech_parse(const char *name)
{
    for (int i = 0; name && i < HT_COUNT; i++)
        if (!strcmp(name, mech_names[i]))
            return i;
    return -1;
}

const char *sasl2_parse_result_name(sasl2_parse_result r)
{
    switch (r) {
    case SASL2_OK: return "ok";
    case SASL2_NO_MECHANISM: return "no mechanism";
    case SASL2_BAD_AGENT: return "bad user-agent id";
    case SASL2_BAD_TAG: return "bad bind tag";
    case SASL2_BAD_REQUEST_TOKEN: return "request-token for an unknown mechanism";
    case SASL2_BAD_COUNT: return "bad fast count";
    }
    return "?";
}

static bool attr_true(const xnode *n, const char *name)
{
    const char *v = xnode_attr(n, name);
    return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

sasl2_parse_result sasl2_auth_parse(const xnode *el, sasl2_auth *out)
{
    memset(out, 0, sizeof *out);
    out->request_token = -1;
    const char *mech = xnode_attr(el, "mechanism");
    if (!mech || !*mech || strlen(mech) > 64)
        return SASL2_NO_MECHANISM;
    out->mechanism = xstrdup(mech);
    xnode *ir = xnode_child(el, "initial-response", NS_SASL2);
    if (ir) {
        out->initial = xnode_text(ir);
        if (!out->initial)
            out->initial = xstrdup("");
    }
    xnode *ua = xnode_child(el, "user-agent", NS_SASL2);
    if (ua) {
        const char *id = xnode_attr(ua, "id");
        if (id) {
            size_t n = strlen(id);
            if (n == 0 || n > SASL2_AGENT_MAX)
                return SASL2_BAD_AGENT;
            out->agent_id = xstrdup(id);
        }
    }
    xnode *b = xnode_child(el, "bind", NS_BIND2);
    if (b) {
        out->bind = true;
        xnode *t = xnode_child(b, "tag", NS_BIND2);
        if (t) {
            out->tag = xnode_text(t);
            if (out->tag && strlen(out->tag) > SASL2_TAG_MAX)
                return SASL2_BAD_TAG;
        }
        for (xnode *c = xnode_first_element(b); c; c = xnode_next_element(c)) {
            if (strcmp(c->name, "enable"))
                continue;
            if (!strcmp(c->ns, NS_CARBONS2))
                out->bind_carbons = true;
            else if (!strcmp(c->ns, NS_SM3)) {
                out->bind_sm = true;
                out->bind_sm_resume = attr_true(c, "resume");
            }
        }
    }
    xnode *rt = xnode_child(el, "request-token", NS_FAST);
    if (rt) {
        out->request_token = ht_mech_parse(xnode_attr(rt, "mechanism"));
        if (out->request_token < 0)
            return SASL2_BAD_REQUEST_TOKEN;
    }
    xnode *f = xnode_child(el, "fast", NS_FAST);
    if (f) {
        out->fast = true;
        out->fast_invalidate = attr_true(f, "invalidate");
        const char *c = xnode_attr(f, "count");
        if (c) {
            char *end = NULL;
            if (!*c || *c == '-' || *c == '+' || strlen(c) > 19)
                return SASL2_BAD_COUNT;
            unsigned long long v = strtoull(c, &end, 10);
            if (!end || *end)
                return SASL2_BAD_COUNT;
            out->fast_has_count = true;
            out->fast_count = v;
        }
    }
    return SASL2_OK;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void sasl2_auth_clear(sasl2_auth *a)
{
    free(a->mechanism);
    wipe_free(a->initial);
    free(a->agent_id);
    free(a->tag);
    memset(a, 0, sizeof *a);
    a->request_token = -1;
}

void ht_hmac(const void *token, size_t tokenlen, bool initiator, const unsigned char *cb,
             size_t cblen, unsigned char out[32])
{
    const char *label = initiator ? "Initiator" : "Responder";
    size_t ll = strlen(label);
    unsigned char *msg = xmalloc(ll + cblen + 1);
    memcpy(msg, label, ll);
    if (cblen)
        memcpy(msg + ll, cb, cblen);
    unsigned int olen = 32;
    HMAC(EVP_sha256(), token, (int)tokenlen, msg, ll + cblen, out, &olen);
    free(msg);
}

int ht_split(const unsigned char *msg, size_t len, char **authcid, unsigned char mac[32])
{
    *authcid = NULL;
    const unsigned char *nul = len ? memchr(msg, 0, len) : NULL;
    if (!nul)
        return -1;
    size_t alen = (size_t)(nul - msg);
    if (alen == 0 || alen > 1023 || len - alen - 1 != 32)
        return -1;
    memcpy(mac, nul + 1, 32);
    *authcid = xstrndup((const char *)msg, alen);
    return 0;
}

char *fast_token_derive(const unsigned char *key, size_t keylen, const char *nonce,
                        const char *account, const char *agent)
{
    size_t a = strlen(nonce), b = strlen(account), c = strlen(agent);
    unsigned char *msg = xmalloc(a + b + c + 2);
    memcpy(msg, nonce, a);
    msg[a] = 0;
    memcpy(msg + a + 1, account, b);
    msg[a + 1 + b] = 0;
    memcpy(msg + a + b + 2, agent, c);
    unsigned char mac[32];
    unsigned int olen = sizeof mac;
    HMAC(EVP_sha256(), key, (int)keylen, msg, a + b + c + 2, mac, &olen);
    free(msg);
    char *t = base64_encode(mac, sizeof mac);
    explicit_bzero(mac, sizeof mac);
    return t;
}

void fast_token_hash(const char *token, char out[65])
{
    unsigned char h[32];
    SHA256((const unsigned char *)token, strlen(token), h);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}
