/*
 * JSON strings: UTF-8 validation, escapes and surrogate pairs, and comparing
 * decoded contents.
 */
#include "internal.h"

size_t frame__utf8_len(const frame__u8 *p, const frame__u8 *end) {
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
}

int frame__decimal(const frame__u8 *p, const frame__u8 *end, uint64_t *out) {
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
    return 1;
}

size_t frame__put_utf8(frame__u8 *out, uint32_t cp) {
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4, i;
    /* The lead byte: n high bits set (none for ASCII) above the top bits of cp. */
    for (i = n - 1; i > 0; i--, cp >>= 6) out[i] = (frame__u8)(0x80 | (cp & 0x3f));
    out[0] = (frame__u8)((n > 1 ? 0xff00u >> n : 0) | cp);
    return n;
}

/* Four hex digits at p; on failure *bad is the offending byte (or end). */
static int frame__hex4(const frame__u8 *p, const frame__u8 *end, uint32_t *out,
                       const frame__u8 **bad) {
    uint32_t v = 0;
    const frame__u8 *stop = p + 4;
    for (; p < stop; p++) {
        unsigned d = p < end ? (unsigned)(*p - '0') : 99u;
        if (d > 9) d = p < end && (unsigned)((*p | 0x20) - 'a') < 6 ? (unsigned)((*p | 0x20) - 'a' + 10) : 99u;
        if (d > 15) {
            *bad = p;
            return 0;
        }
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

frame_errno frame__escape(const frame__u8 *p, const frame__u8 *end, uint32_t *cp,
                          const frame__u8 **next) {
    static const char letters[] = "\"\\/bfnrt", bytes[] = "\"\\/\b\f\n\r\t";
    const char *e;
    uint32_t lo;
    *next = p + 1;
    if (p + 1 >= end) return FRAME_E_JSON_SYNTAX; /* *next is end */
    if (p[1] != 'u') {
        e = p[1] ? strchr(letters, p[1]) : NULL;
        if (!e) return FRAME_E_JSON_SYNTAX;
        *cp = (frame__u8)bytes[e - letters];
        *next = p + 2;
        return FRAME_OK;
    }
    if (!frame__hex4(p + 2, end, cp, next)) return FRAME_E_JSON_SYNTAX;
    *next = p + 6;
    if ((*cp & 0xf800) != 0xd800) return FRAME_OK;
    /* A high surrogate must be followed at once by a low one; anything else,
     * a malformed escape included, leaves it unpaired. */
    if (*cp < 0xdc00 && end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
        frame__hex4(p + 8, end, &lo, next) && (lo & 0xfc00) == 0xdc00) {
        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
        *next = p + 12;
        return FRAME_OK;
    }
    *next = p;
    return FRAME_E_LONE_SURROGATE;
}

int frame__siter_next(frame__siter *it) {
    uint32_t cp;
    const frame__u8 *next;
    frame__u8 c;
    if (it->i < it->n) return it->buf[it->i++];
    if (it->p >= it->end) return -2;
    c = *it->p;
    if (c == '"') return -1;
    if (c != '\\') {
        it->p++;
        return c;
    }
    if (frame__escape(it->p, it->end, &cp, &next)) return -2;
    it->p = next;
    it->n = frame__put_utf8(it->buf, cp);
    it->i = 1;
    return it->buf[0];
}

void frame__siter_init(frame__siter *it, const frame__u8 *quote, const frame__u8 *end) {
    it->p = quote + 1;
    it->end = end;
    it->n = it->i = 0;
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
        if (cx != cy || cx == -2) return 0;
    } while (cx >= 0);
    return 1;
}
