/*
 * Writing frames through the caller's transport. A short write parks what is
 * left in _pending, so a full non-blocking socket never loses part of a frame.
 *
 * One write per frame: a gathering transport gets head and body in one call;
 * a one-buffer transport gets the body copied behind the head in the
 * builder's buffer when it fits there. The streaming form holds the head back
 * until the first chunk (or the end), so that both leave together.
 */
#include "internal.h"

#include <limits.h>

/* Takes what the transport took off the pending spans (below); the quick
 * path of speed builds ends with it too. */
static frame_errno frame__took(frame_encoder *e, long r, size_t left);

/* One #if: frame_write()'s quick path (speed builds), or none (size
 * builds). */
#if FRAME__SMALL
#include "encode_small.h"
#else
#include "encode_fast.h"
#endif

/* The encoder's states: the streaming form's STREAM is the only one with
 * something to remember. A frame_write() that could not finish leaves IDLE
 * with bytes pending, which only resume takes. A failed encoder is told by
 * its _errno (0 until then). */
enum { FRAME__IDLE = 0, FRAME__STREAM = 2 };

/* Fails the encoder for good: every later call returns err. */
static frame_errno frame__encoder_fail(frame_encoder *e, frame_errno err) {
    e->_errno = (unsigned char)err;
    return err;
}

/* Either transport, as _write holds it. */
typedef union frame__transport {
    frame_write_fn one;
    frame_gather_fn gather;
} frame__transport;

FRAME_API frame_errno frame_encoder_init(frame_encoder *e, frame_write_fn write, void *ctx) {
    if (!e) return FRAME_E_ARGUMENT;
    memset(e, 0, sizeof *e);
    e->_write.one = write;
    e->_ctx = ctx;
    return write ? FRAME_OK : frame__encoder_fail(e, FRAME_E_ARGUMENT);
}

FRAME_API frame_errno frame_encoder_init_gather(frame_encoder *e, frame_gather_fn write, void *ctx) {
    frame__transport w;
    frame_errno err;
    /* Both members are function pointers of the same size: the one-buffer
     * init stores either. */
    w.gather = write;
    err = frame_encoder_init(e, w.one, ctx);
    if (e) e->_gather = 1;
    return err;
}

/*
 * Takes what the transport took, r of the `left` bytes offered from the
 * pending spans, off them. Returns FRAME_OK when it took them all,
 * FRAME_E_WOULD_BLOCK when it took fewer, FRAME_E_WRITE (the encoder
 * failed) when r is neither.
 */
static frame_errno frame__took(frame_encoder *e, long r, size_t left) {
    /* A negative r is a failure too: as unsigned, it is above LONG_MAX. */
    if ((unsigned long)r > left) {
        e->_write_result = r;
        return frame__encoder_fail(e, FRAME_E_WRITE);
    }
    left -= (size_t)r; /* what was not taken */
    if ((size_t)r >= e->_pending_len[0]) {
        /* The first span is gone: the second moves up. */
        r -= (long)e->_pending_len[0];
        e->_pending[0] = e->_pending[1];
        e->_pending_len[0] = e->_pending_len[1];
        e->_pending_len[1] = 0;
    }
    /* Not NULL + 0 when the second span was an empty body's. */
    if (r) {
        e->_pending[0] += r;
        e->_pending_len[0] -= (size_t)r;
    }
    return left ? FRAME_E_WOULD_BLOCK : FRAME_OK;
}

/*
 * Writes the pending spans in order, the head's rest then the body's: one
 * transport call per round, both spans in it for a gathering transport. What
 * the callback can report taking is at most LONG_MAX, so a round offers no
 * more. The first span is empty only when both are.
 */
static frame_errno frame__flush(frame_encoder *e) {
    frame_span s[2];
    frame_errno err;
    size_t offered; /* bytes offered this round: the first span's, plus the second's when gathering */
    long r;
    while ((offered = e->_pending_len[0]) != 0) {
        if (offered > LONG_MAX) offered = LONG_MAX;
        s[0].data = e->_pending[0];
        s[0].len = offered;
        if (e->_gather) {
            s[1].data = e->_pending[1];
            s[1].len = LONG_MAX - offered;
            if (e->_pending_len[1] < s[1].len) s[1].len = e->_pending_len[1];
            offered += s[1].len;
            r = e->_write.gather(e->_ctx, s, 1 + (s[1].len != 0));
        } else {
            /* A one-buffer transport gets one span a round. */
            r = e->_write.one(e->_ctx, s[0].data, offered);
        }
        err = frame__took(e, r, offered);
        if (err) return err;
    }
    return FRAME_OK;
}

/* The writing calls, numbered so that op & FRAME__STREAM is the state each
 * must find (IDLE for write and begin, STREAM for body and end) and
 * (op + 1) & FRAME__STREAM the state each leaves (IDLE for write and end). */
enum { FRAME__OP_WRITE, FRAME__OP_BEGIN, FRAME__OP_BODY, FRAME__OP_END, FRAME__OP_RESUME };

