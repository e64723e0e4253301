/*
 * The POSIX helpers of include/frame_posix.h: one frame read from or written
 * to a blocking file descriptor, through the public decoder and encoder.
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "internal.h"
#include "frame_posix.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* What the decoder's callbacks of one frame_fd_read() share. */
typedef struct frame__fd_frame {
    frame_header *h;
    unsigned char *header_buf;
    unsigned char *body;
    size_t cap;
    frame_body_fn on_body;
    void *ctx;
    size_t got;  /* body bytes stored in body (on_body NULL) */
    int in_body; /* the header is in: the decoder needs body bytes */
    int done;    /* the frame's last byte was fed */
    int too_big; /* the body would not fit in body (on_body NULL) */
} frame__fd_frame;

static int frame__fd_on_header(frame_decoder *d, const frame_header *h) {
    frame__fd_frame *f = (frame__fd_frame *)d->data;
    *f->h = *h;
    /* A header that came in one read is parsed where it was read, in
     * frame_fd_read's own buffer: move it to the caller's, which outlives
     * the call. */
    if (h->root.json && (const unsigned char *)h->root.json != f->header_buf) {
        memmove(f->header_buf, h->root.json, h->root.len);
        f->h->root.json = (const char *)f->header_buf;
    }
    if (!f->on_body && h->body_size > f->cap) {
        f->too_big = 1;
        return -1;
    }
    f->in_body = 1;
    return FRAME_CONTINUE;
}

static int frame__fd_on_body(frame_decoder *d, const void *at, size_t len) {
    frame__fd_frame *f = (frame__fd_frame *)d->data;
    if (f->on_body) return f->on_body(f->ctx, at, len) ? -1 : FRAME_CONTINUE;
    /* The bytes were read into place (see below): nothing to copy. */
    f->got += len;
    return FRAME_CONTINUE;
}

static int frame__fd_on_end(frame_decoder *d) {
    ((frame__fd_frame *)d->data)->done = 1;
    return FRAME_CONTINUE;
}

static const frame_callbacks frame__fd_callbacks = {frame__fd_on_header, frame__fd_on_body,
                                                    frame__fd_on_end};

FRAME_API frame_errno frame_fd_read(int fd, const frame_config *cfg, void *header_buf,
                                    size_t header_cap, frame_header *h, void *body_buf,
                                    size_t body_cap, frame_body_fn on_body, void *ctx) {
    frame_decoder d;
    frame__fd_frame f;
    unsigned char small[4096]; /* prefix and header: most headers in one read */
    uint64_t need;
    frame_errno err;
    int started = 0;
    /* A callback needs a buffer to read the chunks into. */
    if (!h || (!body_buf && body_cap) || (on_body && !body_cap)) return FRAME_E_ARGUMENT;
    memset(&f, 0, sizeof f);
    f.h = h;
    f.header_buf = (unsigned char *)header_buf;
    f.body = (unsigned char *)body_buf;
    f.cap = body_cap;
    f.on_body = on_body;
    f.ctx = ctx;
    err = frame_decoder_init(&d, cfg, &frame__fd_callbacks, header_buf, header_cap, &f);
    if (err) return err;
    /* Exactly what the decoder still needs, so that no byte of the next
     * frame is read: the prefix, then the header, then the body (each known
     * exactly once the part before it is in). */
    need = frame__width(frame__config(cfg));
    while (!f.done) {
        unsigned char *at = small;
        size_t room = sizeof small;
        ssize_t r;
        if (started) need = frame_decoder_needed(&d);
        /* Body bytes go straight to where they belong. */
        if (f.in_body && f.body) {
            at = f.body + (on_body ? 0 : f.got);
            room = on_body ? f.cap : f.cap - f.got;
        }
        if (need < room) room = (size_t)need;
        r = read(fd, at, room);
        if (r < 0) {
            if (errno == EINTR) continue;
            return FRAME_E_READ;
        }
        if (r == 0) return started ? FRAME_E_TRUNCATED : FRAME_E_CLOSED;
        started = 1;
        frame_feed(&d, at, (size_t)r);
        err = frame_decoder_errno(&d);
        if (err == FRAME_E_CALLBACK && f.too_big) return FRAME_E_BODY_TOO_LARGE;
        if (err) return err;
    }
    return FRAME_OK;
}

/* The gathering transport of frame_fd_write(): what one sendmsg() or writev()
 * takes. A blocking descriptor takes everything but after a signal. */
typedef struct frame__fd_out {
    int fd;
    int not_socket; /* sendmsg() said ENOTSOCK: writev() from then on */
} frame__fd_out;

static long frame__fd_gather(void *ctx, const frame_span *spans, int count) {
    frame__fd_out *o = (frame__fd_out *)ctx;
    struct iovec iov[2];
    int i;
    for (i = 0; i < count && i < 2; i++) {
        /* struct iovec is not const-correct; nothing writes through it. */
        iov[i].iov_base = (void *)(uintptr_t)spans[i].data;
        iov[i].iov_len = spans[i].len;
    }
    for (;;) {
        ssize_t r = -1;
        if (!o->not_socket) {
            struct msghdr m;
            memset(&m, 0, sizeof m);
            m.msg_iov = iov;
            m.msg_iovlen = (size_t)i;
            r = sendmsg(o->fd, &m, MSG_NOSIGNAL);
            if (r < 0 && errno == ENOTSOCK) o->not_socket = 1;
        }
        if (o->not_socket) r = writev(o->fd, iov, i);
        if (r >= 0) return (long)r;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd p;
            p.fd = o->fd;
            p.events = POLLOUT;
            if (poll(&p, 1, -1) < 0 && errno != EINTR) return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
}

FRAME_API frame_errno frame_fd_write(int fd, frame_builder *b, const void *body, size_t len) {
    frame__fd_out o;
    frame_encoder e;
    frame_errno err;
    o.fd = fd;
    o.not_socket = 0;
    frame_encoder_init_gather(&e, frame__fd_gather, &o);
    err = frame_write(&e, b, body, len);
    /* A short write on a blocking descriptor: a signal came; go on. */
    while (err == FRAME_E_WOULD_BLOCK) err = frame_encoder_resume(&e);
    return err;
}
