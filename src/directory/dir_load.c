/* dir_load.c: a full read of the XMPP accounts and groups below ldap/base,
 * as two asynchronous searches, one after the other (slapd keeps one paged
 * search per connection), with the simple paged results control (RFC 2696,
 * 500 entries a page, so that directories larger than slapd's sizelimit
 * work). Used once after the service bind before the change feed
 * starts, and every plucs/ldap/poll seconds when the server offers no feed;
 * entries not returned by a complete read are removed (deletions are
 * noticed). */
#include "directory/dir_internal.h"
#include "core/alloc.h"
#include "core/log.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#define DIR_PAGE_SIZE 500

static const char *const load_filters[2] = {
    "(&(objectClass=univentionXMPPAccount)(xmppEnabled=TRUE))",
    "(&(objectClass=univentionXMPPGroup)(xmppEnabled=TRUE))",
};

static void reload_cb(evutil_socket_t fd, short what, void *arg)
{
    dir *d = arg;
    if (d->svc_state == SVC_UP && d->sync_msgid < 0 && d->loads_running == 0) {
        /* Without a change feed the host object (served domains) is polled
         * at the same pace as accounts and groups. */
        dir_hosts_read(d);
        dir_load_start(d);
    }
}

void dir_load_schedule(dir *d)
{
    if (!d->ev_reload && !(d->ev_reload = evtimer_new(d->base, reload_cb, d)))
        return;
    struct timeval tv = { d->set->poll, 0 };
    evtimer_add(d->ev_reload, &tv);
}

static int send_page(dir *d, int i)
{
    LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL };
    int rc = ldap_create_page_control(d->svc->ld, DIR_PAGE_SIZE,
                                      d->load[i].cookie.bv_len ? &d->load[i].cookie : NULL, 0,
                                      &page);
    if (rc != LDAP_SUCCESS)
        return rc;
    ctrls[0] = page;
    rc = ldap_search_ext(d->svc->ld, d->set->base, LDAP_SCOPE_SUBTREE, load_filters[i],
                         dir_entry_attrs(d), 0, ctrls, NULL, NULL, 0, &d->load[i].msgid);
    ldap_control_free(page);
    if (rc != LDAP_SUCCESS)
        d->load[i].msgid = -1;
    return rc;
}

static void load_finished(dir *d)
{
    bool ok = d->load[0].rc == LDAP_SUCCESS && d->load[1].rc == LDAP_SUCCESS;
    if (ok) {
        unsigned gone = dir_entries_sweep(d, true);
        if (gone)
            dir_changed(d, gone);
    } else {
        int rc = d->load[0].rc != LDAP_SUCCESS ? d->load[0].rc : d->load[1].rc;
        log_warn("directory: cannot read the XMPP accounts and groups: %s; keeping what was "
                 "read before", ldap_err2string(rc));
    }
    log_debug("directory: full read done (%zu entries)", d->ecount);
    dir_loaded(d);
    if (d->svc_state != SVC_UP)
        return;
    if (!d->sync_refused)
        dir_sync_start(d);
    else
        dir_load_schedule(d);
}

/* Starts search i (its first page); false when the connection was lost. */
static bool start_search(dir *d, int i)
{
    free(d->load[i].cookie.bv_val);
    d->load[i].cookie = (struct berval){ 0, NULL };
    d->load[i].rc = LDAP_SUCCESS;
    int rc = send_page(d, i);
    if (rc == LDAP_SUCCESS)
        return true;
    char err[300];
    dir_conn_error(d->svc, rc, err, sizeof err);
    dir_load_abort(d);
    if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) {
        dir_service_lost(d, err);
    } else {
        log_warn("directory: cannot search the accounts and groups: %s", err);
        dir_load_schedule(d);
    }
    return false;
}

void dir_load_start(dir *d)
{
    if (d->svc_state != SVC_UP || d->loads_running)
        return;
    dir_entries_unmark_all(d);
    d->load[1].rc = LDAP_SUCCESS;
    if (start_search(d, 0))
        d->loads_running = 1;
}

static void page_done(dir *d, int i, LDAPMessage *msg)
{
    int rc = LDAP_OTHER;
    LDAPControl **ctrls = NULL;
    int prc = ldap_parse_result(d->svc->ld, msg, &rc, NULL, NULL, NULL, &ctrls, 1);
    if (prc != LDAP_SUCCESS)
        rc = prc;
    d->load[i].msgid = -1;
    free(d->load[i].cookie.bv_val);
    d->load[i].cookie = (struct berval){ 0, NULL };
    if (rc == LDAP_SUCCESS) {
        LDAPControl *pc = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
        struct berval cookie = { 0, NULL };
        ber_int_t count = 0;
        if (pc && ldap_parse_pageresponse_control(d->svc->ld, pc, &count, &cookie) ==
                      LDAP_SUCCESS && cookie.bv_len) {
            d->load[i].cookie.bv_val = xmalloc(cookie.bv_len);
            if (d->load[i].cookie.bv_val) {
                memcpy(d->load[i].cookie.bv_val, cookie.bv_val, cookie.bv_len);
                d->load[i].cookie.bv_len = cookie.bv_len;
            }
        }
        ber_memfree(cookie.bv_val);
    }
    ldap_controls_free(ctrls);
    if (rc == LDAP_SUCCESS && d->load[i].cookie.bv_len) {
        rc = send_page(d, i);         /* next page */
        if (rc == LDAP_SUCCESS)
            return;
    }
    if (rc != LDAP_SUCCESS && d->load[i].rc == LDAP_SUCCESS)
        d->load[i].rc = rc;
    if (i == 0 && start_search(d, 1))        /* then the groups */
        return;
    if (i == 0 && d->loads_running == 0)     /* aborted: connection lost */
        return;
    d->loads_running = 0;
    load_finished(d);
}

bool dir_load_message(dir *d, LDAPMessage *msg)
{
    int id = ldap_msgid(msg), i;
    for (i = 0; i < 2; i++)
        if (d->load[i].msgid >= 0 && d->load[i].msgid == id)
            break;
    if (i == 2)
        return false;
    switch (ldap_msgtype(msg)) {
    case LDAP_RES_SEARCH_ENTRY: {
        dir_entry *e = dir_entry_read(d, msg, NULL);
        ldap_msgfree(msg);
        if (e && dir_entries_put(d, e))
            dir_changed(d, 1);
        break;
    }
    case LDAP_RES_SEARCH_RESULT:
        page_done(d, i, msg);
        break;
    default:
        ldap_msgfree(msg);
    }
    return true;
}

void dir_load_abort(dir *d)
{
    for (int i = 0; i < 2; i++) {
        if (d->load[i].msgid >= 0 && d->svc)
            ldap_abandon_ext(d->svc->ld, d->load[i].msgid, NULL, NULL);
        d->load[i].msgid = -1;
        free(d->load[i].cookie.bv_val);
        d->load[i].cookie = (struct berval){ 0, NULL };
    }
    d->loads_running = 0;
    if (d->ev_reload)
        evtimer_del(d->ev_reload);
}
