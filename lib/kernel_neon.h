/*
 * lib/kernel_neon.h: the AArch64 string kernel (see scan.h): 16 bytes per
 * step with NEON (Advanced SIMD), which every AArch64 processor has.
 */
#include <arm_neon.h>

#define FRAME__KERNEL_NAME "neon"

#define frame__kernel_digits frame__digits8
#define frame__kernel_ws frame__ws_inline

static FRAME__INLINE const frame__u8 *frame__kernel_special(const frame__u8 *p, const frame__u8 *end) {
    const uint8x16_t quote = vdupq_n_u8('"'), backslash = vdupq_n_u8('\\');
    const int8x16_t space = vdupq_n_s8(0x20);
    while (end - p >= 16) {
        uint8x16_t v = vld1q_u8(p);
        /* As signed bytes, controls and bytes >= 0x80 are those below 0x20. */
        uint8x16_t m = vorrq_u8(vorrq_u8(vceqq_u8(v, quote), vceqq_u8(v, backslash)),
                                vcltq_s8(vreinterpretq_s8_u8(v), space));
        /* Narrowed to 4 bits per byte: a 64-bit mask whose lowest set bit
         * tells the first special byte. */
        uint64_t bits = vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(m), 4)), 0);
        if (bits) return p + (__builtin_ctzll(bits) >> 2);
        p += 16;
    }
    return frame__special_tail(p, end);
}

/* The top bits of 16 comparison bytes (0x00 or 0xff) as 16 bits, byte k to
 * bit k. */
static FRAME__INLINE uint64_t frame__bits16(uint8x16_t m) {
    static const uint8_t weights[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t w = vandq_u8(m, vld1q_u8(weights));
    return (uint64_t)vaddv_u8(vget_low_u8(w)) | (uint64_t)vaddv_u8(vget_high_u8(w)) << 8;
}

static FRAME__INLINE unsigned frame__kernel_special16(const frame__u8 *p) {
    uint8x16_t v = vld1q_u8(p);
    uint8x16_t m = vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8('"')), vceqq_u8(v, vdupq_n_u8('\\'))),
                            vcltq_s8(vreinterpretq_s8_u8(v), vdupq_n_s8(0x20)));
    return (unsigned)frame__bits16(m);
}

static FRAME__INLINE unsigned frame__kernel_quotes16(const frame__u8 *p) {
    return (unsigned)frame__bits16(vceqq_u8(vld1q_u8(p), vdupq_n_u8('"')));
}

static FRAME__INLINE void frame__kernel_marks16(const frame__u8 *p, unsigned m[4]) {
    uint8x16_t v = vld1q_u8(p);
    m[0] = (unsigned)frame__bits16(vceqq_u8(v, vdupq_n_u8('"')));
    m[1] = (unsigned)frame__bits16(vceqq_u8(v, vdupq_n_u8('\\')));
    m[2] = (unsigned)frame__bits16(vcltq_u8(v, vdupq_n_u8(0x20)));
    m[3] = (unsigned)frame__bits16(vcgeq_u8(v, vdupq_n_u8(0x80)));
}

static FRAME__INLINE void frame__kernel_utf8_16(const frame__u8 *p, unsigned m[4]) {
    uint8x16_t v = vld1q_u8(p);
    m[0] = (unsigned)frame__bits16(vandq_u8(vcgeq_u8(v, vdupq_n_u8(0x80)), vcltq_u8(v, vdupq_n_u8(0xc0))));
    m[1] = (unsigned)frame__bits16(vcgeq_u8(v, vdupq_n_u8(0xe0)));
    m[2] = (unsigned)frame__bits16(vcgeq_u8(v, vdupq_n_u8(0xf0)));
    m[3] = (unsigned)frame__bits16(vceqq_u8(vandq_u8(v, vdupq_n_u8(0xfe)), vdupq_n_u8(0xc0)));
}
