/* store_backend.h: the seam between the storage thread and a database.
 * The storage thread (store.c) owns the queue, the batching and the group
 * commit; everything it asks a database goes through a store_backend: a
 * connection, the transaction steps of a batch, and one table of operations
 * per record kind (the kinds of store_roster.h, store_pending.h, ...). The
 * back end is chosen by the scheme of plucs/store ("sqlite:/path" selects
 * store_sqlite_backend); the table of back ends is in store_backend.c.
 *
 * A new back end (PostgreSQL, say) is one file per record kind, each
 * defining that kind's ops table, one file for the connection and the
 * store_backend that points at them, and one line in the table of
 * store_backend.c. The public operations, their requests, callbacks,
 * threading and commit rules do not change: those live in the per-kind
 * front files (store_roster.c, ...), which validate arguments and call the
 * ops below.
 *
 * Rules for every op: it runs on the storage thread, inside the batch's
 * transaction and inside its request's own savepoint (so returning
 * STORE_ERROR after a partial write is fine: the request is undone alone).
 * user (and contact where there is one) are non-empty prepared bare JIDs,
 * other strings are never NULL unless said. An op logs its own database
 * errors and returns STORE_ERROR. Results it fills are the public result
 * structs of the kind's header; their status field is set by the front.
 * The rules each kind must keep (versions, limits, ordering) are in the
 * first comment of its header. Only this folder includes this file. */
#ifndef PLUCS_STORE_BACKEND_H
#define PLUCS_STORE_BACKEND_H

#include "store/store.h"
#include "store/store_blocklist.h"
#include "store/store_fast.h"
#include "store/store_last.h"
#include "store/store_mam.h"
#include "store/store_motd.h"
#include "store/store_muc.h"
#include "store/store_offline.h"
#include "store/store_pending.h"
#include "store/store_private.h"
#include "store/store_privacy.h"
#include "store/store_pubsub.h"
#include "store/store_push.h"
#include "store/store_roster.h"

typedef struct store_backend store_backend;

/* An open database. Each back end embeds it as the first member of its own
 * connection struct (open sets backend) and casts back in its ops. */
typedef struct store_conn {
    const store_backend *backend;
} store_conn;

/* Every kind has forget: deletes all of user's records of that kind
 * (store_user_forget) and adds the number of records deleted to *removed. */

typedef struct store_roster_ops {
    /* contact NULL: every item of user sorted by contact; otherwise only
     * that item (0 or 1). Also res->version (0 if never changed). */
    store_status (*get)(store_conn *c, const char *user, const char *contact, store_roster *res);
    /* Inserts or replaces item (groups already cleaned: no newlines, no
     * empty names; may be NULL), raises the version: *version = new one. */
    store_status (*set)(store_conn *c, const char *user, const store_roster_item *item,
                        int64_t *version);
    /* Removes the item and raises the version (*version = new one); no such
     * item: STORE_NOT_FOUND with *version = the unchanged version. */
    store_status (*del)(store_conn *c, const char *user, const char *contact, int64_t *version);
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed); /* items + version */
} store_roster_ops;

typedef struct store_pending_ops {
    /* Inserts or replaces the request of contact. */
    store_status (*add)(store_conn *c, const char *user, const char *contact, const char *stanza);
    /* STORE_NOT_FOUND when there was none. */
    store_status (*del)(store_conn *c, const char *user, const char *contact);
    /* Every request of user, sorted by contact. */
    store_status (*list)(store_conn *c, const char *user, store_pending *res);
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed);
} store_pending_ops;

typedef struct store_offline_ops {
    /* Stores the message unless user already has max or more (then
     * STORE_FULL, *value = the count); otherwise *value = the new id, which
     * is greater than every id user had. max > 0. */
    store_status (*push)(store_conn *c, const char *user, int64_t stamp, const char *stanza,
                         int64_t max, int64_t *value);
    /* Every message of user in id order; res->max_id = the last id. */
    store_status (*fetch)(store_conn *c, const char *user, store_offline *res);
    /* Deletes user's messages with id <= max_id; *removed = how many. */
    store_status (*ack)(store_conn *c, const char *user, int64_t max_id, int64_t *removed);
    store_status (*count)(store_conn *c, const char *user, int64_t *count);
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed);
} store_offline_ops;

typedef struct store_private_ops {
    /* *xml = a copy of the element stored under (ns, name), or
     * STORE_NOT_FOUND. */
    store_status (*get)(store_conn *c, const char *user, const char *ns, const char *name,
                        char **xml);
    /* Stores (replacing) one element; the front calls it per entry. */
    store_status (*put)(store_conn *c, const char *user, const char *ns, const char *name,
                        const char *xml);
    /* *bytes = what user stores in all: the bytes of every element, its
     * namespace and name (plucs/quota/private). NULL: no quota is kept. */
    store_status (*usage)(store_conn *c, const char *user, int64_t *bytes);
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed);
} store_private_ops;

