/* control_status.c: the answer to `status` on the control socket. Session
 * counts live in per-worker tables that only their own thread may read, so
 * a status request posts one small job to every worker; each counts its
 * sessions (all streams, authenticated ones per domain) into its own slot,
 * and the last one to finish wakes the main thread through an event, which
 * then adds up the slots and writes the `key: value` body. The rest
 * (configuration, snapshot, pending directory changes) is read on the main
 * thread from thread-safe sources. */
#include "control/control.h"
#include "core/alloc.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/worker.h"
#include "router/session.h"
#include "transport/sm.h"

#if defined(__has_include)
#if __has_include("core/version.h")
#include "core/version.h"
#endif
#endif
#ifndef PLUCS_VERSION
#define PLUCS_VERSION "unknown"
#endif

/* The directory thread's own state lines, for when src/directory offers
 * them: appends `directory/...: value` lines to out (connected yes/no, the
 * server in use, the last error, feed mode and state, time and lag of the
 * last applied change ...). Called on the main thread, so it must read what
 * the directory thread writes under a lock or atomically. Weak, so that
 * status says `directory/connected: unknown` until the directory has it.
 * (A weak reference does not pull an object out of libplucs.a: define it in
 * a file the daemon links anyway, such as directory.c.) */
void directory_status_lines(buf *out) __attribute__((weak));
/* Federation's streams (transport/s2s.h), weak for the same reason. */
void s2s_status_lines(buf *out) __attribute__((weak));
/* Group chat's rooms and occupants (modules/mod_muc.c), weak likewise. */
void muc_status_lines(buf *out) __attribute__((weak));
/* FAST logins and tokens (mod_fast.c). */
void fast_status_lines(buf *out) __attribute__((weak));
/* Uploads (modules/mod_upload.c), weak likewise. */
void upload_status_lines(buf *out) __attribute__((weak));
/* Privacy lists (modules/privacy_stats.c), weak likewise. */
void privacy_status_lines(buf *out) __attribute__((weak));
/* PubSub's nodes and items (modules/mod_pubsub.c), weak likewise. */
void pubsub_status_lines(buf *out) __attribute__((weak));
/* What the server publishes in PEP from the directory (modules/mod_pepdata.c). */
void pepdata_status_lines(buf *out) __attribute__((weak));

typedef struct dom_count {
    char *domain;
    unsigned n;
} dom_count;

typedef struct worker_slot {
    unsigned connections;      /* every session object: streams before auth too */
    unsigned sessions;         /* authenticated */
    dom_count *doms;           /* authenticated sessions by the stream's domain */
    size_t ndoms;
    bool answered;             /* false: the worker was stopping (dropped) */
    unsigned ndetached;        /* stream management: waiting for a resumption */
    buf detached;              /* their "sessions/detached/<jid>: <s left>" lines */
} worker_slot;

struct control_status_job {
    control_status_job *next;  /* jobs list (main thread) */
    struct event *ev_done;
    void (*done)(void *ud, const char *text);
    void *ud;
    bool cancelled;            /* main thread only */
    int nslots;
    worker_slot *slots;
    atomic_int remaining;
};

static control_status_job *jobs;
static struct timespec started_mono;
static time_t started_wall;

void control_status_started(void)
{
    clock_gettime(CLOCK_MONOTONIC, &started_mono);
    started_wall = time(NULL);
}

static void job_free(control_status_job *j)
{
    for (control_status_job **p = &jobs; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            break;
        }
    for (int i = 0; i < j->nslots; i++) {
        for (size_t k = 0; k < j->slots[i].ndoms; k++)
            free(j->slots[i].doms[k].domain);
        free(j->slots[i].doms);
        buf_free(&j->slots[i].detached);
    }
    free(j->slots);
    if (j->ev_done)
        event_free(j->ev_done);
    free(j);
}

static void job_one_done(control_status_job *j)
{
    if (atomic_fetch_sub(&j->remaining, 1) == 1)
        event_active(j->ev_done, EV_TIMEOUT, 0);
}

