/* dir_build.h: turning raw directory entries into a snapshot, without LDAP.
 * The directory thread keeps one dir_entry per LDAP entry it was told about
 * (initial load, change feed or poll); dir_snapshot_build() applies the rules
 * of directory.md (xmppEnabled, served domains, unique uid per domain, group
 * references) and dir_permissions_compile() the communication restrictions.
 * Both are pure functions so that unit tests can feed them in-memory data. */
#ifndef PLUCS_DIR_BUILD_H
#define PLUCS_DIR_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "directory/directory.h"

enum { DIR_E_HOST = 1, DIR_E_ACCOUNT = 2, DIR_E_GROUP = 4 };

/* What PLUCS needs of one LDAP entry, as read (not yet prepared). */
typedef struct dir_entry {
    char *key;          /* entryUUID (lower case) or, without one, the DN */
    char *dn;
    unsigned kinds;     /* DIR_E_* from its objectClass values */
    bool enabled;       /* xmppEnabled=TRUE */
    char *uid;          /* first uid value (accounts) */
    char *domain;       /* xmppDomain (accounts) */
    char *ulabel;       /* value of plucs/userlabel, NULL when absent */
    char *pwstamp;      /* "p:" pwdChangedTime, "c:" entryCSN or "m:" modifyTimestamp; NULL */
    char *cn;           /* first cn value (groups, hosts) */
    char *glabel;       /* value of plucs/grouplabel */
    char photo[41];     /* accounts: lower-case hex SHA-1 of the first jpegPhoto
                           value, "" without one (XEP-0084/0153 avatar id) */
    char **members;     /* memberUid values */
    size_t nmembers;
    char **mgroups;     /* xmppMessageGroups */
    size_t nmgroups;
    char **pgroups;     /* xmppPresenceGroups */
    size_t npgroups;
    char *hostattrs;    /* hosts: xmppDomains and univentionService values,
                           joined; only compared (dir_hosts.c reads them) */
    bool seen;          /* mark for a full refresh (sweep what was not seen) */
} dir_entry;

void dir_entry_free(dir_entry *e);
/* Same content (key, seen ignored). */
bool dir_entry_same(const dir_entry *a, const dir_entry *b);
/* Whether the entry can contribute to a snapshot (an enabled account or
 * group); changes of other entries are not counted as changes. */
bool dir_entry_relevant(const dir_entry *e);

typedef struct dir_build_opts {
    bool filter;            /* plucs/mod/filter */
    bool msg_allow;         /* message_policy == allow */
    bool pres_allow;        /* presence_policy == allow */
    bool complete;
    uint64_t serial;
    /* Called once per problem an administrator should know about
     * (ambiguous uid, unknown group name ...); may be NULL. */
    void (*warn)(void *ud, const char *line);
    void *warn_ud;
} dir_build_opts;

/* Lower-cases, sorts and de-duplicates domains[0..*n) in place (freeing
 * duplicates and empty names); returns the new count in *n. The served
 * domains pass here in plucsd and in `plucs explain --offline`. */
void dir_domains_normalise(char **domains, size_t *n);

/* Builds a snapshot (refcount 1) of the accounts and groups among
 * entries[0..n) for the served domains (lower case, sorted, as in
 * dir_domains_normalise). NULL on allocation failure. */
dir_snapshot *dir_snapshot_build(char **domains, size_t ndomains, dir_entry *const *entries,
                                 size_t n, const dir_build_opts *o);

/* Fills s->accounts[].pclass, s->nclasses, s->msg_allow, s->pres_allow
 * from the accounts' group sets and the groups' resolved lists (always,
 * also when s->filter is false). 0, or -1 on allocation failure. */
int dir_permissions_compile(dir_snapshot *s, bool msg_allow, bool pres_allow);

/* Summary of what differs between two snapshots, for the log and for the
 * decision whether to publish at all. */
typedef struct dir_snapshot_diff {
    bool domains, filter, permissions, complete;
    uint32_t acc_added, acc_removed, acc_changed;
    uint32_t grp_added, grp_removed, grp_changed;
} dir_snapshot_diff;

/* Returns true when anything differs; fills d. */
bool dir_snapshot_compare(const dir_snapshot *old, const dir_snapshot *neu, dir_snapshot_diff *d);
/* "accounts +1 -0 ~2, groups ..., domains" into buf. */
void dir_snapshot_diff_text(const dir_snapshot_diff *d, char *buf, size_t len);

#endif
