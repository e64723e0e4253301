/*
 * Writing frames through the caller's transport. A short write parks what is
 * left in _pending, so a full non-blocking socket never loses part of a frame.
 */
#include "internal.h"

#include <limits.h>

enum { FRAME__IDLE, FRAME__WHOLE, FRAME__STREAM, FRAME__FAILED };

FRAME_API frame_errno frame_encoder_init(frame_encoder *e, frame_write_fn write, void *ctx) {
    if (!e) return FRAME_E_ARGUMENT;
    memset(e, 0, sizeof *e);
    e->_write = write;
    e->_ctx = ctx;
    if (write) return FRAME_OK;
    e->_state = FRAME__FAILED;
    e->_errno = FRAME_E_ARGUMENT;
    return FRAME_E_ARGUMENT;
}

/* Writes the pending spans in order. */
static frame_errno frame__flush(frame_encoder *e) {
    int i;
    for (i = 0; i < 2; i++) {
        while (e->_pending_len[i]) {
            /* What the callback can report taking is at most LONG_MAX. */
            size_t len = e->_pending_len[i] > (size_t)LONG_MAX ? (size_t)LONG_MAX : e->_pending_len[i];
            long r = e->_write(e->_ctx, e->_pending[i], len);
            if (r < 0 || (unsigned long)r > len) {
                e->_write_result = r;
                e->_state = FRAME__FAILED;
                e->_errno = FRAME_E_WRITE;
                return FRAME_E_WRITE;
            }
            e->_pending[i] += r;
            e->_pending_len[i] -= (size_t)r;
            if ((size_t)r < len) return FRAME_E_WOULD_BLOCK;
        }
    }
    return FRAME_OK;
}

/* Common entry checks: a failed encoder repeats its error; nothing may start
 * while bytes are pending. */
static frame_errno frame__ready(const frame_encoder *e, int state) {
    if (!e) return FRAME_E_ARGUMENT;
    if (e->_state == FRAME__FAILED) return (frame_errno)e->_errno;
    if (e->_state != state || frame_encoder_pending(e)) return FRAME_E_ARGUMENT;
    return FRAME_OK;
}

static frame_errno frame__head(frame_encoder *e, frame_builder *b) {
    const void *head;
    size_t len;
    frame_errno err = b ? frame_builder_finish(b, &head, &len) : FRAME_E_ARGUMENT;
    if (err) return err;
    e->_pending[0] = (const unsigned char *)head;
    e->_pending_len[0] = len;
    e->_declared = b->_body_size;
    e->_written = 0;
    return FRAME_OK;
}

FRAME_API frame_errno frame_write(frame_encoder *e, frame_builder *b, const void *body, size_t len) {
    frame_errno err = frame__ready(e, FRAME__IDLE);
    if (err) return err;
    if (!body && len) return FRAME_E_ARGUMENT;
    if (b && !b->_errno && b->_body_size != len) return FRAME_E_SIZE_MISMATCH;
    err = frame__head(e, b);
    if (err) return err;
    e->_pending[1] = (const unsigned char *)body;
    e->_pending_len[1] = len;
    e->_written = len;
    e->_state = FRAME__WHOLE;
    return frame_encoder_resume(e);
}

FRAME_API frame_errno frame_write_begin(frame_encoder *e, frame_builder *b) {
    frame_errno err = frame__ready(e, FRAME__IDLE);
    if (!err) err = frame__head(e, b);
    if (err) return err;
    e->_state = FRAME__STREAM;
    return frame__flush(e);
}

FRAME_API frame_errno frame_write_body(frame_encoder *e, const void *chunk, size_t len) {
    frame_errno err = frame__ready(e, FRAME__STREAM);
    if (err) return err;
    if (!chunk && len) return FRAME_E_ARGUMENT;
    /* Refused whole: no frame carries more than it declares. */
    if (len > e->_declared - e->_written) return FRAME_E_SIZE_MISMATCH;
    e->_written += len;
    e->_pending[1] = (const unsigned char *)chunk;
    e->_pending_len[1] = len;
    return frame__flush(e);
}

FRAME_API frame_errno frame_write_end(frame_encoder *e) {
    frame_errno err = frame__ready(e, FRAME__STREAM);
    if (err) return err;
    if (e->_written != e->_declared) {
        /* The peer is now waiting for bytes that will never come. */
        e->_state = FRAME__FAILED;
        e->_errno = FRAME_E_SIZE_MISMATCH;
        return FRAME_E_SIZE_MISMATCH;
    }
    e->_state = FRAME__IDLE;
    return FRAME_OK;
}

FRAME_API frame_errno frame_encoder_resume(frame_encoder *e) {
    frame_errno err;
    if (!e) return FRAME_E_ARGUMENT;
    if (e->_state == FRAME__FAILED) return (frame_errno)e->_errno;
    err = frame__flush(e);
    if (!err && e->_state == FRAME__WHOLE) e->_state = FRAME__IDLE;
    return err;
}

FRAME_API size_t frame_encoder_pending(const frame_encoder *e) {
    return e ? e->_pending_len[0] + e->_pending_len[1] : 0;
}

FRAME_API long frame_encoder_write_result(const frame_encoder *e) { return e ? e->_write_result : 0; }
