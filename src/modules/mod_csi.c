/* mod_csi.c: client state indication (XEP-0352, urn:xmpp:csi:0): hold what
 * is not urgent while a client says it is inactive.
 *
 * <inactive/> and <active/> arrive as top-level elements (module.h
 * module_register_element). While inactive, the EV_INBOUND hook (last in
 * the table, after every filter decided the stanza is delivered) keeps
 * availability presence (only the latest per sender full JID) and pure
 * chat-state messages (csi_rules.h) in arrival order; anything urgent is
 * delivered at once, after what was held, so the client sees the held
 * stanzas first and in order. <active/> delivers the held ones; more than
 * plucs/csi/max held delivers them all too. What is held when the session
 * ends is dropped (presence and chat states are stale by then). */
#include "modules/csi_rules.h"
#include "modules/module.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"

static int slot = -1;

typedef struct csi_state {
    bool inactive;
    xnode *head, *tail;   /* held stanzas, linked by next */
    size_t count;
} csi_state;

static void csi_free(void *data)
{
    csi_state *c = data;
    for (xnode *n = c->head, *next; n; n = next) {
        next = n->next;
        n->next = NULL;
        xnode_free(n);
    }
    free(c);
}

static void flush(session *s, csi_state *c)
{
    xnode *n = c->head;
    c->head = c->tail = NULL;
    c->count = 0;
    while (n) {
        xnode *next = n->next;
        n->next = NULL;
        session_send_free(s, n);
        n = next;
    }
}

/* Removes the held presence from `from` (the older one is superseded). */
static void drop_presence_from(csi_state *c, const char *from)
{
    xnode *prev = NULL;
    for (xnode *n = c->head; n; prev = n, n = n->next) {
        const char *f = xnode_attr(n, "from");
        if (strcmp(n->name, "presence") || !f || strcmp(f, from))
            continue;
        if (prev)
            prev->next = n->next;
        else
            c->head = n->next;
        if (c->tail == n)
            c->tail = prev;
        n->next = NULL;
        xnode_free(n);
        c->count--;
        return;   /* at most one per sender is held */
    }
}

static hook_result csi_inbound(session *s, xnode *st)
{
    csi_state *c = s->slots[slot];
    if (!c || !c->inactive)
        return HOOK_CONTINUE;
    csi_kind k = csi_classify(st);
    if (k == CSI_URGENT) {
        flush(s, c);
        return HOOK_CONTINUE;
    }
    const char *from = xnode_attr(st, "from");
    if (k == CSI_PRESENCE && from)
        drop_presence_from(c, from);
    xnode *copy = xnode_copy(st);
    copy->next = NULL;
    if (c->tail)
        c->tail->next = copy;
    else
        c->head = copy;
    c->tail = copy;
    c->count++;
    int max = config_current()->csi_max;
    if (max > 0 && c->count > (size_t)max) {
        log_debug("csi: %s: more than %d held, delivering them", s->full, max);
        flush(s, c);
    }
    return HOOK_STOP;
}

static void csi_element(session *s, const xnode *el)
{
    bool inactive = !strcmp(el->name, "inactive");
    if (!inactive && strcmp(el->name, "active"))
        return;   /* nothing else is defined in urn:xmpp:csi:0 */
    csi_state *c = s->slots[slot];
    if (!c) {
        if (!inactive)
            return;
        c = s->slots[slot] = xcalloc(1, sizeof *c);
    }
    c->inactive = inactive;
    log_debug("csi: %s is %s", s->full ? s->full : "?", inactive ? "inactive" : "active");
    if (!inactive)
        flush(s, c);
}

static void csi_stream_features(const session *s, buf *out)
{
    buf_puts(out, "<csi xmlns='" NS_CSI "'/>");
}

static void csi_init(void)
{
    module_register_element(NS_CSI, csi_element);
    module_add_feature(NS_CSI);
    module_hook_stanza(EV_INBOUND, csi_inbound);
}

const module mod_csi = {
    .name = "csi",
    .init = csi_init,
    .stream_features = csi_stream_features,
    .slot = &slot,
    .slot_free = csi_free,
};
