/* control.c: the control socket server (see control.h) on the main thread's
 * event base. Bounded on every side, because whoever can open the socket
 * must not be able to stall the daemon: at most CONTROL_MAX_CLIENTS
 * connections, a request line of at most CONTROL_LINE_MAX bytes, one request
 * answered at a time per client (further lines wait in the input buffer),
 * and a connection idle or unable to take its answer for CONTROL_IDLE_S
 * seconds is closed. Everything is answered at once on the main thread
 * except `status`, which waits for the workers' session counts
 * (control_status.c) without blocking anything.
 *
 * The socket is created as rundir/control.<pid>.tmp, given mode 0660 and
 * renamed over rundir/control, so it never exists with looser permissions
 * and a stale socket from a crashed daemon is replaced atomically; a socket
 * a live daemon still answers on is left alone. */
#include "control/control.h"
#include "core/alloc.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"

typedef struct ctl_client {
    struct ctl_client *next, *prev;
    struct bufferevent *bev;
    control_status_job *job;   /* a status answer is being collected */
    bool eof;                  /* the client sent everything it will send */
    bool fatal;                /* a broken request: answer, then close */
} ctl_client;

static struct {
    struct event_base *base;
    int fd;
    struct event *ev_accept;
    char *path;
    dev_t dev;
    ino_t ino;
    control_reload_fn reload;
    ctl_client *clients;
    int nclients;
} ctl = { .fd = -1 };

static void client_free(ctl_client *c)
{
    if (c->job)
        control_status_cancel(c->job);
    if (c->prev)
        c->prev->next = c->next;
    else
        ctl.clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ctl.nclients--;
    bufferevent_free(c->bev);
    free(c);
}

static void send_answer(ctl_client *c, const char *error, const char *body)
{
    buf out;
    buf_init(&out);
    control_reply_begin(&out, error);
    if (body)
        control_reply_lines(&out, body);
    control_reply_end(&out);
    bufferevent_write(c->bev, out.data, out.len);
    buf_free(&out);
}

/* --- requests --------------------------------------------------------------- */

typedef struct reload_lines {
    buf text;
} reload_lines;

static void reload_report(void *ud, const char *line)
{
    reload_lines *r = ud;
    buf_printf(&r->text, "%s\n", line);
}

static void do_reload(ctl_client *c)
{
    unsigned waiting = directory_pending_changes();
    reload_lines r;
    buf_init(&r.text);
    log_info("control: reload requested");
    int rc = ctl.reload ? ctl.reload(reload_report, &r) : -1;
    if (waiting)
        buf_printf(&r.text, "directory: applying %u waiting change%s\n", waiting,
                   waiting == 1 ? "" : "s");
    const config *cur = config_current();
    if (rc == 0)
        buf_printf(&r.text, "registry %s applied\n", cur && cur->registry_path ? cur->registry_path : "");
    send_answer(c, rc == 0 ? NULL : "the registry is invalid; plucsd keeps its running configuration",
                r.text.data);
    buf_free(&r.text);
}

static void process_input(ctl_client *c);
static bool maybe_close(ctl_client *c);

static void status_done(void *ud, const char *text)
{
    ctl_client *c = ud;
    c->job = NULL;
    send_answer(c, NULL, text);
    process_input(c);        /* lines that arrived meanwhile */
    maybe_close(c);
}

static void explain_ctx(control_explain_ctx *x, const dir_snapshot *s)
{
    const config *cur = config_current();
    memset(x, 0, sizeof *x);
    x->snap = s;
    x->msg_allow = cur && cur->filter_message_allow;
    x->pres_allow = cur && cur->filter_presence_allow;
    x->source = "running server";
}

static void do_explain(ctl_client *c, const control_request *req)
{
    dir_snapshot *s = directory_snapshot();
    if (!s) {
        send_answer(c, "the directory is not running", NULL);
        return;
    }
    control_explain_ctx x;
    explain_ctx(&x, s);
    buf out;
    buf_init(&out);
    char err[1024];
    int rc = req->cmd == CONTROL_EXPLAIN
                 ? control_explain(&x, req->argv[0], req->argv[1], &out, err, sizeof err)
                 : control_matrix(&x, req->argc ? req->argv[0] : NULL, &out, err, sizeof err);
    send_answer(c, rc == 0 ? NULL : err, rc == 0 ? out.data : NULL);
    buf_free(&out);
    dir_snapshot_unref(s);
}

/* Answers the complete lines in the input buffer, one request at a time
 * (never frees c: see maybe_close). */
static void process_input(ctl_client *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (!c->job && !c->fatal) {
        size_t len = 0;
        char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
        size_t rest = evbuffer_get_length(in);
        if (!line && c->eof && rest && rest <= CONTROL_LINE_MAX) {
            /* the last line, without its newline (the input's end is frozen
             * for us, so it is taken out as it is) */
            if (!(line = xmalloc(rest + 1)))
                break;
            len = (size_t)evbuffer_remove(in, line, rest);
            line[len] = '\0';
        }
        if (!line) {
            if (evbuffer_get_length(in) > CONTROL_LINE_MAX) {
                char err[64];
                snprintf(err, sizeof err, "request longer than %d bytes", CONTROL_LINE_MAX);
                send_answer(c, err, NULL);
                c->fatal = true;
                bufferevent_disable(c->bev, EV_READ);
            }
            break;
        }
        control_request req;
        char err[256];
        int rc = strlen(line) != len ? (snprintf(err, sizeof err, "NUL byte in the request"), -1)
                                     : control_parse(line, &req, err, sizeof err);
        if (rc < 0) {
            send_answer(c, err, NULL);
        } else if (rc == 0) {
            switch (req.cmd) {
            case CONTROL_RELOAD:
                do_reload(c);
                break;
            case CONTROL_STATUS:
                c->job = control_status_start(ctl.base, status_done, c);
                if (!c->job)
                    send_answer(c, "out of memory", NULL);
                break;
            case CONTROL_EXPLAIN:
            case CONTROL_MATRIX:
                do_explain(c, &req);
                break;
            case CONTROL_HELP:
                send_answer(c, NULL, control_help());
                break;
            }
        }
        free(line);
    }
}

