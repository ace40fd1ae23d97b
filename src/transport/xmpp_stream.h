/* xmpp_stream.h: the transport-independent part of a client stream
 * (RFC 6120): stream header checks, features, the STARTTLS decision, SASL
 * PLAIN against the directory, resource binding, stanza dispatch to the
 * router, pause/resume with held stanzas, the pre-authentication timeout and
 * the one place where stream errors are written. It owns the session object.
 *
 * A transport (c2s.c for TCP/TLS, bosh.c, poll.c, websocket.c) turns its
 * wire format into calls of xmpp_stream_open/stanza/end and turns the
 * xmpp_transport callbacks back into its wire format. Everything above (the
 * router, modules) sees only the session, never the transport. */
#ifndef PLUCS_XMPP_STREAM_H
#define PLUCS_XMPP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/worker.h"
#include "router/session.h"
#include "xml/xml.h"

typedef struct xmpp_stream xmpp_stream;

typedef struct xmpp_transport {
    const char *name;     /* for logs: "c2s", "bosh", "websocket", "poll" */
    const char *metric;   /* metrics label: "tcp", "bosh", "websocket", "poll" */
    /* Opens the server's side of the stream (TCP: <stream:stream ...>,
     * WebSocket: <open/>, BOSH: remembered for the session creation reply).
     * from/to may be NULL. */
    void (*header)(void *t, const char *id, const char *from, const char *to, const char *lang);
    /* One complete top-level element (features, SASL answer, stanza, stream
     * error), serialized with jabber:client as the context namespace. */
    void (*write)(void *t, const char *data, size_t len);
    /* The stream ended (after a stream error, if any, was written). Called
     * once; the transport flushes, then calls xmpp_stream_free() later
     * (never from inside this call). header_open: a header was sent and not
     * yet closed (TCP writes </stream:stream>). */
    void (*end)(void *t, bool header_open, bool error);
    /* Input flow control: false = deliver nothing until true again. On
     * true the transport processes what is already waiting. */
    void (*input)(void *t, bool on);
    /* NULL when the transport cannot do STARTTLS (then it is not offered).
     * Called after <proceed/> was written. */
    void (*starttls)(void *t);
    /* After SASL success the client opens a new stream; NULL if nothing to
     * do (TCP: a fresh parser for the bytes that follow). */
    void (*restart)(void *t);
    /* Frees the transport at worker shutdown (after its loop ended); it
     * calls xmpp_stream_free(). */
    void (*destroy)(void *t);
    /* SASL2 (XEP-0388) succeeded without a stream restart: what restart
     * does except the parser reset (TCP, WebSocket: the pre-auth slot);
     * NULL: nothing. */
    void (*authenticated)(void *t);
    /* The connection's OpenSSL SSL (as void *), for channel binding; NULL
     * callback or result: no TLS of ours (WebSocket: Apache's). */
    void *(*tls)(void *t);
} xmpp_transport;

/* A new stream on the calling worker (creates and owns the session).
 * secure: the connection is encrypted (direct TLS, or an HTTP transport:
 * TLS is Apache's job there). peer: for logs. */
xmpp_stream *xmpp_stream_new(worker *w, const xmpp_transport *t, void *tctx, const char *peer,
                             bool secure);
/* Frees the stream and its session (the session's ended hooks run). */
void xmpp_stream_free(xmpp_stream *st);

/* The client's stream header: to, version, xml:lang (each may be NULL).
 * Checks them, answers with the server's header and the features, or
 * closes with the right stream error. Namespace checks of the header
 * itself are the transport's (they differ per framing). */
void xmpp_stream_open(xmpp_stream *st, const char *to, const char *version, const char *lang);
/* A header the transport refuses (wrong namespace): answers with the
 * server's header (naming the domain when served) and the stream error. */
void xmpp_stream_open_refused(xmpp_stream *st, const char *to, const char *lang,
                              const char *condition);
