/* plucsd.c: the daemon. Reads the registry, starts the directory thread and
 * the workers, opens the listeners, then the main thread only handles
 * signals: SIGHUP reloads the registry (an invalid file keeps the running
 * configuration), SIGTERM/SIGINT close every stream properly and exit. A
 * change of the registry file(s) on disk reloads the same way
 * (core/registry_watch.h).
 * Exit status: 0 after SIGTERM, 78 (EX_CONFIG) when the registry is
 * unreadable, invalid or incomplete (restarting cannot help: the unit's
 * RestartPreventExitStatus=78), 2 for a bad command line, 1 for every other
 * failure (listeners, store, certificate with plucs/tls=required ...). */
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "core/config.h"
#include "core/alloc.h"
#include "control/control.h"
#include "core/log.h"
#include "core/mem_trim.h"
#include "core/registry.h"
#include "core/registry_watch.h"
#include "core/secret.h"
#include "core/worker.h"
#include "directory/directory.h"
#include "modules/module.h"
#include "modules/muc.h"
#include "router/router.h"
#include "router/session.h"
#include "store/store.h"
#include "transport/c2s.h"
#include "transport/listener.h"
#include "transport/s2s.h"
#include "transport/s2s_tls.h"
#include "transport/tls.h"
#include "transport/xmpp_stream.h"

static const char *registry_path;
static char *pidfile;
static struct event_base *main_base;
static uint64_t applied_fingerprint;   /* the registry files' content the last (re)load read */

static void report_start(void *ud, const char *line) { fprintf(stderr, "plucsd: %s\n", line); }
/* ud: the control socket's collector of the answer's lines, or NULL. */
typedef struct reload_report { void (*fn)(void *ud, const char *line); void *ud; } reload_report;
static void report_reload(void *ud, const char *line)
{
    log_err("reload: %s", line);
    reload_report *r = ud;
    if (r && r->fn)
        r->fn(r->ud, line);
}

static int setup_tls(const config *c, bool at_start)
{
    if (c->tls == TLS_OFF && !c->c2s_tls_port)
        return 0;
    char err[1024];
    tls_set_session_tickets(c->tls_tickets);
    if (tls_load(c->certfile, err, sizeof err) == 0)
        return 0;
    if (at_start && c->tls == TLS_REQUIRED) {
        fprintf(stderr, "plucsd: %s\nplucsd: plucs/tls is 'required', cannot run without a "
                        "certificate\n", err);
        return -1;
    }
    log_err("%s; %s", err, at_start ? "STARTTLS will not be offered" : "keeping the previous certificate");
    return 0;
}

/* Federation's certificates: plucs/s2s/certfile, else plucs/certfile. A
 * failure is logged and federation runs without TLS (the required modes
 * then refuse every peer, and say so per stream). */
static void setup_s2s_tls(const config *c)
{
    if (!c->s2s || c->s2s_tls == S2S_TLS_FALSE)
        return;
    const char *certs = c->s2s_certfile && *c->s2s_certfile ? c->s2s_certfile : c->certfile;
    char err[1024];
    if (s2s_tls_load(certs ? certs : "", c->s2s_cafile ? c->s2s_cafile : "", err, sizeof err) != 0)
        log_err("s2s: %s; server-to-server streams run without TLS", err);
}

/* Runs on each worker after its loop ended. */
static void worker_exit(void)
{
    s2s_worker_cleanup();
    c2s_worker_cleanup();
    modules_thread_exit();
}

static bool str_eq(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }

/* SIGHUP and the control socket's `reload`: the registry, then the directory
 * changes held back by plucs/restart/listener=false (also when the registry
 * is refused: those are independent). 0, or -1 when the registry is invalid. */