/* Frees c once it has nothing more to send or answer; true when freed. */
static bool maybe_close(ctl_client *c)
{
    if (c->job || !(c->eof || c->fatal) || evbuffer_get_length(bufferevent_get_output(c->bev)))
        return false;
    client_free(c);
    return true;
}

/* --- connections ---------------------------------------------------------------- */

static void read_cb(struct bufferevent *bev, void *arg)
{
    process_input(arg);
    maybe_close(arg);
}

static void write_cb(struct bufferevent *bev, void *arg) { maybe_close(arg); }

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    ctl_client *c = arg;
    if ((what & BEV_EVENT_EOF) && !c->eof) {
        /* the client is done sending: answer what it sent (a last line
         * without its newline too), then close */
        c->eof = true;
        bufferevent_disable(bev, EV_READ);
        process_input(c);
        maybe_close(c);
        return;
    }
    client_free(c);          /* error or timeout */
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
    for (int i = 0; i < 8; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                log_warn("control: accept: %s", strerror(errno));
            return;
        }
        if (ctl.nclients >= CONTROL_MAX_CLIENTS) {
            static const char busy[] = "error: too many control connections; try again\n.\n";
            ssize_t w = write(fd, busy, sizeof busy - 1);
            (void)w;
            close(fd);
            log_warn("control: refused a connection (%d already open)", ctl.nclients);
            continue;
        }
        ctl_client *c = xcalloc(1, sizeof *c);
        struct bufferevent *bev = c ? bufferevent_socket_new(ctl.base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
        if (!bev) {
            free(c);
            close(fd);
            return;
        }
        c->bev = bev;
        c->next = ctl.clients;
        if (ctl.clients)
            ctl.clients->prev = c;
        ctl.clients = c;
        ctl.nclients++;
        struct timeval tv = { CONTROL_IDLE_S, 0 };
        bufferevent_set_timeouts(bev, &tv, &tv);
        bufferevent_setwatermark(bev, EV_READ, 0, CONTROL_LINE_MAX * 4);
        bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
        bufferevent_enable(bev, EV_READ | EV_WRITE);
    }
}

/* --- start and stop ------------------------------------------------------------ */

/* true when something answers on path (a live daemon). */
static bool socket_alive(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool alive = connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0;
    close(fd);
    return alive;
}

int control_start(struct event_base *base, const char *rundir, control_reload_fn reload)
{
    control_status_started();
    if (mkdir(rundir, 0755) != 0 && errno != EEXIST) {
        log_err("control: cannot create %s: %s; no control socket", rundir, strerror(errno));
        return -1;
    }
    struct sockaddr_un sa, tmp;
    memset(&sa, 0, sizeof sa);
    memset(&tmp, 0, sizeof tmp);
    sa.sun_family = tmp.sun_family = AF_UNIX;
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", rundir, CONTROL_SOCKET_NAME);
    int m = snprintf(tmp.sun_path, sizeof tmp.sun_path, "%s/%s.%ld.tmp", rundir,
                     CONTROL_SOCKET_NAME, (long)getpid());
    if (n < 0 || m < 0 || (size_t)m >= sizeof tmp.sun_path) {
        log_err("control: plucs/rundir '%s' is too long for a socket path; no control socket", rundir);
        return -1;
    }
    if (socket_alive(&sa)) {
        log_err("control: another plucsd answers on %s; not replacing it (plucs/rundir shared?)",
                sa.sun_path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_err("control: socket: %s", strerror(errno));
        return -1;
    }
    unlink(tmp.sun_path);
    struct stat st;
    if (bind(fd, (struct sockaddr *)&tmp, sizeof tmp) != 0 || chmod(tmp.sun_path, 0660) != 0 ||
        listen(fd, CONTROL_MAX_CLIENTS) != 0 || rename(tmp.sun_path, sa.sun_path) != 0 ||
        stat(sa.sun_path, &st) != 0) {
        log_err("control: cannot listen on %s: %s", sa.sun_path, strerror(errno));
        unlink(tmp.sun_path);
        close(fd);
        return -1;
    }
    ctl.base = base;
    ctl.fd = fd;
    ctl.reload = reload;
    ctl.dev = st.st_dev;
    ctl.ino = st.st_ino;
    ctl.path = xstrdup(sa.sun_path);
    ctl.ev_accept = event_new(base, fd, EV_READ | EV_PERSIST, accept_cb, NULL);
    if (!ctl.path || !ctl.ev_accept || event_add(ctl.ev_accept, NULL) != 0) {
        log_err("control: out of memory");
        control_stop();
        return -1;
    }
    log_info("control: listening on %s", ctl.path);
    return 0;
}

void control_stop(void)
{
    while (ctl.clients)
        client_free(ctl.clients);
    control_status_shutdown();
    if (ctl.ev_accept)
        event_free(ctl.ev_accept);
    ctl.ev_accept = NULL;
    if (ctl.fd >= 0)
        close(ctl.fd);
    ctl.fd = -1;
    if (ctl.path) {
        /* only our own socket: a successor may have replaced it */
        struct stat st;
        if (stat(ctl.path, &st) == 0 && st.st_dev == ctl.dev && st.st_ino == ctl.ino)
            unlink(ctl.path);
        free(ctl.path);
        ctl.path = NULL;
    }
}
