/*
 * lib/decode_fast.h: the decoder's straight path for frames that lie whole
 * in the data fed, the speed builds' (not FRAME_SMALL) side; included by
 * lib/decode.c, in one place, with lib/decode_small.h, the size builds'
 * side of the same interface. Each is empty in the other's build. Private.
 * What each side gives decode.c:
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
 * is read in one go, the header validated where it lies, the body handed
 * over in one chunk. Whatever is not plain (a frame cut short by the end of
 * the data, a prefix the state machine must report, a header with an error,
 * the raw profile) is left to the state machine before anything of that
 * frame is changed, so that every verdict, offset and callback is the
 * machine's.
 */
#ifndef FRAME_DECODE_FAST_H
#define FRAME_DECODE_FAST_H
#if !FRAME__SMALL

/* Out of line: frame__part_done (and frame__whole_frames in it) inside
 * frame_feed would cost the loop that takes a long body chunk by chunk a
 * few more instructions a chunk, for the registers they need. */
#define FRAME__PART_OUT FRAME__NOINLINE

/* frame__whole_frames for a prefix of `width` octets in the byte order
 * `big` says (constants where inlined for the default prefix). */
static FRAME__ALWAYS_INLINE int frame__frames_in(frame_decoder *d, const frame__u8 **pp, const frame__u8 *end,
                                                 unsigned width, int big) {
    const frame__u8 *p = *pp;
    int stop = 0;
    uint64_t limit, v, n;
    frame__json_job job;
    frame_header h;
    /* Once per call, not per frame. A prefix never holds more than its
     * width can, so max_header alone is the limit here. The job is
     * frame__parse_header's, without its call. */
    limit = frame__limit(d->_cfg, 0);
    memset(&job, 0, sizeof job);
    job.header = 1;
    job.cfg = d->_cfg;
    for (;;) {
        n = (size_t)(end - p);
        if (n <= width) break;
        v = frame__prefix_value(p, width, big);
        /* Empty, too large, or not all here: the machine reports it or
         * waits for the rest. A header with an error goes there too, to be
         * validated again: an error stops the decoder, so that is once per
         * error. */
        if (v - 1 >= limit || v > n - width) break;
        job.start = p + width;
        job.end = job.start + (size_t)v;
        job.members = 0;
        if (frame__json_validate(&job)) break;
        frame__header_view(&h, job.start, job.end, job.size, FRAME_OK);
        /* As the machine leaves it when the header is done. */
        p = job.end;
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

/* See above. Between frames, d is as the machine leaves it at FRAME__START;
 * within one, as the machine leaves it at each callback. */
static int frame__whole_frames(frame_decoder *d, const frame__u8 **pp, const frame__u8 *end) {
    unsigned width = d->_width;
    int big = d->_flags & FRAME__BIG_ENDIAN;
    /* A raw frame has no header to parse: the machine's trip is short. */
    if (d->_flags & FRAME__RAW_PROFILE) return 0;
    /* The default prefix, its width and byte order constants there: read
     * in one load. */
    return width == 4 && !big ? frame__frames_in(d, pp, end, 4, 0) : frame__frames_in(d, pp, end, width, big);
}

#endif /* !FRAME__SMALL */
#endif /* FRAME_DECODE_FAST_H */
