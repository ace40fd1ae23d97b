/* dir_publish.c: when and what the directory thread publishes. Every
 * relevant change (an entry of the feed, a poll or the host object's
 * domains) is counted and arms a 200 ms timer, so that a burst of changes
 * (a group edited member by member) becomes one snapshot. The snapshot is
 * rebuilt from the raw entries (dir_build.c), compared with the current one
 * and published only if something differs: pointer swap under a lock, then
 * the on_snapshot hook with a fresh reference, then one info line
 *   directory: snapshot N: A accounts, G groups (changed: ...)
 * With plucs/restart/listener false, changes wait for
 * directory_apply_pending() (the daemon's reload). */
#include "directory/dir_internal.h"
#include "core/alloc.h"
#include "metrics/metrics.h"
#include "core/log.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIR_COALESCE_MS 200

static void publish_cb(evutil_socket_t fd, short what, void *arg)
{
    dir_publish(arg, false);
}

int dir_publish_init(dir *d)
{
    d->sync_msgid = -1;
    d->load[0].msgid = d->load[1].msgid = -1;
    d->ev_publish = evtimer_new(d->base, publish_cb, d);
    return d->ev_publish ? 0 : -1;
}

static void warnings_clear(dir *d)
{
    for (size_t i = 0; i < d->nwarnings; i++)
        free(d->warnings[i]);
    free(d->warnings);
    d->warnings = NULL;
    d->nwarnings = 0;
}

void dir_publish_free(dir *d)
{
    if (d->ev_publish)
        event_free(d->ev_publish);
    if (d->ev_reload)
        event_free(d->ev_reload);
    for (size_t i = 0; i < d->ndomains; i++)
        free(d->domains[i]);
    free(d->domains);
    warnings_clear(d);
    dir_entries_clear(d);
    dir_sync_forget(d);
    for (int i = 0; i < 2; i++)
        free(d->load[i].cookie.bv_val);
}

void dir_changed(dir *d, unsigned n)
{
    if (atomic_fetch_add(&d->nchanges, n) == 0)
        clock_gettime(CLOCK_MONOTONIC, &d->first_change);   /* for the lag metric */
    if (!evtimer_pending(d->ev_publish, NULL)) {
        struct timeval tv = { 0, DIR_COALESCE_MS * 1000 };
        evtimer_add(d->ev_publish, &tv);
    }
}

void dir_log_domains(const dir_snapshot *s, const char *reason)
{
    if (s->ndomains == 0) {
        log_info("directory: serving no domain (%s)", reason ? reason : "none configured");
        return;
    }
    char line[1500];
    size_t o = 0;
    line[0] = '\0';
    for (size_t i = 0; i < s->ndomains && o < sizeof line - 1; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, "%s%s", i ? ", " : "", s->domains[i]);
    log_info("directory: serving domains: %s", line);
}

static char domains_reason[600];

void dir_publish_domains(dir *d, char **domains, size_t n, const char *reason)
{
    dir_domains_normalise(domains, &n);
    snprintf(domains_reason, sizeof domains_reason, "%s", reason ? reason : "none configured");
    bool same = d->domains_known && d->ndomains == n;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(d->domains[i], domains[i]) == 0;
    if (same) {
        for (size_t i = 0; i < n; i++)
            free(domains[i]);
        free(domains);
        return;
    }
    for (size_t i = 0; i < d->ndomains; i++)
        free(d->domains[i]);
    free(d->domains);
    d->domains = domains;
    d->ndomains = n;
    bool first = !d->domains_known;
    d->domains_known = true;
    if (first || !d->snap->complete)
        dir_publish(d, true);     /* logins need the domains at once */
    else
        dir_changed(d, 1);
}

static void on_warning(void *ud, const char *line)
{
    dir *d = ud;
    char **w = xrealloc(d->warnings, (d->nwarnings + 1) * sizeof *w);
    d->warnings = w;
    if ((w[d->nwarnings] = xstrdup(line)))
        d->nwarnings++;
}

void dir_publish(dir *d, bool force)
{
    if (d->loads_running || d->sync_refreshing) {
        if (!force)
            return;           /* dir_loaded() publishes at the end of the read */
    }
    bool complete = d->domains_known && d->loaded;
    if (!force && !d->set->restart_listener && d->snap->complete) {
        unsigned n = atomic_load(&d->nchanges);
        if (n && !d->held_logged)
            log_info("directory: %u change%s wait for a reload (plucs/restart/listener is false)",
                     n, n == 1 ? "" : "s");
        d->held_logged = n != 0;
        return;
    }
    evtimer_del(d->ev_publish);
    size_t n = 0;
    dir_entry **list = dir_entries_list(d, &n);
    if (!list)
        return;
    if (!d->loaded)
        n = 0;                /* domains only until the first complete read */
    warnings_clear(d);
    dir_build_opts o = {
        .filter = d->set->filter, .msg_allow = d->set->msg_allow, .pres_allow = d->set->pres_allow,
        .complete = complete, .serial = d->serial + 1, .warn = on_warning, .warn_ud = d,
    };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dir_snapshot *s = dir_snapshot_build(d->domains, d->ndomains, list, n, &o);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(list);
    log_debug("directory: built a snapshot of %u accounts, %u groups, %u classes from %zu "
              "entries in %.1f ms", s ? s->naccounts : 0, s ? s->ngroups : 0,
              s ? s->nclasses : 0, n,
              (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    if (!s) {
        log_err("directory: out of memory building a snapshot");
        return;
    }
    atomic_store(&d->nchanges, 0);
    d->held_logged = false;
    dir_snapshot *old = d->snap;
    dir_snapshot_diff diff;
    if (!dir_snapshot_compare(old, s, &diff)) {
        dir_snapshot_unref(s);
        warnings_clear(d);
        return;
    }
    d->serial++;
    pthread_mutex_lock(&d->snap_lock);
    d->snap = s;
    pthread_mutex_unlock(&d->snap_lock);
    if (d->first_change.tv_sec) {
        /* from the first change the feed reported to its publication */
        metrics_set_directory_lag((double)(t1.tv_sec - d->first_change.tv_sec) +
                                  (t1.tv_nsec - d->first_change.tv_nsec) / 1e9);
        d->first_change = (struct timespec){ 0, 0 };
    }
    if (diff.domains || (!d->domains_logged && d->domains_known)) {
        dir_log_domains(s, domains_reason);
        d->domains_logged = true;
    }
    for (size_t i = 0; i < d->nwarnings; i++)
        log_warn("directory: %s", d->warnings[i]);
    warnings_clear(d);
    char text[300];
    dir_snapshot_diff_text(&diff, text, sizeof text);
    if (s->complete)
        log_info("directory: snapshot %llu: %u accounts, %u groups (changed: %s)",
                 (unsigned long long)s->serial, s->naccounts, s->ngroups, text);
    dir_snapshot_unref(old);
    if (d->on_snapshot)
        d->on_snapshot(dir_snapshot_ref(s), d->on_snapshot_ud);
    if (s->complete)
        dir_auth_release_held(d);   /* logins held until the first complete read */
}

void dir_loaded(dir *d)
{
    bool first = !d->loaded;
    d->loaded = true;
    if (first || atomic_load(&d->nchanges))
        dir_publish(d, first);
}

void dir_feed_start(dir *d)
{
    d->sync_refused = false;
    if (d->sync_cookie.bv_len)
        dir_sync_start(d);
    else
        dir_load_start(d);
}
