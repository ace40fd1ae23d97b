/* store_pending.c: inbound subscription requests waiting for the user's
 * answer (table pending_in, RFC 6121 3.1.3: the server stores a request
 * for an offline user, or one not yet answered, and delivers it again at
 * every login until the user approves or denies it). One per contact: a
 * repeated request replaces the stored stanza. */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void store_pending_free(store_pending *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].contact);
        free(p->items[i].stanza);
    }
    free(p->items);
    free(p);
}

typedef struct {
    store_done_req done;
    char *user;
    char *contact;
    char *stanza;           /* add only */
} pending_req;

static bool pending_args_ok(const pending_req *q, const char *op)
{
    if (!q->user || !*q->user || !q->contact || !*q->contact) {
        log_err("store: %s without a user or contact", op);
        return false;
    }
    return true;
}

static store_status pending_add_exec(store_req *r, store_db *d)
{
    pending_req *q = (pending_req *)r;
    if (!pending_args_ok(q, "pending add"))
        return STORE_ERROR;
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO pending_in (user, contact, stanza) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (user, contact) DO UPDATE SET stanza = excluded.stanza");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, q->user);
    store_bind_text(st, 2, q->contact);
    store_bind_text(st, 3, q->stanza ? q->stanza : "");
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_db_fail(d, "pending add");
    return STORE_OK;
}

static store_status pending_del_exec(store_req *r, store_db *d)
{
    pending_req *q = (pending_req *)r;
    if (!pending_args_ok(q, "pending del"))
        return STORE_ERROR;
    sqlite3_stmt *st = store_db_stmt(d, "DELETE FROM pending_in WHERE user = ?1 AND contact = ?2");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, q->user);
    store_bind_text(st, 2, q->contact);
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_db_fail(d, "pending del");
    return sqlite3_changes(d->db) ? STORE_OK : STORE_NOT_FOUND;
}

static void pending_req_free(store_req *r)
{
    pending_req *q = (pending_req *)r;
    free(q->user);
    free(q->contact);
    free(q->stanza);
    free(q);
}

static const store_op pending_add_op = {
    "pending add", pending_add_exec, store_done_deliver, pending_req_free,
};
static const store_op pending_del_op = {
    "pending del", pending_del_exec, store_done_deliver, pending_req_free,
};

static void pending_submit(const store_op *op, worker *reply_to, const char *user,
                           const char *contact, const char *stanza, store_done_fn cb, void *arg)
{
    pending_req *q = store_xcalloc(1, sizeof *q);
    q->done.base.op = op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->user = store_xstrdup(user);
    q->contact = store_xstrdup(contact);
    q->stanza = store_xstrdup(stanza);
    store_submit(&q->done.base);
}

void store_pending_add(worker *reply_to, const char *user, const char *contact,
                       const char *stanza_xml, store_done_fn cb, void *arg)
{
    pending_submit(&pending_add_op, reply_to, user, contact, stanza_xml, cb, arg);
}

void store_pending_del(worker *reply_to, const char *user, const char *contact,
                       store_done_fn cb, void *arg)
{
    pending_submit(&pending_del_op, reply_to, user, contact, NULL, cb, arg);
}

/* ---- list ---- */

typedef struct {
    store_req base;
    store_pending_fn cb;
    void *arg;
    char *user;
    store_pending *res;
} pending_list_req;

static store_status pending_list_exec(store_req *r, store_db *d)
{
    pending_list_req *q = (pending_list_req *)r;
    if (!q->user || !*q->user) {
        log_err("store: pending list without a user");
        return STORE_ERROR;
    }
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT contact, stanza FROM pending_in WHERE user = ?1 ORDER BY contact");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, q->user);
    store_pending *res = q->res;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (res->n == cap) {
            cap = cap ? cap * 2 : 8;
            res->items = realloc(res->items, cap * sizeof *res->items);
            if (!res->items)
                abort();
        }
        store_pending_item *it = &res->items[res->n++];
        it->contact = store_column_strdup(st, 0);
        it->stanza = store_column_strdup(st, 1);
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "pending list");
    return STORE_OK;
}

static void pending_list_free(store_req *r)
{
    pending_list_req *q = (pending_list_req *)r;
    store_pending_free(q->res);
    free(q->user);
    free(q);
}

static void pending_list_deliver(store_req *r)
{
    pending_list_req *q = (pending_list_req *)r;
    store_pending *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status == STORE_ERROR) {
        for (size_t i = 0; i < res->n; i++) {
            free(res->items[i].contact);
            free(res->items[i].stanza);
        }
        res->n = 0;
    }
    if (q->cb)
        q->cb(q->arg, res);
    else
        store_pending_free(res);
    pending_list_free(r);
}

static const store_op pending_list_op = {
    "pending list", pending_list_exec, pending_list_deliver, pending_list_free,
};

void store_pending_list(worker *reply_to, const char *user, store_pending_fn cb, void *arg)
{
    pending_list_req *q = store_xcalloc(1, sizeof *q);
    q->base.op = &pending_list_op;
    q->base.reply_to = reply_to;
    q->cb = cb;
    q->arg = arg;
    q->user = store_xstrdup(user);
    q->res = store_xcalloc(1, sizeof *q->res);
    store_submit(&q->base);
}
