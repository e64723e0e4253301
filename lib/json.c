/*
 * JSON scanning: strings (escapes, surrogates, UTF-8), numbers, and the
 * single-pass header validator of SPEC.md, which can also write a canonical
 * copy of what it reads. No recursion: nesting is tracked in a bit stack, so a
 * hostile `[[[[...` costs neither stack nor more than FRAME_MAX_DEPTH levels.
 */
#include "internal.h"

/* 1 for the bytes a string scan must look at: '"', '\\', controls, non-ASCII. */
#define FRAME__ONES16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define FRAME__ZERO16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
static const frame__u8 frame__special[256] = {
    FRAME__ONES16, FRAME__ONES16,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
    FRAME__ZERO16, FRAME__ZERO16,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
    FRAME__ZERO16, FRAME__ZERO16,
    FRAME__ONES16, FRAME__ONES16, FRAME__ONES16, FRAME__ONES16,
    FRAME__ONES16, FRAME__ONES16, FRAME__ONES16, FRAME__ONES16};

#define FRAME__IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

static const char frame__hex[] = "0123456789abcdef";

/* Word-at-a-time helpers. Loads are little-endian on every host, so hashes
 * and scans agree between a plain name and its escaped spelling everywhere. */
#define FRAME__ONES 0x0101010101010101ull
#define FRAME__HIGHS 0x8080808080808080ull
#define FRAME__MIX(h, w) ((h) = (((h) ^ (w)) * 0x9e3779b97f4a7c15ull) ^ ((h) >> 29))

