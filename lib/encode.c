/*
 * Writing frames through the caller's transport. A short write parks what is
 * left in _pending, so a full non-blocking socket never loses part of a frame.
 */
#include "internal.h"

#include <limits.h>

enum { FRAME__IDLE, FRAME__WHOLE, FRAME__STREAM, FRAME__FAILED };

/* Fails the encoder for good: every later call returns err. */
static frame_errno frame__encoder_fail(frame_encoder *e, frame_errno err) {
    e->_state = FRAME__FAILED;
    e->_errno = (unsigned char)err;
    return err;
}

FRAME_API frame_errno frame_encoder_init(frame_encoder *e, frame_write_fn write, void *ctx) {
    if (!e) return FRAME_E_ARGUMENT;
    memset(e, 0, sizeof *e);
    e->_write = write;
    e->_ctx = ctx;
    return write ? FRAME_OK : frame__encoder_fail(e, FRAME_E_ARGUMENT);
}

/* Writes the pending spans in order: the head's rest, then the body's. */
static frame_errno frame__flush(frame_encoder *e) {
    for (;;) {
        int i = !e->_pending_len[0];
        /* What the callback can report taking is at most LONG_MAX. */
        size_t len = e->_pending_len[i] > (size_t)LONG_MAX ? (size_t)LONG_MAX : e->_pending_len[i];
        long r;
        if (!len) return FRAME_OK;
        r = e->_write(e->_ctx, e->_pending[i], len);
        /* A negative r is a failure too: as unsigned, it is above LONG_MAX. */
        if ((unsigned long)r > len) {
            e->_write_result = r;
            return frame__encoder_fail(e, FRAME_E_WRITE);
        }
        e->_pending[i] += r;
        e->_pending_len[i] -= (size_t)r;
        if ((size_t)r < len) return FRAME_E_WOULD_BLOCK;
    }
}

/* The writing calls, numbered so that op & FRAME__STREAM is the state each
 * must find (IDLE for write and begin, STREAM for body and end) and op + 1 the
 * state write and begin enter (WHOLE, STREAM). */
enum { FRAME__OP_WRITE, FRAME__OP_BEGIN, FRAME__OP_BODY, FRAME__OP_END, FRAME__OP_RESUME };

/*
 * The writing calls and resume in one, so that the entry checks and the
 * writing exist once: a failed encoder repeats its error; but for resume,
 * nothing may start while bytes are pending, nor in another state, and data
 * may be NULL only when len is 0. Then what op does, then the writing of the
 * queued spans (all resume does).
 */
static frame_errno frame__op(frame_encoder *e, const void *data, size_t len, int op,
                             frame_builder *b) {
    const void *head;
    frame_errno err;
    int state = op & FRAME__STREAM;
    if (!e) return FRAME_E_ARGUMENT;
    if (e->_state == FRAME__FAILED) return (frame_errno)e->_errno;
    if (op != FRAME__OP_RESUME) {
        if (e->_state != state || (e->_pending_len[0] | e->_pending_len[1]) || (!data && len))
            return FRAME_E_ARGUMENT;
        if (op == FRAME__OP_END) {
            /* Short: the peer is now waiting for bytes that will never come. */
            if (e->_written != e->_declared) return frame__encoder_fail(e, FRAME_E_SIZE_MISMATCH);
            state = FRAME__IDLE;
        } else if (op == FRAME__OP_BODY) {
            /* Refused whole: no frame carries more than it declares. */
            if (len > e->_declared - e->_written) return FRAME_E_SIZE_MISMATCH;
            e->_written += len;
        } else {
            /* A failed builder reports its own error below. */
            if (op == FRAME__OP_WRITE && b && !b->_errno && b->_body_size != len)
                return FRAME_E_SIZE_MISMATCH;
            /* FRAME_E_ARGUMENT for NULL; nothing stored on an error. */
            err = frame_builder_finish(b, &head, &e->_pending_len[0]);
            if (err) return err;
            e->_pending[0] = (const unsigned char *)head;
            e->_declared = b->_body_size;
            e->_written = len;
            state = op + 1;
        }
        e->_pending[1] = (const unsigned char *)data;
        e->_pending_len[1] = len;
        e->_state = (unsigned char)state;
    }
    err = frame__flush(e);
    if (!err && e->_state == FRAME__WHOLE) e->_state = FRAME__IDLE;
    return err;
}

FRAME_API frame_errno frame_write(frame_encoder *e, frame_builder *b, const void *body, size_t len) {
    return frame__op(e, body, len, FRAME__OP_WRITE, b);
}

FRAME_API frame_errno frame_write_begin(frame_encoder *e, frame_builder *b) {
    return frame__op(e, NULL, 0, FRAME__OP_BEGIN, b);
}

FRAME_API frame_errno frame_write_body(frame_encoder *e, const void *chunk, size_t len) {
    return frame__op(e, chunk, len, FRAME__OP_BODY, NULL);
}

FRAME_API frame_errno frame_write_end(frame_encoder *e) {
    return frame__op(e, NULL, 0, FRAME__OP_END, NULL);
}

FRAME_API frame_errno frame_encoder_resume(frame_encoder *e) {
    return frame__op(e, NULL, 0, FRAME__OP_RESUME, NULL);
}

FRAME_API size_t frame_encoder_pending(const frame_encoder *e) {
    return e ? e->_pending_len[0] + e->_pending_len[1] : 0;
}

FRAME_API long frame_encoder_write_result(const frame_encoder *e) { return e ? e->_write_result : 0; }
