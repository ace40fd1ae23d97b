/* sm_internal.h: what sm.c (the protocol, detaching, expiry) and
 * sm_pipe.c (resumption on another worker) share. Not for other files. */
#ifndef PLUCS_SM_INTERNAL_H
#define PLUCS_SM_INTERNAL_H

#include "transport/sm.h"
#include "transport/xmpp_stream.h"

typedef struct sm_pipe sm_pipe;

/* The SM state of one session; lives on the session's worker. It is
 * attached to a stream of that worker (st), to a stream of another worker
 * through a pipe (pipe), or to neither (detached, or ending). */
struct sm_state {
    sm_queue q;
    session *s;
    xmpp_stream *st;
    sm_pipe *pipe;
    bool resume;
    bool listed;             /* in the worker's list (no stream of its own) */
    bool detached;           /* ... because it waits for a resumption */
    bool ending;             /* inside session_end(): the session is being freed */
    int max;                 /* negotiated resumption timeout, seconds */
    char id[96];
    struct event *tick;      /* attached: ack requests and their deadline */
    struct event *expire;    /* detached: the end of the wait; any: ending */
    uint32_t since_r;        /* stanzas sent since the last <r/> */
    int64_t r_sent_ms;       /* an <r/> waits for its <a/> since then; 0: none */
    int64_t detached_ms;
    sm_state *next, **prev;  /* the worker's list */
};

int64_t sm_now_ms(void);
/* Bytes (not counted) to the client, wherever it is attached. */
void sm_out(sm_state *sm, const char *data, size_t len);
/* One stanza written to the client: kept, counted, acks requested. */
void sm_written(sm_state *sm, const char *data, size_t len);
/* <r/> and <a/> from the client of an attached session. */
void sm_attached_element(sm_state *sm, const xnode *el);
/* Moves s into the detached state (its stream or pipe is gone). */
void sm_detach(sm_state *sm, session *s);
/* Ends the session on the next loop turn (normal end, reroutes). */
void sm_end_soon(sm_state *sm);
/* Finds the session previd names on the calling worker, for bare; takes
 * it over (closes an old stream or pipe silently, stops the detached
 * wait) and applies the client's h; the caller attaches it. NULL when
 * refused (*bad_h: the client's h acknowledges more than was sent). */
sm_state *sm_take_for_resume(const char *previd, const char *bare, uint32_t h,
                             bool *bad_h);
/* The <resumed/> answer; then sm_resend() writes every unacknowledged
 * stanza again, in order. */
void sm_resumed_bytes(sm_state *sm, buf *out);
void sm_resend(sm_state *sm);
/* Metrics, log and ack request after a resumption. */
void sm_after_resume(sm_state *sm);
void sm_list_add(sm_state *sm);
void sm_list_remove(sm_state *sm);

/* sm_pipe.c */
/* On the new stream's worker: asks worker wid to resume previd. */
void sm_pipe_request(xmpp_stream *st, int wid, const char *previd, uint32_t h);
/* On the session's worker: the pipe's side of sm_out / closing. */
void sm_pipe_send(sm_state *sm, const char *data, size_t len);
void sm_pipe_close(sm_state *sm, const char *condition, const char *text);
void sm_pipe_free(sm_state *sm);
/* The SM state of a session attached through a pipe, else NULL. */
sm_state *sm_pipe_state_of(const session *s);

#endif
