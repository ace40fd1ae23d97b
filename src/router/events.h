/* events.h: the named events of the stanza path, and the hooks modules hang
 * on them. The router knows no XEP: it resolves, asks the policy stage and
 * delivers, and at each point where IM behaviour belongs it fires one of
 * these events. Presence, offline storage, blocking, rosters... are modules
 * (module.h of the modules folder) that register hooks here at start-up, via their
 * descriptor's init. Hooks run on the worker of the session concerned, in
 * registration order, so the built-in table's order is the run order.
 *
 * The tables are filled once before the workers start and only read
 * afterwards, so workers read them without locks. A registration beyond
 * EVENT_MAX_HOOKS fails (returns -1); the module table turns that into a
 * start-up error naming the module, never a silently missing hook. */
#ifndef PLUCS_EVENTS_H
#define PLUCS_EVENTS_H

#include "router/session.h"
#include "xml/xml.h"

#define EVENT_MAX_HOOKS 16

typedef enum { HOOK_CONTINUE = 0, HOOK_STOP = 1 } hook_result;

/* Events that carry a session and a stanza. The stanza is borrowed: the
 * router frees it after the event (a hook that keeps it makes a copy).
 * HOOK_STOP ends the event: the stanza was handled or refused (and the
 * hook answered when an answer is due); later hooks do not see it. */
typedef enum stanza_event {
    /* From bound session s before routing ('from' stamped, 'to' prepared
     * or absent). HOOK_STOP: not routed. */
    EV_OUTBOUND = 0,
    /* A presence without 'to' from s (availability, RFC 6121 §4.2, §4.5):
     * whoever handles it broadcasts; nobody: dropped. */
    EV_PRESENCE_BROADCAST,
    /* A presence with 'to' a user or resource (directed, probe,
     * subscription) from s. HOOK_STOP: handled; CONTINUE: the router
     * routes it like any stanza. */
    EV_PRESENCE_DIRECTED,
    /* An iq get/set for the server or for an account's bare JID from s.
     * HOOK_STOP: answered; nobody: the router answers service-unavailable. */
    EV_SERVER_IQ,
    /* A stanza about to be written to s. HOOK_STOP: not delivered. */
    EV_INBOUND,
    /* A presence from a remote server (federation) addressed to an
     * account of a served domain ('from' and 'to' prepared); s is the
     * worker's remote-origin pseudo-session (session.h). Subscriptions and
     * probes are the server's business (RFC 6121 §3, §4.3). HOOK_STOP:
     * handled or dropped; CONTINUE: the router routes it like any stanza
     * (EV_REMOTE_PRESENCE is fired for iq-less presence only). */
    EV_REMOTE_PRESENCE,
    /* A message passed the policy stage and is about to go to an account
     * of a served domain or to a remote domain (fired once per message,
     * before the resources are picked or offline storage runs); s is the
     * local sending session, or NULL (remote sender, server, rerouted).
     * Hooks may add elements (XEP-0359 stanza-id) but not readdress it.
     * Message archive (XEP-0313) and carbons (XEP-0280) hang here.
     * HOOK_STOP: not routed (the hook answered when due). */
    EV_MESSAGE_ROUTED,
    /* An iq result or error addressed to the server itself (a served
     * domain, no localpart): the answer to an iq a module sent from the
     * server (XEP-0357 push notifications). s is the local sending session,
     * or the remote-origin pseudo-session (federation). Nobody: consumed. */
    EV_SERVER_IQ_REPLY,
    EV_STANZA_COUNT
} stanza_event;
typedef hook_result (*stanza_hook)(session *s, xnode *st);

/* Session life: resource bound; first available presence sent (after the
 * broadcast); ended for any reason (before the session is freed). */
typedef enum session_event {
    EV_BOUND = 0,
    EV_AVAILABLE,
    EV_ENDED,
    EV_SESSION_COUNT
} session_event;
typedef void (*session_hook)(session *s);

/* A message for an account (bare JID `bare`) that has no resource to take
 * it (RFC 6121 §8.5.2.2). origin is the sending client session, or NULL for
 * server-generated traffic and stanzas rerouted from a session that ended.
 * st is borrowed. HOOK_STOP: taken care of (stored, or refused with an
 * answer); nobody: the router answers service-unavailable. */
typedef hook_result (*undeliverable_hook)(session *origin, xnode *st, const char *bare);

/* On every worker after it installed a new directory snapshot (old may be
 * NULL), or after a reload changed the configuration (old == snap). */
struct dir_snapshot;
struct config;
typedef void (*snapshot_hook)(const struct dir_snapshot *old, const struct config *old_cfg,
                              const struct dir_snapshot *snap);

/* Registration: 0, or -1 when the event already has EVENT_MAX_HOOKS. */
int events_on_stanza(stanza_event ev, stanza_hook fn);
int events_on_session(session_event ev, session_hook fn);
int events_on_undeliverable(undeliverable_hook fn);
int events_on_snapshot(snapshot_hook fn);

/* Firing (the router, and modules that own an event such as presence's
 * EV_AVAILABLE). */
hook_result events_stanza(stanza_event ev, session *s, xnode *st);
void events_session(session_event ev, session *s);
hook_result events_undeliverable(session *origin, xnode *st, const char *bare);
void events_snapshot(const struct dir_snapshot *old, const struct config *old_cfg,
                     const struct dir_snapshot *snap);

/* Forgets every hook (shutdown, tests). */
void events_reset(void);

#endif