static uint64_t frame__load64(const frame__u8 *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* Nonzero when one of the 8 bytes is special (frame__special); exact as a
 * yes/no answer, which is all it is used for. */
static uint64_t frame__special8(uint64_t w) {
    uint64_t q = w ^ (FRAME__ONES * '"'), b = w ^ (FRAME__ONES * '\\');
    return (((q - FRAME__ONES) & ~q) | ((b - FRAME__ONES) & ~b) | (w - FRAME__ONES * 0x20) | w) &
           FRAME__HIGHS;
}

static unsigned frame__first_byte(uint64_t mask) {
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(mask) >> 3;
#else
    unsigned k = 0;
    while (!(mask & 0x80)) mask >>= 8, k++;
    return k;
#endif
}

/* The first special byte of a string body at or after p, or end. */
static FRAME__INLINE const frame__u8 *frame__plain_end(const frame__u8 *p, const frame__u8 *end) {
    while (end - p >= 8) {
        uint64_t m = frame__special8(frame__load64(p));
        if (m) return p + frame__first_byte(m);
        p += 8;
    }
    while (p < end && !frame__special[*p]) p++;
    return p;
}

/*
 * The fast path for a string body at q (just past the opening quote): when it
 * is plain (no escape, control or non-ASCII byte before the closing quote),
 * returns the closing quote and, with h, mixes the content into *h word by
 * word exactly as a hashing sink would. Otherwise returns NULL.
 */
static const frame__u8 *frame__plain_string(const frame__u8 *q, const frame__u8 *end, uint64_t *h) {
    uint64_t word = 0;
    size_t k;
    while (end - q >= 8) {
        uint64_t w = frame__load64(q), m = frame__special8(w);
        if (m) {
            k = frame__first_byte(m);
            if (q[k] != '"') return NULL;
            if (h && k) FRAME__MIX(*h, w & ((1ull << (8 * k)) - 1));
            return q + k;
        }
        if (h) FRAME__MIX(*h, w);
        q += 8;
    }
    for (k = 0; q + k < end && !frame__special[q[k]]; k++) word |= (uint64_t)q[k] << (8 * k);
    if (q + k >= end || q[k] != '"') return NULL;
    if (h && k) FRAME__MIX(*h, word);
    return q + k;
}

/* Ends a name hash: h has every word of the n bytes mixed in, a partial
 * last word included. */
static uint32_t frame__hash_final(uint64_t h, size_t n) {
    FRAME__MIX(h, (uint64_t)n);
    return (uint32_t)(h >> 32);
}

static uint32_t frame__sink_hash(const frame__sink *s) {
    uint64_t h = s->hash;
    if (s->len & 7) FRAME__MIX(h, s->word);
    return frame__hash_final(h, s->len);
}

/* Appends decoded bytes to a sink: hashes them, and stores them either as they
 * are or escaped canonically (SPEC.md "Canonical encoding"). */
static void frame__sink_put(frame__sink *s, const frame__u8 *b, size_t n) {
    size_t i;
    if (s->want_hash) {
        for (i = 0; i < n; i++) {
            s->word |= (uint64_t)b[i] << (8 * ((s->len + i) & 7));
            if (((s->len + i) & 7) == 7) {
                FRAME__MIX(s->hash, s->word);
                s->word = 0;
            }
        }
    }
    s->len += n;
    if (!s->escape) {
        if (s->buf && s->out_len < s->cap) {
            size_t room = s->cap - s->out_len;
            memcpy(s->buf + s->out_len, b, n < room ? n : room);
        }
        s->out_len += n;
        return;
    }
    for (i = 0; i < n; i++) {
        frame__u8 c = b[i], e[6];
        size_t k = 0, j;
        if (c == '"' || c == '\\') {
            e[k++] = '\\';
            e[k++] = c;
        } else if (c < 0x20) {
            e[k++] = '\\';
            switch (c) {
            case '\b': e[k++] = 'b'; break;
            case '\f': e[k++] = 'f'; break;
            case '\n': e[k++] = 'n'; break;
            case '\r': e[k++] = 'r'; break;
            case '\t': e[k++] = 't'; break;
            default:
                e[k++] = 'u';
                e[k++] = '0';
                e[k++] = '0';
                e[k++] = (frame__u8)frame__hex[c >> 4];
                e[k++] = (frame__u8)frame__hex[c & 15];
            }
        } else {
            e[k++] = c;
        }
        for (j = 0; j < k; j++, s->out_len++)
            if (s->buf && s->out_len < s->cap) s->buf[s->out_len] = e[j];
    }
}

/* Length of the well-formed UTF-8 sequence whose lead byte (>= 0x80) is at p,
 * or 0 if it is ill-formed (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static size_t frame__utf8_len(const frame__u8 *p, const frame__u8 *end) {
    frame__u8 c = p[0], lo = 0x80, hi = 0xbf;
    size_t n, i;
    if (c < 0xc2) return 0;
    if (c < 0xe0) {
        n = 2;
    } else if (c < 0xf0) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c < 0xf5) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi) return 0;
    for (i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return n;
}

static size_t frame__put_utf8(frame__u8 *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (frame__u8)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (frame__u8)(0xc0 | (cp >> 6));
        out[1] = (frame__u8)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (frame__u8)(0xe0 | (cp >> 12));
        out[1] = (frame__u8)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (frame__u8)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (frame__u8)(0xf0 | (cp >> 18));
    out[1] = (frame__u8)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (frame__u8)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (frame__u8)(0x80 | (cp & 0x3f));
    return 4;
}

/* Four hex digits at p; on failure *bad is the offending byte (or end). */
static int frame__hex4(const frame__u8 *p, const frame__u8 *end, uint32_t *out,
                       const frame__u8 **bad) {
    uint32_t v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        frame__u8 c;
        if (p + i >= end) {
            *bad = end;
            return 0;
        }
        c = p[i];
        if (FRAME__IS_DIGIT(c)) v = v * 16 + (uint32_t)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') v = v * 16 + (uint32_t)((c | 0x20) - 'a' + 10);
        else {
            *bad = p + i;
            return 0;
        }
    }
    *out = v;
    return 1;
}

/* Decodes the escape at p (p[0] == '\\') into a code point. On success *next
 * is past it; on failure *next is the offending byte. */
