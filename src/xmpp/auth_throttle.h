/* auth_throttle.h: SASL brute-force throttling, per client IP and per
 * account, as pure logic with the time passed in (unit-tested without a
 * clock or a network). xmpp_stream.c asks auth_throttle_attempt() before
 * every password check and reports the outcome with auth_throttle_result();
 * it waits the returned delay on a libevent timer (never sleeping a thread)
 * and only then asks the directory, so the delay also caps how fast
 * passwords of one account reach the directory's bind (and its lockout
 * policy).
 *
 * Rules (times in milliseconds):
 * - An IP or account with fewer than AT_FREE_FAILURES failures within the
 *   window (AT_WINDOW_MS since its last failure) is not delayed.
 * - From then on every attempt waits at least the entry's interval,
 *   1 s << (failures - AT_FREE_FAILURES), capped at AT_MAX_INTERVAL_MS, and
 *   attempts are spaced by that interval (slots), so parallel connections
 *   do not multiply the rate.
 * - The account rule applies only to attempts from an IP that has failed
 *   itself recently: a user whose account is under attack still logs in at
 *   once from a clean address; an attacker's address turns dirty with its
 *   first failure.
 * - An attempt whose slot would be more than AT_MAX_WAIT_MS away is refused
 *   (temporary-auth-failure) without asking the directory, after
 *   AT_REFUSE_DELAY_MS.
 * - Unknown and existing accounts are counted alike (the key is the name),
 *   so delays and answers do not tell which accounts exist.
 * - Each table holds at most `cap` entries: the least recently used one is
 *   dropped when a new one is needed; entries idle for the window count as
 *   empty.
 * - The verdict says when to log (once per offender per minute).
 *
 * Not thread-safe by itself: the caller serialises (xmpp_stream.c uses one
 * table for all workers behind a mutex; the critical sections are a few
 * hash lookups). */
#ifndef PLUCS_AUTH_THROTTLE_H
#define PLUCS_AUTH_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AT_FREE_FAILURES 5
#define AT_WINDOW_MS (15 * 60 * 1000)
#define AT_BASE_INTERVAL_MS 1000
#define AT_MAX_INTERVAL_MS 30000
#define AT_MAX_WAIT_MS 30000
#define AT_REFUSE_DELAY_MS 1000
#define AT_LOG_EVERY_MS 60000
#define AT_DEFAULT_CAP 8192

typedef struct auth_throttle auth_throttle;

typedef struct at_verdict {
    int64_t delay_ms;   /* wait this long before checking (or refusing) */
    bool refuse;        /* answer temporary-auth-failure without checking */
    bool log_ip;        /* first delay of this IP this minute: log it */
    bool log_account;   /* the same for the account */
    int ip_failures, account_failures;   /* for the log line */
} at_verdict;

auth_throttle *auth_throttle_new(size_t cap);
void auth_throttle_free(auth_throttle *t);

/* Before a password check of `account` (may be NULL: no account named)
 * from `ip`. Reserves the attempt's slot. */
at_verdict auth_throttle_attempt(auth_throttle *t, const char *ip, const char *account,
                                 int64_t now_ms);
/* The outcome: a failure counts against the IP and (if not NULL) the
 * account; a success clears the account (its owner knows the password),
 * never the IP (an attacker with one valid account must not be able to
 * reset his address). */
void auth_throttle_result(auth_throttle *t, const char *ip, const char *account, bool ok,
                          int64_t now_ms);

/* Entries in use (tests). */
size_t auth_throttle_size(const auth_throttle *t);

/* The key of a peer as transports name it: "192.0.2.1:5222" -> "192.0.2.1",
 * "203.0.113.9 via 127.0.0.1:4711" (behind the proxy) -> "203.0.113.9";
 * an IPv6 address becomes its /64 ("2001:db8::1:5222" -> "2001:db8::/64",
 * one client usually owns a whole /64), an IPv4-mapped one its IPv4
 * address. Writes at most len bytes, NUL-terminated. */
void auth_throttle_peer_key(const char *peer, char *out, size_t len);

#endif
