/* push_state.h: what mod_push remembers in memory between the messages of
 * one absence (XEP-0357): per account the messages since its last session
 * became detached or went offline (message-count), the last sender and
 * body; per registration (account, app server, node) when the last push
 * left and whether a trailing push is scheduled (plucs/push/interval); and
 * the pushes waiting for the app server's answer. Shared by every worker
 * behind one mutex: only messages for absent accounts come here, never the
 * hot path of a connected session. Nothing here survives a restart (the
 * registrations themselves are in the store, store_push.h). */
#ifndef PLUCS_PUSH_STATE_H
#define PLUCS_PUSH_STATE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct push_summary {
    unsigned count;        /* messages since the account went away */
    char *sender;          /* last sender's bare JID (owned), or NULL */
    char *body;            /* last body (owned), or NULL */
} push_summary;

void push_summary_clear(push_summary *s);

/* A session of bare was bound: a new absence starts from zero. */
void push_state_reset(const char *bare);
/* One more message for absent bare from sender with body (copied). */
void push_state_note(const char *bare, const char *sender, const char *body);
/* A copy of bare's summary; false (out zeroed) when nothing is counted. */
bool push_state_summary(const char *bare, push_summary *out);

/* May a push for (bare, jid, node) leave at now_ms, at most one per
 * interval_ms? true: yes (recorded as sent). false: *wait_ms until it may;
 * *schedule is true for the caller that must arm the trailing timer (at
 * most one per registration at a time). */
bool push_state_may_send(const char *bare, const char *jid, const char *node, int64_t now_ms,
                         int64_t interval_ms, int64_t *wait_ms, bool *schedule);
/* The trailing timer of (bare, jid, node) fired: clears its flag and
 * records a push at now_ms. false when the registration was forgotten
 * meanwhile (disabled) or nothing is counted (the account came back). */
bool push_state_trailing(const char *bare, const char *jid, const char *node, int64_t now_ms);
/* Forgets the rate state of (bare, jid, node), or of every node of jid
 * when node is NULL (disabled). */
void push_state_forget(const char *bare, const char *jid, const char *node);

/* Pushes waiting for an answer: a bounded ring (the oldest are forgotten:
 * an app server that never answers costs nothing). */
uint64_t push_pending_add(const char *bare, const char *jid, const char *node);
/* Takes the pending push with this id (out strings owned by the caller);
 * false when unknown. */
bool push_pending_take(uint64_t id, char **bare, char **jid, char **node);

/* Frees everything (shutdown). */
void push_state_clear(void);

#endif
