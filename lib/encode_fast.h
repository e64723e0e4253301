/*
 * lib/encode_fast.h: frame_write()'s common case in a straight line, for
 * speed builds (not FRAME_SMALL); lib/encode_small.h is the size builds'
 * side, where frame__op() does it all. Included by lib/encode.c in one
 * place. Private.
 *
 *   frame__write_quick(e, b, data, len, &err)   1: the write is done and
 *                                               err is its answer; 0: it is
 *                                               not the common case, and
 *                                               nothing has been touched
 */
#ifndef FRAME_ENCODE_FAST_H
#define FRAME_ENCODE_FAST_H

/*
 * The common case: an encoder with nothing pending and no error, a
 * one-buffer transport, a builder with no error whose body size is len,
 * and a body that fits behind the head. A builder not yet finished (with
 * members: not the raw profile) is finished here: the header closed (a
 * byte is always free for the brace) and the prefix written. Then the body
 * is copied behind the head and the frame offered in one call: what
 * frame__op() does for it, without the checks that cannot fail here, and
 * leaving the encoder as it leaves it.
 */
static FRAME__INLINE int frame__write_quick(frame_encoder *e, frame_builder *b, const void *data, size_t len,
                                            frame_errno *err) {
    unsigned char *buf;
    size_t head, n;
    long r;
    if (!e || !b || e->_errno || e->_state || (e->_pending_len[0] | e->_pending_len[1]) || e->_gather ||
        b->_errno || b->_body_size != len || (!data && len) || (!b->_finished && !b->_members))
        return 0;
    head = b->_len + !b->_finished;
    if (len > b->_cap - head || b->_cap > LONG_MAX) return 0;
    buf = b->_buf;
    if (!b->_finished) {
        const frame_config *cfg = b->_cfg;
        buf[head - 1] = '}';
        b->_len = head;
        if ((cfg->prefix_width | 4u) == 4u && !cfg->big_endian) {
            size_t v = head - 4;
            buf[0] = (unsigned char)v;
            buf[1] = (unsigned char)(v >> 8);
            buf[2] = (unsigned char)(v >> 16);
            buf[3] = (unsigned char)(v >> 24);
        } else {
            frame__put_prefix(buf, cfg, head - frame__width(cfg));
        }
        b->_finished = 1;
    }
    /* The body may lie in the buffer itself. */
    if (len) memmove(buf + head, data, len);
    n = head + len;
    e->_declared = 0;
    e->_held = 0;
    e->_pending[0] = buf;
    e->_pending_len[0] = n;
    e->_pending[1] = (const unsigned char *)data;
    r = e->_write.one(e->_ctx, buf, n);
    if (r == (long)n) {
        /* As frame__took leaves it. */
        e->_pending[0] = (const unsigned char *)data;
        e->_pending_len[0] = 0;
        *err = FRAME_OK;
    } else {
        *err = frame__took(e, r, n);
    }
    return 1;
}

#endif /* FRAME_ENCODE_FAST_H */
