/* store_motd.c: the message-of-the-day operations of store_motd.h: their
 * requests and delivery. One request type serves the five operations (they
 * carry the same few strings); the storage itself is the back end's
 * store_motd_ops (store_sqlite_motd.c for SQLite). */
#include "store/store_motd.h"
#include "core/alloc.h"

#include "store/store_ctx.h"

#include <stdlib.h>

void store_motd_free(store_motd *m)
{
    if (!m)
        return;
    free(m->text);
    free(m);
}

void store_motd_list_free(store_motd_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->domains[i]);
    free(l->domains);
    free(l->versions);
    free(l);
}

static const store_motd_ops *motd_ops(store_conn *c)
{
    if (!c->backend->motd)
        store_kind_missing(c, "message of the day");
    return c->backend->motd;
}

typedef enum { MOTD_GET, MOTD_TAKE, MOTD_SET, MOTD_DELETE, MOTD_DOMAINS } motd_kind;

typedef struct {
    store_ctx_done_req done;   /* set/delete answer with done.cb */
    store_motd_fn cb;          /* get/take */
    store_motd_list_fn list_cb;   /* domains */
    motd_kind kind;
    char *domain;
    char *user;
    char *text;
    store_motd *res;
    store_motd_list *list;     /* domains */
} motd_req;

static store_status motd_exec(store_req *r, store_conn *c)
{
    motd_req *q = (motd_req *)r;
    const store_motd_ops *ops = motd_ops(c);
    if (ops && q->kind == MOTD_DOMAINS)
        return ops->domains ? ops->domains(c, q->list) : STORE_ERROR;
    if (!ops || !store_ctx_user_ok(q->domain, "motd"))
        return STORE_ERROR;
    switch (q->kind) {
    case MOTD_GET:
        return ops->get(c, q->domain, q->res);
    case MOTD_TAKE:
        if (!store_ctx_user_ok(q->user, "motd take"))
            return STORE_ERROR;
        return ops->take(c, q->domain, q->user, q->res);
    case MOTD_SET:
        return ops->set(c, q->domain, q->text ? q->text : "", &q->done.value);
    case MOTD_DELETE:
        return ops->del(c, q->domain, &q->done.value);
    case MOTD_DOMAINS:
        break;
    }
    return STORE_ERROR;
}

static void motd_req_free(store_req *r)
{
    motd_req *q = (motd_req *)r;
    store_ctx_release(&q->done.ctx);
    store_motd_free(q->res);
    store_motd_list_free(q->list);
    free(q->domain);
    free(q->user);
    free(q->text);
    free(q);
}

static void motd_deliver(store_req *r)
{
    motd_req *q = (motd_req *)r;
    if (q->kind == MOTD_SET || q->kind == MOTD_DELETE) {
        store_ctx_done_deliver(r);
        return;
    }
    if (q->kind == MOTD_DOMAINS) {
        store_motd_list *l = q->list;
        q->list = NULL;
        l->status = r->status;
        if (l->status != STORE_OK) {
            for (size_t i = 0; i < l->n; i++)
                free(l->domains[i]);
            l->n = 0;
        }
        if (q->list_cb)
            q->list_cb(store_ctx_take_arg(&q->done.ctx), l);
        else
            store_motd_list_free(l);
        motd_req_free(r);
        return;
    }
    store_motd *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status != STORE_OK) {
        free(res->text);
        res->text = NULL;
    }
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->done.ctx), res);
    else
        store_motd_free(res);
    motd_req_free(r);
}

static const store_op motd_op = {
    "motd", motd_exec, motd_deliver, motd_req_free,
};

static motd_req *motd_req_new(motd_kind kind, worker *reply_to, const char *domain, void *arg,
                              store_arg_free_fn arg_free)
{
    motd_req *q = xcalloc(1, sizeof *q);
    store_ctx_init(&q->done.ctx, &motd_op, reply_to, arg, arg_free);
    q->kind = kind;
    q->domain = store_strdup_or_null(domain);
    q->res = xcalloc(1, sizeof *q->res);
    return q;
}

void store_motd_get(worker *reply_to, const char *domain, store_motd_fn cb, void *arg,
                    store_arg_free_fn arg_free)
{
    motd_req *q = motd_req_new(MOTD_GET, reply_to, domain, arg, arg_free);
    q->cb = cb;
    store_submit(&q->done.ctx.base);
}

void store_motd_take(worker *reply_to, const char *domain, const char *user, store_motd_fn cb,
                     void *arg, store_arg_free_fn arg_free)
{
    motd_req *q = motd_req_new(MOTD_TAKE, reply_to, domain, arg, arg_free);
    q->cb = cb;
    q->user = store_strdup_or_null(user);
    store_submit(&q->done.ctx.base);
}

void store_motd_set(worker *reply_to, const char *domain, const char *text, store_done_fn cb,
                    void *arg, store_arg_free_fn arg_free)
{
    motd_req *q = motd_req_new(MOTD_SET, reply_to, domain, arg, arg_free);
    q->done.cb = cb;
    q->text = store_strdup_or_null(text);
    store_submit(&q->done.ctx.base);
}

void store_motd_delete(worker *reply_to, const char *domain, store_done_fn cb, void *arg,
                       store_arg_free_fn arg_free)
{
    motd_req *q = motd_req_new(MOTD_DELETE, reply_to, domain, arg, arg_free);
    q->done.cb = cb;
    store_submit(&q->done.ctx.base);
}

void store_motd_domains(worker *reply_to, store_motd_list_fn cb, void *arg,
                        store_arg_free_fn arg_free)
{
    motd_req *q = motd_req_new(MOTD_DOMAINS, reply_to, NULL, arg, arg_free);
    q->list_cb = cb;
    q->list = xcalloc(1, sizeof *q->list);
    store_submit(&q->done.ctx.base);
}