/*
 * The writing calls and resume in one, so that the entry checks and the
 * writing exist once: a failed encoder repeats its error; but for resume,
 * nothing may start while bytes are pending (a held head aside), nor in
 * another state, and data may be NULL only when len is 0. Then what op does,
 * then the writing of the queued spans (all resume does).
 *
 * A one-buffer transport gets the body (or the first chunk) copied behind the
 * head when the builder's buffer has room for it. While the head is held,
 * _pending[1] (the body's span, empty until the head leaves) keeps the end of
 * that buffer, and so the room behind the head: the struct keeps its 1.0
 * size and layout, and _write_result is only ever a failure's.
 */
static frame_errno frame__op(frame_encoder *e, int op, const void *data, size_t len,
                             frame_builder *b) {
    const void *head;
    uint64_t left;
    frame_errno err;
    int k;
    if (!e) return FRAME_E_ARGUMENT;
    if (e->_errno) return (frame_errno)e->_errno;
    if (op != FRAME__OP_RESUME) {
        /* Bytes are pending when the first span has any: it is empty only
         * when both are (frame__flush). */
        if (e->_state != (op & FRAME__STREAM) || (e->_pending_len[0] && !e->_held) || (!data && len))
            return FRAME_E_ARGUMENT;
        if (op < FRAME__OP_BODY) {
            /* A failed builder reports its own error below. */
            if (op == FRAME__OP_WRITE && b && !b->_errno && b->_body_size != len)
                return FRAME_E_SIZE_MISMATCH;
            /* FRAME_E_ARGUMENT for NULL; nothing stored on an error. */
            err = frame_builder_finish(b, &head, &e->_pending_len[0]);
            if (err) return err;
            e->_pending[0] = (const unsigned char *)head;
            /* The room is the builder's; only the held head looks at it. */
            e->_pending[1] = b->_buf + b->_cap; /* its length stays 0 */
            e->_declared = b->_body_size;
            e->_held = 1;
        } else if (op == FRAME__OP_END && e->_declared) {
            /* Short: the peer is now waiting for bytes that will never come. */
            return frame__encoder_fail(e, FRAME_E_SIZE_MISMATCH);
        }
        /* _declared: the body bytes still to come. A chunk that would go
         * past them is refused whole: no frame carries more than it
         * declares (a whole body is its size, and end brings none). */
        left = e->_declared - len; /* wraps past _declared when len is more */
        if (left > e->_declared) return FRAME_E_SIZE_MISMATCH;
        e->_declared = left;
        e->_state = (unsigned char)((op + 1) & FRAME__STREAM);
        if (e->_held) {
            if (!len) {
                /* The head waits for the first chunk: begin, or an empty chunk. */
                if (op == FRAME__OP_BEGIN || op == FRAME__OP_BODY) return FRAME_OK;
            } else {
                /* Behind the head, in the builder's buffer (writable: the
                 * pointer is const only in the encoder): one call takes both. */
                const unsigned char *at = e->_pending[0] + e->_pending_len[0];
                if (!e->_gather && len <= (size_t)(e->_pending[1] - at)) {
                    memmove((unsigned char *)(uintptr_t)at, data, len);
                    e->_pending_len[0] += len;
                    len = 0;
                }
            }
        }
        /* Behind a head still held (over the room), or first (nothing is
         * pending). */
        k = e->_held;
        e->_pending[k] = (const unsigned char *)data;
        e->_pending_len[k] = len;
    }
    /* Nothing held any more: _pending[1] is the body's span again. */
    e->_held = 0;
    return frame__flush(e);
}

FRAME_API frame_errno frame_write(frame_encoder *e, frame_builder *b, const void *body, size_t len) {
    frame_errno err;
    if (frame__write_quick(e, b, body, len, &err)) return err;
    return frame__op(e, FRAME__OP_WRITE, body, len, b);
}

FRAME_API frame_errno frame_write_begin(frame_encoder *e, frame_builder *b) {
    return frame__op(e, FRAME__OP_BEGIN, NULL, 0, b);
}

FRAME_API frame_errno frame_write_body(frame_encoder *e, const void *chunk, size_t len) {
    return frame__op(e, FRAME__OP_BODY, chunk, len, NULL);
}

FRAME_API frame_errno frame_write_end(frame_encoder *e) {
    return frame__op(e, FRAME__OP_END, NULL, 0, NULL);
}

FRAME_API frame_errno frame_encoder_resume(frame_encoder *e) {
    return frame__op(e, FRAME__OP_RESUME, NULL, 0, NULL);
}

FRAME_API size_t frame_encoder_pending(const frame_encoder *e) {
    /* A held head is not waiting for room: nothing has been offered yet. */
    return e && !e->_held ? e->_pending_len[0] + e->_pending_len[1] : 0;
}

FRAME_API long frame_encoder_write_result(const frame_encoder *e) {
    /* Set only by the failure, which nothing follows. */
    return e ? e->_write_result : 0;
}
