/* config.h: the typed, validated view of the registry that the daemon runs
 * with. Built from a registry file by config_load(); immutable once built.
 * A reload builds a new one and swaps it in (config_current()); an old one
 * stays valid for whoever still holds it (configs are few and small, so old
 * ones are kept until exit rather than reference-counted). */
#ifndef PLUCS_CONFIG_H
#define PLUCS_CONFIG_H

#include <stdbool.h>

enum tls_mode { TLS_OFF = 0, TLS_ON = 1, TLS_REQUIRED = 2 };
enum s2s_tls_mode { S2S_TLS_FALSE, S2S_TLS_OPTIONAL, S2S_TLS_REQUIRED, S2S_TLS_REQUIRED_TRUSTED };
enum roster_scope { ROSTER_SCOPE_DOMAIN, ROSTER_SCOPE_MEMBER };

typedef struct config {
    char *registry_path;        /* the file this was read from */

    /* host identity and directory connection */
    char *hostname;
    char *domainname;
    char *ldap_base;
    char *ldap_hostdn;
    char **ldap_uris;           /* NULL-terminated, derived from plucs/ldap/uri or
                                   ldap/server/name + addition + port + tls */
    char *ldap_secretfile;
    char *ldap_cacert;
    int ldap_poll;              /* plucs/ldap/poll: seconds between polls without a change feed */
    int ldap_auth_conns;        /* plucs/ldap/auth_connections, resolved: 1..64 (0 = 2 x threads) */

    /* service */
    bool autostart;
    char *language;             /* "en", "de", ... */
    bool restart_listener;
    int loglevel;
    bool filter;
    bool filter_message_allow;  /* message_policy == allow */
    bool filter_presence_allow; /* presence_policy == allow */
    char *certfile;
    enum tls_mode tls;
    bool tls_tickets;           /* plucs/tls/session_tickets */
    char *userlabel;
    char *grouplabel;

    bool http_proxy;
    bool http_bind;
    char *http_bind_url;
    bool http_poll;
    char *http_poll_url;
    bool http_websocket;
    char *http_websocket_url;
    char **http_addresses;      /* NULL-terminated */
    int http_port;
    char **http_cors_origins;   /* plucs/http/cors/origins, NULL-terminated */
    char *http_proxy_conffile;  /* plucs/http/proxy/conffile */
    int http_bind_inactivity;   /* plucs/http/bind/inactivity, seconds */

    bool s2s;
    char *s2s_certfile;
    enum s2s_tls_mode s2s_tls;
    int s2s_port;
    char **s2s_addresses;       /* plucs/s2s/address, NULL-terminated; "::" means all */
    int s2s_idle;               /* plucs/s2s/idle: seconds before an unused stream closes */
    int s2s_timeout;            /* plucs/s2s/timeout: seconds to set up an outgoing stream */
    char *s2s_cafile;           /* plucs/s2s/cafile: "" = the system's CA store */
    int s2s_max_stanza_size;    /* plucs/s2s/max_stanza_size */
    int s2s_max_per_ip;         /* plucs/s2s/max_per_ip: incoming connections per address, 0 = no limit */
    int s2s_tls_port;           /* plucs/s2s/tls/port: direct TLS (XEP-0368), 0 = off */
    struct s2s_route {          /* plucs/s2s/route/DOMAIN=HOST:PORT */
        char *domain;           /* lower case */
        char *host;             /* name or address (IPv6 without brackets) */
        int port;
    } *s2s_routes;
    int s2s_nroutes;

    bool muc;                   /* plucs/muc */
    char *muc_host;             /* plucs/muc/host, with %s for the served domain */
    char *muc_create;           /* plucs/muc/create: "all", "none" or a group cn */
    bool muc_grouprooms;        /* plucs/muc/grouprooms */
    char *muc_grouprooms_owners;/* plucs/muc/grouprooms/owners: group cn, "" = nobody */
    char *admin_group;          /* plucs/admin/group: group cn, "" = no administrators */

    bool sm;                    /* plucs/sm: XEP-0198 offered */
    int sm_timeout;             /* plucs/sm/timeout: seconds a detached session stays resumable */
    int sm_max_unacked;         /* plucs/sm/max_unacked */
    int csi_max;                /* plucs/csi/max: stanzas held for an inactive client */
    bool mam;                   /* plucs/mam: XEP-0313 archive */
    int mam_days;               /* plucs/mam/days: retention, 0 = forever */
    bool push;                  /* plucs/push: XEP-0357 */
    int push_interval;          /* plucs/push/interval: seconds between pushes per account and service */
    bool pubsub;                /* plucs/pubsub: XEP-0060 service and XEP-0163 PEP */
    char *pubsub_host;          /* plucs/pubsub/host, with %s for the served domain */
    int pubsub_max_items;       /* plucs/pubsub/max_items: per node */
    int pubsub_max_item_size;   /* plucs/pubsub/max_item_size: bytes of one item's payload */
    int pubsub_max_nodes;       /* plucs/pubsub/max_nodes: per owning account */
    bool upload;                /* plucs/upload: XEP-0363 */
    char *upload_dir;           /* plucs/upload/dir */
    char *upload_url;           /* plucs/upload/url: "" = the HTTP listener's own address */
    long long upload_max_size;  /* plucs/upload/max_size: bytes */
    long long upload_quota;     /* plucs/upload/quota: bytes per user, 0 = no limit */
    int upload_expire_days;     /* plucs/upload/expire_days: 0 = forever */
    int fast_days;              /* plucs/fast/days: FAST token lifetime, 0 = FAST off */

    char **c2s_addresses;       /* NULL-terminated; "::" means all */
    int c2s_port;
    int c2s_tls_port;           /* 0 = off */

    char *store;                /* "sqlite:/path" */
    int max_stanza_size;
    char **domains;             /* plucs/domains override, NULL-terminated; NULL when unset */
    int threads;                /* resolved: never 0 (0 in the registry = cores) */
    char *rundir;
    enum roster_scope roster_scope;
    int offline_max;            /* plucs/offline/max */

    /* limits and quotas (0 = no limit), docs/security.md */
    int quota_roster;           /* plucs/quota/roster: personal roster items per user */
    int quota_private;          /* plucs/quota/private: bytes of private XML per user */
    int quota_blocklist;        /* plucs/quota/blocklist: blocked JIDs per user */
    int c2s_max_per_ip;         /* plucs/c2s/max_per_ip: unauthenticated connections per address */
    int c2s_max_preauth;        /* plucs/c2s/max_preauth: unauthenticated connections in all */
    int c2s_max_sessions;       /* plucs/c2s/max_sessions: resources per user */
    int c2s_login_timeout;      /* plucs/c2s/login_timeout: seconds from accept to bind */
    int http_max_sessions;      /* plucs/http/max_sessions: BOSH + polling sessions in all */
} config;

/* Reads and validates the registry at path (NULL: the default location, see
 * registry_default_path()); when path is a UCR base.conf, its UCR layers
 * merged (core/registry_layers.h), each problem naming its layer file. On success returns a new config. On failure
 * returns NULL and calls report(ud, line) once per problem, each line naming
 * the variable, the bad value and what is allowed. */
config *config_load(const char *path, void (*report)(void *ud, const char *line), void *ud);
void config_free(config *c);

/* The one warning line for settings that are read but have no effect yet
 * (registry flag REG_F_INERT): plucs/s2s=true while federation is not built.
 * NULL when there is nothing to say. plucsd logs it at start-up and at each
 * reload. */
const char *config_inert_warning(const config *c);

/* The configuration the daemon currently runs with (set by the main thread). */
const config *config_current(void);
void config_set_current(config *c);   /* takes ownership; old ones kept until exit */
void config_free_all(void);           /* at exit */

#endif
