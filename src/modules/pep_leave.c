/* pep_leave.c: an account that leaves the directory (removed, xmppEnabled
 * set to FALSE, moved out of the served domains) loses what the server
 * published for it: the avatar from jpegPhoto (pep_avatar.c) and the
 * nickname from the label (pep_nick.c) are retracted and their nodes
 * deleted, so nobody keeps reading or being told about a departed
 * colleague's photo. The user's own items and nodes stay untouched (a
 * disabled account may come back, and then the server publishes its photo
 * and label again, as for any new account). Runs for every account missing
 * from a new snapshot (mod_pepdata.c) and, after a start, for every account
 * with PEP nodes that the first snapshot does not have (it may have left
 * while plucsd was down). */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "modules/pep.h"
#include "modules/pepdata.h"

/* Retracts the server's avatar; true when it was the server's. */
static bool leave_avatar(const char *bare)
{
    char *mid = NULL;
    xnode *m = pep_last_item(bare, NS_AVATAR_META, &mid);
    bool ours = m && mid && xnode_child(m, "directory", NS_PLUCS_DIRAVATAR);
    if (ours) {
        char hash[41];
        pepav_state(bare, hash);
        pep_retract(bare, NS_AVATAR_META, mid);
        if (*hash)
            pep_retract(bare, NS_AVATAR_DATA, hash);
        pep_delete_if_empty(bare, NS_AVATAR_META);
        pep_delete_if_empty(bare, NS_AVATAR_DATA);
    }
    xnode_free(m);
    free(mid);
    return ours;
}

static bool leave_nick(const char *bare)
{
    char *id = NULL;
    xnode *cur = pep_last_item(bare, NS_NICK, &id);
    bool ours = id && !strcmp(id, NICK_DIRECTORY_ID);
    if (ours) {
        pep_retract(bare, NS_NICK, NICK_DIRECTORY_ID);
        pep_delete_if_empty(bare, NS_NICK);
    }
    xnode_free(cur);
    free(id);
    return ours;
}

void pepdata_account_left(const char *bare)
{
    if (!pubsub_enabled() || !pep_ready() || !bare)
        return;
    pepdata_busy = true;
    bool av = leave_avatar(bare), nick = leave_nick(bare);
    pepdata_busy = false;
    if (av || nick) {
        pepdata_count(PD_LEFT);
        log_info("pepdata: %s left the directory; removed the%s%s%s the server published for it",
                 bare, av ? " avatar" : "", av && nick ? " and" : "", nick ? " nickname" : "");
    }
}

void pepdata_sweep(const dir_snapshot *snap)
{
    if (!snap || !snap->complete)
        return;
    char **v = pep_accounts();
    for (char **p = v; *p; p++) {
        char *at = strchr(*p, '@');
        *at = '\0';
        bool here = dir_snapshot_account(snap, *p, at + 1) != NULL;
        *at = '@';
        if (!here)
            pepdata_account_left(*p);
        free(*p);
    }
    free(v);
}
