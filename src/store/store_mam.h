/* store_mam.h: the message archive (XEP-0313). Key: owner (a local bare
 * JID), each archived message with an id that is unique over the whole
 * archive and time-ordered: id = (microseconds since 1970 << 8) | sequence,
 * assigned by the module before delivery (so the <stanza-id/> of XEP-0359
 * needs no store round trip). Sorting by id is sorting by time; start/end
 * filters are id ranges. Rules: a write is fire-and-forget but queued, so a
 * later query of the same owner sees it (the storage thread runs requests
 * in order); a query never sees another owner's rows; retention deletes in
 * bounded batches so the storage thread never stalls. Preferences: one row
 * per user (default always/never/roster, always and never JID lists).
 * Conventions: store.h. */
#ifndef PLUCS_STORE_MAM_H
#define PLUCS_STORE_MAM_H

#include "store/store.h"

#define STORE_MAM_SEQ_BITS 8
/* The first id of microsecond us, and the last. */
#define STORE_MAM_ID_LO(us) ((int64_t)(us) << STORE_MAM_SEQ_BITS)
#define STORE_MAM_ID_HI(us) (((int64_t)(us) << STORE_MAM_SEQ_BITS) | 0xff)

typedef enum { MAM_DIR_IN = 0, MAM_DIR_OUT = 1 } store_mam_dir;

typedef enum { MAM_PREF_ALWAYS = 0, MAM_PREF_NEVER, MAM_PREF_ROSTER } store_mam_default;

typedef struct store_mam_msg {
    int64_t id;
    int64_t ts_us;
    char *with;
    int dir;
    char *stanza;
} store_mam_msg;

/* A query: rows of owner (with: only with that bare JID when non-NULL) whose
 * id lies in [lo, hi]; then RSM: after > 0: ids above it, oldest first;
 * before > 0: ids below it, the newest max of them; last: the newest max
 * (RSM empty <before/>); otherwise the oldest max. Ids named in after,
 * before, and check_ids must exist for owner, else STORE_NOT_FOUND. */
typedef struct store_mam_query {
    char *owner;
    char *with;
    int64_t lo, hi;
    int64_t after, before;
    bool last;
    int max;
    int64_t check_ids[2];      /* after-id / before-id of the form; 0 = none */
} store_mam_query;

typedef struct store_mam_result {
    store_status status;
    store_mam_msg *msgs;       /* oldest first */
    size_t n;
    bool complete;             /* nothing beyond this page in its direction */
    int64_t count;             /* rows matching the filters (without RSM); -1: too
                                  costly to count (over 100,000 in a time range) */
    int64_t first_index;       /* rows matching before msgs[0]; -1: too costly */
} store_mam_result;

void store_mam_result_free(store_mam_result *r);   /* NULL is fine */

typedef void (*store_mam_fn)(void *arg, store_mam_result *res);

/* Archives one message (fire-and-forget when reply_to is NULL). in_roster:
 * whether with is in owner's roster (for the default 'roster'); the owner's
 * stored preferences decide on the storage thread: value 1 when stored, 0
 * when the preferences refused it. */
void store_mam_put(worker *reply_to, const char *owner, int64_t id, const char *with, int dir,
                   const char *stanza, bool in_roster, store_done_fn cb, void *arg);
/* q is copied. */
void store_mam_query_run(worker *reply_to, const store_mam_query *q, store_mam_fn cb, void *arg,
                         store_arg_free_fn arg_free);

typedef struct store_mam_prefs {
    store_status status;       /* STORE_NOT_FOUND: never set (defaults) */
    int dflt;                  /* store_mam_default */
    char **always;             /* NULL-terminated bare JIDs */
    char **never;
} store_mam_prefs;

void store_mam_prefs_free(store_mam_prefs *p);
typedef void (*store_mam_prefs_fn)(void *arg, store_mam_prefs *res);
void store_mam_prefs_get(worker *reply_to, const char *user, store_mam_prefs_fn cb, void *arg,
                         store_arg_free_fn arg_free);
/* Replaces the preferences (p->always/never NULL-terminated, may be NULL). */
void store_mam_prefs_set(worker *reply_to, const char *user, const store_mam_prefs *p,
                         store_done_fn cb, void *arg, store_arg_free_fn arg_free);
/* Deletes at most batch rows with an id below before_id; value: rows deleted
 * (== batch: call again). */
void store_mam_expire(worker *reply_to, int64_t before_id, int batch, store_done_fn cb,
                      void *arg);

#endif
