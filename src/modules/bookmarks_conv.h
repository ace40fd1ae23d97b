/* bookmarks_conv.h: the XEP-0411 (v1.1.0) conversion between one bookmark
 * of XEP-0402 (urn:xmpp:bookmarks:1, item id = room JID) and one
 * <conference/> of XEP-0048's storage:bookmarks element kept in private
 * XML (XEP-0049). Pure functions (tests/unit/test_bookmarks_conv.c);
 * pep_bookmarks.c does the syncing. */
#ifndef PLUCS_BOOKMARKS_CONV_H
#define PLUCS_BOOKMARKS_CONV_H

#include <stdbool.h>

#include "xml/xml.h"

#define NS_BOOKMARKS2        "urn:xmpp:bookmarks:1"
#define NS_BOOKMARKS2_COMPAT "urn:xmpp:bookmarks:1#compat"
#define NS_BOOKMARKS2_COMPAT_PEP "urn:xmpp:bookmarks:1#compat-pep"   /* with XEP-0048 in PEP */
#define NS_BOOKMARKS_CONVERSION "urn:xmpp:bookmarks-conversion:0"   /* XEP-0411 */
#define NS_BOOKMARKS_LEGACY  "storage:bookmarks"

/* The room JID of a legacy <conference jid='...'/> normalised (bare, with
 * a localpart), malloc'ed; NULL when missing or invalid. */
char *bm_room_jid(const char *raw);

/* Legacy <conference/> (storage:bookmarks) -> XEP-0402 <conference/>
 * payload; *jid gets the normalised room JID (malloc'ed, the item id).
 * NULL when the element has no valid room JID. */
xnode *bm_to_pep(const xnode *legacy, char **jid);

/* XEP-0402 payload of item `jid` -> legacy <conference jid=.../>; NULL
 * when the payload is not a bookmarks:1 <conference/> or jid is invalid. */
xnode *bm_from_pep(const char *item_id, const xnode *pep);

/* Whether two XEP-0402 payloads carry the same name, autojoin, nick and
 * password (what the legacy format can express). */
bool bm_same(const xnode *a, const xnode *b);

/* A new storage:bookmarks <storage/>: the <conference/> elements of
 * confs (n legacy conferences, borrowed) and every other child of old
 * (<url/> and extensions; old may be NULL). */
xnode *bm_storage_build(const xnode *old, xnode *const *confs, size_t n);

#endif
