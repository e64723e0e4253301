/*
 * The header validator of SPEC.md: one left-to-right pass, the first error in
 * byte order wins. No recursion: nesting is a bit stack, so a hostile
 * `[[[[...` costs neither stack nor more than FRAME_MAX_DEPTH levels.
 * Builds that are not size-optimised also get a fast path for the common
 * compact header and word-at-a-time string scanning; both only ever agree
 * with the general code, which decides everything they are unsure of.
 */
#include "internal.h"

/* The bytes a string scan must stop at: '"', '\\', controls, non-ASCII. */
#define FRAME__IS_SPECIAL(c) ((c) < 0x20 || (c) >= 0x80 || (c) == '"' || (c) == '\\')
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

#if !FRAME__SMALL
/* Word-at-a-time helpers. Loads are little-endian on every host, so hashes
 * and scans agree between a plain name and its escaped spelling everywhere. */
#define FRAME__ONES 0x0101010101010101ull
#define FRAME__HIGHS 0x8080808080808080ull

static uint64_t frame__load64(const frame__u8 *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* Nonzero when one of the 8 bytes is special; its lowest flagged byte is the
 * first special one (a borrow only ever runs upwards from a flagged byte). */
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
#endif

static FRAME__INLINE const frame__u8 *frame__plain_run(const frame__u8 *p, const frame__u8 *end) {
#if !FRAME__SMALL
    while (end - p >= 8) {
        uint64_t m = frame__special8(frame__load64(p));
        if (m) return p + frame__first_byte(m);
        p += 8;
    }
#endif
    while (p < end && !FRAME__SPECIAL(*p)) p++;
    return p;
}

const frame__u8 *frame__skip_ws(const frame__u8 *p, const frame__u8 *end) {
    while (p < end && FRAME__IS_WS(*p)) p++;
    return p;
}

const frame__u8 *frame__plain_end(const frame__u8 *p, const frame__u8 *end) {
    return frame__plain_run(p, end);
}

/* Appends decoded bytes to a sink: counts, hashes and stores them. */
static void frame__sink_put(frame__sink *s, const frame__u8 *b, size_t n) {
    size_t i = 0;
#if FRAME__SMALL
    for (; i < n; i++) s->hash = (s->hash ^ b[i]) * 16777619u;
#else
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
#endif
    if (s->buf && s->len < s->cap) memcpy(s->buf + s->len, b, n < s->cap - s->len ? n : s->cap - s->len);
    s->len += n;
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

frame_errno frame__scan_string(const frame__u8 **pp, const frame__u8 *end, frame__sink *sink) {
    const frame__u8 *p = *pp + 1;
    for (;;) {
        const frame__u8 *run = p;
        frame__u8 c;
        /* A run of bytes that stand for themselves: printable ASCII other
         * than '"' and '\\', and well-formed UTF-8 sequences. */
        for (;;) {
            p = frame__plain_run(p, end);
            if (p < end && *p >= 0x80) {
                size_t n = frame__utf8_len(p, end);
                if (!n) {
                    *pp = p;
                    return FRAME_E_BAD_UTF8;
                }
                p += n;
                continue;
            }
            break;
        }
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
                size_t n = frame__put_utf8(u, cp);
                frame__sink_put(sink, u, n);
            }
            p = next;
        } else { /* a control character */
            *pp = p;
            return FRAME_E_JSON_SYNTAX;
        }
    }
}

#if !FRAME__SMALL
/*
 * The fast path for a name at q (just past the opening quote): when it is
 * plain (no escape, control or non-ASCII byte before the closing quote),
 * returns the closing quote and mixes the content into *h word by word,
 * exactly as a hashing sink would. Otherwise returns NULL.
 */
static const frame__u8 *frame__plain_string(const frame__u8 *q, const frame__u8 *end, uint64_t *h) {
    uint64_t word = 0;
    size_t k;
    while (end - q >= 8) {
        uint64_t w = frame__load64(q), m = frame__special8(w);
        if (m) {
            k = frame__first_byte(m);
            if (q[k] != '"') return NULL;
            if (k) FRAME__MIX(*h, w & ((1ull << (8 * k)) - 1));
            return q + k;
        }
        FRAME__MIX(*h, w);
        q += 8;
    }
    for (k = 0; q + k < end && !FRAME__SPECIAL(q[k]); k++) word |= (uint64_t)q[k] << (8 * k);
    if (q + k >= end || q[k] != '"') return NULL;
    if (k) FRAME__MIX(*h, word);
    return q + k;
}
#endif

static const frame__u8 *frame__digits(const frame__u8 *p, const frame__u8 *end) {
    while (p < end && FRAME__IS_DIGIT(*p)) p++;
    return p;
}