static int reload(void (*report)(void *ud, const char *line), void *ud)
{
    reload_report rr = { report, ud };
    applied_fingerprint = registry_fingerprint(registry_path);
    config *nc = config_load(registry_path, report_reload, &rr);
    if (!nc) {
        directory_apply_pending();
        log_err("reload: registry '%s' is invalid, keeping the running configuration",
                registry_path);
        return -1;
    }
    const config *old = config_current();
    log_set_level(nc->loglevel);
    if (!str_eq(old->certfile, nc->certfile) || old->tls != nc->tls ||
        old->c2s_tls_port != nc->c2s_tls_port || old->tls_tickets != nc->tls_tickets)
        setup_tls(nc, false);
    if (nc->s2s && (!old->s2s || old->s2s_tls != nc->s2s_tls ||
                    !str_eq(old->s2s_certfile, nc->s2s_certfile) ||
                    !str_eq(old->certfile, nc->certfile) || !str_eq(old->s2s_cafile, nc->s2s_cafile)))
        setup_s2s_tls(nc);
    if (old->threads != nc->threads)
        log_warn("reload: plucs/threads changed; it takes effect when plucsd restarts");
    if (!str_eq(old->rundir, nc->rundir))
        log_warn("reload: plucs/rundir changed; it takes effect when plucsd restarts");
    if (!str_eq(old->store, nc->store))
        log_warn("reload: plucs/store changed; it takes effect when plucsd restarts");
    config_set_current(nc);
    if (config_inert_warning(nc))
        log_warn("reload: %s", config_inert_warning(nc));
    int failed = listeners_apply(main_base, nc);
    if (failed && report)
        report(ud, "some listeners could not be opened; see the log");
    directory_reconfigure(nc);
    directory_apply_pending();
    if (old->roster_scope != nc->roster_scope || old->muc != nc->muc ||
        old->muc_grouprooms != nc->muc_grouprooms ||
        !str_eq(old->muc_grouprooms_owners, nc->muc_grouprooms_owners) ||
        !str_eq(old->muc_host, nc->muc_host))
        router_config_changed(old);
    log_info("reload: registry '%s' applied", registry_path);
    return 0;
}

/* The registry files changed on disk (registry_watch, debounced): reload as
 * SIGHUP does, unless that content was applied already (`plucs config set`
 * asks for a reload itself right after writing). */
