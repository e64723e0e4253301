/*
 * lib/words.h: reading 8 bytes at a time in plain C99, for the kernels
 * (scan.h) and the name hash. Private.
 */
#ifndef FRAME_WORDS_H
#define FRAME_WORDS_H

#include "internal.h"

/* Words are little-endian on every host, so that word-wise name hashes
 * agree everywhere (and between a plain name and its escaped spelling,
 * which is hashed from its decoded bytes), and so that the lowest flagged
 * byte of a mask is the first byte: one load or store where that is the
 * host's order (memcpy becomes a move), bytes put together elsewhere. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FRAME__LE 1
#else
#define FRAME__LE 0
#endif

static FRAME__INLINE uint64_t frame__load64(const frame__u8 *p) {
    uint64_t w;
    if (FRAME__LE) {
        memcpy(&w, p, 8);
        return w;
    }
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static FRAME__INLINE uint64_t frame__load4(const frame__u8 *p) {
    uint32_t w;
    if (FRAME__LE) {
        memcpy(&w, p, 4);
        return w;
    }
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
}

/* The last r (0..7) bytes of [start, end) in the low bytes of a word, the
 * others 0, read without going outside [start, end): in one load when
 * there are 8 bytes or more, else in overlapping ones (a byte read twice
 * lands in the same place). */
static FRAME__INLINE uint64_t frame__load_tail(const frame__u8 *start, const frame__u8 *end, size_t r) {
    const frame__u8 *p = end - r;
    if (!r) return 0;
    if (end - start >= 8) return frame__load64(end - 8) >> (8 * (8 - r));
    if (r >= 4) return frame__load4(p) | frame__load4(end - 4) << (8 * (r - 4));
    return (uint64_t)p[0] | (uint64_t)p[r >> 1] << (8 * (r >> 1)) | (uint64_t)end[-1] << (8 * (r - 1));
}

/* Stores the 8 bytes of w, little-endian (one store where that is the
 * host's order). */
static FRAME__INLINE void frame__store8(frame__u8 *o, uint64_t w) {
    unsigned i;
    if (FRAME__LE) memcpy(o, &w, 8);
    else
        for (i = 0; i < 8; i++) o[i] = (frame__u8)(w >> (8 * i));
}

/* The bytes a string scan stops at: '"', '\\', controls and non-ASCII (one
 * comparison for those two: below 0x20 or from 0x80 on). */
#define FRAME__IS_SPECIAL(c) ((unsigned)(c) - 0x20u >= 0x60u || (c) == '"' || (c) == '\\')

#define FRAME__ONES 0x0101010101010101ull
#define FRAME__HIGHS 0x8080808080808080ull

/* Nonzero when one of the 8 bytes of w is special; its lowest flagged byte
 * is the first special one (a borrow only ever runs upwards from a flagged
 * byte, so bytes above the first may be flagged wrongly, never below). */
static FRAME__INLINE uint64_t frame__special8(uint64_t w) {
    uint64_t q = w ^ (FRAME__ONES * '"'), b = w ^ (FRAME__ONES * '\\');
    return (((q - FRAME__ONES) & ~q) | ((b - FRAME__ONES) & ~b) | (w - FRAME__ONES * 0x20) | w) &
           FRAME__HIGHS;
}

/* The top bit of each byte of w that a string scan or writer stops at: '"', '\\',
 * a control or a byte >= 0x80 (FRAME__IS_SPECIAL). Exact where
 * frame__special8 is exact for the first only, and two constants fewer:
 * the tests run on the low 7 bits of each byte, so that no carry or borrow
 * crosses a byte, and a byte with its top bit set is flagged whatever they
 * say. */
static FRAME__INLINE uint64_t frame__special8_exact(uint64_t w) {
    uint64_t low = w & ~FRAME__HIGHS;
    /* Each sum has its top bit clear exactly when the byte is a control,
     * '"' or '\\' (the xor leaves 0 for these two). */
    uint64_t plain = (low + FRAME__ONES * 0x60) & ((low ^ (FRAME__ONES * '"')) + ~FRAME__HIGHS) &
                     ((low ^ (FRAME__ONES * '\\')) + ~FRAME__HIGHS);
    return (w | ~plain) & FRAME__HIGHS;
}

