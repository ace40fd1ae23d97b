/* module.h: the narrow interface between protocol features and the core.
 * Each module is one file exporting one descriptor (`const module mod_X`),
 * and one line in the built-in table (modules/builtin.c) turns it on. Its
 * init registers what it implements: iq handlers by payload namespace, disco
 * features, and hooks on the router's events (router/events.h). Modules
 * never see a transport and the router never names a module.
 *
 * Every registration is checked: a full table (EVENT_MAX_HOOKS hooks per
 * event, MODULE_MAX_HANDLERS namespaces, SESSION_SLOTS session slots)
 * makes modules_init() fail with a line naming the module, and plucsd does
 * not start. */
#ifndef PLUCS_MODULE_H
#define PLUCS_MODULE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "router/events.h"
#include "router/session.h"
#include "xml/xml.h"

typedef struct module {
    const char *name;
    /* Registers handlers, features and hooks; runs once, before the
     * workers start, in table order (which is also hook order). */
    void (*init)(void);
    /* After the workers stopped (NULL: nothing to free). */
    void (*shutdown)(void);
    /* On each worker thread after its loop ended (NULL: nothing). */
    void (*thread_exit)(void);
    /* Appends stream features offered after authentication (NULL: none). */
    void (*stream_features)(const session *s, buf *out);
    /* A per-session slot: the table assigns *slot before init and calls
     * slot_free(s->slots[*slot]) for a non-NULL value when a session ends. */
    int *slot;
    void (*slot_free)(void *data);
} module;

#define MODULE_MAX_HANDLERS 64
#define MODULE_MAX_FEATURES 64

/* iq is a get/set whose first child is in the registered namespace; `from`
 * is the sending session's full JID (stamped). The handler must send exactly
 * one reply (result or error) to s. iq is borrowed. */
typedef void (*iq_handler)(session *s, const xnode *iq, const xnode *payload);

/* Registration, from a module's init only. */
void module_register_iq(const char *ns, iq_handler handler);
/* Lets remote requesters (federation: s->remote, see session.h) reach the
 * handler of ns. The handler must then cope with s->bare and s->node being
 * NULL and apply its rules for strangers. Without it, a remote iq in ns is
 * answered forbidden (someone else's roster, private data, blocklist...:
 * RFC 6121 §2.1.5, XEP-0049, XEP-0191) and the handler never runs. */
void module_allow_remote(const char *ns);
/* A feature of the server's disco#info; the _when variant advertises it
 * only while on() says the current configuration switches it on. */
void module_add_feature(const char *var);
void module_add_feature_when(const char *var, bool (*on)(void));
/* A feature of every account (disco#info to a bare JID, XEP-0030): what
 * the server does on the account's behalf (XEP-0280 carbons, XEP-0313
 * archive...), advertised while on() (NULL: always). */
void module_add_account_feature(const char *var, bool (*on)(void));
void module_hook_stanza(stanza_event ev, stanza_hook fn);
void module_hook_session(session_event ev, session_hook fn);
void module_hook_undeliverable(undeliverable_hook fn);
void module_hook_snapshot(snapshot_hook fn);

/* A top-level element of an authenticated client stream that is not a
 * stanza (XEP-0352 <active/>/<inactive/>), by namespace; el is borrowed.
 * The stream layer hands such elements to module_stream_element(), which
 * returns false when no module took the namespace (the stream then ends
 * with unsupported-stanza-type). */
typedef void (*element_handler)(session *s, const xnode *el);
void module_register_element(const char *ns, element_handler fn);
bool module_stream_element(session *s, const xnode *el);

/* The registered features that are on now, for disco#info (the array is
 * the calling thread's, valid until its next call). */
const char *const *module_features(size_t *count);
const char *const *module_account_features(size_t *count);

/* Stream features the modules add after authentication; the daemon hands
 * this to the transports' stream layer, so neither side knows the other. */
void module_stream_features(const session *s, bool authed, buf *out);

/* Loads the modules of table (n entries) in order. 0, or -1 with a line in
 * err naming the module and the limit it hit (nothing stays registered). */
int modules_init(const module *const *table, size_t n, char *err, size_t errlen);
/* The built-in table (modules/builtin.c). */
extern const module *const builtin_modules[];
extern const size_t builtin_modules_count;
/* Shutdowns in reverse order, then forgets every registration. */
void modules_shutdown(void);
/* On each worker thread after its loop ended: frees outstanding jobs. */
void modules_thread_exit(void);

#endif
