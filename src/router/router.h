/* router.h: where every stanza goes (RFC 6120 §10, RFC 6121 §8). A
 * transport hands each client stanza to router_from_session(); the router
 * stamps the sender, then delivers to a local session (posting to its
 * worker when needed), to a server module, or answers with an error. One
 * path for every stanza, whatever transport it came from. The policy step
 * (plucs/mod/filter) sits in router_route() before local delivery. */
#ifndef PLUCS_ROUTER_H
#define PLUCS_ROUTER_H

#include <stdbool.h>

#include "directory/directory.h"
#include "router/session.h"
#include "xml/xml.h"

/* A stanza from a bound client session; takes ownership. */
void router_from_session(session *s, xnode *st);
/* A stanza with trusted from/to (server-generated or already stamped);
 * takes ownership. */
void router_route(xnode *st);
/* Answers st with a stanza error routed back to its sender (st borrowed). */
void router_bounce(const xnode *st, const char *type, const char *condition, const char *text);

/* Delivers st (ownership passes) to the session named by r, posting to its
 * worker when needed; a missing 'to' becomes the session's full JID. */
struct route_ref;
void router_deliver_ref(const struct route_ref *r, xnode *st);
/* The client session whose stanza is being routed on this thread right now
 * (NULL for server-generated traffic). */
session *router_origin(void);

/* The account with this bare JID ("uid@domain") in the calling worker's
 * snapshot, or NULL. */
const dir_account *router_account(const char *bare);

/* Whether the calling worker's directory snapshot serves domain. */
bool router_serves(const char *domain);
/* The calling worker's snapshot (borrowed; valid until the worker's next
 * loop turn). */
const dir_snapshot *router_snapshot(void);

/* After a reload: every worker re-checks its sessions against the new
 * configuration (roster scope, labels). old stays valid (configs are kept). */
void router_config_changed(const config *old);

/* Set up per-worker state and hook into the directory's snapshots. */
void router_init(int nworkers);
void router_shutdown(void);

#endif
