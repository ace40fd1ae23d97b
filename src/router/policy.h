/* policy.h: the router's policy step (plucs/mod/filter, directory.md
 * "Communication restrictions"). Every message and presence between two
 * local accounts passes here before delivery; the check is two binary
 * searches and one bit test in the snapshot's compiled matrices. */
#ifndef PLUCS_POLICY_H
#define PLUCS_POLICY_H

#include <stdbool.h>

#include "directory/directory.h"
#include "xml/xml.h"
#include "xmpp/jid.h"

/* true when st (kind 'm' or 'p', addressed to the local JID `to`) may be
 * delivered. A refused message has been answered with policy-violation and
 * logged; a refused presence is dropped silently. st stays the caller's. */
bool policy_allows(const dir_snapshot *snap, const xnode *st, char kind, const jid *to);

#endif
