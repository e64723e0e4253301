/*
 * tools/frame/net.c: what `frame send` and `frame listen` share: addresses
 * (IPv4, [IPv6], names), sockets with clear messages for refused, unreachable
 * and address-in-use, and what is done with each frame that arrives.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

/* ---- addresses --------------------------------------------------------- */

/* "HOST:PORT", "[IPv6]:PORT", "PORT" (host 127.0.0.1), ":PORT" (every
 * interface: host ""). Returns 0 or EXIT_USAGE after a message. */
int split_addr(const char *text, char *host, size_t hcap, char *port, size_t pcap) {
    const char *colon = strrchr(text, ':');
    size_t hlen;
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (!end || end[1] != ':' || !end[2]) goto bad;
        hlen = (size_t)(end - text - 1);
        if (hlen >= hcap || strlen(end + 2) >= pcap) goto bad;
        memcpy(host, text + 1, hlen);
        host[hlen] = 0;
        strcpy(port, end + 2);
        return 0;
    }
    if (!colon) {
        if (strlen(text) >= pcap || !*text) goto bad;
        strcpy(host, "127.0.0.1");
        strcpy(port, text);
        return 0;
    }
    if (strchr(text, ':') != colon) {
        fail("\"%s\": write an IPv6 address in brackets, e.g. [::1]:9000", text);
        return EXIT_USAGE;
    }
    hlen = (size_t)(colon - text);
    if (hlen >= hcap || strlen(colon + 1) >= pcap || !colon[1]) goto bad;
    memcpy(host, text, hlen);
    host[hlen] = 0;
    strcpy(port, colon + 1);
    return 0;
bad:
    fail("\"%s\" is not an address: write HOST:PORT, [IPv6]:PORT or PORT", text);
    return EXIT_USAGE;
}

void addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap) {
    char h[NI_MAXHOST], s[NI_MAXSERV];
    if (getnameinfo(sa, len, h, sizeof h, s, sizeof s, NI_NUMERICHOST | NI_NUMERICSERV)) {
        snprintf(buf, cap, "?");
        return;
    }
    snprintf(buf, cap, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, s);
}

/* What an errno means for a user of send/listen. */
const char *net_reason(int e) {
    switch (e) {
    case ECONNREFUSED: return "connection refused (is anything listening on that port?)";
    case ENETUNREACH: return "network unreachable";
    case EHOSTUNREACH: return "host unreachable";
    case ETIMEDOUT: return "timed out";
    case EADDRINUSE: return "address already in use (another program is listening there: stop it or pick another port)";
    case EADDRNOTAVAIL: return "address not available on this machine";
    case EACCES: return "permission denied (ports below 1024 need privileges)";
    case ECONNRESET: return "connection reset by the peer";
    case EPIPE: return "the peer closed the connection";
    case EMSGSIZE: return "message too long for one datagram";
    default: return strerror(e);
    }
}

static int resolve(const char *host, const char *port, int dgram, int passive, struct addrinfo **res) {
    struct addrinfo hints;
    int e;
    memset(&hints, 0, sizeof hints);
    /* Every interface: IPv6 first, made dual-stack by listen_on. */
    hints.ai_family = passive && !*host ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = dgram ? SOCK_DGRAM : SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    e = getaddrinfo(*host ? host : NULL, port, &hints, res);
    if (e && hints.ai_family == AF_INET6) { /* no IPv6 here */
        hints.ai_family = AF_UNSPEC;
        e = getaddrinfo(NULL, port, &hints, res);
    }
    if (e) {
        fail("cannot resolve %s%s%s: %s", *host ? host : "*", ":", port, gai_strerror(e));
        return EXIT_IO;
    }
    return 0;
}

