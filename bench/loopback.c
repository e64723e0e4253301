/*
 * Loopback rows of the benchmark: a file copied over TCP on 127.0.0.1.
 *
 *   loopback raw   [--buffer BYTES] [--sockbuf BYTES] SRC DST
 *       no protocol: read() + send(), recv() + write()
 *   loopback frame [--buffer BYTES] [--sockbuf BYTES] SRC DST
 *       the same bytes as libframe frames (one frame per buffer, the body
 *       written straight from on_body)
 *
 * --buffer defaults to 1 MiB and --sockbuf (SO_SNDBUF/SO_RCVBUF, 0 = kernel
 * autotuning) to 4 MiB, the defaults of frame-files and its raw-copy baseline.
 * The receiver is a child process; it writes DST and answers one byte after
 * the sender's end of stream. The time runs from connect() to that byte.
 * Prints one JSON line: {"mode":..,"bytes":..,"seconds":..,"buffer":..}.
 */
#define _POSIX_C_SOURCE 200809L
#include "frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t bufsize = 1u << 20;
static int sockbuf = 4 << 20;
static int frame_mode;
static unsigned char header_buf[FRAME_DEFAULT_MAX_HEADER];

static void die(const char *what) {
    perror(what);
    exit(1);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void write_all(int fd, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) die("write");
        b += w;
        n -= (size_t)w;
    }
}

static void send_all(int fd, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, 0);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) die("send");
        b += w;
        n -= (size_t)w;
    }
}

static void set_bufs(int fd) {
    if (sockbuf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof sockbuf);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sockbuf, sizeof sockbuf);
    }
}

/* ---- receiver ---- */

typedef struct rx {
    int out;
    unsigned long long body;
} rx;

static int on_body(frame_decoder *d, const void *at, size_t len) {
    rx *r = d->data;
    write_all(r->out, at, len);
    r->body += len;
    return FRAME_CONTINUE;
}

static void receiver(int lfd, const char *dst) {
    static const frame_callbacks cb = {NULL, on_body, NULL};
    unsigned char *buf = malloc(bufsize);
    int c = accept(lfd, NULL, NULL);
    frame_decoder d;
    rx r;
    ssize_t n;
    if (c < 0 || !buf) die("accept");
    set_bufs(c);
    r.out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    r.body = 0;
    if (r.out < 0) die(dst);
    if (frame_decoder_init(&d, NULL, &cb, header_buf, sizeof header_buf, &r) != FRAME_OK) exit(1);
    for (;;) {
        n = recv(c, buf, bufsize, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("recv");
        if (n == 0) break;
        if (!frame_mode) {
            write_all(r.out, buf, (size_t)n);
        } else if (frame_feed(&d, buf, (size_t)n) != (size_t)n) {
            fprintf(stderr, "loopback: %s\n", frame_errname(frame_decoder_errno(&d)));
            exit(1);
        }
    }
    if (frame_mode && frame_finish(&d, NULL) != FRAME_OK) {
        fprintf(stderr, "loopback: stream cut short\n");
        exit(1);
    }
    close(r.out);
    send_all(c, "k", 1);
    close(c);
    exit(0);
}

/* ---- sender ---- */

static long tx_write(void *ctx, const void *data, size_t len) {
    send_all(*(int *)ctx, data, len);
    return (long)len;
}

int main(int argc, char **argv) {
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    unsigned char *buf, head[256], ack;
    unsigned long long total = 0, seq = 0;
    int i = 1, lfd, fd, in, status;
    frame_encoder e;
    pid_t pid;
    double t0, t1;
    if (argc < 4) goto usage;
    if (strcmp(argv[1], "frame") == 0) frame_mode = 1;
    else if (strcmp(argv[1], "raw") != 0) goto usage;
    for (i = 2; i + 2 < argc; i++) {
        if (strcmp(argv[i], "--buffer") == 0) bufsize = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--sockbuf") == 0) sockbuf = atoi(argv[++i]);
        else goto usage;
    }
    if (i + 2 != argc || bufsize < 4096) goto usage;

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd >= 0) set_bufs(lfd);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 1) ||
        getsockname(lfd, (struct sockaddr *)&a, &alen))
        die("listen");
    pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) receiver(lfd, argv[i + 1]);
    close(lfd);

    buf = malloc(bufsize);
    in = open(argv[i], O_RDONLY);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (!buf || in < 0 || fd < 0) die("open");
    set_bufs(fd);
    frame_encoder_init(&e, tx_write, &fd);
    t0 = now();
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) die("connect");
    for (;;) {
        ssize_t n = read(in, buf, bufsize);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("read");
        if (n == 0) break;
        total += (unsigned long long)n;
        if (frame_mode) {
            frame_builder b;
            frame_builder_init(&b, NULL, head, sizeof head, (uint64_t)n);
            frame_builder_add_uint64(&b, "seq", seq++);
            if (frame_write(&e, &b, buf, (size_t)n) != FRAME_OK) die("frame_write");
        } else {
            send_all(fd, buf, (size_t)n);
        }
    }
    shutdown(fd, SHUT_WR);
    if (recv(fd, &ack, 1, 0) != 1) die("no answer from the receiver");
    t1 = now();
    close(fd);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "loopback: receiver failed\n");
        return 1;
    }
    printf("{\"mode\":\"%s\",\"bytes\":%llu,\"seconds\":%.6f,\"buffer\":%zu,\"sockbuf\":%d}\n",
           argv[1], total, t1 - t0, bufsize, sockbuf);
    return 0;
usage:
    fprintf(stderr, "usage: loopback raw|frame [--buffer BYTES] [--sockbuf BYTES] SRC DST\n");
    return 2;
}
