/* dir_conn.c: one libldap handle on the directory thread's event base. The
 * handle is configured for LDAPv3, bounded network timeouts and (for
 * ldaps://) a per-handle TLS context that verifies the server against
 * ldap/cacert. libldap connects (and does the TLS handshake) synchronously
 * on the first operation, bounded by the network timeout; after that a
 * persistent read event drains ldap_result() without ever blocking. */
#include "directory/dir_internal.h"
#include "core/alloc.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

static void conn_read_cb(evutil_socket_t fd, short what, void *arg);

/* Called by libldap right after the TCP connect, before the TLS handshake.
 * libldap puts the socket back into blocking mode and does not bound the
 * handshake by LDAP_OPT_NETWORK_TIMEOUT, so a server that accepts and then
 * says nothing would stall this thread forever: socket timeouts bound the
 * handshake (and any blocking write later; reads only happen when the event
 * loop saw data). */
static int conn_added(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
                      struct ldap_conncb *ctx)
{
    ber_socket_t fd = -1;
    if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) == 1 && fd >= 0) {
        struct timeval tv = { DIR_NET_TIMEOUT_S, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    return 0;
}

static void conn_deleted(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx) {}

static const ldap_conncb conn_callbacks = { conn_added, conn_deleted, NULL };

dir_conn *dir_conn_new(dir *d, const char *uri, bool service, char *err, size_t errlen)
{
    dir_conn *c = xcalloc(1, sizeof *c);
    if (!c || !(c->uri = xstrdup(uri))) {
        free(c);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->d = d;
    c->service = service;
    c->msgid = -1;
    int rc = ldap_initialize(&c->ld, uri);
    if (rc != LDAP_SUCCESS) {
        snprintf(err, errlen, "%s", ldap_err2string(rc));
        free(c->uri);
        free(c);
        return NULL;
    }
    int v3 = LDAP_VERSION3, zero = 0;
    struct timeval net = { DIR_NET_TIMEOUT_S, 0 }, api = { DIR_AUTH_DEADLINE_S, 0 };
    ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, &api);
    ldap_set_option(c->ld, LDAP_OPT_RESTART, LDAP_OPT_ON);
    ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    ldap_set_option(c->ld, LDAP_OPT_CONNECT_CB, &conn_callbacks);
    if (strncasecmp(uri, "ldaps://", 8) != 0) {
        ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
    } else {
        /* no network timeout here: see dir_reach.c */
        if (dir_tcp_reachable(uri, DIR_NET_TIMEOUT_S, err, errlen) != 0) {
            dir_conn_free(c);
            return NULL;
        }
        int demand = LDAP_OPT_X_TLS_DEMAND;
        if (d->set->cacert)
            ldap_set_option(c->ld, LDAP_OPT_X_TLS_CACERTFILE, d->set->cacert);
        ldap_set_option(c->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
        rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
        if (rc != LDAP_OPT_SUCCESS) {
            snprintf(err, errlen, "cannot set up TLS with CA %s", d->set->cacert ? d->set->cacert : "(none)");
            dir_conn_free(c);
            return NULL;
        }
    }
    return c;
}

int dir_conn_watch(dir_conn *c)
{
    if (c->ev)
        return 0;
    ber_socket_t fd = -1;
    if (ldap_get_option(c->ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0)
        return -1;
    c->ev = event_new(c->d->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    if (!c->ev || event_add(c->ev, NULL) != 0)
        return -1;
    return 0;
}

void dir_conn_free(dir_conn *c)
{
    if (!c)
        return;
    if (c->ev)
        event_free(c->ev);
    if (c->ld)
        ldap_unbind_ext(c->ld, NULL, NULL);
    free(c->uri);
    free(c);
}

void dir_conn_error(dir_conn *c, int rc, char *buf, size_t len)
{
    if (rc == LDAP_SUCCESS || rc == -1)
        ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &rc);
    char *diag = NULL;
    ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    if (diag && *diag && strncasecmp(c->uri, "ldaps://", 8) == 0 &&
        (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR))
        /* libldap sets a diagnostic only when the TLS handshake failed
         * (often just "(unknown error code)"): say what to check. */
        snprintf(buf, len, "TLS handshake failed: the server certificate is not signed by "
                 "the CA in %s or does not name the host (%s)",
                 c->d->set->cacert ? c->d->set->cacert : "(no plucs/ldap/cacert)", diag);
    else if (diag && *diag)
        snprintf(buf, len, "%s (%s)", ldap_err2string(rc), diag);
    else
        snprintf(buf, len, "%s", ldap_err2string(rc));
    ldap_memfree(diag);
}

/* Drains every complete message without blocking. A handler may close the
 * connection (c freed): it then returns false and we stop touching c. */
static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    dir_conn *c = arg;
    for (;;) {
        struct timeval zero = { 0, 0 };
        LDAPMessage *msg = NULL;
        int t = ldap_result(c->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg);
        if (t == 0)
            return;
        if (t < 0) {
            char reason[300];
            dir_conn_error(c, -1, reason, sizeof reason);
            if (c->service)
                dir_service_lost(c->d, reason);
            else
                dir_auth_conn_lost(c, reason);
            return;
        }
        if (c->service) {
            if (!dir_service_message(c->d, msg))
                return;
        } else {
            dir_auth_bind_message(c, msg);   /* may close or reuse c */
            return;   /* one bind at a time per auth connection */
        }
    }
}
