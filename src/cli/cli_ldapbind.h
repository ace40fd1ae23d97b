/* cli_ldapbind.h: the simple bind of the `plucs` tool, shared by the
 * directory commands (cli_ldapw.c) and the offline snapshot of `plucs
 * explain` (cli_offline.c), so both connect the same way: the registry's
 * servers in order, LDAPv3, no referrals, bounded timeouts, ldaps:// with
 * ldap/cacert and a demanded certificate. Blocking: the tool only. */
#ifndef PLUCS_CLI_LDAPBIND_H
#define PLUCS_CLI_LDAPBIND_H

#include <ldap.h>
#include <stddef.h>

#include "core/config.h"

/* Binds as dn with cred to the first of c->ldap_uris that accepts. Returns
 * the bound handle (ldap_unbind_ext_s it), or NULL with why filled: for each
 * server "URI: reason - server's diagnostic", reason(rc) giving the words,
 * or that no server is configured. */
LDAP *cli_ldap_bind(const config *c, const char *dn, struct berval *cred,
                    const char *(*reason)(int rc), char *why, size_t whylen);

#endif
