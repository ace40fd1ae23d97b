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

/* Registers every built-in module; once, before the workers start. */
void modules_init(void);
void modules_shutdown(void);

/* Built-in modules. */
void mod_ping_init(void);
void mod_disco_init(void);
void mod_session_init(void);

#endif
