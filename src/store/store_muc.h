/* store_muc.h: persistent group chat rooms (XEP-0045): each room's
 * configuration and its affiliations, so persistent rooms survive restarts.
 * Key: the room's bare JID (prepared); affiliations keyed by (room, user
 * bare JID). The store does not interpret the configuration: the room
 * engine's persistence (modules/muc_persist.c) serializes it as text.
 * Affiliations are stored by name: "owner", "admin", "member", "outcast"
 * ("none" is the absence of a row). Rules: a save replaces the room's
 * configuration and, when it carries an affiliation list, the whole list,
 * all or nothing; deleting a room deletes its affiliations. As for every
 * kind, the callback runs after the commit (store.h): a client may be told
 * of a change once it ran. Operations take an arg_free (store.h). */
#ifndef PLUCS_STORE_MUC_H
#define PLUCS_STORE_MUC_H

#include <stdbool.h>

#include "store/store.h"

typedef struct store_muc_aff {
    char *jid;             /* user bare JID */
    char *aff;             /* "owner", "admin", "member" or "outcast" */
    char *nick;            /* reserved nick or NULL */
    char *reason;          /* "" when none */
} store_muc_aff;

typedef struct store_muc_room {
    char *jid;             /* room bare JID */
    char *config;          /* the serialized configuration */
    char *creator;         /* bare JID, "" when unknown */
    int64_t created;       /* unix seconds of the first save */
    store_muc_aff *affs;   /* sorted by jid */
    size_t naffs;
} store_muc_room;

typedef struct store_muc_rooms {
    store_status status;
    store_muc_room *rooms; /* sorted by room JID */
    size_t n;
} store_muc_rooms;

void store_muc_rooms_free(store_muc_rooms *r);    /* NULL is fine */
typedef void (*store_muc_rooms_fn)(void *arg, store_muc_rooms *res);

/* An affiliation handed to a save (strings borrowed, copied by the call). */
typedef struct store_muc_aff_in {
    const char *jid, *aff, *nick, *reason;
} store_muc_aff_in;

/* Every stored room with its affiliations. */
void store_muc_load(worker *reply_to, store_muc_rooms_fn cb, void *arg,
                    store_arg_free_fn arg_free);
/* Stores (replacing) room's configuration; creator is kept from the first
 * save (NULL: ""). replace_affs: the room's affiliations become exactly
 * affs[0..n) (n may be 0); otherwise they are not touched. value: the
 * number of affiliations written. An aff name that is not one of the four
 * fails the whole save (STORE_ERROR, nothing written). */
void store_muc_save(worker *reply_to, const char *room, const char *config, const char *creator,
                    bool replace_affs, const store_muc_aff_in *affs, size_t n,
                    store_done_fn cb, void *arg, store_arg_free_fn arg_free);
/* Sets one affiliation of room (aff NULL or "none": removes it; value 1 if
 * a row was removed, STORE_NOT_FOUND when there was none). */
void store_muc_aff_set(worker *reply_to, const char *room, const char *jid, const char *aff,
                       const char *nick, const char *reason, store_done_fn cb, void *arg,
                       store_arg_free_fn arg_free);
/* Deletes room and its affiliations; value: rows deleted (STORE_NOT_FOUND
 * when the room was not stored). */
void store_muc_delete(worker *reply_to, const char *room, store_done_fn cb, void *arg,
                      store_arg_free_fn arg_free);

#endif
