/* locator.h: the one narrow interface through which the router finds where
 * a JID's sessions are and hands a stanza to one of them. Today's answer is
 * this process's routing table (routes.c) and the workers' inboxes
 * (locator_local); a later cluster back end (say Redis holding "which node
 * has alice@a.test/phone") implements the same three calls and the router
 * does not change. Unit tests plug in a fake table. */
#ifndef PLUCS_LOCATOR_H
#define PLUCS_LOCATOR_H

#include <stdbool.h>
#include <stddef.h>

#include "router/routes.h"
#include "xml/xml.h"

typedef struct session_locator {
    /* Up to max resources bound for bare (available or not); the count. */
    size_t (*resources)(const char *bare, route_ref *out, size_t max);
    /* The resource bare/resource; false when none is bound. */
    bool (*resource)(const char *bare, const char *resource, route_ref *out);
    /* Hands st (ownership passes) to the session r names, wherever it
     * runs. On arrival the session's worker calls router_deliver_session(),
     * or router_session_gone() when the session ended meanwhile. */
    void (*deliver)(const route_ref *r, xnode *st);
} session_locator;

/* This process: routes.c plus worker inboxes. */
extern const session_locator locator_local;

#endif
