/* muc_policy.c: the room creation policy of muc_policy.h (plucs/muc/create):
 * all (local accounts), none or the members of one directory group. Pure: no state, no
 * locks, callable from any worker with the snapshot it holds. */
#include "modules/muc_policy.h"

#include <string.h>

/* The account bare names in snap (NULL: not a local account). */
static const dir_account *account_of(const dir_snapshot *snap, const char *bare)
{
    if (!snap || !bare)
        return NULL;
    const char *at = strchr(bare, '@');
    if (!at || at == bare || !at[1] || strchr(at + 1, '/'))
        return NULL;
    char uid[1024];
    size_t n = (size_t)(at - bare);
    if (n >= sizeof uid)
        return NULL;
    memcpy(uid, bare, n);
    uid[n] = '\0';
    return dir_snapshot_account(snap, uid, at + 1);
}

bool muc_policy_may_create(const dir_snapshot *snap, const config *cfg, const char *bare)
{
    const char *p = cfg ? cfg->muc_create : NULL;
    if (!p || !*p || strcmp(p, "all") == 0)
        return account_of(snap, bare) != NULL;   /* every local account, nobody remote */
    if (strcmp(p, "none") == 0)
        return false;
    return dir_snapshot_member(snap, account_of(snap, bare), p);
}