static frame_errno frame__escape(const frame__u8 *p, const frame__u8 *end, uint32_t *cp,
                                 const frame__u8 **next) {
    const frame__u8 *bad;
    uint32_t lo;
    if (p + 1 >= end) {
        *next = end;
        return FRAME_E_JSON_SYNTAX;
    }
    *next = p + 2;
    switch (p[1]) {
    case '"': *cp = '"'; return FRAME_OK;
    case '\\': *cp = '\\'; return FRAME_OK;
    case '/': *cp = '/'; return FRAME_OK;
    case 'b': *cp = '\b'; return FRAME_OK;
    case 'f': *cp = '\f'; return FRAME_OK;
    case 'n': *cp = '\n'; return FRAME_OK;
    case 'r': *cp = '\r'; return FRAME_OK;
    case 't': *cp = '\t'; return FRAME_OK;
    case 'u': break;
    default: *next = p + 1; return FRAME_E_JSON_SYNTAX;
    }
    if (!frame__hex4(p + 2, end, cp, &bad)) {
        *next = bad;
        return FRAME_E_JSON_SYNTAX;
    }
    *next = p + 6;
    if (*cp < 0xd800 || *cp > 0xdfff) return FRAME_OK;
    /* A high surrogate must be followed at once by a low one; anything else,
     * a malformed escape included, leaves it unpaired. */
    if (*cp <= 0xdbff && end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
        frame__hex4(p + 8, end, &lo, &bad) && lo >= 0xdc00 && lo <= 0xdfff) {
        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
        *next = p + 12;
        return FRAME_OK;
    }
    *next = p;
    return FRAME_E_LONE_SURROGATE;
}

frame_errno frame__scan_string(const frame__u8 **pp, const frame__u8 *end, frame__sink *sink) {
    const frame__u8 *p = *pp + 1;
    for (;;) {
        const frame__u8 *run = p;
        frame__u8 c;
        p = frame__plain_end(p, end);
        if (sink && p > run) frame__sink_put(sink, run, (size_t)(p - run));
        if (p >= end) {
            *pp = end;
            return FRAME_E_JSON_SYNTAX;
        }
        c = *p;
        if (c == '"') {
            *pp = p + 1;
            return FRAME_OK;
        }
        if (c == '\\') {
            uint32_t cp;
            const frame__u8 *next;
            frame_errno err = frame__escape(p, end, &cp, &next);
            if (err) {
                *pp = next;
                return err;
            }
            if (sink) {
                frame__u8 u[4];
                frame__sink_put(sink, u, frame__put_utf8(u, cp));
            }
            p = next;
        } else if (c < 0x20) {
            *pp = p;
            return FRAME_E_JSON_SYNTAX;
        } else {
            size_t n = frame__utf8_len(p, end);
            if (!n) {
                *pp = p;
                return FRAME_E_BAD_UTF8;
            }
            if (sink) frame__sink_put(sink, p, n);
            p += n;
        }
    }
}

/* Yields the decoded bytes of a JSON string one at a time. */
typedef struct frame__siter {
    const frame__u8 *p, *end;
    frame__u8 buf[4];
    size_t n, i;
} frame__siter;

/* The next byte (0..255), -1 at the closing quote, -2 on malformed text. */
static int frame__siter_next(frame__siter *it) {
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

static void frame__siter_init(frame__siter *it, const frame__u8 *quote, const frame__u8 *end) {
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

frame_errno frame__put_string(frame__u8 *out, size_t cap, size_t *pos, const frame__u8 *s,
                              size_t len) {
    frame__sink sink;
    size_t i = 0;
    while (i < len) {
        size_t n = s[i] < 0x80 ? 1 : frame__utf8_len(s + i, s + len);
        if (!n) return FRAME_E_BAD_UTF8;
        i += n;
    }
    memset(&sink, 0, sizeof sink);
    sink.escape = 1;
    sink.buf = out + *pos + 1;
    sink.cap = cap - *pos > 2 ? cap - *pos - 2 : 0;
    frame__sink_put(&sink, s, len);
    if (sink.out_len + 2 > cap - *pos) return FRAME_E_BUFFER_TOO_SMALL;
    out[*pos] = '"';
    out[*pos + 1 + sink.out_len] = '"';
    *pos += sink.out_len + 2;
    return FRAME_OK;
}

/* Scans a number by the RFC 8259 grammar and returns its end; *plain says
 * "digits only". On a malformed number sets *err and returns the offending
 * byte (or end). */
static const frame__u8 *frame__number(const frame__u8 *p, const frame__u8 *end, int *plain,
                                      frame_errno *err) {
    *plain = *p != '-';
    if (*p == '-') p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && FRAME__IS_DIGIT(*p)) p++;
    } else {
        goto bad;
    }
    if (p < end && *p == '.') {
        *plain = 0;
        p++;
        if (p >= end || !FRAME__IS_DIGIT(*p)) goto bad;
        while (p < end && FRAME__IS_DIGIT(*p)) p++;
    }
    if (p < end && (*p | 0x20) == 'e') {
        *plain = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || !FRAME__IS_DIGIT(*p)) goto bad;
        while (p < end && FRAME__IS_DIGIT(*p)) p++;
    }
    return p;
