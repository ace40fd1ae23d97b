/* vcard_build.h: the read-only vCard (XEP-0054 vcard-temp) of an account,
 * built from its directory entry as the original did, and the avatar
 * helpers of XEP-0153. Pure functions: mod_vcard.c fetches the entry, the
 * unit tests feed attribute maps directly. */
#ifndef PLUCS_VCARD_BUILD_H
#define PLUCS_VCARD_BUILD_H

#include <stddef.h>

#include "directory/dir_query.h"
#include "xml/xml.h"

#define NS_VCARD        "vcard-temp"
#define NS_VCARD_UPDATE "vcard-temp:x:update"

/* The LDAP attributes vcard_build() reads (NULL-terminated, static). */
const char *const *vcard_attrs(void);

/* A new <vCard xmlns='vcard-temp'/> from entry r:
 *   FN        "givenName sn", else displayName, else givenName or sn, else uid
 *   N         FAMILY (sn), GIVEN (givenName)
 *   NICKNAME  uid
 *   EMAIL     INTERNET PREF USERID (mailPrimaryAddress, else mail)
 *   TEL       VOICE WORK NUMBER (one per telephoneNumber)
 *   ORG       ORGNAME (o)
 *   ADR       WORK STREET (street) LOCALITY (l) PCODE (postalCode)
 *   BDAY      univentionBirthday
 *   PHOTO     TYPE (from the magic bytes) BINVAL (base64 of jpegPhoto)
 * Values that are not valid UTF-8 or hold control characters XML cannot
 * carry are skipped. uid: the account's localpart, used when the entry has
 * no uid value. Caller frees. */
xnode *vcard_build(const dir_record *r, const char *uid);

/* The first value of attribute name that can go into an XML text node
 * (valid UTF-8, no control characters XML forbids, not empty); NULL when
 * none. */
const char *vcard_text(const dir_record *r, const char *name);

/* "image/jpeg", "image/png" or "image/gif" by the first bytes; "image/jpeg"
 * when unknown (the attribute is jpegPhoto). */
const char *vcard_photo_type(const void *data, size_t len);

/* The XEP-0153 hash: lower-case hex SHA-1 of the photo bytes into out.
 * 0, or -1 when hashing failed. */
int vcard_photo_hash(const void *data, size_t len, char out[41]);

#endif
