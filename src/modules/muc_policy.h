/* muc_policy.h: who may create group chat rooms (plucs/muc/create), as a
 * pure function over a directory snapshot and the configuration, so the
 * room engine (mod_muc) asks one question and the rule is tested alone. */
#ifndef PLUCS_MUC_POLICY_H
#define PLUCS_MUC_POLICY_H

#include <stdbool.h>

#include "core/config.h"
#include "directory/directory.h"

/* Whether the local account bare ("uid@domain", prepared) may create a new
 * room. plucs/muc/create: "all" (also when empty or unset): every account;
 * "none": nobody (rooms exist only as directory group rooms or already
 * stored); any other value is a group cn: only XMPP accounts of the snapshot
 * that are members of that XMPP group (a group that does not exist or is not
 * XMPP-enabled lets nobody create). snap may be NULL (directory not read
 * yet): only "all" allows then. bare NULL or not an account: false unless
 * "all" (remote users are decided by "all" too: the engine decides whether
 * remote users may create at all). */
bool muc_policy_may_create(const dir_snapshot *snap, const config *cfg, const char *bare);

#endif
