/*
 * tools/frame/net.c: `frame send` and `frame listen`, nc for frames over TCP
 * or UDP (--datagram), IPv4 and IPv6. One connection at a time; poll(2)
 * keeps reading replies while a large frame is still being written, so an
 * echoing peer never deadlocks against us.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#include "tool.h"

#define DGRAM_MAX 65536

/* ---- addresses --------------------------------------------------------- */

/* "HOST:PORT", "[IPv6]:PORT", "PORT" (host 127.0.0.1), ":PORT" (every
 * interface: host ""). Returns 0 or EXIT_USAGE after a message. */
static int split_addr(const char *text, char *host, size_t hcap, char *port, size_t pcap) {
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

static void addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap) {
    char h[NI_MAXHOST], s[NI_MAXSERV];
    if (getnameinfo(sa, len, h, sizeof h, s, sizeof s, NI_NUMERICHOST | NI_NUMERICSERV)) {
        snprintf(buf, cap, "?");
        return;
    }
    snprintf(buf, cap, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, s);
}

/* What an errno means for a user of send/listen. */
static const char *net_reason(int e) {
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

static int wait_fd(int fd, short events, int timeout_ms) {
    struct pollfd pfd;
    int rc;
    pfd.fd = fd;
    pfd.events = events;
    do rc = poll(&pfd, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    return rc;
}

/* A connected, non-blocking socket, or -1 after a message. */
static int connect_to(const char *host, const char *port, int dgram, int timeout_ms, char *name, size_t ncap) {
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
static int listen_on(const char *host, const char *port, int dgram) {
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

/* ---- frames to send -------------------------------------------------------- */

typedef struct outframe {
    unsigned char *head, *body;
    size_t head_len, body_len;
} outframe;

typedef struct outq {
    outframe *v;
    size_t n, cap;
    size_t cur;  /* frame being written */
    size_t done; /* its octets written */
} outq;

static int outq_add(outq *q, unsigned char *head, size_t hl, unsigned char *body, size_t bl) {
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        outframe *v = realloc(q->v, cap * sizeof *v);
        if (!v) return -1;
        q->v = v;
        q->cap = cap;
    }
    q->v[q->n].head = head;
    q->v[q->n].head_len = hl;
    q->v[q->n].body = body;
    q->v[q->n].body_len = bl;
    q->n++;
    return 0;
}

/* Writes as much of the queue as the socket takes: each frame's head and
 * body go in one sendmsg (a datagram: exactly one). Returns 0, or -1 with
 * errno set. */
static int outq_send(int fd, outq *q, int dgram, int progress) {
    while (q->cur < q->n) {
        outframe *f = &q->v[q->cur];
        struct iovec iov[2];
        struct msghdr msg;
        size_t total = f->head_len + f->body_len, skip = q->done;
        ssize_t w;
        int n = 0;
        if (skip < f->head_len) {
            iov[n].iov_base = f->head + skip;
            iov[n++].iov_len = f->head_len - skip;
            skip = 0;
        } else {
            skip -= f->head_len;
        }
        if (f->body_len > skip) {
            iov[n].iov_base = f->body + skip;
            iov[n++].iov_len = f->body_len - skip;
        }
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)n;
        w = n ? sendmsg(fd, &msg, MSG_NOSIGNAL) : 0;
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            return -1;
        }
        q->done += (size_t)w;
        if (progress && f->body_len > PROGRESS_MIN) progress_show("sending", q->done, total);
        if (dgram || q->done >= total) {
            if (progress && f->body_len > PROGRESS_MIN) progress_clear();
            q->cur++;
            q->done = 0;
        }
    }
    return 0;
}

/* Writes a prefix of width w holding v. */
static size_t put_prefix(unsigned char *out, const frame_config *cfg, uint64_t v) {
    unsigned w = cfg->prefix_width ? cfg->prefix_width : 4, i;
    for (i = 0; i < w; i++) out[i] = (unsigned char)(v >> (8 * (cfg->big_endian ? w - 1 - i : i)));
    return w;
}

/* ---- replies and what arrives ---------------------------------------------------- */

typedef struct session {
    const params *p;
    int body_mode;
    /* listen: the answer to each frame */
    int echo;
    const unsigned char *reply_head, *reply_body;
    size_t reply_head_len, reply_body_len;
    unsigned char *out; /* queued replies (TCP) */
    size_t out_len, out_cap, out_done;
    unsigned char *dgram_reply; /* the reply to the datagram just decoded (UDP) */
    size_t dgram_reply_len;
} session;

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
static int arrived(reader *r, void *ctx) {
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

static long elapsed_ms(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* ---- frame send ----------------------------------------------------------------- */

static const char send_help[] =
    "usage: frame send HOST:PORT [OPTIONS] [FILE]\n"
    "\n"
    "Connects (TCP, or UDP with --datagram) and sends frames made like `frame encode`\n"
    "(body from FILE or stdin), or with --stream the stream read from FILE or stdin as\n"
    "it is; then prints the replies like `frame decode`. TCP: after sending, the\n"
    "write side is shut down and replies are read until the peer closes, --replies\n"
    "have arrived or --timeout passes. HOST may be a name, an IPv4 address or an\n"
    "[IPv6] address. A progress bar is shown on a terminal for bodies over 1 MiB.\n"
    "\n" MEMBER_OPTIONS_HELP
    "  -n, --count COUNT     send the frame COUNT times (default 1)\n"
    "  --empty               an empty body; stdin is not read\n"
    "  --stream              send FILE or stdin as it is (a stream of frames; with\n"
    "                        --datagram it is split into one datagram per frame)\n"
    "  --replies N           stop after N reply frames\n"
    "  --timeout SECONDS     give up when nothing happens for this long (default 10;\n"
    "                        UDP without --replies: wait this long for replies, default 1)\n"
    "\n" DECODE_OUTPUT_HELP
    "\n" COMMON_HELP;

typedef struct send_opts {
    uint64_t count, replies;
    int stream, empty, replies_set, timeout_set;
    double timeout;
} send_opts;

static int send_tcp(int fd, const char *name, outq *q, reader *r, const send_opts *o) {
    static unsigned char buf[1 << 16];
    int progress = isatty(2), shut = 0, eof = 0, rc = 0;
    int timeout_ms = (int)(o->timeout * 1000);
    struct timespec idle;
    clock_gettime(CLOCK_MONOTONIC, &idle);
    for (;;) {
        struct pollfd pfd;
        int all_sent = q->cur >= q->n, n;
        if (all_sent && !shut) {
            shutdown(fd, SHUT_WR);
            shut = 1;
        }
        if (all_sent && (eof || (o->replies_set && r->frames >= o->replies))) break;
        pfd.fd = fd;
        pfd.events = (short)((eof ? 0 : POLLIN) | (all_sent ? 0 : POLLOUT));
        n = poll(&pfd, 1, timeout_ms - (int)elapsed_ms(&idle) > 0 ? timeout_ms - (int)elapsed_ms(&idle) : 0);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {
            fail("%s: nothing happened for %g s (%llu of %llu frames sent, %llu replies)%s", name, o->timeout,
                 (unsigned long long)q->cur, (unsigned long long)q->n, (unsigned long long)r->frames,
                 all_sent ? "; use --replies N or --timeout" : "");
            return EXIT_IO;
        }
        clock_gettime(CLOCK_MONOTONIC, &idle);
        if (!all_sent && (pfd.revents & (POLLOUT | POLLERR | POLLHUP)) && outq_send(fd, q, 0, progress) < 0) {
            fail("%s: cannot send: %s", name, net_reason(errno));
            return EXIT_IO;
        }
        if (!eof && (pfd.revents & (POLLIN | POLLERR | POLLHUP))) {
            ssize_t got = recv(fd, buf, sizeof buf, 0);
            frame_errno err;
            if (got < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                fail("%s: cannot receive: %s", name, net_reason(errno));
                return EXIT_IO;
            }
            if (got == 0) {
                eof = 1;
                err = reader_finish(r);
                if (!all_sent) {
                    fail("%s: the peer closed the connection before everything was sent", name);
                    return EXIT_IO;
                }
            } else {
                err = reader_feed(r, buf, (size_t)got);
            }
            if (err) {
                reader_report(r, err, name);
                return r->io_failed ? EXIT_IO : EXIT_BAD;
            }
        }
    }
    return rc;
}

static int send_udp(int fd, const char *name, outq *q, reader *r, const send_opts *o) {
    static unsigned char buf[DGRAM_MAX];
    int timeout_ms = (int)((o->timeout_set ? o->timeout : o->replies_set ? 10.0 : 1.0) * 1000), bad = 0;
    struct timespec idle;
    while (q->cur < q->n) {
        if (outq_send(fd, q, 1, 0) < 0) {
            fail("%s: cannot send a datagram of %zu octets: %s", name,
                 q->v[q->cur].head_len + q->v[q->cur].body_len, net_reason(errno));
            return EXIT_IO;
        }
        if (q->cur < q->n) wait_fd(fd, POLLOUT, timeout_ms);
    }
    clock_gettime(CLOCK_MONOTONIC, &idle);
    while (!(o->replies_set && r->frames >= o->replies)) {
        long left = timeout_ms - elapsed_ms(&idle);
        ssize_t got;
        frame_errno err;
        if (left <= 0 || wait_fd(fd, POLLIN, (int)left) == 0) {
            if (!o->replies_set) return bad;
            fail("%s: %llu of %llu replies arrived within %g s", name, (unsigned long long)r->frames,
                 (unsigned long long)o->replies, timeout_ms / 1000.0);
            return EXIT_IO;
        }
        got = recv(fd, buf, sizeof buf, MSG_TRUNC);
        if (got < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            fail("%s: cannot receive: %s", name, net_reason(errno));
            return EXIT_IO;
        }
        clock_gettime(CLOCK_MONOTONIC, &idle);
        err = reader_datagram(r, buf, (size_t)got > sizeof buf ? sizeof buf : (size_t)got);
        if (err) {
            reader_report(r, err, name);
            if (r->io_failed) return EXIT_IO;
            bad = EXIT_BAD;
            reader_reset(r);
        }
    }
    return bad;
}

typedef struct splitter {
    outq *q;
    unsigned char *data;
} splitter;

static int split_frame(reader *r, void *ctx) {
    splitter *s = ctx;
    uint64_t end = frame_decoder_offset(&r->dec);
    return outq_add(s->q, s->data + r->start, (size_t)(end - r->start), NULL, 0);
}

int cmd_send(int argc, char **argv) {
    static const struct option longopts[] = {
        {"header", 1, NULL, 'H'},   {"member", 1, NULL, 'm'}, {"string", 1, NULL, 's'},
        {"json", 1, NULL, 'j'},     {"count", 1, NULL, 'n'},  {"empty", 0, NULL, 'e'},
        {"stream", 0, NULL, 'S'},   {"replies", 1, NULL, 'R'}, {"timeout", 1, NULL, 't'},
        {"body", 1, NULL, 'b'},     {"bodies", 1, NULL, 'B'}, COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    params p;
    members *m = members_new();
    send_opts o;
    session s;
    reader r;
    outq q;
    const char *dir = NULL;
    unsigned char *body = NULL, *head = NULL;
    size_t body_len = 0, head_len = 0;
    char host[256], port[64], name[NI_MAXHOST + NI_MAXSERV + 4] = "";
    int c, rc = 0, fd = -1, reader_ok = 0;
    uint64_t i;
    params_init(&p);
    memset(&o, 0, sizeof o);
    memset(&s, 0, sizeof s);
    memset(&q, 0, sizeof q);
    o.count = 1;
    o.timeout = 10;
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "H:m:s:j:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': case 'm': case 's': case 'j': rc = members_option(m, c, optarg); break;
        case 'n':
        case 'R':
            if (parse_u64(optarg, c == 'n' ? &o.count : &o.replies)) {
                fail("%s wants a count, not \"%s\"", c == 'n' ? "-n" : "--replies", optarg);
                rc = EXIT_USAGE;
            }
            if (c == 'R') o.replies_set = 1;
            break;
        case 't':
            o.timeout = strtod(optarg, NULL);
            o.timeout_set = 1;
            if (!(o.timeout > 0 && o.timeout < 1e6)) {
                fail("--timeout wants seconds, not \"%s\"", optarg);
                rc = EXIT_USAGE;
            }
            break;
        case 'e': o.empty = 1; break;
        case 'S': o.stream = 1; break;
        case 'b': rc = decode_options(&s.body_mode, optarg); break;
        case 'B': dir = optarg; break;
        case 'h': fputs(send_help, stdout); members_free(m); return EXIT_OKAY;
        case '?': rc = EXIT_USAGE; break;
        default: rc = params_option(&p, c, optarg); break;
        }
    }
    if (!rc && (argc - optind < 1 || argc - optind > 2)) {
        fail("send wants HOST:PORT and at most one FILE (see frame send --help)");
        rc = EXIT_USAGE;
    }
    if (!rc && o.stream && members_count(m)) {
        fail("--stream sends the input as it is: -H/-m/-s/-j do not apply");
        rc = EXIT_USAGE;
    }
    if (!rc) rc = params_check(&p);
    if (!rc) rc = split_addr(argv[optind], host, sizeof host, port, sizeof port);
    s.p = &p;
    if (!rc) rc = reader_init(&r, &p, arrived, &s);
    if (!rc) {
        reader_ok = 1;
        r.keep_body = s.body_mode != BODY_NONE;
        r.bodies_dir = dir;
        r.progress = isatty(2);
    }
    if (!rc && !o.empty) rc = read_all(optind + 1 < argc ? argv[optind + 1] : NULL, &body, &body_len);
    if (!rc && o.stream && p.datagram) {
        /* one datagram per frame of the stream */
        reader split;
        splitter sp;
        frame_errno err;
        sp.q = &q;
        sp.data = body;
        rc = reader_init(&split, &p, split_frame, &sp);
        if (!rc) {
            err = reader_feed(&split, body, body_len);
            if (!err) err = reader_finish(&split);
            if (err) {
                reader_report(&split, err, "--stream");
                rc = EXIT_BAD;
            }
            reader_free(&split);
        }
    } else if (!rc && o.stream) {
        if (outq_add(&q, body, body_len, NULL, 0)) rc = EXIT_IO;
    } else if (!rc) {
        rc = build_head(m, &p.cfg, body_len, &head, &head_len);
        for (i = 0; !rc && i < o.count; i++)
            if (outq_add(&q, head, head_len, body, body_len)) {
                fail("out of memory");
                rc = EXIT_IO;
            }
    }
    if (!rc) {
        fd = connect_to(host, port, p.datagram, (int)(o.timeout * 1000), name, sizeof name);
        if (fd < 0) rc = EXIT_IO;
    }
    if (!rc) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        rc = p.datagram ? send_udp(fd, name, &q, &r, &o) : send_tcp(fd, name, &q, &r, &o);
    }
    if (fd >= 0) close(fd);
    if (reader_ok) reader_free(&r);
    free(q.v);
    free(head);
    free(body);
    members_free(m);
    return rc;
}

/* ---- frame listen ------------------------------------------------------------------ */

static const char listen_help[] =
    "usage: frame listen [HOST:]PORT [OPTIONS]\n"
    "\n"
    "Listens (TCP, or UDP with --datagram) and prints each frame that arrives like\n"
    "`frame decode`; answers each one with the same frame (--echo) or with a fixed\n"
    "reply made from -H/-m/-s/-j and --reply-body/--reply-file. PORT alone listens\n"
    "on 127.0.0.1; :PORT on every interface (IPv6 and IPv4); [::1]:PORT on IPv6.\n"
    "Port 0 picks a free port; stderr says which\n"
    "(\"frame: listening on 127.0.0.1:40123 (tcp)\").\n"
    "Connections are served one at a time; a bad stream is reported on stderr and\n"
    "its connection closed.\n"
    "\n"
    "  --echo                answer each frame with the same frame\n" MEMBER_OPTIONS_HELP
    "  --reply-body TEXT     the fixed reply's body\n"
    "  --reply-file FILE     the fixed reply's body, from FILE\n"
    "  --once                exit after the first connection (TCP) or datagram (UDP)\n"
    "  --frames N            exit after N frames\n"
    "\n" DECODE_OUTPUT_HELP
    "\n" COMMON_HELP;

typedef struct listen_opts {
    int once, frames_set;
    uint64_t frames;
} listen_opts;

/* Serves one TCP connection. Returns 0, EXIT_BAD or EXIT_IO. */
static int serve(int fd, const char *peer, reader *r, session *s, const listen_opts *o, uint64_t *total) {
    static unsigned char buf[1 << 16];
    int eof = 0, rc = 0;
    uint64_t before = r->frames;
    s->out_len = s->out_done = 0;
    reader_reset(r);
    for (;;) {
        struct pollfd pfd;
        int pending = s->out_done < s->out_len, n;
        if (o->frames_set && *total + r->frames - before >= o->frames) eof = 1;
        if (eof && !pending) break;
        pfd.fd = fd;
        pfd.events = (short)((eof ? 0 : POLLIN) | (pending ? POLLOUT : 0));
        n = poll(&pfd, 1, eof ? 30000 : -1);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {
            fail("%s: the peer reads no replies (30 s); closing", peer);
            rc = EXIT_IO;
            break;
        }
        if (pending && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send(fd, s->out + s->out_done, s->out_len - s->out_done, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                fail("%s: cannot send a reply: %s", peer, net_reason(errno));
                rc = EXIT_IO;
                break;
            }
            if (w > 0) s->out_done += (size_t)w;
            if (s->out_done == s->out_len) s->out_len = s->out_done = 0;
        }
        if (!eof && (pfd.revents & (POLLIN | POLLERR | POLLHUP))) {
            ssize_t got = recv(fd, buf, sizeof buf, 0);
            frame_errno err;
            if (got < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                fail("%s: cannot receive: %s", peer, net_reason(errno));
                rc = EXIT_IO;
                break;
            }
            if (got == 0) {
                eof = 1;
                err = reader_finish(r);
            } else {
                err = reader_feed(r, buf, (size_t)got);
            }
            if (err) {
                reader_report(r, err, peer);
                rc = r->io_failed ? EXIT_IO : EXIT_BAD;
                eof = 1; /* no resynchronisation (SPEC 9.1): answer what came, then close */
            }
        }
    }
    *total += r->frames - before;
    return rc;
}

static int listen_tcp(int lfd, reader *r, session *s, const listen_opts *o) {
    uint64_t total = 0;
    int rc = 0;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        char peer[NI_MAXHOST + NI_MAXSERV + 4];
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            fail("cannot accept a connection: %s", strerror(errno));
            return EXIT_IO;
        }
        addr_text((struct sockaddr *)&ss, sl, peer, sizeof peer);
        fprintf(stderr, "%s: connection from %s\n", prog_name, peer);
        uint64_t before = total;
        rc = serve(fd, peer, r, s, o, &total);
        close(fd);
        fprintf(stderr, "%s: %s closed, %llu frame%s\n", prog_name, peer, (unsigned long long)(total - before),
                total - before == 1 ? "" : "s");
        if (o->once || (o->frames_set && total >= o->frames)) return rc;
    }
}

