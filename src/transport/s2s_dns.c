/* s2s_dns.c: the per-thread c-ares channel on libevent, see s2s_dns.h.
 * c-ares tells us which sockets it wants watched (ARES_OPT_SOCK_STATE_CB);
 * each gets a persistent event that hands readiness to ares_process_fd, and
 * one timer fires at ares_timeout() so retries and timeouts happen without
 * any socket activity. Nothing here blocks. */
#include "transport/s2s_dns.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"

typedef struct dns_sock {
    ares_socket_t fd;
    struct event *ev;
    struct dns_sock *next;
} dns_sock;

typedef struct dns_thread {
    ares_channel ch;
    struct event_base *base;
    struct event *timer;
    dns_sock *socks;
    int inflight;
    time_t created;
} dns_thread;

static _Atomic int renew_after = 60;   /* seconds: re-read the system's resolver files */

static __thread dns_thread *tl;

static pthread_mutex_t servers_lock = PTHREAD_MUTEX_INITIALIZER;
static char *servers;   /* test seam; NULL = system */
static int timeout_ms, tries;   /* test seam; 0 = system */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status;

static void lib_init(void) { lib_status = ares_library_init(ARES_LIB_INIT_ALL); }

static void arm_timer(dns_thread *t)
{
    struct timeval buf, *tv = ares_timeout(t->ch, NULL, &buf);
    if (!tv) {
        evtimer_del(t->timer);
        return;
    }
    /* c-ares rounds down to the millisecond: one more, so the timer does
     * not fire just before the query's deadline and spin until it. */
    struct timeval when = *tv;
    when.tv_usec += 1000;
    if (when.tv_usec >= 1000000) {
        when.tv_sec++;
        when.tv_usec -= 1000000;
    }
    evtimer_add(t->timer, &when);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    dns_thread *t = arg;
    ares_process_fd(t->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    if (tl == t)   /* a callback may have ended the thread's channel */
        arm_timer(t);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
    dns_thread *t = arg;
    ares_process_fd(t->ch, (what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
                    (what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
    if (tl == t)
        arm_timer(t);
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    dns_thread *t = data;
    dns_sock **pp = &t->socks;
    while (*pp && (*pp)->fd != fd)
        pp = &(*pp)->next;
    dns_sock *s = *pp;
    if (!readable && !writable) {
        if (s) {
            event_free(s->ev);
            *pp = s->next;
            free(s);
        }
        return;
    }
    if (!s) {
        s = xcalloc(1, sizeof *s);
        s->fd = fd;
        s->next = t->socks;
        t->socks = s;
    } else {
        event_free(s->ev);
    }
    s->ev = event_new(t->base, fd, (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0) |
                                           EV_PERSIST),
                      on_sock, t);
    event_add(s->ev, NULL);
}

ares_channel s2s_dns_channel(struct event_base *base)
{
    if (tl && tl->base == base) {
        if (tl->inflight > 0 || time(NULL) - tl->created < renew_after)
            return tl->ch;
        /* idle and old: nothing of c-ares runs now (no query in flight,
         * so no callback is on the stack), a new channel re-reads
         * /etc/resolv.conf */
    }
    if (tl)
        s2s_dns_thread_exit();
    pthread_once(&lib_once, lib_init);
    if (lib_status != ARES_SUCCESS) {
        log_err("s2s: c-ares cannot start: %s", ares_strerror(lib_status));
        return NULL;
    }
    dns_thread *t = xcalloc(1, sizeof *t);
    t->base = base;
    t->created = time(NULL);
    struct ares_options o;
    memset(&o, 0, sizeof o);
    o.sock_state_cb = sock_state;
    o.sock_state_cb_data = t;
    int mask = ARES_OPT_SOCK_STATE_CB;
    pthread_mutex_lock(&servers_lock);
    if (timeout_ms > 0) {
        o.timeout = timeout_ms;
        o.tries = tries > 0 ? tries : 1;
        mask |= ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    }
    pthread_mutex_unlock(&servers_lock);
    int r = ares_init_options(&t->ch, &o, mask);
    if (r != ARES_SUCCESS) {
        log_err("s2s: cannot make a DNS resolver: %s", ares_strerror(r));
        free(t);
        return NULL;
    }
    pthread_mutex_lock(&servers_lock);
    if (servers) {
        r = ares_set_servers_ports_csv(t->ch, servers);
        if (r != ARES_SUCCESS)
            log_err("s2s: DNS servers '%s': %s", servers, ares_strerror(r));
    }
    pthread_mutex_unlock(&servers_lock);
    t->timer = evtimer_new(base, on_timer, t);
    tl = t;
    return t->ch;
}

void s2s_dns_set_renew_after(int seconds) { renew_after = seconds; }

void s2s_dns_inflight(int delta)
{
    if (tl)
        tl->inflight += delta;
}

void s2s_dns_kick(void)
{
    if (tl)
        arm_timer(tl);
}

void s2s_dns_thread_exit(void)
{
    dns_thread *t = tl;
    if (!t)
        return;
    tl = NULL;
    ares_destroy(t->ch);   /* pending callbacks run now; sock_state closes sockets */
    while (t->socks) {
        dns_sock *s = t->socks;
        t->socks = s->next;
        event_free(s->ev);
        free(s);
    }
    event_free(t->timer);
    free(t);
}

void s2s_dns_set_timeout(int ms, int n)
{
    pthread_mutex_lock(&servers_lock);
    timeout_ms = ms;
    tries = n;
    pthread_mutex_unlock(&servers_lock);
}

void s2s_dns_set_servers(const char *csv)
{
    pthread_mutex_lock(&servers_lock);
    free(servers);
    servers = csv ? xstrdup(csv) : NULL;
    pthread_mutex_unlock(&servers_lock);
}
