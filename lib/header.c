/*
 * Reading values out of a header. Each accessor is bounded by the value's
 * span and safe on any bytes, validated or not: malformed text reads as a
 * type error or the end of a container, never as an over-read.
 */
#include "internal.h"

/* One #if: how frame_value_string() decodes a string, by build. */
#if FRAME__SMALL
#include "header_small.h"
#else
#include "header_fast.h"
#endif

/* The end of the value starting at p (no validation, bounded by end), with
 * its type in *type; NULL (and FRAME_TYPE_INVALID) when no value starts there. */
static const frame__u8 *frame__skip(const frame__u8 *p, const frame__u8 *end, frame_type *type) {
    static const char lits[20] = FRAME__LITERALS;
    const frame__u8 *q = p;
    const char *lit;
    size_t nest = 0;
    unsigned c;
    *type = FRAME_TYPE_INVALID;
    if (q >= end) return NULL;
    c = *q;
    if (c >= 'f' && c <= 't') {
        lit = lits + (c - 'f'); /* from 'f' to 't': 0 to 14 */
        do
            if (q >= end || *q != (frame__u8)*lit) return NULL;
        while (q++, *++lit);
        *type = (frame_type)lit[1];
        return q;
    }
    if (c == '-' || FRAME__IS_DIGIT(c)) {
        do q++;
        while (q < end &&
               (FRAME__IS_DIGIT(*q) || *q == '-' || *q == '+' || *q == '.' || (*q | 0x20) == 'e'));
        *type = FRAME_TYPE_NUMBER;
        return q;
    }
    /* A string or a container: its end is the closing quote at the top level
     * or the bracket that closes the first one. Brackets of either kind count
     * alike ((c | 0x20) folds '[' into '{' and ']' into '}'): only the end is
     * wanted, the text is not validated. */
    if (c != '"' && (c | 0x20) != '{') return NULL;
    for (; q < end; q++) {
        c = *q;
        if (c == '"') {
            for (q++; q < end && *q != '"'; q++)
                if (*q == '\\' && q + 1 < end) q++;
            if (q >= end) return NULL;
            if (!nest) break;
        } else if ((c | 0x20) == '{') {
            nest++;
        } else if ((c | 0x20) == '}' && --nest == 0) {
            break;
        }
    }
    if (q >= end) return NULL;
    /* The type from the first byte: '{' 0x7b, '[' 0x5b and '"' 0x22 have 3, 2
     * and 1 in bits 5-6. */
    *type = (frame_type)(4 - (*p >> 5));
    return q + 1;
}

/* Whether v is a view of type t (the common check of the readers). */
static int frame__is(const frame_value *v, unsigned t) { return v && v->json && (unsigned)v->type == t; }

FRAME_API int frame_value_next(const frame_value *c, size_t *cursor, frame_member *m) {
    const frame__u8 *start, *end, *p, *q;
    frame_value *v;
    if (!c || !cursor || !m || !c->json) return 0;
    if (c->type != FRAME_TYPE_OBJECT && c->type != FRAME_TYPE_ARRAY) return 0;
    start = (const frame__u8 *)c->json;
    end = start + c->len;
    if (*cursor >= c->len) return 0;
    p = frame__skip_ws(start + (*cursor ? *cursor : 1), end);
    /* At the end, '}' or ']', no name or value starts below. */
    if (*cursor && p < end && *p == ',') p = frame__skip_ws(p + 1, end);
    m->name.json = (const char *)p;
    m->name.len = 0;
    m->name.type = FRAME_TYPE_STRING;
    /* The name (in an object), then the value. */
    for (v = c->type == FRAME_TYPE_OBJECT ? &m->name : &m->value;; v = &m->value) {
        v->json = (const char *)p;
        q = frame__skip(p, end, &v->type);
        if (!q) return 0;
        v->len = (size_t)(q - p);
        if (v == &m->value) break;
        if (v->type != FRAME_TYPE_STRING) return 0;
        p = frame__skip_ws(q, end);
        if (p >= end || *p != ':') return 0;
        p = frame__skip_ws(p + 1, end);
    }
    *cursor = (size_t)(q - start);
    return 1;
}

FRAME_API frame_errno frame_value_find(const frame_value *obj, const char *name, frame_value *out) {
    frame_member m;
    size_t cursor = 0, len;
    if (!obj || !name || !out) return FRAME_E_ARGUMENT;
    if (obj->type != FRAME_TYPE_OBJECT) return FRAME_E_TYPE;
    len = strlen(name);
    while (frame_value_next(obj, &cursor, &m)) {
        if (frame_value_string_equals(&m.name, name, len)) {
            *out = m.value;
            return FRAME_OK;
        }
    }
    return FRAME_E_NOT_FOUND;
}

/* What frame__read reads: the low bit says "signed", kind >> 1 "not a number". */
enum { FRAME__AS_UINT64, FRAME__AS_INT64, FRAME__AS_BOOL };

