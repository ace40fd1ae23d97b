/* muc_room_api.c: the three "any thread" room functions of muc.h that
 * the persistence and directory group rooms need (muc_room_load,
 * muc_room_set_affiliation, muc_room_destroy), written by muc2 on top of
 * muc_internal.h because the engine did not have them yet. Each copies its
 * arguments and posts a job to the room's owner worker
 * (muc_room_worker), which applies it there. When the engine brings its
 * own versions, delete this file (the linker reports the duplicates). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "modules/muc_internal.h"

typedef struct {
    char *jid, *bare, *reason, *alt;
    muc_config cfg;
    muc_aff_entry *affs;
    size_t n;
    muc_affiliation aff;
} job;

static void job_free(void *a)
{
    job *j = a;
    free(j->jid);
    free(j->bare);
    free(j->reason);
    free(j->alt);
    muc_config_clear(&j->cfg);
    for (size_t i = 0; i < j->n; i++) {
        free(j->affs[i].jid);
        free(j->affs[i].nick);
    }
    free(j->affs);
    free(j);
}

static void load_run(void *a)
{
    job *j = a;
    muc_room *r = muc_find(j->jid);
    if (!r)
        r = muc_create(j->jid, NULL);
    muc_config_clear(&r->cfg);
    muc_config_copy(&r->cfg, &j->cfg);
    r->locked = false;
    muc_hist_resize(r);
    /* affiliations: exactly the new list */
    char **old = xcalloc(r->naffs + 1, sizeof *old);
    size_t nold = r->naffs;
    for (size_t i = 0; i < nold; i++)
        old[i] = xstrdup(r->affs[i].jid);
    for (size_t i = 0; i < nold; i++)
        muc_aff_set(r, old[i], MUC_AFF_NONE, NULL);
    for (size_t i = 0; i < j->n; i++)
        muc_aff_set(r, j->affs[i].jid, j->affs[i].aff, j->affs[i].nick);
    for (size_t i = 0; i < nold; i++) {
        muc_aff_enforce(r, old[i], NULL);
        free(old[i]);
    }
    free(old);
    muc_index_put(r->jid, r->creator, r->cfg.name, r->cfg.public_room);
    job_free(j);
}

void muc_room_load(const char *room_jid, const muc_config *cfg, const muc_aff_entry *affs,
                   size_t n)
{
    job *j = xcalloc(1, sizeof *j);
    j->jid = xstrdup(room_jid);
    muc_config_copy(&j->cfg, cfg);
    j->affs = xcalloc(n + 1, sizeof *j->affs);
    j->n = n;
    for (size_t i = 0; i < n; i++) {
        j->affs[i].jid = xstrdup(affs[i].jid);
        j->affs[i].aff = affs[i].aff;
        j->affs[i].nick = affs[i].nick ? xstrdup(affs[i].nick) : NULL;
    }
    worker_post_drop(muc_room_worker(room_jid), load_run, job_free, j);
}

static void aff_run(void *a)
{
    job *j = a;
    muc_room *r = muc_find(j->jid);
    if (r) {
        muc_aff_set(r, j->bare, j->aff, NULL);
        muc_aff_enforce(r, j->bare, j->reason);
    }
    job_free(j);
}

void muc_room_set_affiliation(const char *room_jid, const char *user_bare, muc_affiliation aff,
                              const char *reason)
{
    job *j = xcalloc(1, sizeof *j);
    j->jid = xstrdup(room_jid);
    j->bare = xstrdup(user_bare);
    j->aff = aff;
    j->reason = reason ? xstrdup(reason) : NULL;
    worker_post_drop(muc_room_worker(room_jid), aff_run, job_free, j);
}

static void destroy_run(void *a)
{
    job *j = a;
    muc_room *r = muc_find(j->jid);
    if (r)
        muc_destroy(r, j->alt, j->reason);
    job_free(j);
}

void muc_room_destroy(const char *room_jid, const char *alt_venue, const char *reason)
{
    job *j = xcalloc(1, sizeof *j);
    j->jid = xstrdup(room_jid);
    j->alt = alt_venue ? xstrdup(alt_venue) : NULL;
    j->reason = reason ? xstrdup(reason) : NULL;
    worker_post_drop(muc_room_worker(room_jid), destroy_run, job_free, j);
}
