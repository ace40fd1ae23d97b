/* muc_api.c: the thread-safe entry points of muc.h for other parts (the
 * store's persistent rooms, directory group rooms): each copies its
 * arguments and posts a job to the room's owner worker. */
#include "modules/muc_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"

typedef struct load_job {
    char *room;
    muc_config cfg;
    muc_aff_entry *affs;
    size_t n;
} load_job;

static void load_free(void *arg)
{
    load_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        free(j->affs[i].jid);
        free(j->affs[i].nick);
    }
    free(j->affs);
    muc_config_clear(&j->cfg);
    free(j->room);
    free(j);
}

static void load_run(void *arg)
{
    load_job *j = arg;
    muc_room *r = muc_find(j->room);
    if (!r)
        r = muc_create(j->room, NULL);
    muc_config_clear(&r->cfg);
    muc_config_copy(&r->cfg, &j->cfg);
    muc_hist_resize(r);
    r->locked = false;
    /* the new list replaces the old one; occupants who lose their place
     * are removed (321) */
    muc_aff_entry *old = r->affs;
    size_t nold = r->naffs;
    r->affs = NULL;
    r->naffs = 0;
    for (size_t i = 0; i < j->n; i++)
        muc_aff_set(r, j->affs[i].jid, j->affs[i].aff, j->affs[i].nick);
    for (size_t i = 0; i < nold; i++) {
        if (muc_aff_of(r, old[i].jid) != old[i].aff)
            muc_aff_enforce(r, old[i].jid, NULL);
        free(old[i].jid);
        free(old[i].nick);
    }
    free(old);
    for (size_t i = 0; i < j->n; i++)
        muc_aff_enforce(r, j->affs[i].jid, NULL);   /* new roles of present occupants */
    for (muc_occ *o = r->occs, *next; o; o = next) {
        next = o->next;
        if (r->cfg.members_only && muc_aff_of(r, o->bare) < MUC_AFF_MEMBER) {
            int c = 321;
            muc_occ_remove(r, o, &c, 1, NULL, NULL);
        }
    }
    muc_index_put(r->jid, r->creator, r->cfg.name, r->cfg.public_room);
    load_free(j);
}

void muc_room_load(const char *room_jid, const muc_config *cfg, const muc_aff_entry *affs,
                   size_t n)
{
    worker *w = muc_room_worker(room_jid);
    if (!w)
        return;
    load_job *j = xcalloc(1, sizeof *j);
    j->room = xstrdup(room_jid);
    muc_config_copy(&j->cfg, cfg);
    j->affs = xcalloc(n ? n : 1, sizeof *j->affs);
    for (size_t i = 0; i < n; i++) {
        j->affs[i].jid = xstrdup(affs[i].jid);
        j->affs[i].aff = affs[i].aff;
        j->affs[i].nick = affs[i].nick ? xstrdup(affs[i].nick) : NULL;
    }
    j->n = n;
    worker_post_drop(w, load_run, load_free, j);
}

typedef struct aff_job {
    char *room, *user, *reason, *alt;
    muc_affiliation aff;
} aff_job;

static void aff_free(void *arg)
{
    aff_job *j = arg;
    free(j->room);
    free(j->user);
    free(j->reason);
    free(j->alt);
    free(j);
}

static void aff_run(void *arg)
{
    aff_job *j = arg;
    muc_room *r = muc_find(j->room);
    if (r) {
        muc_aff_set(r, j->user, j->aff, NULL);
        muc_aff_enforce(r, j->user, j->reason);
        muc_room_saved(r);
    }
    aff_free(j);
}

static aff_job *job(const char *room, const char *user, const char *reason, const char *alt)
{
    aff_job *j = xcalloc(1, sizeof *j);
    j->room = xstrdup(room);
    j->user = user ? xstrdup(user) : NULL;
    j->reason = reason ? xstrdup(reason) : NULL;
    j->alt = alt ? xstrdup(alt) : NULL;
    return j;
}

void muc_room_set_affiliation(const char *room_jid, const char *user_bare, muc_affiliation aff,
                              const char *reason)
{
    worker *w = muc_room_worker(room_jid);
    if (!w || !user_bare)
        return;
    aff_job *j = job(room_jid, user_bare, reason, NULL);
    j->aff = aff;
    worker_post_drop(w, aff_run, aff_free, j);
}

static void destroy_run(void *arg)
{
    aff_job *j = arg;
    muc_room *r = muc_find(j->room);
    if (r)
        muc_destroy(r, j->alt, j->reason);
    aff_free(j);
}

void muc_room_destroy(const char *room_jid, const char *alt_venue, const char *reason)
{
    worker *w = muc_room_worker(room_jid);
    if (!w)
        return;
    worker_post_drop(w, destroy_run, aff_free, job(room_jid, NULL, reason, alt_venue));
}
