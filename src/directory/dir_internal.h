/* dir_internal.h: the directory thread's private state, shared only by the
 * src/directory/ files (directory.c: thread, inbox and snapshot publication;
 * dir_service.c: the service connection, fail-over and back-off; dir_conn.c:
 * one libldap handle on the event base; dir_hosts.c: the host object;
 * dir_auth.c: users' password checks; dir_settings.c: the copied config).
 * Everything below is touched by the directory thread only, except the
 * fields marked "lock". */
#ifndef PLUCS_DIR_INTERNAL_H
#define PLUCS_DIR_INTERNAL_H

#include <ldap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "directory/directory.h"
#include "directory/dir_build.h"

#define DIR_AUTH_CONNS_MAX  64       /* slots for users' binds (plucs/ldap/auth_connections) */
#define DIR_MAX_REQUESTS    10000    /* queued + in-flight auth requests */
#define DIR_AUTH_DEADLINE_S 10       /* per auth request */
#define DIR_NET_TIMEOUT_S   3        /* TCP connect (and sync libldap calls) */
#define DIR_POLL_S          30       /* host object re-read (plucs/ldap/poll later) */
#define DIR_BACKOFF_MAX_S   30
#define DIR_BIND_TIMEOUT_S  (2 * DIR_NET_TIMEOUT_S)   /* service bind answer */

struct event;
struct event_base;
typedef struct dir dir;
typedef struct dir_req dir_req;

/* What the directory uses from a config, copied so that its lifetime does
 * not depend on the caller's config. */
typedef struct dir_settings {
    char **uris;          /* NULL-terminated, at least one entry */
    size_t nuris;
    char *base, *hostdn, *secretfile, *cacert, *hostname;
    char **domains;       /* plucs/domains override, NULL when unset */
    char *userlabel, *grouplabel;
    bool filter, msg_allow, pres_allow, restart_listener;
    int poll;             /* plucs/ldap/poll: seconds between full reads without a feed */
    int auth_conns;       /* plucs/ldap/auth_connections: 1..DIR_AUTH_CONNS_MAX */
} dir_settings;

dir_settings *dir_settings_new(const config *c);   /* NULL on allocation failure */
void dir_settings_free(dir_settings *s);
bool dir_settings_same_connection(const dir_settings *a, const dir_settings *b);
bool dir_settings_same_hosts(const dir_settings *a, const dir_settings *b);
bool dir_settings_same_labels(const dir_settings *a, const dir_settings *b);
bool dir_settings_same_policy(const dir_settings *a, const dir_settings *b);

/* One libldap handle plus its read event. */
typedef struct dir_conn {
    dir *d;
    LDAP *ld;
    struct event *ev;      /* persistent EV_READ on the socket, once connected */
    char *uri;             /* owned copy */
    bool service;          /* the hostdn connection (else an auth connection) */
    int msgid;             /* bind in flight (service: its own; auth: the user's) */
    dir_req *req;          /* auth connection: the request whose bind is in flight */
} dir_conn;

/* Opens a handle for uri with the TLS/timeouts options; nothing is sent yet.
 * Returns NULL and fills err on failure. */
dir_conn *dir_conn_new(dir *d, const char *uri, bool service, char *err, size_t errlen);
/* Registers the read event after the first operation was sent (that is
 * when libldap connects). 0 or -1. */
int dir_conn_watch(dir_conn *c);
void dir_conn_free(dir_conn *c);         /* unbinds; NULL is fine */
/* The handle's last error as text (diagnostic message if any). */
void dir_conn_error(dir_conn *c, int rc, char *buf, size_t len);

/* REQ_HELD: the directory is not connected yet (start, reconnect) or its
 * first full read is not complete; the request waits in d->held until it
 * is, or until its deadline. */
typedef enum { REQ_NEW, REQ_HELD, REQ_SEARCHING, REQ_WAITING, REQ_BINDING } dir_req_state;

struct dir_req {
    dir_req *next, *prev;        /* inbox (next only) or d->active */
    dir_req *qnext, *qprev;      /* d->wait FIFO (REQ_WAITING) or d->held (REQ_HELD) */
    dir *d;                      /* set when the directory thread takes it */
    worker *reply_to;
    void (*done)(void *arg, dir_auth_result r);
    void *arg;
    char *localpart, *domain, *password;
    size_t pwlen;
    char *dn;                    /* the account entry, once found */
    char *uid;                   /* its first uid value: the snapshot's name for it */
    int nentries;
    bool fast;                   /* bind to the snapshot's DN, no search (dir_auth.c) */
    uint64_t serial;             /* fast: the snapshot the DN came from */
    int msgid;                   /* REQ_SEARCHING: on the service connection */
    dir_req_state state;
    dir_conn *conn;              /* REQ_BINDING */
    struct event *deadline;      /* from the first dir_auth_begin: DIR_AUTH_DEADLINE_S */
};

/* A FIFO of requests linked through qnext/qprev (a request is in at most
 * one: d->wait or d->held). */
