/* pepdata.h: what the pepdata files share (mod_pepdata.c, pep_avatar.c,
 * pep_nick.c, pep_bookmarks.c), and the one call mod_vcard makes so that
 * the vCard PHOTO shows the account's current avatar. */
#ifndef PLUCS_PEPDATA_H
#define PLUCS_PEPDATA_H

#include <stdbool.h>

#include "directory/directory.h"
#include "xml/xml.h"

#define NS_AVATAR_DATA "urn:xmpp:avatar:data"
#define NS_AVATAR_META "urn:xmpp:avatar:metadata"
#define NS_NICK        "http://jabber.org/protocol/nick"
/* Marks the metadata the server published from the directory: a child
 * <directory xmlns='urn:plucs:avatar:directory'/> of <metadata/> that
 * clients ignore. Metadata without it is the user's own avatar. */
#define NS_PLUCS_DIRAVATAR "urn:plucs:avatar:directory"
/* The item id of the nickname the server published from the label. */
#define NICK_DIRECTORY_ID "directory"

typedef enum {
    AVATAR_NONE = 0,    /* no metadata item */
    AVATAR_SERVER,      /* the server's, from the directory */
    AVATAR_OWN,         /* published by the user (an empty one disables it) */
} avatar_owner;

/* Whose avatar bare has in PEP; hash (41 bytes) gets the id of the first
 * <info/> of the metadata ("" for none). */
avatar_owner pepav_state(const char *bare, char hash[41]);

/* The XEP-0153 hash of bare's current avatar: the user's own, else the
 * directory photo of the calling worker's snapshot ("" for none). */
void pepav_current_hash(const char *bare, const char *uid, const char *domain, char hash[41]);

/* Brings bare's server-published avatar in line with the directory
 * photo whose hash is dir_hash ("" none): nothing when the user has their
 * own; else fetches the photo (asynchronously, on the calling worker) and
 * publishes data and metadata, or empties the metadata. */
void pepav_reconcile(const char *uid, const char *domain, const char *dir_hash);
/* Frees the accounts still waiting for a directory read (shutdown). */
void pepav_shutdown(void);
/* The same for the nickname (XEP-0172) from label (NULL: none). */
void pepnick_reconcile(const char *bare, const char *label);

/* An account left the directory (pep_leave.c): the avatar and nickname the
 * server published for it are retracted and their nodes deleted (the
 * user's own stay). pepdata_sweep does it for every account with PEP nodes
 * that snap does not have (the first snapshot after a start). */
void pepdata_account_left(const char *bare);
void pepdata_sweep(const dir_snapshot *snap);

/* Bookmark sync (XEP-0411): a publish/retract on a PEP node (the pep.h
 * hook) and a client's private XML set (jabber:iq:private) of
 * storage:bookmarks. */
void pepbm_pep_changed(const char *bare, const char *node, const char *item_id,
                       const xnode *payload, bool retract);
void pepbm_private_set(const char *bare, const xnode *storage);

/* Counters for `plucs status` and /metrics (mod_pepdata.c prints them). */
typedef enum {
    PD_AVATARS = 0,     /* directory photos published as avatars */
    PD_AVATARS_EMPTIED, /* server avatars emptied after the photo was removed */
    PD_NICKS,           /* nicknames published from the label */
    PD_BM_TO_PRIVATE,   /* XEP-0402 changes written to private XML */
    PD_BM_TO_PEP,       /* private XML bookmark sets mirrored to XEP-0402 */
    PD_LEFT,            /* accounts gone from the directory whose server data went */
    PD_COUNTERS
} pd_counter;
void pepdata_count(pd_counter c);

/* Whether the calling thread is publishing on the server's behalf (its own
 * hook calls are then ignored). */
extern _Thread_local bool pepdata_busy;

/* For mod_vcard: replaces PHOTO of vcard (account bare) with the user's
 * own PEP avatar when there is one (removes it after an empty one). */
void pepdata_vcard_photo(const char *bare, xnode *vcard);

#endif
