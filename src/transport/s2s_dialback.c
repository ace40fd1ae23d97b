/* s2s_dialback.c: Server Dialback (XEP-0220) keys and the verification
 * round trip. The key is XEP-0185's: HMAC-SHA256 keyed with the hex SHA-256
 * of a secret made at each start, over "receiving originating streamid";
 * so any of our streams can recompute it without keeping state, and keys
 * from before a restart stop verifying.
 *
 * Verification crosses streams and maybe workers: an incoming stream that
 * got <db:result> hands a request to the outgoing stream for (local, peer)
 * (wherever the table says it lives), which sends <db:verify> to the
 * authoritative server; the answer travels back to the incoming stream by
 * (worker, serial), which may be gone by then. */
#include "transport/s2s_internal.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static char secret_hex[65];
static pthread_once_t secret_once = PTHREAD_ONCE_INIT;

static void hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", in[i]);
}

static void make_secret(void)
{
    unsigned char rnd[32], sum[SHA256_DIGEST_LENGTH];
    RAND_bytes(rnd, sizeof rnd);
    SHA256(rnd, sizeof rnd, sum);
    hex(sum, sizeof sum, secret_hex);   /* SHA256(secret), as XEP-0185 keys the HMAC */
    OPENSSL_cleanse(rnd, sizeof rnd);
}

void s2s_dialback_init(void) { pthread_once(&secret_once, make_secret); }

static void key_hmac(const char *hexkey, const char *receiving, const char *originating,
                     const char *id, char out[65])
{
    buf b;
    buf_init(&b);
    buf_printf(&b, "%s %s %s", receiving, originating, id);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), hexkey, (int)strlen(hexkey), (const unsigned char *)b.data, b.len, mac,
         &len);
    buf_free(&b);
    hex(mac, len > 32 ? 32 : len, out);
}

void s2s_dialback_key(const char *receiving, const char *originating, const char *id,
                      char out[65])
{
    s2s_dialback_init();
    key_hmac(secret_hex, receiving, originating, id, out);
}

void s2s_dialback_key_secret(const char *secret, const char *receiving, const char *originating,
                             const char *id, char out[65])
{
    unsigned char sum[SHA256_DIGEST_LENGTH];
    char hexkey[65];
    SHA256((const unsigned char *)secret, strlen(secret), sum);
    hex(sum, sizeof sum, hexkey);
    key_hmac(hexkey, receiving, originating, id, out);
}

/* ---- the round trip ---- */

static void add_verify_run(void *arg) { s2s_out_add_verify(arg); }

bool s2s_dialback_verify_start(s2s_stream *s, const char *from, const char *to, const char *key)
{
    worker *w = s2s_table_claim(to, from, s->w);
    if (!w)
        return false;
    s2s_verify *v = xcalloc(1, sizeof *v);
    snprintf(v->from, sizeof v->from, "%s", from);
    snprintf(v->to, sizeof v->to, "%s", to);
    snprintf(v->id, sizeof v->id, "%s", s->id);
    snprintf(v->key, sizeof v->key, "%s", key);
    v->reply_w = s->w;
    v->reply_serial = s->serial;
    if (w == s->w)
        s2s_out_add_verify(v);
    else
        worker_post_drop(w, add_verify_run, free, v);
    return true;
}

typedef struct verify_answer {
    uint64_t serial;
    char from[S2S_DOMAIN_MAX];
    char to[S2S_DOMAIN_MAX];
    bool valid;
} verify_answer;

static void answer_run(void *arg)
{
    verify_answer *a = arg;
    s2s_stream *s = s2s_find_serial(a->serial);
    if (s && !s->closing)
        s2s_in_verified(s, a->from, a->to, a->valid);
    free(a);
}

void s2s_dialback_verify_done(s2s_verify *v, bool valid)
{
    verify_answer *a = xcalloc(1, sizeof *a);
    a->serial = v->reply_serial;
    snprintf(a->from, sizeof a->from, "%s", v->from);
    snprintf(a->to, sizeof a->to, "%s", v->to);
    a->valid = valid;
    /* Always through the inbox, also to our own worker: the caller may be
     * inside a parser callback of the outgoing stream. */
    worker_post_drop(v->reply_w, answer_run, free, a);
    free(v);
}