/* Scans a number by the RFC 8259 grammar and returns its end. On a
 * malformed number sets *err and returns the offending byte (or end). A
 * leading zero ends the integer part, so `01` stops at the `1`, which the
 * caller then refuses. */
static const frame__u8 *frame__number(const frame__u8 *p, const frame__u8 *end, frame_errno *err) {
    const frame__u8 *q;
    if (*p == '-') p++;
    q = p;
    p = frame__digits(p, end);
    if (p == q) goto bad;
    if (*q == '0') p = q + 1;
    if (p < end && *p == '.') {
        q = ++p;
        p = frame__digits(p, end);
        if (p == q) goto bad;
    }
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        q = p;
        p = frame__digits(p, end);
        if (p == q) goto bad;
    }
    return p;
bad:
    *err = FRAME_E_JSON_SYNTAX;
    return p;
}

/* A byte that starts a JSON value (for NOT_OBJECT and SIZE_INVALID). */
static int frame__is_value_start(frame__u8 c) {
    return c && strchr("{[\"-0123456789tfn", c) != NULL;
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

/* The size member's value at *p (SPEC.md "The size member"), checked as
 * soon as it is read, before anything after it. On success *p is past it;
 * on failure it is the offending byte. */
static frame_errno frame__size_value(frame__json_job *job, const frame__u8 **pp) {
    const frame__u8 *at = *pp, *p = at, *end = job->end;
    frame_errno err = FRAME_OK;
    uint64_t n;
    if (p >= end || !FRAME__IS_DIGIT(*p))
        return p < end && frame__is_value_start(*p) ? FRAME_E_SIZE_INVALID : FRAME_E_JSON_SYNTAX;
    p = frame__number(p, end, &err);
    if (err) {
        *pp = p;
        return err;
    }
    if (frame__digits(at, p) != p) return FRAME_E_SIZE_INVALID;
    frame__decimal(at, p, &n); /* saturated when it does not fit */
    job->size = n;
    if (n > frame__max_body(job->cfg)) return FRAME_E_BODY_TOO_LARGE;
    *pp = p;
    return FRAME_OK;
}

frame_errno frame__json_validate(frame__json_job *job) {
    const frame__u8 *p = job->start, *end = job->end, *at = p;
    /* The names of the open objects, for the duplicate check: an object's
     * names are name_off[first[level]] up to name_off[nnames]. */
    uint32_t name_off[FRAME_MAX_MEMBERS];
    uint16_t first[FRAME_MAX_DEPTH + 1];
#if !FRAME__SMALL
    /* Names are found by hash in `table` (linear probing; an entry is a 6-bit
     * hash tag and the name's index + 1). Entries of closed objects stay
     * behind: an index outside the current object is skipped, and one that
     * was reused names a member of the current object, so comparing with it
     * is still right. At most FRAME_MAX_MEMBERS entries ever go in, so the
     * table is never more than half full, and checking a name costs O(1), not
     * O(members). Size-optimised builds compare the name's 16-bit hash with
     * each earlier one's (`tags`), and the names only when they agree. */
    uint16_t table[2 * FRAME_MAX_MEMBERS];
    size_t most = (size_t)(end - p) / 5 + 1; /* a member takes 5 bytes at least: "":0, */
    unsigned mask = 15;
    uint32_t hash = 0;
#else
    uint16_t tags[FRAME_MAX_MEMBERS];
    frame__sink name;
#endif
    unsigned nnames = 0, level = 0, members = job->members, i;
    uint32_t arrays = 0; /* bit 0: the innermost open container is an array; bit 1 the next... */
    const char *size_name = frame__size_name(job->cfg), *lit;
    int have_size = 0;
    frame__u8 c;
    frame_errno err = FRAME_OK;

    if ((uint64_t)(end - p) > UINT32_MAX) {
        err = FRAME_E_HEADER_TOO_LARGE;
        goto fail;
    }
#if !FRAME__SMALL
    while (mask + 1 < 2 * most && mask + 1 < 2 * FRAME_MAX_MEMBERS) mask = mask * 2 + 1;
    memset(table, 0, (mask + 1) * sizeof table[0]);
#endif
    if (job->header && end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        err = FRAME_E_BOM;
        goto fail;
    }
    p = frame__skip_ws(p, end);
    if (job->header && p < end && *p != '{') {
        at = p;
        if (frame__is_value_start(*p)) err = FRAME_E_NOT_OBJECT;
        goto syntax;
    }

value:
    at = p;
    if (p >= end) goto syntax;
    c = *p;
    if (c == '{' || c == '[') {
        if (job->depth + level >= FRAME_MAX_DEPTH) {
            err = FRAME_E_TOO_DEEP;
            goto fail;
        }
        level++;
        arrays = arrays << 1 | (c == '[');
        first[level] = (uint16_t)nnames;
        p = frame__skip_ws(p + 1, end);
        if (p < end && *p == c + 2) goto close; /* ']' is '[' + 2, '}' is '{' + 2 */
        if (arrays & 1) goto value;
        goto member;
    }
    if (c == '"') {
        err = frame__scan_string(&p, end, NULL);
    } else if (c == '-' || FRAME__IS_DIGIT(c)) {
        p = frame__number(p, end, &err);
    } else { /* a literal; anything else fails at its first byte */
        for (lit = c == 't' ? "true" : c == 'f' ? "false" : "null"; *lit; lit++, p++)
            if (p >= end || *p != (frame__u8)*lit) break;
        if (*lit) err = FRAME_E_JSON_SYNTAX;
    }
    if (err) {
        at = p;
        goto fail;
    }

after_value:
    p = at = frame__skip_ws(p, end);
    if (level == 0) {
        if (p != end) goto syntax;
        if (job->header && !have_size) {
            err = FRAME_E_SIZE_MISSING;
            goto fail;
        }
        job->members = members;
        return FRAME_OK;
    }
    if (p >= end) goto syntax;
    if (*p == ',') {
        p = frame__skip_ws(p + 1, end);
        if (arrays & 1) goto value;
        goto member;
    }
    if (*p != ((arrays & 1) ? ']' : '}')) goto syntax;

close:
    p++;
    nnames = first[level];
    arrays >>= 1;
    level--;
    goto after_value;

member:
    at = p;
    if (p >= end || *p != '"') goto syntax;
    if (++members > FRAME_MAX_MEMBERS) {
        err = FRAME_E_TOO_MANY_MEMBERS;
        goto fail;
    }
#if FRAME__SMALL
    memset(&name, 0, sizeof name);
    err = frame__scan_string(&p, end, &name);
#else
    p = frame__name_token(p, end, &hash, &err);
#endif
    if (err) {
        at = p;
        goto fail;
    }
#if FRAME__SMALL
    for (i = first[level]; i < nnames; i++)
        if (tags[i] == (uint16_t)name.hash &&
            frame__string_equals_string(job->start + name_off[i], end, at, end)) {
            err = FRAME_E_DUPLICATE_NAME;
            goto fail;
        }
    tags[nnames] = (uint16_t)name.hash;
#else
    for (i = hash & mask; table[i]; i = (i + 1) & mask) {
        unsigned k = (table[i] & 1023u) - 1u;
        if (table[i] >> 10 == hash >> 26 && k >= first[level] && k < nnames &&
            frame__string_equals_string(job->start + name_off[k], end, at, end)) {
            err = FRAME_E_DUPLICATE_NAME;
            goto fail;
        }
    }
    table[i] = (uint16_t)((hash >> 26) << 10 | (nnames + 1));
#endif
    name_off[nnames++] = (uint32_t)(at - job->start);
    p = frame__skip_ws(p, end);
    if (p >= end || *p != ':') {
        at = p;
        goto syntax;
    }
    p = frame__skip_ws(p + 1, end);
    if (level != 1 || !job->header || have_size ||
        !frame__string_equals_bytes(at, end, (const frame__u8 *)size_name, strlen(size_name)))
        goto value;

    have_size = 1;
    err = frame__size_value(job, &p);
    if (err) {
        at = p;
        goto fail;
    }
    goto after_value;

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
    unsigned n = 0, i;
    int have_size = 0;
    uint64_t size = 0;
    frame_errno err = FRAME_OK;
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
            p = frame__number(p, end, &err);
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
    /* The root view is the object itself, without the white space around it. */
    if (!err) {
        start = frame__skip_ws(start, end);
        while (FRAME__IS_WS(end[-1])) end--;
    }
    out->root.json = (const char *)start;
    out->root.len = (size_t)(end - start);
    out->root.type = err ? FRAME_TYPE_INVALID : FRAME_TYPE_OBJECT;
    out->body_size = job.size;
    *err_pos = err ? job.err_pos : 0;
    return err;
}

FRAME_API frame_errno frame_header_parse(frame_header *out, const frame_config *cfg,
                                         const void *json, size_t len, size_t *err_pos) {
    size_t pos = 0;
    frame_errno err;
    if (!out || (!json && len)) return FRAME_E_ARGUMENT;
    err = frame_config_check(cfg);
    if (!err) err = frame__parse_header(cfg, json ? json : "", len, out, &pos);
    if (err_pos) *err_pos = err ? pos : 0;
    return err;
}