/* The index of the lowest flagged byte of a nonzero special8 mask. */
static FRAME__INLINE unsigned frame__first_flag(uint64_t mask) {
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(mask) >> 3;
#else
    unsigned k = 0;
    while (!(mask & 0x80)) mask >>= 8, k++;
    return k;
#endif
}

/* The index of the lowest set bit of a nonzero mask. */
static FRAME__INLINE unsigned frame__lowest_bit(uint64_t mask) {
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(mask);
#else
    unsigned k = 0;
    while (!(mask & 1)) mask >>= 1, k++;
    return k;
#endif
}

/* The top bit of each byte of w that equals c (exact: no borrow crosses
 * bytes, as the high bits are taken off first). */
static FRAME__INLINE uint64_t frame__equal8(uint64_t w, frame__u8 c) {
    uint64_t x = w ^ (FRAME__ONES * c);
    return ~(((x & ~FRAME__HIGHS) + ~FRAME__HIGHS) | x) & FRAME__HIGHS;
}

/* The top bits of a word's bytes gathered into 8 bits, byte k to bit k. */
static FRAME__INLINE unsigned frame__gather8(uint64_t highs) {
    return (unsigned)(((highs >> 7) * 0x0102040810204080ull) >> 56);
}

/* The first byte in [p, end) that a string scan must look at
 * (FRAME__IS_SPECIAL), or end, where fewer than 16 bytes are left: one
 * 8-byte step, then single bytes. The tail of every kernel but the small
 * one. */
static FRAME__INLINE const frame__u8 *frame__special_tail(const frame__u8 *p, const frame__u8 *end) {
    if (end - p >= 8) {
        uint64_t m = frame__special8(frame__load64(p));
        if (m) return p + frame__first_flag(m);
        p += 8;
    }
    while (p < end && !FRAME__IS_SPECIAL(*p)) p++;
    return p;
}

/* The top bit of each byte of w that is an ASCII digit (exact). */
static FRAME__INLINE uint64_t frame__digit8(uint64_t w) {
    uint64_t x = w & ~FRAME__HIGHS;
    /* A digit's low 7 bits are at least 0x30 (adding 0x50 sets the top bit)
     * and below 0x3a (adding 0x46 does not); no carry leaves a byte. */
    return (x + FRAME__ONES * 0x50) & ~(x + FRAME__ONES * 0x46) & ~w & FRAME__HIGHS;
}

/* The value of the ASCII digits in [p, end), at most 19 of them: below
 * 10^19, so no overflow (frame__decimal checks longer ones). */
static FRAME__INLINE uint64_t frame__digits_value(const frame__u8 *p, const frame__u8 *end) {
    uint64_t n = 0;
    for (; p < end; p++) n = n * 10 + (unsigned)(*p - '0');
    return n;
}

/* The value of the n (1 to 8) ASCII digits in the low bytes of w, the
 * first in the lowest: pairs of digits, then of pairs, then of those, each
 * step one multiply (no sum leaves its lane). */
static FRAME__INLINE uint64_t frame__digits_value8(uint64_t w, size_t n) {
    /* The digits to the top bytes, so that the bytes below are leading
     * zeros. */
    w = (w << (64 - 8 * n)) & (FRAME__ONES * 0x0f);
    w = (w * 10 + (w >> 8)) & 0x00ff00ff00ff00ffull;
    w = (w * 100 + (w >> 16)) & 0x0000ffff0000ffffull;
    return (w * 10000 + (w >> 32)) & 0xffffffffull;
}

/* The first byte in [p, end) that is not an ASCII digit, or end: 8 bytes
 * per step. */
static FRAME__INLINE const frame__u8 *frame__digits8(const frame__u8 *p, const frame__u8 *end) {
    while (end - p >= 8) {
        uint64_t digit = frame__digit8(frame__load64(p));
        if (digit != FRAME__HIGHS) return p + frame__first_flag(~digit & FRAME__HIGHS);
        p += 8;
    }
    while (p < end && FRAME__IS_DIGIT(*p)) p++;
    return p;
}

/* Past JSON white space: compact text, which has none, costs one
 * comparison and no call. */
static FRAME__INLINE const frame__u8 *frame__ws_inline(const frame__u8 *p, const frame__u8 *end) {
    return p < end && *p <= ' ' ? frame__skip_ws(p, end) : p;
}

#endif /* FRAME_WORDS_H */
