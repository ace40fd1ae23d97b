/* cli_ldapbind.c: one simple bind over the registry's LDAP servers for the
 * `plucs` tool (see cli_ldapbind.h); the directory commands and the offline
 * snapshot both use it, so their connections cannot drift apart. */
#include "cli/cli_ldapbind.h"

#include <stdio.h>
#include <sys/time.h>
#include <string.h>
#include <strings.h>

#define CLI_LDAP_NET_TIMEOUT_S 5
#define CLI_LDAP_API_TIMEOUT_S 30

/* One server: the bound handle, or NULL with *rc and *diag (ldap_memfree). */
static LDAP *bind_one(const config *c, const char *uri, const char *dn, struct berval *cred, int *rc,
                      char **diag)
{
    LDAP *ld = NULL;
    *diag = NULL;
    *rc = ldap_initialize(&ld, uri);
    if (*rc != LDAP_SUCCESS)
        return NULL;
    int v3 = LDAP_VERSION3, zero = 0, demand = LDAP_OPT_X_TLS_DEMAND;
    struct timeval net = { CLI_LDAP_NET_TIMEOUT_S, 0 }, api = { CLI_LDAP_API_TIMEOUT_S, 0 };
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &api);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    if (strncasecmp(uri, "ldaps://", 8) == 0) {
        if (c->ldap_cacert)
            ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c->ldap_cacert);
        ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
        ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
    }
    *rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, cred, NULL, NULL, NULL);
    if (*rc == LDAP_SUCCESS)
        return ld;
    ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, diag);
    ldap_unbind_ext_s(ld, NULL, NULL);
    return NULL;
}

LDAP *cli_ldap_bind(const config *c, const char *dn, struct berval *cred,
                    const char *(*reason)(int rc), char *why, size_t whylen)
{
    LDAP *ld = NULL;
    size_t w = 0;
    why[0] = '\0';
    for (size_t i = 0; c->ldap_uris && c->ldap_uris[i] && !ld; i++) {
        int rc;
        char *diag = NULL;
        ld = bind_one(c, c->ldap_uris[i], dn, cred, &rc, &diag);
        if (!ld && w < whylen)
            w += (size_t)snprintf(why + w, whylen - w, "%s%s: %s%s%s", w ? "; " : "",
                                  c->ldap_uris[i], reason(rc), diag && *diag ? " - " : "",
                                  diag && *diag ? diag : "");
        ldap_memfree(diag);
    }
    if (!ld && !why[0])
        snprintf(why, whylen, "no LDAP server configured (ldap/server/name or plucs/ldap/uri)");
    return ld;
}