bad:
    *err = FRAME_E_JSON_SYNTAX;
    return p;
}

static int frame__is_value_start(frame__u8 c) {
    return c == '{' || c == '[' || c == '"' || c == '-' || FRAME__IS_DIGIT(c) || c == 't' ||
           c == 'f' || c == 'n';
}

static void frame__emit(frame__json_job *job, const frame__u8 *b, size_t n) {
    if (job->out_len + n <= job->out_cap) memcpy(job->out + job->out_len, b, n);
    job->out_len += n;
}

/*
 * Scans the string token at p and returns its end. Plain strings (no escape,
 * control or non-ASCII byte) take the fast path; the rest, and canonical
 * copies, the general one. With hash non-NULL the decoded content is hashed;
 * *plain tells whether the raw bytes are the content. On error sets *err and
 * returns the offending byte.
 */
static const frame__u8 *frame__string_token(frame__json_job *job, const frame__u8 *p,
                                            uint32_t *hash, int *plain, frame_errno *err) {
    frame__sink sink;
    uint64_t h = 0;
    const frame__u8 *q = job->out ? NULL : frame__plain_string(p + 1, job->end, hash ? &h : NULL);
    *plain = q != NULL;
    if (q) {
        if (hash) *hash = frame__hash_final(h, (size_t)(q - p - 1));
        return q + 1;
    }
    memset(&sink, 0, sizeof sink);
    sink.want_hash = hash != NULL;
    if (job->out) {
        frame__emit(job, p, 1);
        sink.escape = 1;
        if (job->out_len < job->out_cap) {
            sink.buf = job->out + job->out_len;
            sink.cap = job->out_cap - job->out_len;
        }
    }
    *err = frame__scan_string(&p, job->end, job->out || hash ? &sink : NULL);
    if (*err) return p;
    if (hash) *hash = frame__sink_hash(&sink);
    if (job->out) {
        job->out_len += sink.out_len;
        frame__emit(job, p - 1, 1);
    }
    return p;
}

#define FRAME__FAIL(e, at)                          \
    do {                                            \
        job->err_pos = (size_t)((at) - job->start); \
        return (e);                                 \
    } while (0)
#define FRAME__SKIP_WS() \
    while (p < end && *p <= ' ' && FRAME__IS_WS(*p)) p++
#define FRAME__EMIT(ptr, n) \
    if (out) frame__emit(job, (ptr), (n))

