/*
 * lib/utf8_seq.h: the UTF-8 rule of speed builds (RFC 3629: no overlongs,
 * surrogates or code points above U+10FFFF), once: string.c's checks
 * (chars_fast.h), the validator's string scan (string_fast.h) and the
 * builder's string writer (builder_fast.h) inline it. Private.
 */
#ifndef FRAME_UTF8_SEQ_H
#define FRAME_UTF8_SEQ_H

#include "internal.h"

/* The length of the well-formed UTF-8 sequence at p (*p >= 0x80), or 0.
 * Two bytes (lead 0xc2..0xdf) first, the most common; for three and four,
 * the second byte's range excludes overlongs (after 0xe0, 0xf0),
 * surrogates (after 0xed) and code points above U+10FFFF (after 0xf4). */
static FRAME__INLINE size_t frame__utf8_seq(const frame__u8 *p, const frame__u8 *end) {
    unsigned c = p[0], lo = 0x80, hi = 0xbf;
    size_t left = (size_t)(end - p), n;
    if (c < 0xe0) return c >= 0xc2 && left >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c > 0xf4) return 0;
    n = c < 0xf0 ? 3 : 4;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if (left < n || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80) return 0;
    if (n == 4 && (p[3] & 0xc0) != 0x80) return 0;
    return n;
}

#endif /* FRAME_UTF8_SEQ_H */
