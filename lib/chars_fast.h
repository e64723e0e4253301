/*
 * lib/chars_fast.h: how lib/string.c reads characters in speed builds (not
 * FRAME_SMALL); lib/chars_small.h is the size builds' side. Included by
 * string.c in one place. Private.
 *
 *   frame__decimal(p, end, out)    the value of decimal digits (internal.h)
 *   frame__utf8(p, end)            the length of the well-formed UTF-8
 *                                  sequence at p (*p >= 0x80), or 0
 *   frame__yield_ascii(it, p)      takes the ASCII byte at p for the string
 *                                  iterator at once (1), or leaves it to
 *                                  its general path (0)
 *
 * Here: 64-bit arithmetic, the UTF-8 rule of utf8_seq.h, and ASCII at once.
 */
#ifndef FRAME_CHARS_FAST_H
#define FRAME_CHARS_FAST_H

#include "words.h"

int frame__decimal(const frame__u8 *p, const frame__u8 *end, uint64_t *out) {
    /* Up to 19 digits cannot overflow (frame__digits_value); past them,
     * each step is checked. */
    const frame__u8 *safe = end - p > 19 ? p + 19 : end;
    uint64_t n = frame__digits_value(p, safe), m;
    for (p = safe; p < end; p++) {
        /* Above 0x19999999_ffffffff, n * 10 overflows; at or below it, it
         * wraps at most once, to far below n, so the high words tell (no
         * 64-bit division, which small targets call a library for). */
        uint32_t hi = (uint32_t)(n >> 32);
        m = n * 10 + (unsigned)(*p - '0');
        if (hi > 0x19999999u || (uint32_t)(m >> 32) < hi) {
            *out = UINT64_MAX;
            return 0;
        }
        n = m;
    }
    *out = n;
    return 1;
}

/* The rule of utf8_seq.h, inline. */
static size_t frame__utf8(const frame__u8 *p, const frame__u8 *end) { return frame__utf8_seq(p, end); }

/* Faster, but more code. */
static FRAME__INLINE int frame__yield_ascii(frame__siter *it, const frame__u8 *p) {
    it->p = p + 1;
    return 1;
}

#endif /* FRAME_CHARS_FAST_H */
