/* metrics.c: see metrics.h. Counters are relaxed atomics (a scrape needs
 * no ordering between them); the per-domain session gauges sit in a short
 * list under a mutex because domains are few and change rarely. */
#include "metrics/metrics.h"
#include "core/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xml/xml.h"

static const char *const transports[] = { "tcp", "bosh", "websocket", "poll" };
#define NTRANSPORTS 4

static atomic_uint_fast64_t routed[NTRANSPORTS];
/* FAST (XEP-0484) counters, from mod_fast.c when linked in. */
void fast_metrics_lines(buf *out) __attribute__((weak));
static atomic_uint_fast64_t auth_ok, auth_failed;
static atomic_uint_fast64_t ldap_auth_binds, ldap_auth_searches;
static atomic_uint_fast64_t filter_refused;
static atomic_uint_fast64_t carbons_sent, carbons_received;
static atomic_uint_fast64_t adhoc_done, adhoc_refused;
static atomic_uint_fast64_t push_notifications;
static atomic_uint_fast64_t mam_archived;
static atomic_int bosh_sessions, bosh_held;
static atomic_int sm_detached;
static atomic_uint_fast64_t sm_resumed, sm_failed;
static atomic_int s2s_in, s2s_out;

/* Group chat's counters (modules/mod_muc.c); weak so that what links
 * metrics without the modules still links. */
void muc_metrics_lines(buf *out) __attribute__((weak));
/* Uploads (modules/mod_upload.c), weak likewise. */
void upload_metrics_lines(buf *out) __attribute__((weak));
/* Privacy lists' counters (modules/privacy_stats.c), weak likewise. */
void privacy_metrics_lines(buf *out) __attribute__((weak));
/* PubSub's (modules/mod_pubsub.c), weak likewise. */
void pubsub_metrics_lines(buf *out) __attribute__((weak));
/* mod_pepdata's (directory avatars, nicknames, bookmark sync), weak likewise. */
void pepdata_metrics_lines(buf *out) __attribute__((weak));

void metrics_s2s_streams_add(bool incoming, int delta)
{
    atomic_fetch_add(incoming ? &s2s_in : &s2s_out, delta);
}
static atomic_uint_fast64_t http_by_class[6];   /* 1xx..5xx, [0] other */
static _Atomic double directory_lag;
static atomic_bool directory_lag_set;

typedef struct dom_count {
    struct dom_count *next;
    int transport;
    long count;
    char domain[];
} dom_count;

static pthread_mutex_t dom_lock = PTHREAD_MUTEX_INITIALIZER;
static dom_count *domains;

static int transport_index(const char *t)
{
    for (int i = 0; i < NTRANSPORTS; i++)
        if (t && !strcmp(t, transports[i]))
            return i;
    return 0;
}

void metrics_session_add(const char *transport, const char *domain, int delta)
{
    int ti = transport_index(transport);
    if (!domain)
        domain = "";
    pthread_mutex_lock(&dom_lock);
    dom_count *d = domains;
    while (d && (d->transport != ti || strcmp(d->domain, domain)))
        d = d->next;
    if (!d) {
        size_t n = strlen(domain) + 1;
        d = xcalloc(1, sizeof *d + n);
        memcpy(d->domain, domain, n);
        d->transport = ti;
        d->next = domains;
        domains = d;
    }
    d->count += delta;
    pthread_mutex_unlock(&dom_lock);
}

void metrics_stanza_routed(const char *transport)
{
    atomic_fetch_add_explicit(&routed[transport_index(transport)], 1, memory_order_relaxed);
}

void metrics_auth(bool success)
{
    atomic_fetch_add_explicit(success ? &auth_ok : &auth_failed, 1, memory_order_relaxed);
}

void metrics_ldap_auth_op(bool search)
{
    atomic_fetch_add_explicit(search ? &ldap_auth_searches : &ldap_auth_binds, 1,
                              memory_order_relaxed);
}

void metrics_sm_resumption(bool ok)
{
    atomic_fetch_add_explicit(ok ? &sm_resumed : &sm_failed, 1, memory_order_relaxed);
}
void metrics_sm_detached_add(int delta) { atomic_fetch_add(&sm_detached, delta); }

