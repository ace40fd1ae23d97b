/* dir_service.c: the service connection, bound as ldap/hostdn, used for
 * every search. Servers are tried in the configured order; a failure or a
 * lost connection moves to the next one, and after a full cycle of failures
 * the next cycle waits 1, 2, 4 ... 30 s. Exactly one log line per state
 * change: connected / lost / failed over / reconnected / unreachable. After
 * the bind it reads the host object and starts the feed (dir_publish.c). */
#include "directory/dir_internal.h"
#include "directory/dir_query.h"
#include "core/log.h"
#include "core/secret.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    dir_service_connect(arg);
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
    dir_hosts_read(arg);
}

static void attempt_failed(dir *d, const char *err);

static void bind_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    dir *d = arg;
    if (d->svc_state == SVC_BINDING)
        attempt_failed(d, "no answer to the bind");
}

int dir_service_init(dir *d)
{
    d->ev_retry = evtimer_new(d->base, retry_cb, d);
    d->ev_poll = evtimer_new(d->base, poll_cb, d);
    d->ev_bind_timeout = evtimer_new(d->base, bind_timeout_cb, d);
    return d->ev_retry && d->ev_poll && d->ev_bind_timeout ? 0 : -1;
}

/* One attempt failed (connect, TLS or bind): next server, or back off. */
static void attempt_failed(dir *d, const char *err)
{
    snprintf(d->last_error, sizeof d->last_error, "%s: %s", d->set->uris[d->cur], err);
    log_debug("directory: cannot use %s: %s", d->set->uris[d->cur], err);
    pthread_mutex_lock(&d->lock);
    d->st_up = false;
    snprintf(d->st_server, sizeof d->st_server, "%s", d->set->uris[d->cur]);
    snprintf(d->st_error, sizeof d->st_error, "%s", d->last_error);
    pthread_mutex_unlock(&d->lock);
    dir_conn_free(d->svc);
    d->svc = NULL;
    d->svc_state = SVC_DOWN;
    evtimer_del(d->ev_bind_timeout);
    d->cur = (d->cur + 1) % d->set->nuris;
    struct timeval tv = { 0, 0 };
    if (++d->tries >= d->set->nuris) {
        if (!d->unreachable_logged) {
            log_warn("directory: cannot reach any directory server (last error: %s); retrying",
                     d->last_error);
            d->unreachable_logged = true;
        }
        d->tries = 0;
        tv.tv_sec = d->backoff;
        d->backoff = d->backoff * 2 > DIR_BACKOFF_MAX_S ? DIR_BACKOFF_MAX_S : d->backoff * 2;
    }
    /* Through the loop, never recursively: keeps the stack flat. */
    evtimer_add(d->ev_retry, &tv);
}

void dir_service_connect(dir *d)
{
    if (d->svc)
        return;
    char err[300] = "";
    const char *uri = d->set->uris[d->cur];
    d->svc = dir_conn_new(d, uri, true, err, sizeof err);
    if (!d->svc) {
        attempt_failed(d, err);
        return;
    }
    char secret[1024];
    if (secret_read(d->set->secretfile, secret, sizeof secret, err, sizeof err) != 0) {
        if (!d->hostdn_logged) {
            log_err("directory: %s", err);
            d->hostdn_logged = true;
        }
        attempt_failed(d, err);
        return;
    }
    struct berval cred = { strlen(secret), secret };
    int rc = ldap_sasl_bind(d->svc->ld, d->set->hostdn ? d->set->hostdn : "", LDAP_SASL_SIMPLE,
                            &cred, NULL, NULL, &d->svc->msgid);
    explicit_bzero(secret, sizeof secret);
    if (rc != LDAP_SUCCESS || dir_conn_watch(d->svc) != 0) {
        dir_conn_error(d->svc, rc, err, sizeof err);
        attempt_failed(d, err);
        return;
    }
    d->svc_state = SVC_BINDING;
    struct timeval tv = { DIR_BIND_TIMEOUT_S, 0 };
    evtimer_add(d->ev_bind_timeout, &tv);
}

