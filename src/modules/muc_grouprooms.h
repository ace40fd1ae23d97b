/* muc_grouprooms.h: directory group rooms (plucs/muc/grouprooms, issue 13
 * point 4): the module (mod_muc_grouprooms) that keeps one members-only
 * room per XMPP group and domain in step with the directory. The rules are
 * in muc_grouprooms_set.h; this module follows every snapshot on worker 0
 * and applies the differences through the room engine (muc.h), whose calls
 * run on each room's owner worker. */
#ifndef PLUCS_MUC_GROUPROOMS_H
#define PLUCS_MUC_GROUPROOMS_H

#include "modules/module.h"
#include "modules/muc.h"

extern const module mod_muc_grouprooms;

/* The configuration every group room gets (name: the group's label or cn):
 * persistent, members-only, public, non-anonymous, invitations by admins
 * only. Owners may change it afterwards until the next change of the
 * group's label or a restart. */
void grouprooms_room_config(muc_config *c, const char *name);

#endif
