/*
 * Lesson 3: a non-blocking epoll server for many clients. It echoes each
 * frame with a header member added, streaming each body chunk back out as it
 * comes in, so a client costs two buffers here whatever its body sizes.
 *
 *   epoll_echo [PORT]       (try it with: uv_echo client PORT hello world)
 *
 * Back-pressure runs both ways. A client that sends faster than it reads
 * fills our send buffer; we then pause its decoder and stop reading it, so
 * its own sends wait in turn, and nothing piles up in the server. And a
 * client must read while it writes (a thread, a process or an event loop),
 * or once both ends' buffers are full each waits for the other forever.
 * Writes go out whole or in part: when the socket takes part, the encoder
 * keeps the rest, and frame_encoder_resume() sends it once there is room.
 */
#define _POSIX_C_SOURCE 200809L
#include "lesson_net.h"
#include <fcntl.h>
#include <frame.h>
#include <sys/epoll.h>

enum { MAX_HEADER = 1024 }; /* a client's header: small, and said so (cfg) */
typedef struct conn {
    int fd; /* lesson_writev() gets &fd */
    frame_decoder dec;
    frame_encoder enc;
    char header_buf[MAX_HEADER];
    unsigned char head[MAX_HEADER + 64]; /* the reply's head (one member more) */
    unsigned char in[65536];             /* read buffer: body chunks point into it */
    size_t in_off, in_len;               /* in[in_off, in_len): not fed yet */
    unsigned long short_writes;
} conn;
static const frame_config cfg = {4, 0, 0, "size", MAX_HEADER, FRAME_MAX_BODY_LIMIT};
static int ep; /* the epoll instance */

static void watch(int op, int fd, unsigned events, void *ptr) {
    struct epoll_event ev = {events, {ptr}}; /* data.ptr: our struct conn */
    epoll_ctl(ep, op, fd, &ev);
}
/* What each callback does with a write's result: go on; or, when the socket
 * took only part (the encoder keeps pointing at the rest), pause the decoder
 * and wait for room (EPOLLOUT) instead of more requests (EPOLLIN). */
static int go_on(conn *c, frame_errno e) {
    if (e != FRAME_E_WOULD_BLOCK) return e == FRAME_OK ? FRAME_CONTINUE : -1;
    c->short_writes++;
    watch(EPOLL_CTL_MOD, c->fd, EPOLLOUT, c);
    return FRAME_PAUSE;
}

/* The reply's head: the client's members but "size" (the builder writes it)
 * and ours, then ours. frame_write_begin() holds it back until the first
 * body chunk, so that both leave in one writev(): c->head must stay as it is
 * until then (the builder itself may go). */
static int on_header(frame_decoder *d, const frame_header *h) {
    static const char *const omit[] = {"echoed_by", NULL};
    conn *c = d->data;
    frame_builder b;
    frame_builder_init(&b, NULL, c->head, sizeof c->head, h->body_size);
    frame_builder_add_members(&b, &h->root, omit);
    frame_builder_add_string(&b, "echoed_by", "epoll_echo");
    return go_on(c, frame_write_begin(&c->enc, &b)); /* a builder error shows here */
}
/* The copy rule: `at` points into the bytes given to frame_feed(), and the
 * decoder promises it only until this returns. Keep it longer only where
 * those bytes are yours and left alone, or copy it. Here they are c->in, left
 * alone while a write is pending: zero-copy from one socket to the other. */
static int on_body(frame_decoder *d, const void *at, size_t len) {
    conn *c = d->data;
    return go_on(c, frame_write_body(&c->enc, at, len));
}
static int on_end(frame_decoder *d) {
    conn *c = d->data; /* checks the sizes; writes the head of an empty body */
    return go_on(c, frame_write_end(&c->enc));
}

/* Feeds what is buffered, then reads more, until the socket is empty or a
 * reply waits for room (0), or the connection is over (-1). */
static int on_readable(conn *c) {
    for (;;) {
        ssize_t n;
        c->in_off += frame_feed(&c->dec, c->in + c->in_off, c->in_len - c->in_off);
        if (frame_decoder_errno(&c->dec) != FRAME_OK) /* paused: c->in stays as it is */
            return frame_decoder_errno(&c->dec) == FRAME_E_PAUSED ? 0 : -1;
        n = read(c->fd, c->in, sizeof c->in); /* all fed: the buffer is free */
        if (n < 0 && errno == EAGAIN) return 0;
        if (n <= 0) return frame_finish(&c->dec, NULL), -1;
        c->in_off = 0, c->in_len = (size_t)n;
    }
}
/* The short write completed? Then resume the decoder, and feed the rest. */
static int on_writable(conn *c) {
    frame_errno e = frame_encoder_resume(&c->enc);
    if (e != FRAME_OK) return e == FRAME_E_WOULD_BLOCK ? 0 : -1;
    watch(EPOLL_CTL_MOD, c->fd, EPOLLIN, c); /* the reply is out: requests again */
    frame_decoder_resume(&c->dec);
    return on_readable(c); /* the rest of c->in first */
}

static void add_client(int lfd) {
    static const frame_callbacks cb = {on_header, on_body, on_end};
    conn *c = calloc(1, sizeof *c);
    if (!c || (c->fd = accept(lfd, NULL, NULL)) < 0) {
        free(c); /* the client gave up meanwhile, or no memory: serve the others */
        return;
    }
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    /* Small on purpose, so that short writes happen in this lesson. */
    setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &(int){4096}, sizeof(int));
    frame_decoder_init(&c->dec, &cfg, &cb, c->header_buf, sizeof c->header_buf, c);
    frame_encoder_init_gather(&c->enc, lesson_writev, &c->fd); /* one writev() a frame */
    watch(EPOLL_CTL_ADD, c->fd, EPOLLIN, c);
}

static int serve(const char *port) {
    struct epoll_event evs[64];
    int lfd = lesson_listen(port, SOCK_STREAM), i, n;
    ep = epoll_create1(0);
    watch(EPOLL_CTL_ADD, lfd, EPOLLIN, NULL); /* NULL: the listening socket */
    while ((n = epoll_wait(ep, evs, 64, -1)) >= 0 || errno == EINTR)
        for (i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) add_client(lfd);
            /* Writable, or an error or hang-up (which the next write reports). */
            else if ((evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP) ? on_writable(c)
                                                                      : on_readable(c)) < 0) {
                printf("client %d: %llu frames echoed, %lu short writes, decoder %s\n", c->fd,
                       (unsigned long long)frame_decoder_frame_index(&c->dec), c->short_writes,
                       frame_errname(frame_decoder_errno(&c->dec)));
                close(c->fd); /* which takes it out of the epoll set */
                free(c);
            }
        }
    return lesson_die("epoll_wait");
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* a line at a time, even into a pipe */
    return serve(argc > 1 ? argv[1] : "0");
}
