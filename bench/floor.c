/* bench/floor.c: the floor of the comparison. A minimal epoll program that
 * forwards bytes between pairs of loopback connections (accepted
 * connections 2k and 2k+1 are partners) with one read and one write per
 * readable socket and no parsing at all: what moving the same message bytes
 * through one process costs on this machine, the limit no XMPP server can
 * beat. plucs-bench --raw drives it with the same stanzas it sends to the
 * servers.  usage: plucs-floor PORT [ADDRESS]  (prints "listening" when up) */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 1048576

struct fwd {
    int peer;
    char *pend;      /* bytes the peer did not take yet */
    size_t npend;
};
static struct fwd *F;

static void drop(int ep, int fd)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(F[fd].pend);
    F[fd].pend = NULL;
    F[fd].npend = 0;
    int p = F[fd].peer;
    F[fd].peer = -1;
    if (p >= 0 && F[p].peer == fd)
        F[p].peer = -1;
}

/* Writes buf to fd's peer; what does not fit waits in the peer's pend. */
static void forward(int ep, int fd, const char *buf, size_t n)
{
    int p = F[fd].peer;
    if (p < 0)
        return;
    ssize_t w = 0;
    if (!F[p].npend) {
        w = write(p, buf, n);
        if (w < 0 && errno != EAGAIN)
            return;
        if (w < 0)
            w = 0;
    }
    if ((size_t)w < n) {
        char *np = realloc(F[p].pend, F[p].npend + n - (size_t)w);
        if (!np)
            return;
        memcpy(np + F[p].npend, buf + w, n - (size_t)w);
        F[p].pend = np;
        F[p].npend += n - (size_t)w;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.fd = p };
        epoll_ctl(ep, EPOLL_CTL_MOD, p, &ev);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: plucs-floor PORT [ADDRESS]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    F = calloc(MAXFD, sizeof *F);
    for (int i = 0; i < MAXFD; i++)
        F[i].peer = -1;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
    inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.1", &a.sin_addr);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
        perror("plucs-floor");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls };
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    printf("listening\n");
    fflush(stdout);
    int waiting = -1; /* accepted, no partner yet */
    static char buf[65536];
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= MAXFD) {
                        close(c);
                        continue;
                    }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ce = { .events = EPOLLIN, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                    if (waiting < 0) {
                        waiting = c;
                    } else {
                        F[c].peer = waiting;
                        F[waiting].peer = c;
                        waiting = -1;
                    }
                }
                continue;
            }
            if (evs[i].events & EPOLLOUT && F[fd].npend) {
                ssize_t w = write(fd, F[fd].pend, F[fd].npend);
                if (w > 0) {
                    memmove(F[fd].pend, F[fd].pend + w, F[fd].npend - (size_t)w);
                    F[fd].npend -= (size_t)w;
                }
                if (!F[fd].npend) {
                    struct epoll_event ce = { .events = EPOLLIN, .data.fd = fd };
                    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ce);
                }
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = read(fd, buf, sizeof buf);
                if (r > 0) {
                    forward(ep, fd, buf, (size_t)r);
                } else if (r == 0 || errno != EAGAIN) {
                    if (waiting == fd)
                        waiting = -1;
                    drop(ep, fd);
                }
            }
        }
    }
}
