/*
 * JSON strings: UTF-8 validation, escapes and surrogate pairs, and comparing
 * decoded contents.
 */
#include "internal.h"
#include "string_escapes.h"
#include "utf8_seq.h"

/* One #if: how characters are read, by build: frame__decimal (declared
 * in internal.h), and for the string iterator frame__utf8 and
 * frame__yield_ascii. */
#if FRAME__SMALL
#include "chars_small.h"
#else
#include "chars_fast.h"
#endif

/* The parts of the string iterator that frame__escape and frame__put_utf8
 * share (FRAME__ALWAYS_INLINE): inline even in size builds, which link
 * only the iterator. */

/* Writes code point cp >= 0x80 as UTF-8 ending just before end; returns
 * where it starts. Continuation bytes go first, from the last, until the lead
 * byte has room for the rest: after k of them, 6 - k bits below its k + 1
 * high bits. */
static FRAME__ALWAYS_INLINE frame__u8 *frame__put_back(frame__u8 *end, uint32_t cp) {
    uint32_t room = 0x3f;
    do {
        *--end = (frame__u8)((cp & 0x3f) + 0x80);
        cp >>= 6;
        room >>= 1;
    } while (cp > room);
    *--end = (frame__u8)(~room << 1 | cp);
    return end;
}

size_t frame__put_utf8(frame__u8 *out, uint32_t cp) {
    size_t n;
    if (cp < 0x80) {
        out[0] = (frame__u8)cp;
        return 1;
    }
    n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    frame__put_back(out + n, cp);
    return n;
}

/* The value of the escape at it->p, a surrogate half as it is, with it->p
 * past it; or FRAME__BAD with it->p at the offending byte (or end). */
#define FRAME__BAD 0xffffffffu
static FRAME__INLINE uint32_t frame__unit(frame__siter *it) {
    /* Each escape letter followed by the byte it stands for. */
#define FRAME__PAIR(c, letter, byte) letter, byte,
    static const char pairs[] = {FRAME__ESCAPES(FRAME__PAIR, 0) 0};
#undef FRAME__PAIR
    const char *s;
    const frame__u8 *p = it->p + 1, *end = it->end;
    uint32_t v = 0;
    unsigned c, d, k = 4;
    if (p >= end || p[-1] != '\\') goto bad;
    c = *p;
    if (c != 'u') {
        for (s = pairs; *s; s += 2)
            if ((frame__u8)*s == c) break;
        if (!*s) goto bad;
        v = (frame__u8)s[1];
    } else {
        do {
            if (++p >= end) goto bad;
            c = *p;
            d = c - '0';
            if (d > 9) {
                d = (c | 0x20) - ('a' - 10);
                if (d - 10 > 5) goto bad;
            }
            v = v << 4 | d;
        } while (--k);
    }
    it->p = p + 1;
    return v;
bad:
    it->p = p;
    return FRAME__BAD;
}

/* The code point of the escape at it->p, a surrogate pair joined, with it->p
 * past it; or the error, with it->p at the offending byte (or end). */
static FRAME__ALWAYS_INLINE frame_errno frame__unescape(frame__siter *it, uint32_t *cp) {
    const frame__u8 *p = it->p;
    uint32_t hi = frame__unit(it), lo;
    if (hi == FRAME__BAD) return FRAME_E_JSON_SYNTAX;
    *cp = hi;
    if (hi >> 11 != 0x1b) return FRAME_OK;
    /* A high surrogate must be followed at once by a low one; anything else,
     * a malformed escape included, leaves it unpaired. */
    lo = frame__unit(it);
    if (hi >> 10 == 0x36 && lo >> 10 == 0x37) {
        *cp = FRAME__SURROGATE_PAIR(hi, lo);
        return FRAME_OK;
    }
    it->p = p;
    return FRAME_E_LONE_SURROGATE;
}

frame_errno frame__escape(const frame__u8 *p, const frame__u8 *end, uint32_t *cp,
                          const frame__u8 **next) {
    frame__siter it;
    frame_errno err;
    it.p = p;
    it.end = end;
    it.more = NULL;
    it.left = 0;
    err = frame__unescape(&it, cp);
    *next = it.p;
    return err;
}

int frame__siter_next(frame__siter *it) {
    const frame__u8 *p;
    uint32_t cp;
    frame_errno err;
    size_t n = it->left;
    unsigned c;
    if (n) {
        p = it->more;
        goto yield;
    }
    p = it->p;
    if (p >= it->end) return -1 - FRAME_E_JSON_SYNTAX;
    c = *p;
    if (c == '"') return -1;
    if (c < 0x20) return -1 - FRAME_E_JSON_SYNTAX;
    if (c == '\\') {
        err = frame__unescape(it, &cp);
        if (err) return -1 - (int)err;
        if (cp < 0x80) return (int)cp;
        p = frame__put_back(it->buf + sizeof it->buf, cp);
        n = (size_t)(it->buf + sizeof it->buf - p);
    } else if (c < 0x80 && frame__yield_ascii(it, p)) {
        return (int)c;
    } else {
        /* A UTF-8 sequence (or a byte of ASCII) is checked whole, then
         * yielded as it is. */
        n = c < 0x80 ? 1 : frame__utf8(p, it->end);
        if (!n) return -1 - FRAME_E_BAD_UTF8;
        it->p = p + n;
    }
    /* The first of the n bytes at p now, the others on the next calls (n
     * in a register, not stored and read back). */
yield:
    it->more = p + 1;
    it->left = n - 1;
    return *p;
}

int frame__string_equals_bytes(const frame__u8 *a, const frame__u8 *a_end, const frame__u8 *s,
                               size_t len) {
    frame__siter it;
    size_t i;
    if (a >= a_end || *a != '"') return 0;
    frame__siter_init(&it, a, a_end);
    for (i = 0;; i++) {
        int c = frame__siter_next(&it);
        if (i == len) return c == -1;
        if (c != s[i]) return 0;
    }
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
