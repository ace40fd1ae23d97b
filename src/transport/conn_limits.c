/* conn_limits.c: per-address and global counts of unauthenticated
 * connections, see conn_limits.h. A small chained hash table under one
 * mutex: an entry lives while its address has counted connections. */
#include "transport/conn_limits.h"
#include "core/alloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUCKETS 4096

typedef struct entry {
    struct entry *next;
    uint8_t key[17];
    int count;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *table[BUCKETS];
static int preauth;

/* family byte + 4 bytes (IPv4, also IPv4-mapped IPv6) or the /64 prefix. */
static bool key_of(const struct sockaddr *sa, uint8_t key[17])
{
    memset(key, 0, 17);
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        key[0] = 4;
        memcpy(key + 1, &in.sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        const struct in6_addr *a = &in6.sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            key[0] = 4;
            memcpy(key + 1, a->s6_addr + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, a->s6_addr, 8);
        }
        return true;
    }
    return false;
}

static unsigned hash(const uint8_t key[17])
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 17; i++)
        h = (h ^ key[i]) * 16777619u;
    return h % BUCKETS;
}

static entry **find(const uint8_t key[17])
{
    entry **pp = &table[hash(key)];
    while (*pp && memcmp((*pp)->key, key, 17))
        pp = &(*pp)->next;
    return pp;
}

cl_result conn_limits_acquire(conn_slot *slot, const struct sockaddr *sa, bool per_ip,
                              int max_per_ip, int max_preauth)
{
    memset(slot, 0, sizeof *slot);
    bool keyed = per_ip && key_of(sa, slot->key);
    pthread_mutex_lock(&lock);
    if (max_preauth > 0 && preauth >= max_preauth) {
        pthread_mutex_unlock(&lock);
        return CL_GLOBAL;
    }
    if (keyed) {
        entry **pp = find(slot->key);
        if (max_per_ip > 0 && *pp && (*pp)->count >= max_per_ip) {
            pthread_mutex_unlock(&lock);
            return CL_PER_IP;
        }
        if (!*pp) {
            *pp = xcalloc(1, sizeof **pp);
            memcpy((*pp)->key, slot->key, 17);
        }
        (*pp)->count++;
        slot->per_ip = true;
    }
    preauth++;
    slot->held = true;
    pthread_mutex_unlock(&lock);
    return CL_OK;
}

void conn_limits_release(conn_slot *slot)
{
    if (!slot || !slot->held)
        return;
    pthread_mutex_lock(&lock);
    preauth--;
    if (slot->per_ip) {
        entry **pp = find(slot->key);
        if (*pp && --(*pp)->count <= 0) {
            entry *e = *pp;
            *pp = e->next;
            free(e);
        }
    }
    pthread_mutex_unlock(&lock);
    slot->held = false;
    slot->per_ip = false;
}

int conn_limits_preauth(void)
{
    pthread_mutex_lock(&lock);
    int n = preauth;
    pthread_mutex_unlock(&lock);
    return n;
}

int conn_limits_of(const struct sockaddr *sa)
{
    uint8_t key[17];
    if (!key_of(sa, key))
        return 0;
    pthread_mutex_lock(&lock);
    entry **pp = find(key);
    int n = *pp ? (*pp)->count : 0;
    pthread_mutex_unlock(&lock);
    return n;
}

static int web_sessions;

bool conn_limits_web_session_acquire(int max)
{
    pthread_mutex_lock(&lock);
    bool ok = max <= 0 || web_sessions < max;
    if (ok)
        web_sessions++;
    pthread_mutex_unlock(&lock);
    return ok;
}

void conn_limits_web_session_release(void)
{
    pthread_mutex_lock(&lock);
    web_sessions--;
    pthread_mutex_unlock(&lock);
}

int conn_limits_web_sessions(void)
{
    pthread_mutex_lock(&lock);
    int n = web_sessions;
    pthread_mutex_unlock(&lock);
    return n;
}

static bool v4_loopback(const struct in_addr *a) { return (ntohl(a->s_addr) >> 24) == 127; }

static bool v6_loopback(const struct in6_addr *a)
{
    if (IN6_IS_ADDR_LOOPBACK(a))
        return true;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
}

bool conn_addr_is_loopback(const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        return v4_loopback(&in.sin_addr);
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        return v6_loopback(&in6.sin6_addr);
    }
    return false;
}

static bool host_parse(const char *host, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    memset(&in, 0, sizeof in);
    memset(&in6, 0, sizeof in6);
    if (inet_pton(AF_INET, host, &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        memcpy(ss, &in, sizeof in);
        return true;
    }
    if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1) {
        in6.sin6_family = AF_INET6;
        memcpy(ss, &in6, sizeof in6);
        return true;
    }
    return false;
}

/* Accepts "host:port" (the listener's form, IPv6 too: the last colon
 * separates the port), "[host]:port" and an IPv4 address without port. */
static bool peer_parse(const char *peer, struct sockaddr_storage *ss)
{
    if (!peer)
        return false;
    char host[64];
    const char *start = peer, *end;
    if (*peer == '[') {
        start = peer + 1;
        end = strchr(start, ']');
    } else {
        end = strrchr(peer, ':');
    }
    size_t n = end ? (size_t)(end - start) : strlen(start);
    if (n == 0 || n >= sizeof host)
        return false;
    memcpy(host, start, n);
    host[n] = 0;
    return host_parse(host, ss);
}

bool conn_host_is_loopback(const char *host)
{
    struct sockaddr_storage ss;
    return host && host_parse(host, &ss) && conn_addr_is_loopback((struct sockaddr *)&ss);
}

bool conn_peer_is_loopback(const char *peer)
{
    struct sockaddr_storage ss;
    return peer_parse(peer, &ss) && conn_addr_is_loopback((struct sockaddr *)&ss);
}

cl_result conn_limits_acquire_peer(conn_slot *slot, const char *peer, bool per_ip,
                                   int max_per_ip, int max_preauth)
{
    struct sockaddr_storage ss;
    bool ok = peer_parse(peer, &ss);
    return conn_limits_acquire(slot, ok ? (struct sockaddr *)&ss : NULL, per_ip && ok, max_per_ip,
                               max_preauth);
}

bool conn_web_secure(bool https, bool peer_loopback) { return https || peer_loopback; }

bool conn_limits_log_ok(int kind, int seconds, unsigned *suppressed)
{
    static time_t last[CL_LOG_KINDS];
    static unsigned skipped[CL_LOG_KINDS];
    if (kind < 0 || kind >= CL_LOG_KINDS)
        return true;
    time_t now = time(NULL);
    bool ok;
    pthread_mutex_lock(&lock);
    if (last[kind] == 0 || now - last[kind] >= seconds) {
        last[kind] = now;
        *suppressed = skipped[kind];
        skipped[kind] = 0;
        ok = true;
    } else {
        skipped[kind]++;
        *suppressed = 0;
        ok = false;
    }
    pthread_mutex_unlock(&lock);
    return ok;
}
