/* bench/bench_main.c: plucs-bench, the load generator of `make bench`.
 * Reads the options, logs the simulated clients in and runs the phases of
 * one scenario on a single libevent loop driven by a 1 ms tick:
 *   idle      N sessions log in and stay (RSS per session, CPU per login)
 *   msg       sessions log in, then pairs exchange chat messages at each
 *             --rates value and, with --max, at rising rates until p99
 *             latency >= --p99-ms or messages get lost
 *   presence  like msg, with status changes instead of messages: every
 *             session sends presence at the --rates value in all, each
 *             change fanned out to the user's online contacts (CPU per
 *             1000 changes, deliveries per change, delivery latency)
 *   storm     log in, close, log in again: a warm-up pass (every user
 *             once), then as many logins as --phase-secs allows (--logins
 *             caps them); RSS before and after (settled) shows a leak
 *   ldap      simple binds straight to slapd (its own rate, for comparison)
 *   push      N sessions log in, then --push-cmd changes the directory (a
 *             user added to the groups); time until every online session
 *             got its roster push (at most --phase-secs)
 *   muc       sessions log in, join rooms of --room-size occupants on
 *             --muc-host (the first of each room creates an instant room),
 *             then send groupchat messages at each --rates value (messages
 *             sent per second; each is fanned out to every occupant)
 * Every loop is bounded by a count and by time (--timeout caps the whole
 * run). Prints a table and writes the figures as JSON (--json). */
#include "bench.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <event2/buffer.h>

struct bench B;

static struct {
    const char *scenario, *pids, *aux_pids, *label, *json_path, *rates;
    const char *ldap_dn_fmt, *push_cmd;
    int sessions, max_search, logins, ldap_port;
    double phase_secs, settle_secs, drain_secs, login_secs, timeout, p99_ms;
} O = {
    .scenario = "idle", .label = "server", .rates = "",
    .sessions = 1000, .logins = 5000,
    .phase_secs = 10, .settle_secs = 3, .drain_secs = 3, .login_secs = 300,
    .timeout = 900, .p99_ms = 50,
};

static struct conn *conns;
static int nconns, next_conn, logins_target, logins_done;
static int *free_slots, nfree; /* storm: slots to reuse */
static uint64_t t_deadline, t_run_end;
static int aborted;
static FILE *json;
static int json_phases;

/* The current phase, driven by tick(). */
enum phase_kind { PH_LOGIN, PH_WAIT, PH_SEND, PH_DRAIN, PH_JOIN };
static struct {
    enum phase_kind kind;
    uint64_t t0, t_end;
    double rate;
    uint64_t sent0;
    int presence;
    int muc;
    int rr;
    uint64_t expect0;
    int join_next, join_sent; /* PH_JOIN: next session, joins sent */
} P;

void bench_error(struct conn *c, enum bench_err e)
{
    (void)c;
    B.errors[e]++;
}

static void login_pump(void);

void bench_login_done(struct conn *c, int ok)
{
    B.in_flight--;
    logins_done++;
    if (ok) {
        B.logins_ok++;
        lat_add(&B.login_lat, now_us() - c->t_start);
    }
    if (c->storm) {
        if (ok)
            conn_close(c);
        free_slots[nfree++] = (int)(c - conns);
    }
    if (P.kind == PH_LOGIN)
        login_pump();
}

static void login_pump(void)
{
    int users = O.sessions;
    while (B.in_flight < B.concurrency && (int)B.logins_started < logins_target &&
           now_us() < P.t_end && !aborted) {
        struct conn *c;
        if (free_slots) {
            if (!nfree)
                break;
            c = &conns[free_slots[--nfree]];
            c->storm = 1;
            c->idx = (int)(B.logins_started % (uint64_t)users);
        } else {
            if (next_conn >= nconns)
                break;
            c = &conns[next_conn++];
        }
        B.logins_started++;
        B.in_flight++;
        if (conn_start(c) < 0) {
            B.in_flight--;
            logins_done++;
            if (free_slots)
                free_slots[nfree++] = (int)(c - conns);
        }
    }
    uint64_t now = now_us();
    if (logins_done >= logins_target || (B.in_flight == 0 && now >= P.t_end) ||
        now >= P.t_end + 35000000)
        event_base_loopbreak(B.base);
}

static int paired_online(int i)
{
    uint8_t want = B.mode == MODE_RAW ? CS_RAW : CS_ONLINE;
    return i + 1 < nconns && conns[i].state == want && conns[i + 1].state == want;
}

/* muc: the next joined session, round robin; -1 when none is ready. */
static int next_joined(void)
{
    for (int tries = 0; tries < nconns; tries++) {
        int i = P.rr;
        P.rr = (P.rr + 1) % nconns;
        if (conns[i].state == CS_ONLINE && conns[i].joined &&
            evbuffer_get_length(bufferevent_get_output(conns[i].bev)) <= (1 << 20))
            return i;
    }
    return -1;
}

/* PH_JOIN: joins of the sessions not yet in their room, at most
 * --concurrency unanswered at a time. */
