/*
 * tools/frame/listen.c: `frame listen`, nc -l for frames: one connection at
 * a time (TCP) or datagram by datagram (UDP); --echo or a fixed reply.
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

