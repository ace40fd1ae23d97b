/* muc_internal.h: the room and occupant structures shared by the muc_*.c
 * files (not for other parts: they use muc.h). A room and everything in it
 * lives on the worker muc_room_worker() names; nothing here is locked. */
#ifndef PLUCS_MUC_INTERNAL_H
#define PLUCS_MUC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "modules/muc.h"
#include "xml/xml.h"

typedef struct muc_occ {
    struct muc_occ *next;
    char *nick;
    char *bare;              /* real bare JID (prepared) */
    char **jids;             /* real full JIDs (several resources, one nick) */
    size_t njids;
    muc_role role;
    xnode *presence;         /* the last available presence (children only) */
    double tokens;           /* message rate bucket */
    double last;
} muc_occ;

typedef struct muc_hist {
    xnode *msg;              /* as fanned out (from room/nick, no 'to') */
    time_t when;
    size_t chars;
} muc_hist;

typedef struct muc_room {
    struct muc_room *next;
    char *jid;               /* bare room JID */
    char *creator;           /* bare JID of the creator */
    muc_config cfg;
    muc_aff_entry *affs;
    size_t naffs;
    muc_occ *occs;
    size_t nocc;
    xnode *subject;          /* the subject message (from room/nick), or NULL */
    bool locked;
    muc_hist *hist;          /* ring of cfg.history_length slots */
    size_t hcap, hstart, hn;
    unsigned long long serial;
} muc_room;

/* ---- muc_room.c ---- */
muc_room *muc_find(const char *room_jid);          /* on the owner worker */
muc_room *muc_create(const char *room_jid, const char *creator);
void muc_free_room(muc_room *r);                    /* unlinks and frees */
muc_affiliation muc_aff_of(const muc_room *r, const char *bare);
void muc_aff_set(muc_room *r, const char *bare, muc_affiliation a, const char *nick);
muc_occ *muc_occ_by_nick(const muc_room *r, const char *nick);
muc_occ *muc_occ_by_jid(const muc_room *r, const char *full);
/* Sends st (owned) from room/nick to every real JID of o. */
void muc_send_occ(const muc_room *r, const muc_occ *o, xnode *st);
/* The presence of o as seen by viewer (item with jid when allowed); codes
 * are appended as <status code/>. New node, no 'to'. */
xnode *muc_occ_presence(const muc_room *r, const muc_occ *o, const muc_occ *viewer,
                        bool unavailable, const int *codes, size_t ncodes);
/* Removes o: unavailable to everyone with codes (301 ban, 307 kick, 321
 * affiliation, 332 shutdown), actor/reason optional. Frees o. */
void muc_occ_remove(muc_room *r, muc_occ *o, const int *codes, size_t ncodes,
                    const char *reason, xnode *destroy);
/* After a role/affiliation change: everyone sees o's new presence. */
void muc_occ_broadcast(muc_room *r, muc_occ *o, const int *codes, size_t ncodes);
/* Applies the room's rules after an affiliation change of bare. */
void muc_aff_enforce(muc_room *r, const char *bare, const char *reason);
void muc_room_saved(muc_room *r);                 /* persistence hook */
/* The same; done(ctx, ok) once the change is committed (muc.h). */
void muc_room_saved_then(muc_room *r, muc_save_done_fn done, void *ctx,
                         void (*ctx_free)(void *ctx));
/* Destroys r (unavailable with <destroy/> to everyone) and frees it. */
void muc_destroy(muc_room *r, const char *alt, const char *reason);
void muc_maybe_vanish(muc_room *r);
void muc_rooms_free_local(void);                   /* worker exit */
void muc_rooms_shutdown_local(void);               /* 332 to every occupant */                /* temporary and empty */
/* Real-JID visibility: whether viewer may see real JIDs. */
bool muc_may_see_jids(const muc_room *r, const muc_occ *viewer);
muc_role muc_default_role(const muc_room *r, muc_affiliation a);
void muc_error(const xnode *st, const char *type, const char *cond, const char *text);

/* ---- muc_history.c ---- */
void muc_hist_add(muc_room *r, const xnode *msg);
void muc_hist_resize(muc_room *r);
void muc_hist_send(muc_room *r, const muc_occ *o, const xnode *req);
void muc_hist_clear(muc_room *r);

/* ---- muc_config.c ---- */
xnode *muc_config_form(const muc_room *r);
/* Applies a submitted form; 0, or -1 (bad value: error sent by caller). */
int muc_config_apply(muc_room *r, const xnode *x);
xnode *muc_room_info(const muc_room *r);            /* disco#info <query/> */

/* ---- muc_admin.c ---- */
void muc_admin_iq(muc_room *r, const xnode *iq, const xnode *q);
void muc_owner_iq(muc_room *r, const xnode *iq, const xnode *q);

/* ---- muc_invite.c ---- */
void muc_invite(muc_room *r, const xnode *msg, const xnode *x);

/* ---- mod_muc.c ---- */
void muc_stat_rooms(int delta);
void muc_stat_occupants(int delta);
void muc_stat_groupchat(void);
/* The global index of rooms (any thread): for service disco#items and
 * rooms-per-creator. */
void muc_index_put(const char *room_jid, const char *creator, const char *name, bool pub);
void muc_index_del(const char *room_jid);
/* Rooms live on different workers: the per-creator limit is checked and
 * the new room entered in one step under the index lock, so two creations
 * at once cannot both pass it. false: creator has max rooms already. */
bool muc_index_reserve(const char *room_jid, const char *creator, size_t max);
/* Whether policy (plucs/mod/filter) lets from_real send a message to
 * to_bare as a direct message would. */
bool muc_policy_allows(const char *from_real, const char *to_bare);
bool muc_may_create(const char *bare);

#endif
