/* auth_throttle.c: the brute-force throttle's tables and rules (see
 * auth_throttle.h). Two bounded tables (client IPs, accounts), each a
 * chained hash with an LRU list for eviction; no clock, no locks, no I/O. */
#include "xmpp/auth_throttle.h"
#include "core/alloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct at_entry {
    char *key;
    int failures;
    int64_t last_fail, next_slot, last_log;
    struct at_entry *hnext;          /* hash chain */
    struct at_entry *lprev, *lnext;  /* LRU: head = most recently used */
} at_entry;

typedef struct at_table {
    at_entry **buckets;
    size_t nbuckets, n, cap;
    at_entry *head, *tail;
} at_table;

struct auth_throttle {
    at_table ip, account;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void table_init(at_table *t, size_t cap)
{
    t->cap = cap ? cap : 1;
    t->nbuckets = 16;
    while (t->nbuckets < t->cap)
        t->nbuckets <<= 1;
    t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
}

static void lru_unlink(at_table *t, at_entry *e)
{
    if (e->lprev) e->lprev->lnext = e->lnext; else t->head = e->lnext;
    if (e->lnext) e->lnext->lprev = e->lprev; else t->tail = e->lprev;
    e->lprev = e->lnext = NULL;
}

static void lru_front(at_table *t, at_entry *e)
{
    e->lprev = NULL;
    e->lnext = t->head;
    if (t->head) t->head->lprev = e; else t->tail = e;
    t->head = e;
}

static void table_remove(at_table *t, at_entry *e)
{
    at_entry **p = &t->buckets[hash(e->key) & (t->nbuckets - 1)];
    while (*p != e)
        p = &(*p)->hnext;
    *p = e->hnext;
    lru_unlink(t, e);
    t->n--;
    free(e->key);
    free(e);
}

static void table_free(at_table *t)
{
    while (t->head)
        table_remove(t, t->head);
    free(t->buckets);
}

/* The entry of key, or NULL; an entry idle for the window is forgotten. */
static at_entry *table_find(at_table *t, const char *key, int64_t now)
{
    for (at_entry *e = t->buckets[hash(key) & (t->nbuckets - 1)]; e; e = e->hnext) {
        if (strcmp(e->key, key))
            continue;
        if (now - e->last_fail > AT_WINDOW_MS && e->next_slot <= now) {
            table_remove(t, e);
            return NULL;
        }
        lru_unlink(t, e);
        lru_front(t, e);
        return e;
    }
    return NULL;
}

static at_entry *table_get(at_table *t, const char *key, int64_t now)
{
    at_entry *e = table_find(t, key, now);
    if (e)
        return e;
    if (t->n >= t->cap)
        table_remove(t, t->tail);   /* least recently used */
    e = xcalloc(1, sizeof *e);
    e->key = xstrdup(key);
    e->last_log = INT64_MIN / 2;
    size_t b = hash(key) & (t->nbuckets - 1);
    e->hnext = t->buckets[b];
    t->buckets[b] = e;
    lru_front(t, e);
    t->n++;
    return e;
}

auth_throttle *auth_throttle_new(size_t cap)
{
    auth_throttle *t = xcalloc(1, sizeof *t);
    table_init(&t->ip, cap);
    table_init(&t->account, cap);
    return t;
}

void auth_throttle_free(auth_throttle *t)
{
    if (!t)
        return;
    table_free(&t->ip);
    table_free(&t->account);
    free(t);
}

size_t auth_throttle_size(const auth_throttle *t) { return t->ip.n + t->account.n; }

/* The spacing of attempts for an entry with this many failures (0: free). */
static int64_t interval(int failures)
{
    if (failures < AT_FREE_FAILURES)
        return 0;
    int k = failures - AT_FREE_FAILURES;
    if (k > 20)
        return AT_MAX_INTERVAL_MS;
    int64_t v = (int64_t)AT_BASE_INTERVAL_MS << k;
    return v < AT_MAX_INTERVAL_MS ? v : AT_MAX_INTERVAL_MS;
}

/* The wait an entry imposes: at least its interval, and not before its
 * next free slot. */
static int64_t wait_for(const at_entry *e, int64_t iv, int64_t now)
{
    int64_t w = e->next_slot - now;
    return w > iv ? w : iv;
}

at_verdict auth_throttle_attempt(auth_throttle *t, const char *ip, const char *account,
                                 int64_t now)
{
    at_verdict v = { 0 };
    at_entry *ei = table_find(&t->ip, ip, now);
    if (!ei)
        return v;   /* a clean address: neither rule applies */
    at_entry *ea = account ? table_find(&t->account, account, now) : NULL;
    int64_t ii = interval(ei->failures), ia = ea ? interval(ea->failures) : 0;
    v.ip_failures = ei->failures;
    v.account_failures = ea ? ea->failures : 0;
    int64_t d = 0;
    if (ii)
        d = wait_for(ei, ii, now);
    if (ia) {
        int64_t da = wait_for(ea, ia, now);
        if (da > d)
            d = da;
    }
    if (d > AT_MAX_WAIT_MS) {
        v.refuse = true;
        v.delay_ms = AT_REFUSE_DELAY_MS;
    } else {
        v.delay_ms = d;
        if (ii)
            ei->next_slot = now + d + ii;
        if (ia)
            ea->next_slot = now + d + ia;
    }
    if (ii && now - ei->last_log >= AT_LOG_EVERY_MS) {
        ei->last_log = now;
        v.log_ip = true;
    }
    if (ia && now - ea->last_log >= AT_LOG_EVERY_MS) {
        ea->last_log = now;
        v.log_account = true;
    }
    return v;
}

void auth_throttle_result(auth_throttle *t, const char *ip, const char *account, bool ok,
                          int64_t now)
{
    if (ok) {
        at_entry *ea = account ? table_find(&t->account, account, now) : NULL;
        if (ea)
            table_remove(&t->account, ea);
        return;
    }
    at_entry *ei = table_get(&t->ip, ip, now);
    if (ei->failures < 1000)
        ei->failures++;
    ei->last_fail = now;
    if (account) {
        at_entry *ea = table_get(&t->account, account, now);
        if (ea->failures < 1000)
            ea->failures++;
        ea->last_fail = now;
    }
}

void auth_throttle_peer_key(const char *peer, char *out, size_t len)
{
    if (!len)
        return;
    if (!peer)
        peer = "";
    size_t n = strlen(peer);
    const char *via = strstr(peer, " via ");
    if (via) {
        n = (size_t)(via - peer);
    } else {
        /* drop ":port" when what follows the last ':' is all digits and
         * something that looks like an address precedes it */
        const char *c = strrchr(peer, ':');
        if (c && c > peer && c[1]) {
            const char *p = c + 1;
            while (*p >= '0' && *p <= '9')
                p++;
            if (!*p)
                n = (size_t)(c - peer);
        }
        if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']') {
            peer++;
            n -= 2;
        }
    }
    char addr[INET6_ADDRSTRLEN + 8];
    if (n < sizeof addr && memchr(peer, ':', n)) {
        /* IPv6: one client usually has a whole /64, so that is the key
         * (an IPv4-mapped address stays the IPv4 address) */
        memcpy(addr, peer, n);
        addr[n] = 0;
        struct in6_addr a6;
        if (inet_pton(AF_INET6, addr, &a6) == 1) {
            static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
            if (!memcmp(a6.s6_addr, mapped, sizeof mapped)) {
                inet_ntop(AF_INET, a6.s6_addr + 12, addr, sizeof addr);
            } else {
                memset(a6.s6_addr + 8, 0, 8);
                inet_ntop(AF_INET6, &a6, addr, sizeof addr);
                strcat(addr, "/64");
            }
            snprintf(out, len, "%s", addr);
            return;
        }
    }
    if (n >= len)
        n = len - 1;
    memcpy(out, peer, n);
    out[n] = 0;
}
