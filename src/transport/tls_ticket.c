/* tls_ticket.c: the process's session-ticket keys, see tls_ticket.h.
 * OpenSSL's default would be one random key per SSL_CTX for its whole life
 * (until a reload) and, in TLS 1.3, no new ticket after a resumption; here one key pair serves every client context of the
 * process, a fresh one is made every TLS_TICKET_ROTATE_SECONDS and the
 * previous one still decrypts (and then the client gets a new ticket, as
 * after every TLS 1.3 resumption), so a
 * stolen key opens at most two periods of tickets. Keys are never written
 * anywhere: a restart makes every client do one full handshake. */
#include "transport/tls_ticket.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

typedef struct tkey {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
    time_t born;              /* CLOCK_MONOTONIC seconds */
    bool valid;
} tkey;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tkey keys[2];          /* [0] current, [1] previous; under lock */
static int aged;              /* rotations asked for by tests; under lock */

static time_t now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Makes keys[0] fresh enough; the caller holds lock. false: no randomness. */
static bool rotate_locked(void)
{
    time_t now = now_mono();
    while (!keys[0].valid || aged > 0 || now - keys[0].born >= TLS_TICKET_ROTATE_SECONDS) {
        tkey k = { .born = now, .valid = true };
        if (RAND_bytes(k.name, sizeof k.name) != 1 || RAND_bytes(k.aes, sizeof k.aes) != 1 ||
            RAND_bytes(k.hmac, sizeof k.hmac) != 1) {
            OPENSSL_cleanse(&k, sizeof k);
            return false;
        }
        OPENSSL_cleanse(&keys[1], sizeof keys[1]);
        keys[1] = keys[0];
        keys[0] = k;
        OPENSSL_cleanse(&k, sizeof k);
        if (aged > 0)
            aged--;
        else
            break;
    }
    /* The previous key decrypts for one period after it stopped encrypting. */
    if (keys[1].valid && now - keys[1].born >= 2 * TLS_TICKET_ROTATE_SECONDS)
        OPENSSL_cleanse(&keys[1], sizeof keys[1]);
    return true;
}

static int set_mac(EVP_MAC_CTX *hctx, unsigned char *hkey, size_t len)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_init(hctx, hkey, len, params) == 1;
}

/* OpenSSL's ticket key callback: enc 1 = a new ticket (fill name and iv),
 * enc 0 = a ticket came back (find its key). Returns 1 (use), 2 (use and
 * issue a fresh ticket), 0 (unknown key: full handshake), -1 (error). */
static int key_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                  EVP_MAC_CTX *hctx, int enc)
{
    tkey k;
    /* TLS 1.3: OpenSSL sends no ticket after a resumption unless asked (2),
     * and clients use a TLS 1.3 ticket once (RFC 8446 C.4): without a fresh
     * one every other reconnection would be a full handshake. */
    int ret = SSL_version(ssl) >= TLS1_3_VERSION ? 2 : 1;
    pthread_mutex_lock(&lock);
    if (!rotate_locked()) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    if (enc) {
        k = keys[0];
    } else if (keys[0].valid && memcmp(name, keys[0].name, 16) == 0) {
        k = keys[0];
    } else if (keys[1].valid && memcmp(name, keys[1].name, 16) == 0) {
        k = keys[1];
        ret = 2;
    } else {
        pthread_mutex_unlock(&lock);
        return 0;
    }
    pthread_mutex_unlock(&lock);
    if (enc) {
        memcpy(name, k.name, 16);
        if (RAND_bytes(iv, 16) != 1 ||
            EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv) != 1)
            ret = -1;
    } else if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv) != 1) {
        ret = -1;
    }
    if (ret > 0 && !set_mac(hctx, k.hmac, sizeof k.hmac))
        ret = -1;
    OPENSSL_cleanse(&k, sizeof k);
    return ret;
}

void tls_ticket_setup(SSL_CTX *ctx, bool on)
{
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_max_early_data(ctx, 0);
    SSL_CTX_set_recv_max_early_data(ctx, 0);
    if (!on) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
        return;
    }
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_timeout(ctx, TLS_TICKET_ROTATE_SECONDS);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, key_cb);
}

void tls_ticket_age_for_test(int n)
{
    pthread_mutex_lock(&lock);
    aged += n;
    pthread_mutex_unlock(&lock);
}
