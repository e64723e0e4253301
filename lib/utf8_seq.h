/*
 * lib/utf8_seq.h: the UTF-8 rule of speed builds (RFC 3629: no overlongs,
 * surrogates or code points above U+10FFFF), once: string.c's checks and
 * the validator's string scan (string_fast.h) both inline it. Private.
 */
#ifndef FRAME_UTF8_SEQ_H
#define FRAME_UTF8_SEQ_H

#include "internal.h"

/* The length of the well-formed UTF-8 sequence at p (*p >= 0x80), or 0. */
static FRAME__INLINE size_t frame__utf8_seq(const frame__u8 *p, const frame__u8 *end) {
    frame__u8 c = p[0], lo = 0x80, hi = 0xbf;
    size_t n = c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0, i;
    /* The second byte's range excludes overlongs, surrogates and > U+10FFFF. */
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if (!n || (size_t)(end - p) < n || p[1] < lo || p[1] > hi) return 0;
    for (i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return n;
}

#endif /* FRAME_UTF8_SEQ_H */
