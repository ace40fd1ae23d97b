/* session.c: session objects and each worker's table of them (see
 * session.h). Binding registers the full JID in routes.c; a replaced
 * session on another worker is told to close through that worker's inbox. */
#include "router/session.h"
#include "core/alloc.h"

#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/i18n.h"
#include "core/idmap.h"
#include "core/log.h"
#include "router/events.h"
#include "router/routes.h"

static idmap *tables;          /* one per worker, touched only by its thread */
static int ntables;
static atomic_uint_fast64_t next_id = 1;
static __thread buf out;       /* per-thread serialization scratch */
static __thread session *remote_ps;   /* session_remote() of this worker */
static _Atomic(session_route_fn) remote_route;
static void (*slot_free[SESSION_SLOTS])(void *);
static int nslots;

int session_slot_register(void (*free_fn)(void *))
{
    if (nslots >= SESSION_SLOTS)
        return -1;
    slot_free[nslots] = free_fn;
    return nslots++;
}

void session_slots_reset(void) { nslots = 0; }

static void slots_free(session *s)
{
    for (int i = 0; i < nslots; i++) {
        if (s->slots[i] && slot_free[i])
            slot_free[i](s->slots[i]);
        s->slots[i] = NULL;
    }
}

void sessions_init(int nworkers)
{
    tables = xcalloc((size_t)nworkers, sizeof *tables);
    ntables = nworkers;
    for (int i = 0; i < nworkers; i++)
        idmap_init(&tables[i]);
    routes_init();
}

void sessions_shutdown(void)
{
    for (int i = 0; i < ntables; i++)
        idmap_free(&tables[i]);
    free(tables);
    tables = NULL;
    ntables = 0;
    routes_shutdown();
}

session *session_new(worker *w, const session_ops *ops, void *conn)
{
    session *s = xcalloc(1, sizeof *s);
    s->id = atomic_fetch_add(&next_id, 1);
    s->w = w;
    s->ops = ops;
    s->conn = conn;
    idmap_put(&tables[worker_id(w)], s->id, s);
    return s;
}

void session_free(session *s)
{
    if (!s)
        return;
    if (s->bound)
        events_session(EV_ENDED, s);
    slots_free(s);
    if (s->bound)
        routes_remove(s->bare, s->resource, s->id);
    idmap_del(&tables[worker_id(s->w)], s->id);
    free(s->domain);
    free(s->node);
    free(s->bare);
    free(s->resource);
    free(s->full);
    free(s);
}

session *session_find(worker *w, uint64_t id) { return idmap_get(&tables[worker_id(w)], id); }

typedef struct post_job {
    uint64_t sid;
    session_job_fn fn;
    void *arg;
    void (*free_fn)(void *arg);
} post_job;

static void post_run(void *p)
{
    post_job *j = p;
    session *s = session_find(worker_self(), j->sid);
    if (s)
        j->fn(s, j->arg);
    else if (j->free_fn)
        j->free_fn(j->arg);
    free(j);
}

static void post_drop(void *p)
{
    post_job *j = p;
    if (j->free_fn)
        j->free_fn(j->arg);
    free(j);
}

void session_post(int wid, uint64_t id, session_job_fn fn, void *arg, void (*free_fn)(void *arg))
{
    post_job *j = xmalloc(sizeof *j);
    j->sid = id;
    j->fn = fn;
    j->arg = arg;
    j->free_fn = free_fn;
    worker_post_drop(worker_get(wid), post_run, post_drop, j);
}

void session_send(session *s, const xnode *st)
{
    if (s->closing)
        return;
    if (s->remote) {
        session_route_fn fn = atomic_load(&remote_route);
        if (fn)
            fn(s, st);
        return;
    }
    buf_reset(&out);
    xml_serialize(st, NS_CLIENT, &out);
    s->ops->write(s, out.data, out.len);
    if (out.cap > 65536)   /* don't keep a huge scratch after a big stanza */
        buf_free(&out);
}

void session_send_free(session *s, xnode *st)
{
    if (st)
        session_send(s, st);
    xnode_free(st);
}

/* arg: the limit as an integer, 0 when replaced by the same full JID,
 * else plucs/c2s/max_sessions. */
static void kick_run(session *s, void *arg)
{
    int limit = (int)(intptr_t)arg;
    if (s->closing)
        return;
    if (limit) {
        log_info("c2s: %s ended with conflict: %s logged in once more beyond "
                 "plucs/c2s/max_sessions=%d, this was the oldest session",
                 s->full, s->bare, limit);
        s->ops->close(s, "conflict", i18n(s->lang, T_TOO_MANY_SESSIONS));
    } else {
        log_info("c2s: %s replaced by a new session, closing with conflict", s->full);
        s->ops->close(s, "conflict", i18n(s->lang, T_REPLACED));
    }
}

static void kick_post(const route_ref *r, int limit)
{
    session_post(r->worker, r->sid, kick_run, (void *)(intptr_t)limit, NULL);
}

int session_bind(session *s, const char *resource)
{
    char gen[24];
    if (!resource) {
        unsigned char rnd[8];
        if (RAND_bytes(rnd, sizeof rnd) != 1)
            return -1;
        snprintf(gen, sizeof gen, "plucs-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
                 rnd[4], rnd[5]);
        resource = gen;
    }
    s->resource = xstrdup(resource);
    size_t n = strlen(s->bare) + 1 + strlen(resource) + 1;
    s->full = xmalloc(n);
    snprintf(s->full, n, "%s/%s", s->bare, resource);
    /* plucs/c2s/max_sessions: a login beyond it ends the oldest sessions
     * (as ejabberd does), read per bind so that a reload applies at once. */
    const config *c = config_current();
    int max = c ? c->c2s_max_sessions : 0;
    route_ref old, evicted[ROUTES_MAX_RESOURCES];
    size_t nevicted = 0;
    if (routes_add_limited(s->bare, resource, s->id, worker_id(s->w), (size_t)(max > 0 ? max : 0),
                           &old, evicted, &nevicted))
        kick_post(&old, 0);
    for (size_t i = 0; i < nevicted; i++)
        kick_post(&evicted[i], max > 0 && max <= ROUTES_MAX_RESOURCES ? max : ROUTES_MAX_RESOURCES);
    s->bound = true;
    return 0;
}

void sessions_each(worker *w, void (*fn)(session *s, void *ud), void *ud)
{
    idmap *m = &tables[worker_id(w)];
    /* Collect first: fn may remove entries. */
    size_t n = m->count, k = 0;
    uint64_t *ids = xmalloc((n ? n : 1) * sizeof *ids);
    for (size_t i = 0; i < m->cap && k < n; i++)
        if (idmap_live(m, i))
            ids[k++] = m->keys[i];
    for (size_t i = 0; i < k; i++) {
        session *s = idmap_get(m, ids[i]);
        if (s && !s->remote)
            fn(s, ud);
    }
    free(ids);
}

session *session_remote(const session_ops *ops, session_route_fn route)
{
    atomic_store(&remote_route, route);
    worker *w = worker_self();
    if (!w || !tables)
        return NULL;
    if (!remote_ps) {
        remote_ps = session_new(w, ops, NULL);
        remote_ps->remote = true;
    }
    return remote_ps;
}

void session_thread_exit(void)
{
    if (remote_ps && tables)
        session_free(remote_ps);
    remote_ps = NULL;
    buf_free(&out);
}
