/*
 * lib/kernel_word.h: the portable string kernel (see scan.h): 8 bytes per
 * step in plain C99, for targets with no vector kernel here.
 */
#define FRAME__KERNEL_NAME "word"

#define frame__kernel_digits frame__digits8
#define frame__kernel_ws frame__ws_inline

static FRAME__INLINE const frame__u8 *frame__kernel_special(const frame__u8 *p, const frame__u8 *end) {
    while (end - p >= 16) {
        uint64_t m = frame__special8(frame__load64(p));
        if (m) return p + frame__first_flag(m);
        p += 8;
    }
    return frame__special_tail(p, end);
}

static FRAME__INLINE unsigned frame__kernel_special16(const frame__u8 *p) {
    return frame__gather8(frame__special8_exact(frame__load64(p))) |
           frame__gather8(frame__special8_exact(frame__load64(p + 8))) << 8;
}

static FRAME__INLINE unsigned frame__kernel_quotes16(const frame__u8 *p) {
    return frame__gather8(frame__equal8(frame__load64(p), '"')) |
           frame__gather8(frame__equal8(frame__load64(p + 8), '"')) << 8;
}

static FRAME__INLINE void frame__kernel_marks16(const frame__u8 *p, unsigned m[4]) {
    uint64_t a = frame__load64(p), b = frame__load64(p + 8);
    /* A control: its top bit clear, and adding 0x60 to its low 7 bits
     * leaves the top bit clear too. */
    m[0] = frame__gather8(frame__equal8(a, '"')) | frame__gather8(frame__equal8(b, '"')) << 8;
    m[1] = frame__gather8(frame__equal8(a, '\\')) | frame__gather8(frame__equal8(b, '\\')) << 8;
    m[2] = frame__gather8(~(a | ((a & ~FRAME__HIGHS) + FRAME__ONES * 0x60)) & FRAME__HIGHS) |
           frame__gather8(~(b | ((b & ~FRAME__HIGHS) + FRAME__ONES * 0x60)) & FRAME__HIGHS) << 8;
    m[3] = frame__gather8(a & FRAME__HIGHS) | frame__gather8(b & FRAME__HIGHS) << 8;
}

static FRAME__INLINE void frame__kernel_utf8_16(const frame__u8 *p, unsigned m[4]) {
    uint64_t a = frame__load64(p), b = frame__load64(p + 8);
    /* Bit 7 of each byte: with bit 6 clear, 0x80..0xbf; with bits 6 and 5
     * (and 4) set, from 0xe0 (0xf0) on. */
    m[0] = frame__gather8(a & ~(a << 1) & FRAME__HIGHS) | frame__gather8(b & ~(b << 1) & FRAME__HIGHS) << 8;
    m[1] = frame__gather8(a & a << 1 & a << 2 & FRAME__HIGHS) | frame__gather8(b & b << 1 & b << 2 & FRAME__HIGHS) << 8;
    m[2] = frame__gather8(a & a << 1 & a << 2 & a << 3 & FRAME__HIGHS) |
           frame__gather8(b & b << 1 & b << 2 & b << 3 & FRAME__HIGHS) << 8;
    m[3] = frame__gather8(frame__equal8(a | FRAME__ONES, 0xc1)) | frame__gather8(frame__equal8(b | FRAME__ONES, 0xc1)) << 8;
}