typedef struct store_blocklist_ops {
    /* Fills res->items (sorted) and res->n; res->user is already set. */
    store_status (*get)(store_conn *c, const char *user, store_blocklist *res);
    /* *changed = 1 when item was added, 0 when it was already blocked. */
    store_status (*add)(store_conn *c, const char *user, const char *item, int64_t *changed);
    /* *changed = 1 when item was removed, 0 when it was not blocked. */
    store_status (*remove)(store_conn *c, const char *user, const char *item, int64_t *changed);
    /* Removes every item of user (also store_block_remove with n == 0). */
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed);
} store_blocklist_ops;

typedef struct store_last_ops {
    /* Records (replacing) the logout; text never NULL. */
    store_status (*set)(store_conn *c, const char *user, int64_t stamp, const char *text);
    /* Fills res->stamp and res->text, or STORE_NOT_FOUND. */
    store_status (*get)(store_conn *c, const char *user, store_last *res);
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed);
} store_last_ops;

typedef struct store_fast_ops {
    store_status (*issue)(store_conn *c, const char *user, const char *agent, const char *nonce,
                          const char *hash, const char *stamp, int64_t expiry);
    store_status (*get)(store_conn *c, const char *user, const char *agent, int64_t now,
                        store_fast_list *res);
    store_status (*used)(store_conn *c, const char *user, const char *agent, int64_t id,
                         bool invalidate, int64_t count);
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed);
} store_fast_ops;

typedef struct store_muc_ops {
    /* Every room (sorted by JID) with its affiliations (sorted by jid). */
    store_status (*load)(store_conn *c, store_muc_rooms *res);
    /* Inserts or replaces the room's config; created (unix seconds) and
     * creator are kept from the first insert. */
    store_status (*put_room)(store_conn *c, const char *room, const char *config,
                             const char *creator, int64_t created);
    /* Removes every affiliation of room. */
    store_status (*clear_affs)(store_conn *c, const char *room);
    /* Inserts or replaces one affiliation (aff one of the four names; nick
     * may be NULL). */
    store_status (*put_aff)(store_conn *c, const char *room, const char *jid, const char *aff,
                            const char *nick, const char *reason);
    /* *changed = rows removed (0 or 1). */
    store_status (*del_aff)(store_conn *c, const char *room, const char *jid, int64_t *changed);
    /* Removes room and its affiliations; *removed = rows removed. */
    store_status (*del_room)(store_conn *c, const char *room, int64_t *removed);
} store_muc_ops;

typedef struct store_push_ops {
    /* Every registration of user sorted by (jid, node). */
    store_status (*list)(store_conn *c, const char *user, store_push_regs *res);
    /* Inserts or replaces one registration (form "" when none). */
    store_status (*put)(store_conn *c, const char *user, const char *jid, const char *node,
                        const char *form);
    /* Removes (jid, node), or every node of jid when node is NULL; adds the
     * rows removed to *removed. */
    store_status (*del)(store_conn *c, const char *user, const char *jid, const char *node,
                        int64_t *removed);
    store_status (*count)(store_conn *c, const char *user, int64_t *count);
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed);
} store_push_ops;
typedef struct store_mam_ops {
    /* Stores the message unless owner's preferences refuse it (default
     * never, or roster and !in_roster, or with in the never list; the
     * always list wins over the default): *stored = 1 or 0. */
    store_status (*put)(store_conn *c, const char *owner, int64_t id, const char *with, int dir,
                        const char *stanza, bool in_roster, int64_t *stored);
    /* The page q asks for (rules: store_mam.h), STORE_NOT_FOUND for an
     * unknown id. */
    store_status (*query)(store_conn *c, const store_mam_query *q, store_mam_result *res);
    /* STORE_NOT_FOUND (res untouched) when never set. */
    store_status (*prefs_get)(store_conn *c, const char *user, store_mam_prefs *res);
    store_status (*prefs_set)(store_conn *c, const char *user, const store_mam_prefs *p);
    /* Deletes at most batch rows (any owner) with id < before_id. */
    store_status (*expire)(store_conn *c, int64_t before_id, int batch, int64_t *removed);
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed);
} store_mam_ops;

