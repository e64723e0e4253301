/*
 * lib/kernel_small.h: the string kernel of FRAME_SMALL builds (see scan.h):
 * a byte per step, the least code.
 */
#define FRAME__KERNEL_NAME "small"

static FRAME__INLINE const frame__u8 *frame__kernel_special(const frame__u8 *p, const frame__u8 *end) {
    while (p < end && !FRAME__IS_SPECIAL(*p)) p++;
    return p;
}

static FRAME__INLINE unsigned frame__kernel_special16(const frame__u8 *p) {
    unsigned i, bits = 0;
    for (i = 0; i < 16; i++) bits |= (unsigned)FRAME__IS_SPECIAL(p[i]) << i;
    return bits;
}

static FRAME__INLINE unsigned frame__kernel_quotes16(const frame__u8 *p) {
    unsigned i, bits = 0;
    for (i = 0; i < 16; i++) bits |= (unsigned)(p[i] == '"') << i;
    return bits;
}

static FRAME__INLINE const frame__u8 *frame__kernel_digits(const frame__u8 *p, const frame__u8 *end) {
    while (p < end && FRAME__IS_DIGIT(*p)) p++;
    return p;
}

/* A call: the least code where it is needed many times. */
#define frame__kernel_ws frame__skip_ws
