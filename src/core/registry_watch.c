/* registry_watch.c: inotify on the registry's folder, debounced on a
 * libevent timer (see registry_watch.h). Only events naming one of the
 * registry's layer files count; temporary files of atomic writers
 * (".base.conf.XXXXXX", "base.conf.swp") are ignored until they are renamed
 * to a watched name, which arrives as IN_MOVED_TO. */
#include "core/registry_watch.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/registry.h"
#include "core/registry_layers.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#define WATCH_MAX_DELAY_MS 5000

struct registry_watch {
    int fd;
    int wd;
    struct event *ev_inotify;
    struct event *ev_timer;
    int debounce_ms;
    struct timespec first;      /* first event of the pending burst */
    bool pending;
    char *names[REG_LAYER_COUNT];   /* owned; file names (no folder) that count */
    void (*fn)(void *ud);
    void *ud;
};

static long ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t->tv_sec) * 1000L + (now.tv_nsec - t->tv_nsec) / 1000000L;
}

static bool watched_name(const registry_watch *w, const char *name)
{
    for (int i = 0; i < REG_LAYER_COUNT; i++)
        if (w->names[i] && strcmp(w->names[i], name) == 0)
            return true;
    return false;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    registry_watch *w = arg;
    w->pending = false;
    w->fn(w->ud);
}

/* (Re)arms the debounce timer; a burst that never pauses still fires after
 * WATCH_MAX_DELAY_MS. */
static void schedule(registry_watch *w)
{
    if (!w->pending) {
        w->pending = true;
        clock_gettime(CLOCK_MONOTONIC, &w->first);
    }
    long left = WATCH_MAX_DELAY_MS - ms_since(&w->first);
    long ms = w->debounce_ms < left ? w->debounce_ms : (left > 0 ? left : 0);
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(w->ev_timer, &tv);
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
    registry_watch *w = arg;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (int rounds = 0; rounds < 64; rounds++) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            return;   /* EAGAIN: drained */
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            if (e->mask & IN_Q_OVERFLOW)
                schedule(w);   /* events were lost: assume a change */
            else if (e->mask & IN_IGNORED)
                log_warn("the registry's folder was removed or unmounted: changes on disk are no longer "
                         "noticed (reload with SIGHUP, or restart)");
            else if (e->len && watched_name(w, e->name))
                schedule(w);
            p += sizeof *e + e->len;
        }
    }
}

registry_watch *registry_watch_new(struct event_base *base, const char *path, int debounce_ms,
                                   void (*fn)(void *ud), void *ud, char *err, size_t errlen)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);

    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "inotify: %s", strerror(errno));
        return NULL;
    }
    int wd = inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM |
                                            IN_CREATE | IN_DELETE | IN_ATTRIB);
    if (wd < 0) {
        snprintf(err, errlen, "cannot watch the folder '%s': %s", dir, strerror(errno));
        close(fd);
        return NULL;
    }
    registry_watch *w = xcalloc(1, sizeof *w);
    w->fd = fd;
    w->wd = wd;
    w->debounce_ms = debounce_ms > 0 ? debounce_ms : 1;
    w->fn = fn;
    w->ud = ud;
    for (int i = 0; i < REG_LAYER_COUNT; i++) {
        char file[4096];
        if (registry_layer_path(path, i, file, sizeof file)) {
            const char *s = strrchr(file, '/');
            w->names[i] = xstrdup(s ? s + 1 : file);
        }
    }
    w->ev_inotify = event_new(base, fd, EV_READ | EV_PERSIST, on_inotify, w);
    w->ev_timer = evtimer_new(base, on_timer, w);
    event_add(w->ev_inotify, NULL);
    return w;
}

void registry_watch_free(registry_watch *w)
{
    if (!w)
        return;
    event_free(w->ev_inotify);
    event_free(w->ev_timer);
    close(w->fd);
    for (int i = 0; i < REG_LAYER_COUNT; i++)
        free(w->names[i]);
    free(w);
}

/* FNV-1a, 64 bit: enough to tell contents apart, not a security measure. */
static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

typedef struct {
    uint64_t h;
} fp_ctx;

/* Only what PLUCS reads counts: the variables of its table (which include
 * the UCR variables it uses, such as ldap/base and hostname) and anything
 * under plucs/. Other services' variables in a shared base.conf do not. */
static void fp_add(void *ud, const char *key, const char *value)
{
    fp_ctx *c = ud;
    if (strncmp(key, "plucs/", 6) != 0 && !reg_var_find(key))
        return;
    c->h = fnv(c->h, key, strlen(key) + 1);
    c->h = fnv(c->h, value, strlen(value) + 1);
}

uint64_t registry_fingerprint(const char *path)
{
    fp_ctx c = { 0xcbf29ce484222325ULL };
    registry_stack *s = registry_stack_load(path, NULL, 0);
    if (!s) {
        int e = errno;
        c.h = fnv(c.h, "\0unreadable", 11);
        return fnv(c.h, &e, sizeof e);
    }
    registry_each(registry_stack_merged(s), fp_add, &c);
    /* lines that are not `key: value` make the registry invalid: a change in
     * their number is a change */
    int problems = registry_stack_check(s, NULL, NULL);
    c.h = fnv(c.h, &problems, sizeof problems);
    registry_stack_free(s);
    return c.h;
}
