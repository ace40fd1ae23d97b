/* s2s_dns.h: one c-ares channel per worker thread, driven by that worker's
 * libevent base (an event per resolver socket, a timer for c-ares' own
 * timeouts). s2s_resolve.c issues its queries on it. */
#ifndef PLUCS_S2S_DNS_H
#define PLUCS_S2S_DNS_H

#include <ares.h>

struct event_base;

/* The calling thread's channel, made on first use on base (the system's
 * /etc/resolv.conf and /etc/hosts, or the servers of s2s_dns_set_servers).
 * A call with another base than the channel's rebinds it: the old channel's
 * queries end with ARES_EDESTRUCTION. NULL when c-ares cannot start. */
ares_channel s2s_dns_channel(struct event_base *base);
/* Queries in flight on the thread's channel: +1 before submitting one, -1
 * at the very end of its callback (not for ARES_EDESTRUCTION). A channel
 * older than a minute is renewed by s2s_dns_channel when none is in flight,
 * so changes to /etc/resolv.conf and /etc/hosts apply without a restart. */
void s2s_dns_inflight(int delta);
/* Test seam: the age in seconds after which an idle channel is renewed. */
void s2s_dns_set_renew_after(int seconds);
/* After submitting queries: re-arms the timer for c-ares' timeouts. */
void s2s_dns_kick(void);
/* Frees the calling thread's channel (pending queries: ARES_EDESTRUCTION). */
void s2s_dns_thread_exit(void);
/* Test seam: name servers ("127.0.13.53:5353", c-ares CSV syntax) for
 * channels made afterwards; NULL = the system's. */
void s2s_dns_set_servers(const char *csv);
/* Test seam: c-ares' per-try timeout and tries for channels made
 * afterwards; 0 = the system's (resolv.conf options, else 5 s, 4 tries). */
void s2s_dns_set_timeout(int ms, int tries);

#endif