frame_errno frame__json_validate(frame__json_job *job) {
    const frame__u8 *p = job->start, *end = job->end, *at;
    const frame__u8 *out = job->out;
    /* Names of the open objects, for the duplicate check: an object's names
     * are name_off[first[level]] up to name_off[nnames]. */
    uint32_t name_off[FRAME_MAX_MEMBERS], name_hash[FRAME_MAX_MEMBERS];
    uint16_t first[FRAME_MAX_DEPTH + 1];
    unsigned nnames = 0, level = 0, depth = job->depth, members = job->members, i;
    uint32_t arrays = 0; /* bit level-1 set: that level is an array */
    const char *size_name = frame__size_name(job->cfg);
    size_t size_len = strlen(size_name);
    int have_size = 0, plain;
    uint32_t hash;
    frame_errno err = FRAME_OK;

    if ((uint64_t)(end - p) > UINT32_MAX) FRAME__FAIL(FRAME_E_HEADER_TOO_LARGE, p);
    if (job->header) {
        if (end - p >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) FRAME__FAIL(FRAME_E_BOM, p);
        FRAME__SKIP_WS();
        if (p >= end) FRAME__FAIL(FRAME_E_JSON_SYNTAX, end);
        if (*p != '{') FRAME__FAIL(frame__is_value_start(*p) ? FRAME_E_NOT_OBJECT : FRAME_E_JSON_SYNTAX, p);
    } else {
        FRAME__SKIP_WS();
    }

value:
    if (p >= end) FRAME__FAIL(FRAME_E_JSON_SYNTAX, end);
    switch (*p) {
    case '{':
    case '[':
        if (depth >= FRAME_MAX_DEPTH) FRAME__FAIL(FRAME_E_TOO_DEEP, p);
        depth++;
        level++;
        FRAME__EMIT(p, 1);
        if (*p++ == '[') {
            arrays |= 1u << (level - 1);
            FRAME__SKIP_WS();
            if (p < end && *p == ']') goto close;
            goto value;
        }
        arrays &= ~(1u << (level - 1));
        first[level] = (uint16_t)nnames;
        FRAME__SKIP_WS();
        if (p < end && *p == '}') goto close;
        goto member;
    case '"':
        p = frame__string_token(job, p, NULL, &plain, &err);
        if (err) FRAME__FAIL(err, p);
        goto after_value;
    case 't':
    case 'f':
    case 'n': {
        const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
        for (i = 0; lit[i]; i++) {
            if (p + i >= end) FRAME__FAIL(FRAME_E_JSON_SYNTAX, end);
            if (p[i] != (frame__u8)lit[i]) FRAME__FAIL(FRAME_E_JSON_SYNTAX, p + i);
        }
        FRAME__EMIT(p, i);
        p += i;
        goto after_value;
    }
    default:
        if (*p == '-' || FRAME__IS_DIGIT(*p)) {
            at = p;
            p = frame__number(p, end, &plain, &err);
            if (err) FRAME__FAIL(err, p);
            FRAME__EMIT(at, (size_t)(p - at));
            goto after_value;
        }
        FRAME__FAIL(FRAME_E_JSON_SYNTAX, p);
    }

member:
    if (p >= end) FRAME__FAIL(FRAME_E_JSON_SYNTAX, end);
    if (*p != '"') FRAME__FAIL(FRAME_E_JSON_SYNTAX, p);
    if (++members > FRAME_MAX_MEMBERS) FRAME__FAIL(FRAME_E_TOO_MANY_MEMBERS, p);
    at = p;
    p = frame__string_token(job, p, &hash, &plain, &err);
    if (err) FRAME__FAIL(err, p);
    for (i = first[level]; i < nnames; i++)
        if (name_hash[i] == hash && frame__string_equals_string(job->start + name_off[i], end, at, end))
            FRAME__FAIL(FRAME_E_DUPLICATE_NAME, at);
    name_off[nnames] = (uint32_t)(at - job->start);
    name_hash[nnames++] = hash;
    FRAME__SKIP_WS();
    if (p >= end) FRAME__FAIL(FRAME_E_JSON_SYNTAX, end);
    if (*p != ':') FRAME__FAIL(FRAME_E_JSON_SYNTAX, p);
    FRAME__EMIT(p, 1);
    p++;
    FRAME__SKIP_WS();
    if (level != 1 || !job->header || have_size ||
        !(plain ? (size_t)(p - at) >= size_len + 2 && at[size_len + 1] == '"' &&
                      memcmp(at + 1, size_name, size_len) == 0
                : frame__string_equals_bytes(at, end, (const frame__u8 *)size_name, size_len)))
        goto value;

    /* The size member (SPEC.md "The size member"), checked as soon as its
     * value is read, before anything after it. */
    have_size = 1;
    if (p >= end) FRAME__FAIL(FRAME_E_JSON_SYNTAX, end);
    if (!FRAME__IS_DIGIT(*p)) FRAME__FAIL(frame__is_value_start(*p) ? FRAME_E_SIZE_INVALID : FRAME_E_JSON_SYNTAX, p);
    at = p;
    p = frame__number(p, end, &plain, &err);
    if (err) FRAME__FAIL(err, p);
    if (!plain) FRAME__FAIL(FRAME_E_SIZE_INVALID, at);
    {
        const frame__u8 *v;
        uint64_t n = 0;
        int saturated = 0;
        for (v = at; v < p; v++) {
            unsigned d = (unsigned)(*v - '0');
            /* Only a number of 20 digits or more can overflow. */
            if (n >= UINT64_MAX / 10 && (n > UINT64_MAX / 10 || d > UINT64_MAX % 10)) saturated = 1;
            n = n * 10 + d;
        }
        job->size = saturated ? UINT64_MAX : n;
        if (saturated || n > frame__max_body(job->cfg)) FRAME__FAIL(FRAME_E_BODY_TOO_LARGE, at);
    }
    FRAME__EMIT(at, (size_t)(p - at));

after_value:
    FRAME__SKIP_WS();
    if (level == 0) {
        if (p != end) FRAME__FAIL(FRAME_E_JSON_SYNTAX, p);
        if (job->header && !have_size) FRAME__FAIL(FRAME_E_SIZE_MISSING, end);
        job->members = members;
        return FRAME_OK;
    }
    if (p >= end) FRAME__FAIL(FRAME_E_JSON_SYNTAX, end);
    if (*p == ',') {
        FRAME__EMIT(p, 1);
        p++;
        FRAME__SKIP_WS();
        if (arrays & (1u << (level - 1))) goto value;
        goto member;
    }
    if (*p != ((arrays & (1u << (level - 1))) ? ']' : '}')) FRAME__FAIL(FRAME_E_JSON_SYNTAX, p);

close:
    FRAME__EMIT(p, 1);
    p++;
    if (!(arrays & (1u << (level - 1)))) nnames = first[level];
    level--;
    depth--;
    goto after_value;
}