/* The entry for domain among v[0..n), NULL when there is none. */
static dom_count *dom_find(dom_count *v, size_t n, const char *domain)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].domain, domain) == 0)
            return &v[i];
    return NULL;
}

/* Appends domain (kept as given: a copy or borrowed, the caller's choice)
 * with count 0 to *v; the new entry. */
static dom_count *dom_append(dom_count **v, size_t *n, char *domain)
{
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    dom_count *d = &(*v)[(*n)++];
    d->domain = domain;
    d->n = 0;
    return d;
}

static void dom_add(worker_slot *w, const char *domain)
{
    dom_count *d = dom_find(w->doms, w->ndoms, domain);
    if (!d)
        d = dom_append(&w->doms, &w->ndoms, xstrdup(domain));
    d->n++;
}

static void count_one(session *s, void *ud)
{
    worker_slot *w = ud;
    w->connections++;
    if (s->bare && !s->closing) {
        w->sessions++;
        dom_add(w, s->domain ? s->domain : "?");
    }
}

static void detached_one(const session *s, int seconds_left, void *ud)
{
    worker_slot *w = ud;
    w->ndetached++;
    buf_printf(&w->detached, "sessions/detached/%s: %d\n", s->full ? s->full : "?", seconds_left);
}

/* On a worker's thread. */
static void count_on_worker(void *arg)
{
    control_status_job *j = arg;
    worker *self = worker_self();
    int id = self ? worker_id(self) : -1;
    if (id >= 0 && id < j->nslots) {
        worker_slot *w = &j->slots[id];
        sessions_each(self, count_one, w);
        sm_each_detached(detached_one, w);
        w->answered = true;
    }
    job_one_done(j);
}

static void count_dropped(void *arg) { job_one_done(arg); }

/* --- the body ---------------------------------------------------------------- */

static int cmp_dom(const void *a, const void *b)
{
    return strcmp(((const dom_count *)a)->domain, ((const dom_count *)b)->domain);
}

