/* muc.h: the XEP-0045 room engine's API (modules/mod_muc.c and muc_*.c).
 * It exists so that other parts (the store's persistent rooms, directory
 * group rooms) can create, change and list rooms without knowing how rooms
 * are kept.
 *
 * Threading: every room is owned by exactly one worker, chosen by hashing
 * the room's bare JID (muc_room_worker). All room state is touched only on
 * that worker. The functions below marked "any thread" post a job to the
 * owning worker and return at once (their arguments are copied); the
 * result is applied at the worker's next loop turn. Functions marked
 * "owner worker" must run on muc_room_worker(room_jid). */
#ifndef PLUCS_MUC_H
#define PLUCS_MUC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/worker.h"
#include "xml/xml.h"

#define NS_MUC        "http://jabber.org/protocol/muc"
#define NS_MUC_USER   "http://jabber.org/protocol/muc#user"
#define NS_MUC_ADMIN  "http://jabber.org/protocol/muc#admin"
#define NS_MUC_OWNER  "http://jabber.org/protocol/muc#owner"
#define NS_MUC_CONFIG "http://jabber.org/protocol/muc#roomconfig"
#define NS_MUC_INFO   "http://jabber.org/protocol/muc#roominfo"

#define MUC_HISTORY_DEFAULT 20
#define MUC_HISTORY_MAX 200
#define MUC_MAXUSERS_DEFAULT 200
#define MUC_MAXUSERS_CAP 1000
#define MUC_ROOMS_PER_CREATOR 100
#define MUC_SUBJECT_MAX 1024
#define MUC_NICK_MAX 1023

typedef enum muc_affiliation {
    MUC_AFF_OUTCAST = 0,
    MUC_AFF_NONE,
    MUC_AFF_MEMBER,
    MUC_AFF_ADMIN,
    MUC_AFF_OWNER,
} muc_affiliation;

typedef enum muc_role {
    MUC_ROLE_NONE = 0,
    MUC_ROLE_VISITOR,
    MUC_ROLE_PARTICIPANT,
    MUC_ROLE_MODERATOR,
} muc_role;

typedef enum muc_whois { MUC_WHOIS_MODERATORS = 0, MUC_WHOIS_ANYONE } muc_whois;
typedef enum muc_allowpm {
    MUC_PM_ANYONE = 0, MUC_PM_PARTICIPANTS, MUC_PM_MODERATORS, MUC_PM_NONE
} muc_allowpm;

/* A room's configuration (muc#roomconfig). Strings are owned (malloc'ed)
 * by whoever holds the struct; muc_config_clear frees them. */
typedef struct muc_config {
    char *name;             /* muc#roomconfig_roomname, NULL: none */
    char *desc;             /* muc#roomconfig_roomdesc */
    char *password;         /* muc#roomconfig_roomsecret (when protected) */
    bool persistent;
    bool public_room;       /* listed in disco#items of the service */
    bool members_only;
    bool moderated;
    bool password_protected;
    int max_users;          /* 1..MUC_MAXUSERS_CAP */
    muc_whois whois;
    int history_length;     /* 0..MUC_HISTORY_MAX */
    muc_allowpm allow_pm;
    bool allow_invites;     /* occupants (not only admins) may invite */
    bool change_subject;    /* participants may change the subject */
} muc_config;

/* One affiliation of a room: a bare JID (prepared) and its affiliation;
 * nick is the member's reserved nick or NULL. */
typedef struct muc_aff_entry {
    char *jid;
    muc_affiliation aff;
    char *nick;
} muc_aff_entry;

/* Defaults of a new room (XEP-0045 §10.1.3 style: temporary, public,
 * open, unmoderated, unsecured, semi-anonymous, history 20). */
void muc_config_defaults(muc_config *c);
void muc_config_copy(muc_config *dst, const muc_config *src);
void muc_config_clear(muc_config *c);

const char *muc_affiliation_name(muc_affiliation a);
const char *muc_role_name(muc_role r);
/* -1 when the name is unknown. */
int muc_affiliation_parse(const char *name);
int muc_role_parse(const char *name);

/* The worker that owns the room with this bare JID (prepared, e.g.
 * "team@conference.example.org"). Any thread. */
worker *muc_room_worker(const char *room_jid);

/* Creates (or, when it exists, reconfigures and re-affiliates) an unlocked
 * room from a loaded or computed state: config and n affiliations (copied).
 * No presence is sent to anyone on creation; on an existing room occupants
 * who lose membership in a members-only room are removed (status 321).
 * Any thread. */
void muc_room_load(const char *room_jid, const muc_config *cfg,
                   const muc_aff_entry *affs, size_t n);

/* Sets one affiliation (MUC_AFF_NONE removes it). An occupant who can no
 * longer be in the room (outcast, or not a member of a members-only room)
 * is removed with status 301 or 321. reason may be NULL. Any thread. */
void muc_room_set_affiliation(const char *room_jid, const char *user_bare,
                              muc_affiliation aff, const char *reason);

/* Destroys the room: occupants get unavailable presence with <destroy/>
 * (alternate venue and reason may be NULL). Any thread. */
void muc_room_destroy(const char *room_jid, const char *alt_venue, const char *reason);

/* Read-only view of a room for iteration (valid during the callback only,
 * on the owner worker). */
typedef struct muc_room_view {
    const char *jid;              /* bare room JID */
    const muc_config *config;
    const muc_aff_entry *affs;
    size_t naffs;
    size_t occupants;
    bool locked;                  /* created, not yet configured */
} muc_room_view;

/* Calls fn for every room owned by the calling worker. Owner worker. */
void muc_rooms_each_local(void (*fn)(const muc_room_view *v, void *ud), void *ud);

/* Persistence hook: called on the owner worker after a persistent room's
 * config or affiliations changed (and after creation of a persistent room,
 * or when a room stops being persistent: v->config->persistent false), and
 * with gone=true when a persistent room is destroyed. NULL (the default):
 * nothing is saved. Set once before the workers start (the store layer). */
#define MUC_SAVE_DONE 1     /* the hook takes a completion (muc_persist.c checks) */
typedef void (*muc_save_done_fn)(void *ctx, bool ok);
/* done (may be NULL) runs exactly once on the owner worker once the change
 * is committed (or failed, ok false), at once when nothing is stored; when
 * the worker stops first, ctx_free (may be NULL) gets ctx instead. */
typedef void (*muc_save_fn)(const muc_room_view *v, bool gone, muc_save_done_fn done,
                            void *ctx, void (*ctx_free)(void *ctx));
void muc_set_save_hook(muc_save_fn fn);

/* The MUC service host of served domain d (plucs/muc/host with %s = d,
 * malloc'ed), or NULL when plucs/muc is off. Any thread. */
char *muc_service_host(const char *d);

/* The server stops: every occupant of every room gets unavailable with
 * status 332. Called on the main thread before the streams close; waits
 * (at most 2 s) until every worker has sent them. */
void muc_system_shutdown(void);

/* Totals over all workers (approximate while rooms change; for status and
 * metrics). Any thread. */
size_t muc_rooms_count(void);
size_t muc_occupants_count(void);
unsigned long long muc_groupchat_count(void);

#endif
