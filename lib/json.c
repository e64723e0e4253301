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


#if FRAME__SMALL
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
        p = frame__kernel_digits(p, end);
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


/* The literals, each at (its first byte - 'f') % 16: false 0, null 8, true
 * 14. Every other byte finds a byte unlike itself there, so the validator
 * picks a literal with no comparisons, and anything else fails at its first
 * byte. */
static const char frame__literals[] = "false\0\0\0null\0\0true";

#include "names.h"

/* Past JSON white space: one comparison when there is none (compact text). */
#define FRAME__SKIP_WS(p) ((p) < end && *(p) <= ' ' ? frame__skip_ws((p), end) : (p))

/*
 * A walk over the tokens, each state a label that knows what may come
 * next; `at` is the token being looked at, where most errors point. A
 * container's level remembers whether it is an array (bit 0) and the number
 * of its first name: the names of the open object are first .. nnames - 1.
 */
frame_errno frame__json_validate(frame__json_job *job) {
    const frame__u8 *p = job->start, *end = job->end, *at = p;
    frame__names names;
    uint16_t open[FRAME_MAX_DEPTH + 1];
    unsigned nnames = 0, level = 0, part = 0, is_size;
    /* The level whose names may still be the size member: 1 in a header
     * until it is found, else none. */
    unsigned size_level = job->header ? 1u : 0u;
    const char *size_name = frame__size_name(job->cfg), *lit;
    size_t size_len = strlen(size_name);
    frame__u8 c;
    frame_errno err = FRAME_OK;

#if SIZE_MAX > UINT32_MAX /* name offsets are 32-bit; a smaller size_t cannot exceed them */
    if ((size_t)(end - p) > UINT32_MAX) {
        err = FRAME_E_HEADER_TOO_LARGE;
        goto fail;
    }
#endif
    frame__names_init(&names, p, end);
    if (job->header && end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        err = FRAME_E_BOM;
        goto fail;
    }
    at = p = FRAME__SKIP_WS(p);
    c = p < end ? *p : 0;
    if (job->header && c != '{') { /* a header is an object */
        if (frame__is_value_start(c)) err = FRAME_E_NOT_OBJECT;
        goto syntax;
    }

value: /* at == p: where a value must start */
    c = p < end ? *p : 0;
    if (c == '"') {
        err = frame__value_string(&p, end);
        if (err) goto syntax_p;
    } else if (c == '-' || FRAME__IS_DIGIT(c)) {
        p = frame__number(p, end, &part);
        if (!FRAME__IS_DIGIT(p[-1])) goto syntax_p;
    } else if (c == '{' || c == '[') {
        if (job->depth + level >= FRAME_MAX_DEPTH) {
            err = FRAME_E_TOO_DEEP;
            goto fail;
        }
        open[++level] = (uint16_t)(nnames << 1 | (c == '['));
        p++;
        at = p = FRAME__SKIP_WS(p);
        if (p < end && *p == '}' + (c - '{')) { /* empty: '}' or ']' (']' is '}' - 32, '[' is '{' - 32) */
            p++;
            goto closed;
        }
        if (c == '[') goto value;
        goto name;
    } else { /* a literal; anything else fails at its first byte */
        lit = frame__literals + ((c - 'f') & 15u);
        do
            if (p >= end || *p != (frame__u8)*lit) goto syntax_p;
        while (p++, *++lit);
    }

next: /* past a value */
    at = p = FRAME__SKIP_WS(p);
    if (!level) goto done;
    c = p < end ? *p : 0;
    if (c == ',') {
        p++;
        at = p = FRAME__SKIP_WS(p);
        if (open[level] & 1) goto value;
        goto name;
    }
    if (c != '}' - ((open[level] & 1) << 5)) goto syntax;
    p++;
closed: /* past the '}' or ']' of the innermost container */
    nnames = open[level--] >> 1u;
    goto next;

name: /* at == p: where a member's name must start */
    if (p >= end || *p != '"') goto syntax;
    if (++job->members > FRAME_MAX_MEMBERS) {
        err = FRAME_E_TOO_MANY_MEMBERS;
        goto fail;
    }
    err = frame__names_add(&names, &p, open[level] >> 1u, nnames);
    if (err == FRAME_E_DUPLICATE_NAME) goto fail;
    if (err) goto syntax_p;
    nnames++;
    /* The name's text is at least as long as its content, and as long only
     * when it holds no escape (a size name holding a backslash is then
     * none): most names are told apart by their length. */
    is_size = level == size_level &&
              ((size_t)(p - at) - 2 == size_len ? memcmp(at + 1, size_name, size_len) == 0 && !memchr(size_name, '\\', size_len)
               : (size_t)(p - at) - 2 > size_len &&
                     frame__string_equals_bytes(at, end, (const frame__u8 *)size_name, size_len));
    at = p = FRAME__SKIP_WS(p);
    if (p >= end || *p != ':') goto syntax;
    p++;
    at = p = FRAME__SKIP_WS(p);
    if (!is_size) goto value;
    /* The size member: a decimal integer, checked as soon as it is read. */
    c = p < end ? *p : 0;
    if (!FRAME__IS_DIGIT(c)) {
        if (frame__is_value_start(c)) err = FRAME_E_SIZE_INVALID;
        goto syntax;
    }
    p = frame__number(p, end, &part);
    if (!FRAME__IS_DIGIT(p[-1])) goto syntax_p;
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
    goto next;

done: /* past the top-level value and the white space after it */
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