static void join_pump(uint64_t now)
{
    uint64_t answered = B.joins_ok + B.joins_failed;
    while (P.join_next < nconns && (uint64_t)P.join_sent - answered < (uint64_t)B.concurrency) {
        struct conn *c = &conns[P.join_next++];
        if (c->state == CS_ONLINE && !c->joined) {
            conn_send_join(c);
            P.join_sent++;
        }
    }
    if ((P.join_next >= nconns && answered >= (uint64_t)P.join_sent) || now >= P.t_end)
        event_base_loopbreak(B.base);
}

static void send_due(uint64_t now)
{
    double el = (double)(now - P.t0) / 1e6;
    uint64_t want = (uint64_t)(P.rate * el);
    uint64_t sent = B.msgs_sent - P.sent0;
    int tries = 0;
    if (nconns < 2)
        return;
    if (P.muc) {
        while (sent < want) {
            int i = next_joined();
            if (i < 0)
                break;
            conn_send_groupchat(&conns[i]);
            sent++;
        }
        return;
    }
    while (sent < want && tries < nconns) {
        int i = P.rr;
        P.rr = (P.rr + (P.presence ? 1 : 2)) % (nconns - (P.presence ? 0 : 1));
        if (!P.presence && (i & 1))
            i--;
        int ok = P.presence ? conns[i].state == CS_ONLINE : paired_online(i);
        if (!ok || evbuffer_get_length(bufferevent_get_output(conns[i].bev)) > (1 << 20)) {
            tries++;
            continue;
        }
        tries = 0;
        if (P.presence)
            conn_send_presence(&conns[i]);
        else
            conn_send_msg(&conns[i], &conns[i + 1]);
        sent++;
    }
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what; (void)arg;
    uint64_t now = now_us();
    static uint64_t last_check;
    if (now >= t_run_end && !aborted) {
        aborted = 1;
        fprintf(stderr, "plucs-bench: --timeout reached, stopping\n");
        event_base_loopbreak(B.base);
        return;
    }
    if (now - last_check > 1000000) { /* logins stuck for 30 s */
        last_check = now;
        for (int i = 0; i < nconns; i++) {
            struct conn *c = &conns[i];
            if (c->state != CS_NONE && c->state != CS_DEAD && c->state != CS_ONLINE &&
                c->state != CS_RAW && now - c->t_start > 30000000) {
                bench_error(c, ERR_TIMEOUT);
                conn_close(c);
            }
        }
    }
    switch (P.kind) {
    case PH_LOGIN:
        login_pump();
        break;
    case PH_WAIT:
        if (now >= P.t_end)
            event_base_loopbreak(B.base);
        break;
    case PH_SEND:
        send_due(now);
        if (now >= P.t_end)
            event_base_loopbreak(B.base);
        break;
    case PH_JOIN:
        join_pump(now);
        break;
    case PH_DRAIN: {
        uint64_t got = P.presence ? B.pres_recv : B.msgs_recv;
        uint64_t want = P.muc ? B.expect_recv - P.expect0 : B.msgs_sent - P.sent0;
        if (got >= want || now >= P.t_end)
            event_base_loopbreak(B.base);
        break;
    }
    }
    (void)t_deadline;
}

static void run_phase(enum phase_kind k, double secs)
{
    if (aborted)
        return;
    P.kind = k;
    P.t0 = now_us();
    P.t_end = P.t0 + (uint64_t)(secs * 1e6);
    event_base_dispatch(B.base);
}

/* ---- output ------------------------------------------------------------- */

static void json_begin_phase(const char *name)
{
    fprintf(json, "%s\n  {\"phase\": \"%s\"", json_phases++ ? "," : "", name);
}
#define JNUM(k, v) fprintf(json, ", \"%s\": %.6g", k, (double)(v))

