/*
 * lib/header_small.h: the size builds' (FRAME_SMALL) side of
 * lib/header_fast.h: frame_value_string() decodes a string straight
 * through the string iterator, no scan: the least code. Included by
 * lib/header.c in one place. Private.
 */
#ifndef FRAME_HEADER_SMALL_H
#define FRAME_HEADER_SMALL_H

/* Field by field: freestanding targets make memset a call. The capacity
 * is not read: see below. */
static FRAME__ALWAYS_INLINE void frame__sink_clear(frame__sink *sink) {
    sink->buf = NULL;
    sink->len = 0;
}

/* Stores every byte when the sink has a buffer, with no bound: the caller
 * has counted them first. Inline: it has one caller. */
static FRAME__ALWAYS_INLINE frame_errno frame__decode_string(const frame_value *v, frame__sink *sink) {
    frame__siter it;
    int c;
    frame__siter_init(&it, (const frame__u8 *)v->json, (const frame__u8 *)v->json + v->len);
    for (; (c = frame__siter_next(&it)) >= 0; sink->len++)
        if (sink->buf) sink->buf[sink->len] = (frame__u8)c;
    return (frame_errno)(-1 - c); /* FRAME_OK at the closing quote (-1) */
}

#endif /* FRAME_HEADER_SMALL_H */