static void render(control_status_job *j, buf *out)
{
    const config *c = config_current();
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    char when[64] = "";
    struct tm tm;
    if (gmtime_r(&started_wall, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    buf_printf(out, "version: %s\n", PLUCS_VERSION);
    buf_printf(out, "pid: %ld\n", (long)getpid());
    buf_printf(out, "started: %s\n", when);
    buf_printf(out, "uptime: %lld\n", (long long)(now.tv_sec - started_mono.tv_sec));
    buf_printf(out, "registry: %s\n", c && c->registry_path ? c->registry_path : "");
    buf_printf(out, "workers: %d\n", j->nslots);

    /* sessions: totals, per domain (sorted), per worker */
    unsigned total = 0, conns = 0;
    dom_count *all = NULL;
    size_t nall = 0;
    for (int i = 0; i < j->nslots; i++) {
        worker_slot *w = &j->slots[i];
        total += w->sessions;
        conns += w->connections;
        for (size_t k = 0; k < w->ndoms; k++) {
            dom_count *d = dom_find(all, nall, w->doms[k].domain);
            if (!d)         /* the domain borrowed from the slot */
                d = dom_append(&all, &nall, w->doms[k].domain);
            d->n += w->doms[k].n;
        }
    }
    buf_printf(out, "sessions: %u\n", total);
    buf_printf(out, "connections: %u\n", conns);

    dir_snapshot *s = directory_snapshot();
    /* every served domain gets a line, also with no session */
    for (size_t i = 0; s && i < s->ndomains; i++)
        if (!dom_find(all, nall, s->domains[i]))
            dom_append(&all, &nall, s->domains[i]);
    if (nall > 1)
        qsort(all, nall, sizeof *all, cmp_dom);
    for (size_t m = 0; m < nall; m++)
        buf_printf(out, "sessions/domain/%s: %u\n", all[m].domain, all[m].n);
    free(all);
    for (int i = 0; i < j->nslots; i++) {
        if (j->slots[i].answered)
            buf_printf(out, "sessions/worker/%d: %u\n", i, j->slots[i].sessions);
        else
            buf_printf(out, "sessions/worker/%d: stopping\n", i);
    }

    unsigned ndetached = 0;
    for (int i = 0; i < j->nslots; i++)
        ndetached += j->slots[i].ndetached;
    buf_printf(out, "sessions/detached: %u\n", ndetached);
    for (int i = 0; i < j->nslots; i++)
        if (j->slots[i].detached.len)
            buf_append(out, j->slots[i].detached.data, j->slots[i].detached.len);

    buf_puts(out, "domains:");
    for (size_t i = 0; s && i < s->ndomains; i++)
        buf_printf(out, " %s", s->domains[i]);
    buf_puts(out, "\n");

    /* the directory */
    if (directory_status_lines)
        directory_status_lines(out);
    else
        buf_puts(out, "directory/connected: unknown\n");
    if (c && c->ldap_uris) {
        buf_puts(out, "directory/servers:");
        for (size_t i = 0; c->ldap_uris[i]; i++)
            buf_printf(out, " %s", c->ldap_uris[i]);
        buf_puts(out, "\n");
    }
    buf_printf(out, "directory/complete: %s\n", s && s->complete ? "yes" : "no");
    buf_printf(out, "directory/snapshot: %llu\n", s ? (unsigned long long)s->serial : 0ULL);
    buf_printf(out, "directory/accounts: %u\n", s ? s->naccounts : 0);
    buf_printf(out, "directory/groups: %u\n", s ? s->ngroups : 0);
    buf_printf(out, "directory/pending: %u\n", directory_pending_changes());
    if (c) {
        buf_printf(out, "restart/listener: %s\n", c->restart_listener ? "true" : "false");
        buf_printf(out, "filter: %s\n", s ? (s->filter ? "on" : "off") : (c->filter ? "on" : "off"));
        buf_printf(out, "filter/message_policy: %s\n", c->filter_message_allow ? "allow" : "deny");
        buf_printf(out, "filter/presence_policy: %s\n", c->filter_presence_allow ? "allow" : "deny");
    }
    if (s2s_status_lines && c && c->s2s)
        s2s_status_lines(out);
    if (muc_status_lines && c && c->muc)
        muc_status_lines(out);
    if (fast_status_lines)
        fast_status_lines(out);
    if (upload_status_lines && c && c->upload)
        upload_status_lines(out);
    if (privacy_status_lines)
        privacy_status_lines(out);
    if (pubsub_status_lines && c && c->pubsub)
        pubsub_status_lines(out);
    if (pepdata_status_lines && c && c->pubsub)
        pepdata_status_lines(out);
    dir_snapshot_unref(s);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    control_status_job *j = arg;
    if (!j->cancelled) {
        buf out;
        buf_init(&out);
        render(j, &out);
        j->done(j->ud, out.data ? out.data : "");
        buf_free(&out);
    }
    job_free(j);
}

control_status_job *control_status_start(struct event_base *base,
                                         void (*done)(void *ud, const char *text), void *ud)
{
    control_status_job *j = xcalloc(1, sizeof *j);
    j->done = done;
    j->ud = ud;
    j->nslots = workers_count();
    j->slots = xcalloc((size_t)j->nslots + 1, sizeof *j->slots);
    j->ev_done = event_new(base, -1, 0, done_cb, j);
    if (!j->slots || !j->ev_done) {
        free(j->slots);
        if (j->ev_done)
            event_free(j->ev_done);
        free(j);
        return NULL;
    }
    j->next = jobs;
    jobs = j;
    /* one extra count held while posting, so that the event cannot fire
     * before every job was posted */
    atomic_init(&j->remaining, j->nslots + 1);
    for (int i = 0; i < j->nslots; i++)
        worker_post_drop(worker_get(i), count_on_worker, count_dropped, j);
    job_one_done(j);
    return j;
}

void control_status_cancel(control_status_job *j)
{
    if (j)
        j->cancelled = true;
}

void control_status_shutdown(void)
{
    /* After workers_join() every post ran or was dropped: remaining is 0
     * and only the main loop's run of done_cb is missing. */
    while (jobs)
        job_free(jobs);
}
