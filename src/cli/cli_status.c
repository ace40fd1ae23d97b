/* cli_status.c: `plucs status [--json]` and `plucs reload`, and the client
 * side of the control socket that every command talking to a running
 * plucsd uses (explain, config set). The daemon is found through
 * plucs/rundir of the registry: its socket is <rundir>/control. A command
 * that needs the daemon says so clearly and exits 1 when none runs. */
#include "cli/cli.h"
#include "core/alloc.h"

#include "control/control.h"
#include "core/registry.h"
#include "core/registry_layers.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define CLI_CONTROL_TIMEOUT_S 60
#define CLI_CONTROL_MAX_ANSWER (256u << 20)

char *cli_rundir(const char *registry_path)
{
    registry_stack *st = registry_stack_load(registry_default_path(registry_path), NULL, 0);
    const char *v = st ? registry_get(registry_stack_merged(st), "plucs/rundir") : NULL;
    char *out = xstrdup(v && *v ? v : "/run/plucs");
    registry_stack_free(st);
    return out;
}

int cli_control_request(const char *rundir, const char *request, control_reply *reply,
                        char *err, size_t errlen)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", rundir, CONTROL_SOCKET_NAME);
    if (n < 0 || (size_t)n >= sizeof sa.sun_path) {
        snprintf(err, errlen, "plucs/rundir '%s' is too long for a socket path", rundir);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR)
            return 0;
        snprintf(err, errlen, "cannot connect to %s: %s%s", sa.sun_path, strerror(e),
                 e == EACCES ? " (run as root or as a member of plucsd's group)" : "");
        return -1;
    }
    struct timeval tv = { CLI_CONTROL_TIMEOUT_S, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    buf req;
    buf_init(&req);
    buf_printf(&req, "%s\n", request);
    int rc = -2;
    size_t off = 0;
    while (off < req.len) {
        ssize_t w = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "cannot send to %s: %s", sa.sun_path, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    buf in;
    buf_init(&in);
    for (;;) {
        char chunk[65536];
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                snprintf(err, errlen, "no answer from plucsd within %d s", CLI_CONTROL_TIMEOUT_S);
            else
                snprintf(err, errlen, "reading from %s: %s", sa.sun_path, strerror(errno));
            break;
        }
        if (r > 0)
            buf_append(&in, chunk, (size_t)r);
        long done = in.len ? control_reply_parse(in.data, in.len, reply) : 0;
        if (done > 0) {
            rc = 1;
            break;
        }
        if (done < 0 || in.len > CLI_CONTROL_MAX_ANSWER) {
            snprintf(err, errlen, "%s does not answer like plucsd", sa.sun_path);
            break;
        }
        if (r == 0) {
            snprintf(err, errlen, "plucsd closed the control connection without an answer");
            break;
        }
    }
    buf_free(&in);
out:
    buf_free(&req);
    close(fd);
    return rc == 1 ? 1 : -1;
}

static void no_daemon(const char *rundir)
{
    fprintf(stderr, "plucs: plucsd is not running (nothing answers on %s/%s)\n", rundir,
            CONTROL_SOCKET_NAME);
}

static void print_lines(FILE *f, const char *prefix, const char *text)
{
    for (const char *p = text; p && *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(f, "%s%.*s\n", prefix, (int)n, p);
        p += n;
        if (*p)
            p++;
    }
}

/* Runs one request and reports "no daemon" / transport errors itself;
 * true when reply was filled. */
static bool ask(const char *registry_path, const char *request, control_reply *reply)
{
    char *rundir = cli_rundir(registry_path);
    if (!rundir)
        return false;
    char err[600];
    int rc = cli_control_request(rundir, request, reply, err, sizeof err);
    if (rc == 0)
        no_daemon(rundir);
    else if (rc < 0)
        fprintf(stderr, "plucs: %s\n", err);
    free(rundir);
    return rc == 1;
}

int cli_status(int argc, char **argv, const char *registry_path)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else {
            fprintf(stderr, "usage: plucs status [--json]\n");
            return CLI_USAGE;
        }
    }
    control_reply reply;
    if (!ask(registry_path, "status", &reply))
        return CLI_FAIL;
    int rc = CLI_OK;
    if (!reply.ok) {
        fprintf(stderr, "plucs: plucsd: %s\n", reply.error);
        rc = CLI_FAIL;
    } else if (json) {
        buf out;
        buf_init(&out);
        control_status_json(reply.body.data ? reply.body.data : "", &out);
        fputs(out.data, stdout);
        buf_free(&out);
    } else {
        fputs(reply.body.data ? reply.body.data : "", stdout);
    }
    control_reply_clear(&reply);
    return rc;
}

int cli_reload(int argc, char **argv, const char *registry_path)
{
    if (argc != 1) {
        fprintf(stderr, "usage: plucs reload\n");
        return CLI_USAGE;
    }
    control_reply reply;
    if (!ask(registry_path, "reload", &reply))
        return CLI_FAIL;
    int rc;
    if (reply.ok) {
        fputs(reply.body.data ? reply.body.data : "", stdout);
        rc = CLI_OK;
    } else {
        fprintf(stderr, "plucs: reload refused: %s\n", reply.error);
        print_lines(stderr, "plucs: ", reply.body.data);
        rc = CLI_FAIL;
    }
    control_reply_clear(&reply);
    return rc;
}

int cli_reload_daemon(const char *rundir)
{
    control_reply reply;
    char err[600];
    int rc = cli_control_request(rundir, "reload", &reply, err, sizeof err);
    if (rc <= 0)
        return 0;        /* nobody there, or not ours to ask: the pid file decides */
    if (reply.ok) {
        fprintf(stderr, "plucs: plucsd reloaded the registry\n");
        rc = 1;
    } else {
        fprintf(stderr, "plucs: written, but plucsd refused the reload: %s\n", reply.error);
        print_lines(stderr, "plucs: ", reply.body.data);
        rc = -1;
    }
    control_reply_clear(&reply);
    return rc;
}
