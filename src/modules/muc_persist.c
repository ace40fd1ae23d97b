/* muc_persist.c: persistent rooms (issue 13 point 3) between the room
 * engine (muc.h) and the store (store_muc.h). The engine calls our save
 * hook on the room's owner worker after a persistent room changed; we
 * serialize its configuration (muc_persist_codec.h) and affiliations and
 * queue one store_muc_save, which replaces both in one transaction; a room
 * destroyed or no longer persistent is deleted from the store. At start-up,
 * when worker 0 installs its first directory snapshot (published at once,
 * even before LDAP answers), every stored room is loaded and handed to the
 * engine with muc_room_load. Directory group rooms (muc_grouprooms.c) are
 * not stored: the directory is their source and recreates them. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/module.h"
#include "modules/muc.h"
#include "modules/muc_grouprooms_set.h"
#include "modules/muc_persist.h"
#include "modules/muc_persist_codec.h"
#include "router/router.h"
#include "store/store_muc.h"

static bool loading_started;     /* worker 0 only */

/* What a save carries to its completion. */
typedef struct save_ctx {
    char *room;
    void (*done)(void *ctx, bool ok);
    void *ctx;
    void (*ctx_free)(void *ctx);
} save_ctx;

static void save_ctx_free(void *arg)
{
    save_ctx *s = arg;
    if (s->ctx_free && s->ctx)
        s->ctx_free(s->ctx);
    free(s->room);
    free(s);
}

static void saved(void *arg, store_status st, int64_t value)
{
    save_ctx *s = arg;
    bool ok = st == STORE_OK || st == STORE_NOT_FOUND;
    if (!ok)
        log_err("muc: room %s: saving to the store failed (%s)", s->room, store_status_name(st));
    if (s->done) {
        s->done(s->ctx, ok);
        s->ctx = NULL;
    }
    save_ctx_free(s);
}

void muc_persist_save(const muc_room_view *v, bool gone, void (*done)(void *ctx, bool ok),
                      void *ctx, void (*ctx_free)(void *ctx))
{
    save_ctx *s = xcalloc(1, sizeof *s);
    s->room = xstrdup(v->jid);
    s->done = done;
    s->ctx = ctx;
    s->ctx_free = ctx_free;
    if (gone || !v->config->persistent) {
        store_muc_delete(worker_self(), v->jid, saved, s, save_ctx_free);
        return;
    }
    if (grouprooms_is_group_room(router_snapshot(), config_current(), v->jid)) {
        saved(s, STORE_OK, 0);      /* the directory recreates it */
        return;
    }
    char *text = muc_config_encode(v->config);
    store_muc_aff_in *affs = xcalloc(v->naffs ? v->naffs : 1, sizeof *affs);
    size_t n = 0;
    for (size_t i = 0; i < v->naffs; i++) {
        if (v->affs[i].aff == MUC_AFF_NONE)
            continue;
        affs[n].jid = v->affs[i].jid;
        affs[n].aff = muc_affiliation_name(v->affs[i].aff);
        affs[n].nick = v->affs[i].nick;
        affs[n].reason = "";
        n++;
    }
    store_muc_save(worker_self(), v->jid, text, NULL, true, affs, n, saved, s, save_ctx_free);
    free(affs);
    free(text);
}

#ifndef MUC_SAVE_DONE
/* An engine whose hook has no completion: save, answer at once. */
static void save_hook(const muc_room_view *v, bool gone)
{
    muc_persist_save(v, gone, NULL, NULL, NULL);
}
#endif

static void rooms_loaded(void *arg, store_muc_rooms *res)
{
    if (res->status != STORE_OK) {
        log_err("muc: loading the persistent rooms failed (%s): none available",
                store_status_name(res->status));
        store_muc_rooms_free(res);
        return;
    }
    for (size_t i = 0; i < res->n; i++) {
        store_muc_room *r = &res->rooms[i];
        muc_config cfg;
        muc_config_defaults(&cfg);
        muc_config_decode(r->config, &cfg);
        cfg.persistent = true;
        muc_aff_entry *affs = xcalloc(r->naffs ? r->naffs : 1, sizeof *affs);
        size_t n = 0;
        for (size_t j = 0; j < r->naffs; j++) {
            int a = muc_affiliation_parse(r->affs[j].aff);
            if (a < 0 || a == MUC_AFF_NONE)
                continue;
            affs[n].jid = r->affs[j].jid;
            affs[n].aff = (muc_affiliation)a;
            affs[n].nick = r->affs[j].nick;
            n++;
        }
        muc_room_load(r->jid, &cfg, affs, n);
        free(affs);
        muc_config_clear(&cfg);
    }
    log_info("muc: %zu persistent room(s) loaded from the store", res->n);
    store_muc_rooms_free(res);
}

static void on_snapshot(const dir_snapshot *old, const config *old_cfg, const dir_snapshot *snap)
{
    worker *self = worker_self();
    if (!self || worker_id(self) != 0 || loading_started)
        return;
    const config *c = config_current();
    if (c && !c->muc)
        return;
    loading_started = true;
    store_muc_load(self, rooms_loaded, NULL, NULL);
}

static void init(void)
{
    loading_started = false;
#ifdef MUC_SAVE_DONE
    muc_set_save_hook(muc_persist_save);
#else
    muc_set_save_hook(save_hook);
#endif
    module_hook_snapshot(on_snapshot);
}

static void shutdown_(void)
{
    muc_set_save_hook(NULL);
}

const module mod_muc_persist = {
    .name = "muc_persist",
    .init = init,
    .shutdown = shutdown_,
};
