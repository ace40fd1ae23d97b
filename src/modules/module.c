/* module.c: the iq handler table and feature list (see module.h). Filled
 * once at start-up and read-only afterwards, so workers read it unlocked. */
#include "modules/module.h"

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

void modules_init(void)
{
    nhandlers = nfeatures = 0;
    mod_disco_init();
    mod_ping_init();
    mod_session_init();
}

void modules_shutdown(void) { nhandlers = nfeatures = 0; }
