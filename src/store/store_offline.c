/* store_offline.c: messages kept for users who are not online (table
 * offline). A push reports success only after its batch is committed and
 * fsynced; the per-user limit (plucs/offline/max) is checked in the same
 * transaction as the insert, so concurrent pushes cannot overshoot it.
 * Reading does not delete: the caller acknowledges what it delivered
 * (store_offline_ack with the highest id), so messages fetched just before
 * a crash are delivered again rather than lost. */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void store_offline_free(store_offline *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        free(o->msgs[i].stanza);
    free(o->msgs);
    free(o);
}

static bool user_ok(const char *user, const char *op)
{
    if (!user || !*user) {
        log_err("store: %s without a user", op);
        return false;
    }
    return true;
}

/* Number of messages stored for user, -1 on error. */
static int64_t offline_count(store_db *d, const char *user)
{
    sqlite3_stmt *st = store_db_stmt(d, "SELECT COUNT(*) FROM offline WHERE user = ?1");
    if (!st)
        return -1;
    store_bind_text(st, 1, user);
    if (sqlite3_step(st) != SQLITE_ROW) {
        store_db_fail(d, "offline count");
        return -1;
    }
    return sqlite3_column_int64(st, 0);
}

/* ---- push / ack / count: answered with store_done_fn ---- */

typedef struct {
    store_done_req done;
    char *user;
    char *stanza;           /* push */
    int64_t stamp;          /* push: when it was asked for */
    int64_t num;            /* push: max; ack: max_id */
} offline_req;

static store_status offline_push_exec(store_req *r, store_db *d)
{
    offline_req *q = (offline_req *)r;
    if (!user_ok(q->user, "offline push"))
        return STORE_ERROR;
    if (q->num <= 0)
        return STORE_FULL;
    int64_t have = offline_count(d, q->user);
    if (have < 0)
        return STORE_ERROR;
    if (have >= q->num) {
        q->done.value = have;
        return STORE_FULL;
    }
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO offline (user, stamp, stanza) VALUES (?1, ?2, ?3)");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, q->user);
    sqlite3_bind_int64(st, 2, q->stamp);
    store_bind_text(st, 3, q->stanza ? q->stanza : "");
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_db_fail(d, "offline push");
    q->done.value = sqlite3_last_insert_rowid(d->db);
    return STORE_OK;
}

static store_status offline_ack_exec(store_req *r, store_db *d)
{
    offline_req *q = (offline_req *)r;
    if (!user_ok(q->user, "offline ack"))
        return STORE_ERROR;
    sqlite3_stmt *st = store_db_stmt(d, "DELETE FROM offline WHERE user = ?1 AND id <= ?2");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, q->user);
    sqlite3_bind_int64(st, 2, q->num);
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_db_fail(d, "offline ack");
    q->done.value = sqlite3_changes(d->db);
    return STORE_OK;
}

static store_status offline_count_exec(store_req *r, store_db *d)
{
    offline_req *q = (offline_req *)r;
    if (!user_ok(q->user, "offline count"))
        return STORE_ERROR;
    q->done.value = offline_count(d, q->user);
    return q->done.value < 0 ? STORE_ERROR : STORE_OK;
}

static void offline_req_free(store_req *r)
{
    offline_req *q = (offline_req *)r;
    free(q->user);
    free(q->stanza);
    free(q);
}

static const store_op offline_push_op = {
    "offline push", offline_push_exec, store_done_deliver, offline_req_free,
};
static const store_op offline_ack_op = {
    "offline ack", offline_ack_exec, store_done_deliver, offline_req_free,
};
static const store_op offline_count_op = {
    "offline count", offline_count_exec, store_done_deliver, offline_req_free,
};

static offline_req *offline_req_new(const store_op *op, worker *reply_to, const char *user,
                                    store_done_fn cb, void *arg)
{
    offline_req *q = store_xcalloc(1, sizeof *q);
    q->done.base.op = op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->user = store_xstrdup(user);
    return q;
}

void store_offline_push(worker *reply_to, const char *user, const char *stanza_xml, int max,
                        store_done_fn cb, void *arg)
{
    offline_req *q = offline_req_new(&offline_push_op, reply_to, user, cb, arg);
    q->stanza = store_xstrdup(stanza_xml);
    q->stamp = store_now_ms();
    q->num = max;
    store_submit(&q->done.base);
}

void store_offline_ack(worker *reply_to, const char *user, int64_t max_id,
                       store_done_fn cb, void *arg)
{
    offline_req *q = offline_req_new(&offline_ack_op, reply_to, user, cb, arg);
    q->num = max_id;
    store_submit(&q->done.base);
}

void store_offline_count(worker *reply_to, const char *user, store_done_fn cb, void *arg)
{
    store_submit(&offline_req_new(&offline_count_op, reply_to, user, cb, arg)->done.base);
}

/* ---- pop_all ---- */

typedef struct {
    store_req base;
    store_offline_fn cb;
    void *arg;
    char *user;
    store_offline *res;
} offline_pop_req;

static store_status offline_pop_exec(store_req *r, store_db *d)
{
    offline_pop_req *q = (offline_pop_req *)r;
    if (!user_ok(q->user, "offline fetch"))
        return STORE_ERROR;
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT id, stamp, stanza FROM offline WHERE user = ?1 ORDER BY id");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, q->user);
    store_offline *res = q->res;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (res->n == cap) {
            cap = cap ? cap * 2 : 16;
            res->msgs = realloc(res->msgs, cap * sizeof *res->msgs);
            if (!res->msgs)
                abort();
        }
        store_offline_msg *m = &res->msgs[res->n++];
        m->id = sqlite3_column_int64(st, 0);
        m->stamp = sqlite3_column_int64(st, 1);
        m->stanza = store_column_strdup(st, 2);
        if (!m->stanza)
            m->stanza = store_xstrdup("");
        res->max_id = m->id;
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "offline fetch");
    return STORE_OK;
}

static void offline_pop_free(store_req *r)
{
    offline_pop_req *q = (offline_pop_req *)r;
    store_offline_free(q->res);
    free(q->user);
    free(q);
}

static void offline_pop_deliver(store_req *r)
{
    offline_pop_req *q = (offline_pop_req *)r;
    store_offline *res = q->res;
    q->res = NULL;
    res->status = r->status;
    if (res->status == STORE_ERROR) {
        for (size_t i = 0; i < res->n; i++)
            free(res->msgs[i].stanza);
        res->n = 0;
        res->max_id = 0;
    }
    if (q->cb)
        q->cb(q->arg, res);
    else
        store_offline_free(res);
    offline_pop_free(r);
}

static const store_op offline_pop_op = {
    "offline fetch", offline_pop_exec, offline_pop_deliver, offline_pop_free,
};

void store_offline_pop_all(worker *reply_to, const char *user, store_offline_fn cb, void *arg)
{
    offline_pop_req *q = store_xcalloc(1, sizeof *q);
    q->base.op = &offline_pop_op;
    q->base.reply_to = reply_to;
    q->cb = cb;
    q->arg = arg;
    q->user = store_xstrdup(user);
    q->res = store_xcalloc(1, sizeof *q->res);
    store_submit(&q->base);
}
