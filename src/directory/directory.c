/* directory.c: the directory thread itself: start/stop/reconfigure and
 * apply-pending requests from the main thread, and the inbox through which
 * workers hand over auth requests. The LDAP work is in dir_service.c,
 * dir_hosts.c, dir_auth.c, dir_load.c and dir_sync.c; snapshots are built
 * and published by dir_publish.c. */
#include "directory/dir_internal.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "directory/dir_query.h"
#include "core/log.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static dir *g_dir;
static void (*g_hook)(dir_snapshot *snap, void *ud);
static void *g_hook_ud;

void directory_on_snapshot(void (*fn)(dir_snapshot *snap, void *ud), void *ud)
{
    g_hook = fn;
    g_hook_ud = ud;
}

dir_snapshot *directory_snapshot(void)
{
    dir *d = g_dir;
    if (!d)
        return NULL;
    pthread_mutex_lock(&d->snap_lock);
    dir_snapshot *s = dir_snapshot_ref(d->snap);
    pthread_mutex_unlock(&d->snap_lock);
    return s;
}

static void call_hook(dir *d, dir_snapshot *s)
{
    if (d->on_snapshot)
        d->on_snapshot(dir_snapshot_ref(s), d->on_snapshot_ud);
}

/* A fresh copy of the override list (plucs/domains), for publication. */
static char **override_copy(const dir *d, size_t *count)
{
    size_t n = 0;
    while (d->set->domains[n])
        n++;
    char **copy = xcalloc(n + 1, sizeof *copy);
    size_t m = 0;
    for (size_t i = 0; copy && i < n; i++)
        if ((copy[m] = xstrdup(d->set->domains[i])))
            m++;
    *count = copy ? m : 0;
    return copy;
}

static void publish_override(dir *d)
{
    size_t n;
    char **copy = override_copy(d, &n);
    if (copy)
        dir_publish_domains(d, copy, n, "plucs/domains is empty");
}

static void apply_settings(dir *d, dir_settings *s)
{
    dir_settings *old = d->set;
    bool reconnect = !dir_settings_same_connection(old, s);
    bool hosts = !dir_settings_same_hosts(old, s);
    bool labels = !dir_settings_same_labels(old, s);
    bool policy = !dir_settings_same_policy(old, s);
    bool base = strcmp(old->base, s->base) != 0;
    if (reconnect) {
        log_info("directory: connection settings changed; reconnecting");
        dir_service_reset(d);
    }
    d->set = s;     /* connections own copies of their URI, nothing points into old */
    dir_settings_free(old);
    if (reconnect) {
        d->cur = 0;
        d->tries = 0;
        d->backoff = 1;
        d->hostdn_logged = false;
        d->unreachable_logged = false;
        d->ever_connected = false;
        d->lost_from[0] = '\0';
        dir_service_connect(d);
    } else if (hosts) {
        d->nohost_logged = false;
        dir_hosts_abort(d);
    }
    if (d->set->domains)
        publish_override(d);
    else
        dir_hosts_read(d);
    if ((labels || base) && !reconnect) {
        /* entries must be read again with the new attributes: a full read,
         * then a feed without a cookie */
        log_info("directory: %s changed; reading accounts and groups again",
                 base ? "ldap/base" : "label attributes");
        dir_sync_abort(d);
        dir_load_abort(d);
        dir_sync_forget(d);
        if (base)
            dir_entries_clear(d);
        dir_feed_start(d);
    } else if (reconnect && (labels || base)) {
        dir_sync_forget(d);
        if (base)
            dir_entries_clear(d);
    }
    if (policy || labels || base)
        dir_publish(d, true);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    dir *d = arg;
    pthread_mutex_lock(&d->lock);
    bool stop = d->stopping;
    dir_req *inbox = d->inbox_head;
    d->inbox_head = d->inbox_tail = NULL;
    d->ninbox = 0;
    dir_settings *pending = d->pending;
    d->pending = NULL;
    bool apply = d->apply_requested;
    d->apply_requested = false;
    pthread_mutex_unlock(&d->lock);
    if (stop) {
        /* requests taken out here are failed by the shutdown path */
        while (inbox) {
            dir_req *n = inbox->next;
            dir_req_reply(inbox, DIR_AUTH_UNAVAILABLE);
            inbox = n;
        }
        dir_settings_free(pending);
        event_base_loopbreak(d->base);
        return;
    }
    if (pending)
        apply_settings(d, pending);
    if (apply) {
        unsigned n = atomic_load(&d->nchanges);
        if (n)
            log_info("directory: applying %u waiting change%s", n, n == 1 ? "" : "s");
        dir_publish(d, true);
    }
    while (inbox) {
        dir_req *n = inbox->next;
        inbox->next = NULL;
        dir_auth_begin(d, inbox);
        inbox = n;
    }
}

