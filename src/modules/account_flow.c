/* account_flow.c: what mod_blocking.c and mod_privacy.c both do around
 * their account_table (see account_table.h): resume the sessions that
 * waited for an account's entry to load, write stanzas straight to the
 * account's sessions on their workers, and the rule of which addresses a
 * user's lists never block. */
#include "modules/account_table.h"
#include "core/alloc.h"
#include "core/worker.h"
#include "router/router.h"
#include "router/routes.h"
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

typedef struct post_job {
    uint64_t sid;
    xnode *st;
    bool (*want)(session *s);
} post_job;

static void post_job_free(void *p)
{
    post_job *j = p;
    xnode_free(j->st);
    free(j);
}

static void post_job_run(void *p)
{
    post_job *j = p;
    session *s = session_find(worker_self(), j->sid);
    if (s && !s->closing && (!j->want || j->want(s))) {
        xnode_set_attr(j->st, "to", s->full);
        session_send(s, j->st);
    }
    post_job_free(j);
}

void account_post(int wid, uint64_t sid, xnode *st, bool (*want)(session *s))
{
    post_job *j = xcalloc(1, sizeof *j);
    j->sid = sid;
    j->st = st;
    j->want = want;
    worker_post_drop(worker_get(wid), post_job_run, post_job_free, j);
}

void account_send_all(const char *bare, const xnode *st, bool only_available,
                      bool (*want)(session *s))
{
    route_ref refs[ROUTES_MAX_RESOURCES];
    size_t n = router_resources(bare, refs, ROUTES_MAX_RESOURCES);
    for (size_t i = 0; i < n; i++)
        if (!only_available || refs[i].available)
            account_post(refs[i].worker, refs[i].sid, xnode_copy(st), want);
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