/*
 * Reads a bool into an int, or an integer (digits with an optional minus)
 * into a uint64_t, or into an int64_t (stored through the corresponding
 * unsigned type, as C allows: the bits of 0 - n are -n in two's complement,
 * which int64_t is by definition). In an integer, a non-digit anywhere is a
 * type error, even after an overflow; the overflow test needs no 64-bit
 * division.
 */
static frame_errno frame__read(const frame_value *v, void *out, unsigned kind) {
    const frame__u8 *p, *q, *end;
    uint64_t n, m;
    unsigned negative;
    /* FRAME__AS_BOOL reads a FRAME_TYPE_BOOL, the others a FRAME_TYPE_NUMBER. */
    if (!frame__is(v, FRAME_TYPE_NUMBER + (kind >> 1)) || !v->len)
        return FRAME_E_TYPE;
    p = (const frame__u8 *)v->json;
    if (kind == FRAME__AS_BOOL) {
        *(int *)out = *p == 't';
        return FRAME_OK;
    }
    end = p + v->len;
    negative = *p == '-';
    p += negative;
    q = p;
    do
        if (q >= end || (unsigned)*q - '0' > 9) return FRAME_E_TYPE;
    while (++q < end);
    if (!frame__decimal(p, end, &n)) return FRAME_E_RANGE;
    m = negative ? 0 - n : n;
    /* Nonzero results: an int64_t keeps the sign asked for, a uint64_t must
     * not be negative. */
    if (n && ((unsigned)(m >> 63) & kind) != negative) return FRAME_E_RANGE;
    *(uint64_t *)out = m;
    return FRAME_OK;
}

FRAME_API frame_errno frame_value_int64(const frame_value *v, int64_t *out) {
    return frame__read(v, out, FRAME__AS_INT64);
}

FRAME_API frame_errno frame_value_uint64(const frame_value *v, uint64_t *out) {
    return frame__read(v, out, FRAME__AS_UINT64);
}

FRAME_API frame_errno frame_value_bool(const frame_value *v, int *out) {
    return frame__read(v, out, FRAME__AS_BOOL);
}

FRAME_API int frame_value_is_null(const frame_value *v) { return frame__is(v, FRAME_TYPE_NULL); }

FRAME_API frame_errno frame_value_string(const frame_value *v, char *buf, size_t cap, size_t *len) {
    frame__sink sink;
    frame_errno err;
    if (!frame__is(v, FRAME_TYPE_STRING) || !v->len || v->json[0] != '"') return FRAME_E_TYPE;
    /* Two passes: the length first, so a short buffer is left untouched;
     * then the bytes, which over the same text cannot fail (so the NUL may
     * go first). */
    frame__sink_clear(&sink);
    for (;;) {
        err = frame__decode_string(v, &sink);
        if (err || sink.buf) return err;
        if (len) *len = sink.len;
        if (!buf || cap <= sink.len) return FRAME_E_BUFFER_TOO_SMALL;
        buf[sink.len] = '\0';
        sink.buf = (frame__u8 *)buf;
        sink.cap = cap;
        sink.len = 0;
    }
}

FRAME_API int frame_value_string_equals(const frame_value *v, const char *s, size_t len) {
    if (!frame__is(v, FRAME_TYPE_STRING) || (!s && len)) return 0;
    return frame__string_equals_bytes((const frame__u8 *)v->json,
                                      (const frame__u8 *)v->json + v->len, (const frame__u8 *)s,
                                      len);
}

FRAME_API frame_errno frame_header_find(const frame_header *h, const char *name, frame_value *out) {
    /* frame_value_find's own check turns a NULL h into FRAME_E_ARGUMENT. */
    return frame_value_find(h ? &h->root : NULL, name, out);
}

/* The shorthands that take one value of frame__read. */
static frame_errno frame__get(const frame_header *h, const char *name, void *out, unsigned kind) {
    frame_value v;
    frame_errno err = frame_header_find(h, name, &v);
    return err ? err : frame__read(&v, out, kind);
}

FRAME_API frame_errno frame_header_get_int64(const frame_header *h, const char *name, int64_t *out) {
    return frame__get(h, name, out, FRAME__AS_INT64);
}

FRAME_API frame_errno frame_header_get_uint64(const frame_header *h, const char *name,
                                              uint64_t *out) {
    return frame__get(h, name, out, FRAME__AS_UINT64);
}

FRAME_API frame_errno frame_header_get_bool(const frame_header *h, const char *name, int *out) {
    return frame__get(h, name, out, FRAME__AS_BOOL);
}

FRAME_API frame_errno frame_header_get_string(const frame_header *h, const char *name, char *buf,
                                              size_t cap, size_t *len) {
    frame_value v;
    frame_errno err = frame_header_find(h, name, &v);
    return err ? err : frame_value_string(&v, buf, cap, len);
}
