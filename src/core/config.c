/* config.c: turns a registry file (or UCR's layers, registry_layers.h) into the typed, validated struct config the
 * daemon runs with (see config.h): checks every value, the required
 * variables and the LDAP server list, then fills the struct. Also holds the
 * current configuration as an atomic pointer; replaced ones are kept on a
 * list until exit because readers may still hold them. */
#include "core/config.h"
#include "core/alloc.h"

#include "core/registry.h"
#include "core/registry_layers.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* A copy of s, "" for NULL. */
static char *str_or_empty(const char *s) { return xstrdup(s ? s : ""); }

static void strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* Space-separated words as a NULL-terminated array (empty string: { NULL }). */
static char **split_words(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p;) {
        p += strspn(p, " \t");
        if (!*p)
            break;
        n++;
        p += strcspn(p, " \t");
    }
    char **v = xcalloc(n + 1, sizeof *v);
    size_t i = 0;
    for (const char *p = s; *p && i < n;) {
        p += strspn(p, " \t");
        size_t len = strcspn(p, " \t");
        v[i] = xstrndup(p, len);
        i++;
        p += len;
    }
    return v;
}

static int get_int(const registry *r, const char *key)
{
    return atoi(registry_get(r, key));
}

static bool get_bool(const registry *r, const char *key)
{
    bool b = false;
    reg_parse_bool(registry_get(r, key), &b);
    return b;
}

__attribute__((format(printf, 3, 4)))
static void report_line(void (*report)(void *, const char *), void *ud, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (report)
        report(ud, line);
}

/* ldap/server/name + ldap/server/addition, port and scheme as LDAP URIs. */
static char **derive_ldap_uris(const registry *r)
{
    char *hosts_text;
    if (asprintf(&hosts_text, "%s %s", registry_get(r, "ldap/server/name"),
                 registry_get(r, "ldap/server/addition")) < 0) {
        fputs("plucs: out of memory\n", stderr);
        exit(1);
    }
    char **hosts = split_words(hosts_text);
    free(hosts_text);
    const char *scheme = get_bool(r, "plucs/ldap/tls") ? "ldaps" : "ldap";
    int port = get_int(r, "plucs/ldap/port");
    for (char **h = hosts; *h; h++) {
        char *uri;
        bool v6 = strchr(*h, ':') && (*h)[0] != '[';
        if (asprintf(&uri, "%s://%s%s%s:%d", scheme, v6 ? "[" : "", *h, v6 ? "]" : "", port) < 0) {
            fputs("plucs: out of memory\n", stderr);
            exit(1);
        }
        free(*h);
        *h = uri;
    }
    return hosts;
}

