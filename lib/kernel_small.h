/*
 * lib/kernel_small.h: the string kernel of FRAME_SMALL builds (see scan.h):
 * a byte per step, the least code.
 */
#define FRAME__KERNEL_NAME "small"

static FRAME__INLINE const frame__u8 *frame__kernel_special(const frame__u8 *p, const frame__u8 *end) {
    while (p < end && !FRAME__IS_SPECIAL(*p)) p++;
    return p;
}

static FRAME__INLINE void frame__kernel_classify(const frame__u8 *p, frame__classes *c) {
    unsigned i;
    c->stop = c->high = c->space = 0;
    for (i = 0; i < 64; i++) {
        uint64_t bit = (uint64_t)1 << i;
        frame__u8 b = p[i];
        if (b >= 0x80) c->high |= bit;
        else if (b < 0x20 || b == '"' || b == '\\') c->stop |= bit;
        if (FRAME__IS_WS(b)) c->space |= bit;
    }
}

static FRAME__INLINE const frame__u8 *frame__kernel_digits(const frame__u8 *p, const frame__u8 *end) {
    while (p < end && FRAME__IS_DIGIT(*p)) p++;
    return p;
}

/* A call: the least code where it is needed many times. */
#define frame__kernel_ws frame__skip_ws