/*
 * The fast path for the common header: compact, flat, at most 16 members whose
 * names and string values are plain and whose other values are numbers or
 * literals. It only ever accepts: anything else, errors included, returns 0
 * and frame__json_validate() decides, so results are the same either way.
 */
#define FRAME__FAST_MEMBERS 16

/* A name's key for the fast duplicate check: its first 8 bytes with the
 * length in the top byte. Names of up to 7 bytes are their key. */
static FRAME__INLINE uint64_t frame__name_key(const frame__u8 *name, size_t len, size_t room) {
    uint64_t w = 0;
    size_t i;
    if (len >= 8) return frame__load64(name) ^ ((uint64_t)len << 56);
    if (room >= 8) return (frame__load64(name) & ((1ull << (8 * len)) - 1)) | (uint64_t)len << 56;
    for (i = 0; i < len; i++) w |= (uint64_t)name[i] << (8 * i);
    return w | (uint64_t)len << 56;
}

int frame__fast_header(frame__json_job *job) {
    const frame__u8 *p = job->start, *end = job->end, *q;
    const frame__u8 *names[FRAME__FAST_MEMBERS];
    uint64_t keys[FRAME__FAST_MEMBERS], key, size_key;
    const char *size_name = frame__size_name(job->cfg);
    size_t size_len = 0, len;
    unsigned n = 0, i;
    int have_size = 0, plain;
    uint64_t size = 0;
    frame_errno err = FRAME_OK;
    if (end - p < 2 || *p != '{' || job->out || !job->header) return 0;
    while (size_name[size_len] && size_len < 8) size_len++;
    size_key = frame__name_key((const frame__u8 *)size_name, size_len, 0);
    for (p++;; p++) {
        if (p >= end || *p != '"' || n == FRAME__FAST_MEMBERS) return 0;
        q = frame__plain_end(p + 1, end);
        if (q >= end) return 0;
        if (*q != '"') return 0;
        len = (size_t)(q - p - 1);
        key = frame__name_key(p + 1, len, (size_t)(end - p - 1));
        for (i = 0; i < n; i++) /* a duplicate is for the general path to report */
            if (keys[i] == key && (len < 8 || memcmp(names[i], p + 1, len) == 0)) return 0;
        names[n] = p + 1;
        keys[n++] = key;
        p = q + 1;
        if (p + 1 >= end || *p != ':') return 0;
        p++;
        if (!have_size && key == size_key &&
            (len < 8 || (memcmp(q - len, size_name, len) == 0 && size_name[len] == '\0'))) {
            have_size = 1;
            if (!FRAME__IS_DIGIT(*p) || (*p == '0' && FRAME__IS_DIGIT(p[1]))) return 0;
            for (q = p; p < end && FRAME__IS_DIGIT(*p); p++) size = size * 10 + (unsigned)(*p - '0');
            /* 17 digits and up are beyond 2^53 - 1, and could overflow. */
            if (p - q > 16 || size > frame__max_body(job->cfg)) return 0;
        } else if (*p == '"') {
            q = frame__plain_end(p + 1, end);
            if (q >= end || *q != '"') return 0;
            p = q + 1;
        } else if (*p == '-' || FRAME__IS_DIGIT(*p)) {
            p = frame__number(p, end, &plain, &err);
            if (err) return 0;
        } else {
            const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : *p == 'n' ? "null" : "";
            for (i = 0; lit[i]; i++)
                if (p + i >= end || p[i] != (frame__u8)lit[i]) return 0;
            if (!i) return 0;
            p += i;
        }
        if (p >= end) return 0;
        if (*p == '}') break;
        if (*p != ',') return 0;
    }
    if (p + 1 != end || !have_size) return 0;
    job->size = size;
    job->members = n;
    return 1;
}