static void service_up(dir *d)
{
    const char *uri = d->set->uris[d->cur];
    if (!d->ever_connected) {
        if (d->cur != 0)
            log_warn("directory: failed over from %s to %s (%s)", d->set->uris[0], uri,
                     d->last_error);
        log_info("directory: connected to %s", uri);
    } else if (d->lost_from[0] && strcmp(d->lost_from, uri) != 0) {
        log_warn("directory: failed over from %s to %s", d->lost_from, uri);
    } else {
        log_warn("directory: reconnected to %s", uri);
    }
    pthread_mutex_lock(&d->lock);
    d->st_up = true;
    snprintf(d->st_server, sizeof d->st_server, "%s", uri);
    pthread_mutex_unlock(&d->lock);
    d->ever_connected = true;
    d->unreachable_logged = false;
    d->hostdn_logged = false;
    d->lost_from[0] = '\0';
    d->last_good = d->cur;
    d->tries = 0;
    d->backoff = 1;
    d->svc_state = SVC_UP;
    dir_hosts_read(d);
    dir_feed_start(d);
    struct timeval tv = { DIR_POLL_S, 0 };
    evtimer_add(d->ev_poll, &tv);
    dir_auth_release_held(d);   /* after a reconnect (at the start: when the read completes) */
}

static bool bind_result(dir *d, LDAPMessage *msg)
{
    int rc = LDAP_OTHER;
    char *diag = NULL;
    int prc = ldap_parse_result(d->svc->ld, msg, &rc, NULL, &diag, NULL, NULL, 1);
    if (prc != LDAP_SUCCESS)
        rc = prc;
    d->svc->msgid = -1;
    evtimer_del(d->ev_bind_timeout);
    if (rc == LDAP_SUCCESS) {
        ldap_memfree(diag);
        service_up(d);
        return true;
    }
    char err[400];
    snprintf(err, sizeof err, "%s%s%s%s", ldap_err2string(rc), diag && *diag ? " (" : "",
             diag && *diag ? diag : "", diag && *diag ? ")" : "");
    ldap_memfree(diag);
    if (!d->hostdn_logged && rc != LDAP_SERVER_DOWN && rc != LDAP_UNAVAILABLE &&
        rc != LDAP_BUSY && rc != LDAP_TIMEOUT) {
        log_err("directory: cannot bind as %s at %s: %s", d->set->hostdn ? d->set->hostdn : "(anonymous)",
                d->set->uris[d->cur], err);
        d->hostdn_logged = true;
    }
    attempt_failed(d, err);
    return false;
}

bool dir_service_message(dir *d, LDAPMessage *msg)
{
    if (d->svc_state == SVC_BINDING) {
        if (ldap_msgtype(msg) == LDAP_RES_BIND && ldap_msgid(msg) == d->svc->msgid)
            return bind_result(d, msg);
        ldap_msgfree(msg);
        return true;
    }
    if (dir_hosts_message(d, msg) || dir_sync_message(d, msg) || dir_load_message(d, msg) ||
        dir_auth_search_message(d, msg) || dir_query_message(d, msg))
        return d->svc != NULL;
    ldap_msgfree(msg);   /* abandoned search, unsolicited notice */
    return true;
}

void dir_service_reset(dir *d)
{
    dir_hosts_abort(d);
    dir_sync_abort(d);
    dir_load_abort(d);
    dir_auth_fail_all(d);
    dir_query_fail_all(d);
    dir_conn_free(d->svc);
    d->svc = NULL;
    d->svc_state = SVC_DOWN;
    evtimer_del(d->ev_retry);
    evtimer_del(d->ev_poll);
    evtimer_del(d->ev_bind_timeout);
}

void dir_service_lost(dir *d, const char *reason)
{
    if (d->svc_state != SVC_UP) {        /* bind never completed: an attempt failure */
        attempt_failed(d, reason);
        return;
    }
    const char *uri = d->set->uris[d->cur];
    log_warn("directory: lost connection to %s: %s", uri, reason);
    snprintf(d->lost_from, sizeof d->lost_from, "%s", uri);
    snprintf(d->last_error, sizeof d->last_error, "%s: %s", uri, reason);
    pthread_mutex_lock(&d->lock);
    d->st_up = false;
    snprintf(d->st_error, sizeof d->st_error, "%s", d->last_error);
    pthread_mutex_unlock(&d->lock);
    dir_service_reset(d);
    d->tries = 0;
    if (d->set->nuris > 1)
        d->cur = (d->cur + 1) % d->set->nuris;
    struct timeval tv = { 0, 0 };
    evtimer_add(d->ev_retry, &tv);
}
