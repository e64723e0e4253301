/*
 * frame-udp-demo: why a byte stream needs framing, and what framing does on
 * datagrams. On 127.0.0.1 it sends the same burst of seven messages four ways
 * and prints what each receiver got:
 *
 *   (a) TCP, plain send()/recv()       messages run together and split apart
 *   (b) TCP, libframe                  every message intact
 *   (c) UDP, plain send()/recv()       boundaries kept, but a datagram larger
 *                                      than the receive buffer is cut short
 *                                      and one over 65,507 bytes is refused
 *   (d) UDP, libframe                  one frame per datagram; the cut one is
 *                                      reported (DATAGRAM_TRUNCATED), not used
 *
 * usage: frame-udp-demo [--json]     (--json: the same figures, for tests)
 *
 * Single-threaded: senders are non-blocking and the receiver reads whenever
 * the sender cannot go on, so no burst size can deadlock the demo.
 */
#define _POSIX_C_SOURCE 200809L

#include "frame.h"
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define NMSG 7
#define TCP_READ 4096 /* the receivers' buffers: a typical size for a read */
#define UDP_READ 8192
#define MAX_READS 4096

static const size_t SIZES[NMSG] = {5, 1200, 1, 20000, 100, 70000, 3};
static unsigned char *MSG[NMSG];

typedef struct result {
    const char *title;
    int refused;   /* sends the kernel refused */
    int calls;     /* receive calls that returned data */
    int units;     /* what the receiver handed on as messages */
    int intact;    /* units equal to a message that was sent */
    int wrong;     /* units handed on that are not a sent message */
    int errors;    /* problems the receiver reported instead */
    char status[NMSG][64];
} result;

