/* dir_query.h: asynchronous directory reads for workers, beyond what the
 * snapshot holds: one account's entry attributes (vCards, avatar hashes)
 * and the user directory search (XEP-0055). A worker hands a query to the
 * directory thread, which runs it on the service connection (ldap/hostdn)
 * and answers on the worker's thread through worker_post_drop. A worker
 * never waits and never talks LDAP itself.
 *
 * The second half of this header is the directory thread's side: the few
 * hooks directory.c and dir_service.c call (attach/detach at start/stop,
 * message dispatch, connection reset). */
#ifndef PLUCS_DIR_QUERY_H
#define PLUCS_DIR_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/worker.h"

/* ---- what a query returns ---- */

/* One attribute value, binary-safe (jpegPhoto); data has an extra NUL after
 * len bytes so that text values can be used as C strings. */
typedef struct dir_value {
    char *data;
    size_t len;
} dir_value;

typedef struct dir_attr {
    char *name;               /* as the server spelled it */
    dir_value *values;
    size_t nvalues;
} dir_attr;

/* One entry: its DN and the attributes asked for that it has. */
typedef struct dir_record {
    char *dn;
    dir_attr *attrs;
    size_t nattrs;
} dir_record;

/* The attribute by name (case-insensitive), NULL when absent. */
const dir_attr *dir_record_attr(const dir_record *r, const char *name);
/* The first value of an attribute as text, NULL when absent or empty. */
const char *dir_record_str(const dir_record *r, const char *name);
/* Appends a value (copied) to attribute name, creating it. 0 or -1. */
int dir_record_add(dir_record *r, const char *name, const void *data, size_t len);
void dir_record_clear(dir_record *r);       /* frees the contents, not r */

typedef enum {
    DIR_QUERY_OK = 0,
    DIR_QUERY_NOT_FOUND,      /* account: not exactly one entry */
    DIR_QUERY_UNAVAILABLE,    /* directory unreachable, timed out, overloaded */
} dir_query_status;

typedef struct dir_query_result {
    dir_query_status status;
    dir_record *records;      /* account: exactly one when OK; search: 0..max */
    size_t nrecords;
    bool truncated;           /* search: more entries matched than returned */
} dir_query_result;

/* Runs on the requesting worker; res is borrowed (freed after the call).
 * When the worker is stopping and done cannot run, drop(arg) runs instead
 * (drop may be NULL). Exactly one of them runs, later (never inside the
 * dir_query_* call), except when not even the answer can be allocated:
 * then drop runs at once. */
typedef void (*dir_query_done)(void *arg, const dir_query_result *res);

/* ---- queries ---- */

/* The entry of account uid@domain (uid already nodeprep'ed): the account
 * filter of directory.md with both values escaped (RFC 4515); OK only when
 * exactly one entry matches. attrs: NULL-terminated attribute names to
 * return (copied). */
void dir_query_account(worker *reply_to, const char *uid, const char *domain,
                       const char *const *attrs, dir_query_done done,
                       void (*drop)(void *arg), void *arg);

/* The fields of the user directory search; NULL or empty (after trimming
 * white space) means "not filled". */
typedef struct dir_search_terms {
    const char *uid;          /* uid */
    const char *given;        /* givenName */
    const char *family;       /* sn */
    const char *email;        /* mailPrimaryAddress or mail */
} dir_search_terms;

/* Accounts of domain (xmppEnabled=TRUE) matching every filled term as a
 * case-insensitive substring, each character literal; at most max records
 * (sizelimit max + 1 detects truncation). Status is OK even when nothing
 * matched. */
void dir_query_search(worker *reply_to, const char *domain, const dir_search_terms *terms,
                      size_t max, const char *const *attrs, dir_query_done done,
                      void (*drop)(void *arg), void *arg);

/* The filters the queries use (pure; malloc'ed, NULL on allocation
 * failure). Exposed for the unit tests. */
char *dir_account_filter(const char *uid, const char *domain);
char *dir_search_filter(const char *domain, const dir_search_terms *terms);
/* "(attr=*value*)" with value's len bytes escaped (NUL included). */
char *dir_substring_filter(const char *attr, const char *value, size_t len);

/* ---- the directory thread's side (src/directory only) ---- */

struct dir;
struct ldapmsg;

/* directory_start(): after the event base exists. 0 or -1. */
int dir_query_attach(struct dir *d);
/* dir_free(): after the thread ended; fails whatever is still queued as
 * UNAVAILABLE and refuses later queries. */
void dir_query_detach(struct dir *d);
/* dir_service_message(): true when msg answered a query (then consumed). */
bool dir_query_message(struct dir *d, struct ldapmsg *msg);
/* dir_service_reset(): the service connection is going away; every query
 * in flight fails as UNAVAILABLE. */
void dir_query_fail_all(struct dir *d);

#endif
