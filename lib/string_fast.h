/*
 * lib/string_fast.h: the string scans of speed builds (see json.c).
 *   frame__scan_string   decodes into a sink (names, header access) and
 *                        is the one that reports errors;
 *   frame__string_check  a value's string, checked without decoding: a
 *                        run of plain bytes by the kernel, an escape by a
 *                        table, a run of UTF-8 sequences inline; at
 *                        anything else it hands the rest of the string to
 *                        frame__scan_string, so that both agree on every
 *                        verdict and offset by construction.
 * The rules come from string_escapes.h and utf8_seq.h (shared with
 * string.c); the tables below are derived from them.
 */
#include "string_escapes.h"
#include "utf8_seq.h"

/* A byte that stops a run of plain string bytes (FRAME__IS_SPECIAL) as a
 * table derived from it: one load per byte. */
#define FRAME__S4(c) FRAME__IS_SPECIAL(c), FRAME__IS_SPECIAL((c) + 1), FRAME__IS_SPECIAL((c) + 2), FRAME__IS_SPECIAL((c) + 3)
#define FRAME__S16(c) FRAME__S4(c), FRAME__S4((c) + 4), FRAME__S4((c) + 8), FRAME__S4((c) + 12)
#define FRAME__S64(c) FRAME__S16(c), FRAME__S16((c) + 16), FRAME__S16((c) + 32), FRAME__S16((c) + 48)
static const frame__u8 frame__special[256] = {FRAME__S64(0), FRAME__S64(64), FRAME__S64(128), FRAME__S64(192)};
#undef FRAME__S64
#undef FRAME__S16
#undef FRAME__S4
#define FRAME__SPECIAL(c) frame__special[c]

#define FRAME__T4(F, c) F(c), F((c) + 1), F((c) + 2), F((c) + 3)
#define FRAME__T16(F, c) FRAME__T4(F, c), FRAME__T4(F, (c) + 4), FRAME__T4(F, (c) + 8), FRAME__T4(F, (c) + 12)
#define FRAME__T64(F, c) FRAME__T16(F, c), FRAME__T16(F, (c) + 16), FRAME__T16(F, (c) + 32), FRAME__T16(F, (c) + 48)
#define FRAME__T256(F) FRAME__T64(F, 0), FRAME__T64(F, 64), FRAME__T64(F, 128), FRAME__T64(F, 192)

/* For the byte after a backslash: the byte a two-character escape stands
 * for (never 0 nor 1), 1 for 'u', 0 for anything else. */
#define FRAME__ESC_IS(c, letter, byte) (c) == (letter) ? (byte):
#define FRAME__ESC(c) (frame__u8)(FRAME__ESCAPES(FRAME__ESC_IS, c)(c) == 'u' ? 1 : 0)
static const frame__u8 frame__escaped[256] = {FRAME__T256(FRAME__ESC)};
#undef FRAME__ESC
#undef FRAME__ESC_IS