struct sample2 { struct proc_sample srv, aux; uint64_t t; double self_cpu; };
static void sample(struct sample2 *s)
{
    struct rusage ru;
    proc_sample(O.pids, &s->srv);
    proc_sample(O.aux_pids, &s->aux);
    s->t = now_us();
    getrusage(RUSAGE_SELF, &ru);
    s->self_cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                  (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Logs in `n` sessions (or, in storm mode, `n` logins over the slots). */
static void phase_login_for(const char *name, int n, int settle, double max_secs)
{
    struct sample2 a, b, c;
    B.logins_ok = 0;
    B.logins_started = 0;
    B.tls_full = B.tls_resumed = 0;
    logins_done = 0;
    logins_target = n;
    lat_reset(&B.login_lat);
    uint64_t err0 = 0;
    for (int e = 0; e < ERR__COUNT; e++)
        err0 += B.errors[e];
    sample(&a);
    run_phase(PH_LOGIN, max_secs);
    sample(&b);
    double secs = (b.t - a.t) / 1e6;
    if (settle)
        run_phase(PH_WAIT, O.settle_secs);
    sample(&c);
    uint64_t errs = 0;
    for (int e = 0; e < ERR__COUNT; e++)
        errs += B.errors[e];
    double ok = (double)B.logins_ok;
    double p50 = lat_pct_ms(&B.login_lat, 50), p99 = lat_pct_ms(&B.login_lat, 99);
    double lmax = lat_max_ms(&B.login_lat);
    double cpu = b.srv.cpu_s - a.srv.cpu_s, aux = b.aux.cpu_s - a.aux.cpu_s;
    /* per session still online: sessions the server ended after their
     * login (a per-user cap, a conflict) hold no memory */
    double held = B.online > 0 && (double)B.online < ok ? (double)B.online : ok;
    double rss_per = held > 0 ? (double)(c.srv.rss_kib - a.srv.rss_kib) / held : 0;
    printf("%-10s %-9s logins %6.0f/%-6d %7.0f/s  p50 %7.2f ms  p99 %7.2f ms  max %7.1f ms  "
           "cpu %6.2f s (%.3f s/1000)  rss %ld->%ld KiB (%.1f KiB/session)  slapd cpu %.2f s  errors %llu\n",
           O.label, name, ok, n, ok / (secs > 0 ? secs : 1), p50, p99, lmax, cpu,
           ok > 0 ? cpu / ok * 1000 : 0, a.srv.rss_kib, c.srv.rss_kib, rss_per, aux,
           (unsigned long long)(errs - err0));
    json_begin_phase(name);
    JNUM("target", n); JNUM("ok", ok); JNUM("failed", n - ok); JNUM("secs", secs);
    JNUM("logins_per_s", ok / (secs > 0 ? secs : 1));
    JNUM("lat_p50_ms", p50); JNUM("lat_p90_ms", lat_pct_ms(&B.login_lat, 90));
    JNUM("lat_p99_ms", p99); JNUM("lat_max_ms", lmax);
    JNUM("cpu_s", cpu); JNUM("cpu_per_1000_logins", ok > 0 ? cpu / ok * 1000 : 0);
    JNUM("aux_cpu_s", aux);
    JNUM("rss_before_kib", a.srv.rss_kib); JNUM("rss_after_kib", c.srv.rss_kib);
    JNUM("rss_per_session_kib", rss_per); JNUM("nproc", c.srv.nproc);
    JNUM("rss_growth_pct", a.srv.rss_kib > 0 ? (c.srv.rss_kib - a.srv.rss_kib) * 100.0 /
                                                   (double)a.srv.rss_kib : 0);
    JNUM("errors", errs - err0);
    JNUM("tls_full", B.tls_full); JNUM("tls_resumed", B.tls_resumed);
    JNUM("online_after", B.online);
    for (int e = 0; e < ERR__COUNT; e++)
        if (B.errors[e])
            fprintf(json, ", \"err_%s\": %llu", bench_err_names[e],
                    (unsigned long long)B.errors[e]);
    fputs("}", json);
    fflush(stdout);
}

static void phase_login(const char *name, int n, int settle)
{
    phase_login_for(name, n, settle, O.login_secs);
}

/* One traffic phase at `rate` per second; returns 1 when it passed. */
static int phase_traffic(double rate, int presence, const char *name)
{
    if (aborted)
        return 0;
    struct sample2 a, b;
    B.seq_floor = B.seq;
    lat_reset(&B.msg_lat);
    B.msgs_recv = 0;
    B.pres_recv = 0;
    B.pres_bnch = 0;
    B.msgs_late = 0;
    uint64_t sent0 = B.msgs_sent;
    P.sent0 = sent0;
    P.rate = rate;
    P.presence = presence;
    P.rr = 0;
    sample(&a);
    run_phase(PH_SEND, O.phase_secs);
    double send_secs = (now_us() - a.t) / 1e6;
    if (presence) {
        /* the fan-out count is not known in advance: drain until no
         * delivery arrived for 1 s (a slow server is still delivering:
         * at most 3 x --drain-secs, then 60 s) */
        double cap = 3 * O.drain_secs > 60 ? 60 : 3 * O.drain_secs;
        for (int i = 0; i < (int)cap + 1 && !aborted; i++) {
            uint64_t seen = B.pres_bnch;
            run_phase(PH_WAIT, 1.0);
            if (B.pres_bnch == seen)
                break;
        }
    } else {
        run_phase(PH_DRAIN, O.drain_secs);
    }
    sample(&b);
    uint64_t sent = B.msgs_sent - sent0;
    uint64_t recv = presence ? B.pres_bnch : B.msgs_recv;
    double cpu = b.srv.cpu_s - a.srv.cpu_s, aux = b.aux.cpu_s - a.aux.cpu_s;
    double p50 = lat_pct_ms(&B.msg_lat, 50), p90 = lat_pct_ms(&B.msg_lat, 90);
    double p99 = lat_pct_ms(&B.msg_lat, 99), mx = lat_max_ms(&B.msg_lat);
    double lost = presence ? 0 : (double)sent - (double)recv;
    double achieved = sent / (send_secs > 0 ? send_secs : 1);
    int pass = !aborted && sent > 0 && (presence || (p99 < O.p99_ms && lost <= sent * 0.001)) &&
               achieved >= 0.95 * rate;
    printf("%-10s %-9s rate %7.0f/s sent %8llu recv %8llu lost %6.0f  p50 %7.2f  p90 %7.2f  "
           "p99 %7.2f  max %8.1f ms  cpu %6.2f s (%.2f s/100k)  rss %ld KiB  bench cpu %.2f s  %s\n",
           O.label, name, rate, (unsigned long long)sent, (unsigned long long)recv, lost,
           p50, p90, p99, mx, cpu, sent ? cpu / (double)sent * 1e5 : 0, b.srv.rss_kib,
           b.self_cpu - a.self_cpu, pass ? "ok" : "FAILED");
    json_begin_phase(name);
    JNUM("rate", rate); JNUM("secs", send_secs); JNUM("sent", sent); JNUM("received", recv);
    JNUM("lost", lost); JNUM("late", B.msgs_late); JNUM("achieved_per_s", achieved);
    JNUM("p50_ms", p50); JNUM("p90_ms", p90); JNUM("p99_ms", p99); JNUM("max_ms", mx);
    JNUM("cpu_s", cpu); JNUM("cpu_per_100k", sent ? cpu / (double)sent * 1e5 : 0);
    JNUM("aux_cpu_s", aux); JNUM("rss_kib", b.srv.rss_kib); JNUM("pass", pass);
    JNUM("bench_cpu_s", b.self_cpu - a.self_cpu);
    if (presence) {
        JNUM("changes", sent); JNUM("deliveries", recv);
        JNUM("deliveries_per_change", sent ? (double)recv / (double)sent : 0);
        JNUM("cpu_per_1000_changes", sent ? cpu / (double)sent * 1000 : 0);
        JNUM("cpu_us_per_delivery", recv ? cpu / (double)recv * 1e6 : 0);
    }
    fputs("}", json);
    fflush(stdout);
    /* A server that fell behind is still delivering: let it finish (at most
     * 60 s) so the next phase starts from an idle server. */
    for (int i = 0; i < 60 && !aborted; i++) {
        uint64_t seen = B.msgs_recv + B.msgs_late + B.pres_recv;
        run_phase(PH_WAIT, 1);
        if (B.msgs_recv + B.msgs_late + B.pres_recv == seen)
            break;
    }
    return pass;
}

static void scenario_traffic(int presence)
{
    phase_login("login", nconns, 1);
    if (B.logins_ok < 2) {
        fprintf(stderr, "plucs-bench: no sessions online, no traffic phases\n");
        return;
    }
    const char *nm = presence ? "presence" : "msg";
    double best = 0, fail = 0;
    char rates[256];
    snprintf(rates, sizeof rates, "%s", O.rates);
    for (char *t = strtok(rates, ","); t && !aborted; t = strtok(NULL, ",")) {
        double r = atof(t);
        if (r <= 0)
            continue;
        if (phase_traffic(r, presence, nm)) {
            if (r > best)
                best = r;
        } else if (!fail || r < fail) {
            fail = r;
        }
    }
    if (!O.max_search)
        return;
    /* The highest sustained rate: up from the best passing rate, or down
     * from the lowest failing one; at most 8 steps. */
    static const double ladder[] = { 500, 1000, 2000, 5000, 10000, 20000, 40000, 80000,
                                     160000, 320000 };
    int nl = (int)(sizeof ladder / sizeof *ladder), steps = 0;
    if (fail && fail < best)
        fail = 0; /* a noisy lower phase: search upwards from the best */
    if (fail && fail <= best * 2 + 1) {
        /* already bracketed */
    } else if (fail && !best) {
        for (int i = nl - 1; i >= 0 && steps < 4 && !aborted; i--) {
            if (ladder[i] >= fail)
                continue;
            steps++;
            if (phase_traffic(ladder[i], presence, "max-try")) {
                best = ladder[i];
                break;
            }
            fail = ladder[i];
        }
    } else {
        for (int i = 0; i < nl && steps < 6 && !aborted; i++) {
            if (ladder[i] <= best)
                continue;
            if (fail && ladder[i] >= fail)
                break;
            steps++;
            if (!phase_traffic(ladder[i], presence, "max-try")) {
                fail = ladder[i];
                break;
            }
            best = ladder[i];
        }
    }
    if (best && fail && fail > best && !aborted) {
        double mid = (best + fail) / 2;
        if (phase_traffic(mid, presence, "max-try"))
            best = mid;
    }
    printf("%-10s max       highest sustained rate with p99 < %.0f ms and no loss: %.0f/s\n",
           O.label, O.p99_ms, best);
    json_begin_phase("max");
    JNUM("max_rate", best);
    fputs("}", json);
}

/* Groupchat phase at `rate` messages sent per second: every message is
 * owed to each occupant joined in its room (the sender too: a room reflects
 * it). Figures per delivered message. Returns 1 when it passed. */
static int phase_muc(double rate)
{
    if (aborted)
        return 0;
    struct sample2 a, b;
    B.seq_floor = B.seq;
    lat_reset(&B.msg_lat);
    B.msgs_recv = 0;
    B.msgs_late = 0;
    P.sent0 = B.msgs_sent;
    P.expect0 = B.expect_recv;
    P.rate = rate;
    P.presence = 0;
    P.muc = 1;
    P.rr = 0;
    sample(&a);
    run_phase(PH_SEND, O.phase_secs);
    double send_secs = (now_us() - a.t) / 1e6;
    run_phase(PH_DRAIN, O.drain_secs);
    sample(&b);
    uint64_t sent = B.msgs_sent - P.sent0, owed = B.expect_recv - P.expect0;
    uint64_t recv = B.msgs_recv;
    double cpu = b.srv.cpu_s - a.srv.cpu_s, aux = b.aux.cpu_s - a.aux.cpu_s;
    double p50 = lat_pct_ms(&B.msg_lat, 50), p90 = lat_pct_ms(&B.msg_lat, 90);
    double p99 = lat_pct_ms(&B.msg_lat, 99), mx = lat_max_ms(&B.msg_lat);
    double lost = (double)owed - (double)recv;
    double achieved = sent / (send_secs > 0 ? send_secs : 1);
    double us_per = recv ? cpu / (double)recv * 1e6 : 0;
    int pass = !aborted && sent > 0 && p99 < O.p99_ms && lost <= owed * 0.001 &&
               achieved >= 0.95 * rate;
    printf("%-10s muc       rate %6.0f/s sent %7llu delivered %8llu/%-8llu (%.0f/s)  p50 %7.2f  "
           "p99 %7.2f  max %8.1f ms  cpu %6.2f s (%.1f us/delivery)  rss %ld KiB  %s\n",
           O.label, rate, (unsigned long long)sent, (unsigned long long)recv,
           (unsigned long long)owed, recv / (send_secs > 0 ? send_secs : 1), p50, p99, mx, cpu,
           us_per, b.srv.rss_kib, pass ? "ok" : "FAILED");
    json_begin_phase("muc");
    JNUM("rate", rate); JNUM("secs", send_secs); JNUM("sent", sent); JNUM("owed", owed);
    JNUM("received", recv); JNUM("lost", lost); JNUM("late", B.msgs_late);
    JNUM("achieved_per_s", achieved);
    JNUM("delivered_per_s", recv / (send_secs > 0 ? send_secs : 1));
    JNUM("p50_ms", p50); JNUM("p90_ms", p90); JNUM("p99_ms", p99); JNUM("max_ms", mx);
    JNUM("cpu_s", cpu); JNUM("cpu_us_per_delivery", us_per);
    JNUM("aux_cpu_s", aux); JNUM("rss_kib", b.srv.rss_kib); JNUM("pass", pass);
    JNUM("bench_cpu_s", b.self_cpu - a.self_cpu);
    fputs("}", json);
    fflush(stdout);
    for (int i = 0; i < 60 && !aborted; i++) {
        uint64_t seen = B.msgs_recv + B.msgs_late;
        run_phase(PH_WAIT, 1);
        if (B.msgs_recv + B.msgs_late == seen)
            break;
    }
    return pass;
}

/* Scenario muc: log in, creators first (they make instant rooms), then
 * everyone else joins; then the groupchat phases. */
static void scenario_muc(void)
{
    phase_login("login", nconns, 1);
    if (B.logins_ok < 2 || !B.muc_host) {
        fprintf(stderr, "plucs-bench: no sessions online or no --muc-host\n");
        return;
    }
    int rooms = session_room(nconns - 1) + 1, creators = 0;
    B.room_joined = calloc((size_t)rooms, sizeof *B.room_joined);
    if (!B.room_joined)
        return;
    struct sample2 a, b;
    sample(&a);
    for (int i = 0; i < nconns; i += B.room_size)
        if (conns[i].state == CS_ONLINE) {
            conn_send_join(&conns[i]);
            creators++;
        }
    /* every room created and configured (instant) before the others come */
    for (int k = 0; k < 300 && B.rooms_ready < (uint64_t)creators &&
                    B.joins_ok + B.joins_failed <= (uint64_t)creators * 2 && !aborted; k++)
        run_phase(PH_WAIT, 0.05);
    P.join_next = 0;
    P.join_sent = creators;
    run_phase(PH_JOIN, O.login_secs);
    run_phase(PH_WAIT, O.settle_secs);
    sample(&b);
    double secs = (b.t - a.t) / 1e6 - O.settle_secs, cpu = b.srv.cpu_s - a.srv.cpu_s;
    printf("%-10s join      rooms %d (%llu configured) joined %llu/%d refused %llu in %.2f s  "
           "cpu %.2f s  rss %ld KiB  presences received %llu\n", O.label, rooms,
           (unsigned long long)B.rooms_ready, (unsigned long long)B.joins_ok, B.online,
           (unsigned long long)B.joins_failed, secs, cpu, b.srv.rss_kib,
           (unsigned long long)B.pres_recv);
    json_begin_phase("join");
    JNUM("rooms", rooms); JNUM("configured", B.rooms_ready); JNUM("joined", B.joins_ok);
    JNUM("refused", B.joins_failed); JNUM("online", B.online);
    JNUM("secs", secs); JNUM("cpu_s", cpu); JNUM("rss_kib", b.srv.rss_kib);
    fputs("}", json);
    fflush(stdout);
    if (B.joins_ok < 2)
        return;
    char rates[256];
    snprintf(rates, sizeof rates, "%s", O.rates);
    for (char *t = strtok(rates, ","); t && !aborted; t = strtok(NULL, ",")) {
        double r = atof(t);
        if (r > 0)
            phase_muc(r);
    }
}

/* Scenario D: the directory change is made by --push-cmd (started without
 * blocking the loop); every online session should get one roster push. */
static void scenario_push(void)
{
    phase_login("login", nconns, 1);
    if (!O.push_cmd || B.online < 1 || aborted) {
        fprintf(stderr, "plucs-bench: no sessions online or no --push-cmd\n");
        return;
    }
    struct sample2 a, b;
    lat_reset(&B.push_lat);
    B.pushes_recv = 0;
    int expect = B.online;
    sample(&a);
    B.push_t0 = now_us();
    FILE *cmd = popen(O.push_cmd, "r");
    if (!cmd) {
        perror("plucs-bench: --push-cmd");
        return;
    }
    uint64_t limit = B.push_t0 + (uint64_t)(O.phase_secs * 1e6);
    while (!aborted && B.pushes_recv < (uint64_t)expect && now_us() < limit)
        run_phase(PH_WAIT, 0.05);
    sample(&b);
    char line[256];
    while (fgets(line, sizeof line, cmd))
        ;
    int rc = pclose(cmd);
    double cpu = b.srv.cpu_s - a.srv.cpu_s;
    double all = B.pushes_recv >= (uint64_t)expect ? lat_max_ms(&B.push_lat) : -1;
    printf("%-10s push      online %d pushed %llu  first %.1f  p50 %.1f  p99 %.1f  all %.1f ms  "
           "cpu %.2f s  command rc %d  %s\n", O.label, expect, (unsigned long long)B.pushes_recv,
           lat_pct_ms(&B.push_lat, 0), lat_pct_ms(&B.push_lat, 50), lat_pct_ms(&B.push_lat, 99),
           all, cpu, rc, all >= 0 ? "ok" : "INCOMPLETE");
    json_begin_phase("push");
    JNUM("online", expect); JNUM("pushed", B.pushes_recv);
    JNUM("first_ms", lat_pct_ms(&B.push_lat, 0)); JNUM("p50_ms", lat_pct_ms(&B.push_lat, 50));
    JNUM("p99_ms", lat_pct_ms(&B.push_lat, 99)); JNUM("all_ms", all);
    JNUM("max_ms", lat_max_ms(&B.push_lat)); JNUM("cpu_s", cpu); JNUM("command_rc", rc);
    fputs("}", json);
    fflush(stdout);
}

static void usage(void)
{
    fputs("usage: plucs-bench --scenario idle|msg|presence|storm|ldap|push|muc [options]\n"
          "  --host 127.0.0.1 --port 5222 --domain D --user-fmt u%05d --pass-fmt p%05d\n"
          "  --first 1 --group-size 0 --tls --sm --raw --concurrency 100 --sessions 1000\n"
          "  --rates 5000,20000 --max --p99-ms 50 --phase-secs 10 --settle-secs 3\n"
          "  --drain-secs 3 --login-secs 300 --timeout 900 --logins 5000 (storm: at most\n"
          "    this many after the warm-up pass, within --phase-secs)\n"
          "  --body-len 60 --pid PID,PID --aux-pid PID --label NAME --json FILE\n"
          "  --ldap-port P --ldap-dn-fmt uid=u%05d,cn=users,dc=example,dc=com (ldap)\n"
          "  --push-cmd 'SHELL COMMAND' (push: makes the directory change)\n"
          "  --users K (session i logs in as user first + i mod K, one resource each)\n"
          "  --muc-host conference.D --room-size 25 (muc: rooms r0000.. of that many)\n"
          "  --sasl2 plain|fast (SASL2 + Bind 2 over --tls; fast, idle: a first pass gets\n"
          "    FAST tokens with PLAIN, the measured pass logs in with HT-SHA-256-ENDP)\n"
          "  --resume (idle, --tls: a first pass logs every session in and keeps its TLS\n"
          "    session ticket, the measured pass resumes with it)\n",
          stderr);
    exit(2);
}

/* Two-pass logins (FAST tokens, TLS resumption): every session of the
 * first pass closes, and the next pass starts again at session 0. */
static void close_all_for_next_pass(void)
{
    for (int i = 0; i < nconns; i++)
        if (conns[i].state != CS_NONE && conns[i].state != CS_DEAD)
            conn_close(&conns[i]);
    next_conn = 0;
    /* The server ends the closed sessions after the close (unavailable
     * presence to their contacts, stored last activity): wait until its
     * CPU is quiet (at most one clock tick per 250 ms, 20 s at most), so
     * the measured pass is not charged for the first pass's teardown. */
    struct sample2 a, b;
    sample(&a);
    for (int i = 0; i < 80; i++) {
        run_phase(PH_WAIT, 0.25);
        sample(&b);
        if (b.srv.cpu_s - a.srv.cpu_s <= 0.011)
            break;
        a = b;
    }
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "scenario", 1, 0, 's' }, { "host", 1, 0, 'H' }, { "port", 1, 0, 'p' },
        { "domain", 1, 0, 'd' }, { "user-fmt", 1, 0, 'u' }, { "pass-fmt", 1, 0, 'w' },
        { "first", 1, 0, 'f' }, { "group-size", 1, 0, 'g' }, { "tls", 0, 0, 't' }, { "sm", 0, 0, 'Q' },
        { "raw", 0, 0, 'r' }, { "concurrency", 1, 0, 'c' }, { "sessions", 1, 0, 'n' },
        { "rates", 1, 0, 'R' }, { "max", 0, 0, 'M' }, { "p99-ms", 1, 0, '9' },
        { "phase-secs", 1, 0, 'T' }, { "settle-secs", 1, 0, 'S' }, { "drain-secs", 1, 0, 'D' },
        { "login-secs", 1, 0, 'L' }, { "timeout", 1, 0, 'x' }, { "logins", 1, 0, 'l' },
        { "body-len", 1, 0, 'b' }, { "pid", 1, 0, 'P' }, { "aux-pid", 1, 0, 'A' },
        { "label", 1, 0, 'N' }, { "json", 1, 0, 'j' }, { "ldap-port", 1, 0, 'y' },
        { "ldap-dn-fmt", 1, 0, 'z' }, { "push-cmd", 1, 0, 'C' }, { "users", 1, 0, 'U' },
        { "muc-host", 1, 0, 'm' }, { "room-size", 1, 0, 'k' }, { "sasl2", 1, 0, 'Z' }, { "resume", 0, 0, 'X' },
        { "help", 0, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    B.host = "127.0.0.1";
    B.port = 5222;
    B.domain = "example.com";
    B.user_fmt = "u%05d";
    B.pass_fmt = "p%05d";
    B.resource = "b";
    B.first_user = 1;
    B.concurrency = 100;
    B.src_spread = 1;
    B.body_len = 60;
    B.room_size = 25;
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 's': O.scenario = optarg; break;
        case 'Z':
            B.sasl2 = !strcmp(optarg, "fast") ? 2 : !strcmp(optarg, "plain") ? 1 : -1;
            if (B.sasl2 < 0)
                usage();
            break;
        case 'H': B.host = optarg; break;
        case 'p': B.port = atoi(optarg); break;
        case 'd': B.domain = optarg; break;
        case 'u': B.user_fmt = optarg; break;
        case 'w': B.pass_fmt = optarg; break;
        case 'f': B.first_user = atoi(optarg); break;
        case 'g': B.group_size = atoi(optarg); break;
        case 't': B.tls = 1; break;
        case 'Q': B.sm = 1; break;
        case 'r': B.mode = MODE_RAW; break;
        case 'c': B.concurrency = atoi(optarg); break;
        case 'n': O.sessions = atoi(optarg); break;
        case 'R': O.rates = optarg; break;
        case 'M': O.max_search = 1; break;
        case '9': O.p99_ms = atof(optarg); break;
        case 'T': O.phase_secs = atof(optarg); break;
        case 'S': O.settle_secs = atof(optarg); break;
        case 'D': O.drain_secs = atof(optarg); break;
        case 'L': O.login_secs = atof(optarg); break;
        case 'x': O.timeout = atof(optarg); break;
        case 'l': O.logins = atoi(optarg); break;
        case 'b': B.body_len = atoi(optarg); break;
        case 'P': O.pids = optarg; break;
        case 'A': O.aux_pids = optarg; break;
        case 'N': O.label = optarg; break;
        case 'j': O.json_path = optarg; break;
        case 'y': O.ldap_port = atoi(optarg); break;
        case 'z': O.ldap_dn_fmt = optarg; break;
        case 'C': O.push_cmd = optarg; break;
        case 'U': B.users = atoi(optarg); break;
        case 'm': B.muc_host = optarg; break;
        case 'k': B.room_size = atoi(optarg); break;
        case 'X': B.resume = 1; break;
        default: usage();
        }
    }
    if (B.body_len < 0 || B.body_len > 1000 || O.sessions < 1 || B.concurrency < 1 ||
        B.room_size < 1)
        usage();
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    B.base = event_base_new();
    B.ssl_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(B.ssl_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(B.ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
    if (B.resume) {
        SSL_CTX_set_session_cache_mode(B.ssl_ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(B.ssl_ctx, bench_new_session);
    }
    json = O.json_path ? fopen(O.json_path, "w") : fopen("/dev/null", "w");
    if (!B.base || !B.ssl_ctx || !json) {
        perror("plucs-bench");
        return 1;
    }
    fprintf(json, "{\"label\": \"%s\", \"scenario\": \"%s\", \"tls\": %d, \"raw\": %d, "
            "\"sessions\": %d, \"phases\": [", O.label, O.scenario, B.tls, B.mode == MODE_RAW,
            O.sessions);
    t_run_end = now_us() + (uint64_t)(O.timeout * 1e6);

    if (strcmp(O.scenario, "ldap") == 0) {
        struct ldap_result r = { 0 };
        struct sample2 a, b;
        if (!O.ldap_dn_fmt || !O.ldap_port)
            usage();
        sample(&a);
        ldap_bind_storm(B.host, O.ldap_port, O.ldap_dn_fmt, B.pass_fmt, B.first_user,
                        O.sessions, O.logins, B.concurrency, O.login_secs, &r);
        sample(&b);
        double cpu = b.srv.cpu_s - a.srv.cpu_s;
        printf("%-10s binds     %llu ok %llu failed  %.0f/s  p50 %.2f ms  p99 %.2f ms  "
               "slapd cpu %.2f s (%.3f s/1000)\n", O.label, (unsigned long long)r.ok,
               (unsigned long long)r.fail, r.ok / (r.secs > 0 ? r.secs : 1),
               lat_pct_ms(&r.lat, 50), lat_pct_ms(&r.lat, 99), cpu,
               r.ok ? cpu / (double)r.ok * 1000 : 0);
        json_begin_phase("binds");
        JNUM("ok", r.ok); JNUM("failed", r.fail); JNUM("secs", r.secs);
        JNUM("binds_per_s", r.ok / (r.secs > 0 ? r.secs : 1));
        JNUM("lat_p50_ms", lat_pct_ms(&r.lat, 50)); JNUM("lat_p99_ms", lat_pct_ms(&r.lat, 99));
        JNUM("cpu_s", cpu); JNUM("cpu_per_1000_logins", r.ok ? cpu / (double)r.ok * 1000 : 0);
        fputs("}", json);
    } else {
        int storm = strcmp(O.scenario, "storm") == 0;
        if (B.mode == MODE_RAW)
            B.concurrency = 1; /* the floor pairs connections in accept order */
        nconns = storm ? B.concurrency : O.sessions;
        conns = calloc((size_t)nconns, sizeof *conns);
        if (!conns)
            return 1;
        for (int i = 0; i < nconns; i++)
            conns[i].idx = i;
        struct event *tk = event_new(B.base, -1, EV_PERSIST, tick, NULL);
        struct timeval ms = { 0, 1000 };
        event_add(tk, &ms);
        if (storm) {
            free_slots = malloc((size_t)nconns * sizeof *free_slots);
            for (int i = 0; i < nconns; i++)
                free_slots[nfree++] = nconns - 1 - i;
            /* warm-up: every user once (caches, allocator arenas), then
             * the storm proper, bounded by --phase-secs and --logins */
            phase_login_for("storm-warm", O.sessions, 1, O.login_secs);
            phase_login_for("storm", O.logins, 1, O.phase_secs);
        } else if (strcmp(O.scenario, "idle") == 0 && B.sasl2 == 2) {
            /* FAST: the tokens first (password logins, LDAP binds), then
             * the measured logins with the tokens alone */
            phase_login("tokens", nconns, 0);
            close_all_for_next_pass();
            int have = 0;
            for (int i = 0; i < nconns; i++)
                have += conns[i].token[0] != 0;
            printf("%-10s tokens    %d of %d sessions got a FAST token\n", O.label, have, nconns);
            phase_login("login-fast", nconns, 1);
        } else if (strcmp(O.scenario, "idle") == 0 && B.resume) {
            /* resumption: full handshakes keep a ticket per session first,
             * then the measured logins offer it */
            B.nsess = nconns;
            B.tls_sess = calloc((size_t)nconns, sizeof *B.tls_sess);
            if (!B.tls_sess)
                return 1;
            phase_login("tickets", nconns, 0);
            close_all_for_next_pass();
            int have = 0;
            for (int i = 0; i < nconns; i++)
                have += B.tls_sess[i] != NULL;
            printf("%-10s tickets   %d of %d sessions kept a TLS session\n", O.label, have, nconns);
            phase_login("login-resumed", nconns, 1);
            printf("%-10s resumed   %llu of %llu handshakes\n", O.label,
                   (unsigned long long)B.tls_resumed,
                   (unsigned long long)(B.tls_resumed + B.tls_full));
            for (int i = 0; i < nconns; i++)
                if (B.tls_sess[i])
                    SSL_SESSION_free(B.tls_sess[i]);
            free(B.tls_sess);
            B.tls_sess = NULL;
            B.nsess = 0;
        } else if (strcmp(O.scenario, "idle") == 0) {
            phase_login("login", nconns, 1);
        } else if (strcmp(O.scenario, "msg") == 0) {
            scenario_traffic(0);
        } else if (strcmp(O.scenario, "presence") == 0) {
            scenario_traffic(1);
        } else if (strcmp(O.scenario, "push") == 0) {
            scenario_push();
        } else if (strcmp(O.scenario, "muc") == 0) {
            scenario_muc();
        } else {
            usage();
        }
        for (int i = 0; i < nconns; i++)
            if (conns[i].state != CS_NONE && conns[i].state != CS_DEAD) {
                conns[i].storm = 0;
                conn_close(&conns[i]);
            }
        event_free(tk);
    }
    fputs("\n], \"errors\": {", json);
    for (int e = 0; e < ERR__COUNT; e++)
        fprintf(json, "%s\"%s\": %llu", e ? ", " : "", bench_err_names[e],
                (unsigned long long)B.errors[e]);
    fprintf(json, "}, \"tls_key\": \"%s\", \"tls_proto\": \"%s\", \"tls_cipher\": \"%s\", "
            "\"aborted\": %d}\n", B.tls_key, B.tls_proto, B.tls_cipher, aborted);
    if (B.tls_key[0])
        printf("%-10s tls       server key %s, %s, %s\n", O.label, B.tls_key, B.tls_proto,
               B.tls_cipher);
    fclose(json);
    int any = 0;
    for (int e = 0; e < ERR__COUNT; e++)
        if (B.errors[e]) {
            printf("%s%s %llu", any++ ? ", " : "errors: ", bench_err_names[e],
                   (unsigned long long)B.errors[e]);
        }
    if (any)
        putchar('\n');
    SSL_CTX_free(B.ssl_ctx);
    event_base_free(B.base);
    return aborted ? 3 : 0;
}