static char **lower_words(const char *s)
{
    char **v = split_words(s);
    for (char **p = v; *p; p++)
        for (char *c = *p; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    return v;
}

/* registry_each callback: plucs/s2s/route/DOMAIN=HOST:PORT (validated). */
static void add_route(void *ud, const char *key, const char *value)
{
    static const char prefix[] = "plucs/s2s/route/";
    config *c = ud;
    if (strncmp(key, prefix, sizeof prefix - 1) != 0 || !key[sizeof prefix - 1] || !value)
        return;
    const char *colon = strrchr(value, ':');
    if (!colon)
        return;
    for (int i = 0; i < c->s2s_nroutes; i++)
        if (strcasecmp(c->s2s_routes[i].domain, key + sizeof prefix - 1) == 0)
            return;   /* the same domain spelt in another case: the first counts */
    struct s2s_route rt;
    rt.domain = xstrdup(key + sizeof prefix - 1);
    for (char *p = rt.domain; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *h = value, *he = colon;
    if (*h == '[' && he > h && he[-1] == ']') {
        h++;
        he--;
    }
    rt.host = xstrndup(h, (size_t)(he - h));
    rt.port = atoi(colon + 1);
    c->s2s_routes = xrealloc(c->s2s_routes, (size_t)(c->s2s_nroutes + 1) * sizeof rt);
    c->s2s_routes[c->s2s_nroutes++] = rt;
}

static void fill(config *c, const registry *r)
{
    c->hostname = str_or_empty(registry_get(r, "hostname"));
    c->domainname = str_or_empty(registry_get(r, "domainname"));
    c->ldap_base = str_or_empty(registry_get(r, "ldap/base"));
    c->ldap_hostdn = str_or_empty(registry_get(r, "ldap/hostdn"));
    const char *uri = registry_get(r, "plucs/ldap/uri");
    c->ldap_uris = uri[strspn(uri, " \t")] ? split_words(uri) : derive_ldap_uris(r);
    c->ldap_secretfile = str_or_empty(registry_get(r, "plucs/ldap/secretfile"));
    c->ldap_cacert = str_or_empty(registry_get(r, "plucs/ldap/cacert"));
    c->ldap_poll = get_int(r, "plucs/ldap/poll");
    c->offline_max = get_int(r, "plucs/offline/max");
    c->quota_roster = get_int(r, "plucs/quota/roster");
    c->quota_private = get_int(r, "plucs/quota/private");
    c->quota_blocklist = get_int(r, "plucs/quota/blocklist");
    c->c2s_max_per_ip = get_int(r, "plucs/c2s/max_per_ip");
    c->c2s_max_preauth = get_int(r, "plucs/c2s/max_preauth");
    c->c2s_max_sessions = get_int(r, "plucs/c2s/max_sessions");
    c->c2s_login_timeout = get_int(r, "plucs/c2s/login_timeout");
    c->http_max_sessions = get_int(r, "plucs/http/max_sessions");

    c->autostart = get_bool(r, "plucs/autostart");
    c->language = str_or_empty(registry_get(r, "plucs/language"));
    c->restart_listener = get_bool(r, "plucs/restart/listener");
    c->loglevel = get_int(r, "plucs/loglevel");
    c->filter = get_bool(r, "plucs/mod/filter");
    c->filter_message_allow = strcasecmp(registry_get(r, "plucs/mod/filter/message_policy"), "allow") == 0;
    c->filter_presence_allow = strcasecmp(registry_get(r, "plucs/mod/filter/presence_policy"), "allow") == 0;
    c->certfile = str_or_empty(registry_get(r, "plucs/certfile"));
    c->tls_tickets = get_bool(r, "plucs/tls/session_tickets");
    const char *tls = registry_get(r, "plucs/tls");
    c->tls = strcasecmp(tls, "required") == 0 ? TLS_REQUIRED : strcasecmp(tls, "false") == 0 ? TLS_OFF : TLS_ON;
    c->userlabel = str_or_empty(registry_get(r, "plucs/userlabel"));
    c->grouplabel = str_or_empty(registry_get(r, "plucs/grouplabel"));

    c->http_proxy = get_bool(r, "plucs/http/proxy");
    c->http_bind = get_bool(r, "plucs/http/bind");
    c->http_bind_url = str_or_empty(registry_get(r, "plucs/http/bind/url"));
    c->http_poll = get_bool(r, "plucs/http/poll");
    c->http_poll_url = str_or_empty(registry_get(r, "plucs/http/poll/url"));
    c->http_websocket = get_bool(r, "plucs/http/websocket");
    c->http_websocket_url = str_or_empty(registry_get(r, "plucs/http/websocket/url"));
    c->http_addresses = split_words(registry_get(r, "plucs/http/address"));
    c->http_port = get_int(r, "plucs/http/port");
    c->http_cors_origins = split_words(registry_get(r, "plucs/http/cors/origins"));
    c->http_proxy_conffile = str_or_empty(registry_get(r, "plucs/http/proxy/conffile"));
    c->http_bind_inactivity = get_int(r, "plucs/http/bind/inactivity");

    c->s2s = get_bool(r, "plucs/s2s");
    c->s2s_certfile = str_or_empty(registry_get(r, "plucs/s2s/certfile"));
    const char *s2s_tls = registry_get(r, "plucs/s2s/tls");
    if (strcasecmp(s2s_tls, "false") == 0)
        c->s2s_tls = S2S_TLS_FALSE;
    else if (strcasecmp(s2s_tls, "required") == 0)
        c->s2s_tls = S2S_TLS_REQUIRED;
    else if (strcasecmp(s2s_tls, "required_trusted") == 0)
        c->s2s_tls = S2S_TLS_REQUIRED_TRUSTED;
    else
        c->s2s_tls = S2S_TLS_OPTIONAL;   /* optional, and true (read as optional) */
    c->s2s_port = get_int(r, "plucs/s2s/port");
    c->s2s_addresses = split_words(registry_get(r, "plucs/s2s/address"));
    c->s2s_idle = get_int(r, "plucs/s2s/idle");
    c->s2s_timeout = get_int(r, "plucs/s2s/timeout");
    c->s2s_cafile = str_or_empty(registry_get(r, "plucs/s2s/cafile"));
    c->s2s_max_stanza_size = get_int(r, "plucs/s2s/max_stanza_size");
    c->s2s_max_per_ip = get_int(r, "plucs/s2s/max_per_ip");
    c->s2s_tls_port = get_int(r, "plucs/s2s/tls/port");
    registry_each(r, add_route, c);

    c->muc = get_bool(r, "plucs/muc");
    c->muc_host = str_or_empty(registry_get(r, "plucs/muc/host"));
    c->muc_create = str_or_empty(registry_get(r, "plucs/muc/create"));
    c->muc_grouprooms = get_bool(r, "plucs/muc/grouprooms");
    c->muc_grouprooms_owners = str_or_empty(registry_get(r, "plucs/muc/grouprooms/owners"));
    c->admin_group = str_or_empty(registry_get(r, "plucs/admin/group"));

    c->sm = get_bool(r, "plucs/sm");
    c->sm_timeout = get_int(r, "plucs/sm/timeout");
    c->sm_max_unacked = get_int(r, "plucs/sm/max_unacked");
    c->csi_max = get_int(r, "plucs/csi/max");
    c->mam = get_bool(r, "plucs/mam");
    c->mam_days = get_int(r, "plucs/mam/days");
    c->push = get_bool(r, "plucs/push");
    c->push_interval = get_int(r, "plucs/push/interval");
    c->pubsub = get_bool(r, "plucs/pubsub");
    c->pubsub_host = str_or_empty(registry_get(r, "plucs/pubsub/host"));
    c->pubsub_max_items = get_int(r, "plucs/pubsub/max_items");
    c->pubsub_max_item_size = get_int(r, "plucs/pubsub/max_item_size");
    c->pubsub_max_nodes = get_int(r, "plucs/pubsub/max_nodes");
    c->upload = get_bool(r, "plucs/upload");
    c->upload_dir = str_or_empty(registry_get(r, "plucs/upload/dir"));
    c->upload_url = str_or_empty(registry_get(r, "plucs/upload/url"));
    c->upload_max_size = get_int(r, "plucs/upload/max_size");
    c->upload_quota = get_int(r, "plucs/upload/quota");
    c->upload_expire_days = get_int(r, "plucs/upload/expire_days");
    c->fast_days = get_int(r, "plucs/fast/days");

    c->c2s_addresses = split_words(registry_get(r, "plucs/c2s/address"));
    c->c2s_port = get_int(r, "plucs/c2s/port");
    c->c2s_tls_port = get_int(r, "plucs/c2s/tls/port");

    c->store = str_or_empty(registry_get(r, "plucs/store"));
    c->max_stanza_size = get_int(r, "plucs/max_stanza_size");
    const char *domains = registry_get(r, "plucs/domains");
    c->domains = domains[strspn(domains, " \t")] ? lower_words(domains) : NULL;
    c->threads = get_int(r, "plucs/threads");
    if (c->threads <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = cpus > 0 ? (cpus > 256 ? 256 : (int)cpus) : 1;
    }
    c->ldap_auth_conns = get_int(r, "plucs/ldap/auth_connections");
    if (c->ldap_auth_conns <= 0)
        c->ldap_auth_conns = 2 * c->threads > 64 ? 64 : 2 * c->threads;
    c->rundir = str_or_empty(registry_get(r, "plucs/rundir"));
    c->roster_scope = strcasecmp(registry_get(r, "plucs/roster/scope"), "member") == 0 ? ROSTER_SCOPE_MEMBER
                                                                                      : ROSTER_SCOPE_DOMAIN;
}

static bool is_blank(const char *s)
{
    return !s || s[strspn(s, " \t")] == '\0';
}

config *config_load(const char *path, void (*report)(void *ud, const char *line), void *ud)
{
    path = registry_default_path(path);
    char failed[4096];
    registry_stack *stack = registry_stack_load(path, failed, sizeof failed);
    if (!stack) {
        report_line(report, ud, "%s: cannot read: %s", failed, strerror(errno));
        return NULL;
    }
    const registry *r = registry_stack_merged(stack);
    int problems = registry_stack_check(stack, report, ud);

    size_t n;
    const reg_var *vars = reg_vars(&n);
    for (size_t i = 0; i < n; i++) {
        if ((vars[i].flags & REG_F_REQUIRED) && is_blank(registry_get_raw(r, vars[i].key))) {
            report_line(report, ud, "%s: not set (required: %s)", vars[i].key, vars[i].desc_en);
            problems++;
        }
    }
    if (is_blank(registry_get(r, "plucs/ldap/uri")) && is_blank(registry_get(r, "ldap/server/name"))) {
        report_line(report, ud,
                    "%s: not set (required unless %s is set: the LDAP server to use, e.g. ldap.example.com)",
                    "ldap/server/name", "plucs/ldap/uri");
        problems++;
    }
    if (problems) {
        registry_stack_free(stack);
        return NULL;
    }
    config *c = xcalloc(1, sizeof *c);
    c->registry_path = str_or_empty(path);
    fill(c, r);
    registry_stack_free(stack);
    return c;
}

void config_free(config *c)
{
    if (!c)
        return;
    free(c->registry_path);
    free(c->hostname);
    free(c->domainname);
    free(c->ldap_base);
    free(c->ldap_hostdn);
    strv_free(c->ldap_uris);
    free(c->ldap_secretfile);
    free(c->ldap_cacert);
    free(c->language);
    free(c->certfile);
    free(c->userlabel);
    free(c->grouplabel);
    free(c->http_bind_url);
    free(c->http_poll_url);
    free(c->http_websocket_url);
    strv_free(c->http_addresses);
    strv_free(c->http_cors_origins);
    free(c->http_proxy_conffile);
    free(c->s2s_certfile);
    strv_free(c->s2s_addresses);
    free(c->s2s_cafile);
    for (int i = 0; i < c->s2s_nroutes; i++) {
        free(c->s2s_routes[i].domain);
        free(c->s2s_routes[i].host);
    }
    free(c->s2s_routes);
    free(c->muc_host);
    free(c->muc_create);
    free(c->muc_grouprooms_owners);
    free(c->admin_group);
    free(c->pubsub_host);
    free(c->upload_dir);
    free(c->upload_url);
    strv_free(c->c2s_addresses);
    free(c->store);
    strv_free(c->domains);
    free(c->rundir);
    free(c);
}

const char *config_inert_warning(const config *c)
{
    (void)c;   /* federation is built: nothing is inert now */
    return NULL;
}

/* ---- the current configuration ---- */

typedef struct retired {
    config *c;
    struct retired *next;
} retired;

static _Atomic(config *) current;
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;
static retired *retired_list;

const config *config_current(void)
{
    return atomic_load_explicit(&current, memory_order_acquire);
}

void config_set_current(config *c)
{
    config *old = atomic_exchange_explicit(&current, c, memory_order_acq_rel);
    if (!old || old == c)
        return;
    retired *node = xcalloc(1, sizeof *node);
    node->c = old;
    pthread_mutex_lock(&retired_lock);
    node->next = retired_list;
    retired_list = node;
    pthread_mutex_unlock(&retired_lock);
}

void config_free_all(void)
{
    config *c = atomic_exchange_explicit(&current, NULL, memory_order_acq_rel);
    config_free(c);
    pthread_mutex_lock(&retired_lock);
    retired *list = retired_list;
    retired_list = NULL;
    pthread_mutex_unlock(&retired_lock);
    while (list) {
        retired *next = list->next;
        config_free(list->c);
        free(list);
        list = next;
    }
}
