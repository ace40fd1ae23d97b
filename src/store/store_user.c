/* store_user.c: operations on everything the store keeps for one account,
 * across tables. store_user_forget() is what the directory side calls when an
 * account is removed, so its personal data does not outlive it. */
#include "store/store_internal.h"

#include <stdlib.h>

#include "core/log.h"

typedef struct {
    store_done_req done;
    char *user;
} user_req;

static store_status user_forget_exec(store_req *r, store_db *d)
{
    static const char *const sql[] = {
        "DELETE FROM roster_items WHERE user = ?1",
        "DELETE FROM roster_version WHERE user = ?1",
        "DELETE FROM pending_in WHERE user = ?1",
        "DELETE FROM offline WHERE user = ?1",
        "DELETE FROM private_xml WHERE user = ?1",
        "DELETE FROM blocklist WHERE user = ?1",
        "DELETE FROM last_activity WHERE user = ?1",
    };
    user_req *q = (user_req *)r;
    if (!q->user || !*q->user) {
        log_err("store: user forget without a user");
        return STORE_ERROR;
    }
    q->done.value = 0;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *st = store_db_stmt(d, sql[i]);
        if (!st)
            return STORE_ERROR;
        store_bind_text(st, 1, q->user);
        if (sqlite3_step(st) != SQLITE_DONE)
            return store_db_fail(d, "user forget");
        q->done.value += sqlite3_changes(d->db);
    }
    return STORE_OK;
}

static void user_req_free(store_req *r)
{
    user_req *q = (user_req *)r;
    free(q->user);
    free(q);
}

static const store_op user_forget_op = {
    "user forget", user_forget_exec, store_done_deliver, user_req_free,
};

void store_user_forget(worker *reply_to, const char *user, store_done_fn cb, void *arg)
{
    user_req *q = store_xcalloc(1, sizeof *q);
    q->done.base.op = &user_forget_op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->user = store_xstrdup(user);
    store_submit(&q->done.base);
}
