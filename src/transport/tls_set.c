/* tls_set.c: loading and refcounting certificate sets, see tls_set.h. */
#include "transport/tls_set.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "transport/tls_ticket.h"

struct tls_set {
    tls_slot *slot;
    int refs;                /* under slot->lock */
    SSL_CTX **ctx;
    X509 **cert;             /* leaf of each ctx, for SNI matching */
    unsigned *kinds;         /* KIND_* bits: the key types each ctx holds */
    size_t n;
    tls_names_fn names;
};

enum { KIND_RSA = 1, KIND_EC = 2, KIND_OTHER = 4 };

static int ssl_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void set_free(tls_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        SSL_CTX_free(s->ctx[i]);
    free(s->ctx);
    free(s->cert);
    free(s->kinds);
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

/* No passphrase prompt: an encrypted key is refused like a missing one. */
static int no_pass(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return 0;
}

/* The first private key in a PEM file; NULL when none (or unreadable). */
static EVP_PKEY *key_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, no_pass, NULL);
    fclose(f);
    ERR_clear_error();
    return k;
}

static const char *key_kind(const EVP_PKEY *k)
{
    switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA: return "RSA";
    case EVP_PKEY_EC: return "ECDSA";
    case EVP_PKEY_ED25519: return "Ed25519";
    default: return "other";
    }
}

/* Adds the chain in path and its key (in path, else X.key beside X.pem) to
 * ctx; a context may hold one chain per key type (RSA and ECDSA: OpenSSL
 * serves the one the client's signature algorithms allow). 0, or -1 with
 * the reason in err. */
static int ctx_add_chain(SSL_CTX *ctx, const char *path, const char *key, char *err,
                         size_t errlen)
{
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s: cannot read '%s': %m", key, path);
        return -1;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1) {
        openssl_reason(err, errlen, key, "no usable certificate in", path);
        return -1;
    }
    X509 *leaf = SSL_CTX_get0_certificate(ctx);   /* the one just loaded */
    char keypath[4096];
    size_t len = strlen(path);
    if (len > 4 && !strcmp(path + len - 4, ".pem"))
        snprintf(keypath, sizeof keypath, "%.*s.key", (int)(len - 4), path);
    else
        snprintf(keypath, sizeof keypath, "%s.key", path);
    const char *from = path;
    EVP_PKEY *k = key_read(path);
    if (!k) {
        from = keypath;
        k = key_read(keypath);
    }
    if (!k) {
        snprintf(err, errlen,
                 "%s: no private key in '%s' nor in '%s' (allowed: one PEM "
                 "with key and certificates, or X.pem with X.key beside it; no passphrase)",
                 key, path, keypath);
        return -1;
    }
    if (!leaf || X509_check_private_key(leaf, k) != 1) {
        EVP_PKEY *ck = leaf ? X509_get0_pubkey(leaf) : NULL;
        ERR_clear_error();
        snprintf(err, errlen,
                 "%s: the private key in '%s' (%s) does not match the certificate in '%s' (%s); "
                 "allowed: the key the certificate was issued for",
                 key, from, key_kind(k), path, ck ? key_kind(ck) : "none");
        EVP_PKEY_free(k);
        return -1;
    }
    int ok = SSL_CTX_use_PrivateKey(ctx, k);
    EVP_PKEY_free(k);
    if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        openssl_reason(err, errlen, key, "private key does not match the certificate in", path);
        return -1;
    }
    return 0;
}

static SSL_CTX *ctx_new(const char *path, const char *key, const SSL_METHOD *method, char *err,
                        size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx) {
        openssl_reason(err, errlen, key, "cannot create a TLS context for", path);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    static const unsigned char sid_ctx[] = "plucs";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    tls_ticket_setup(ctx, false);   /* tls.c turns them on for clients */
    return ctx;
}

/* The public key type of a PEM file's first certificate, or -1. */
static int file_cert(const char *path, X509 **out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    X509 *x = PEM_read_X509(f, NULL, no_pass, NULL);
    fclose(f);
    ERR_clear_error();
    if (!x)
        return -1;
    *out = x;
    EVP_PKEY *k = X509_get0_pubkey(x);
    return k ? EVP_PKEY_get_base_id(k) : -1;
}

/* Whether a and b carry the same names (subject and subjectAltName). */
static bool same_names(X509 *a, X509 *b)
{
    if (X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(b)) != 0)
        return false;
    int ia = X509_get_ext_by_NID(a, NID_subject_alt_name, -1);
    int ib = X509_get_ext_by_NID(b, NID_subject_alt_name, -1);
    if (ia < 0 || ib < 0)
        return ia == ib;
    return ASN1_OCTET_STRING_cmp(X509_EXTENSION_get_data(X509_get_ext(a, ia)),
                                 X509_EXTENSION_get_data(X509_get_ext(b, ib))) == 0;
}

/* The context of s that a certificate with names like x and key type kind
 * joins: same names, no chain of that type yet. SIZE_MAX: a new one. */
static size_t ctx_joinable(const tls_set *s, X509 *x, int kind)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!same_names(s->cert[i], x))
            continue;
        if (kind == EVP_PKEY_RSA && s->kinds[i] & KIND_RSA)
            continue;
        if (kind == EVP_PKEY_EC && s->kinds[i] & KIND_EC)
            continue;
        if (kind != EVP_PKEY_RSA && kind != EVP_PKEY_EC)
            continue;
        return i;
    }
    return SIZE_MAX;
}

static unsigned kind_bit(int kind)
{
    return kind == EVP_PKEY_RSA ? KIND_RSA : kind == EVP_PKEY_EC ? KIND_EC : KIND_OTHER;
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
        /* A second certificate with the same names and another key type
         * (RSA beside ECDSA) joins the first one's context. */
        X509 *x = NULL;
        int kind = file_cert(p, &x);
        size_t j = x ? ctx_joinable(s, x, kind) : SIZE_MAX;
        X509_free(x);
        if (j != SIZE_MAX) {
            if (ctx_add_chain(s->ctx[j], p, key, err, errlen) != 0) {
                free(list);
                set_free(s);
                return NULL;
            }
            s->kinds[j] |= kind_bit(kind);
            continue;
        }
        SSL_CTX *ctx = ctx_new(p, key, method, err, errlen);
        if (!ctx || ctx_add_chain(ctx, p, key, err, errlen) != 0) {
            SSL_CTX_free(ctx);
            free(list);
            set_free(s);
            return NULL;
        }
        s->ctx = xrealloc(s->ctx, (s->n + 1) * sizeof *s->ctx);
        s->cert = xrealloc(s->cert, (s->n + 1) * sizeof *s->cert);
        s->kinds = xrealloc(s->kinds, (s->n + 1) * sizeof *s->kinds);
        s->ctx[s->n] = ctx;
        s->cert[s->n] = SSL_CTX_get0_certificate(ctx);
        s->kinds[s->n] = kind_bit(kind);
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