static int listen_udp(int fd, reader *r, session *s, const listen_opts *o) {
    static unsigned char buf[DGRAM_MAX];
    uint64_t total = 0;
    int rc = 0;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        char peer[NI_MAXHOST + NI_MAXSERV + 4];
        frame_errno err;
        ssize_t got = recvfrom(fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&ss, &sl);
        if (got < 0) {
            if (errno == EINTR) continue;
            fail("cannot receive: %s", strerror(errno));
            return EXIT_IO;
        }
        addr_text((struct sockaddr *)&ss, sl, peer, sizeof peer);
        s->out_len = 0;
        s->dgram_reply_len = 0;
        err = reader_datagram(r, buf, (size_t)got > sizeof buf ? sizeof buf : (size_t)got);
        if (err) {
            reader_report(r, err, peer);
            if (r->io_failed) return EXIT_IO;
            rc = EXIT_BAD;
            reader_reset(r);
        } else {
            total++;
            if (s->dgram_reply_len &&
                sendto(fd, s->dgram_reply, s->dgram_reply_len, 0, (struct sockaddr *)&ss, sl) < 0)
                fail("%s: cannot send a reply of %zu octets: %s", peer, s->dgram_reply_len, net_reason(errno));
        }
        if (o->once || (o->frames_set && total >= o->frames)) return rc;
    }
}

