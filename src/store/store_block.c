/* store_block.c: blocklists (XEP-0191) in table blocklist, one row per
 * (user, blocked JID). The blocking module keeps an online account's list
 * in memory and writes every change through to here; the list is read once
 * when the account's first session binds. */
#include "store/store_ctx.h"

#include <stdlib.h>

void store_blocklist_free(store_blocklist *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->items[i]);
    free(b->items);
    free(b->user);
    free(b);
}

static char **items_copy(const char *const *items, size_t n)
{
    if (!n)
        return NULL;
    char **v = store_xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = store_xstrdup(items[i] ? items[i] : "");
    return v;
}

static void items_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- get ---- */

typedef struct {
    store_ctx_req ctx;
    store_blocklist_fn cb;
    store_blocklist *res;
} block_get_req;

static store_status block_get_exec(store_req *r, store_db *d)
{
    block_get_req *q = (block_get_req *)r;
    store_blocklist *res = q->res;
    if (!store_ctx_user_ok(res->user, "block get"))
        return STORE_ERROR;
    sqlite3_stmt *st = store_db_stmt(d, "SELECT item FROM blocklist WHERE user = ?1 ORDER BY item");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, res->user);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (res->n == cap) {
            cap = cap ? cap * 2 : 8;
            res->items = realloc(res->items, cap * sizeof *res->items);
            if (!res->items)
                abort();
        }
        char *it = store_column_strdup(st, 0);
        res->items[res->n++] = it ? it : store_xstrdup("");
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "block get");
    return STORE_OK;
}

static void block_get_free(store_req *r)
{
    block_get_req *q = (block_get_req *)r;
    store_ctx_release(&q->ctx);
    store_blocklist_free(q->res);
    free(q);
}

static void block_get_deliver(store_req *r)
{
    block_get_req *q = (block_get_req *)r;
    store_blocklist *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status != STORE_OK) {      /* never a partial list */
        items_free(res->items, res->n);
        res->items = NULL;
        res->n = 0;
    }
    if (q->cb)
        q->cb(store_ctx_take_arg(&q->ctx), res);
    else
        store_blocklist_free(res);
    block_get_free(r);
}

static const store_op block_get_op = {
    "block get", block_get_exec, block_get_deliver, block_get_free,
};

void store_block_get(worker *reply_to, const char *user, store_blocklist_fn cb, void *arg,
                     store_arg_free_fn arg_free)
{
    block_get_req *q = store_xcalloc(1, sizeof *q);
    store_ctx_init(&q->ctx, &block_get_op, reply_to, arg, arg_free);
    q->cb = cb;
    q->res = store_xcalloc(1, sizeof *q->res);
    q->res->user = store_xstrdup(user);
    store_submit(&q->ctx.base);
}

/* ---- add / remove ---- */

typedef struct {
    store_ctx_done_req done;
    char *user;
    char **items;
    size_t n;
} block_change_req;

static store_status block_add_exec(store_req *r, store_db *d)
{
    block_change_req *q = (block_change_req *)r;
    if (!store_ctx_user_ok(q->user, "block add"))
        return STORE_ERROR;
    q->done.value = 0;
    for (size_t i = 0; i < q->n; i++) {
        sqlite3_stmt *st = store_db_stmt(d,
            "INSERT INTO blocklist (user, item) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
        if (!st)
            return STORE_ERROR;
        store_bind_text(st, 1, q->user);
        store_bind_text(st, 2, q->items[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            return store_db_fail(d, "block add");
        q->done.value += sqlite3_changes(d->db);
    }
    return STORE_OK;
}

static store_status block_remove_exec(store_req *r, store_db *d)
{
    block_change_req *q = (block_change_req *)r;
    if (!store_ctx_user_ok(q->user, "block remove"))
        return STORE_ERROR;
    q->done.value = 0;
    if (q->n == 0) {
        sqlite3_stmt *st = store_db_stmt(d, "DELETE FROM blocklist WHERE user = ?1");
        if (!st)
            return STORE_ERROR;
        store_bind_text(st, 1, q->user);
        if (sqlite3_step(st) != SQLITE_DONE)
            return store_db_fail(d, "block remove");
        q->done.value = sqlite3_changes(d->db);
        return STORE_OK;
    }
    for (size_t i = 0; i < q->n; i++) {
        sqlite3_stmt *st = store_db_stmt(d, "DELETE FROM blocklist WHERE user = ?1 AND item = ?2");
        if (!st)
            return STORE_ERROR;
        store_bind_text(st, 1, q->user);
        store_bind_text(st, 2, q->items[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            return store_db_fail(d, "block remove");
        q->done.value += sqlite3_changes(d->db);
    }
    return STORE_OK;
}

static void block_change_free(store_req *r)
{
    block_change_req *q = (block_change_req *)r;
    store_ctx_release(&q->done.ctx);
    free(q->user);
    items_free(q->items, q->n);
    free(q);
}

static const store_op block_add_op = {
    "block add", block_add_exec, store_ctx_done_deliver, block_change_free,
};

static const store_op block_remove_op = {
    "block remove", block_remove_exec, store_ctx_done_deliver, block_change_free,
};

static void block_change_submit(const store_op *op, worker *reply_to, const char *user,
                                const char *const *items, size_t n, store_done_fn cb, void *arg,
                                store_arg_free_fn arg_free)
{
    block_change_req *q = store_xcalloc(1, sizeof *q);
    store_ctx_init(&q->done.ctx, op, reply_to, arg, arg_free);
    q->done.cb = cb;
    q->user = store_xstrdup(user);
    q->items = items_copy(items, n);
    q->n = n;
    store_submit(&q->done.ctx.base);
}

void store_block_add(worker *reply_to, const char *user, const char *const *items, size_t n,
                     store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    block_change_submit(&block_add_op, reply_to, user, items, n, cb, arg, arg_free);
}

void store_block_remove(worker *reply_to, const char *user, const char *const *items, size_t n,
                        store_done_fn cb, void *arg, store_arg_free_fn arg_free)
{
    block_change_submit(&block_remove_op, reply_to, user, items, n, cb, arg, arg_free);
}
