/* store_user.h: the account as a whole: everything the store keeps for one
 * user, across every record kind. Key: user (bare JID). Rule: forgetting an
 * account removes its records of every kind in one transaction, so its
 * personal data does not outlive it. Conventions: store.h. */
#ifndef PLUCS_STORE_USER_H
#define PLUCS_STORE_USER_H

#include "store/store.h"

/* Deletes everything stored for user (roster items and version, pending
 * requests, offline messages, private XML, blocklist, last activity), e.g.
 * when the account left the directory. value: rows deleted. */
void store_user_forget(worker *reply_to, const char *user, store_done_fn cb, void *arg);

#endif
