/* bosh_body.h: the pure parts of BOSH (XEP-0124), kept apart from the
 * session machinery so unit tests reach them directly: parsing a request
 * <body/> with the restricted stream parser (no DTD, entities, size and
 * depth bounded), reading its attributes, and the rid window decision. */
#ifndef PLUCS_BOSH_BODY_H
#define PLUCS_BOSH_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xml/xml.h"

typedef struct bosh_body {
    xnode *attrs;        /* the <body/> element without children */
    xnode *kids;         /* its child elements in order, linked by ->next */
    size_t nkids;
} bosh_body;

/* Parses a request body. 0 on success (b filled, free with
 * bosh_body_clear); -1 with a short reason in err when it is not one
 * well-formed <body xmlns='http://jabber.org/protocol/httpbind'/>. Children
 * in the httpbind namespace are taken as jabber:client (lenient clients). */
int bosh_body_parse(const char *data, size_t len, size_t max_stanza, bosh_body *b, char *err,
                    size_t errlen);
void bosh_body_clear(bosh_body *b);

/* An attribute of the body in the xbosh namespace (xmpp:version,
 * xmpp:restart), whatever its prefix; NULL when absent. */
const char *bosh_attr_xbosh(const xnode *body, const char *local);
/* A non-negative integer attribute; def when absent or invalid. */
long bosh_attr_long(const xnode *body, const char *name, long def);
/* The rid: false when absent or not a positive integer below 2^53. */
bool bosh_attr_rid(const xnode *body, uint64_t *rid);

typedef enum {
    RID_NEXT,     /* the one expected: process now */
    RID_AHEAD,    /* inside the window, ahead of a missing one: keep until in order */
    RID_OLD,      /* already received: resend its answer if still cached */
    RID_OUTSIDE,  /* beyond the window: terminate (item-not-found) */
} rid_verdict;

/* next: the rid expected next; window: the session's `requests`. */
rid_verdict bosh_rid_check(uint64_t next, unsigned window, uint64_t rid);

#endif
