/* shared_roster.h: the directory-defined part of every roster
 * (directory.md "Shared roster"), computed from the immutable directory
 * snapshot: who appears in whose roster, under which groups. Pure functions
 * over the snapshot; no state, no I/O. */
#ifndef PLUCS_SHARED_ROSTER_H
#define PLUCS_SHARED_ROSTER_H

#include <stdbool.h>

#include "core/config.h"
#include "directory/directory.h"
#include "xml/xml.h"

/* Whether c appears in u's shared roster (never u itself, never another
 * domain's account). */
bool shared_visible(const dir_snapshot *s, enum roster_scope scope, const dir_account *u,
                    const dir_account *c);
/* Calls fn once for every shared contact of u. */
void shared_each(const dir_snapshot *s, enum roster_scope scope, const dir_account *u,
                 void (*fn)(const dir_account *c, void *ud), void *ud);
/* Calls fn once for every account that has u in its shared roster (who
 * receives u's presence). With scope "domain" this is not the same set as
 * u's own contacts: a user in no group sees the group members of the
 * domain, but appears in nobody's roster. */
void shared_observers_each(const dir_snapshot *s, enum roster_scope scope, const dir_account *u,
                           void (*fn)(const dir_account *c, void *ud), void *ud);
/* A roster <item/> for shared contact c as u sees it: jid, name (label),
 * subscription='both', one <group/> per shown group with a label. */
xnode *shared_item(const dir_snapshot *s, enum roster_scope scope, const dir_account *u,
                   const dir_account *c);
/* A hash over u's whole shared roster (for roster versions). */
unsigned long long shared_hash(const dir_snapshot *s, enum roster_scope scope,
                               const dir_account *u);

#endif