int cmd_listen(int argc, char **argv) {
    static const struct option longopts[] = {
        {"header", 1, NULL, 'H'},     {"member", 1, NULL, 'm'},     {"string", 1, NULL, 's'},
        {"json", 1, NULL, 'j'},       {"echo", 0, NULL, 'E'},       {"reply-body", 1, NULL, 'y'},
        {"reply-file", 1, NULL, 'Y'}, {"once", 0, NULL, '1'},       {"frames", 1, NULL, 'N'},
        {"body", 1, NULL, 'b'},       {"bodies", 1, NULL, 'B'},     COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    params p;
    members *m = members_new();
    listen_opts o;
    session s;
    reader r;
    const char *dir = NULL, *reply_text = NULL, *reply_file = NULL;
    unsigned char *reply_body = NULL, *reply_head = NULL;
    size_t reply_body_len = 0, reply_head_len = 0;
    char host[256], port[64];
    int c, rc = 0, fd = -1, reader_ok = 0;
    params_init(&p);
    memset(&o, 0, sizeof o);
    memset(&s, 0, sizeof s);
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "H:m:s:j:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': case 'm': case 's': case 'j': rc = members_option(m, c, optarg); break;
        case 'E': s.echo = 1; break;
        case 'y': reply_text = optarg; break;
        case 'Y': reply_file = optarg; break;
        case '1': o.once = 1; break;
        case 'N':
            o.frames_set = 1;
            if (parse_u64(optarg, &o.frames) || !o.frames) {
                fail("--frames wants a positive count, not \"%s\"", optarg);
                rc = EXIT_USAGE;
            }
            break;
        case 'b': rc = decode_options(&s.body_mode, optarg); break;
        case 'B': dir = optarg; break;
        case 'h': fputs(listen_help, stdout); members_free(m); return EXIT_OKAY;
        case '?': rc = EXIT_USAGE; break;
        default: rc = params_option(&p, c, optarg); break;
        }
    }
    if (!rc && argc - optind != 1) {
        fail("listen wants one [HOST:]PORT (see frame listen --help)");
        rc = EXIT_USAGE;
    }
    if (!rc && s.echo && (members_count(m) || reply_text || reply_file)) {
        fail("--echo and a fixed reply exclude each other");
        rc = EXIT_USAGE;
    }
    if (!rc && reply_text && reply_file) {
        fail("--reply-body and --reply-file exclude each other");
        rc = EXIT_USAGE;
    }
    if (!rc) rc = params_check(&p);
    if (!rc) rc = split_addr(argv[optind], host, sizeof host, port, sizeof port);
    if (!rc && reply_file) rc = read_all(reply_file, &reply_body, &reply_body_len);
    if (!rc && reply_text) {
        reply_body_len = strlen(reply_text);
        reply_body = malloc(reply_body_len + 1);
        if (reply_body) memcpy(reply_body, reply_text, reply_body_len + 1);
        else rc = EXIT_IO;
    }
    if (!rc && (members_count(m) || reply_text || reply_file)) {
        rc = build_head(m, &p.cfg, reply_body_len, &reply_head, &reply_head_len);
        s.reply_head = reply_head;
        s.reply_head_len = reply_head_len;
        s.reply_body = reply_body;
        s.reply_body_len = reply_body_len;
    }
    s.p = &p;
    if (!rc) rc = reader_init(&r, &p, arrived, &s);
    if (!rc) {
        reader_ok = 1;
        r.keep_body = s.body_mode != BODY_NONE || s.echo;
        r.bodies_dir = dir;
        r.progress = isatty(2);
        fd = listen_on(host, port, p.datagram);
        if (fd < 0) rc = EXIT_IO;
    }
    if (!rc) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        rc = p.datagram ? listen_udp(fd, &r, &s, &o) : listen_tcp(fd, &r, &s, &o);
    }
    if (fd >= 0) close(fd);
    if (reader_ok) reader_free(&r);
    free(s.out);
    free(reply_head);
    free(reply_body);
    members_free(m);
    return rc;
}
