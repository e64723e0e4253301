/*
 * lib/utf8_seq.h: the UTF-8 rule of speed builds (RFC 3629: no overlongs,
 * surrogates or code points above U+10FFFF), once: string.c's checks
 * (chars_fast.h), the validator's string scan (string_fast.h) and the
 * builder's string writer (builder_fast.h) inline it. Private.
 */
#ifndef FRAME_UTF8_SEQ_H
#define FRAME_UTF8_SEQ_H

#include "internal.h"

/* The leads of well-formed sequences: 0xc2..0xf4 (0xc0 and 0xc1 only
 * begin overlongs). After lead c the second byte is from FRAME__UTF8_LO(c)
 * to FRAME__UTF8_HI(c): a continuation byte whose range excludes overlongs
 * (after 0xe0, 0xf0), surrogates (after 0xed) and code points above
 * U+10FFFF (after 0xf4). */
#define FRAME__UTF8_IS_LEAD(c) ((c) >= 0xc2 && (c) <= 0xf4)
#define FRAME__UTF8_LO(c) ((c) == 0xe0 ? 0xa0u : (c) == 0xf0 ? 0x90u : 0x80u)
#define FRAME__UTF8_HI(c) ((c) == 0xed ? 0x9fu : (c) == 0xf4 ? 0x8fu : 0xbfu)

/* The length of the well-formed UTF-8 sequence at p (*p >= 0x80), or 0.
 * Two bytes (lead 0xc2..0xdf) first, the most common. */
static FRAME__INLINE size_t frame__utf8_seq(const frame__u8 *p, const frame__u8 *end) {
    unsigned c = p[0], lo, hi;
    size_t left = (size_t)(end - p), n;
    if (c < 0xe0) return c >= 0xc2 && left >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c > 0xf4) return 0;
    n = c < 0xf0 ? 3 : 4;
    lo = FRAME__UTF8_LO(c);
    hi = FRAME__UTF8_HI(c);
    if (left < n || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80) return 0;
    if (n == 4 && (p[3] & 0xc0) != 0x80) return 0;
    return n;
}

#endif /* FRAME_UTF8_SEQ_H */
