/* directory_probe.c: manual integration probe for src/directory/ against a
 * real slapd (not built by the Makefile). Reads commands from stdin so that
 * a shell script can kill and restart slapd between them:
 *   auth USER DOMAIN PASSWORD   -> prints "result USER ok|failed|unavailable <ms>"
 *   emptyauth USER DOMAIN       -> the same with an empty password
 *   snap                        -> prints the current snapshot
 *   sleep SECONDS
 *   reconf                      -> directory_reconfigure with the env again
 *   apply                       -> directory_apply_pending()
 *   pending                     -> prints "pending N"
 *   who USER DOMAIN             -> prints the account's groups and label
 *   may FROM TO                 -> prints "may FROM TO msg=0|1 see=0|1" (a.test users)
 * Configuration from the environment: URIS (space separated), BASE, HOSTDN,
 * SECRETFILE, CACERT, HOST, DOMAINS (optional override), USERLABEL,
 * GROUPLABEL, FILTER (set: plucs/mod/filter on), ALLOW (set: both policies
 * allow), HOLD (set: plucs/restart/listener false), POLL (seconds).
 * Build: cc -g -fsanitize=address,undefined -D_GNU_SOURCE -Isrc
 *   tests/directory_probe.c src/directory/\*.c src/core/log.c src/xmpp/jid.c src/xmpp/utf8.c
 *   $(pkg-config --cflags --libs libevent_core libevent_pthreads ldap lber libidn) -lpthread
 * worker_post_drop is a stand-in here: the main thread plays the worker. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "directory/directory.h"

struct item { void (*fn)(void *); void *arg; struct item *next; };
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static struct item *qhead;

void worker_post_drop(worker *w, void (*fn)(void *arg), void (*drop)(void *arg), void *arg)
{
    struct item *it = malloc(sizeof *it);
    it->fn = fn;
    it->arg = arg;
    pthread_mutex_lock(&qlock);
    it->next = qhead;
    qhead = it;
    pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock);
}
void worker_post(worker *w, void (*fn)(void *arg), void *arg) { worker_post_drop(w, fn, NULL, arg); }
worker *worker_self(void) { return NULL; }

static int run_one(int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    pthread_mutex_lock(&qlock);
    while (!qhead)
        if (pthread_cond_timedwait(&qcond, &qlock, &ts) != 0)
            break;
    struct item *it = qhead;
    if (it)
        qhead = it->next;
    pthread_mutex_unlock(&qlock);
    if (!it)
        return 0;
    it->fn(it->arg);
    free(it);
    return 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct pending { char user[300]; double t0; int done; };
static struct pending **fired;
static size_t nfired;

static void on_done(void *arg, dir_auth_result r)
{
    struct pending *p = arg;
    static const char *names[] = { "ok", "failed", "unavailable" };
    if (!getenv("QUIET") || r != DIR_AUTH_OK)
        printf("result %s %s %.0f\n", p->user, names[r], now_ms() - p->t0);
    fflush(stdout);
    p->done = 1;
}

static void on_snap(dir_snapshot *s, void *ud)
{
    fprintf(stderr, "hook: serial %llu complete %d n %zu accounts %u groups %u classes %u\n",
            (unsigned long long)s->serial, s->complete, s->ndomains, s->naccounts, s->ngroups,
            s->nclasses);
    dir_snapshot_unref(s);
}

static char **split(const char *s)
{
    char **v = calloc(64, sizeof *v);
    char *copy = strdup(s), *save = NULL;
    size_t n = 0;
    for (char *t = strtok_r(copy, " ", &save); t && n < 63; t = strtok_r(NULL, " ", &save))
        v[n++] = strdup(t);
    free(copy);
    return v;
}

static void free_split(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static config *make_config(void)
{
    config *c = calloc(1, sizeof *c);
    c->ldap_uris = split(getenv("URIS") ? getenv("URIS") : "");
    c->ldap_base = getenv("BASE");
    c->ldap_hostdn = getenv("HOSTDN");
    c->ldap_secretfile = getenv("SECRETFILE");
    c->ldap_cacert = getenv("CACERT");
    c->hostname = getenv("HOST");
    c->domains = getenv("DOMAINS") ? split(getenv("DOMAINS")) : NULL;
    c->userlabel = getenv("USERLABEL") ? getenv("USERLABEL") : "gecos";
    c->grouplabel = getenv("GROUPLABEL") ? getenv("GROUPLABEL") : "cn";
    c->filter = getenv("FILTER") != NULL;
    c->filter_message_allow = c->filter_presence_allow = getenv("ALLOW") != NULL;
    c->restart_listener = getenv("HOLD") == NULL;
    c->ldap_poll = getenv("POLL") ? atoi(getenv("POLL")) : 30;
    return c;
}

static void free_config(config *c)
{
    if (!c)
        return;
    free_split(c->ldap_uris);
    free_split(c->domains);
    free(c);
}

int main(void)
{
    log_set_level(PLOG_DEBUG - (getenv("PROBE_DEBUG") ? 0 : 1));
    config *cfg = make_config(), *old = NULL;
    directory_on_snapshot(on_snap, NULL);
    if (directory_start(cfg) != 0)
        return 1;
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char cmd[32] = "", a[128] = "", b[128] = "", pw[128] = "";
        sscanf(line, "%31s %127s %127s %127[^\n]", cmd, a, b, pw);
        if (!strcmp(cmd, "auth") || !strcmp(cmd, "emptyauth")) {
            struct pending p = { .t0 = now_ms() };
            snprintf(p.user, sizeof p.user, "%s@%s", a, b);
            directory_auth(NULL, a, b, cmd[0] == 'e' ? "" : pw, on_done, &p);
            while (!p.done)
                if (!run_one(15000)) {
                    printf("result %s TIMEOUT\n", p.user);
                    return 2;
                }
        } else if (!strcmp(cmd, "snap")) {
            dir_snapshot *s = directory_snapshot();
            printf("snap serial=%llu complete=%d domains=", (unsigned long long)s->serial, s->complete);
            for (size_t i = 0; i < s->ndomains; i++)
                printf("%s%s", i ? "," : "", s->domains[i]);
            printf("\n");
            fflush(stdout);
            dir_snapshot_unref(s);
        } else if (!strcmp(cmd, "apply")) {
            directory_apply_pending();
        } else if (!strcmp(cmd, "pending")) {
            printf("pending %u\n", directory_pending_changes());
            fflush(stdout);
        } else if (!strcmp(cmd, "who")) {
            dir_snapshot *s = directory_snapshot();
            const dir_account *acc = dir_snapshot_account(s, a, b);
            if (!acc) {
                printf("who %s@%s none\n", a, b);
            } else {
                printf("who %s label=%s class=%u groups=", acc->bare, acc->label ? acc->label : "-",
                       acc->pclass);
                for (uint32_t i = 0; i < acc->ngroups; i++)
                    printf("%s%s", i ? "," : "", s->groups[acc->groups[i]].cn);
                printf("\n");
            }
            fflush(stdout);
            dir_snapshot_unref(s);
        } else if (!strcmp(cmd, "may")) {
            dir_snapshot *s = directory_snapshot();
            const dir_account *x = dir_snapshot_account(s, a, "a.test"), *y = dir_snapshot_account(s, b, "a.test");
            printf("may %s %s msg=%d see=%d\n", a, b, dir_may_message(s, x, y), dir_may_see(s, x, y));
            fflush(stdout);
            dir_snapshot_unref(s);
        } else if (!strcmp(cmd, "sleep")) {
            usleep((useconds_t)(atof(a) * 1e6));
        } else if (!strcmp(cmd, "setenv")) {
            setenv(a, b, 1);
        } else if (!strcmp(cmd, "unsetenv")) {
            unsetenv(a);
        } else if (!strcmp(cmd, "burst")) {      /* burst N USER DOMAIN PASSWORD */
            int n = atoi(a);
            char u[128] = "", dom[128] = "", p2[128] = "";
            sscanf(line, "%*s %*s %127s %127s %127s", u, dom, p2);
            struct pending *ps = calloc((size_t)n, sizeof *ps);
            for (int i = 0; i < n; i++) {
                ps[i].t0 = now_ms();
                snprintf(ps[i].user, sizeof ps[i].user, "%s@%s#%d", u, dom, i);
                directory_auth(NULL, u, dom, p2, on_done, &ps[i]);
            }
            for (int i = 0; i < n; i++)
                while (!ps[i].done && run_one(15000))
                    ;
            free(ps);
        } else if (!strcmp(cmd, "fire")) {      /* fire N USER DOMAIN PASSWORD: no wait */
            int n = atoi(a);
            char u[128] = "", dom[128] = "", p2[128] = "";
            sscanf(line, "%*s %*s %127s %127s %127s", u, dom, p2);
            fired = realloc(fired, (nfired + (size_t)n) * sizeof *fired);
            for (int i = 0; i < n; i++) {
                struct pending *p = calloc(1, sizeof *p);
                p->t0 = now_ms();
                snprintf(p->user, sizeof p->user, "%s@%s#f%d", u, dom, i);
                fired[nfired++] = p;
                directory_auth(NULL, u, dom, p2, on_done, p);
            }
        } else if (!strcmp(cmd, "reconf")) {
            free_config(old);
            old = cfg;
            cfg = make_config();
            directory_reconfigure(cfg);
        }
    }
    directory_stop();
    while (run_one(0))
        ;
    for (size_t i = 0; i < nfired; i++) {
        if (!fired[i]->done)
            printf("result %s NEVER ANSWERED\n", fired[i]->user);
        free(fired[i]);
    }
    free(fired);
    free_config(cfg);
    free_config(old);
    return 0;
}
