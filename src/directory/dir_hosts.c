/* dir_hosts.c: which domains this server hosts. Reads the host object
 * (&(objectClass=univentionXMPPHost)(cn=<hostname>)) below ldap/base after
 * each service bind and every DIR_POLL_S seconds; its xmppDomains (lower
 * case) are served unless univentionService is set without "XMPP". The
 * plucs/domains override makes this read unnecessary. */
#include "directory/dir_internal.h"
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
    d->nhfound = d->caphfound = 0;
    d->hentries = 0;
    d->hservice_refused = false;
}

static void found_add(dir *d, const struct berval *v)
{
    if (d->nhfound == d->caphfound) {
        size_t cap = d->caphfound ? d->caphfound * 2 : 8;
        char **n = realloc(d->hfound, cap * sizeof *n);
        if (!n)
            return;
        d->hfound = n;
        d->caphfound = cap;
    }
    char *s = strndup(v->bv_val, v->bv_len);
    if (s)
        d->hfound[d->nhfound++] = s;
}

static char *host_filter(const char *hostname)
{
    char *esc = ldap_filter_escape(hostname);
    if (!esc)
        return NULL;
    char *f = NULL;
    if (asprintf(&f, "(&(objectClass=univentionXMPPHost)(cn=%s))", esc) < 0)
        f = NULL;
    free(esc);
    return f;
}

void dir_hosts_read(dir *d)
{
    struct timeval tv = { DIR_POLL_S, 0 };
    if (d->svc_state == SVC_UP)
        evtimer_add(d->ev_poll, &tv);
    if (d->set->domains || d->svc_state != SVC_UP || d->host_msgid >= 0)
        return;
    char *filter = host_filter(d->set->hostname);
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
    LDAP *ld = d->svc->ld;
    d->hentries++;
    struct berval **svc = ldap_get_values_len(ld, e, "univentionService");
    bool refused = false;
    if (svc && svc[0]) {
        refused = true;
        for (size_t i = 0; svc[i]; i++)
            if (svc[i]->bv_len == 4 && strncasecmp(svc[i]->bv_val, "XMPP", 4) == 0)
                refused = false;
    }
    ldap_value_free_len(svc);
    if (refused) {
        d->hservice_refused = true;
        return;
    }
    struct berval **doms = ldap_get_values_len(ld, e, "xmppDomains");
    for (size_t i = 0; doms && doms[i]; i++)
        found_add(d, doms[i]);
    ldap_value_free_len(doms);
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
        char *filter = host_filter(d->set->hostname);
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
    d->nhfound = d->caphfound = 0;
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
