/*
 * The header validator of SPEC.md: one left-to-right pass, the first error in
 * byte order wins. No recursion: nesting is a fixed array of levels, so a
 * hostile `[[[[...` costs neither stack nor more than FRAME_MAX_DEPTH levels.
 * Strings are scanned in runs by the string kernel of the target (scan.h).
 * Builds that are not size-optimised also get a fast path for the common
 * compact header, which only ever agrees with the general code: that
 * decides everything the fast path is unsure of.
 */
#include "scan.h"

#if FRAME__SMALL
#define FRAME__SPECIAL(c) FRAME__IS_SPECIAL(c)
#else
/* The same test as a table, derived from it: one load per byte where speed
 * counts. */
#define FRAME__S4(c) FRAME__IS_SPECIAL(c), FRAME__IS_SPECIAL((c) + 1), FRAME__IS_SPECIAL((c) + 2), FRAME__IS_SPECIAL((c) + 3)
#define FRAME__S16(c) FRAME__S4(c), FRAME__S4((c) + 4), FRAME__S4((c) + 8), FRAME__S4((c) + 12)
#define FRAME__S64(c) FRAME__S16(c), FRAME__S16((c) + 16), FRAME__S16((c) + 32), FRAME__S16((c) + 48)
static const frame__u8 frame__special[256] = {FRAME__S64(0), FRAME__S64(64), FRAME__S64(128), FRAME__S64(192)};
#undef FRAME__S64
#undef FRAME__S16
#undef FRAME__S4
#define FRAME__SPECIAL(c) frame__special[c]
#endif

/* A run of plain string bytes: the string kernel's (scan.h). */
static FRAME__INLINE const frame__u8 *frame__plain_run(const frame__u8 *p, const frame__u8 *end) {
    return frame__kernel_special(p, end);
}

const frame__u8 *frame__skip_ws(const frame__u8 *p, const frame__u8 *end) {
    while (p < end && FRAME__IS_WS(*p)) p++;
    return p;
}

const frame__u8 *frame__plain_end(const frame__u8 *p, const frame__u8 *end) {
    return frame__plain_run(p, end);
}

#if !FRAME__SMALL
/* The end of a name hash over n bytes whose words are all mixed into h. */
static uint32_t frame__hash_final(uint64_t h, size_t n) {
    FRAME__MIX(h, (uint64_t)n);
    return (uint32_t)(h >> 32);
}

static uint32_t frame__sink_hash(const frame__sink *s) {
    uint64_t h = s->hash;
    if (s->len & 7) FRAME__MIX(h, s->word);
    return frame__hash_final(h, s->len);
}
#endif

#if FRAME__SMALL
/* Inline: the validator decodes through it into its own buffer, with no sink
 * to fill, and a decoder then links no frame__scan_string (header access
 * needs that). */
#if defined(__GNUC__)
#define FRAME__DECODE_INLINE inline __attribute__((always_inline))
#else
#define FRAME__DECODE_INLINE inline
#endif

/* Decodes the string at `quote` through `it` and puts a hash of its bytes
 * in *hash. Returns the iterator's last answer: -1 with it->p at the closing
 * quote, else -1 - the error. */
static FRAME__DECODE_INLINE int frame__decode(frame__siter *it, const frame__u8 *quote, const frame__u8 *end,
                                              uint32_t *hash) {
    uint32_t h = 0;
    int c;
    frame__siter_init(it, quote, end);
    /* h * 31 + c: a multiplier that needs no literal (a weaker hash only
     * costs a few more name comparisons). */
    while ((c = frame__siter_next(it)) >= 0) h = h * 31 + (unsigned)c;
    *hash = h;
    return c;
}

