/* muc_grouprooms.c: the module of muc_grouprooms.h. Worker 0 keeps the set
 * of group rooms it last applied; on every new snapshot (or a reload) it
 * computes the set the directory now calls for (muc_grouprooms_set.c) and
 * hands the differences to the room engine: new rooms are loaded with their
 * affiliations, members who joined the group become members, members who
 * left lose their affiliation (the engine removes them from the room with
 * status 321), rooms of groups that are gone or no longer XMPP groups are
 * destroyed with a reason. An incomplete snapshot (directory not read yet,
 * or lost) changes nothing. */
#include "modules/muc_grouprooms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/muc.h"
#include "modules/muc_grouprooms_set.h"

static gr_set *applied;          /* worker 0 only */

void grouprooms_room_config(muc_config *c, const char *name)
{
    muc_config_defaults(c);
    free(c->name);
    c->name = xstrdup(name);
    c->persistent = true;
    c->members_only = true;
    c->public_room = true;
    c->whois = MUC_WHOIS_ANYONE;
    c->allow_invites = false;
}

static void load_room(const gr_room *r)
{
    muc_config cfg;
    grouprooms_room_config(&cfg, r->name);
    muc_aff_entry *affs = xcalloc(r->naffs ? r->naffs : 1, sizeof *affs);
    for (size_t i = 0; i < r->naffs; i++) {
        affs[i].jid = r->affs[i].bare;
        affs[i].aff = r->affs[i].aff;
    }
    muc_room_load(r->jid, &cfg, affs, r->naffs);
    free(affs);
    muc_config_clear(&cfg);
}

static void apply(const gr_change *ch, void *ud)
{
    char reason[512];
    switch (ch->kind) {
    case GR_CREATE:
        log_info("muc: group room %s for group %s (%zu affiliation(s))", ch->room->jid,
                 ch->room->cn, ch->room->naffs);
        load_room(ch->room);
        break;
    case GR_RENAME:
        log_info("muc: group room %s renamed to '%s'", ch->room->jid, ch->room->name);
        load_room(ch->room);
        break;
    case GR_AFF:
        snprintf(reason, sizeof reason, "membership of the group %s changed in the directory",
                 ch->room->cn);
        log_info("muc: group room %s: %s is now %s", ch->room->jid, ch->bare,
                 muc_affiliation_name(ch->aff));
        muc_room_set_affiliation(ch->room->jid, ch->bare, ch->aff, reason);
        break;
    case GR_DESTROY:
        snprintf(reason, sizeof reason,
                 "The group %s was removed from the directory or is no longer an XMPP group",
                 ch->room->cn);
        log_info("muc: group room %s destroyed: %s", ch->room->jid, reason);
        muc_room_destroy(ch->room->jid, NULL, reason);
        break;
    }
}

static void on_snapshot(const dir_snapshot *old, const config *old_cfg, const dir_snapshot *snap)
{
    worker *self = worker_self();
    if (!self || worker_id(self) != 0)
        return;
    if (!snap || !snap->complete)
        return;     /* unknown: keep what was applied */
    gr_set *now = grouprooms_desired(snap, config_current());
    grouprooms_diff(applied, now, apply, NULL);
    grouprooms_set_free(applied);
    applied = now;
}

static void init(void)
{
    module_hook_snapshot(on_snapshot);
}

static void thread_exit(void)
{
    worker *self = worker_self();
    if (self && worker_id(self) == 0) {
        grouprooms_set_free(applied);
        applied = NULL;
    }
}

const module mod_muc_grouprooms = {
    .name = "muc_grouprooms",
    .init = init,
    .thread_exit = thread_exit,
};
