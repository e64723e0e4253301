/*
 * tools/frame/send.c: `frame send`, nc for frames (client side). poll(2)
 * keeps reading replies while a large frame is still being written, so an
 * echoing peer never deadlocks against us. Each frame leaves in one sendmsg.
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

#include "net.h"

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

