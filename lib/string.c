/*
 * JSON strings: UTF-8 validation, escapes and surrogate pairs, and comparing
 * decoded contents.
 */
#include "internal.h"

size_t frame__utf8_len(const frame__u8 *p, const frame__u8 *end) {
#if FRAME__SMALL
    /* Decodes the code point and checks it: less code, more instructions. */
    unsigned c = p[0], n, i;
    uint32_t cp;
    if (c < 0xc2 || c > 0xf7) return 0;
    n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if ((size_t)(end - p) < n) return 0;
    cp = c & (0x7fu >> n);
    for (i = 1; i < n; i++) {
        unsigned d = p[i] - 0x80u; /* continuation bytes are 10xxxxxx */
        if (d > 0x3f) return 0;
        cp = cp << 6 | d;
    }
    /* n bytes must be needed (cp has more than 5n - 4 bits; from 0xc2 on,
     * two always are), and cp no surrogate nor above U+10FFFF. */
    if (!(cp >> (5 * n - 4)) || cp >> 11 == 0x1b || cp > 0x10ffff) return 0;
    return n;
#else
    frame__u8 c = p[0], lo = 0x80, hi = 0xbf;
    size_t n = c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0, i;
    /* The second byte's range excludes overlongs, surrogates and > U+10FFFF. */
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if (!n || (size_t)(end - p) < n || p[1] < lo || p[1] > hi) return 0;
    for (i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return n;
#endif
}

int frame__decimal(const frame__u8 *p, const frame__u8 *end, uint64_t *out) {
#if FRAME__SMALL
    /* In 32-bit halves: a 64-bit multiplication would call a library
     * function that small targets do not otherwise need. */
    uint32_t lo = 0, hi = 0;
    for (; p < end; p++) {
        uint32_t d = (unsigned)(*p - '0');
        /* The carry out of lo * 10 + d, from 16-bit halves of lo. */
        uint32_t c = ((lo >> 16) * 10 + (((lo & 0xffff) * 10 + d) >> 16)) >> 16;
        if (hi > 0x19999999u || hi * 10 + c < c) {
            *out = UINT64_MAX;
            return 0;
        }
        hi = hi * 10 + c;
        lo = lo * 10 + d;
    }
    *out = (uint64_t)hi << 32 | lo;
#else
    uint64_t n = 0, m;
    for (; p < end; p++) {
        /* Above 0x19999999_ffffffff, n * 10 overflows; at or below it, it
         * wraps at most once, to far below n, so the high words tell (no
         * 64-bit division, which small targets call a library for). */
        uint32_t hi = (uint32_t)(n >> 32);
        m = n * 10 + (unsigned)(*p - '0');
        if (hi > 0x19999999u || (uint32_t)(m >> 32) < hi) {
            *out = UINT64_MAX;
            return 0;
        }
        n = m;
    }
    *out = n;
#endif
    return 1;
}

size_t frame__put_utf8(frame__u8 *out, uint32_t cp) {
    size_t n, i;
    if (cp < 0x80) {
        out[0] = (frame__u8)cp;
        return 1;
    }
    /* n bytes hold 5n + 1 bits. */
    for (n = 2; n < 4 && cp >> (5 * n + 1); n++) {}
    for (i = n - 1; i > 0; i--, cp >>= 6) out[i] = (frame__u8)(0x80 | (cp & 0x3f));
    /* The lead byte: n high bits set above the top bits of cp. */
    out[0] = (frame__u8)(0xff00u >> n | cp);
    return n;
}

/* The value of the escape at p, a surrogate half as it is, with *next past
 * it; or FRAME__BAD with *next at the offending byte (or end). */
#define FRAME__BAD 0xffffffffu
static uint32_t frame__unit(const frame__u8 *p, const frame__u8 *end, const frame__u8 **next) {
    /* Each escape letter followed by the byte it stands for. */
    static const char pairs[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
    const char *s;
    const frame__u8 *q;
    uint32_t v = 0;
    *next = p + 1;
    if (end - p < 2 || *p != '\\') return FRAME__BAD;
    q = p + 2;
    if (p[1] != 'u') {
        for (s = pairs; *s; s += 2)
            if ((frame__u8)*s == p[1]) {
                *next = q;
                return (frame__u8)s[1];
            }
        return FRAME__BAD;
    }
    for (; q < p + 6; q++) {
        unsigned c, d;
        *next = q;
        if (q >= end) return FRAME__BAD;
        c = *q;
        d = c - '0';
        if (d > 9) {
            d = (c | 0x20) - 'a';
            if (d > 5) return FRAME__BAD;
            d += 10;
        }
        v = v << 4 | d;
    }
    *next = q;
    return v;
}

frame_errno frame__escape(const frame__u8 *p, const frame__u8 *end, uint32_t *cp,
                          const frame__u8 **next) {
    uint32_t hi = frame__unit(p, end, next), lo;
    if (hi == FRAME__BAD) return FRAME_E_JSON_SYNTAX;
    *cp = hi;
    if (hi >> 11 != 0x1b) return FRAME_OK;
    /* A high surrogate must be followed at once by a low one; anything else,
     * a malformed escape included, leaves it unpaired. */
    lo = frame__unit(*next, end, next);
    if (hi >> 10 == 0x36 && lo >> 10 == 0x37) {
        *cp = (hi << 10) + lo - ((0xd800u << 10) + 0xdc00 - 0x10000);
        return FRAME_OK;
    }
    *next = p;
    return FRAME_E_LONE_SURROGATE;
}

int frame__siter_next(frame__siter *it) {
    uint32_t cp;
    const frame__u8 *p = it->p;
    frame_errno err;
    frame__u8 c;
    if (it->left) {
        it->left--;
        return *it->more++;
    }
    if (p >= it->end) return -1 - FRAME_E_JSON_SYNTAX;
    c = *p;
    if (c == '"') return -1;
    if (c == '\\') {
        err = frame__escape(p, it->end, &cp, &it->p);
        if (err) return -1 - (int)err;
        it->left = frame__put_utf8(it->buf, cp);
        p = it->buf;
    } else if (c >= 0x80) {
        /* A UTF-8 sequence is checked whole, then yielded as it is. */
        it->left = frame__utf8_len(p, it->end);
        if (!it->left) return -1 - FRAME_E_BAD_UTF8;
        it->p = p + it->left;
    } else if (c < 0x20) {
        return -1 - FRAME_E_JSON_SYNTAX;
    } else {
        it->p = p + 1;
        return c;
    }
    it->more = p + 1;
    it->left--;
    return *p;
}

void frame__siter_init(frame__siter *it, const frame__u8 *quote, const frame__u8 *end) {
    it->p = quote + 1;
    it->end = end;
    it->left = 0;
}

int frame__string_equals_bytes(const frame__u8 *a, const frame__u8 *a_end, const frame__u8 *s,
                               size_t len) {
    frame__siter it;
    size_t i;
    if (a >= a_end || *a != '"') return 0;
    frame__siter_init(&it, a, a_end);
    for (i = 0; i < len; i++)
        if (frame__siter_next(&it) != s[i]) return 0;
    return frame__siter_next(&it) == -1;
}

int frame__string_equals_string(const frame__u8 *a, const frame__u8 *a_end, const frame__u8 *b,
                                const frame__u8 *b_end) {
    frame__siter x, y;
    int cx, cy;
    frame__siter_init(&x, a, a_end);
    frame__siter_init(&y, b, b_end);
    do {
        cx = frame__siter_next(&x);
        cy = frame__siter_next(&y);
        if (cx != cy || cx < -1) return 0;
    } while (cx >= 0);
    return 1;
}
