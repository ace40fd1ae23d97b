/* s2s_internal.h: what the files of the federation transport share (not
 * for the rest of the server, which sees only s2s.h). One s2s_stream is one
 * TCP connection to or from a peer server, owned by one worker for its
 * whole life like a client connection:
 *
 *   s2s_conn.c      bytes <-> XML (bufferevent, STARTTLS, parser, writing,
 *                   closing, the idle and setup timers, the status list)
 *   s2s_out.c       outgoing streams: the (local, remote) table, queue,
 *                   resolve/connect/TLS/EXTERNAL/dialback, bounces
 *   s2s_in.c        incoming streams: header, features, TLS, EXTERNAL,
 *                   dialback (db:result, db:verify), stanzas to the router
 *   s2s_dialback.c  the XEP-0185 keys and the db:verify round trip between
 *                   an incoming stream and an outgoing one
 *   s2s.c           entry points (s2s.h), status lines, per-IP limit */
#ifndef PLUCS_S2S_INTERNAL_H
#define PLUCS_S2S_INTERNAL_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "core/buf.h"
#include "core/worker.h"
#include "transport/s2s_resolve.h"
#include "xml/xml.h"

#define NS_DIALBACK        "jabber:server:dialback"
#define NS_DIALBACK_FEAT   "urn:xmpp:features:dialback"
#define S2S_DOMAIN_MAX     256
#define S2S_QUEUE_MAX      1000          /* stanzas waiting for one outgoing stream */
#define S2S_QUEUE_BYTES    (1u << 20)    /* and their serialized size */
#define S2S_MAX_OUTPUT     (8u << 20)    /* a peer that reads nothing is cut off */
#define S2S_PENDING_MAX    64            /* db:result under verification, per incoming stream */
#define S2S_PAIRS_MAX      1000          /* domain pairs authenticated on one incoming stream */
#define S2S_SASL_FAILURES_MAX 5          /* refused <auth/> per incoming stream, as for clients */
#define S2S_TABLE_MAX      1000          /* outgoing (local, remote) streams, whole server */

typedef enum { S2S_IN, S2S_OUT } s2s_dir;
typedef enum { S2S_AUTH_NONE, S2S_AUTH_EXTERNAL, S2S_AUTH_DIALBACK } s2s_auth;

typedef enum {
    /* outgoing */
    OUT_RESOLVING,
    OUT_CONNECTING,
    OUT_WAIT_FEATURES,     /* header sent, waiting for the peer's header and features */
    OUT_WAIT_PROCEED,      /* <starttls/> sent */
    OUT_WAIT_SASL,         /* <auth mechanism='EXTERNAL'/> sent */
    OUT_WAIT_DIALBACK,     /* <db:result/> sent */
    OUT_READY,             /* authenticated: stanzas flow */
    /* incoming */
    IN_WAIT_HEADER,
    IN_OPEN,               /* header answered, features sent */
    /* both */
    S2S_CLOSING,
} s2s_state;

/* A stanza waiting for an outgoing stream. */
typedef struct s2s_queued {
    struct s2s_queued *next;
    xnode *st;
    size_t bytes;
} s2s_queued;

/* An incoming stream's db:result waiting for the authoritative server's
 * db:verify answer (XEP-0220 §2.3), or an outgoing stream's db:verify
 * request waiting to be sent or answered. */
typedef struct s2s_verify {
    struct s2s_verify *next;
    char from[S2S_DOMAIN_MAX];    /* the originating (peer) domain */
    char to[S2S_DOMAIN_MAX];      /* the receiving (local) domain */
    char id[80];                  /* the incoming stream's id */
    char key[130];
    worker *reply_w;              /* where the incoming stream lives */
    uint64_t reply_serial;        /* which one */
    bool sent;                    /* db:verify written on the outgoing stream */
} s2s_verify;