/* A byte at a time through the string iterator: the least code. */
frame_errno frame__scan_string(const frame__u8 **pp, const frame__u8 *end, frame__sink *sink) {
    frame__siter it;
    frame__sink none = {NULL, 0, 0};
    int c;
    if (!sink) sink = &none;
    frame__siter_init(&it, *pp, end);
    while ((c = frame__siter_next(&it)) >= 0) {
        if (sink->len < sink->cap) sink->buf[sink->len] = (frame__u8)c;
        sink->len++;
    }
    *pp = it.p + (c == -1);
    return c == -1 ? FRAME_OK : (frame_errno)(-1 - c);
}
#else
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
    const frame__u8 *p = *pp + 1, *next, *src;
    frame__u8 u[4];
    frame_errno err = FRAME_OK;
    uint32_t cp;
    size_t n;
    for (;;) {
        /* A run of printable ASCII other than '"' and '\\' stands for
         * itself, and so does a well-formed UTF-8 sequence. After a run, p
         * is at a special byte: no word scan for that. */
        next = p < end && FRAME__SPECIAL(*p) ? p : frame__plain_run(p, end);
        src = p;
        n = (size_t)(next - p);
        if (!n) {
            if (p >= end) {
                err = FRAME_E_JSON_SYNTAX;
                break;
            }
            if (*p == '"') {
                p++;
                break;
            }
            if (*p == '\\') {
                err = frame__escape(p, end, &cp, &next);
                if (err) {
                    p = next;
                    break;
                }
                n = sink ? frame__put_utf8(u, cp) : 0; /* values need no bytes */
                src = u;
            } else if (*p >= 0x80 && (n = frame__utf8_len(p, end)) != 0) {
                next = p + n;
            } else {
                err = *p >= 0x80 ? FRAME_E_BAD_UTF8 : FRAME_E_JSON_SYNTAX; /* or a control character */
                break;
            }
        }
        if (sink) frame__sink_put(sink, src, n);
        p = next;
    }
    *pp = p;
    return err;
}
#endif

#if !FRAME__SMALL
/*
 * The fast path for a name at q (just past the opening quote): when it is
 * plain (no escape, control or non-ASCII byte before the closing quote),
 * returns the closing quote and mixes the content into *h word by word,
 * exactly as a hashing sink would. Otherwise returns NULL.
 */
static const frame__u8 *frame__plain_string(const frame__u8 *q, const frame__u8 *end, uint64_t *h) {
    const frame__u8 *close = frame__plain_run(q, end);
    uint64_t word = 0;
    size_t k;
    if (close >= end || *close != '"') return NULL;
    for (; close - q >= 8; q += 8) FRAME__MIX(*h, frame__load64(q));
    for (k = 0; q + k < close; k++) word |= (uint64_t)q[k] << (8 * k);
    if (k) FRAME__MIX(*h, word);
    return close;
}
#endif

static const frame__u8 *frame__digits(const frame__u8 *p, const frame__u8 *end) {
    while (p < end && FRAME__IS_DIGIT(*p)) p++;
    return p;
}

/* Size builds keep the number scanner out of line: inside the validator it
 * would compete with the token loop for the few registers there are. */
#if FRAME__SMALL && defined(__GNUC__)
#define FRAME__NUMBER_INLINE __attribute__((noinline))
#else
#define FRAME__NUMBER_INLINE
#endif

/* Scans a number by the RFC 8259 grammar and returns where it stops: past its
 * last digit when it is well-formed, else at the byte that should have been a
 * digit (or end), so a number is well-formed when it ends in a digit. *part
 * says how far it went: 0 integer, 1 fraction, 2 exponent. A leading zero
 * ends the integer part, so `01` stops at the `1`, which the caller then
 * refuses. */
static FRAME__NUMBER_INLINE const frame__u8 *frame__number(const frame__u8 *p, const frame__u8 *end, unsigned *part) {
    const frame__u8 *q;
    *part = 0;
    p += *p == '-';
    for (;;) {
        q = p;
        p = frame__digits(p, end);
        if (p == q) return p;
        if (!*part && *q == '0') p = q + 1;
        if (p >= end) return p;
        if (!*part && *p == '.') {
            *part = 1;
        } else if (*part < 2 && (*p | 0x20) == 'e') {
            *part = 2;
            if (p + 1 < end && (p[1] == '+' || p[1] == '-')) p++;
        } else {
            return p;
        }
        p++;
    }
}

/* A byte that starts a JSON value (for NOT_OBJECT and SIZE_INVALID). */
static int frame__is_value_start(frame__u8 c) {
    static const char starts[] = "{[\"-0123456789tfn";
    return memchr(starts, c, sizeof starts - 1) != NULL; /* not the NUL */
}

