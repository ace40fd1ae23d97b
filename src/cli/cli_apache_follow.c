/* cli_apache_follow.c: `plucs apache follow`, the Apache snippet kept in
 * step with the plucs/http variables however the registry is changed. `plucs config set`
 * rewrites the snippet itself, but `ucr set`, an editor or configuration
 * management do not know about it; this long-running process (systemd unit
 * scripts/plucs-apache.service) watches the registry files with inotify
 * (core/registry_watch.h, debounced), rewrites the snippet only when its
 * content changes and then runs the reload command, so Apache serves the new
 * URLs. An invalid registry keeps the snippet as it is and says why. */
#include "cli/cli_apache.h"
#include "cli/cli.h"
#include "core/registry.h"
#include "core/registry_layers.h"
#include "core/registry_watch.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct follow {
    const char *registry_path;
    const char *reload_override;   /* --reload-command, or NULL: the registry's */
    struct event_base *base;
    int reloads;                   /* reload commands run (for the log) */
} follow;

/* Runs cmd with /bin/sh -c and waits for it; says how it ended. */
static void run_reload(const char *cmd)
{
    char *argv[] = { "sh", "-c", (char *)cmd, NULL };
    pid_t pid;
    /* this process ignores SIGPIPE; the command gets the default back */
    posix_spawnattr_t attr;
    sigset_t dfl;
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    int err = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (err) {
        fprintf(stderr, "plucs apache follow: cannot run '%s': %s\n", cmd, strerror(err));
        return;
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        fprintf(stderr, "plucs apache follow: ran '%s'\n", cmd);
    else if (WIFEXITED(st))
        fprintf(stderr, "plucs apache follow: '%s' failed with exit status %d\n", cmd, WEXITSTATUS(st));
    else
        fprintf(stderr, "plucs apache follow: '%s' ended by signal %d\n", cmd,
                WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The reload command: --reload-command, else plucs/http/proxy/reload of
 * the merged registry. malloc'ed. */
static char *reload_command(const follow *f)
{
    if (f->reload_override)
        return strdup(f->reload_override);
    registry_stack *s = registry_stack_load(f->registry_path, NULL, 0);
    const char *v = s ? registry_get(registry_stack_merged(s), "plucs/http/proxy/reload") : NULL;
    char *out = strdup(v ? v : "apachectl graceful");
    registry_stack_free(s);
    return out;
}

static void sync_now(follow *f)
{
    bool changed = false;
    if (apache_sync_changed(f->registry_path, true, &changed) != CLI_OK) {
        fprintf(stderr, "plucs apache follow: the snippet stays as it is until the registry is valid\n");
        return;
    }
    if (!changed)
        return;
    char *cmd = reload_command(f);
    if (cmd && cmd[strspn(cmd, " \t")])
        run_reload(cmd);
    free(cmd);
    f->reloads++;
}

static void on_change(void *ud)
{
    sync_now(ud);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    event_base_loopbreak(((follow *)arg)->base);
}

int apache_follow(int argc, char **argv, const char *registry_path)
{
    follow f = { .registry_path = registry_path };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reload-command") && i + 1 < argc) {
            f.reload_override = argv[++i];
        } else {
            cli_apache_usage(stderr);
            return CLI_USAGE;
        }
    }
    f.base = event_base_new();
    if (!f.base) {
        fputs("plucs apache follow: cannot create an event loop\n", stderr);
        return CLI_FAIL;
    }
    char err[512];
    registry_watch *w = registry_watch_new(f.base, registry_path, 400, on_change, &f, err, sizeof err);
    if (!w) {
        fprintf(stderr, "plucs apache follow: %s\n", err);
        event_base_free(f.base);
        return CLI_FAIL;
    }
    struct event *sigs[2] = { evsignal_new(f.base, SIGTERM, on_signal, &f),
                              evsignal_new(f.base, SIGINT, on_signal, &f) };
    for (int i = 0; i < 2; i++)
        event_add(sigs[i], NULL);
    signal(SIGPIPE, SIG_IGN);
    sync_now(&f);   /* whatever changed while nobody watched */
    fprintf(stderr, "plucs apache follow: watching %s%s\n", registry_path,
            registry_is_ucr(registry_path) ? " and its UCR layers" : "");
    event_base_dispatch(f.base);
    for (int i = 0; i < 2; i++)
        event_free(sigs[i]);
    registry_watch_free(w);
    event_base_free(f.base);
    return CLI_OK;
}
