/* dir_reach.c: a bounded TCP reachability check for ldaps:// servers.
 * libldap 2.5 does the TLS handshake of an ldaps:// connection inside the
 * first operation; with LDAP_OPT_NETWORK_TIMEOUT set it makes the socket
 * non-blocking for the handshake and then spins on EAGAIN (no poll) for as
 * long as the server stays silent -- a hung slapd would stall the directory
 * thread at 100% CPU. So for ldaps:// the handle runs without a network
 * timeout (blocking handshake, bounded by the socket timeouts set in
 * dir_conn.c's connect callback), and this check bounds the TCP connect
 * that libldap then does without a timeout. */
#include "directory/dir_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int try_connect(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return errno;
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            err = errno;
        } else {
            struct pollfd p = { fd, POLLOUT, 0 };
            int n = poll(&p, 1, timeout_ms);
            socklen_t len = sizeof err;
            if (n == 0)
                err = ETIMEDOUT;
            else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = errno;
        }
    }
    close(fd);
    return err;
}

int dir_tcp_reachable(const char *uri, int timeout_s, char *errbuf, size_t errlen)
{
    LDAPURLDesc *lud = NULL;
    if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS) {
        snprintf(errbuf, errlen, "bad LDAP URI");
        return -1;
    }
    char port[16];
    snprintf(port, sizeof port, "%d", lud->lud_port ? lud->lud_port : 636);
    const char *host = lud->lud_host && *lud->lud_host ? lud->lud_host : "localhost";
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC }, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(errbuf, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        ldap_free_urldesc(lud);
        return -1;
    }
    int err = ENOENT;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if ((err = try_connect(ai, timeout_s * 1000)) == 0)
            break;
    freeaddrinfo(res);
    ldap_free_urldesc(lud);
    if (err != 0) {
        snprintf(errbuf, errlen, "Can't contact LDAP server (%s)", strerror(err));
        return -1;
    }
    return 0;
}
