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

static FRAME__INLINE void frame__kernel_marks16(const frame__u8 *p, unsigned m[4]) {
    unsigned i;
    m[0] = m[1] = m[2] = m[3] = 0;
    for (i = 0; i < 16; i++) {
        m[0] |= (unsigned)(p[i] == '"') << i;
        m[1] |= (unsigned)(p[i] == '\\') << i;
        m[2] |= (unsigned)(p[i] < 0x20) << i;
        m[3] |= (unsigned)(p[i] >= 0x80) << i;
    }
}

static FRAME__INLINE void frame__kernel_utf8_16(const frame__u8 *p, unsigned m[4]) {
    unsigned i;
    m[0] = m[1] = m[2] = m[3] = 0;
    for (i = 0; i < 16; i++) {
        m[0] |= (unsigned)(p[i] >= 0x80 && p[i] < 0xc0) << i;
        m[1] |= (unsigned)(p[i] >= 0xe0) << i;
        m[2] |= (unsigned)(p[i] >= 0xf0) << i;
        m[3] |= (unsigned)(p[i] == 0xc0 || p[i] == 0xc1) << i;
    }
}
