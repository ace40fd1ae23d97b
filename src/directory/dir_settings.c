/* dir_settings.c: the part of a config the directory thread works with,
 * copied so that the thread owns it, and the comparisons that decide what a
 * reload must redo (reconnect, re-read the host object, re-read entries for
 * new label attributes, or only recompile the permissions). */
#include "directory/dir_internal.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

static bool same_str(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool same_list(char **a, char **b)
{
    if (!a || !b)
        return a == b;
    size_t i = 0;
    for (; a[i] && b[i]; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return a[i] == b[i];
}

static void free_list(char **l)
{
    if (!l)
        return;
    for (size_t i = 0; l[i]; i++)
        free(l[i]);
    free(l);
}

static char **copy_list(char **l, size_t *count)
{
    size_t n = 0;
    while (l && l[n])
        n++;
    char **out = xcalloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        if (!(out[i] = xstrdup(l[i]))) {
            free_list(out);
            return NULL;
        }
    if (count)
        *count = n;
    return out;
}

dir_settings *dir_settings_new(const config *c)
{
    dir_settings *s = xcalloc(1, sizeof *s);
    s->uris = copy_list(c->ldap_uris, &s->nuris);
    s->base = dup_or_null(c->ldap_base ? c->ldap_base : "");
    s->hostdn = dup_or_null(c->ldap_hostdn);
    s->secretfile = dup_or_null(c->ldap_secretfile);
    s->cacert = dup_or_null(c->ldap_cacert);
    s->hostname = dup_or_null(c->hostname ? c->hostname : "");
    if (c->domains)
        s->domains = copy_list(c->domains, NULL);
    s->userlabel = dup_or_null(c->userlabel && *c->userlabel ? c->userlabel : "gecos");
    s->grouplabel = dup_or_null(c->grouplabel && *c->grouplabel ? c->grouplabel : "cn");
    s->filter = c->filter;
    s->msg_allow = c->filter_message_allow;
    s->pres_allow = c->filter_presence_allow;
    s->restart_listener = c->restart_listener;
    s->poll = c->ldap_poll > 0 ? c->ldap_poll : 30;
    s->auth_conns = c->ldap_auth_conns < 1 ? 8 : c->ldap_auth_conns > DIR_AUTH_CONNS_MAX
                    ? DIR_AUTH_CONNS_MAX : c->ldap_auth_conns;
    if (!s->userlabel || !s->grouplabel || !s->uris || !s->base || !s->hostname || (c->domains && !s->domains) ||
        (c->ldap_hostdn && !s->hostdn) || (c->ldap_secretfile && !s->secretfile) ||
        (c->ldap_cacert && !s->cacert)) {
        dir_settings_free(s);
        return NULL;
    }
    return s;
}

void dir_settings_free(dir_settings *s)
{
    if (!s)
        return;
    free_list(s->uris);
    free(s->base);
    free(s->hostdn);
    free(s->secretfile);
    free(s->cacert);
    free(s->hostname);
    free_list(s->domains);
    free(s->userlabel);
    free(s->grouplabel);
    free(s);
}

bool dir_settings_same_connection(const dir_settings *a, const dir_settings *b)
{
    return same_list(a->uris, b->uris) && same_str(a->hostdn, b->hostdn) &&
           same_str(a->secretfile, b->secretfile) && same_str(a->cacert, b->cacert);
}

bool dir_settings_same_hosts(const dir_settings *a, const dir_settings *b)
{
    return same_str(a->base, b->base) && same_str(a->hostname, b->hostname) &&
           same_list(a->domains, b->domains);
}

bool dir_settings_same_labels(const dir_settings *a, const dir_settings *b)
{
    return strcasecmp(a->userlabel, b->userlabel) == 0 &&
           strcasecmp(a->grouplabel, b->grouplabel) == 0;
}

bool dir_settings_same_policy(const dir_settings *a, const dir_settings *b)
{
    return a->filter == b->filter && a->msg_allow == b->msg_allow && a->pres_allow == b->pres_allow;
}
