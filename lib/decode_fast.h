/*
 * lib/decode_fast.h: the decoder's straight path for frames that lie whole
 * in the data fed, included by lib/decode.c in speed builds (not
 * FRAME_SMALL) in one place; lib/decode_small.h is the size builds' side of
 * the same interface. Private. What each side gives decode.c:
 *
 *   frame__whole_frames(d, pp, end)  at a frame's start (FRAME__START,
 *                                    *pp < end), decodes the frames whose
 *                                    prefix and header lie whole in
 *                                    [*pp, end); 1: the decoder must stop
 *                                    (or the data is used up), 0: the frame
 *                                    at *pp is for the state machine
 *   FRAME__PART_OUT                  keeps frame__part_done out of line
 *
 * A frame here costs no trip round frame_feed's loop per part: the prefix
 * is read in one go, the header parsed where it lies, the body handed over
 * in one chunk. Whatever is not plain (a frame cut short by the end of the
 * data, a prefix the state machine must report, a header with an error, the
 * raw profile) is left to the state machine before anything of that frame
 * is changed, so that every verdict, offset and callback is the machine's.
 */
#ifndef FRAME_DECODE_FAST_H
#define FRAME_DECODE_FAST_H

/* Out of line: frame__part_done (and frame__whole_frames in it) inside
 * frame_feed would cost the loop that takes a long body chunk by chunk a
 * few more instructions a chunk, for the registers they need. */
#define FRAME__PART_OUT FRAME__NOINLINE

/* The prefix of `width` octets at p, in the byte order `big` says. */
static FRAME__INLINE uint64_t frame__prefix_at(const frame__u8 *p, unsigned width, int big) {
    uint64_t v = 0;
    unsigned i;
    /* The default width, written so that compilers make it one load. */
    if (width == 4)
        return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
                   : p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    for (i = 0; i < width; i++) v = big ? v << 8 | p[i] : v | (uint64_t)p[i] << 8 * i;
    return v;
}

/* See above. Between frames, d is as the machine leaves it at FRAME__START;
 * within one, as the machine leaves it at each callback. */
static int frame__whole_frames(frame_decoder *d, const frame__u8 **pp, const frame__u8 *end) {
    const frame__u8 *p = *pp;
    unsigned width = d->_width;
    int big = d->_flags & FRAME__BIG_ENDIAN, stop = 0;
    uint64_t limit, v, n;
    frame_header h;
    size_t pos;
    /* A raw frame has no header to parse: the machine's trip is short. */
    if (d->_flags & FRAME__RAW_PROFILE) return 0;
    /* Once per call, not per frame. A prefix never holds more than its
     * width can, so max_header alone is the limit here. */
    limit = frame__limit(d->_cfg, 0);
    for (;;) {
        n = (size_t)(end - p);
        if (n <= width) break;
        v = frame__prefix_at(p, width, big);
        /* Empty, too large, or not all here: the machine reports it or
         * waits for the rest. A header with an error goes there too, to be
         * parsed again: an error stops the decoder, so that is once per
         * error. */
        if (v - 1 >= limit || v > n - width || frame__parse_header(d->_cfg, p + width, (size_t)v, &h, &pos))
            break;
        /* As the machine leaves it when the header is done. */
        p += width + (size_t)v;
        d->_offset += width + v;
        d->_declared = d->_remaining = h.body_size;
        d->_state = FRAME__BODY;
        stop = 1;
        if (d->_cb && d->_cb->on_header && frame__stop(d, d->_cb->on_header(d, &h), 1)) break;
        /* Read again: the callback may have changed the state (a reset). */
        n = d->_remaining;
        if (n > (size_t)(end - p)) n = (size_t)(end - p);
        if (n) {
            d->_offset += n;
            d->_remaining -= n;
            p += n;
            if (d->_state == FRAME__BODY && d->_cb && d->_cb->on_body &&
                frame__stop(d, d->_cb->on_body(d, p - n, (size_t)n), 0))
                break;
        }
        if (d->_remaining) break; /* the data is used up; the body goes on */
        if (d->_state != FRAME__START && frame__frame_end(d)) break;
        if (p == end) break;
        stop = 0;
    }
    *pp = p;
    return stop;
}

#endif /* FRAME_DECODE_FAST_H */
