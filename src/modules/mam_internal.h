/* mam_internal.h: what the files of the message archive module share:
 * mod_mam.c (archiving on EV_MESSAGE_ROUTED, retention, the descriptor)
 * and mam_iq.c (queries and preferences of urn:xmpp:mam:2). */
#ifndef PLUCS_MAM_INTERNAL_H
#define PLUCS_MAM_INTERNAL_H

#include "modules/module.h"

/* The iq handler of urn:xmpp:mam:2 (query form, query, prefs). */
void mam_iq(session *s, const xnode *iq, const xnode *payload);

#endif
