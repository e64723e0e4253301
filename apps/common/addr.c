/* apps/common/addr.c: see addr.h. */
#define _GNU_SOURCE

#include "addr.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int app_split_hostport(const char *text, char *host, size_t hostcap, char *port, size_t portcap)
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
    if (pl == 0 || pl > 5 || hl >= hostcap || pl >= portcap)
        return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, p, pl + 1);
    return 0;
}

int app_sockaddr_is_loopback(const struct sockaddr *sa)
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

int app_host_is_loopback(const char *host)
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
        if (!app_sockaddr_is_loopback(ai->ai_addr))
            all = 0;
    freeaddrinfo(res);
    return all;
}

int app_addr_name(const struct sockaddr *sa, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    int n;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        if (!inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip))
            return -1;
        n = snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)(const void *)sa;
        if (!inet_ntop(AF_INET6, &in->sin6_addr, ip, sizeof ip))
            return -1;
        n = snprintf(buf, cap, "[%s]:%u", ip, (unsigned)ntohs(in->sin6_port));
    } else {
        return -1;
    }
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int app_addr_key(const struct sockaddr *sa, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        if (!inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip))
            return -1;
    } else if (sa->sa_family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        unsigned char p[16];
        if (memcmp(a, mapped, 12) == 0) {
            if (!inet_ntop(AF_INET, a + 12, ip, sizeof ip))
                return -1;
        } else {
            memcpy(p, a, 8);
            memset(p + 8, 0, 8);
            if (!inet_ntop(AF_INET6, p, ip, sizeof ip - 4))
                return -1;
            strcat(ip, "/64");
        }
    } else {
        return -1;
    }
    if (strlen(ip) >= cap)
        return -1;
    strcpy(buf, ip);
    return 0;
}

int app_check_exposure(const char *what, const char *hostport, int have_tls, int insecure_no_tls)
{
    char host[256], port[16];
    int loop;

    if (app_split_hostport(hostport, host, sizeof host, port, sizeof port) < 0) {
        fprintf(stderr, "%s: %s: bad address %s (want HOST:PORT)\n", app_log_prog(), what, hostport);
        return -1;
    }
    loop = app_host_is_loopback(host);
    if (loop < 0) {
        fprintf(stderr, "%s: %s: cannot resolve %s\n", app_log_prog(), what, host);
        return -1;
    }
    if (loop || have_tls)
        return 0;
    if (!insecure_no_tls) {
        fprintf(stderr,
                "%s: refusing %s %s without TLS: it is not a loopback address, so tokens,\n"
                "passwords and data would cross the network in clear text, readable and\n"
                "alterable by anyone on the path. Give --tls-cert FILE --tls-key FILE, listen\n"
                "on 127.0.0.1, or (on a network you trust) add --insecure-no-tls.\n",
                app_log_prog(), what, hostport);
        return -1;
    }
    fprintf(stderr, "%s: warning: %s %s without TLS (--insecure-no-tls): credentials and data "
                    "travel in clear text\n",
            app_log_prog(), what, hostport);
    return 0;
}

int app_connect_tcp(const char *host, const char *port, char *err, size_t errcap)
{
    struct addrinfo hints, *res, *ai;
    int fd = -1, rc, saved = 0;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errcap, "%s:%s: %s", host, port, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            break;
        }
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errcap, "%s:%s: %s", host, port, strerror(saved));
    return fd;
}