/* One (remote, local) pair authenticated on an incoming stream. */
typedef struct s2s_pair {
    char remote[S2S_DOMAIN_MAX];
    char local[S2S_DOMAIN_MAX];
} s2s_pair;

typedef struct s2s_stream s2s_stream;
struct s2s_stream {
    s2s_stream *next_w, **prev_w;   /* the owning worker's list */
    s2s_stream *next_g, **prev_g;   /* the global status list (locked) */
    uint64_t serial;
    worker *w;
    s2s_dir dir;
    s2s_state state;
    struct bufferevent *bev;
    xstream *xs;
    char peer[300];                 /* "ip:port" or "host:port", logs */
    char local[S2S_DOMAIN_MAX];
    char remote[S2S_DOMAIN_MAX];    /* incoming: the header's 'from' ("" when absent) */
    char id[80];                    /* the stream id (ours for incoming, the peer's for outgoing) */
    bool tls;
    s2s_auth auth;
    bool header_sent;
    bool starttls_pending;          /* switch to TLS after this feed */
    bool restart_pending;           /* a fresh parser after this feed */
    bool closing;
    bool ending;                    /* inside s2s_close: its last words pass the output limit */
    bool overflowed;
    _Atomic long long last_active;  /* monotonic seconds: a stanza either way */
    struct event *setup_timer;      /* outgoing: plucs/s2s/timeout; incoming: until authenticated */
    struct event *idle_timer;
    struct event *close_timer;
    struct event *flush_timer;
    struct event *kick;             /* deferred work (failures never free inside callbacks) */
    /* outgoing */
    s2s_lookup *lookup;
    s2s_addr *addrs;
    size_t naddrs, addr_i;
    bool direct_tls;                /* the address in use is XEP-0368 direct TLS */
    s2s_queued *qhead, **qtail;
    size_t qlen, qbytes;
    s2s_verify *verifies;           /* db:verify requests for incoming streams */
    bool offered_dialback;
    const char *fail_type, *fail_cond;  /* set when failing: what queued stanzas get */
    char fail_why[256];
    /* incoming */
    s2s_pair *pairs;
    size_t npairs;
    s2s_verify *pending;            /* db:result under verification */
    uint8_t ip_key[17];             /* per-IP count held */
    bool ip_held;
    char peer_from[S2S_DOMAIN_MAX]; /* the header's 'from' of the current stream */
    bool table_held;                /* outgoing: the (local, remote) table names us */
    bool detached;                  /* outgoing: queue bounced, table released */
    bool tls_handshaking;
    bool answered_verify;           /* incoming: served a db:verify (a peer's verification stream) */
    int sasl_failures;              /* incoming: refused <auth/>, S2S_SASL_FAILURES_MAX at most */
    /* what `plucs status` shows, copied under the status lock */
    struct {
        char local[S2S_DOMAIN_MAX];
        char remote[S2S_DOMAIN_MAX];
        bool tls;
        s2s_auth auth;
    } shown;
};

/* ---- s2s_conn.c ---- */
/* Starts a stream object on the calling worker (not yet connected). */
s2s_stream *s2s_stream_new(s2s_dir dir, const char *peer);
/* Writes raw XML (the stream's own elements). */
void s2s_write(s2s_stream *s, const char *data, size_t len);
void s2s_write_buf(s2s_stream *s, buf *b);
/* A stanza in the internal (jabber:client) namespace; st borrowed. */
void s2s_write_stanza(s2s_stream *s, const xnode *st);
/* The stream header (our side). */
void s2s_write_header(s2s_stream *s, const char *from, const char *to, const char *id);
/* Ends the stream: an optional stream error, </stream:stream>, flush, free.
 * Safe inside parser callbacks (frees later). */
