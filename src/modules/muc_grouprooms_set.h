/* muc_grouprooms_set.h: directory group rooms (plucs/muc/grouprooms) as pure
 * functions: the set of rooms one directory snapshot and configuration call
 * for, and the differences between two such sets. No state, no I/O, no room
 * engine: muc_grouprooms.c applies the differences through muc.h, and the
 * unit test (test_muc_grouprooms.c) checks the rules over two snapshots.
 *
 * Rules: when plucs/muc and plucs/muc/grouprooms are on and the snapshot is
 * complete, every XMPP group with XMPP members in a served domain D has one
 * room GROUP@HOST(D) (GROUP: the group's cn nodeprepped; HOST: plucs/muc/host
 * with %s = D). Its name is the group's label (plucs/grouplabel), or the cn
 * without one. Its affiliations: the group's members in D are members; every
 * XMPP member (any domain) of the group plucs/muc/grouprooms/owners is owner
 * (also a member who is in the owners group); nobody else has one. A group
 * whose cn does not nodeprep, or whose localpart another group took first
 * (sorted by cn), has no room. */
#ifndef PLUCS_MUC_GROUPROOMS_SET_H
#define PLUCS_MUC_GROUPROOMS_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "directory/directory.h"
#include "modules/muc.h"

typedef struct gr_aff {
    char *bare;
    muc_affiliation aff;       /* MUC_AFF_MEMBER or MUC_AFF_OWNER */
} gr_aff;

typedef struct gr_room {
    char *jid;                 /* GROUP@HOST(D) */
    char *cn;                  /* the group's cn as in the directory */
    char *name;                /* label, or cn */
    gr_aff *affs;              /* sorted by bare */
    size_t naffs;
} gr_room;

typedef struct gr_set {
    bool active;               /* false: group rooms off or snapshot incomplete */
    gr_room *rooms;            /* sorted by jid */
    size_t n;
} gr_set;

/* The rooms snap and cfg call for (never NULL; empty and !active when
 * cfg->muc or cfg->muc_grouprooms is off, snap is NULL or incomplete). */
gr_set *grouprooms_desired(const dir_snapshot *snap, const config *cfg);
void grouprooms_set_free(gr_set *s);                 /* NULL is fine */
const gr_room *grouprooms_find(const gr_set *s, const char *room_jid);
/* plucs/muc/host for domain: fmt with %s replaced by domain (malloc'ed,
 * lower case); fmt NULL or "": "conference." domain. */
char *grouprooms_host(const char *fmt, const char *domain);

/* Whether room_jid is one of the group rooms snap and cfg call for. */
bool grouprooms_is_group_room(const dir_snapshot *snap, const config *cfg, const char *room_jid);

typedef enum gr_change_kind {
    GR_CREATE,                 /* room is new: create it with all its affiliations */
    GR_RENAME,                 /* room's name changed (ch->room is the new state) */
    GR_AFF,                    /* ch->bare's affiliation becomes ch->aff (NONE: removed) */
    GR_DESTROY,                /* room (the old state) is no longer wanted */
} gr_change_kind;

typedef struct gr_change {
    gr_change_kind kind;
    const gr_room *room;
    const char *bare;          /* GR_AFF only */
    muc_affiliation aff;       /* GR_AFF only */
} gr_change;

/* Calls fn for every difference from old to now (both may be NULL: empty),
 * rooms in jid order, a room's affiliation changes in bare order. */
void grouprooms_diff(const gr_set *old, const gr_set *now,
                     void (*fn)(const gr_change *ch, void *ud), void *ud);

#endif
