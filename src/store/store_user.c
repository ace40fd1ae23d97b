/* store_user.c: the operations of store_user.h on everything the store
 * keeps for one account, across record kinds: each kind's back end table
 * forgets its own records, all in the one request's savepoint.
 * store_user_forget() is what the directory side calls when an account is
 * removed, so its personal data does not outlive it. */
#include "store/store_user.h"
#include "core/alloc.h"

#include "store/store_internal.h"

#include <stdlib.h>

#include "core/log.h"

typedef struct {
    store_done_req done;
    char *user;
} user_req;

static store_status user_forget_exec(store_req *r, store_conn *c)
{
    const store_backend *be = c->backend;
    /* Every kind's forget; a kind the back end does not store has nothing. */
    store_status (*const forget[])(store_conn *, const char *, int64_t *) = {
        be->roster ? be->roster->forget : NULL,
        be->pending ? be->pending->forget : NULL,
        be->offline ? be->offline->forget : NULL,
        be->private_xml ? be->private_xml->forget : NULL,
        be->blocklist ? be->blocklist->forget : NULL,
        be->mam ? be->mam->forget : NULL,
        be->last ? be->last->forget : NULL,
        be->push ? be->push->forget : NULL,
        be->fast ? be->fast->forget : NULL,
        be->privacy ? be->privacy->forget : NULL,
        be->pubsub ? be->pubsub->forget : NULL,
        be->motd ? be->motd->forget : NULL,
    };
    user_req *q = (user_req *)r;
    if (!q->user || !*q->user) {
        log_err("store: user forget without a user");
        return STORE_ERROR;
    }
    q->done.value = 0;
    for (size_t i = 0; i < sizeof forget / sizeof forget[0]; i++) {
        if (forget[i] && forget[i](c, q->user, &q->done.value) != STORE_OK)
            return STORE_ERROR;
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
    user_req *q = xcalloc(1, sizeof *q);
    q->done.base.op = &user_forget_op;
    q->done.base.reply_to = reply_to;
    q->done.cb = cb;
    q->done.arg = arg;
    q->user = store_strdup_or_null(user);
    store_submit(&q->done.base);
}
