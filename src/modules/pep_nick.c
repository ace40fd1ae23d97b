/* pep_nick.c: the account's nickname (XEP-0172 v1.1, node
 * http://jabber.org/protocol/nick) from its directory label (plucs/userlabel,
 * the name the shared roster shows), published by the server as item
 * "directory" with access model presence when the user has no nickname of
 * their own; a nickname item with another id is the user's and is never
 * touched. Label removed: the server's item is retracted. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "modules/pep.h"
#include "modules/pepdata.h"

void pepnick_reconcile(const char *bare, const char *label)
{
    if (!pubsub_enabled() || !bare)
        return;
    char *id = NULL;
    xnode *cur = pep_last_item(bare, NS_NICK, &id);
    bool ours = id && !strcmp(id, NICK_DIRECTORY_ID);
    if (cur && !ours) {
        xnode_free(cur);
        free(id);
        return;                             /* the user's own */
    }
    char *text = cur ? xnode_text(cur) : NULL;
    xnode_free(cur);
    free(id);
    if (!label || !*label) {
        if (ours) {
            pepdata_busy = true;
            pep_retract(bare, NS_NICK, NICK_DIRECTORY_ID);
            pepdata_busy = false;
            log_info("pepdata: %s has no directory label any more; nickname retracted", bare);
        }
        free(text);
        return;
    }
    if (ours && text && !strcmp(text, label)) {
        free(text);
        return;
    }
    free(text);
    xnode *nick = xnode_new("nick", NS_NICK);
    xnode_add_text(nick, label, strlen(label));
    pepdata_busy = true;
    pep_status st = pep_publish(bare, NS_NICK, NICK_DIRECTORY_ID, nick, PEP_ACCESS_PRESENCE);
    pepdata_busy = false;
    xnode_free(nick);
    if (st == PEP_OK) {
        pepdata_count(PD_NICKS);
        log_info("pepdata: published the directory label of %s as its nickname", bare);
    }
    else
        log_warn("pepdata: the nickname of %s could not be published (quota or size)", bare);
}