void s2s_close(s2s_stream *s, const char *condition, const char *text);
/* Frees at once (not inside a callback of s). */
void s2s_free(s2s_stream *s);
/* Takes over bev (set up by the caller) and starts reading. */
void s2s_attach(s2s_stream *s, struct bufferevent *bev);
/* TLS over the current connection: accepting (incoming) or connecting. */
bool s2s_start_tls(s2s_stream *s, SSL *ssl, bool accepting);
/* A fresh parser for the next stream header (after TLS or SASL). */
void s2s_restart(s2s_stream *s);
void s2s_touch(s2s_stream *s);
void s2s_arm_idle(s2s_stream *s);
void s2s_arm_setup(s2s_stream *s, int seconds);
void s2s_status_update(s2s_stream *s);   /* after a change of local/remote/tls/auth */
s2s_stream *s2s_find_serial(uint64_t serial);   /* on the calling worker */
s2s_stream *s2s_worker_streams(void);           /* the calling worker's list */
SSL *s2s_stream_ssl(s2s_stream *s);
/* The peer's address as sockaddr (incoming, per-IP limit). */
long long s2s_now(void);
/* Converts a stanza's jabber:server elements to the internal namespace. */
void s2s_ns_to_client(xnode *n);

/* ---- callbacks the direction files implement ---- */
void s2s_out_connected(s2s_stream *s);
void s2s_out_event_error(s2s_stream *s, const char *why);   /* connection failed or lost */
void s2s_out_tls_done(s2s_stream *s);
void s2s_out_open(s2s_stream *s, const xnode *hdr, const char *default_ns);
void s2s_out_element(s2s_stream *s, xnode *el);
void s2s_out_setup_timeout(s2s_stream *s);
void s2s_out_freeing(s2s_stream *s);
void s2s_in_open(s2s_stream *s, const xnode *hdr, const char *default_ns);
void s2s_in_element(s2s_stream *s, xnode *el);
void s2s_in_tls_done(s2s_stream *s);
void s2s_in_freeing(s2s_stream *s);
size_t s2s_max_stanza(void);

/* ---- s2s_dialback.c ---- */
void s2s_dialback_init(void);     /* a fresh random secret */
/* The XEP-0185 key (64 hex digits + NUL into out). */
void s2s_dialback_key(const char *receiving, const char *originating, const char *id,
                      char out[65]);
/* The same for a given secret (tests: XEP-0185's example). */
void s2s_dialback_key_secret(const char *secret, const char *receiving, const char *originating,
                             const char *id, char out[65]);
/* Incoming stream s got <db:result from to>key</db:result>: asks the
 * authoritative server through an outgoing stream (any worker). False
 * (nothing started) when the outgoing table is full (S2S_TABLE_MAX). */
bool s2s_dialback_verify_start(s2s_stream *s, const char *from, const char *to, const char *key);
/* The outgoing stream got <db:verify type=...> for request v: tell the
 * incoming stream (posts to its worker). v is freed. */
void s2s_dialback_verify_done(s2s_verify *v, bool valid);
/* On the incoming stream's worker: the answer arrived. */
void s2s_in_verified(s2s_stream *s, const char *from, const char *to, bool valid);

/* ---- s2s_out.c ---- */
/* Queues st (owned) for (local, remote) on the calling worker's stream,
 * creating it when needed. */
void s2s_out_enqueue(const char *local, const char *remote, xnode *st);
/* Adds a db:verify request (owned) to the outgoing stream for
 * (v->to, v->from), on the calling worker. */
void s2s_out_add_verify(s2s_verify *v);
/* Which worker owns (local, remote); claims it for self when none does.
 * NULL when none does and the table holds S2S_TABLE_MAX pairs already. */
worker *s2s_table_claim(const char *local, const char *remote, worker *self);
void s2s_table_release(const char *local, const char *remote, worker *self);
/* Hands st (owned) to worker w for (local, remote). */
void s2s_out_post(worker *w, const char *local, const char *remote, xnode *st);

/* ---- s2s.c ---- */
void s2s_status_link(s2s_stream *s);
void s2s_status_unlink(s2s_stream *s);
void s2s_ip_release(s2s_stream *s);

#endif