#if !FRAME__SMALL
/* Scans the name at p (its opening quote) and returns its end; *hash is the
 * hash of its decoded content. On error sets *err and returns the offending
 * byte. */
static const frame__u8 *frame__name_token(const frame__u8 *p, const frame__u8 *end, uint32_t *hash,
                                          frame_errno *err) {
    frame__sink sink;
    uint64_t h = 0;
    const frame__u8 *q = frame__plain_string(p + 1, end, &h);
    if (q) {
        *hash = frame__hash_final(h, (size_t)(q - p - 1));
        return q + 1;
    }
    memset(&sink, 0, sizeof sink);
    sink.want_hash = 1;
    *err = frame__scan_string(&p, end, &sink);
    *hash = frame__sink_hash(&sink);
    return p;
}
#endif

/* The literals, each at (its first byte - 'f') % 16: false 0, null 8, true
 * 14. Every other byte finds a byte unlike itself there, so the validator
 * picks a literal with no comparisons, and anything else fails at its first
 * byte. */
static const char frame__literals[] = "false\0\0\0null\0\0true";

/* What the validator may meet next, one bit each; CLOSE: the innermost
 * container may also close there. The top-level value of a header must be
 * an object, and the size member's value a decimal integer. */
#define FRAME__WANT_VALUE 2u
#define FRAME__WANT_NAME 1u
#define FRAME__WANT_COLON 8u
#define FRAME__WANT_COMMA 16u
#define FRAME__WANT_CLOSE 4u
#define FRAME__WANT_TOP 64u
#define FRAME__WANT_SIZE 32u

