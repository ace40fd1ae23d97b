/* store_muc.c: the persistent room operations of store_muc.h: their
 * requests, argument checks and delivery. The storage itself is the back
 * end's store_muc_ops (store_sqlite_muc.c for SQLite). */
#include "store/store_muc.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/store_ctx.h"

static void aff_clear(store_muc_aff *a)
{
    free(a->jid);
    free(a->aff);
    free(a->nick);
    free(a->reason);
}

void store_muc_rooms_free(store_muc_rooms *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        store_muc_room *m = &r->rooms[i];
        for (size_t j = 0; j < m->naffs; j++)
            aff_clear(&m->affs[j]);
        free(m->affs);
        free(m->jid);
        free(m->config);
        free(m->creator);
    }
    free(r->rooms);
    free(r);
}

static const store_muc_ops *muc_ops(store_conn *c)
{
    if (!c->backend->muc)
        store_kind_missing(c, "group chat rooms");
    return c->backend->muc;
}

static bool room_ok(const char *room, const char *op)
{
    if (!room || !*room) {
        log_err("store: %s without a room", op);
        return false;
    }
    return true;
}

static bool aff_name_ok(const char *a)
{
    return a && (strcmp(a, "owner") == 0 || strcmp(a, "admin") == 0 ||
                 strcmp(a, "member") == 0 || strcmp(a, "outcast") == 0);
}

/* ---- load ---- */

typedef struct {
    store_ctx_req ctx;
    store_muc_rooms_fn cb;
    store_muc_rooms *res;
} muc_load_req;

static store_status muc_load_exec(store_req *r, store_conn *c)
{
    muc_load_req *q = (muc_load_req *)r;
    const store_muc_ops *ops = muc_ops(c);
    if (!ops)
        return STORE_ERROR;
    return ops->load(c, q->res);
}

static void muc_load_free(store_req *r)
{
    muc_load_req *q = (muc_load_req *)r;
    store_ctx_release(&q->ctx);
    store_muc_rooms_free(q->res);
    free(q);
}

static void muc_load_deliver(store_req *r)
{
    muc_load_req *q = (muc_load_req *)r;
    store_muc_rooms *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status != STORE_OK) {
        store_muc_rooms *empty = xcalloc(1, sizeof *empty);
        empty->status = res->status;
        store_muc_rooms_free(res);
        res = empty;
    }
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->ctx), res);
    else
        store_muc_rooms_free(res);
    muc_load_free(r);
}

static const store_op muc_load_op = {
    "muc load", muc_load_exec, muc_load_deliver, muc_load_free,
};

void store_muc_load(worker *reply_to, store_muc_rooms_fn cb, void *arg,
                    store_arg_free_fn arg_free)
{
    muc_load_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &muc_load_op, reply_to, arg, arg_free);
    q->cb = cb;
    q->res = xcalloc(1, sizeof *q->res);
    store_submit(&q->ctx.base);
}

/* ---- save ---- */

typedef struct {
    store_ctx_done_req done;
    char *room, *config, *creator;
    bool replace_affs;
    store_muc_aff *affs;
    size_t n;
    int64_t created;
} muc_save_req;

static store_status muc_save_exec(store_req *r, store_conn *c)
{
    muc_save_req *q = (muc_save_req *)r;
    const store_muc_ops *ops = muc_ops(c);
    if (!ops || !room_ok(q->room, "muc save"))
        return STORE_ERROR;
    q->done.value = 0;
    if (ops->put_room(c, q->room, q->config, q->creator, q->created) != STORE_OK)
        return STORE_ERROR;
    if (!q->replace_affs)
        return STORE_OK;
    if (ops->clear_affs(c, q->room) != STORE_OK)
        return STORE_ERROR;
    for (size_t i = 0; i < q->n; i++) {
        store_muc_aff *a = &q->affs[i];
        if (!a->jid || !*a->jid || !aff_name_ok(a->aff)) {
            log_err("store: muc save %s: invalid affiliation '%s' for '%s'", q->room,
                    a->aff ? a->aff : "", a->jid ? a->jid : "");
            return STORE_ERROR;     /* the savepoint undoes the rows written */
        }
        if (ops->put_aff(c, q->room, a->jid, a->aff, a->nick, a->reason) != STORE_OK)
            return STORE_ERROR;
        q->done.value++;
    }
    return STORE_OK;
}

static void muc_save_free(store_req *r)
{
    muc_save_req *q = (muc_save_req *)r;
    store_ctx_release(&q->done.ctx);
    for (size_t i = 0; i < q->n; i++)
        aff_clear(&q->affs[i]);
    free(q->affs);
    free(q->room);
    free(q->config);
    free(q->creator);
    free(q);
}

