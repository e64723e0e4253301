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

enum { FRAME__IDLE, FRAME__WHOLE, FRAME__STREAM, FRAME__FAILED };

/* Fails the encoder for good: every later call returns err. */
static frame_errno frame__encoder_fail(frame_encoder *e, frame_errno err) {
    e->_state = FRAME__FAILED;
    e->_errno = (unsigned char)err;
    return err;
}

/* Both init functions: gather says which member of _write is set. */
static frame_errno frame__encoder_init(frame_encoder *e, int gather, void *ctx) {
    if (!e) return FRAME_E_ARGUMENT;
    e->_ctx = ctx;
    e->_gather = (unsigned char)gather;
    /* Both members are function pointers of the same size. */
    return e->_write.one ? FRAME_OK : frame__encoder_fail(e, FRAME_E_ARGUMENT);
}

FRAME_API frame_errno frame_encoder_init(frame_encoder *e, frame_write_fn write, void *ctx) {
    if (e) {
        memset(e, 0, sizeof *e);
        e->_write.one = write;
    }
    return frame__encoder_init(e, 0, ctx);
}

FRAME_API frame_errno frame_encoder_init_gather(frame_encoder *e, frame_gather_fn write, void *ctx) {
    if (e) {
        memset(e, 0, sizeof *e);
        e->_write.gather = write;
    }
    return frame__encoder_init(e, 1, ctx);
}

/*
 * Writes the pending spans in order, the head's rest then the body's: one
 * transport call per round, both spans in it for a gathering transport. What
 * the callback can report taking is at most LONG_MAX, so a round offers no
 * more.
 */
static frame_errno frame__flush(frame_encoder *e) {
    for (;;) {
        frame_span s[2];
        size_t room = LONG_MAX, total = 0, k;
        int i, n = 0;
        long r;
        for (i = 0; i < 2 && (!n || e->_gather); i++) {
            k = e->_pending_len[i] < room ? e->_pending_len[i] : room;
            if (!k) continue;
            s[n].data = e->_pending[i];
            s[n++].len = k;
            room -= k;
            total += k;
        }
        if (!n) return FRAME_OK;
        r = e->_gather ? e->_write.gather(e->_ctx, s, n) : e->_write.one(e->_ctx, s[0].data, s[0].len);
        /* A negative r is a failure too: as unsigned, it is above LONG_MAX. */
        if ((unsigned long)r > total) {
            e->_write_result = r;
            return frame__encoder_fail(e, FRAME_E_WRITE);
        }
        for (i = 0, room = (size_t)r; i < 2; i++) {
            k = e->_pending_len[i] < room ? e->_pending_len[i] : room;
            e->_pending[i] += k;
            e->_pending_len[i] -= k;
            room -= k;
        }
        if ((size_t)r < total) return FRAME_E_WOULD_BLOCK;
    }
}

/* The writing calls, numbered so that op & FRAME__STREAM is the state each
 * must find (IDLE for write and begin, STREAM for body and end) and op + 1 the
 * state write and begin enter (WHOLE, STREAM). */
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
 * _write_result (a failure's result, and no failure is possible yet) keeps
 * the size of that room: the struct keeps its 1.0 size and layout.
 */
static frame_errno frame__op(frame_encoder *e, const void *data, size_t len, int op,
                             frame_builder *b) {
    const void *head;
    frame_errno err;
    int state = op & FRAME__STREAM;
    if (!e) return FRAME_E_ARGUMENT;
    if (e->_state == FRAME__FAILED) return (frame_errno)e->_errno;
    if (op != FRAME__OP_RESUME) {
        if (e->_state != state || ((e->_pending_len[0] | e->_pending_len[1]) && !e->_held) ||
            (!data && len))
            return FRAME_E_ARGUMENT;
        if (op == FRAME__OP_END) {
            /* Short: the peer is now waiting for bytes that will never come. */
            if (e->_written != e->_declared) return frame__encoder_fail(e, FRAME_E_SIZE_MISMATCH);
            state = FRAME__IDLE;
        } else if (op == FRAME__OP_BODY) {
            /* Refused whole: no frame carries more than it declares. */
            if (len > e->_declared - e->_written) return FRAME_E_SIZE_MISMATCH;
            e->_written += len;
            /* An empty chunk keeps the head back for the next. */
            if (e->_held && !len) return FRAME_OK;
        } else {
            /* A failed builder reports its own error below. */
            if (op == FRAME__OP_WRITE && b && !b->_errno && b->_body_size != len)
                return FRAME_E_SIZE_MISMATCH;
            /* FRAME_E_ARGUMENT for NULL; nothing stored on an error. */
            err = frame_builder_finish(b, &head, &e->_pending_len[0]);
            if (err) return err;
            e->_pending[0] = (const unsigned char *)head;
            /* The room is the builder's; only the held head looks at it. */
            e->_write_result = (long)(b->_cap - b->_len < LONG_MAX ? b->_cap - b->_len : LONG_MAX);
            e->_declared = b->_body_size;
            e->_written = len;
            e->_held = 1;
            state = op + 1;
        }
        if (e->_held && !e->_gather && len && len <= (size_t)e->_write_result) {
            /* Behind the head, in the builder's buffer (writable: the
             * pointer is const only in the encoder): one call takes both. */
            memmove((unsigned char *)(uintptr_t)(e->_pending[0] + e->_pending_len[0]), data, len);
            e->_pending_len[0] += len;
            len = 0;
        }
        e->_pending[1] = (const unsigned char *)data;
        e->_pending_len[1] = len;
        e->_state = (unsigned char)state;
        /* The head waits for the first chunk. */
        if (op == FRAME__OP_BEGIN) return FRAME_OK;
    }
    /* Nothing held any more; _write_result is a failure's again. */
    e->_held = 0;
    e->_write_result = 0;
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
    /* A held head is not waiting for room: nothing has been offered yet. */
    return e && !e->_held ? e->_pending_len[0] + e->_pending_len[1] : 0;
}

FRAME_API long frame_encoder_write_result(const frame_encoder *e) {
    /* While a head is held, _write_result keeps the builder's room. */
    return e && !e->_held ? e->_write_result : 0;
}
