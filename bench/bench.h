/* bench/bench.h: shared types of plucs-bench, the load generator behind
 * `make bench`. One event loop (libevent) drives every simulated client; a
 * client is a small struct plus a bufferevent (an OpenSSL filter on top after
 * STARTTLS). bench_conn.c speaks XMPP (or the raw floor protocol),
 * bench_stats.c measures (latencies, /proc samples), bench_ldap.c binds to
 * slapd directly, bench_main.c reads options and runs the phases. */
#ifndef PLUCS_BENCH_H
#define PLUCS_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <event2/bufferevent.h>
#include <openssl/ssl.h>

enum bench_mode { MODE_XMPP, MODE_RAW };

/* Error kinds counted separately (printed by name). */
enum bench_err {
    ERR_CONNECT, ERR_CLOSED, ERR_TLS, ERR_AUTH, ERR_BIND, ERR_ROSTER,
    ERR_STREAM, ERR_STANZA, ERR_TIMEOUT, ERR_BUFFER, ERR__COUNT
};
extern const char *const bench_err_names[ERR__COUNT];

/* A growing array of latencies in microseconds, for exact percentiles. */
struct lat {
    uint32_t *v;
    size_t n, cap, dropped;
};
void lat_add(struct lat *l, uint64_t us);
void lat_reset(struct lat *l);
/* Percentile p (0..100) in milliseconds; sorts in place. 0 when empty. */
double lat_pct_ms(struct lat *l, double p);
double lat_max_ms(struct lat *l);

/* Global options and run state. */
struct bench {
    struct event_base *base;
    SSL_CTX *ssl_ctx;
    enum bench_mode mode;
    const char *host, *domain, *user_fmt, *pass_fmt, *resource;
    int port;
    int tls;
    int sm;               /* --sm: enable XEP-0198 after bind, answer the server's <r/> */
    int sasl2;            /* --sasl2 plain|fast: SASL2 (XEP-0388) with Bind 2; fast (2):
                             PLAIN asks for a FAST token (XEP-0484), later logins of the
                             session use it (HT-SHA-256-ENDP) */
    int resume;           /* --resume: keep each session's TLS session (ticket) and
                             offer it on the session's next handshake */
    SSL_SESSION **tls_sess; /* --resume: per session index, NULL: none yet */
    int nsess;            /* entries of tls_sess */
    uint64_t tls_full, tls_resumed; /* handshakes of the current phase */
    int first_user;
    int group_size;       /* pairs never cross a group of this many users */
    int users;            /* --users: session i logs in as user i mod users */
    int concurrency;      /* logins in flight at most */
    int src_spread;       /* spread source addresses over 127.0.0.2-254 */
    int body_len;         /* padding of a message body */

    /* live counters */
    uint64_t logins_ok, logins_started, msgs_sent, msgs_recv, msgs_late;
    uint64_t pres_recv, stanzas_recv, errors[ERR__COUNT];
    struct lat login_lat, msg_lat;
    int in_flight;        /* logins started and not finished */
    int online;           /* sessions logged in and open */
    uint64_t seq, seq_floor; /* messages with seq <= seq_floor are late */
    uint64_t push_t0;     /* push scenario: when the group change was made */
    uint64_t pushes_recv; /* sessions that got their roster push since then */
    struct lat push_lat;
    /* muc scenario: rooms of --room-size occupants on --muc-host */
    const char *muc_host;
    int room_size;
    int *room_joined;     /* occupants joined per room */
    uint64_t joins_ok, joins_failed, rooms_ready;
    uint64_t expect_recv; /* groupchat deliveries owed */
    /* presence scenario: status changes of this run delivered to contacts */
    uint64_t pres_bnch;
    /* the first TLS handshake: server key type, protocol and cipher (so a
     * run can show which certificate each server really used) */
    char tls_key[16], tls_proto[16], tls_cipher[64];
};
extern struct bench B;

/* One simulated client. */
enum conn_state {
    CS_NONE, CS_CONNECTING, CS_FEATURES1, CS_TLS_WAIT, CS_TLS_HANDSHAKE,
    CS_FEATURES_TLS, CS_AUTH, CS_FEATURES2, CS_BIND, CS_ROSTER, CS_ONLINE,
    CS_RAW, CS_DEAD
};
struct conn {
    struct bufferevent *bev;
    uint64_t t_start;     /* monotonic µs at connect */
    int idx;              /* session index */
    int user;             /* user number */
    uint8_t state;
    uint8_t storm;        /* close and count after login */
    uint8_t pushed;       /* push scenario: its roster push arrived */
    uint8_t joined;       /* muc scenario: its self-presence (110) arrived */
    uint8_t sm_on;        /* --sm: <enabled/> arrived, stanzas are counted */
    uint32_t h;           /* --sm: stanzas handled since <enabled/> */
    char token[64];       /* --sasl2 fast: the session's FAST token ("" none yet) */
    int depth;            /* XML element depth of the stream */
    size_t scan;          /* scan position in the input */
    size_t elem;          /* start of the current depth-1 element */
};

uint64_t now_us(void);
/* --resume: OpenSSL's new-session callback (a ticket arrived) */
int bench_new_session(SSL *ssl, SSL_SESSION *sess);
/* Starts connecting client c (state CS_CONNECTING); returns 0 or -1. */
int conn_start(struct conn *c);
void conn_close(struct conn *c);
/* Queues one timestamped chat message from c to session peer. */
void conn_send_msg(struct conn *c, const struct conn *peer);
/* muc scenario: room of session i, join of c (creators configure an
 * instant room on status 201), one timestamped groupchat message. */
int session_room(int i);
void conn_send_join(struct conn *c);
void conn_send_groupchat(struct conn *c);
/* Queues one presence change from c (status text varies). */
void conn_send_presence(struct conn *c);
/* User number of session index i (pairs stay within one group). */
int session_user(int i);
/* Called by conn.c when a login finished (ok or not). */
void bench_login_done(struct conn *c, int ok);
void bench_error(struct conn *c, enum bench_err e);

/* /proc sampling of the server under test (and of slapd). */
struct proc_sample { double cpu_s; long rss_kib; int nproc; };
void proc_sample(const char *pids, struct proc_sample *out);

/* bench_ldap.c: N simple binds straight to slapd (new connection each). */
struct ldap_result { uint64_t ok, fail; double secs; struct lat lat; };
int ldap_bind_storm(const char *host, int port, const char *dn_fmt,
                    const char *pass_fmt, int first, int users, int total,
                    int concurrency, double max_secs, struct ldap_result *r);

#endif
