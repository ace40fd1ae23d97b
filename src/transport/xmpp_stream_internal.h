/* xmpp_stream_internal.h: the client stream's state and the few
 * functions of xmpp_stream.c that its SASL2 part (sasl2_stream.c) shares.
 * Only those two files include it. */
#ifndef PLUCS_XMPP_STREAM_INTERNAL_H
#define PLUCS_XMPP_STREAM_INTERNAL_H

#include <event2/event.h>

#include "directory/directory.h"
#include "transport/xmpp_stream.h"

typedef struct auth_req auth_req;

struct xmpp_stream {
    const xmpp_transport *t;
    void *tctx;
    session *s;
    struct event *timer;      /* pre-authentication timeout */
    struct event *auth_delay; /* a throttled password check waiting (auth_throttle) */
    auth_req *delayed;        /* its request ... */
    char *delayed_password;   /* ... and password (wiped when freed) */
    bool delayed_refuse;      /* the throttle refuses it: temporary-auth-failure */
    int login_timeout;        /* seconds, from plucs/c2s/login_timeout at accept */
    char peer[112];
    char ip[64];              /* the peer's address: the throttle's key */
    bool header_sent;         /* the server's header of the current stream */
    bool secure;              /* encrypted connection (or behind Apache) */
    bool authed;
    bool auth_pending;
    bool awaiting_response;   /* PLAIN without initial response */
    bool closing;
    bool ending;              /* inside xmpp_stream_close() */
    bool counted;             /* in the sessions-by-domain metric */
    bool input_off;           /* last value given to t->input */
    bool await_restart;       /* after <proceed/> or <success/>: until the new
                                 stream header, every element is discarded */
    bool discard_logged;
    int paused;               /* session_ops pause count */
    xnode *held, *held_last;  /* stanzas received while paused, in order */
    int auth_failures;
    struct sm_state *sm;      /* stream management (sm.c), NULL when off */
    bool sm_wait;             /* a resumption on another worker is pending */
    bool lost;                /* the connection broke (xmpp_stream_connection_lost) */
    struct sasl2_state *sasl2; /* a SASL2 authentication under way (sasl2_stream.c) */
    int proxy_wid;            /* resumed on another worker (sm_pipe.c): the */
    uint64_t proxy_sid;       /* session's worker and id; wid -1: none */
};


/* xmpp_stream.c */
void xs_sasl_failure(xmpp_stream *st, const char *condition);
void xs_sasl_refuse(xmpp_stream *st, const char *condition);
void xs_sasl_plain(xmpp_stream *st, const char *b64);
/* The account of an authcid ("uid" or "uid@domain" of this stream), as a
 * nodeprep'ed localpart (malloc'ed), or NULL (PLAIN and SASL2). */
char *xs_authcid_node(xmpp_stream *st, const char *authcid);
/* Starts the check of node (taken) after the throttle: the password, or
 * the FAST token of st->sasl2 when password is NULL. */
void xs_auth_start(xmpp_stream *st, char *node, const char *password);
void xs_send_features(xmpp_stream *st);
void xs_log_refusal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Frees the login timeout's event once the session is bound or resumed. */
void xs_login_timer_free(xmpp_stream *st);

/* sasl2_stream.c */
struct sasl2_state;
/* SASL2 is offered on encrypted TCP and WebSocket streams (BOSH and
 * polling keep legacy SASL: their restarts are part of their framing). */
bool sasl2_offered(const xmpp_stream *st);
void sasl2_features(xmpp_stream *st, buf *out);
void sasl2_element(xmpp_stream *st, xnode *el);   /* borrowed */
bool sasl2_is_fast(const struct sasl2_state *q);
/* Checks the FAST token of q for node@domain; done(arg, result) later. */
void sasl2_fast_check(xmpp_stream *st, const char *node, void (*done)(void *arg, dir_auth_result r),
                      void *arg);
/* The check succeeded: writes <success/> (Bind 2, token) and finishes. */
void sasl2_success(xmpp_stream *st);
void sasl2_state_free(struct sasl2_state *q);

#endif