frame_errno frame__json_validate(frame__json_job *job) {
    const frame__u8 *p = job->start, *end = job->end, *at = p;
    /* The names of the open objects, for the duplicate check: an object's
     * names are name_off[open[level] >> 1] up to name_off[nnames]. Bit 0 of
     * open[level]: that container is an array. */
    uint32_t name_off[FRAME_MAX_MEMBERS];
    uint16_t open[FRAME_MAX_DEPTH + 1];
#if !FRAME__SMALL
    /* Names are found by hash in `table` (linear probing; an entry is a 6-bit
     * hash tag and the name's index + 1). Entries of closed objects stay
     * behind: an index outside the current object is skipped, and one that
     * was reused names a member of the current object, so comparing with it
     * is still right. At most FRAME_MAX_MEMBERS entries ever go in, so the
     * table is never more than half full, and checking a name costs O(1), not
     * O(members). Size-optimised builds compare 16 bits of a hash of
     * the name with each earlier one's (`tags`), and the names only when
     * they agree. */
    uint16_t table[2 * FRAME_MAX_MEMBERS];
    size_t most = (size_t)(end - p) / 5 + 1; /* a member takes 5 bytes at least: "":0, */
    unsigned mask = 15;
    uint32_t hash = 0;
    const frame__u8 *q;
#else
    uint16_t tags[FRAME_MAX_MEMBERS];
    uint32_t hash;
    frame__siter it;
    int k;
#endif
    unsigned nnames = 0, level = 0, part = 0, want = job->header ? FRAME__WANT_TOP : FRAME__WANT_VALUE, i;
    /* The level whose names may still be the size member: 1 in a header
     * until it is found, else none. */
    unsigned size_level = job->header ? 1u : 0u;
    const char *lit;
    frame__u8 c;
    frame_errno err = FRAME_OK;

#if SIZE_MAX > UINT32_MAX /* name offsets are 32-bit; a smaller size_t cannot exceed them */
    if ((size_t)(end - p) > UINT32_MAX) {
        err = FRAME_E_HEADER_TOO_LARGE;
        goto fail;
    }
#endif
#if !FRAME__SMALL
    while (mask + 1 < 2 * most && mask + 1 < 2 * FRAME_MAX_MEMBERS) mask = mask * 2 + 1;
    memset(table, 0, (mask + 1) * sizeof table[0]);
#endif
    if (job->header && end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        err = FRAME_E_BOM;
        goto fail;
    }
    for (;;) {
        p = at = frame__skip_ws(p, end);
        c = p < end ? *p : 0;
        /* ']' is '}' - 32 */
        if ((want & FRAME__WANT_CLOSE) && level && c == '}' - ((open[level] & 1) << 5)) {
            p++;
            nnames = open[level--] >> 1u;
            want = FRAME__WANT_COMMA | FRAME__WANT_CLOSE;
            continue;
        }
        if (want & FRAME__WANT_COMMA) {
            if (!level) break;
            if (c != ',') goto syntax;
            p++;
            want = (open[level] & 1) ? FRAME__WANT_VALUE : FRAME__WANT_NAME;
        } else if (want & FRAME__WANT_COLON) {
            const char *size_name = frame__size_name(job->cfg);
            if (c != ':') goto syntax;
            p++;
            want = FRAME__WANT_VALUE;
            if (level == size_level &&
                frame__string_equals_bytes(job->start + name_off[nnames - 1], end,
                                           (const frame__u8 *)size_name, strlen(size_name)))
                want = FRAME__WANT_SIZE;
        } else {
            if (want & FRAME__WANT_NAME) {
                if (c != '"') goto syntax;
                if (++job->members > FRAME_MAX_MEMBERS) {
                    err = FRAME_E_TOO_MANY_MEMBERS;
                    goto fail;
                }
            } else if ((want & FRAME__WANT_TOP) && c != '{') {
                if (frame__is_value_start(c)) err = FRAME_E_NOT_OBJECT;
                goto syntax;
            } else if ((want & FRAME__WANT_SIZE) && !FRAME__IS_DIGIT(c)) {
                if (frame__is_value_start(c)) err = FRAME_E_SIZE_INVALID;
                goto syntax;
            }
            if (c == '{' || c == '[') {
                if (job->depth + level >= FRAME_MAX_DEPTH) {
                    err = FRAME_E_TOO_DEEP;
                    goto fail;
                }
                open[++level] = (uint16_t)(nnames << 1 | (c == '['));
                p++;
                want = (c == '[' ? FRAME__WANT_VALUE : FRAME__WANT_NAME) | FRAME__WANT_CLOSE;
                continue;
            }
            if (c == '"') {
#if FRAME__SMALL
                k = frame__decode(&it, p, end, &hash);
                p = it.p + 1;
                if (k != -1) {
                    err = (frame_errno)(-1 - k);
                    at = it.p;
                    goto fail;
                }
#else
                q = p;
                if (want & FRAME__WANT_NAME)
                    q = frame__name_token(q, end, &hash, &err);
                else
                    err = frame__scan_string(&q, end, NULL);
                p = q;
                if (err) goto syntax_p;
#endif
#if FRAME__SMALL
                if (!(want & FRAME__WANT_VALUE)) { /* a name: the same test, in fewer bytes here */
#else
                if (want & FRAME__WANT_NAME) {
#endif
#if FRAME__SMALL
                    for (i = open[level] >> 1u; i < nnames; i++)
                        if (tags[i] == (uint16_t)hash &&
                            frame__string_equals_string(job->start + name_off[i], end, at, end)) {
                            err = FRAME_E_DUPLICATE_NAME;
                            goto fail;
                        }
                    tags[nnames] = (uint16_t)hash;
#else
                    for (i = hash & mask; table[i]; i = (i + 1) & mask) {
                        unsigned k = (table[i] & 1023u) - 1u;
                        if (table[i] >> 10 == hash >> 26 && k >= open[level] >> 1u && k < nnames &&
                            frame__string_equals_string(job->start + name_off[k], end, at, end)) {
                            err = FRAME_E_DUPLICATE_NAME;
                            goto fail;
                        }
                    }
                    table[i] = (uint16_t)((hash >> 26) << 10 | (nnames + 1));
#endif
                    name_off[nnames++] = (uint32_t)(at - job->start);
                    want = FRAME__WANT_COLON;
                    continue;
                }
            } else if (c == '-' || FRAME__IS_DIGIT(c)) {
                p = frame__number(p, end, &part);
                if (!FRAME__IS_DIGIT(p[-1])) goto syntax_p;
            } else { /* a literal; anything else fails at its first byte */
                lit = frame__literals + ((c - 'f') & 15u);
                do
                    if (p >= end || *p != (frame__u8)*lit) goto syntax_p;
                while (p++, *++lit);
            }
            if (want & FRAME__WANT_SIZE) { /* checked as soon as it is read */
                size_level = 0;
                if (part) {
                    err = FRAME_E_SIZE_INVALID;
                    goto fail;
                }
                frame__decimal(at, p, &job->size); /* saturated when it does not fit */
                if (job->size > frame__max_body(job->cfg)) {
                    err = FRAME_E_BODY_TOO_LARGE;
                    goto fail;
                }
            }
            want = FRAME__WANT_COMMA | FRAME__WANT_CLOSE;
        }
    }
    if (p != end) goto syntax;
    if (size_level) {
        err = FRAME_E_SIZE_MISSING;
        goto fail;
    }
    return FRAME_OK;

syntax_p:
    at = p;
syntax:
    if (!err) err = FRAME_E_JSON_SYNTAX;
fail:
    job->err_pos = (size_t)(at - job->start);
    return err;
}

#if !FRAME__SMALL
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
    uint64_t keys[FRAME__FAST_MEMBERS], key;
    const char *size_name = frame__size_name(job->cfg);
    size_t size_len = strlen(size_name), len;
    unsigned n = 0, i, part;
    int have_size = 0;
    uint64_t size = 0;
    if (end - p < 2 || *p != '{' || !job->header) return 0;
    for (p++;; p++) {
        if (p >= end || *p != '"' || n == FRAME__FAST_MEMBERS) return 0;
        q = frame__plain_run(p + 1, end);
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
        if (!have_size && len == size_len && memcmp(q - len, size_name, len) == 0) {
            have_size = 1;
            if (!FRAME__IS_DIGIT(*p) || (*p == '0' && p + 1 < end && FRAME__IS_DIGIT(p[1]))) return 0;
            for (q = p; p < end && FRAME__IS_DIGIT(*p); p++) size = size * 10 + (unsigned)(*p - '0');
            /* 17 digits and up are beyond 2^53 - 1, and could overflow. */
            if (p - q > 16 || size > frame__max_body(job->cfg)) return 0;
        } else if (*p == '"') {
            q = frame__plain_run(p + 1, end);
            if (q >= end || *q != '"') return 0;
            p = q + 1;
        } else if (*p >= '1' && *p <= '9') { /* the usual number: a plain integer */
            while (++p < end && FRAME__IS_DIGIT(*p)) {}
            if (p < end && (*p == '.' || (*p | 0x20) == 'e')) return 0;
        } else if (*p == '-' || *p == '0') {
            p = frame__number(p, end, &part);
            if (!FRAME__IS_DIGIT(p[-1])) return 0;
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

#endif

frame_errno frame__parse_header(const frame_config *cfg, const void *json, size_t len,
                                frame_header *out, size_t *err_pos) {
    frame__json_job job;
    frame_errno err;
    const frame__u8 *start = (const frame__u8 *)json, *end = start + len;
    memset(&job, 0, sizeof job);
    job.start = start;
    job.end = end;
    job.header = 1;
    job.cfg = cfg;
#if !FRAME__SMALL
    if (frame__fast_header(&job))
        err = FRAME_OK;
    else
#endif
        err = frame__json_validate(&job);
    /* The root view is the object itself, without the white space around
     * it: a valid header holds nothing else. */
    if (!err) {
        while (*start != '{') start++;
        while (end[-1] != '}') end--;
    }
    out->root.json = (const char *)start;
    out->root.len = (size_t)(end - start);
    out->root.type = err ? FRAME_TYPE_INVALID : FRAME_TYPE_OBJECT;
    out->body_size = job.size;
    *err_pos = job.err_pos; /* 0 unless an error set it */
    return err;
}

FRAME_API frame_errno frame_header_parse(frame_header *out, const frame_config *cfg,
                                         const void *json, size_t len, size_t *err_pos) {
    size_t pos = 0;
    frame_errno err;
    if (!out || (!json && len)) return FRAME_E_ARGUMENT;
    err = frame_config_check(cfg);
    if (!err) err = frame__parse_header(frame__config(cfg), json ? json : "", len, out, &pos);
    if (err_pos) *err_pos = pos; /* 0 unless the header is wrong */
    return err;
}