typedef struct req_fifo {
    dir_req *head, *tail;
    size_t n;
} req_fifo;

enum dir_svc_state { SVC_DOWN, SVC_BINDING, SVC_UP };

struct dir {
    struct event_base *base;
    pthread_t thread;

    pthread_mutex_t lock;                /* guards the "lock" fields */
    dir_req *inbox_head, *inbox_tail;    /* lock */
    size_t ninbox;                       /* lock */
    dir_settings *pending;               /* lock: from directory_reconfigure */
    bool stopping;                       /* lock */
    struct event *ev_wake;               /* activated from other threads */

    dir_settings *set;

    /* service connection */
    dir_conn *svc;
    enum dir_svc_state svc_state;
    size_t cur;                /* server in use / being tried */
    size_t last_good;          /* server of the last good connection */
    bool ever_connected;
    bool unreachable_logged;
    bool hostdn_logged;
    size_t tries;              /* failed attempts in this cycle */
    int backoff;               /* seconds before the next cycle */
    char last_error[256];
    /* for `plucs status` (other threads read them under lock) */
    bool st_up;                /* lock */
    char st_server[512];       /* lock: server in use, or the last one tried */
    char st_error[256];        /* lock: the last error, "" when none */
    char lost_from[512];       /* server we lost (for the fail-over line) */
    struct event *ev_retry;
    struct event *ev_bind_timeout;   /* service bind sent, no answer yet */
    struct event *ev_poll;

    /* host object read */
    int host_msgid;            /* -1 when none in flight */
    char **hfound;
    size_t nhfound;
    int hentries;
    bool hservice_refused;
    bool nohost_logged;

    /* authentication */
    dir_conn *auth[DIR_AUTH_CONNS_MAX];   /* the first set->auth_conns are used */
    dir_req *active;           /* every request past the inbox */
    size_t nactive;
    req_fifo wait;                /* REQ_WAITING: found, waiting for an auth connection */
    req_fifo held;                /* REQ_HELD, oldest first */

    /* snapshot */
    pthread_mutex_t snap_lock;
    dir_snapshot *snap;        /* snap_lock */
    uint64_t serial;
    void (*on_snapshot)(dir_snapshot *snap, void *ud);
    void *on_snapshot_ud;

    /* what the next snapshot is built from (dir_publish.c) */
    char **domains;            /* served, normalised; owned */
    size_t ndomains;
    bool domains_known;        /* host object read once, or the override */
    bool loaded;               /* accounts and groups read once */
    atomic_uint nchanges;      /* entry changes not yet published (any thread reads) */
    struct timespec first_change;   /* when the oldest unpublished change came */
    bool apply_requested;      /* lock: directory_apply_pending() */
    bool held_logged;
    bool domains_logged;
    struct event *ev_publish;  /* coalescing timer */
    char **warnings;           /* of the last build, logged when it is published */
    size_t nwarnings;

    /* raw entries (dir_entries.c): hash table by key */
    dir_entry **etab;
    size_t ecap, ecount;

    /* paged full read (dir_load.c) */
    struct dir_load {
        int msgid;             /* -1 when idle */
        struct berval cookie;  /* paged results cookie (owned bv_val) */
        int rc;                /* first error */
    } load[2];
    int loads_running;
    struct event *ev_reload;   /* poll timer when there is no change feed */

    /* change feed (dir_sync.c) */
    int sync_msgid;            /* -1 when none */
    struct berval sync_cookie; /* owned bv_val; empty: none */
    bool sync_refused;         /* this connection: poll instead */
    bool sync_refused_logged;
    bool sync_refreshing;      /* refresh phase running */
    bool sync_full;            /* refresh without a cookie: sweep what was not sent */
    bool sync_stale;           /* a "present" named an entry we never saw */
    bool sync_logged;
};

/* dir_entries.c: the raw entries, by key */
/* Inserts or replaces (takes ownership of e, marks it seen); returns true
 * when that changed something relevant. Host-entry changes re-read the host
 * object. */
bool dir_entries_put(dir *d, dir_entry *e);
bool dir_entries_del(dir *d, const char *key);           /* same */
bool dir_entries_mark(dir *d, const char *key);           /* seen; false when unknown */
void dir_entries_unmark_all(dir *d);
/* Deletes every entry not seen since unmark_all (except hosts when
 * keep_hosts); returns the number of relevant deletions. */
unsigned dir_entries_sweep(dir *d, bool keep_hosts);
dir_entry **dir_entries_list(dir *d, size_t *n);          /* malloc'ed array */
void dir_entries_clear(dir *d);
/* Reads an entry of a search result with the shared reader (dir_reader.h);
 * key is the sync UUID or NULL (then the entryUUID attribute or the DN).
 * NULL on allocation failure. */
dir_entry *dir_entry_read(dir *d, LDAPMessage *msg, const char *key);
/* The attributes every search asks for (static array, NULL-terminated). */
char **dir_entry_attrs(dir *d);

