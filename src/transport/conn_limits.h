/* conn_limits.h: why this exists: a remote client that never logs in must
 * not be able to hold an unbounded number of connections (slowloris). This
 * counts connections that have not authenticated yet, per client address
 * (IPv4: the address; IPv6: its /64) and in all, for plucs/c2s/max_per_ip
 * and plucs/c2s/max_preauth. A connection holds one slot from accept until
 * it authenticates or closes, whichever comes first; releasing is
 * idempotent, so both paths may call it. Thread-safe: slots are taken on
 * the listener's thread and released on the workers'. It also holds the
 * small pure decisions about peers (loopback, "may PLAIN go over this web
 * transport") so they are unit-tested in one place. */
#ifndef PLUCS_CONN_LIMITS_H
#define PLUCS_CONN_LIMITS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct conn_slot {
    uint8_t key[17];   /* family byte + address (IPv6: the /64 prefix) */
    bool held;         /* counted now */
    bool per_ip;       /* counted in the per-address table too */
} conn_slot;

typedef enum {
    CL_OK,        /* counted: release it later */
    CL_PER_IP,    /* refused: plucs/c2s/max_per_ip reached for this address */
    CL_GLOBAL,    /* refused: plucs/c2s/max_preauth reached */
} cl_result;

/* Counts a new unauthenticated connection from sa unless a limit is
 * reached (max_* <= 0: no limit; per_ip false: only the global count). */
cl_result conn_limits_acquire(conn_slot *slot, const struct sockaddr *sa, bool per_ip,
                              int max_per_ip, int max_preauth);
/* The same for a "host:port" peer string (the HTTP side keeps no sockaddr). */
cl_result conn_limits_acquire_peer(conn_slot *slot, const char *peer, bool per_ip,
                                   int max_per_ip, int max_preauth);
/* The connection authenticated or closed; safe to call more than once. */
void conn_limits_release(conn_slot *slot);

/* Unauthenticated connections counted now: all, and from sa's address. */
int conn_limits_preauth(void);
int conn_limits_of(const struct sockaddr *sa);

/* BOSH and HTTP-polling sessions in all (plucs/http/max_sessions):
 * acquire returns false at the cap (max <= 0: no limit). */
bool conn_limits_web_session_acquire(int max);
void conn_limits_web_session_release(void);
int conn_limits_web_sessions(void);

/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool conn_addr_is_loopback(const struct sockaddr *sa);
/* The same for a "host:port" or "[host]:port" peer string (as the
 * listener writes it) ... */
bool conn_peer_is_loopback(const char *peer);
/* ... and for a bare address (a configured listener address). */
bool conn_host_is_loopback(const char *host);

/* Whether a web transport (BOSH, polling, WebSocket) counts as encrypted:
 * over HTTPS, or from a loopback peer (the reverse proxy that terminates
 * TLS). With plucs/tls=required anything else may not use PLAIN. */
bool conn_web_secure(bool https, bool peer_loopback);

/* Rate limit for repeated log lines of one kind: true at most once per
 * `seconds`; *suppressed gets how many calls were refused since the last
 * true. kind: an index below CL_LOG_KINDS. */
enum { CL_LOG_PER_IP, CL_LOG_GLOBAL, CL_LOG_OPEN_TIMEOUT, CL_LOG_HTTP_OUTPUT, CL_LOG_WEB_SESSIONS,
       CL_LOG_ACCEPT, CL_LOG_KINDS };
bool conn_limits_log_ok(int kind, int seconds, unsigned *suppressed);

#endif
