/* store_private.c: private XML storage (XEP-0049) in table private_xml: one
 * serialized element per (user, namespace, element name). The module checks
 * what may be stored; the stanza size limit bounds each element. */
#include "store/store_ctx.h"

#include <stdlib.h>

void store_private_free(store_private *p)
{
    if (!p)
        return;
    free(p->xml);
    free(p);
}

/* ---- get ---- */

typedef struct {
    store_ctx_req ctx;
    store_private_fn cb;
    char *user;
    char *name;
    char *ns;
    store_private *res;
} private_get_req;

static store_status private_get_exec(store_req *r, store_db *d)
{
    private_get_req *q = (private_get_req *)r;
    if (!store_ctx_user_ok(q->user, "private get"))
        return STORE_ERROR;
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT xml FROM private_xml WHERE user = ?1 AND ns = ?2 AND name = ?3");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, q->user);
    store_bind_text(st, 2, q->ns ? q->ns : "");
    store_bind_text(st, 3, q->name ? q->name : "");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    if (rc != SQLITE_ROW)
        return store_db_fail(d, "private get");
    q->res->xml = store_column_strdup(st, 0);
    return STORE_OK;
}

static void private_get_free(store_req *r)
{
    private_get_req *q = (private_get_req *)r;
    store_ctx_release(&q->ctx);
    store_private_free(q->res);
    free(q->user);
    free(q->name);
    free(q->ns);
    free(q);
}

static void private_get_deliver(store_req *r)
{
    private_get_req *q = (private_get_req *)r;
    store_private *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status != STORE_OK) {
        free(res->xml);
        res->xml = NULL;
    }
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->ctx), res);
    else
        store_private_free(res);
    private_get_free(r);
}

static const store_op private_get_op = {
    "private get", private_get_exec, private_get_deliver, private_get_free,
};

void store_private_get(worker *reply_to, const char *user, const char *name, const char *ns,
                       store_private_fn cb, void *arg, store_arg_free_fn arg_free)
{
    private_get_req *q = store_xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &private_get_op, reply_to, arg, arg_free);
    q->cb = cb;
    q->user = store_xstrdup(user);
    q->name = store_xstrdup(name);
    q->ns = store_xstrdup(ns);
    q->res = store_xcalloc(1, sizeof *q->res);
    store_submit(&q->ctx.base);
}

/* ---- set ---- */

typedef struct {
    char *name, *ns, *xml;
} private_row;

typedef struct {
    store_ctx_done_req done;
    char *user;
    private_row *rows;
    size_t n;
} private_set_req;

static store_status private_set_exec(store_req *r, store_db *d)
{
    private_set_req *q = (private_set_req *)r;
    if (!store_ctx_user_ok(q->user, "private set"))
        return STORE_ERROR;
    q->done.value = 0;
    for (size_t i = 0; i < q->n; i++) {
        sqlite3_stmt *st = store_db_stmt(d,
            "INSERT INTO private_xml (user, ns, name, xml) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT (user, ns, name) DO UPDATE SET xml = excluded.xml");
        if (!st)
            return STORE_ERROR;
        store_bind_text(st, 1, q->user);
        store_bind_text(st, 2, q->rows[i].ns);
        store_bind_text(st, 3, q->rows[i].name);
        store_bind_text(st, 4, q->rows[i].xml);
        if (sqlite3_step(st) != SQLITE_DONE)
            return store_db_fail(d, "private set");
        q->done.value++;
    }
    return STORE_OK;
}

static void private_set_free(store_req *r)
{
    private_set_req *q = (private_set_req *)r;
    store_ctx_release(&q->done.ctx);
    for (size_t i = 0; i < q->n; i++) {
        free(q->rows[i].name);
        free(q->rows[i].ns);
        free(q->rows[i].xml);
    }
    free(q->rows);
    free(q->user);
    free(q);
}

static const store_op private_set_op = {
    "private set", private_set_exec, store_ctx_done_deliver, private_set_free,
};

void store_private_set(worker *reply_to, const char *user, const store_private_entry *entries,
                       size_t n, store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    private_set_req *q = store_xcalloc(1, sizeof *q);
    store_ctx_init(&q->done.ctx, &private_set_op, reply_to, arg, arg_free);
    q->done.cb = cb;
    q->user = store_xstrdup(user);
    q->rows = store_xcalloc(n, sizeof *q->rows);
    q->n = n;
    for (size_t i = 0; i < n; i++) {
        q->rows[i].name = store_xstrdup(entries[i].name ? entries[i].name : "");
        q->rows[i].ns = store_xstrdup(entries[i].ns ? entries[i].ns : "");
        q->rows[i].xml = store_xstrdup(entries[i].xml ? entries[i].xml : "");
    }
    store_submit(&q->done.ctx.base);
}
