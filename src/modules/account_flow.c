/* account_flow.c: what mod_blocking.c and mod_privacy.c both do around
 * their account_table (see account_table.h): resume the sessions that
 * waited for an account's entry to load, write stanzas straight to the
 * account's sessions on their workers (also for the XEP-0133
 * announcement, adhoc_admin.c), and the rule of which addresses a
 * user's lists never block. */
#include "modules/account_table.h"
#include "core/alloc.h"
#include "router/router.h"
#include "router/routes.h"
#include "router/session.h"

#include <stdlib.h>
#include <string.h>

static void resume_run(session *s, void *unused)
{
    (void)unused;
    s->ops->resume(s);
}

void account_table_resume(account_waiter *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        session_post(w[i].worker, w[i].sid, resume_run, NULL, NULL);
    free(w);
}

typedef struct post_job {
    xnode *st;
    bool (*want)(session *s);
    bool hooked;          /* through EV_INBOUND (account_deliver_all) */
} post_job;

static void post_job_free(void *p)
{
    post_job *j = p;
    xnode_free(j->st);
    free(j);
}

static void post_job_run(session *s, void *p)
{
    post_job *j = p;
    if (!s->closing && (!j->want || j->want(s))) {
        xnode_set_attr(j->st, "to", s->full);
        if (j->hooked) {
            router_deliver_session(s, j->st);    /* frees it */
            j->st = NULL;
        } else {
            session_send(s, j->st);
        }
    }
    post_job_free(j);
}

static void post(int wid, uint64_t sid, xnode *st, bool (*want)(session *s), bool hooked)
{
    post_job *j = xmalloc(sizeof *j);
    j->st = st;
    j->want = want;
    j->hooked = hooked;
    session_post(wid, sid, post_job_run, j, post_job_free);
}

void account_post(int wid, uint64_t sid, xnode *st, bool (*want)(session *s))
{
    post(wid, sid, st, want, false);
}

static size_t post_all(const char *bare, const xnode *st, bool only_available,
                       bool (*want)(session *s), bool hooked)
{
    route_ref refs[ROUTES_MAX_RESOURCES];
    size_t n = router_resources(bare, refs, ROUTES_MAX_RESOURCES), sent = 0;
    for (size_t i = 0; i < n; i++)
        if (!only_available || refs[i].available) {
            post(refs[i].worker, refs[i].sid, xnode_copy(st), want, hooked);
            sent++;
        }
    return sent;
}

size_t account_send_all(const char *bare, const xnode *st, bool only_available,
                        bool (*want)(session *s))
{
    return post_all(bare, st, only_available, want, false);
}

size_t account_deliver_all(const char *bare, const xnode *st)
{
    return post_all(bare, st, false, NULL, true);
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
