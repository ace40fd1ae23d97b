/* policy_index.h: the policy stage's account look-up (issue 17 item 5).
 * With plucs/mod/filter on, every message and presence between accounts
 * looks up sender and recipient in the worker's directory snapshot; as
 * binary searches (dir_snapshot_account: about log2(accounts) strcasecmp
 * and strcmp calls each) that was about 2,600 instructions per stanza at
 * 1,000 accounts, more with more. Each worker keeps a hash index of its
 * current snapshot's accounts instead, built on the first filtered stanza
 * after the snapshot changed (snapshots are immutable and carry a serial).
 * Touched only by its worker's thread; other threads (unit tests without
 * workers) fall back to dir_snapshot_account. */
#ifndef PLUCS_POLICY_INDEX_H
#define PLUCS_POLICY_INDEX_H

#include "directory/directory.h"

void policy_index_init(int nworkers);
void policy_index_shutdown(void);
/* dir_snapshot_account(snap, uid, domain), answered from the index. */
const dir_account *policy_account(const dir_snapshot *snap, const char *uid, const char *domain);

#endif