void metrics_bosh_sessions_add(int delta) { atomic_fetch_add(&bosh_sessions, delta); }
void metrics_bosh_held_add(int delta) { atomic_fetch_add(&bosh_held, delta); }

void metrics_http_request(int status)
{
    int c = status / 100;
    atomic_fetch_add_explicit(&http_by_class[c >= 1 && c <= 5 ? c : 0], 1, memory_order_relaxed);
}

void metrics_carbon(bool sent)
{
    atomic_fetch_add_explicit(sent ? &carbons_sent : &carbons_received, 1, memory_order_relaxed);
}

void metrics_adhoc_command(bool allowed)
{
    atomic_fetch_add_explicit(allowed ? &adhoc_done : &adhoc_refused, 1, memory_order_relaxed);
}

void metrics_mam_archived(void)
{
    atomic_fetch_add_explicit(&mam_archived, 1, memory_order_relaxed);
}

void metrics_filter_refused(void)
{
    atomic_fetch_add_explicit(&filter_refused, 1, memory_order_relaxed);
}

void metrics_push_sent(void)
{
    atomic_fetch_add_explicit(&push_notifications, 1, memory_order_relaxed);
}

void metrics_set_directory_lag(double seconds)
{
    atomic_store(&directory_lag, seconds);
    atomic_store(&directory_lag_set, true);
}

static void label_value(buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            buf_append(out, "\\", 1);
        if (*s == '\n')
            buf_puts(out, "\\n");
        else
            buf_append(out, s, 1);
    }
}

