/* tls.c: server TLS contexts, see tls.h. */
#include "transport/tls.h"
#include "core/alloc.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

/* A set lives while it is current or an SSL made from it lives: refs
 * counts both (under lock); each SSL holds its reference in ex_data, given
 * back by OpenSSL's ex_data free callback when the SSL is freed. */
typedef struct tls_set {
    int refs;
    SSL_CTX **ctx;
    X509 **cert;             /* leaf of each ctx, for SNI matching */
    size_t n;
} tls_set;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tls_set *current;
static int sets_alive;
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

/* Drops one reference; the caller holds lock. Returns the set to free
 * (outside the lock) or NULL. */
static tls_set *unref_locked(tls_set *s)
{
    if (!s || --s->refs > 0)
        return NULL;
    sets_alive--;
    return s;
}

static void ssl_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                        void *argp)
{
    if (!ptr)
        return;
    pthread_mutex_lock(&lock);
    tls_set *dead = unref_locked(ptr);
    pthread_mutex_unlock(&lock);
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
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name)
        return SSL_TLSEXT_ERR_OK;
    for (size_t i = 0; i < s->n; i++) {
        if (X509_check_host(s->cert[i], name, 0, 0, NULL) == 1) {
            if (i > 0)
                SSL_set_SSL_CTX(ssl, s->ctx[i]);
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_OK;   /* default certificate */
}

static void openssl_reason(char *err, size_t errlen, const char *what, const char *path)
{
    unsigned long e = ERR_get_error();
    char reason[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    snprintf(err, errlen, "plucs/certfile: %s '%s': %s", what, path, reason);
}

static SSL_CTX *ctx_load(const char *path, char *err, size_t errlen)
{
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "plucs/certfile: cannot read '%s': %m", path);
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        openssl_reason(err, errlen, "cannot create a TLS context for", path);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1) {
        openssl_reason(err, errlen, "no usable certificate in", path);
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
                     "plucs/certfile: no private key in '%s' nor in '%s' (allowed: one PEM "
                     "with key and certificates, or X.pem with X.key beside it)",
                     path, keypath);
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        openssl_reason(err, errlen, "private key does not match the certificate in", path);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int tls_load(const char *certfiles, char *err, size_t errlen)
{
    tls_set *s = xcalloc(1, sizeof *s);
    char *list = xstrdup(certfiles ? certfiles : "");
    char *save = NULL;
    for (char *p = strtok_r(list, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
        SSL_CTX *ctx = ctx_load(p, err, errlen);
        if (!ctx) {
            free(list);
            set_free(s);
            return -1;
        }
        s->ctx = xrealloc(s->ctx, (s->n + 1) * sizeof *s->ctx);
        s->cert = xrealloc(s->cert, (s->n + 1) * sizeof *s->cert);
        s->ctx[s->n] = ctx;
        s->cert[s->n] = SSL_CTX_get0_certificate(ctx);
        s->n++;
    }
    free(list);
    if (s->n == 0) {
        snprintf(err, errlen, "plucs/certfile: no certificate file given");
        set_free(s);
        return -1;
    }
    for (size_t i = 0; i < s->n; i++) {
        SSL_CTX_set_tlsext_servername_callback(s->ctx[i], sni_select);
        SSL_CTX_set_tlsext_servername_arg(s->ctx[i], s);
    }
    pthread_once(&index_once, make_index);
    s->refs = 1;   /* being current */
    pthread_mutex_lock(&lock);
    sets_alive++;
    tls_set *dead = unref_locked(current);
    current = s;
    pthread_mutex_unlock(&lock);
    if (dead)
        set_free(dead);   /* no stream uses the previous set any more */
    return 0;
}

SSL *tls_new_ssl(void)
{
    pthread_mutex_lock(&lock);
    SSL *ssl = current ? SSL_new(current->ctx[0]) : NULL;
    if (ssl) {
        if (SSL_set_ex_data(ssl, ssl_index, current) == 1) {
            current->refs++;
        } else {
            SSL_free(ssl);
            ssl = NULL;
        }
    }
    pthread_mutex_unlock(&lock);
    return ssl;
}

int tls_available(void)
{
    pthread_mutex_lock(&lock);
    int ok = current != NULL;
    pthread_mutex_unlock(&lock);
    return ok;
}

void tls_shutdown(void)
{
    pthread_mutex_lock(&lock);
    tls_set *dead = unref_locked(current);
    current = NULL;
    pthread_mutex_unlock(&lock);
    if (dead)
        set_free(dead);
}

int tls_sets_alive(void)
{
    pthread_mutex_lock(&lock);
    int n = sets_alive;
    pthread_mutex_unlock(&lock);
    return n;
}
