/*
 * lib/kernel_sse2.h: the x86-64 string kernel (see scan.h): 16 bytes per
 * step with SSE2, which every x86-64 processor has.
 */
#include <emmintrin.h>

#define FRAME__KERNEL_NAME "sse2"

#define frame__kernel_digits frame__digits8
#define frame__kernel_ws frame__ws_inline

static FRAME__INLINE const frame__u8 *frame__kernel_special(const frame__u8 *p, const frame__u8 *end) {
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* As signed bytes, controls (0..0x1f) and bytes >= 0x80 (negative)
         * are exactly those below 0x20: one comparison for both. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                 _mm_cmplt_epi8(v, space));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits) return p + __builtin_ctz(bits);
        p += 16;
    }
    return frame__special_tail(p, end);
}

static FRAME__INLINE unsigned frame__kernel_special16(const frame__u8 *p) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* As in frame__kernel_special: controls and bytes >= 0x80 in one. */
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                          _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                             _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    return (unsigned)_mm_movemask_epi8(m);
}

static FRAME__INLINE unsigned frame__kernel_quotes16(const frame__u8 *p) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
}

/* The bytes of v at most (at least) c, unsigned: those that the unsigned
 * minimum (maximum) with c leaves as they are. */
#define FRAME__AT_MOST(v, c) _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8((char)(c))), v)
#define FRAME__AT_LEAST(v, c) _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8((char)(c))), v)

static FRAME__INLINE void frame__kernel_marks16(const frame__u8 *p, unsigned m[4]) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    m[0] = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    m[1] = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    m[2] = (unsigned)_mm_movemask_epi8(FRAME__AT_MOST(v, 0x1f));
    m[3] = (unsigned)_mm_movemask_epi8(v);
}

static FRAME__INLINE void frame__kernel_utf8_16(const frame__u8 *p, unsigned m[4]) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* As signed bytes, 0x80..0xbf are those below (signed char)0xc0. */
    m[0] = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8((char)0xc0)));
    m[1] = (unsigned)_mm_movemask_epi8(FRAME__AT_LEAST(v, 0xe0));
    m[2] = (unsigned)_mm_movemask_epi8(FRAME__AT_LEAST(v, 0xf0));
    m[3] = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8((char)0xfe)), _mm_set1_epi8((char)0xc0)));
}
