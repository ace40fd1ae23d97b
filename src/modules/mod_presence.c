/* mod_presence.c: the session's own presence (RFC 6121 §4.2-4.5): initial
 * and updated presence set availability and priority in the routing table;
 * unavailable clears them. */
#include "modules/presence.h"

#include <stdlib.h>
#include <string.h>

#include "modules/module.h"
#include "router/routes.h"

void presence_outbound(session *s, xnode *st)
{
    const char *type = xnode_attr(st, "type");
    if (!type) {
        int prio = 0;
        xnode *p = xnode_child(st, "priority", NULL);
        if (p) {
            char *t = xnode_text(p);
            long v = t ? strtol(t, NULL, 10) : 0;
            prio = v < -128 ? -128 : v > 127 ? 127 : (int)v;
            free(t);
        }
        s->available = true;
        s->priority = prio;
        routes_set_presence(s->bare, s->id, true, prio);
    } else if (!strcmp(type, "unavailable")) {
        s->available = false;
        routes_set_presence(s->bare, s->id, false, s->priority);
    }
    xnode_free(st);
}

static void presence_ended(session *s)
{
    s->available = false;
}

void mod_presence_init(void) { module_hook_ended(presence_ended); }
