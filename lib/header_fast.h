/*
 * lib/header_fast.h: how frame_value_string() decodes a string in speed
 * builds (not FRAME_SMALL): frame__scan_string, a run of plain bytes at a
 * time; lib/header_small.h is the size builds' side. Included by
 * lib/header.c in one place. Private.
 *
 *   frame__sink_clear(sink)         makes sink empty: no buffer (it only
 *                                   counts), no hash
 *   frame__decode_string(v, sink)   feeds the decoded bytes of the string
 *                                   value v to sink; returns its error
 */
#ifndef FRAME_HEADER_FAST_H
#define FRAME_HEADER_FAST_H

static FRAME__INLINE void frame__sink_clear(frame__sink *sink) { memset(sink, 0, sizeof *sink); }

static FRAME__INLINE frame_errno frame__decode_string(const frame_value *v, frame__sink *sink) {
    const frame__u8 *p = (const frame__u8 *)v->json;
    return frame__scan_string(&p, p + v->len, sink);
}

#endif /* FRAME_HEADER_FAST_H */
