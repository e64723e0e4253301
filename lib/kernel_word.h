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
