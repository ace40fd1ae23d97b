/* router.h: where every stanza goes (RFC 6120 §10, RFC 6121 §8). The path
 * of a client stanza is one line:
 *
 *   transport -> router_from_session -> EV_OUTBOUND -> resolve 'to'
 *     -> [presence/iq for the server: EV_PRESENCE_*, EV_SERVER_IQ]
 *     -> policy_check (verdict; the router bounces) -> locator -> worker
 *     -> EV_INBOUND -> session_send -> transport
 *
 * with EV_UNDELIVERABLE when a message finds no resource. The router knows
 * no XEP: presence, offline storage, blocking... hang on the events of
 * router/events.h. It finds sessions only through the locator
 * (router/locator.h). */
#ifndef PLUCS_ROUTER_H
#define PLUCS_ROUTER_H

#include <stdbool.h>

#include "directory/directory.h"
#include "router/locator.h"
#include "router/session.h"
#include "xml/xml.h"

/* A stanza from a bound client session; takes ownership. */
void router_from_session(session *s, xnode *st);
/* A stanza with trusted from/to (server-generated or already stamped);
 * takes ownership. Passes the policy stage like any other. */
void router_route(xnode *st);
/* A stanza from a service domain (services.h: the MUC room to its
 * occupants) that applied the policy stage itself where it belongs:
 * routed without a second verdict; takes ownership. */
void router_route_service(xnode *st);
/* A message a module held back at EV_MESSAGE_ROUTED (after the policy
 * stage passed it) sent on again from the start of that event: origin is
 * the sending session when it is still there, else NULL. st taken. */
void router_reroute(xnode *st, session *origin);
/* A stanza from a remote server (the federation transport, s2s.h): its
 * 'from' domain was authenticated on the stream and its 'to' is a domain
 * served here; takes ownership. The remote sender counts as a user in no
 * group for the policy stage. RFC 6121 server rules for remote parties:
 * an iq get/set to the server or an account's bare JID is answered by the
 * modules (EV_SERVER_IQ with the remote-origin pseudo-session, answers
 * routed back); presence to an account fires EV_REMOTE_PRESENCE
 * (subscriptions, probes, who may receive it); the rest is routed like
 * any stanza (offline storage, blocking, RFC 6121 §8 errors). A stanza
 * not for a served domain, or claiming to come from one, is dropped. */
void router_from_remote(xnode *st);
/* The calling worker's remote-origin pseudo-session (session.h), set up
 * for a request from `from` (a remote JID) to served domain `domain`;
 * what a module sends to it is routed (to its 'to', else to `from`). */
session *router_remote_session(const char *from, const char *domain);
/* Answers st with a stanza error routed back to its sender (st borrowed).
 * Error replies are never filtered. */
void router_bounce(const xnode *st, const char *type, const char *condition, const char *text);

/* A session's resource was bound (the stream layer calls this): EV_BOUND. */
void router_session_bound(session *s);
/* A presence with 'to' on behalf of s that does not come from its client
 * (e.g. roster removal cancelling subscriptions): EV_PRESENCE_DIRECTED,
 * then routing. st borrowed. */
void router_session_presence(session *s, const xnode *st);

/* The resources bound for bare, through the locator (see locator.h). */
size_t router_resources(const char *bare, struct route_ref *out, size_t max);
/* Delivers st (ownership passes) to the session named by r, posting to its
 * worker when needed; a missing 'to' becomes the session's full JID. */
void router_deliver_ref(const struct route_ref *r, xnode *st);

/* Called by a locator on the target session's worker: st (owned) arrives
 * at live session s (EV_INBOUND, then written); or the session ended while
 * st travelled: a message is delivered as if sent to the bare JID, an iq
 * answered with service-unavailable. */
void router_deliver_session(session *s, xnode *st);
void router_session_gone(xnode *st);

/* The account with this bare JID ("uid@domain") in the calling worker's
 * snapshot, or NULL. */
const dir_account *router_account(const char *bare);

/* Whether the calling worker's directory snapshot serves domain. */
bool router_serves(const char *domain);
/* The calling worker's snapshot (borrowed; valid until the worker's next
 * loop turn). Threads without a worker (tests, tools) see the one given to
 * router_set_snapshot(). */
const dir_snapshot *router_snapshot(void);

/* After a reload: every worker re-checks its sessions against the new
 * configuration (roster scope, labels). old stays valid (configs are kept). */
void router_config_changed(const config *old);

/* Set up per-worker state and hook into the directory's snapshots. */
void router_init(int nworkers);
void router_shutdown(void);

/* Seams for tests and a later cluster back end: where sessions are found
 * (NULL: locator_local), and the snapshot of threads without a worker
 * (borrowed; NULL to clear). */
void router_set_locator(const session_locator *l);
void router_set_snapshot(const dir_snapshot *snap);

#endif