int wait_fd(int fd, short events, int timeout_ms) {
    struct pollfd pfd;
    int rc;
    pfd.fd = fd;
    pfd.events = events;
    do rc = poll(&pfd, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    return rc;
}

/* A connected, non-blocking socket, or -1 after a message. */
int connect_to(const char *host, const char *port, int dgram, int timeout_ms, char *name, size_t ncap) {
    struct addrinfo *res, *ai;
    int fd = -1, last = 0;
    if (resolve(host, port, dgram, 0, &res)) return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        int rc, soerr = 0;
        socklen_t sl = sizeof soerr;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        addr_text(ai->ai_addr, ai->ai_addrlen, name, ncap);
        rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            rc = wait_fd(fd, POLLOUT, timeout_ms);
            if (rc == 0) {
                soerr = ETIMEDOUT;
            } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
                soerr = errno;
            }
            rc = soerr ? -1 : 0;
            errno = soerr;
        }
        if (rc == 0) break;
        last = errno;
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        fail("cannot connect to %s (%s): %s", name[0] ? name : host, dgram ? "udp" : "tcp", net_reason(last));
    } else if (!dgram) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    freeaddrinfo(res);
    return fd;
}

/* A bound (and, for TCP, listening) blocking socket, or -1 after a message. */
int listen_on(const char *host, const char *port, int dgram) {
    struct addrinfo *res, *ai;
    int fd = -1, last = 0;
    char name[NI_MAXHOST + NI_MAXSERV + 4] = "";
    if (resolve(host, port, dgram, 1, &res)) return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        addr_text(ai->ai_addr, ai->ai_addrlen, name, sizeof name);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6 && !*host) {
            int off = 0; /* IPv4 too */
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && (dgram || listen(fd, 16) == 0)) break;
        last = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fail("cannot listen on %s (%s): %s", name[0] ? name : port, dgram ? "udp" : "tcp", net_reason(last));
        return -1;
    }
    {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) addr_text((struct sockaddr *)&ss, sl, name, sizeof name);
        fprintf(stderr, "%s: listening on %s (%s)\n", prog_name, name, dgram ? "udp" : "tcp");
        fflush(stderr);
    }
    return fd;
}

/* ---- replies and what arrives ---------------------------------------------------- */

/* Writes a prefix of width w holding v. */
static size_t put_prefix(unsigned char *out, const frame_config *cfg, uint64_t v) {
    unsigned w = cfg->prefix_width ? cfg->prefix_width : 4, i;
    for (i = 0; i < w; i++) out[i] = (unsigned char)(v >> (8 * (cfg->big_endian ? w - 1 - i : i)));
    return w;
}


static int append(session *s, const void *data, size_t len) {
    if (!len) return 0; /* data may be NULL (an empty body) */
    if (s->out_len + len > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap : 65536;
        unsigned char *b;
        while (cap < s->out_len + len) cap *= 2;
        b = realloc(s->out, cap);
        if (!b) return -1;
        s->out = b;
        s->out_cap = cap;
    }
    memcpy(s->out + s->out_len, data, len);
    s->out_len += len;
    return 0;
}

/* A frame arrived: print it, and queue the answer (listen). */
int arrived(reader *r, void *ctx) {
    session *s = ctx;
    size_t start = s->out_len;
    show_json_line(stdout, r, s->body_mode);
    fflush(stdout);
    if (ferror(stdout)) {
        fail("cannot write stdout: %s", strerror(errno));
        return -1;
    }
    if (s->echo) {
        /* The same frame: prefix, header object (white space around it
         * becomes trailing spaces: same length), body. */
        unsigned char prefix[8];
        size_t i, pad = r->p->cfg.raw ? 0 : (size_t)r->hlen - r->header_len;
        if (append(s, prefix, put_prefix(prefix, &r->p->cfg, r->p->cfg.raw ? r->body_size : r->hlen)) ||
            append(s, r->header, r->header_len))
            goto oom;
        for (i = 0; i < pad; i++)
            if (append(s, " ", 1)) goto oom;
        if (append(s, r->body, r->body_len)) goto oom;
    } else if (s->reply_head) {
        if (append(s, s->reply_head, s->reply_head_len) || append(s, s->reply_body, s->reply_body_len)) goto oom;
    }
    s->dgram_reply = s->out + start;
    s->dgram_reply_len = s->out_len - start;
    return 0;
oom:
    fail("out of memory for a reply");
    return -1;
}

long elapsed_ms(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

