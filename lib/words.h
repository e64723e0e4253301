/*
 * lib/words.h: reading 8 bytes at a time in plain C99, for the kernels
 * (scan.h) and the name hash. Private.
 */
#ifndef FRAME_WORDS_H
#define FRAME_WORDS_H

/* 8 bytes as a little-endian word on every host, so that word-wise name
 * hashes agree everywhere (and between a plain name and its escaped
 * spelling, which is hashed from its decoded bytes). */
static FRAME__INLINE uint64_t frame__load64(const frame__u8 *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

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

/* The first byte in [p, end) that is not an ASCII digit, or end: 8 bytes
 * per step. */
static FRAME__INLINE const frame__u8 *frame__digits8(const frame__u8 *p, const frame__u8 *end) {
    while (end - p >= 8) {
        uint64_t w = frame__load64(p), x = w & ~FRAME__HIGHS;
        /* A digit's low 7 bits are at least 0x30 (adding 0x50 sets the top
         * bit) and below 0x3a (adding 0x46 does not); no carry leaves a byte. */
        uint64_t digit = (x + FRAME__ONES * 0x50) & ~(x + FRAME__ONES * 0x46) & ~w & FRAME__HIGHS;
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