static void start_cb(evutil_socket_t fd, short what, void *arg)
{
    dir *d = arg;
    if (d->domains_known) {
        dir_log_domains(d->snap, "plucs/domains is empty");
        d->domains_logged = true;
    }
    call_hook(d, d->snap);
    dir_service_connect(d);
}

static void *dir_thread_main(void *arg)
{
    dir *d = arg;
    event_base_once(d->base, -1, EV_TIMEOUT, start_cb, d, NULL);
    event_base_dispatch(d->base);
    /* shutdown: everything in flight or held fails as unavailable, then unbind */
    dir_service_reset(d);
    dir_auth_fail_held(d);
    return NULL;
}

static void dir_free(dir *d)
{
    if (d->ev_wake) event_free(d->ev_wake);
    if (d->ev_retry) event_free(d->ev_retry);
    if (d->ev_poll) event_free(d->ev_poll);
    if (d->ev_bind_timeout) event_free(d->ev_bind_timeout);
    dir_publish_free(d);
    dir_query_detach(d);
    if (d->base) event_base_free(d->base);
    while (d->inbox_head) {
        dir_req *n = d->inbox_head->next;
        dir_req_reply(d->inbox_head, DIR_AUTH_UNAVAILABLE);
        d->inbox_head = n;
    }
    dir_settings_free(d->pending);
    dir_settings_free(d->set);
    dir_snapshot_unref(d->snap);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->snap_lock);
    free(d);
}