/* dir_load.c: paged reads of accounts and groups (initial and polling) */
void dir_load_start(dir *d);
bool dir_load_message(dir *d, LDAPMessage *msg);          /* true if it was ours */
void dir_load_abort(dir *d);
void dir_load_schedule(dir *d);                           /* next poll in set->poll s */

/* dir_sync.c: RFC 4533 refreshAndPersist */
void dir_sync_start(dir *d);
bool dir_sync_message(dir *d, LDAPMessage *msg);          /* true if it was ours */
void dir_sync_abort(dir *d);                              /* keeps the cookie */
void dir_sync_forget(dir *d);                             /* drops the cookie */
/* Building and parsing the controls and messages (pure lber). */
int dir_sync_request_value(int mode, const struct berval *cookie, struct berval *out);
/* Decoding what the server sends (RFC 4533), without the LDAP message
 * around it; the cookies returned are copies (free with ber_memfree).
 * A Sync State control value: state, the entryUUID as text, the cookie
 * (empty when absent). 0, or -1 when malformed. */
int dir_sync_state_decode(const struct berval *value, int *state, char key[40],
                          struct berval *cookie);
/* A Sync Info message value: which one (tag), its cookie (empty when
 * absent; valid even when -1 is returned for what follows it), refreshDone
 * (default true), refreshDeletes (default false) and a syncIdSet's UUIDs
 * (free with ber_bvarray_free; NULL on failure). 0, or -1 when malformed or
 * of an unknown kind. */
typedef struct dir_sync_info {
    ber_tag_t tag;
    struct berval cookie;
    bool done;
    bool deletes;
    BerVarray uuids;
} dir_sync_info;
int dir_sync_info_decode(const struct berval *value, dir_sync_info *out);

/* dir_publish.c */
int dir_publish_init(dir *d);
void dir_publish_free(dir *d);
void dir_changed(dir *d, unsigned n);     /* counts and arms the coalescing timer */
/* Rebuilds and publishes if anything differs; honours restart_listener
 * unless force. */
void dir_publish(dir *d, bool force);
/* After the first read or a refresh: publish what is there now. */
void dir_loaded(dir *d);
/* The feed: after the service bind, start reading (cookie: sync, else a
 * paged read followed by the sync search). */
void dir_feed_start(dir *d);
void dir_log_domains(const dir_snapshot *s, const char *reason);

/* dir_reach.c: 0 when a TCP connection to uri's host:port succeeds in time */
int dir_tcp_reachable(const char *uri, int timeout_s, char *err, size_t errlen);

/* dir_snapshot.c */
dir_snapshot *dir_snapshot_new(char **domains, size_t n, bool complete, uint64_t serial);
bool dir_snapshot_same_domains(const dir_snapshot *s, char **domains, size_t n);

/* dir_publish.c */
/* Sets the served domains (takes ownership of domains); a change is
 * published like any other (at once while the first read is incomplete);
 * reason is logged when the set is empty. */
void dir_publish_domains(dir *d, char **domains, size_t n, const char *reason);

/* dir_service.c */
int dir_service_init(dir *d);              /* creates the retry/poll timers */
void dir_service_connect(dir *d);
void dir_service_lost(dir *d, const char *reason);
void dir_service_reset(dir *d);          /* close everything, no log (stop/reconfigure) */
/* A message on the service connection; returns false when the connection
 * was closed meanwhile. Takes ownership of msg. */
bool dir_service_message(dir *d, LDAPMessage *msg);

/* dir_hosts.c */
void dir_hosts_read(dir *d);
bool dir_hosts_message(dir *d, LDAPMessage *msg);   /* true if it was ours */
void dir_hosts_abort(dir *d);

/* dir_auth.c */
/* Starts r, or holds it while the directory is not ready (not connected,
 * first read incomplete); either way r gets its answer within
 * DIR_AUTH_DEADLINE_S of this first call. */
void dir_auth_begin(dir *d, dir_req *r);
/* The directory became ready (connected, or its snapshot complete): starts
 * the held requests. Nothing happens while it is not ready. */
void dir_auth_release_held(dir *d);
/* Fails the held requests (shutdown). */
void dir_auth_fail_held(dir *d);
bool dir_auth_search_message(dir *d, LDAPMessage *msg);  /* true if it was ours */
void dir_auth_bind_message(dir_conn *c, LDAPMessage *msg);
void dir_auth_conn_lost(dir_conn *c, const char *reason);
/* Fails every request past the inbox with UNAVAILABLE and closes the auth
 * connections (service lost, reconfigure, stop); held requests stay held
 * (dir_auth_fail_held at stop). */
void dir_auth_fail_all(dir *d);
void dir_auth_close_conns(dir *d);       /* closes auth conns, failing their binds */
void dir_req_reply(dir_req *r, dir_auth_result res);    /* posts and frees r */
void dir_req_free(dir_req *r);

#endif
