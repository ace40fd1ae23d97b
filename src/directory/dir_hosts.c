/* dir_hosts.c: which domains this server hosts. Reads the host object
 * (&(objectClass=univentionXMPPHost)(cn=<hostname>)) below ldap/base after
 * each service bind and every DIR_POLL_S seconds; its xmppDomains (lower
 * case) are served unless univentionService is set without "XMPP". The
 * plucs/domains override makes this read unnecessary. The host object is
 * read by dir_reader.c (dir_host_domains), as `plucs explain --offline`
 * reads it. */
#include "directory/dir_internal.h"
#include "directory/dir_reader.h"
#include "core/log.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void found_clear(dir *d)
{
    for (size_t i = 0; i < d->nhfound; i++)
        free(d->hfound[i]);
    free(d->hfound);
    d->hfound = NULL;
    d->nhfound = 0;
    d->hentries = 0;
    d->hservice_refused = false;
}

void dir_hosts_read(dir *d)
{
    struct timeval tv = { DIR_POLL_S, 0 };
    if (d->svc_state == SVC_UP)
        evtimer_add(d->ev_poll, &tv);
    if (d->set->domains || d->svc_state != SVC_UP || d->host_msgid >= 0)
        return;
    char *filter = dir_host_filter(d->set->hostname);
    if (!filter)
        return;
    char *attrs[] = { "xmppDomains", "univentionService", NULL };
    found_clear(d);
    int rc = ldap_search_ext(d->svc->ld, d->set->base, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
                             NULL, NULL, NULL, 0, &d->host_msgid);
    free(filter);
    if (rc != LDAP_SUCCESS) {
        d->host_msgid = -1;
        char err[300];
        dir_conn_error(d->svc, rc, err, sizeof err);
        if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)
            dir_service_lost(d, err);
        else
            log_warn("directory: cannot search the host object: %s", err);
    }
}

static void host_entry(dir *d, LDAPMessage *e)
{
    d->hentries++;
    dir_attrs a;
    if (dir_attrs_from_ldap(d->svc->ld, e, &a) != 0)
        return;
    if (dir_host_domains(a.v, a.n, &d->hfound, &d->nhfound) == 1)
        d->hservice_refused = true;
    dir_attrs_free(&a);
}

static void host_done(dir *d, LDAPMessage *msg)
{
    int rc = LDAP_OTHER;
    int prc = ldap_parse_result(d->svc->ld, msg, &rc, NULL, NULL, NULL, NULL, 1);
    d->host_msgid = -1;
    if (prc != LDAP_SUCCESS)
        rc = prc;
    if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
        log_warn("directory: cannot read the host object: %s", ldap_err2string(rc));
        found_clear(d);
        return;   /* keep the last snapshot */
    }
    const char *reason = NULL;
    char why[600];
    if (d->hentries == 0) {
        char *filter = dir_host_filter(d->set->hostname);
        snprintf(why, sizeof why, "no entry matches %s below %s", filter ? filter : "?", d->set->base);
        free(filter);
        if (!d->nohost_logged)
            log_warn("directory: %s", why);
        d->nohost_logged = true;
        reason = why;
    } else {
        d->nohost_logged = false;
        if (d->nhfound == 0)
            reason = d->hservice_refused ? "the host object's univentionService lacks XMPP"
                                         : "the host object has no xmppDomains";
    }
    char **doms = d->hfound;
    size_t n = d->nhfound;
    d->hfound = NULL;
    d->nhfound = 0;
    found_clear(d);
    dir_publish_domains(d, doms, n, reason);
}

bool dir_hosts_message(dir *d, LDAPMessage *msg)
{
    if (d->host_msgid < 0 || ldap_msgid(msg) != d->host_msgid)
        return false;
    switch (ldap_msgtype(msg)) {
    case LDAP_RES_SEARCH_ENTRY:
        host_entry(d, msg);
        ldap_msgfree(msg);
        break;
    case LDAP_RES_SEARCH_RESULT:
        host_done(d, msg);
        break;
    default:
        ldap_msgfree(msg);    /* references: ignored */
    }
    return true;
}

void dir_hosts_abort(dir *d)
{
    if (d->host_msgid >= 0 && d->svc)
        ldap_abandon_ext(d->svc->ld, d->host_msgid, NULL, NULL);
    d->host_msgid = -1;
    found_clear(d);
}
