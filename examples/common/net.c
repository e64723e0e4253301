/* Socket helpers for the libframe examples: see net.h. */
#define _POSIX_C_SOURCE 200809L

#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static void set_err(char *err, size_t errcap, const char *host, const char *port, const char *what)
{
    if (err && errcap) {
        int v6 = strchr(host, ':') != NULL;
        snprintf(err, errcap, "%s%s%s:%s: %s", v6 ? "[" : "", *host ? host : "*", v6 ? "]" : "",
                 port, what);
    }
}

int net_split_hostport(const char *text, char *host, size_t hostcap, char *port, size_t portcap)
{
    const char *h = text, *p, *colon;
    size_t hl, pl;

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return -1;
        h = text + 1;
        hl = (size_t)(close - h);
        p = close + 2;
    } else if ((colon = strrchr(text, ':')) != NULL) {
        if (strchr(text, ':') != colon)
            return -1; /* a bare IPv6 address needs brackets */
        hl = (size_t)(colon - text);
        p = colon + 1;
    } else {
        h = "127.0.0.1";
        hl = strlen(h);
        p = text;
    }
    pl = strlen(p);
    if (pl == 0 || hl >= hostcap || pl >= portcap)
        return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, p, pl + 1);
    return 0;
}

static int addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return memcmp(a, one, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
    }
    return 0;
}

int net_host_is_loopback(const char *host)
{
    struct addrinfo hints, *res, *ai;
    int all = 1;

    if (*host == '\0')
        return 0;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return -1;
    for (ai = res; ai; ai = ai->ai_next)
        if (!addr_is_loopback(ai->ai_addr))
            all = 0;
    freeaddrinfo(res);
    return all;
}

int net_set_nonblocking(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, fl) < 0 ? -1 : 0;
}

int net_set_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) ? -1 : 0;
}

int net_set_nodelay(int fd)
{
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int resolve(const char *host, const char *port, int socktype, int passive,
                   struct addrinfo **res, char *err, size_t errcap)
{
    struct addrinfo hints;
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    rc = getaddrinfo(*host ? host : NULL, port, &hints, res);
    if (rc != 0) {
        set_err(err, errcap, host, port, gai_strerror(rc));
        return -1;
    }
    return 0;
}

int net_listen(const char *host, const char *port, int socktype, int backlog, int nonblocking,
               char *err, size_t errcap)
{
    struct addrinfo *res, *ai;
    int fd = -1, saved = 0;

    if (resolve(host, port, socktype, 1, &res, err, errcap) < 0)
        return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (net_set_cloexec(fd) == 0 && (!nonblocking || net_set_nonblocking(fd, 1) == 0) &&
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            (socktype != SOCK_STREAM || listen(fd, backlog) == 0))
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (saved == EADDRINUSE)
            set_err(err, errcap, host, port,
                    "address already in use (is another server running? choose another port)");
        else if (saved == EADDRNOTAVAIL)
            set_err(err, errcap, host, port, "no such local address");
        else
            set_err(err, errcap, host, port, strerror(saved ? saved : EINVAL));
        errno = saved;
    }
    return fd;
}

int net_connect(const char *host, const char *port, int socktype, char *err, size_t errcap)
{
    struct addrinfo *res, *ai;
    int fd = -1, saved = 0;

    if (resolve(host, port, socktype, 0, &res, err, errcap) < 0)
        return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (net_set_cloexec(fd) == 0) {
            int rc;
            do
                rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
            while (rc < 0 && errno == EINTR);
            if (rc == 0)
                break;
        }
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        set_err(err, errcap, host, port, strerror(saved ? saved : EINVAL));
        errno = saved;
        return -1;
    }
    if (socktype == SOCK_STREAM)
        (void)net_set_nodelay(fd);
    return fd;
}

static int name_of(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t cap)
{
    char h[128], p[16];
    int n;

    if (getnameinfo((const struct sockaddr *)(const void *)ss, len, h, sizeof h, p, sizeof p,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return -1;
    n = snprintf(buf, cap, ss->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int net_local_name(int fd, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)(void *)&ss, &len) < 0)
        return -1;
    return name_of(&ss, len, buf, cap);
}

int net_peer_name(int fd, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)(void *)&ss, &len) < 0)
        return -1;
    return name_of(&ss, len, buf, cap);
}

int net_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)(void *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
    return -1;
}

long net_send(int fd, const void *data, size_t len, int flags)
{
    const char *p = data;
    size_t done = 0;
    int use_send = 1;

    while (done < len) {
        ssize_t n = use_send ? send(fd, p + done, len - done, flags | MSG_NOSIGNAL)
                             : write(fd, p + done, len - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == ENOTSOCK && use_send) {
            use_send = 0;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            return -1;
        }
    }
    return (long)done;
}

long net_fd_write(void *ctx, const void *data, size_t len)
{
    return net_send(*(const int *)ctx, data, len, 0);
}

int net_write_all(int fd, const void *data, size_t len)
{
    return net_fd_write(&fd, data, len) == (long)len ? 0 : -1;
}

long net_raise_nofile(long want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    if (want > 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want) {
        rlim_t target = (rlim_t)want;
        if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
            target = rl.rlim_max;
        if (target > rl.rlim_cur) {
            rl.rlim_cur = target;
            (void)setrlimit(RLIMIT_NOFILE, &rl);
            if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -1;
        }
    }
    return rl.rlim_cur == RLIM_INFINITY ? (long)want : (long)rl.rlim_cur;
}
