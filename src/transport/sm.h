/* sm.h: XEP-0198 stream management for client streams (TCP/TLS and
 * WebSocket; BOSH and polling have their own acknowledgements and do not
 * offer it). Split in two:
 *   - sm_queue (sm_queue.c): the pure counting logic, unit tested: the
 *     inbound handled-stanza counter and the outbound queue of serialized
 *     stanzas kept until the client acknowledges them, 32-bit wraparound.
 *   - sm (sm.c): the protocol on a stream (<enable/>, <r/>, <a/>,
 *     <resume/>), detaching a session whose connection broke, resumption
 *     and expiry (unacknowledged messages rerouted, never lost silently).
 * xmpp_stream.c calls the sm_stream_* hooks; nothing above the transport
 * knows about SM except session.detached and the route flag. */
#ifndef PLUCS_SM_H
#define PLUCS_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "router/session.h"
#include "xml/xml.h"

#define NS_SM "urn:xmpp:sm:3"

/* ---- pure logic (sm_queue.c) ---- */

typedef struct sm_item {
    struct sm_item *next;
    int64_t t_ms;           /* when it was written */
    size_t len;
    char data[];            /* the serialized stanza */
} sm_item;

typedef struct sm_queue {
    sm_item *head, *tail;
    uint32_t sent;          /* stanzas sent since <enable/> (mod 2^32) */
    uint32_t acked;         /* the client's last h */
    uint32_t handled;       /* inbound: the client's stanzas we handled */
    size_t count;           /* items queued: sent - acked */
    size_t bytes;
} sm_queue;

void sm_queue_init(sm_queue *q);
/* Keeps a copy of one stanza sent to the client (counts it). */
void sm_queue_push(sm_queue *q, const char *data, size_t len, int64_t now_ms);
/* The client's <a h/>: drops what it acknowledges. -1 when h acknowledges
 * more than was sent (XEP-0198 §4: undefined-condition), queue untouched. */
int sm_queue_ack(sm_queue *q, uint32_t h);
/* Removes and returns the oldest item (caller frees), NULL when empty. */
sm_item *sm_queue_pop(sm_queue *q);
void sm_queue_clear(sm_queue *q);
/* Parses an h attribute (decimal, 0 .. 2^32-1); -1 when malformed. */
int sm_parse_h(const char *s, uint32_t *out);

/* ---- the protocol (sm.c) ---- */

typedef struct sm_state sm_state;
typedef struct xmpp_stream xmpp_stream;

/* Appends <sm xmlns='urn:xmpp:sm:3'/> to authenticated stream features
 * when plucs/sm is on and the transport supports it. */
void sm_features(const xmpp_stream *st, bool authed, buf *out);
/* An element in the urn:xmpp:sm:3 namespace from the client (authed
 * stream); borrowed. */
void sm_element(xmpp_stream *st, const xnode *el);
/* Bind 2 (XEP-0386): enables SM for a session just bound inline; the
 * <enabled/> (or <failed/>) is appended to out (inside <bound/>). */
void sm_enable_inline(xmpp_stream *st, bool resume, buf *out);
/* The stream handled one inbound stanza (message, presence, iq). */
void sm_stanza_handled(xmpp_stream *st);
/* One stanza written to the client: kept until acknowledged. */
void sm_stanza_written(xmpp_stream *st, const char *data, size_t len);
/* The stream is being freed. Returns true when its session was taken
 * over (detached: the connection broke and resumption is enabled); the
 * stream must then not free the session. */
bool sm_stream_free(xmpp_stream *st, bool lost);

/* The stream's connection broke but the stream is closed, not freed, by
 * its transport: detaches a resumable session at once. */
void sm_connection_lost(xmpp_stream *st);

/* A stream resumed on another worker than its session's (sm_pipe.c): an
 * element from its client (owned); the stream is being freed (lost:
 * without a close). */
void sm_proxy_element(xmpp_stream *st, xnode *el);
void sm_proxy_gone(xmpp_stream *st, bool lost);

/* Frees every detached session of the calling worker (worker cleanup). */
void sm_worker_cleanup(void);

/* Status: calls fn for each detached session of the calling worker. */
void sm_each_detached(void (*fn)(const session *s, int seconds_left, void *ud), void *ud);

#endif
