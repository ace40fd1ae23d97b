/* directory.h: the directory thread. It owns every LDAP connection (libldap
 * asynchronous API on its own event base): the service connection bound as
 * ldap/hostdn, a small pool of connections for users' authentication binds,
 * reconnect with back-off and fail-over across the configured servers. It
 * publishes what it knows as an immutable, reference-counted snapshot; a
 * worker never waits for LDAP. */
#ifndef PLUCS_DIRECTORY_H
#define PLUCS_DIRECTORY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/worker.h"

/* An XMPP account of a served domain (xmppEnabled=TRUE, exactly one entry
 * for its uid in its domain). */
typedef struct dir_account {
    char *uid;                /* localpart: the nodeprep'ed uid */
    char *domain;             /* its xmppDomain, lower case */
    char *bare;               /* "uid@domain" */
    char *dn;
    char *label;              /* value of plucs/userlabel; NULL when absent */
    char *pwstamp;            /* password stamp (dir_build.h); NULL when unknown */
    char photo[41];           /* hex SHA-1 of its jpegPhoto, "" without one */
    uint32_t *groups;         /* indexes into snap->groups, ascending */
    uint32_t ngroups;
    uint32_t pclass;          /* permission class: accounts with the same group
                                 set share one (see dir_may_message) */
} dir_account;

/* An XMPP group (univentionXMPPGroup with xmppEnabled=TRUE). */
typedef struct dir_group {
    char *cn;
    char *label;              /* value of plucs/grouplabel; NULL when absent */
    uint32_t *members;        /* indexes into snap->accounts, ascending (memberUid
                                 values that are accounts of served domains) */
    uint32_t nmembers;
    uint32_t *mgroups;        /* resolved xmppMessageGroups (XMPP groups only) */
    uint32_t nmgroups;
    uint32_t *pgroups;        /* resolved xmppPresenceGroups */
    uint32_t npgroups;
} dir_group;

typedef struct dir_snapshot {
    atomic_int refs;
    uint64_t serial;          /* increases with every published snapshot */
    bool complete;            /* false until the directory was read once */
    char **domains;           /* hosted domains, lower case, NULL-terminated */
    size_t ndomains;

    dir_account *accounts;    /* sorted by (domain, uid) */
    uint32_t naccounts;
    dir_group *groups;        /* sorted by cn, case-insensitively */
    uint32_t ngroups;

    /* Compiled communication restrictions (plucs/mod/filter): for
     * permission classes a, b: bit (a * nclasses + b) of msg_allow says
     * class a may send messages to class b; of pres_allow that an observer
     * of class a may see presence of class b. */
    bool filter;              /* plucs/mod/filter at build time */
    uint32_t nclasses;
    uint64_t *msg_allow;
    uint64_t *pres_allow;
} dir_snapshot;

/* Lookups (binary search); NULL when not an account / group. */
const dir_account *dir_snapshot_account(const dir_snapshot *s, const char *uid, const char *domain);
const dir_group *dir_snapshot_group(const dir_snapshot *s, const char *cn);
/* Whether account a (of s) is a member of the XMPP group cn of s; false
 * when either is missing. */
bool dir_snapshot_member(const dir_snapshot *s, const dir_account *a, const char *cn);
/* Whether a may send a message to b / observer a may see b's presence,
 * per directory.md; always true when the filter is off. */
bool dir_may_message(const dir_snapshot *s, const dir_account *from, const dir_account *to);
bool dir_may_see(const dir_snapshot *s, const dir_account *observer, const dir_account *subject);

dir_snapshot *dir_snapshot_ref(dir_snapshot *s);
void dir_snapshot_unref(dir_snapshot *s);
bool dir_snapshot_serves(const dir_snapshot *s, const char *domain);

/* Starts the directory thread with configuration c (which must stay valid
 * until directory_reconfigure() replaces it or directory_stop()). */
int directory_start(const config *c);
void directory_stop(void);
/* Called on the main thread after a reload; the directory applies changed
 * servers/credentials/domains on its own thread. */
void directory_reconfigure(const config *c);

/* plucs/restart/listener false: directory changes are collected but not
 * published until directory_apply_pending() (the daemon calls it on SIGHUP
 * and `plucs reload`); directory_pending_changes() says how many entry
 * changes wait (for `plucs status`). Both may be called from any thread. */
void directory_apply_pending(void);
unsigned directory_pending_changes(void);

/* The current snapshot, a new reference (never NULL once started). */
dir_snapshot *directory_snapshot(void);

/* Called on the directory thread whenever a new snapshot is published; fn
 * receives its own reference. The router uses it to hand the snapshot to
 * every worker. Set before directory_start(). */
void directory_on_snapshot(void (*fn)(dir_snapshot *snap, void *ud), void *ud);

typedef enum {
    DIR_AUTH_OK = 0,
    DIR_AUTH_FAILED,        /* no such account, disabled, wrong password -> not-authorized */
    DIR_AUTH_UNAVAILABLE,   /* directory unreachable / timed out -> temporary-auth-failure */
} dir_auth_result;

/* Asynchronous password check for account localpart@domain (localpart
 * already nodeprep'ed): a simple bind as the account's DN from the snapshot
 * while the change feed keeps it current, else (and for names the snapshot
 * does not know) a search with the account filter of directory.md (RFC 4515
 * escaping) for exactly one entry, then the bind as its DN (dir_auth.c).
 * An empty password fails without contacting LDAP. done(arg, result) runs on
 * reply_to's thread (via worker_post). */
void directory_auth(worker *reply_to, const char *localpart, const char *domain,
                    const char *password, void (*done)(void *arg, dir_auth_result r), void *arg);

/* RFC 4515 escaping of a value for use in a search filter: * ( ) \ and NUL
 * become \2a \28 \29 \5c \00; every other byte (UTF-8 included) is kept.
 * Returns a malloc'ed string (NULL on allocation failure). */
char *ldap_filter_escape(const char *value);
/* The same for a value of len bytes that may contain NUL bytes. */
char *ldap_filter_escape_len(const char *value, size_t len);

#endif
