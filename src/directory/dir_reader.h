/* dir_reader.h: the one reader of LDAP directory entries, shared by the
 * directory thread (dir_load.c, dir_sync.c, dir_hosts.c) and the `plucs`
 * tool's offline snapshot (cli/cli_offline.c), so that `plucs explain
 * --offline` sees exactly what plucsd sees: the same attributes asked for,
 * the same object kinds (host, account, group), the same lower-casing, the
 * same reading of a host object's domains. An LDAP search result entry is
 * first turned into a plain attribute list (dir_attrs_from_ldap); everything
 * after that needs no LDAP connection, which is what unit tests feed
 * directly (tests/unit/test_dir_reader.c). The builder that turns entries
 * into a snapshot is dir_build.h. */
#ifndef PLUCS_DIR_READER_H
#define PLUCS_DIR_READER_H

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>

#include "directory/dir_build.h"

/* One attribute of an entry: its description as the server spelled it
 * (matched case-insensitively) and its values, NULL-terminated. The same
 * name may occur more than once (as in LDIF, one line per value): the
 * values of all occurrences count, in order. */
typedef struct dir_attr {
    const char *name;
    struct berval **values;
} dir_attr;

/* The attributes every search for accounts, groups and hosts asks for,
 * NULL-terminated into out (DIR_READER_NATTRS slots). */
#define DIR_READER_NATTRS 18
void dir_reader_attrs(const char *userlabel, const char *grouplabel,
                      char *out[DIR_READER_NATTRS]);

/* What PLUCS needs of one entry (dir_entry, see dir_build.h): kinds from
 * objectClass (univentionXMPPAccount, -Group, -Host, any case), enabled from
 * xmppEnabled=TRUE (exactly), key = the given key (the sync UUID), else the
 * entryUUID in lower case, else the DN. userlabel / grouplabel name the
 * attributes read as labels (may be NULL). NULL on allocation failure or
 * without a DN. */
dir_entry *dir_entry_from_attrs(const char *dn, const dir_attr *attrs, size_t nattrs,
                                const char *userlabel, const char *grouplabel, const char *key);

/* The filter for this server's host object below ldap/base (malloc'ed;
 * NULL on allocation failure). */
char *dir_host_filter(const char *hostname);

/* A host object's served domains: appends copies of its xmppDomains values
 * (as read; dir_domains_normalise lower-cases them) to *domains / *n (grown
 * with realloc). Returns 1 without appending when univentionService is set
 * but lacks "XMPP" (any case), 0 when appended, -1 on allocation failure. */
int dir_host_domains(const dir_attr *attrs, size_t nattrs, char ***domains, size_t *n);

/* The attribute list of a search result entry (values owned by the list,
 * freed by dir_attrs_free). 0, or -1 on failure (then nothing to free). */
typedef struct dir_attrs {
    char *dn;
    dir_attr *v;
    size_t n;
} dir_attrs;
int dir_attrs_from_ldap(LDAP *ld, LDAPMessage *msg, dir_attrs *out);
void dir_attrs_free(dir_attrs *a);

/* dir_attrs_from_ldap + dir_entry_from_attrs. */
dir_entry *dir_entry_from_ldap(LDAP *ld, LDAPMessage *msg, const char *userlabel,
                               const char *grouplabel, const char *key);

#endif
