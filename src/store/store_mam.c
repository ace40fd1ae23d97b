/* store_mam.c: the message archive operations of store_mam.h: their
 * requests, argument checks and delivery. The storage itself is the back
 * end's store_mam_ops (store_sqlite_mam.c for SQLite). */
#include "store/store_mam.h"
#include "core/alloc.h"

#include "store/store_ctx.h"
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static void strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static char **strv_copy(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **c = xcalloc(n + 1, sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = xstrdup(v[i]);
    return c;
}

void store_mam_result_free(store_mam_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->msgs[i].with);
        free(r->msgs[i].stanza);
    }
    free(r->msgs);
    free(r);
}

void store_mam_prefs_free(store_mam_prefs *p)
{
    if (!p)
        return;
    strv_free(p->always);
    strv_free(p->never);
    free(p);
}

static const store_mam_ops *mam_ops(store_conn *c)
{
    if (!c->backend->mam)
        store_kind_missing(c, "message archive");
    return c->backend->mam;
}

/* ---- put ---- */

typedef struct {
    store_done_req done;
    char *owner, *with, *stanza;
    int64_t id;
    int dir;
    bool in_roster;
} put_req;

static store_status put_exec(store_req *r, store_conn *c)
{
    put_req *q = (put_req *)r;
    const store_mam_ops *ops = mam_ops(c);
    if (!ops || !store_ctx_user_ok(q->owner, "archive put") || !q->with)
        return STORE_ERROR;
    return ops->put(c, q->owner, q->id, q->with, q->dir, q->stanza ? q->stanza : "",
                    q->in_roster, &q->done.value);
}

static void put_free(store_req *r)
{
    put_req *q = (put_req *)r;
    free(q->owner);
    free(q->with);
    free(q->stanza);
    free(q);
}

static const store_op put_op = { "archive put", put_exec, store_done_deliver, put_free };

void store_mam_put(worker *reply_to, const char *owner, int64_t id, const char *with, int dir,
                   const char *stanza, bool in_roster, store_done_fn cb, void *arg)
{
    put_req *q = xcalloc(1, sizeof *q);
    q->done.base.op = &put_op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->owner = store_strdup_or_null(owner);
    q->with = store_strdup_or_null(with);
    q->stanza = store_strdup_or_null(stanza);
    q->id = id;
    q->dir = dir;
    q->in_roster = in_roster;
    store_submit(&q->done.base);
}

/* ---- query ---- */

typedef struct {
    store_ctx_req ctx;
    store_mam_fn cb;
    store_mam_query q;
    store_mam_result *res;
} query_req;

static store_status query_exec(store_req *r, store_conn *c)
{
    query_req *q = (query_req *)r;
    const store_mam_ops *ops = mam_ops(c);
    if (!ops || !store_ctx_user_ok(q->q.owner, "archive query"))
        return STORE_ERROR;
    return ops->query(c, &q->q, q->res);
}

static void query_free(store_req *r)
{
    query_req *q = (query_req *)r;
    store_ctx_release(&q->ctx);
    store_mam_result_free(q->res);
    free(q->q.owner);
    free(q->q.with);
    free(q);
}

static void query_deliver(store_req *r)
{
    query_req *q = (query_req *)r;
    store_mam_result *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->ctx), res);
    else
        store_mam_result_free(res);
    query_free(r);
}

static const store_op query_op = { "archive query", query_exec, query_deliver, query_free };

void store_mam_query_run(worker *reply_to, const store_mam_query *in, store_mam_fn cb, void *arg,
                         store_arg_free_fn arg_free)
{
    query_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &query_op, reply_to, arg, arg_free);
    q->cb = cb;
    q->q = *in;
    q->q.owner = store_strdup_or_null(in->owner);
    q->q.with = store_strdup_or_null(in->with);
    q->res = xcalloc(1, sizeof *q->res);
    store_submit(&q->ctx.base);
}

/* ---- preferences ---- */

typedef struct {
    store_ctx_req ctx;
    store_mam_prefs_fn cb;
    store_done_fn done_cb;
    int64_t value;
    char *user;
    store_mam_prefs *p;        /* get: the result; set: what to store */
} prefs_req;

static store_status prefs_get_exec(store_req *r, store_conn *c)
{
    prefs_req *q = (prefs_req *)r;
    const store_mam_ops *ops = mam_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "archive prefs"))
        return STORE_ERROR;
    return ops->prefs_get(c, q->user, q->p);
}

static store_status prefs_set_exec(store_req *r, store_conn *c)
{
    prefs_req *q = (prefs_req *)r;
    const store_mam_ops *ops = mam_ops(c);
    if (!ops || !store_ctx_user_ok(q->user, "archive prefs"))
        return STORE_ERROR;
    return ops->prefs_set(c, q->user, q->p);
}

static void prefs_free(store_req *r)
{
    prefs_req *q = (prefs_req *)r;
    store_ctx_release(&q->ctx);
    store_mam_prefs_free(q->p);
    free(q->user);
    free(q);
}

static void prefs_get_deliver(store_req *r)
{
    prefs_req *q = (prefs_req *)r;
    store_mam_prefs *p = q->p;
    q->p = NULL;
    p->status = r->status;
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->ctx), p);
    else
        store_mam_prefs_free(p);
    prefs_free(r);
}

static void prefs_set_deliver(store_req *r)
{
    prefs_req *q = (prefs_req *)r;
    if (q->done_cb)
        q->done_cb(store_ctx_take_arg(&q->ctx), r->status, q->value);
    prefs_free(r);
}

static const store_op prefs_get_op = { "archive prefs get", prefs_get_exec, prefs_get_deliver,
                                       prefs_free };
static const store_op prefs_set_op = { "archive prefs set", prefs_set_exec, prefs_set_deliver,
                                       prefs_free };

void store_mam_prefs_get(worker *reply_to, const char *user, store_mam_prefs_fn cb, void *arg,
                         store_arg_free_fn arg_free)
{
    prefs_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &prefs_get_op, reply_to, arg, arg_free);
    q->cb = cb;
    q->user = store_strdup_or_null(user);
    q->p = xcalloc(1, sizeof *q->p);
    store_submit(&q->ctx.base);
}

void store_mam_prefs_set(worker *reply_to, const char *user, const store_mam_prefs *p,
                         store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    prefs_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &prefs_set_op, reply_to, arg, arg_free);
    q->done_cb = cb;
    q->user = store_strdup_or_null(user);
    q->p = xcalloc(1, sizeof *q->p);
    q->p->dflt = p->dflt;
    q->p->always = strv_copy(p->always);
    q->p->never = strv_copy(p->never);
    store_submit(&q->ctx.base);
}

/* ---- retention ---- */

typedef struct {
    store_done_req done;
    int64_t before_id;
    int batch;
} expire_req;

static store_status expire_exec(store_req *r, store_conn *c)
{
    expire_req *q = (expire_req *)r;
    const store_mam_ops *ops = mam_ops(c);
    if (!ops)
        return STORE_ERROR;
    return ops->expire(c, q->before_id, q->batch, &q->done.value);
}

static void expire_free(store_req *r) { free(r); }

static const store_op expire_op = { "archive expire", expire_exec, store_done_deliver,
                                    expire_free };

void store_mam_expire(worker *reply_to, int64_t before_id, int batch, store_done_fn cb, void *arg)
{
    expire_req *q = xcalloc(1, sizeof *q);
    q->done.base.op = &expire_op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->before_id = before_id;
    q->batch = batch > 0 ? batch : 1;
    store_submit(&q->done.base);
}
