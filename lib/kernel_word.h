/*
 * lib/kernel_word.h: the portable string kernel (see scan.h): 8 bytes per
 * step in plain C99, for targets with no vector kernel here.
 */
#define FRAME__KERNEL_NAME "word"

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

static FRAME__INLINE const frame__u8 *frame__kernel_special(const frame__u8 *p, const frame__u8 *end) {
    while (end - p >= 8) {
        uint64_t m = frame__special8(frame__load64(p));
        if (m) return p + frame__first_flag(m);
        p += 8;
    }
    while (p < end && !FRAME__IS_SPECIAL(*p)) p++;
    return p;
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

static FRAME__INLINE void frame__kernel_classify(const frame__u8 *p, frame__classes *c) {
    unsigned i;
    c->stop = c->high = c->space = 0;
    for (i = 0; i < 64; i += 8) {
        uint64_t w = frame__load64(p + i), low = w & ~FRAME__HIGHS;
        /* Bytes below 0x20, of those under 0x80: exact, as for equal8. */
        uint64_t ctrl = ~((low + (FRAME__ONES * 0x60)) | w) & FRAME__HIGHS;
        uint64_t stop = ctrl | frame__equal8(w, '"') | frame__equal8(w, '\\');
        uint64_t space = frame__equal8(w, ' ') | frame__equal8(w, '\t') | frame__equal8(w, '\n') |
                         frame__equal8(w, '\r');
        c->stop |= (uint64_t)frame__gather8(stop) << i;
        c->high |= (uint64_t)frame__gather8(w & FRAME__HIGHS) << i;
        c->space |= (uint64_t)frame__gather8(space) << i;
    }
}
