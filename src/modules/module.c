/* module.c: loading the module table (see module.h): the iq handler table,
 * the feature list, and the checked registration of hooks and session
 * slots. Filled once at start-up and read-only afterwards, so workers read
 * it unlocked. */
#include "modules/module.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "modules/async_job.h"
#include "xmpp/stanza.h"

static struct {
    const char *ns;
    iq_handler fn;
    bool remote;           /* module_allow_remote() */
} handlers[MODULE_MAX_HANDLERS];
static size_t nhandlers;
static const char *features[MODULE_MAX_FEATURES];
static bool (*feature_on[MODULE_MAX_FEATURES])(void);
static size_t nfeatures;
static const char *account_features[MODULE_MAX_FEATURES];
static bool (*account_feature_on[MODULE_MAX_FEATURES])(void);
static size_t naccount_features;
#define MODULE_MAX_ELEMENTS 8
static struct {
    const char *ns;
    element_handler fn;
} elements[MODULE_MAX_ELEMENTS];
static size_t nelements;

static const module *const *loaded;   /* the table modules_init() loaded */
static size_t nloaded;

/* The module whose init runs, and the first registration that failed. */
static const module *current;
static char failure[200];

static void fail(const char *what, int limit)
{
    if (!failure[0])
        snprintf(failure, sizeof failure, "module %s: cannot register %s (limit %d reached)",
                 current ? current->name : "?", what, limit);
}

void module_register_iq(const char *ns, iq_handler handler)
{
    if (nhandlers >= MODULE_MAX_HANDLERS) {
        fail("an iq handler", MODULE_MAX_HANDLERS);
        return;
    }
    handlers[nhandlers].ns = ns;
    handlers[nhandlers].fn = handler;
    handlers[nhandlers].remote = false;
    nhandlers++;
}

void module_allow_remote(const char *ns)
{
    for (size_t i = 0; i < nhandlers; i++)
        if (!strcmp(handlers[i].ns, ns))
            handlers[i].remote = true;
}

void module_add_feature_when(const char *var, bool (*on)(void))
{
    if (nfeatures >= MODULE_MAX_FEATURES) {
        fail("a disco feature", MODULE_MAX_FEATURES);
        return;
    }
    feature_on[nfeatures] = on;
    features[nfeatures++] = var;
}

void module_add_feature(const char *var) { module_add_feature_when(var, NULL); }

void module_add_account_feature(const char *var, bool (*on)(void))
{
    if (naccount_features >= MODULE_MAX_FEATURES) {
        fail("an account disco feature", MODULE_MAX_FEATURES);
        return;
    }
    account_feature_on[naccount_features] = on;
    account_features[naccount_features++] = var;
}

void module_register_element(const char *ns, element_handler fn)
{
    if (nelements >= MODULE_MAX_ELEMENTS) {
        fail("a stream element handler", MODULE_MAX_ELEMENTS);
        return;
    }
    elements[nelements].ns = ns;
    elements[nelements].fn = fn;
    nelements++;
}

bool module_stream_element(session *s, const xnode *el)
{
    for (size_t i = 0; i < nelements; i++) {
        if (!strcmp(elements[i].ns, el->ns)) {
            elements[i].fn(s, el);
            return true;
        }
    }
    return false;
}

void module_hook_stanza(stanza_event ev, stanza_hook fn)
{
    if (events_on_stanza(ev, fn) != 0)
        fail("a stanza event hook", EVENT_MAX_HOOKS);
}

void module_hook_session(session_event ev, session_hook fn)
{
    if (events_on_session(ev, fn) != 0)
        fail("a session event hook", EVENT_MAX_HOOKS);
}

void module_hook_undeliverable(undeliverable_hook fn)
{
    if (events_on_undeliverable(fn) != 0)
        fail("an undeliverable-message hook", EVENT_MAX_HOOKS);
}

void module_hook_snapshot(snapshot_hook fn)
{
    if (events_on_snapshot(fn) != 0)
        fail("a snapshot hook", EVENT_MAX_HOOKS);
}

/* Only the features whose condition holds now (a reload may change it),
 * in a per-thread array. */
static const char *const *filtered(const char *const *all, bool (*const *cond)(void), size_t n,
                                   const char **on, size_t *count)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!cond[i] || cond[i]())
            on[k++] = all[i];
    *count = k;
    return on;
}

const char *const *module_features(size_t *count)
{
    static __thread const char *on[MODULE_MAX_FEATURES];
    return filtered(features, feature_on, nfeatures, on, count);
}

const char *const *module_account_features(size_t *count)
{
    static __thread const char *on[MODULE_MAX_FEATURES];
    return filtered(account_features, account_feature_on, naccount_features, on, count);
}

/* EV_SERVER_IQ: dispatch by the payload's namespace. */
static hook_result dispatch_iq(session *s, xnode *iq)
{
    const xnode *payload = xnode_first_element(iq);
    if (!payload)
        return HOOK_CONTINUE;
    for (size_t i = 0; i < nhandlers; i++) {
        if (!strcmp(handlers[i].ns, payload->ns)) {
            if (s->remote && !handlers[i].remote) {
                log_debug("%s: %s (remote) asked for %s of %s: forbidden", handlers[i].ns,
                         s->full ? s->full : "?", xnode_attr(iq, "type"),
                         xnode_attr(iq, "to") ? xnode_attr(iq, "to") : "?");
                session_send_free(s, stanza_error_reply(iq, ERR_AUTH, "forbidden", NULL));
            } else {
                handlers[i].fn(s, iq, payload);
            }
            return HOOK_STOP;
        }
    }
    return HOOK_CONTINUE;
}

static void forget_all(void)
{
    nhandlers = nfeatures = naccount_features = nelements = 0;
    events_reset();
    session_slots_reset();
    loaded = NULL;
    nloaded = 0;
}

int modules_init(const module *const *table, size_t n, char *err, size_t errlen)
{
    forget_all();
    failure[0] = 0;
    current = NULL;
    module_hook_stanza(EV_SERVER_IQ, dispatch_iq);
    for (size_t i = 0; i < n && !failure[0]; i++) {
        current = table[i];
        if (current->slot) {
            *current->slot = session_slot_register(current->slot_free);
            if (*current->slot < 0)
                fail("a session slot", SESSION_SLOTS);
        }
        if (!failure[0] && current->init)
            current->init();
    }
    current = NULL;
    if (failure[0]) {
        snprintf(err, errlen, "%s", failure);
        forget_all();
        return -1;
    }
    loaded = table;
    nloaded = n;
    return 0;
}

void module_stream_features(const session *s, bool authed, buf *out)
{
    if (!authed)
        return;
    for (size_t i = 0; i < nloaded; i++)
        if (loaded[i]->stream_features)
            loaded[i]->stream_features(s, out);
}

void modules_thread_exit(void)
{
    for (size_t i = 0; i < nloaded; i++)
        if (loaded[i]->thread_exit)
            loaded[i]->thread_exit();
    async_jobs_thread_exit();
}

void modules_shutdown(void)
{
    for (size_t i = nloaded; i-- > 0;)
        if (loaded[i]->shutdown)
            loaded[i]->shutdown();
    forget_all();
}
