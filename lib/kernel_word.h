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
