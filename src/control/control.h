/* control.h: the control socket, <plucs/rundir>/control, through which the
 * `plucs` tool talks to a running plucsd (reload, status, explain). It is a
 * UNIX stream socket (mode 0660) served by the main thread's event base; a
 * request is one line, an answer a few lines (docs/operations.md, "The
 * control socket"):
 *
 *   request   reload | status | explain FROM TO | matrix [DOMAIN] | help
 *   answer    "ok" or "error: TEXT", then body lines, then "." alone; a body
 *             line that starts with '.' is sent with one more '.' in front
 *             (SMTP's dot-stuffing), so "." can only be the end.
 *
 * Four parts, one file each: control.c (socket and clients), control_proto.c
 * (the pure line protocol, shared with the client in src/cli),
 * control_status.c (collecting session counts from the workers) and
 * control_explain.c (the communication restrictions of a snapshot in words;
 * `plucs explain --offline` uses the same code on a snapshot it compiled
 * itself, so both answers read alike). They live in src/control/, not
 * src/core/, because they read the router's sessions and the directory's
 * snapshot: core stays below every other layer. */
#ifndef PLUCS_CONTROL_H
#define PLUCS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "directory/directory.h"

struct event_base;

#define CONTROL_SOCKET_NAME  "control"
#define CONTROL_LINE_MAX     1024   /* request bytes before the newline */
#define CONTROL_MAX_CLIENTS  16     /* more are answered with an error and closed */
#define CONTROL_IDLE_S       10     /* idle client / stalled write */
#define CONTROL_MAX_ARGS     2

/* ---- the server (control.c, main thread only) ---- */

/* The daemon's reload (the same as SIGHUP): re-read the registry and apply
 * waiting directory changes. report(ud, line) runs once per problem or note;
 * returns 0 when the registry was applied, -1 when it was refused (the
 * daemon keeps its configuration). */
typedef int (*control_reload_fn)(void (*report)(void *ud, const char *line), void *ud);

/* Creates rundir if needed and listens on rundir/control (a stale socket is
 * replaced; one a live daemon answers on is left alone and -1 returned).
 * Logs its problems. 0 or -1; the daemon runs on without it on failure. */
int control_start(struct event_base *base, const char *rundir, control_reload_fn reload);
/* Closes every client and the socket and removes the socket file (only if it
 * is still ours). Call after workers_join() (status jobs posted to workers
 * are then all answered or dropped) and before the base is freed. */
void control_stop(void);

/* ---- the line protocol (control_proto.c, pure) ---- */

typedef enum {
    CONTROL_RELOAD, CONTROL_STATUS, CONTROL_EXPLAIN, CONTROL_MATRIX, CONTROL_HELP,
} control_cmd;

typedef struct control_request {
    control_cmd cmd;
    int argc;
    const char *argv[CONTROL_MAX_ARGS];   /* point into the parsed line */
} control_request;

/* Parses one request line (without its '\n'; a trailing '\r' is ignored),
 * splitting it in place. Returns 0 with req filled, 1 for an empty line
 * (nothing to answer), -1 with one line of explanation in err. */
int control_parse(char *line, control_request *req, char *err, size_t errlen);
/* The help text (lines, '\n'-separated). */
const char *control_help(void);

/* Writing an answer: begin with error == NULL for "ok", then lines (text may
 * hold several '\n'-separated lines; each is dot-stuffed), then end. */
void control_reply_begin(buf *out, const char *error);
void control_reply_lines(buf *out, const char *text);
void control_reply_end(buf *out);

/* Reading an answer (the client side). */
typedef struct control_reply {
    bool ok;
    char *error;       /* the text after "error: " (malloc'ed) when !ok */
    buf body;          /* body lines, unstuffed, each ending in '\n' */
} control_reply;

/* Scans data[0..len). Returns the number of bytes of a complete answer (r
 * filled; release with control_reply_clear), 0 when more bytes are needed,
 * -1 when it is not an answer of this protocol. */
long control_reply_parse(const char *data, size_t len, control_reply *r);
void control_reply_clear(control_reply *r);

/* `key: value` lines (the status body) as one JSON object; values that are
 * decimal integers become numbers, everything else a string. */
void control_status_json(const char *text, buf *out);

/* ---- status (control_status.c, main thread) ---- */

typedef struct control_status_job control_status_job;

/* Starts collecting the session counts: a job is posted to every worker (a
 * worker's session table is read on its own thread only); done(ud, text)
 * runs on base's thread once all answered, text being the status body
 * (borrowed for the call). The job frees itself after done. */
control_status_job *control_status_start(struct event_base *base,
                                         void (*done)(void *ud, const char *text), void *ud);
/* The asker went away: done will not run; the job frees itself later. */
void control_status_cancel(control_status_job *j);
/* Frees what is left of jobs; after workers_join(), before the base goes. */
void control_status_shutdown(void);
/* Records the start time for the uptime (control_start calls it). */
void control_status_started(void);

/* ---- explanations (control_explain.c, pure) ---- */

typedef struct control_explain_ctx {
    const dir_snapshot *snap;
    bool msg_allow, pres_allow;   /* the policies the snapshot was compiled with */
    const char *source;           /* "running server", "directory (offline)" */
    /* Names in g's message (presence == false) or presence list that are not
     * XMPP groups and were therefore ignored, as "a, b"; NULL when none or
     * unknown. The snapshot holds only the resolved lists, so only callers
     * that read the raw entries (the offline compiler) can say. May be NULL. */
    const char *(*ignored)(void *ud, const dir_group *g, bool presence);
    void *ignored_ud;
} control_explain_ctx;

/* FROM and TO (user@domain, or a uid that is an account in exactly one
 * served domain): message in both directions and presence seen by each,
 * allowed or refused, and why. Returns 0 with the text appended to out, or
 * -1 with one line in err (not an account, ambiguous ...). */
int control_explain(const control_explain_ctx *c, const char *from, const char *to,
                    buf *out, char *err, size_t errlen);
/* The group x group table of what members may do (domain: only the groups
 * with members in that served domain; NULL: every group). 0, or -1 with err. */
int control_matrix(const control_explain_ctx *c, const char *domain, buf *out,
                   char *err, size_t errlen);

#endif
