/* adhoc.h: what the files of the ad-hoc commands module share (XEP-0050
 * Ad-Hoc Commands 1.3.0 carrying the XEP-0133 Service Administration 1.3.1
 * command set). mod_adhoc.c receives <command/> iqs, checks who may run
 * them and drives the stages; adhoc_session.c keeps the open command
 * sessions of each worker; adhoc_form.c builds and reads XEP-0004 data
 * forms; adhoc_admin.c and adhoc_motd.c are the commands themselves.
 *
 * A command runs in at most two stages: start (execute without a
 * session) either completes at once or answers a form and opens a command
 * session; submit (complete/execute with that session's id and a submitted
 * form) completes. Each stage ends with exactly one adhoc_reply_*() call,
 * possibly later (after the store answered): the request is heap owned and
 * the reply frees it. Everything runs on the requesting session's worker. */
#ifndef PLUCS_ADHOC_H
#define PLUCS_ADHOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/session.h"
#include "xml/xml.h"

#define NS_COMMANDS "http://jabber.org/protocol/commands"
#define NS_XDATA "jabber:x:data"
#define NS_ADMIN "http://jabber.org/protocol/admin"

typedef struct adhoc_req adhoc_req;

typedef struct adhoc_cmd {
    const char *node;       /* NS_ADMIN "#announce" ... */
    const char *name;       /* shown in clients' menus */
    void (*start)(adhoc_req *r);
    /* NULL: a one-stage command (start always completes) */
    void (*submit)(adhoc_req *r, const xnode *form);
} adhoc_cmd;

struct adhoc_req {
    uint64_t sid;           /* the requesting session */
    char *bare;             /* its account, for logs */
    xnode *iq;              /* envelope of the request (iq_envelope) */
    const adhoc_cmd *cmd;
    char *domain;           /* the served domain the command was sent to */
    char sessionid[24];
};

/* The commands (adhoc_admin.c, adhoc_motd.c), NULL-terminated lists. */
extern const adhoc_cmd *const adhoc_admin_cmds[];
extern const adhoc_cmd *const adhoc_motd_cmds[];

/* EV_AVAILABLE: the domain's message of the day for s if its user has not
 * seen this version (adhoc_motd.c). */
void adhoc_motd_deliver(session *s);

/* Replies (mod_adhoc.c); each frees r. */
/* status executing with form (taken) and the complete action; the command
 * session stays open for the submit stage. */
void adhoc_reply_form(adhoc_req *r, xnode *form);
/* status completed, with a result form (taken, may be NULL) and a note
 * (type "info", "warn" or "error"; NULL text: none). */
void adhoc_reply_done(adhoc_req *r, xnode *form, const char *note_type, const char *note);
/* An iq error with XEP-0050's specific condition (NULL: none). Logged. */
void adhoc_reply_error(adhoc_req *r, const char *type, const char *condition,
                       const char *specific, const char *why);
/* Frees a request without replying (an adhoc_req *; usable as the drop
 * function of an asynchronous call: the worker stopped first). */
void adhoc_req_free(void *r);
/* The requesting session when it is still there (else NULL). */
session *adhoc_req_session(const adhoc_req *r);

/* Open command sessions of the calling worker (adhoc_session.c). A
 * session is (owner session id, sessionid); at most ADHOC_MAX_PER_SESSION
 * per client session (opening one more closes its oldest) and
 * ADHOC_MAX_PER_WORKER in all (then opening fails); each expires
 * ADHOC_TTL seconds after it was opened. */
#define ADHOC_MAX_PER_SESSION 4
#define ADHOC_MAX_PER_WORKER 1024
#define ADHOC_TTL 600
typedef enum { ADHOC_FOUND, ADHOC_UNKNOWN, ADHOC_EXPIRED } adhoc_lookup;
/* Opens one for cmd and domain; false when the worker's table is full. */
bool adhoc_session_open(uint64_t sid, const char *id, const adhoc_cmd *cmd, const char *domain);
/* Looks it up and closes it (found or expired); *cmd and *domain (malloc'ed)
 * are what it was opened with when found. */
adhoc_lookup adhoc_session_take(uint64_t sid, const char *id, const adhoc_cmd **cmd,
                                char **domain);
/* Closes every one of a client session (it ended). */
void adhoc_session_drop_all(uint64_t sid);
size_t adhoc_session_count(uint64_t sid);
void adhoc_sessions_thread_exit(void);

/* Data forms (adhoc_form.c), pure. */
/* A new <x xmlns='jabber:x:data' type=type> with title, optional
 * instructions and the FORM_TYPE hidden field of NS_ADMIN. */
xnode *adhoc_form_new(const char *type, const char *title, const char *instructions);
/* Adds a field; values: text split at newlines into one <value/> each
 * for text-multi/jid-multi, else one <value/> (NULL: none). */
xnode *adhoc_form_field(xnode *x, const char *var, const char *type, const char *label,
                        const char *value, bool required);
/* The submitted form of a <command/>: its jabber:x:data <x type='submit'/>
 * whose FORM_TYPE (when present) is NS_ADMIN; NULL otherwise. */
const xnode *adhoc_form_submitted(const xnode *command);
/* The values of field var joined with '\n' (malloc'ed), NULL when the
 * field is absent. More than max values, or a value longer than maxlen
 * bytes: NULL and *bad = true. */
char *adhoc_form_text(const xnode *x, const char *var, size_t max, size_t maxlen, bool *bad);

#endif