typedef struct store_privacy_ops {
    /* Every list of user sorted by name, and the default's name (NULL:
     * none); res->user is already set. */
    store_status (*get)(store_conn *c, const char *user, store_privacy *res);
    /* Inserts or replaces list name. */
    store_status (*put)(store_conn *c, const char *user, const char *name, const char *text);
    /* Removes list name (and the default when it named it); *changed = 1
     * when it was there. */
    store_status (*del)(store_conn *c, const char *user, const char *name, int64_t *changed);
    /* name NULL: no default. */
    store_status (*set_default)(store_conn *c, const char *user, const char *name);
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed);
} store_privacy_ops;
typedef struct store_pubsub_ops {
    /* Calls the sink for every node, then every item (oldest first). */
    store_status (*load)(store_conn *c, const store_pubsub_sink *sink);
    store_status (*node_put)(store_conn *c, const char *host, const char *node, const char *owner,
                             const char *config, const char *affs, const char *subs);
    store_status (*node_del)(store_conn *c, const char *host, const char *node);
    store_status (*item_put)(store_conn *c, const char *host, const char *node, const char *id,
                             const char *publisher, int64_t seq, int64_t ts, const char *payload,
                             int keep);
    /* id NULL: every item of the node. */
    store_status (*item_del)(store_conn *c, const char *host, const char *node, const char *id);
    /* The account's PEP nodes and items (host = user). */
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed);
} store_pubsub_ops;

typedef struct store_motd_ops {
    /* The domain's message and version, or STORE_NOT_FOUND. */
    store_status (*get)(store_conn *c, const char *domain, store_motd *res);
    /* Like get, then marks the version seen by user: STORE_NOT_FOUND when
     * there is no message or user has seen this version already. */
    store_status (*take)(store_conn *c, const char *domain, const char *user, store_motd *res);
    /* Replaces the text and raises the version (*version = the new one,
     * greater than any version a user of the domain has seen). */
    store_status (*set)(store_conn *c, const char *domain, const char *text, int64_t *version);
    /* Removes the message and the domain's seen marks; *removed = 1 or 0. */
    store_status (*del)(store_conn *c, const char *domain, int64_t *removed);
    store_status (*forget)(store_conn *c, const char *user, int64_t *removed);  /* seen mark */
    /* Every domain with a message and its version (res->n, domains,
     * versions allocated by the back end). */
    store_status (*domains)(store_conn *c, store_motd_list *res);
} store_motd_ops;

struct store_backend {
    const char *scheme;            /* plucs/store's part before the first ':' */
    const char *form;              /* what the value looks like, for messages */
    /* Opens (creating what is missing, migrating the schema) the database at
     * location (the part after "scheme:"). NULL with err on failure; err
     * names plucs/store when location itself is wrong. */
    store_conn *(*open)(const char *location, char *err, size_t errlen);
    void (*close)(store_conn *c);
    /* The batch: begin, then per request req_begin / the op / req_end, then
     * commit. 0 or -1 (logged). */
    int (*begin)(store_conn *c);
    int (*req_begin)(store_conn *c);
    /* After one request: undoes it if failed, then ends it. -1 when the
     * database has lost the whole transaction (e.g. disk full: everything
     * since begin is gone and no transaction is open any more). */
    int (*req_end)(store_conn *c, bool failed);
    /* -1: not committed; the transaction is rolled back and closed. */
    int (*commit)(store_conn *c);
    /* One table per record kind. NULL: this back end does not store that
     * kind (its requests fail with STORE_ERROR, forget skips it). */
    const store_roster_ops *roster;
    const store_pending_ops *pending;
    const store_offline_ops *offline;
    const store_private_ops *private_xml;
    const store_blocklist_ops *blocklist;
    const store_last_ops *last;
    const store_muc_ops *muc;
    const store_push_ops *push;
    const store_mam_ops *mam;
    const store_fast_ops *fast;
    const store_privacy_ops *privacy;
    const store_pubsub_ops *pubsub;
    const store_motd_ops *motd;
};

/* The back ends of the table (store_backend.c). */
extern const store_backend store_sqlite_backend;

/* The back end whose scheme starts spec ("scheme:location"), with
 * *location pointing after the ':'. NULL with err naming plucs/store, the
 * value and the accepted forms when no back end has that scheme. */
const store_backend *store_backend_select(const char *spec, const char **location, char *err,
                                          size_t errlen);
/* Adds a back end to the table for the rest of the process, e.g. a test
 * double; call before store_start(), never concurrently with it. 0, or -1
 * when the scheme is taken or the table is full. */
int store_backend_register(const store_backend *b);

/* For the fronts: logs that the back end has no table for kind; returns
 * STORE_ERROR. */
store_status store_kind_missing(store_conn *c, const char *kind);

#endif
