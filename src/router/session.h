/* session.h: the session object, the same for every transport (c2s TCP now;
 * BOSH and WebSocket later). A transport creates one per client stream and
 * fills in `ops`; the router and modules only use the functions here and
 * never know which transport is underneath. A session lives on exactly one
 * worker and is only touched on that worker's thread; other threads reach it
 * by (worker, id) through the worker's inbox. */
#ifndef PLUCS_SESSION_H
#define PLUCS_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/worker.h"
#include "xml/xml.h"
#include "xmpp/jid.h"

typedef struct session session;

#define SESSION_SLOTS 12     /* per-session data of modules (session_slot_register) */

typedef struct session_ops {
    /* Queue serialized stanza bytes for the client. */
    void (*write)(session *s, const char *data, size_t len);
    /* End the stream: with a stream error condition (NULL: a clean close)
     * and an optional text. The transport frees the session afterwards
     * (through session_free) once the bytes are flushed. */
    void (*close)(session *s, const char *condition, const char *text);
    /* Stop / restart reading the client's stanzas (e.g. until the store
     * committed an offline message of this sender). Counted: every pause
     * needs one resume. */
    void (*pause)(session *s);
    void (*resume)(session *s);
} session_ops;

struct session {
    uint64_t id;                /* unique for the process lifetime, never 0 */
    worker *w;
    const session_ops *ops;
    void *conn;                 /* the transport's object */
    char *domain;               /* the stream's domain (served) */
    char *node;                 /* localpart once authenticated */
    char *bare;                 /* node@domain once authenticated */
    char *resource;             /* once bound */
    char *full;                 /* bare/resource once bound */
    bool bound;
    bool available;             /* sent available presence */
    bool interested;            /* requested the roster: gets pushes */
    int priority;
    bool closing;
    /* A remote-origin pseudo-session (router.h): never bound; node, bare
     * and resource are NULL, full is the remote requester of the stanza
     * being handled, domain the served domain it addressed. Modules treat
     * it as a foreign requester. */
    bool remote;
    /* Stream management (XEP-0198): the connection is gone but the session
     * waits plucs/sm/timeout for a resumption; what is sent to it is kept
     * for the resumed stream (or offline storage at expiry). */
    bool detached;
    char lang[16];              /* the stream's xml:lang, "" when none */
    void *slots[SESSION_SLOTS];
};

/* Creates a session on the calling worker and registers it there. */
session *session_new(worker *w, const session_ops *ops, void *conn);
/* Unregisters (routes and worker table) and frees; on the session's worker. */
void session_free(session *s);
/* The session with this id on the calling worker, or NULL when it is gone. */
session *session_find(worker *w, uint64_t id);
/* A job for the session id on worker worker_id, from any thread: on that
 * worker's thread, fn(s, arg) runs when the session still exists (closing
 * or not: fn decides), else free_fn(arg). free_fn (NULL: nothing) also
 * consumes arg when the worker stopped before the job ran, then on the
 * posting thread; so arg is consumed exactly once. */
typedef void (*session_job_fn)(session *s, void *arg);
void session_post(int worker_id, uint64_t id, session_job_fn fn, void *arg,
                  void (*free_fn)(void *arg));

/* Serializes st (ns jabber:client in context) and writes it; for the
 * remote-origin pseudo-session, hands it to its route function instead.
 * st is borrowed. */
void session_send(session *s, const xnode *st);
/* Sends and frees. */
void session_send_free(session *s, xnode *st);

/* Binds a resource (already resourceprep'ed; NULL: a generated one).
 * A session with the same full JID is replaced: it is closed with the
 * `conflict` stream error. When the user already has plucs/c2s/max_sessions
 * resources (at most ROUTES_MAX_RESOURCES in any case), the oldest are
 * closed the same way, so the newest login always gets in. Sessions on
 * other workers are closed through their worker's inbox. 0 on success. */
int session_bind(session *s, const char *resource);

/* The calling worker's remote-origin pseudo-session (see `remote` above),
 * created on first use with ops; what is sent to it goes to route (the
 * router's, the same for every worker) instead of a socket. It is in the
 * worker's table, so asynchronous answers find it by id, but
 * sessions_each() skips it. Freed by session_thread_exit(). NULL on a
 * thread without a worker. */
typedef void (*session_route_fn)(session *s, const xnode *st);
session *session_remote(const session_ops *ops, session_route_fn route);

/* Calls fn for every session of worker w (on w's thread); fn may close.
 * The remote-origin pseudo-session is not one of them. */
void sessions_each(worker *w, void (*fn)(session *s, void *ud), void *ud);

/* Per-session data of modules: a module gets a slot index once, before the
 * workers start, with the destructor session_free() calls for a non-NULL
 * s->slots[slot]. -1 when all SESSION_SLOTS are taken. */
int session_slot_register(void (*free_fn)(void *data));
/* Forgets every registration (shutdown, tests). */
void session_slots_reset(void);

/* Per-worker tables; called once before the workers start. */
void sessions_init(int nworkers);
void sessions_shutdown(void);
/* Frees the calling thread's scratch buffer and its remote-origin
 * pseudo-session (worker exit). */
void session_thread_exit(void);

#endif