/* One top-level element from the client; takes ownership. */
void xmpp_stream_stanza(xmpp_stream *st, xnode *el);
/* The client ended the stream cleanly (</stream:stream>, <close/>, BOSH
 * terminate). */
void xmpp_stream_end(xmpp_stream *st);
/* The connection broke (EOF or error without the client's close) for a
 * transport that ends its stream then (WebSocket): like a clean close,
 * except that stream management may keep the session for a resumption.
 * (TCP frees the stream without closing it, which means the same.) */
void xmpp_stream_connection_lost(xmpp_stream *st);
/* Ends the stream: condition NULL is a clean close; otherwise the stream
 * error (with optional text) is written first. The one place stream errors
 * are written, for every transport. */
void xmpp_stream_close(xmpp_stream *st, const char *condition, const char *text);
/* A parser error of the transport's XML input, mapped to its stream error. */
void xmpp_stream_parse_error(xmpp_stream *st, xstream_err kind, const char *detail);

/* Worker cleanup: frees the transport (which frees the stream). */
void xmpp_stream_destroy_transport(xmpp_stream *st);

session *xmpp_stream_session(xmpp_stream *st);
bool xmpp_stream_closing(const xmpp_stream *st);

/* Stream features owned elsewhere (XEP-0115 caps, roster versioning...):
 * fn appends elements inside <stream:features/> (authed: the features after
 * SASL). Set once at start-up, before the workers run; NULL: none. */
typedef void (*xmpp_features_fn)(const session *s, bool authed, buf *out);
void xmpp_stream_set_features_fn(xmpp_features_fn fn);
/* Top-level elements after authentication that are not stanzas (XEP-0352
 * <active/>...): fn returns true when it took el (borrowed). Set once at
 * start-up; NULL or false: the stream ends with unsupported-stanza-type. */
typedef bool (*xmpp_element_fn)(session *s, const xnode *el);
void xmpp_stream_set_element_fn(xmpp_element_fn fn);

/* For stream management (sm.c), which owns its state through these. */
struct sm_state;
/* Writes bytes to the client that are not a stanza (SM elements). */
void xmpp_stream_write(xmpp_stream *st, const char *data, size_t len);
struct sm_state *xmpp_stream_sm(const xmpp_stream *st);
void xmpp_stream_set_sm(xmpp_stream *st, struct sm_state *sm);
/* The SM state of a session attached to a stream (NULL: none). */
struct sm_state *xmpp_stream_sm_of_session(const session *s);
/* Whether the transport can offer SM (TCP/TLS and WebSocket). */
bool xmpp_stream_sm_capable(const xmpp_stream *st);
/* Detaches the stream's session (returned, its ops and conn still the
 * stream's: the caller reassigns them at once) and gives the stream a
 * fresh, unbound one so that the stream can be closed without ending it. */
session *xmpp_stream_take_session(xmpp_stream *st);
/* Resumption: the stream's own (authenticated, unbound) session is freed
 * and s becomes its session. */
void xmpp_stream_adopt(xmpp_stream *st, session *s);

/* Resumption on another worker (sm_pipe.c): this stream proxies the
 * session sid of worker wid (sid 0: the answer is pending; wid -1: none).
 * While proxying, every element after authentication goes to that session. */
xmpp_stream *xmpp_stream_of(session *s);   /* NULL when s is not a stream's */
void xmpp_stream_set_proxy(xmpp_stream *st, int wid, uint64_t sid);
bool xmpp_stream_proxy(const xmpp_stream *st, int *wid, uint64_t *sid);
/* Holds the client's elements (in order) until released. */
void xmpp_stream_hold(xmpp_stream *st, bool on);
/* Counted pause/resume of reading, as the session's pause/resume. */
void xmpp_stream_pause_input(xmpp_stream *st, bool pause);
/* The resumption through another worker succeeded: no login timeout. */
void xmpp_stream_resumed_remote(xmpp_stream *st);

/* The stream's XML parser settings (transports build their own xstream). */
#define XMPP_STREAM_MAX_DEPTH 64

#endif