/* A hex digit's value, or 0x80 for a byte that is none. */
#define FRAME__HEX(c)                                                                                           \
    (frame__u8)((c) >= '0' && (c) <= '9'                     ? (c) - '0'                                       \
                : ((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'f' ? ((c) | 0x20) - 'a' + 10                         \
                                                             : 0x80)
static const frame__u8 frame__hex[256] = {FRAME__T256(FRAME__HEX)};
#undef FRAME__HEX
#undef FRAME__T256
#undef FRAME__T64
#undef FRAME__T16
#undef FRAME__T4

/* Whether one of the 4 bytes at p is no hex digit. */
static FRAME__INLINE unsigned frame__hex4_bad(const frame__u8 *p) {
    return (frame__hex[p[0]] | frame__hex[p[1]] | frame__hex[p[2]] | frame__hex[p[3]]) & 0x80u;
}

/* The value of the 4 hex digits at p, or above 0xffff when one is none. */
static FRAME__INLINE uint32_t frame__hex4(const frame__u8 *p) {
    unsigned a = frame__hex[p[0]], b = frame__hex[p[1]], c = frame__hex[p[2]], d = frame__hex[p[3]];
    return (uint32_t)(a << 12 | b << 8 | c << 4 | d) | (uint32_t)((a | b | c | d) & 0x80) << 9;
}

/* The length of the well-formed \uXXXX escape at p (its backslash), 6, or
 * 12 for a surrogate pair; 0 for anything else, or when fewer than 7 bytes
 * (the escape and a closing quote) are left. Only whether it is a
 * surrogate matters: its first digit d, its second 8 or more. */
static FRAME__INLINE size_t frame__u_escape(const frame__u8 *p, const frame__u8 *end) {
    if (end - p < 7 || p[1] != 'u' || frame__hex4_bad(p + 2)) return 0;
    if (frame__hex[p[2]] == 0xd && frame__hex[p[3]] >= 8) {
        /* A high surrogate (second digit below c), then a low one at once. */
        if (frame__hex[p[3]] >= 0xc || end - p < 13 || p[6] != '\\' || p[7] != 'u' || frame__hex4_bad(p + 8) ||
            frame__hex[p[8]] != 0xd || frame__hex[p[9]] < 0xc)
            return 0;
        return 12;
    }
    return 6;
}

/* A window of 16 bytes of a string, its special bytes marked a bit each
 * (frame__kernel_special16): a string with escapes or UTF-8 has special
 * bytes close together, and finds the next in the marks it has rather than
 * by scanning again from each. */
typedef struct frame__window {
    const frame__u8 *at; /* the window's first byte */
    unsigned marks;      /* bit i: at[i] is special */
} frame__window;

/* The first special byte in [p, end), or end, for a scan that starts its
 * window at its first byte (at = p, marks 0) and only goes forward. */
static FRAME__INLINE const frame__u8 *frame__window_next(frame__window *w, const frame__u8 *p, const frame__u8 *end) {
    size_t off = (size_t)(p - w->at);
    unsigned rest;
    if (off < 16 && (rest = w->marks >> off) != 0) return p + frame__lowest_bit(rest);
    if (end - p < 16) return frame__plain_run(p, end); /* the text's last bytes */
    w->at = p;
    w->marks = frame__kernel_special16(p);
    return w->marks ? p + frame__lowest_bit(w->marks) : frame__plain_run(p + 16, end);
}

/* Past the run of well-formed UTF-8 sequences at p (*p >= 0x80); p itself
 * when the first is ill-formed. */
static FRAME__INLINE const frame__u8 *frame__utf8_run(const frame__u8 *p, const frame__u8 *end) {
    size_t n;
    while ((n = frame__utf8_seq(p, end)) != 0) {
        p += n;
        if (p >= end || *p < 0x80) break;
    }
    return p;
}

/* Appends decoded bytes to a sink: counts, hashes and stores them. */
static void frame__sink_put(frame__sink *s, const frame__u8 *b, size_t n) {
    size_t i = 0;
    if (s->want_hash) {
        for (; !(s->len & 7) && i + 8 <= n; i += 8) FRAME__MIX(s->hash, frame__load64(b + i));
        for (; i < n; i++) {
            s->word |= (uint64_t)b[i] << (8 * ((s->len + i) & 7));
            if (((s->len + i) & 7) == 7) {
                FRAME__MIX(s->hash, s->word);
                s->word = 0;
            }
        }
    }
    if (s->buf && s->len < s->cap) memcpy(s->buf + s->len, b, n < s->cap - s->len ? n : s->cap - s->len);
    s->len += n;
}

frame_errno frame__scan_string(const frame__u8 **pp, const frame__u8 *end, frame__sink *sink) {
    const frame__u8 *p = *pp + 1, *next;
    frame__u8 u[4];
    frame_errno err = FRAME_OK;
    uint32_t cp;
    size_t n;
    for (;;) {
        /* A run of printable ASCII other than '"' and '\\' stands for
         * itself, and so does a well-formed UTF-8 sequence: both go to the
         * sink as one run. After a run, p is at a special byte: no word
         * scan for that. */
        next = p < end && FRAME__SPECIAL(*p) ? p : frame__plain_run(p, end);
        while (next < end && *next >= 0x80) {
            const frame__u8 *q = frame__utf8_run(next, end);
            if (q == next) break;
            next = q < end && FRAME__SPECIAL(*q) ? q : frame__plain_run(q, end);
        }
        if (next != p) {
            if (sink) frame__sink_put(sink, p, (size_t)(next - p));
            p = next;
        }
        if (p >= end) {
            err = FRAME_E_JSON_SYNTAX;
            break;
        }
        if (*p == '"') {
            p++;
            break;
        }
        if (*p != '\\') {
            err = *p >= 0x80 ? FRAME_E_BAD_UTF8 : FRAME_E_JSON_SYNTAX; /* or a control character */
            break;
        }
        if (end - p >= 2 && frame__escaped[p[1]] > 1) { /* a two-character escape */
            u[0] = frame__escaped[p[1]];
            n = 1;
            next = p + 2;
        } else {
            err = frame__escape(p, end, &cp, &next);
            if (err) {
                p = next;
                break;
            }
            n = sink ? frame__put_utf8(u, cp) : 0; /* values need no bytes */
        }
        if (sink) frame__sink_put(sink, u, n);
        p = next;
    }
    *pp = p;
    return err;
}

/* Checks the string whose opening quote is at *pp; as frame__scan_string
 * with no sink. */
static FRAME__INLINE frame_errno frame__string_check(const frame__u8 **pp, const frame__u8 *end) {
    frame__window w;
    const frame__u8 *p, *q;
    size_t n;
    w.at = *pp + 1;
    w.marks = 0;
    p = frame__window_next(&w, w.at, end);
    for (;;) {
        if (p >= end) break;
        if (*p == '"') {
            *pp = p + 1;
            return FRAME_OK;
        }
        if (*p == '\\') {
            if (end - p >= 2 && frame__escaped[p[1]] > 1) {
                p += 2;
            } else {
                if (!(n = frame__u_escape(p, end))) break;
                p += n;
            }
        } else if (*p >= 0x80) {
            q = frame__utf8_run(p, end);
            if (q == p) break;
            p = q;
        } else {
            break;
        }
        p = frame__window_next(&w, p, end);
    }
    /* The rest of the string, errors included, as frame__scan_string has
     * it: it starts one byte past the one it is given. */
    *pp = p - 1;
    return frame__scan_string(pp, end, NULL);
}

/* Adds the n (1..8) bytes of x (its low bytes; the others 0) to a name
 * hash: h has the whole words mixed in, w the last len % 8 bytes, first
 * the first whole word. */
#define FRAME__HASH_ADD(h, w, len, x, n, first)                                                             \
    do {                                                                                                    \
        unsigned fill_ = (unsigned)(len) & 7u;                                                              \
        (w) |= (x) << (8 * fill_);                                                                          \
        if (fill_ + (n) >= 8) {                                                                             \
            if ((len) < 8) (first) = (w);                                                                   \
            FRAME__MIX(h, w);                                                                               \
            (w) = ((x) >> 1) >> (63 - 8 * fill_); /* the bytes that did not fit */                          \
        }                                                                                                   \
        (len) += (n);                                                                                       \
    } while (0)

/* The end of a name hash over n bytes whose words are all mixed into h. */
static FRAME__INLINE uint32_t frame__hash_final(uint64_t h, size_t n) {
    FRAME__MIX(h, (uint64_t)n);
    return (uint32_t)(h >> 32);
}

/*
 * Scans the string at *pp (its opening quote) as frame__scan_string does
 * and sets *hash to the hash of its decoded bytes: their 8-byte words
 * (little-endian, the last one padded with zeros) mixed in order, then
 * their number - what a hashing sink gets. Runs of plain bytes and of UTF-8
 * are hashed from the text a word at a time; at anything but those and
 * well-formed escapes, the string goes to frame__scan_string with a
 * hashing sink. When it holds a well-formed escape, *key is set to the
 * key of its decoded bytes (frame__name_key's for a name of those bytes).
 * r is the first special byte after the opening quote (frame__plain_run),
 * which a caller may have found already.
 */
static FRAME__INLINE frame_errno frame__string_hash_from(const frame__u8 **pp, const frame__u8 *r,
                                                         const frame__u8 *end, uint32_t *hash, uint64_t *key) {
    const frame__u8 *quote = *pp, *p = quote + 1, *s;
    uint64_t h = 0, w = 0, x, first = 0;
    size_t len = 0, n;
    frame__sink sink;
    frame__u8 u[8] = {0};
    uint32_t v, lo;
    frame_errno err;
    if (r < end && *r == '"') {
        /* Plain: words straight from the text, the last one masked (loaded
         * whole when the text goes on for 8 bytes). */
        for (; r - p >= 8; p += 8) FRAME__MIX(h, frame__load64(p));
        if ((n = (size_t)(r - p)) != 0) FRAME__MIX(h, end - p >= 8 ? frame__load64(p) & ((1ull << (8 * n)) - 1)
                                                                  : frame__load_tail(quote, r, n));
        *hash = frame__hash_final(h, (size_t)(r - quote - 1));
        *pp = r + 1;
        return FRAME_OK;
    }
    for (;;) {
        while (r < end && *r >= 0x80 && (s = frame__utf8_run(r, end)) != r)
            r = s < end && FRAME__SPECIAL(*s) ? s : frame__plain_run(s, end);
        for (n = (size_t)(r - p); n >= 8; n -= 8, p += 8) FRAME__HASH_ADD(h, w, len, frame__load64(p), 8u, first);
        if (n) FRAME__HASH_ADD(h, w, len, frame__load_tail(quote, r, n), n, first);
        p = r;
        if (p >= end || *p != '\\') break;
        if (end - p >= 2 && frame__escaped[p[1]] > 1) {
            x = frame__escaped[p[1]];
            FRAME__HASH_ADD(h, w, len, x, 1u, first);
            p += 2;
        } else {
            if (end - p < 7 || p[1] != 'u') break;
            v = frame__hex4(p + 2);
            if (v >> 11 == 0x1b) {
                /* A high surrogate, then a low one at once. */
                if (v >= 0xdc00 || end - p < 13 || p[6] != '\\' || p[7] != 'u') break;
                lo = frame__hex4(p + 8);
                if (lo >> 10 != 0x37) break;
                v = FRAME__SURROGATE_PAIR(v, lo);
                p += 6;
            } else if (v > 0xffff) {
                break;
            }
            p += 6;
            n = frame__put_utf8(u, v);
            x = frame__load64(u) & ((1ull << (8 * n)) - 1); /* n <= 4 */
            FRAME__HASH_ADD(h, w, len, x, n, first);
        }
        r = p < end && FRAME__SPECIAL(*p) ? p : frame__plain_run(p, end);
    }
    if (p < end && *p == '"') {
        *key = (len < 8 ? w : first) ^ (uint64_t)len << 56;
        if (len & 7) FRAME__MIX(h, w);
        *hash = frame__hash_final(h, len);
        *pp = p + 1;
        return FRAME_OK;
    }
    /* Anything else: frame__scan_string has the verdict. */
    memset(&sink, 0, sizeof sink);
    sink.want_hash = 1;
    err = frame__scan_string(pp, end, &sink);
    h = sink.hash;
    if (sink.len & 7) FRAME__MIX(h, sink.word);
    *hash = frame__hash_final(h, sink.len);
    return err;
}

static FRAME__INLINE frame_errno frame__string_hash(const frame__u8 **pp, const frame__u8 *end, uint32_t *hash,
                                                    uint64_t *key) {
    return frame__string_hash_from(pp, frame__plain_run(*pp + 1, end), end, hash, key);
}
