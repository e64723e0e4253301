/*
 * The baseline for examples/tests/files_throughput.py: copies a file over a
 * loopback TCP connection with no protocol at all, the way frame-files moves
 * an upload: the sender read()s the source into a buffer and send()s it; the
 * receiver recv()s into a buffer of the same size and write()s it to a file,
 * then (with --fsync) fsyncs it, and answers one byte when it is done. The
 * time runs from connect() to that answer.
 *
 *   files_rawcopy [--buffer BYTES] [--sockbuf BYTES] [--fsync]
 *                 [--checksum none|sha256|crc32c] SRC DST
 *
 * --checksum hashes on both sides, for a "raw copy plus checksum" figure.
 * Prints one JSON line: {"bytes":N,"seconds":S,"mib_per_s":R,...}.
 */
#define _GNU_SOURCE
#include "../crc32c.h"
#include "../ff.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t bufsize = 1 << 20;
static int sockbuf, do_fsync, checksum; /* checksum: 0 none, 1 sha256, 2 crc32c */

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void set_bufs(int fd)
{
    if (sockbuf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof sockbuf);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sockbuf, sizeof sockbuf);
    }
}

typedef struct sum {
    ff_sum sha;
    uint32_t crc;
} sum;

static void sum_update(sum *s, const void *p, size_t n)
{
    if (checksum == 1)
        ff_sum_update(&s->sha, p, n);
    else if (checksum == 2)
        s->crc = crc32c_update(s->crc, p, n);
}

static void receiver(int lfd, const char *dst)
{
    unsigned char *buf = malloc(bufsize);
    char hx[65];
    int c = accept(lfd, NULL, NULL), out;
    sum s;
    ssize_t n;
    if (c < 0 || !buf)
        die("accept");
    set_bufs(c);
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0)
        die(dst);
    if (ff_sum_init(&s.sha, FF_SHA256) != 0)
        die("EVP_MD_CTX_new");
    s.crc = 0;
    while ((n = recv(c, buf, bufsize, 0)) != 0) {
        ssize_t off = 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("recv");
        }
        sum_update(&s, buf, (size_t)n);
        while (off < n) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0)
                die("write");
            off += w;
        }
    }
    if (do_fsync && fsync(out) != 0)
        die("fsync");
    close(out);
    if (checksum == 1)
        ff_sum_final(&s.sha, hx);
    if (send(c, "k", 1, MSG_NOSIGNAL) != 1)
        die("send");
    close(c);
    free(buf);
    exit(0);
}

int main(int argc, char **argv)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int lfd, fd, in, i, status;
    pid_t pid;
    unsigned char *buf;
    char hx[65];
    unsigned long long total = 0;
    double t0, t1;
    sum s;
    char ack;

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "--buffer") == 0 && i + 1 < argc)
            bufsize = strtoul(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--sockbuf") == 0 && i + 1 < argc)
            sockbuf = atoi(argv[++i]);
        else if (strcmp(argv[i], "--fsync") == 0)
            do_fsync = 1;
        else if (strcmp(argv[i], "--checksum") == 0 && i + 1 < argc) {
            i++;
            checksum = strcmp(argv[i], "sha256") == 0 ? 1 : strcmp(argv[i], "crc32c") == 0 ? 2 : 0;
        } else
            break;
    }
    if (argc - i != 2 || bufsize == 0) {
        fprintf(stderr, "usage: files_rawcopy [--buffer B] [--sockbuf B] [--fsync] "
                        "[--checksum none|sha256|crc32c] SRC DST\n");
        return 2;
    }
    crc32c_init();
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0)
        die("listen");
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0)
        receiver(lfd, argv[i + 1]);
    close(lfd);
    in = strcmp(argv[i], "-") == 0 ? 0 : open(argv[i], O_RDONLY | O_CLOEXEC);
    buf = malloc(bufsize);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (in < 0 || !buf || fd < 0)
        die("open");
    set_bufs(fd);
    if (ff_sum_init(&s.sha, FF_SHA256) != 0)
        die("EVP_MD_CTX_new");
    s.crc = 0;
    t0 = now();
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("connect");
    for (;;) {
        ssize_t n = read(in, buf, bufsize), off = 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("read");
        if (n == 0)
            break;
        sum_update(&s, buf, (size_t)n);
        while (off < n) {
            ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
            if (w < 0)
                die("send");
            off += w;
        }
        total += (unsigned long long)n;
    }
    if (checksum == 1)
        ff_sum_final(&s.sha, hx);
    shutdown(fd, SHUT_WR);
    if (recv(fd, &ack, 1, 0) != 1)
        die("no answer from the receiver");
    t1 = now();
    close(fd);
    waitpid(pid, &status, 0);
    printf("{\"bytes\":%llu,\"seconds\":%.4f,\"mib_per_s\":%.1f,\"buffer\":%zu,\"sockbuf\":%d,"
           "\"fsync\":%s,\"checksum\":\"%s\"}\n",
           total, t1 - t0, (double)total / (1 << 20) / (t1 - t0), bufsize, sockbuf, do_fsync ? "true" : "false",
           checksum == 1 ? "sha256" : checksum == 2 ? "crc32c" : "none");
    free(buf);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
