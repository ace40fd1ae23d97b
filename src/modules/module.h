/* module.h: the narrow interface between protocol features and the core.
 * A module registers iq handlers by payload namespace and the disco
 * features it implements; the router calls module_handle_iq() for every
 * iq addressed to the server or to an account's bare JID. Modules never see
 * a transport. */
#ifndef PLUCS_MODULE_H
#define PLUCS_MODULE_H

#include <stdbool.h>
#include <stddef.h>

#include "router/session.h"
#include "xml/xml.h"

/* iq is a get/set whose first child is in the registered namespace; `from`
 * is the sending session's full JID (stamped). The handler must send exactly
 * one reply (result or error) to s. iq is borrowed. */
typedef void (*iq_handler)(session *s, const xnode *iq, const xnode *payload);

void module_register_iq(const char *ns, iq_handler handler);
void module_add_feature(const char *var);

/* Dispatches; returns false when no module handles the payload namespace. */
bool module_handle_iq(session *s, const xnode *iq);
/* The registered features, for disco#info. */
const char *const *module_features(size_t *count);

/* Hooks, called on the session's worker in registration order. */
typedef enum { HOOK_CONTINUE = 0, HOOK_STOP = 1 } hook_result;
/* A stanza from bound session s before routing ('from' stamped, 'to'
 * normalised or absent). HOOK_STOP: the module handled or refused it (and
 * answered when needed); the caller still frees st. */
typedef hook_result (*outbound_hook)(session *s, xnode *st);
/* A stanza about to be written to session s. HOOK_STOP: not delivered (the
 * module answers the sender when needed); the caller still frees st. */
typedef hook_result (*inbound_hook)(session *s, xnode *st);
/* Session life: bound (resource bound) and ended (any reason). */
typedef void (*session_hook)(session *s);

void module_hook_outbound(outbound_hook fn);
void module_hook_inbound(inbound_hook fn);
void module_hook_bound(session_hook fn);
void module_hook_ended(session_hook fn);
/* On every worker after it installed a new directory snapshot (old may be
 * NULL), or after a reload changed the configuration (old == snap). */
struct dir_snapshot;
struct config;
typedef void (*snapshot_hook)(const struct dir_snapshot *old, const struct config *old_cfg,
                              const struct dir_snapshot *snap);
void module_hook_snapshot(snapshot_hook fn);
void module_run_snapshot(const struct dir_snapshot *old, const struct config *old_cfg,
                         const struct dir_snapshot *snap);
hook_result module_run_outbound(session *s, xnode *st);
hook_result module_run_inbound(session *s, xnode *st);
void module_run_bound(session *s);
void module_run_ended(session *s);

/* Per-session module data: a module registers a slot once (at init) with a
 * destructor, then keeps its per-session pointer in s->slots[slot]. */
int module_slot_register(void (*free_fn)(void *data));
void module_slots_free(session *s);

/* Stream features the modules add (after authentication: roster
 * versioning, entity capabilities); the daemon hands this to the
 * transports' stream layer, so neither side knows the other. */
void module_stream_features(const session *s, bool authed, buf *out);

/* Registers every built-in module; once, before the workers start. */
void modules_init(void);
void modules_shutdown(void);
/* On each worker thread after its loop ended: frees outstanding jobs. */
void modules_thread_exit(void);

/* Built-in modules. */
void mod_ping_init(void);
void mod_disco_init(void);
void mod_session_init(void);
void mod_presence_init(void);
void mod_live_init(void);
void mod_vcard_init(void);
void mod_search_init(void);

#endif