int directory_start(const config *c)
{
    if (g_dir)
        return -1;
    evthread_use_pthreads();   /* idempotent; the daemon should call it first anyway */
    dir *d = xcalloc(1, sizeof *d);
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->snap_lock, NULL);
    d->host_msgid = -1;
    d->sync_msgid = -1;
    d->load[0].msgid = d->load[1].msgid = -1;
    d->backoff = 1;
    d->on_snapshot = g_hook;
    d->on_snapshot_ud = g_hook_ud;
    d->set = dir_settings_new(c);
    if (!d->set || d->set->nuris == 0) {
        log_err("directory: no LDAP server configured (ldap/server/name or plucs/ldap/uri)");
        dir_free(d);
        return -1;
    }
    /* Before the first read: empty and incomplete, or the override. */
    if (d->set->domains) {
        size_t n = 0;
        char **copy = override_copy(d, &n);
        if (copy)
            dir_domains_normalise(copy, &n);
        d->snap = dir_snapshot_new(copy, n, false, ++d->serial);
        d->domains = copy;        /* owned by d now */
        d->ndomains = n;
        d->domains_known = copy != NULL;
    } else {
        d->snap = dir_snapshot_new(NULL, 0, false, ++d->serial);
    }
    d->base = event_base_new();
    if (!d->snap || !d->base || !(d->ev_wake = event_new(d->base, -1, 0, wake_cb, d)) ||
        dir_service_init(d) != 0 || dir_publish_init(d) != 0 || dir_query_attach(d) != 0) {
        log_err("directory: cannot set up the directory thread");
        dir_free(d);
        return -1;
    }
    /* LDAP I/O happens on this thread only: SIGPIPE from a dead server must
     * not kill the process, and process signals belong to the main thread. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&d->thread, NULL, dir_thread_main, d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        log_err("directory: cannot start the directory thread: %s", strerror(rc));
        dir_free(d);
        return -1;
    }
    g_dir = d;
    return 0;
}

void directory_stop(void)
{
    dir *d = g_dir;
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->stopping = true;
    pthread_mutex_unlock(&d->lock);
    event_active(d->ev_wake, EV_TIMEOUT, 0);
    pthread_join(d->thread, NULL);
    g_dir = NULL;
    dir_free(d);
}

void directory_reconfigure(const config *c)
{
    dir *d = g_dir;
    if (!d)
        return;
    dir_settings *s = dir_settings_new(c);
    if (!s || s->nuris == 0) {
        log_err("directory: new configuration has no LDAP server; keeping the old one");
        dir_settings_free(s);
        return;
    }
    pthread_mutex_lock(&d->lock);
    dir_settings_free(d->pending);
    d->pending = s;
    pthread_mutex_unlock(&d->lock);
    event_active(d->ev_wake, EV_TIMEOUT, 0);
}

static void reply_now(worker *w, void (*done)(void *, dir_auth_result), void *arg,
                      dir_auth_result res)
{
    dir_req *r = xcalloc(1, sizeof *r);
    r->reply_to = w;
    r->done = done;
    r->arg = arg;
    dir_req_reply(r, res);
}

void directory_auth(worker *reply_to, const char *localpart, const char *domain,
                    const char *password, void (*done)(void *arg, dir_auth_result r), void *arg)
{
    dir *d = g_dir;
    if (!password || !*password) {       /* would be an anonymous bind */
        log_info("auth: empty password for %s@%s", localpart ? localpart : "", domain ? domain : "");
        reply_now(reply_to, done, arg, DIR_AUTH_FAILED);
        return;
    }
    if (!d || !localpart || !domain) {
        reply_now(reply_to, done, arg, d ? DIR_AUTH_FAILED : DIR_AUTH_UNAVAILABLE);
        return;
    }
    dir_req *r = xcalloc(1, sizeof *r);
    if (r) {
        r->reply_to = reply_to;
        r->done = done;
        r->arg = arg;
        r->msgid = -1;
        r->pwlen = strlen(password);
        r->localpart = xstrdup(localpart);
        r->domain = xstrdup(domain);
        r->password = xstrdup(password);
    }
    if (!r || !r->localpart || !r->domain || !r->password) {
        if (r)
            dir_req_free(r);
        reply_now(reply_to, done, arg, DIR_AUTH_UNAVAILABLE);
        return;
    }
    pthread_mutex_lock(&d->lock);
    bool refuse = d->stopping || d->ninbox >= DIR_MAX_REQUESTS;
    if (!refuse) {
        if (d->inbox_tail)
            d->inbox_tail->next = r;
        else
            d->inbox_head = r;
        d->inbox_tail = r;
        d->ninbox++;
    }
    pthread_mutex_unlock(&d->lock);
    if (refuse) {
        log_warn("auth: directory queue full or stopping; refusing %s@%s", localpart, domain);
        dir_req_reply(r, DIR_AUTH_UNAVAILABLE);
        return;
    }
    event_active(d->ev_wake, EV_TIMEOUT, 0);
}

void directory_apply_pending(void)
{
    dir *d = g_dir;
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->apply_requested = true;
    pthread_mutex_unlock(&d->lock);
    event_active(d->ev_wake, EV_TIMEOUT, 0);
}

unsigned directory_pending_changes(void)
{
    dir *d = g_dir;
    return d ? atomic_load(&d->nchanges) : 0;
}

/* For `plucs status` (control_status.c): the service connection's state. */
void directory_status_lines(buf *out)
{
    dir *d = g_dir;
    if (!d) {
        buf_puts(out, "directory/connected: no (not started)\n");
        return;
    }
    pthread_mutex_lock(&d->lock);
    buf_printf(out, "directory/connected: %s\n", d->st_up ? "yes" : "no");
    if (d->st_server[0])
        buf_printf(out, "directory/server: %s\n", d->st_server);
    buf_printf(out, "directory/last_error: %s\n", d->st_error[0] ? d->st_error : "none");
    pthread_mutex_unlock(&d->lock);
}