void metrics_render(buf *out)
{
    buf_puts(out, "# HELP plucs_sessions Authenticated client sessions by transport and XMPP domain.\n"
                  "# TYPE plucs_sessions gauge\n");
    pthread_mutex_lock(&dom_lock);
    for (dom_count *d = domains; d; d = d->next) {
        buf_printf(out, "plucs_sessions{transport=\"%s\",domain=\"", transports[d->transport]);
        label_value(out, d->domain);
        buf_printf(out, "\"} %ld\n", d->count);
    }
    pthread_mutex_unlock(&dom_lock);

    buf_puts(out, "# HELP plucs_stanzas_routed_total Stanzas from client sessions handed to the router.\n"
                  "# TYPE plucs_stanzas_routed_total counter\n");
    for (int i = 0; i < NTRANSPORTS; i++)
        buf_printf(out, "plucs_stanzas_routed_total{transport=\"%s\"} %llu\n", transports[i],
                   (unsigned long long)atomic_load(&routed[i]));

    buf_printf(out, "# HELP plucs_mam_archived_total Messages archived (XEP-0313; one per party).\n"
                    "# TYPE plucs_mam_archived_total counter\n"
                    "plucs_mam_archived_total %llu\n",
               (unsigned long long)atomic_load(&mam_archived));
    buf_printf(out, "# HELP plucs_filter_refused_total Stanzas refused by the group filter (plucs/mod/filter).\n"
                    "# TYPE plucs_filter_refused_total counter\n"
                    "plucs_filter_refused_total %llu\n",
               (unsigned long long)atomic_load(&filter_refused));
    buf_printf(out, "# HELP plucs_push_notifications_total Push notifications (XEP-0357) sent to app servers.\n"
                    "# TYPE plucs_push_notifications_total counter\n"
                    "plucs_push_notifications_total %llu\n",
               (unsigned long long)atomic_load(&push_notifications));
    buf_printf(out, "# HELP plucs_auth_total Client authentications by result.\n"
                    "# TYPE plucs_auth_total counter\n"
                    "plucs_auth_total{result=\"success\"} %llu\n"
                    "plucs_auth_total{result=\"failure\"} %llu\n",
               (unsigned long long)atomic_load(&auth_ok), (unsigned long long)atomic_load(&auth_failed));
    buf_printf(out, "# HELP plucs_ldap_auth_operations_total LDAP operations sent for password checks.\n"
                    "# TYPE plucs_ldap_auth_operations_total counter\n"
                    "plucs_ldap_auth_operations_total{operation=\"bind\"} %llu\n"
                    "plucs_ldap_auth_operations_total{operation=\"search\"} %llu\n",
               (unsigned long long)atomic_load(&ldap_auth_binds),
               (unsigned long long)atomic_load(&ldap_auth_searches));
    if (fast_metrics_lines)
        fast_metrics_lines(out);
    buf_puts(out, "# HELP plucs_directory_lag_seconds Age of the directory snapshot's newest change.\n"
                  "# TYPE plucs_directory_lag_seconds gauge\n");
    if (atomic_load(&directory_lag_set))
        buf_printf(out, "plucs_directory_lag_seconds %.3f\n", atomic_load(&directory_lag));
    else
        buf_puts(out, "plucs_directory_lag_seconds NaN\n");
    buf_printf(out, "# HELP plucs_bosh_sessions Open BOSH sessions.\n"
                    "# TYPE plucs_bosh_sessions gauge\n"
                    "plucs_bosh_sessions %d\n"
                    "# HELP plucs_bosh_held_requests BOSH requests held open (long polls).\n"
                    "# TYPE plucs_bosh_held_requests gauge\n"
                    "plucs_bosh_held_requests %d\n",
               atomic_load(&bosh_sessions), atomic_load(&bosh_held));
    buf_printf(out, "# HELP plucs_sm_resumptions_total Stream management resumptions (XEP-0198).\n"
                    "# TYPE plucs_sm_resumptions_total counter\n"
                    "plucs_sm_resumptions_total %llu\n"
                    "# HELP plucs_sm_failed_resumptions_total Refused resumptions (unknown or expired id).\n"
                    "# TYPE plucs_sm_failed_resumptions_total counter\n"
                    "plucs_sm_failed_resumptions_total %llu\n"
                    "# HELP plucs_sm_detached_sessions Sessions waiting for a resumption.\n"
                    "# TYPE plucs_sm_detached_sessions gauge\n"
                    "plucs_sm_detached_sessions %d\n",
               (unsigned long long)atomic_load(&sm_resumed),
               (unsigned long long)atomic_load(&sm_failed), atomic_load(&sm_detached));
    buf_puts(out, "# HELP plucs_http_requests_total HTTP requests answered, by status class.\n"
                  "# TYPE plucs_http_requests_total counter\n");
    for (int c = 1; c <= 5; c++)
        buf_printf(out, "plucs_http_requests_total{code=\"%dxx\"} %llu\n", c,
                   (unsigned long long)atomic_load(&http_by_class[c]));
    buf_printf(out, "# HELP plucs_s2s_streams Server-to-server streams, by direction.\n"
                    "# TYPE plucs_s2s_streams gauge\n"
                    "plucs_s2s_streams{direction=\"in\"} %d\n"
                    "plucs_s2s_streams{direction=\"out\"} %d\n",
               atomic_load(&s2s_in), atomic_load(&s2s_out));
    buf_printf(out, "# HELP plucs_carbons_total Message carbons (XEP-0280) delivered, by direction.\n"
                    "# TYPE plucs_carbons_total counter\n"
                    "plucs_carbons_total{direction=\"sent\"} %llu\n"
                    "plucs_carbons_total{direction=\"received\"} %llu\n",
               (unsigned long long)atomic_load(&carbons_sent),
               (unsigned long long)atomic_load(&carbons_received));
    buf_printf(out, "# HELP plucs_adhoc_commands_total Administration commands (XEP-0050/XEP-0133), "
                    "by result.\n"
                    "# TYPE plucs_adhoc_commands_total counter\n"
                    "plucs_adhoc_commands_total{result=\"executed\"} %llu\n"
                    "plucs_adhoc_commands_total{result=\"forbidden\"} %llu\n",
               (unsigned long long)atomic_load(&adhoc_done),
               (unsigned long long)atomic_load(&adhoc_refused));
    if (muc_metrics_lines)
        muc_metrics_lines(out);
    if (upload_metrics_lines)
        upload_metrics_lines(out);
    if (privacy_metrics_lines)
        privacy_metrics_lines(out);
    if (pubsub_metrics_lines)
        pubsub_metrics_lines(out);
    if (pepdata_metrics_lines)
        pepdata_metrics_lines(out);
}