static void on_registry_changed(void *ud)
{
    if (registry_fingerprint(registry_path) == applied_fingerprint) {
        log_debug("registry '%s' touched but unchanged since the last reload", registry_path);
        return;
    }
    log_info("registry '%s' changed on disk: reloading", registry_path);
    reload(NULL, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    if (sig == SIGHUP) {
        log_info("SIGHUP: reloading the registry");
        reload(NULL, NULL);
    } else {
        log_warn("signal %d: shutting down", (int)sig);
        event_base_loopbreak(main_base);
    }
}

/* The pid file is written to a fresh temporary file beside it (created
 * with O_EXCL by mkostemp, so no existing file or symbolic link is ever
 * opened) and renamed over the final name. A symbolic link, or anything but
 * a regular file, at the final path is refused: plucsd never writes through
 * a link someone placed in its run directory. */
static bool pidfile_written;
static int write_pidfile(const config *c)
{
    if (!pidfile) {
        mkdir(c->rundir, 0755);
        size_t n = strlen(c->rundir) + 16;
        pidfile = xmalloc(n);
        snprintf(pidfile, n, "%s/plucsd.pid", c->rundir);
    }
    struct stat sb;
    if (lstat(pidfile, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "plucsd: pid file '%s' is %s; refusing to write through it\n", pidfile,
                S_ISLNK(sb.st_mode) ? "a symbolic link" : "not a regular file");
        log_crit("pid file '%s' is %s; not starting", pidfile,
                 S_ISLNK(sb.st_mode) ? "a symbolic link" : "not a regular file");
        return -1;
    }
    size_t tn = strlen(pidfile) + 8;
    char *tmp = xmalloc(tn);
    snprintf(tmp, tn, "%s.XXXXXX", pidfile);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "plucsd: cannot write pid file '%s': %s\n", pidfile, strerror(errno));
        free(tmp);
        return -1;
    }
    char line[32];
    int len = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    bool ok = fchmod(fd, 0644) == 0 && write(fd, line, (size_t)len) == len;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, pidfile) != 0) {
        fprintf(stderr, "plucsd: cannot write pid file '%s': %s\n", pidfile, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    pidfile_written = true;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: plucsd [--registry FILE] [--pidfile FILE]\n"
               "Runs the PLUCS XMPP server in the foreground, logging to stderr.\n"
               "The registry is FILE, else $PLUCS_REGISTRY, else /etc/univention/base.conf,\n"
               "else /etc/plucs/registry.conf (a base.conf is read with UCR's layers).\n"
               "SIGHUP reloads it, and so does any change of its file(s) on disk;\n"
               "SIGTERM stops.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "registry", required_argument, NULL, 'r' },
        { "pidfile", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *reg_arg = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "r:p:h", opts, NULL)) != -1) {
        switch (o) {
        case 'r': reg_arg = optarg; break;
        case 'p': pidfile = xstrdup(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    registry_path = registry_default_path(reg_arg);
    applied_fingerprint = registry_fingerprint(registry_path);
    config *cfg = config_load(registry_path, report_start, NULL);
    if (!cfg) {
        fprintf(stderr, "plucsd: registry '%s' is invalid; not starting (exit status %d)\n",
                registry_path, EX_CONFIG);
        return EX_CONFIG;
    }
    log_set_level(cfg->loglevel);
    config_set_current(cfg);
    if (config_inert_warning(cfg))
        log_warn("%s", config_inert_warning(cfg));
    signal(SIGPIPE, SIG_IGN);
    char warn[1024];
    if (secret_check_mode(cfg->ldap_secretfile, warn, sizeof warn))
        log_warn("%s", warn);
    if (setup_tls(cfg, true) != 0)
        return 1;
    setup_s2s_tls(cfg);

    char err[1024];
    if (store_start(cfg->store, err, sizeof err) != 0) {
        fprintf(stderr, "plucsd: plucs/store: %s\n", err);
        return 1;
    }
    int n = cfg->threads;
    if (modules_init(builtin_modules, builtin_modules_count, err, sizeof err) != 0) {
        fprintf(stderr, "plucsd: %s\n", err);
        log_crit("%s", err);
        store_stop();
        return 1;
    }
    xmpp_stream_set_features_fn(module_stream_features);
    xmpp_stream_set_element_fn(module_stream_element);
    sessions_init(n);
    router_init(n);
    workers_set_exit_hook(worker_exit);
    if (workers_start(n) != 0 || directory_start(cfg) != 0) {
        log_crit("cannot start threads");
        return 1;
    }
    main_base = event_base_new();
    if (mem_trim_start(main_base) != 0)
        log_warn("idle: freed memory is not given back to the system (cannot make the trim event)");
    struct event *sig[4];
    int signals[4] = { SIGHUP, SIGTERM, SIGINT, SIGQUIT };
    for (int i = 0; i < 4; i++) {
        sig[i] = evsignal_new(main_base, signals[i], on_signal, NULL);
        event_add(sig[i], NULL);
    }
    registry_watch *watch = NULL;
    int failed = listeners_apply(main_base, cfg);
    if (failed) {
        log_crit("cannot open %d listener(s); not starting", failed);
    } else if (write_pidfile(cfg) != 0) {
        failed = 1;   /* said why on stderr; exit 1 */
    } else {
        control_start(main_base, cfg->rundir, reload);
        char werr[512];
        watch = registry_watch_new(main_base, registry_path, 400, on_registry_changed, NULL, werr,
                                   sizeof werr);
        if (!watch)
            log_warn("registry changes on disk are not noticed (%s): reload with SIGHUP", werr);
        else if (registry_fingerprint(registry_path) != applied_fingerprint)
            on_registry_changed(NULL);   /* changed while we were starting */
        log_warn("plucsd started: %d worker thread(s), registry '%s'", n, registry_path);
        event_base_dispatch(main_base);
    }
    registry_watch_free(watch);

    /* Shutdown: stop accepting, close every stream, then the threads. */
    listeners_close_all();
    muc_system_shutdown();   /* occupants hear 332 before their streams close */
    workers_broadcast(s2s_worker_shutdown, NULL);
    workers_broadcast(c2s_worker_shutdown, NULL);
    workers_join();
    mem_trim_stop();
    control_stop();
    directory_stop();
    store_stop();
    workers_free();
    router_shutdown();
    sessions_shutdown();
    modules_shutdown();
    tls_shutdown();
    s2s_tls_shutdown();
    for (int i = 0; i < 4; i++)
        event_free(sig[i]);
    event_base_free(main_base);
    if (pidfile_written)
        unlink(pidfile);
    free(pidfile);
    config_free_all();
    log_warn("plucsd stopped");
    return failed ? 1 : 0;
}