static void die(const char *what)
{
    fprintf(stderr, "frame-udp-demo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int wait_readable(int fd, int ms)
{
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    return poll(&p, 1, ms) > 0;
}

/* A connected pair of TCP sockets on 127.0.0.1; the sender is non-blocking. */
static void tcp_pair(int *tx, int *rx)
{
    char err[200], port[16];
    int lfd = net_listen("127.0.0.1", "0", SOCK_STREAM, 1, 0, err, sizeof err);
    if (lfd < 0)
        die(err);
    snprintf(port, sizeof port, "%d", net_local_port(lfd));
    if ((*tx = net_connect("127.0.0.1", port, SOCK_STREAM, err, sizeof err)) < 0)
        die(err);
    if ((*rx = accept(lfd, NULL, NULL)) < 0)
        die("accept");
    close(lfd);
    net_set_nonblocking(*tx, 1);
}

static void udp_pair(int *tx, int *rx)
{
    char err[200], port[16];
    if ((*rx = net_listen("127.0.0.1", "0", SOCK_DGRAM, 0, 0, err, sizeof err)) < 0)
        die(err);
    snprintf(port, sizeof port, "%d", net_local_port(*rx));
    if ((*tx = net_connect("127.0.0.1", port, SOCK_DGRAM, err, sizeof err)) < 0)
        die(err);
}

/* ------------------------------------------------------------------------ */
/* (a) TCP, plain send/recv: each recv() is taken for one message.           */

static void tcp_plain(result *r)
{
    static size_t read_end[MAX_READS]; /* stream offset where each read ended */
    static unsigned char buf[TCP_READ];
    size_t total = 0, got = 0, off = 0, ms = 0;
    int tx, rx, i = 0, nreads = 0;

    for (int m = 0; m < NMSG; m++)
        total += SIZES[m];
    tcp_pair(&tx, &rx);
    while (got < total) {
        while (i < NMSG) { /* send until the socket is full */
            ssize_t n = send(tx, MSG[i] + off, SIZES[i] - off, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            if (n < 0)
                die("send");
            off += (size_t)n;
            if (off == SIZES[i])
                i++, off = 0;
        }
        if (!wait_readable(rx, 5000))
            die("the TCP receiver waited in vain");
        ssize_t n = recv(rx, buf, sizeof buf, 0);
        if (n <= 0 || nreads == MAX_READS)
            die("recv");
        got += (size_t)n;
        read_end[nreads++] = got;
        r->calls++;
    }
    close(tx);
    close(rx);

    /* Which reads did each message land in? */
    r->units = nreads;
    for (int m = 0; m < NMSG; m++) {
        size_t me = ms + SIZES[m], rs = 0;
        int first = -1, last = -1;
        for (int k = 0; k < nreads; k++) {
            size_t re = read_end[k];
            if (rs < me && re > ms) {
                if (first < 0)
                    first = k;
                last = k;
            }
            rs = re;
        }
        if (first == last) {
            size_t start = first ? read_end[first - 1] : 0;
            if (start == ms && read_end[first] == me) {
                r->intact++;
                snprintf(r->status[m], sizeof r->status[m], "intact (read %d)", first + 1);
            } else {
                snprintf(r->status[m], sizeof r->status[m], "merged into read %d", first + 1);
            }
        } else {
            snprintf(r->status[m], sizeof r->status[m], "split over reads %d-%d", first + 1, last + 1);
        }
        ms = me;
    }
    r->wrong = r->units - r->intact;
}

/* ------------------------------------------------------------------------ */
/* (b) and (d): the libframe receivers share these callbacks.                 */

typedef struct rx_state {
    result *r;
    uint64_t seq;
    size_t at;  /* body bytes seen */
    int same;   /* so far equal to MSG[seq] */
} rx_state;

static int rx_header(frame_decoder *d, const frame_header *h)
{
    rx_state *s = d->data;
    s->at = 0;
    s->same = frame_header_get_uint64(h, "seq", &s->seq) == FRAME_OK && s->seq < NMSG &&
              h->body_size == SIZES[s->seq];
    return FRAME_CONTINUE;
}

static int rx_body(frame_decoder *d, const void *at, size_t len)
{
    rx_state *s = d->data;
    if (s->same && memcmp(MSG[s->seq] + s->at, at, len) != 0)
        s->same = 0;
    s->at += len;
    return FRAME_CONTINUE;
}

static int rx_end(frame_decoder *d)
{
    rx_state *s = d->data;
    s->r->units++;
    if (s->same) {
        s->r->intact++;
        snprintf(s->r->status[s->seq], sizeof s->r->status[0], "intact");
    } else {
        s->r->wrong++;
    }
    return FRAME_CONTINUE;
}

static const frame_callbacks RX_CB = {rx_header, rx_body, rx_end};

/* Builds the head {"size":N,"seq":i} of message i into head[]. */
static void frame_head(frame_builder *b, unsigned char *head, size_t cap, int i)
{
    if (frame_builder_init(b, NULL, head, cap, SIZES[i]) != FRAME_OK ||
        frame_builder_add_uint64(b, "seq", (uint64_t)i) != FRAME_OK ||
        frame_builder_finish(b, NULL, NULL) != FRAME_OK) {
        fprintf(stderr, "frame-udp-demo: cannot build a frame head\n");
        exit(1);
    }
}

/* ------------------------------------------------------------------------ */
/* (b) TCP with libframe: frame_write on a non-blocking socket, frame_feed.   */

static void tcp_frame(result *r)
{
    static unsigned char buf[TCP_READ];
    unsigned char head[64], hbuf[256];
    frame_config cfg = {0, 0, 0, NULL, sizeof hbuf, 0};
    frame_builder b;
    frame_encoder enc;
    frame_decoder dec;
    rx_state st = {r, 0, 0, 0};
    int tx, rx, i = 0, pending = 0;

    tcp_pair(&tx, &rx);
    frame_encoder_init(&enc, net_fd_write, &tx);
    frame_decoder_init(&dec, &cfg, &RX_CB, hbuf, sizeof hbuf, &st);
    while (r->units < NMSG) {
        while (i < NMSG) {
            frame_errno e;
            if (pending) {
                e = frame_encoder_resume(&enc);
            } else {
                frame_head(&b, head, sizeof head, i);
                e = frame_write(&enc, &b, MSG[i], SIZES[i]);
            }
            pending = e == FRAME_E_WOULD_BLOCK; /* socket full: read, then resume */
            if (pending)
                break;
            if (e != FRAME_OK)
                die("frame_write");
            i++;
        }
        if (!wait_readable(rx, 5000))
            die("the TCP receiver waited in vain");
        ssize_t n = recv(rx, buf, sizeof buf, 0);
        if (n <= 0)
            die("recv");
        r->calls++;
        if (frame_feed(&dec, buf, (size_t)n) != (size_t)n) {
            fprintf(stderr, "frame-udp-demo: %s\n", frame_errname(frame_decoder_errno(&dec)));
            exit(1);
        }
    }
    close(tx);
    close(rx);
}

/* ------------------------------------------------------------------------ */
/* (c) and (d): UDP. Datagrams arrive in order on loopback, so the k-th     */
/* datagram received is the k-th one the kernel accepted.                   */

static void udp_run(result *r, int framed)
{
    static unsigned char buf[UDP_READ];
    unsigned char head[64], hbuf[256];
    frame_config cfg = {0, 0, 0, NULL, sizeof hbuf, 0};
    frame_decoder dec;
    rx_state st = {r, 0, 0, 0};
    int sent[NMSG], nsent = 0, tx, rx;

    udp_pair(&tx, &rx);
    frame_decoder_init(&dec, &cfg, &RX_CB, hbuf, sizeof hbuf, &st);
    for (int i = 0; i < NMSG; i++) {
        struct iovec iov[2];
        struct msghdr mh;
        frame_builder b;
        ssize_t n;
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = iov;
        if (framed) { /* head and body in one datagram, gathered by sendmsg */
            const void *h;
            size_t hl;
            frame_head(&b, head, sizeof head, i);
            frame_builder_finish(&b, &h, &hl);
            iov[0].iov_base = (void *)(uintptr_t)h;
            iov[0].iov_len = hl;
            iov[1].iov_base = MSG[i];
            iov[1].iov_len = SIZES[i];
            mh.msg_iovlen = 2;
        } else {
            iov[0].iov_base = MSG[i];
            iov[0].iov_len = SIZES[i];
            mh.msg_iovlen = 1;
        }
        n = sendmsg(tx, &mh, 0);
        if (n < 0 && errno == EMSGSIZE) {
            r->refused++;
            snprintf(r->status[i], sizeof r->status[i], "refused by the kernel (EMSGSIZE)");
        } else if (n < 0) {
            die("sendmsg");
        } else {
            sent[nsent++] = i;
        }
    }
    for (int k = 0; k < nsent; k++) {
        int m = sent[k];
        struct iovec iov;
        struct msghdr mh;
        ssize_t n;
        if (!wait_readable(rx, 2000)) {
            snprintf(r->status[m], sizeof r->status[m], "lost");
            continue;
        }
        memset(&mh, 0, sizeof mh);
        iov.iov_base = buf;
        iov.iov_len = sizeof buf;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        if ((n = recvmsg(rx, &mh, 0)) < 0)
            die("recvmsg");
        r->calls++;
        if (!framed) { /* the datagram is the message, whatever its length */
            r->units++;
            if ((size_t)n == SIZES[m] && memcmp(buf, MSG[m], SIZES[m]) == 0) {
                r->intact++;
                snprintf(r->status[m], sizeof r->status[m], "intact");
            } else {
                r->wrong++;
                snprintf(r->status[m], sizeof r->status[m], "TRUNCATED to %zd bytes, accepted", n);
            }
        } else {
            frame_errno e = frame_feed_datagram(&dec, buf, (size_t)n);
            if (e != FRAME_OK) { /* nothing of it reached the callbacks */
                r->errors++;
                snprintf(r->status[m], sizeof r->status[m], "error %s", frame_errname(e));
                frame_decoder_reset(&dec);
            }
        }
    }
    close(tx);
    close(rx);
}

/* ------------------------------------------------------------------------ */

static void print_table(result *res)
{
    printf("frame-udp-demo: the same %d messages sent four ways over 127.0.0.1; receivers read\n"
           "into a %d-byte buffer (TCP) or an %d-byte buffer (UDP).\n\n",
           NMSG, TCP_READ, UDP_READ);
    printf("msg   bytes  %-22s %-15s %-34s %s\n", res[0].title, res[1].title, res[2].title,
           res[3].title);
    for (int m = 0; m < NMSG; m++)
        printf("%3d %7zu  %-22s %-15s %-34s %s\n", m, SIZES[m], res[0].status[m], res[1].status[m],
               res[2].status[m], res[3].status[m]);
    printf("\n%-36s %14s %14s %14s %14s\n", "what each receiver got", res[0].title, res[1].title,
           res[2].title, res[3].title);
#define ROW(label, field)                                                                          \
    printf("%-36s %14d %14d %14d %14d\n", label, res[0].field, res[1].field, res[2].field,         \
           res[3].field)
    ROW("sends refused by the kernel", refused);
    ROW("receive calls", calls);
    ROW("messages handed to the application", units);
    ROW("  ... intact", intact);
    ROW("  ... wrong (merged, split, cut)", wrong);
    ROW("errors reported instead", errors);
#undef ROW
    printf("\nTCP keeps bytes, not messages: plain recv() returns whatever has arrived. libframe's\n"
           "length prefix restores every message. UDP keeps boundaries, but a datagram larger than\n"
           "the buffer is silently cut (only MSG_TRUNC tells) and over 65,507 bytes none is sent;\n"
           "libframe on UDP knows each frame's length, so a cut datagram is an error, never data.\n");
}

static void print_json(result *res)
{
    static const char *key[4] = {"tcp_plain", "tcp_libframe", "udp_plain", "udp_libframe"};
    printf("{\"sizes\":[");
    for (int m = 0; m < NMSG; m++)
        printf("%s%zu", m ? "," : "", SIZES[m]);
    printf("],\"tcp_read\":%d,\"udp_read\":%d", TCP_READ, UDP_READ);
    for (int k = 0; k < 4; k++) {
        const result *r = &res[k];
        printf(",\"%s\":{\"refused\":%d,\"calls\":%d,\"units\":%d,\"intact\":%d,\"wrong\":%d,"
               "\"errors\":%d,\"status\":[",
               key[k], r->refused, r->calls, r->units, r->intact, r->wrong, r->errors);
        for (int m = 0; m < NMSG; m++)
            printf("%s\"%s\"", m ? "," : "", r->status[m]);
        printf("]}");
    }
    printf("}\n");
}

int main(int argc, char **argv)
{
    static result res[4] = {{.title = "TCP send/recv"}, {.title = "TCP+libframe"},
                            {.title = "UDP send/recv"}, {.title = "UDP+libframe"}};
    int json = argc > 1 && !strcmp(argv[1], "--json");

    if (argc > 2 || (argc == 2 && !json)) {
        fprintf(stderr, "usage: frame-udp-demo [--json]\n");
        return 2;
    }
    for (size_t m = 0; m < NMSG; m++) { /* recognisable contents */
        if (!(MSG[m] = malloc(SIZES[m])))
            die("malloc");
        for (size_t k = 0; k < SIZES[m]; k++)
            MSG[m][k] = (unsigned char)('a' + (m * 7 + k) % 26);
    }
    tcp_plain(&res[0]);
    tcp_frame(&res[1]);
    udp_run(&res[2], 0);
    udp_run(&res[3], 1);
    if (json)
        print_json(res);
    else
        print_table(res);
    for (int m = 0; m < NMSG; m++)
        free(MSG[m]);
    return 0;
}
