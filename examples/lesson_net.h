/*
 * examples/lesson_net.h: the socket set-up the lessons share, and a socket
 * transport for the encoder, so that each lesson shows only what it teaches.
 * Not part of libframe. Loopback only: a lesson never listens elsewhere.
 *
 * Define _POSIX_C_SOURCE 200809L before any #include (the lessons compile
 * with -std=c99 -pedantic), then include this file.
 */
#ifndef LESSON_NET_H
#define LESSON_NET_H

#include <arpa/inet.h>
#include <errno.h>
#include <frame.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Prints what failed and why, and exits with status 2 (an int, so that a
 * function can end with `return lesson_die(...)`). */
static inline int lesson_die(const char *what) {
    perror(what);
    exit(2);
}

/* 127.0.0.1:port; port text "0" lets the kernel choose one. */
static inline struct sockaddr_in lesson_addr(const char *port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)strtoul(port, NULL, 10));
    return a;
}

/* A socket of `type` (SOCK_STREAM: listening, or SOCK_DGRAM) bound to
 * 127.0.0.1:port. Prints "listening on 127.0.0.1:N" with the port it got,
 * which is how the tests (and you) find a server started on port 0. */
static inline int lesson_listen(const char *port, int type) {
    struct sockaddr_in a = lesson_addr(port);
    socklen_t alen = sizeof a;
    int one = 1, fd = socket(AF_INET, type, 0);
    if (fd < 0) lesson_die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) lesson_die("bind");
    if (type == SOCK_STREAM && listen(fd, 128) < 0) lesson_die("listen");
    getsockname(fd, (struct sockaddr *)&a, &alen);
    printf("listening on 127.0.0.1:%u\n", (unsigned)ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

/* A socket of `type` connected to 127.0.0.1:port (for SOCK_DGRAM, connect
 * only fixes the destination of send()). */
static inline int lesson_connect(const char *port, int type) {
    struct sockaddr_in a = lesson_addr(port);
    int fd = socket(AF_INET, type, 0);
    if (fd < 0) lesson_die("socket");
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) lesson_die("connect");
    return fd;
}

/* The gathering transport of frame_encoder_init_gather() for a socket: ctx
 * points at its descriptor, and the spans (head, body) go in one writev(),
 * so a frame leaves in one write; a datagram socket sends them as one
 * datagram. A non-blocking socket with no room takes 0 bytes (the encoder
 * says FRAME_E_WOULD_BLOCK); a failure is -1 (FRAME_E_WRITE). */
static inline long lesson_writev(void *ctx, const frame_span *s, int n) {
    struct iovec v[2];
    ssize_t r;
    int i;
    for (i = 0; i < n && i < 2; i++) { /* writev() does not write to the data */
        v[i].iov_base = (void *)(uintptr_t)s[i].data;
        v[i].iov_len = s[i].len;
    }
    r = writev(*(int *)ctx, v, i);
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : (long)r;
}

#endif /* LESSON_NET_H */
