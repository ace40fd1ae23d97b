/* tls_set.c: loading and refcounting certificate sets, see tls_set.h. */
#include "transport/tls_set.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"

struct tls_set {
    tls_slot *slot;
    int refs;                /* under slot->lock */
    SSL_CTX **ctx;
    X509 **cert;             /* leaf of each ctx, for SNI matching */
    size_t n;
    tls_names_fn names;
};

static int ssl_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void set_free(tls_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        SSL_CTX_free(s->ctx[i]);
    free(s->ctx);
    free(s->cert);
    free(s);
}

/* Drops one reference; the caller holds the slot's lock. Returns the set to
 * free (outside the lock) or NULL. */
static tls_set *unref_locked(tls_set *s)
{
    if (!s || --s->refs > 0)
        return NULL;
    s->slot->alive--;
    return s;
}

static void ssl_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                        void *argp)
{
    tls_set *s = ptr;
    if (!s)
        return;
    tls_slot *slot = s->slot;
    pthread_mutex_lock(&slot->lock);
    tls_set *dead = unref_locked(s);
    pthread_mutex_unlock(&slot->lock);
    if (dead)
        set_free(dead);
}

static void make_index(void)
{
    ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_ex_free);
}

static int sni_select(SSL *ssl, int *al, void *arg)
{
    tls_set *s = arg;
    /* OpenSSL calls this on the client side too (with the name it sent):
     * a client keeps the certificate it was made with. */
    if (!SSL_is_server(ssl))
        return SSL_TLSEXT_ERR_OK;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name)
        return SSL_TLSEXT_ERR_OK;
    for (size_t i = 0; i < s->n; i++) {
        if (s->names(s->cert[i], name)) {
            if (i > 0)
                SSL_set_SSL_CTX(ssl, s->ctx[i]);
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_OK;   /* default certificate */
}

static void openssl_reason(char *err, size_t errlen, const char *key, const char *what,
                           const char *path)
{
    unsigned long e = ERR_get_error();
    char reason[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    snprintf(err, errlen, "%s: %s '%s': %s", key, what, path, reason);
}

static SSL_CTX *ctx_load(const char *path, const char *key, const SSL_METHOD *method, char *err,
                         size_t errlen)
{
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s: cannot read '%s': %m", key, path);
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx) {
        openssl_reason(err, errlen, key, "cannot create a TLS context for", path);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1) {
        openssl_reason(err, errlen, key, "no usable certificate in", path);
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* The key: in the same file, else X.key beside X.pem. */
    if (SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) != 1) {
        ERR_clear_error();
        char keypath[4096];
        size_t len = strlen(path);
        if (len > 4 && !strcmp(path + len - 4, ".pem"))
            snprintf(keypath, sizeof keypath, "%.*s.key", (int)(len - 4), path);
        else
            snprintf(keypath, sizeof keypath, "%s.key", path);
        if (SSL_CTX_use_PrivateKey_file(ctx, keypath, SSL_FILETYPE_PEM) != 1) {
            ERR_clear_error();
            snprintf(err, errlen,
                     "%s: no private key in '%s' nor in '%s' (allowed: one PEM "
                     "with key and certificates, or X.pem with X.key beside it)",
                     key, path, keypath);
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        openssl_reason(err, errlen, key, "private key does not match the certificate in", path);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

tls_set *tls_set_load(tls_slot *slot, const char *certfiles, const char *key,
                      const SSL_METHOD *method, tls_names_fn names, char *err, size_t errlen)
{
    tls_set *s = xcalloc(1, sizeof *s);
    s->slot = slot;
    s->names = names;
    char *list = xstrdup(certfiles ? certfiles : "");
    char *save = NULL;
    for (char *p = strtok_r(list, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
        SSL_CTX *ctx = ctx_load(p, key, method, err, errlen);
        if (!ctx) {
            free(list);
            set_free(s);
            return NULL;
        }
        s->ctx = xrealloc(s->ctx, (s->n + 1) * sizeof *s->ctx);
        s->cert = xrealloc(s->cert, (s->n + 1) * sizeof *s->cert);
        s->ctx[s->n] = ctx;
        s->cert[s->n] = SSL_CTX_get0_certificate(ctx);
        s->n++;
    }
    free(list);
    if (s->n == 0) {
        snprintf(err, errlen, "%s: no certificate file given", key);
        set_free(s);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++) {
        SSL_CTX_set_tlsext_servername_callback(s->ctx[i], sni_select);
        SSL_CTX_set_tlsext_servername_arg(s->ctx[i], s);
    }
    pthread_once(&index_once, make_index);
    s->refs = 1;   /* the caller's, given to the slot by tls_slot_install */
    return s;
}

size_t tls_set_count(const tls_set *s) { return s->n; }
SSL_CTX *tls_set_ctx(const tls_set *s, size_t i) { return i < s->n ? s->ctx[i] : NULL; }
X509 *tls_set_cert(const tls_set *s, size_t i) { return i < s->n ? s->cert[i] : NULL; }

void tls_set_discard(tls_set *s)
{
    if (s)
        set_free(s);
}

void tls_slot_install(tls_slot *slot, tls_set *s)
{
    pthread_mutex_lock(&slot->lock);
    if (s)
        slot->alive++;
    tls_set *dead = unref_locked(slot->current);
    slot->current = s;
    pthread_mutex_unlock(&slot->lock);
    if (dead)
        set_free(dead);   /* no stream uses the previous set any more */
}

SSL *tls_slot_new_ssl(tls_slot *slot, size_t (*which)(const tls_set *s, const void *ud),
                      const void *ud)
{
    pthread_mutex_lock(&slot->lock);
    tls_set *s = slot->current;
    SSL *ssl = NULL;
    if (s) {
        size_t i = which ? which(s, ud) : 0;
        ssl = SSL_new(s->ctx[i < s->n ? i : 0]);
    }
    if (ssl) {
        if (SSL_set_ex_data(ssl, ssl_index, s) == 1) {
            s->refs++;
        } else {
            SSL_free(ssl);
            ssl = NULL;
        }
    }
    pthread_mutex_unlock(&slot->lock);
    return ssl;
}

bool tls_slot_available(tls_slot *slot)
{
    pthread_mutex_lock(&slot->lock);
    bool ok = slot->current != NULL;
    pthread_mutex_unlock(&slot->lock);
    return ok;
}

int tls_slot_alive(tls_slot *slot)
{
    pthread_mutex_lock(&slot->lock);
    int n = slot->alive;
    pthread_mutex_unlock(&slot->lock);
    return n;
}