FRAME_API frame_errno frame_header_parse(frame_header *out, const frame_config *cfg,
                                         const void *json, size_t len, size_t *err_pos) {
    frame__json_job job;
    frame_errno err;
    if (!out || (!json && len)) return FRAME_E_ARGUMENT;
    err = frame_config_check(cfg);
    if (err) return err;
    memset(&job, 0, sizeof job);
    job.start = (const frame__u8 *)json;
    job.end = job.start + len;
    job.header = 1;
    job.cfg = cfg;
    err = frame__fast_header(&job) ? FRAME_OK : frame__json_validate(&job);
    out->root.json = (const char *)json;
    out->root.len = len;
    out->root.type = err ? FRAME_TYPE_INVALID : FRAME_TYPE_OBJECT;
    out->body_size = job.size;
    if (err_pos) *err_pos = err ? job.err_pos : 0;
    return err;
}

frame_type frame__skip_value(const frame__u8 **pp, const frame__u8 *end) {
    const frame__u8 *p = *pp;
    frame_type type;
    size_t nest = 0;
    if (p >= end) return FRAME_TYPE_INVALID;
    switch (*p) {
    case 't': case 'f': case 'n': {
        const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
        size_t n = strlen(lit);
        if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0) return FRAME_TYPE_INVALID;
        *pp = p + n;
        return *lit == 'n' ? FRAME_TYPE_NULL : FRAME_TYPE_BOOL;
    }
    case '{': type = FRAME_TYPE_OBJECT; break;
    case '[': type = FRAME_TYPE_ARRAY; break;
    case '"': type = FRAME_TYPE_STRING; break;
    default:
        if (*p != '-' && !FRAME__IS_DIGIT(*p)) return FRAME_TYPE_INVALID;
        while (p < end && (FRAME__IS_DIGIT(*p) || *p == '-' || *p == '+' || *p == '.' || (*p | 0x20) == 'e')) p++;
        *pp = p;
        return FRAME_TYPE_NUMBER;
    }
    /* Strings and containers: find the matching end, skipping string contents. */
    for (; p < end; p++) {
        if (*p == '"') {
            for (p++; p < end && *p != '"'; p++)
                if (*p == '\\' && p + 1 < end) p++;
            if (p >= end) return FRAME_TYPE_INVALID;
            if (type == FRAME_TYPE_STRING) break;
        } else if (*p == '{' || *p == '[') {
            nest++;
        } else if (*p == '}' || *p == ']') {
            if (--nest == 0) break;
        }
    }
    if (p >= end) return FRAME_TYPE_INVALID;
    *pp = p + 1;
    return type;
}
