/* metrics.h: the counters and gauges GET /metrics exports in the Prometheus
 * text format (served by http.c on the loopback HTTP listener). Each value
 * is updated where the event happens, from any thread: plain atomics, plus
 * one small locked table for sessions by transport and domain (changed only
 * at authentication and session end, never per stanza). Other parts of the
 * server call the setters below (the filter, the directory). Its own folder
 * (src/metrics/) because transports, the router and the directory all
 * report here; it includes nothing from them. */
#ifndef PLUCS_METRICS_H
#define PLUCS_METRICS_H

#include <stdbool.h>

#include "core/buf.h"

/* Transport labels ("tcp", "bosh", "websocket", "poll"). */
void metrics_session_add(const char *transport, const char *domain, int delta);
void metrics_stanza_routed(const char *transport);
void metrics_auth(bool success);
/* The directory sent one LDAP operation for a password check: a search
 * for the account entry (search) or the user's simple bind. */
void metrics_ldap_auth_op(bool search);
/* Stream management (XEP-0198): resumptions by result, detached sessions. */
void metrics_sm_resumption(bool ok);
void metrics_sm_detached_add(int delta);
void metrics_bosh_sessions_add(int delta);
void metrics_bosh_held_add(int delta);
void metrics_http_request(int status);
/* For the policy layer: one stanza refused by plucs/mod/filter. */
void metrics_filter_refused(void);
/* Push notifications (XEP-0357): one push sent to an app server. */
void metrics_push_sent(void);
/* The archive (XEP-0313) stored one message for one party. */
void metrics_mam_archived(void);
/* For the directory: seconds between a change in LDAP and the snapshot
 * that contains it (or since the last successful refresh). */
void metrics_set_directory_lag(double seconds);

/* Federation: a server-to-server stream opened (+1) or ended (-1). */
void metrics_s2s_streams_add(bool incoming, int delta);

/* Message carbons (XEP-0280): one copy delivered; sent: a <sent/> copy of
 * the user's own message, else a <received/> copy. */
void metrics_carbon(bool sent);

/* Administration commands (XEP-0050/XEP-0133): one stage of a command ran
 * for an administrator (allowed), or a non-administrator was refused. */
void metrics_adhoc_command(bool allowed);

/* Appends the exposition text. */
void metrics_render(buf *out);

#endif
