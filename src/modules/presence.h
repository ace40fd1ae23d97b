/* presence.h: presence handling (RFC 6121 §4). For now it tracks the
 * availability and priority that routing needs; broadcasts to contacts
 * arrive with the roster. */
#ifndef PLUCS_PRESENCE_H
#define PLUCS_PRESENCE_H

#include "router/session.h"
#include "xml/xml.h"

/* A presence without 'to' from session s; takes ownership. */
void presence_outbound(session *s, xnode *st);

#endif