static const store_op muc_save_op = {
    "muc save", muc_save_exec, store_ctx_done_deliver, muc_save_free,
};

void store_muc_save(worker *reply_to, const char *room, const char *config, const char *creator,
                    bool replace_affs, const store_muc_aff_in *affs, size_t n,
                    store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    muc_save_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->done.ctx, &muc_save_op, reply_to, arg, arg_free);
    q->done.cb = cb;
    q->room = store_strdup_or_null(room);
    q->config = store_strdup_or_null(config ? config : "");
    q->creator = store_strdup_or_null(creator ? creator : "");
    q->created = store_now_ms() / 1000;
    q->replace_affs = replace_affs;
    if (replace_affs && n) {
        q->affs = xcalloc(n, sizeof *q->affs);
        q->n = n;
        for (size_t i = 0; i < n; i++) {
            q->affs[i].jid = store_strdup_or_null(affs[i].jid);
            q->affs[i].aff = store_strdup_or_null(affs[i].aff);
            q->affs[i].nick = store_strdup_or_null(affs[i].nick);
            q->affs[i].reason = store_strdup_or_null(affs[i].reason ? affs[i].reason : "");
        }
    }
    store_submit(&q->done.ctx.base);
}

/* ---- one affiliation ---- */

typedef struct {
    store_ctx_done_req done;
    char *room;
    store_muc_aff a;
} muc_aff_req;

static store_status muc_aff_exec(store_req *r, store_conn *c)
{
    muc_aff_req *q = (muc_aff_req *)r;
    const store_muc_ops *ops = muc_ops(c);
    if (!ops || !room_ok(q->room, "muc affiliation") || !store_ctx_user_ok(q->a.jid, "muc affiliation"))
        return STORE_ERROR;
    q->done.value = 0;
    if (!q->a.aff || strcmp(q->a.aff, "none") == 0) {
        if (ops->del_aff(c, q->room, q->a.jid, &q->done.value) != STORE_OK)
            return STORE_ERROR;
        return q->done.value ? STORE_OK : STORE_NOT_FOUND;
    }
    if (!aff_name_ok(q->a.aff)) {
        log_err("store: muc affiliation %s: invalid affiliation '%s'", q->room, q->a.aff);
        return STORE_ERROR;
    }
    if (ops->put_aff(c, q->room, q->a.jid, q->a.aff, q->a.nick, q->a.reason) != STORE_OK)
        return STORE_ERROR;
    q->done.value = 1;
    return STORE_OK;
}

static void muc_aff_free(store_req *r)
{
    muc_aff_req *q = (muc_aff_req *)r;
    store_ctx_release(&q->done.ctx);
    aff_clear(&q->a);
    free(q->room);
    free(q);
}

static const store_op muc_aff_op = {
    "muc affiliation", muc_aff_exec, store_ctx_done_deliver, muc_aff_free,
};

void store_muc_aff_set(worker *reply_to, const char *room, const char *jid, const char *aff,
                       const char *nick, const char *reason, store_done_fn cb, void *arg,
                       store_arg_free_fn arg_free)
{
    muc_aff_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->done.ctx, &muc_aff_op, reply_to, arg, arg_free);
    q->done.cb = cb;
    q->room = store_strdup_or_null(room);
    q->a.jid = store_strdup_or_null(jid);
    q->a.aff = store_strdup_or_null(aff);
    q->a.nick = store_strdup_or_null(nick);
    q->a.reason = store_strdup_or_null(reason ? reason : "");
    store_submit(&q->done.ctx.base);
}

/* ---- delete ---- */

typedef struct {
    store_ctx_done_req done;
    char *room;
} muc_del_req;

static store_status muc_del_exec(store_req *r, store_conn *c)
{
    muc_del_req *q = (muc_del_req *)r;
    const store_muc_ops *ops = muc_ops(c);
    if (!ops || !room_ok(q->room, "muc delete"))
        return STORE_ERROR;
    q->done.value = 0;
    if (ops->del_room(c, q->room, &q->done.value) != STORE_OK)
        return STORE_ERROR;
    return q->done.value ? STORE_OK : STORE_NOT_FOUND;
}

static void muc_del_free(store_req *r)
{
    muc_del_req *q = (muc_del_req *)r;
    store_ctx_release(&q->done.ctx);
    free(q->room);
    free(q);
}

static const store_op muc_del_op = {
    "muc delete", muc_del_exec, store_ctx_done_deliver, muc_del_free,
};

void store_muc_delete(worker *reply_to, const char *room, store_done_fn cb, void *arg,
                      store_arg_free_fn arg_free)
{
    muc_del_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->done.ctx, &muc_del_op, reply_to, arg, arg_free);
    q->done.cb = cb;
    q->room = store_strdup_or_null(room);
    store_submit(&q->done.ctx.base);
}
