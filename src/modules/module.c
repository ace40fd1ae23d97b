/* module.c: the iq handler table and feature list (see module.h). Filled
 * once at start-up and read-only afterwards, so workers read it unlocked. */
#include "modules/module.h"
#include "modules/everyday.h"
#include "modules/caps.h"
#include "modules/presence.h"
#include "modules/roster.h"
#include "modules/tjob.h"

#include <stdlib.h>
#include <string.h>

#define MAX_HANDLERS 64
#define MAX_FEATURES 64

static struct {
    const char *ns;
    iq_handler fn;
} handlers[MAX_HANDLERS];
static size_t nhandlers;
static const char *features[MAX_FEATURES];
static size_t nfeatures;

void module_register_iq(const char *ns, iq_handler handler)
{
    if (nhandlers < MAX_HANDLERS) {
        handlers[nhandlers].ns = ns;
        handlers[nhandlers].fn = handler;
        nhandlers++;
    }
}

void module_add_feature(const char *var)
{
    if (nfeatures < MAX_FEATURES)
        features[nfeatures++] = var;
}

const char *const *module_features(size_t *count)
{
    *count = nfeatures;
    return features;
}

bool module_handle_iq(session *s, const xnode *iq)
{
    const xnode *payload = xnode_first_element(iq);
    if (!payload)
        return false;
    for (size_t i = 0; i < nhandlers; i++) {
        if (!strcmp(handlers[i].ns, payload->ns)) {
            handlers[i].fn(s, iq, payload);
            return true;
        }
    }
    return false;
}

#define MAX_HOOKS 16

static outbound_hook out_hooks[MAX_HOOKS];
static size_t nout;
static inbound_hook in_hooks[MAX_HOOKS];
static size_t nin;
static session_hook bound_hooks[MAX_HOOKS];
static size_t nbound;
static session_hook ended_hooks[MAX_HOOKS];
static size_t nended;
static snapshot_hook snap_hooks[MAX_HOOKS];
static size_t nsnap;
static void (*slot_free[SESSION_SLOTS])(void *);
static int nslots;

void module_hook_outbound(outbound_hook fn) { if (nout < MAX_HOOKS) out_hooks[nout++] = fn; }
void module_hook_inbound(inbound_hook fn) { if (nin < MAX_HOOKS) in_hooks[nin++] = fn; }
void module_hook_bound(session_hook fn) { if (nbound < MAX_HOOKS) bound_hooks[nbound++] = fn; }
void module_hook_ended(session_hook fn) { if (nended < MAX_HOOKS) ended_hooks[nended++] = fn; }

void module_hook_snapshot(snapshot_hook fn) { if (nsnap < MAX_HOOKS) snap_hooks[nsnap++] = fn; }

void module_run_snapshot(const struct dir_snapshot *old, const struct config *old_cfg,
                         const struct dir_snapshot *snap)
{
    for (size_t i = 0; i < nsnap; i++)
        snap_hooks[i](old, old_cfg, snap);
}

hook_result module_run_outbound(session *s, xnode *st)
{
    for (size_t i = 0; i < nout; i++)
        if (out_hooks[i](s, st) == HOOK_STOP)
            return HOOK_STOP;
    return HOOK_CONTINUE;
}

hook_result module_run_inbound(session *s, xnode *st)
{
    for (size_t i = 0; i < nin; i++)
        if (in_hooks[i](s, st) == HOOK_STOP)
            return HOOK_STOP;
    return HOOK_CONTINUE;
}

void module_run_bound(session *s)
{
    for (size_t i = 0; i < nbound; i++)
        bound_hooks[i](s);
}

void module_run_ended(session *s)
{
    for (size_t i = 0; i < nended; i++)
        ended_hooks[i](s);
}

int module_slot_register(void (*free_fn)(void *))
{
    if (nslots >= SESSION_SLOTS)
        return -1;
    slot_free[nslots] = free_fn;
    return nslots++;
}

void module_slots_free(session *s)
{
    for (int i = 0; i < nslots; i++) {
        if (s->slots[i] && slot_free[i])
            slot_free[i](s->slots[i]);
        s->slots[i] = NULL;
    }
}

void modules_init(void)
{
    nhandlers = nfeatures = 0;
    nout = nin = nbound = nended = nsnap = 0;
    nslots = 0;
    mod_disco_init();
    mod_ping_init();
    mod_session_init();
    mod_blocking_init();   /* first: its inbound hook decides whether a stanza arrives at all */
    mod_version_init();
    mod_time_init();
    mod_last_init();
    mod_private_init();
    mod_caps_init();
    mod_presence_init();
    mod_vcard_init();
    mod_search_init();
    mod_roster_init();
    mod_offline_init();
    mod_live_init();
}

void module_stream_features(const session *s, bool authed, buf *out)
{
    if (!authed)
        return;
    buf_puts(out, "<ver xmlns='urn:xmpp:features:rosterver'/>");   /* XEP-0237 */
    buf_puts(out, caps_stream_feature());                          /* XEP-0115 */
}

void modules_thread_exit(void)
{
    roster_thread_exit();
    tjobs_thread_exit();
}

void modules_shutdown(void)
{
    mod_blocking_shutdown();
    nhandlers = nfeatures = 0;
    nout = nin = nbound = nended = 0;
}
