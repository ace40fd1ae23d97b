/* account_flow.c: what mod_blocking.c and mod_privacy.c both do around
 * their account_table (see account_table.h): resume the sessions that
 * waited for an account's entry to load, and the rule of which addresses
 * a user's lists never block. */
#include "modules/account_table.h"
#include "core/alloc.h"
#include "core/worker.h"
#include "router/router.h"
#include "router/session.h"

#include <stdlib.h>
#include <string.h>

typedef struct resume_job {
    uint64_t sid;
} resume_job;

static void resume_run(void *p)
{
    resume_job *j = p;
    session *s = session_find(worker_self(), j->sid);
    if (s)
        s->ops->resume(s);
    free(j);
}

void account_table_resume(account_waiter *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        resume_job *j = xcalloc(1, sizeof *j);
        j->sid = w[i].sid;
        worker_post_drop(worker_get(w[i].worker), resume_run, free, j);
    }
    free(w);
}

bool account_exempt(const char *own_bare, const jid *addr)
{
    if (!addr->node)
        return router_serves(addr->domain) && !addr->resource;
    char *bare = jid_bare_string(addr);
    bool own = bare && !strcmp(bare, own_bare);
    free(bare);
    return own;
}
