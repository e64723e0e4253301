/*
 * Reading values out of a header. Each accessor is bounded by the value's
 * span and safe on any bytes, validated or not: malformed text reads as a
 * type error or the end of a container, never as an over-read.
 */
#include "internal.h"

/* Skips one value starting at *p (no validation, bounded by end); returns its
 * type, FRAME_TYPE_INVALID when no value starts there. */
static frame_type frame__skip_value(const frame__u8 **pp, const frame__u8 *end) {
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

FRAME_API int frame_value_next(const frame_value *c, size_t *cursor, frame_member *m) {
    const frame__u8 *start, *end, *p;
    int object;
    if (!c || !cursor || !m || !c->json) return 0;
    if (c->type != FRAME_TYPE_OBJECT && c->type != FRAME_TYPE_ARRAY) return 0;
    object = c->type == FRAME_TYPE_OBJECT;
    start = (const frame__u8 *)c->json;
    end = start + c->len;
    if (*cursor >= c->len) return 0;
    p = frame__skip_ws(start + (*cursor ? *cursor : 1), end);
    if (p >= end || *p == '}' || *p == ']') return 0;
    if (*cursor && *p == ',') p = frame__skip_ws(p + 1, end);
    m->name.json = (const char *)p;
    m->name.len = 0;
    m->name.type = FRAME_TYPE_STRING;
    if (object) {
        const frame__u8 *name = p;
        if (frame__skip_value(&p, end) != FRAME_TYPE_STRING) return 0;
        m->name.len = (size_t)(p - name);
        p = frame__skip_ws(p, end);
        if (p >= end || *p != ':') return 0;
        p = frame__skip_ws(p + 1, end);
    }
    m->value.json = (const char *)p;
    m->value.type = frame__skip_value(&p, end);
    if (m->value.type == FRAME_TYPE_INVALID) return 0;
    m->value.len = (size_t)((const char *)p - m->value.json);
    *cursor = (size_t)(p - start);
    return 1;
}

FRAME_API frame_errno frame_value_find(const frame_value *obj, const char *name, frame_value *out) {
    frame_member m;
    size_t cursor = 0, len;
    if (!obj || !name || !out) return FRAME_E_ARGUMENT;
    if (obj->type != FRAME_TYPE_OBJECT) return FRAME_E_TYPE;
    len = strlen(name);
    while (frame_value_next(obj, &cursor, &m)) {
        if (frame__string_equals_bytes((const frame__u8 *)m.name.json,
                                       (const frame__u8 *)m.name.json + m.name.len,
                                       (const frame__u8 *)name, len)) {
            *out = m.value;
            return FRAME_OK;
        }
    }
    return FRAME_E_NOT_FOUND;
}

/* Reads an integer (digits with an optional minus) as sign and magnitude. */
static frame_errno frame__integer(const frame_value *v, int *negative, uint64_t *magnitude) {
    const char *p, *end;
    uint64_t n = 0;
    if (!v || !v->json || v->type != FRAME_TYPE_NUMBER) return FRAME_E_TYPE;
    p = v->json;
    end = p + v->len;
    *negative = p < end && *p == '-';
    if (*negative) p++;
    if (p >= end) return FRAME_E_TYPE;
    for (; p < end; p++) {
        unsigned d;
        if (*p < '0' || *p > '9') return FRAME_E_TYPE;
        d = (unsigned)(*p - '0');
        if (n > (UINT64_MAX - d) / 10) {
            /* Still a number: what remains decides between TYPE and RANGE. */
            for (; p < end; p++)
                if (*p < '0' || *p > '9') return FRAME_E_TYPE;
            return FRAME_E_RANGE;
        }
        n = n * 10 + d;
    }
    *magnitude = n;
    return FRAME_OK;
}

FRAME_API frame_errno frame_value_int64(const frame_value *v, int64_t *out) {
    int negative;
    uint64_t n;
    frame_errno err = frame__integer(v, &negative, &n);
    if (err) return err;
    if (negative) {
        if (n > (uint64_t)INT64_MAX + 1) return FRAME_E_RANGE;
        *out = n == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)n;
    } else {
        if (n > (uint64_t)INT64_MAX) return FRAME_E_RANGE;
        *out = (int64_t)n;
    }
    return FRAME_OK;
}

FRAME_API frame_errno frame_value_uint64(const frame_value *v, uint64_t *out) {
    int negative;
    uint64_t n;
    frame_errno err = frame__integer(v, &negative, &n);
    if (err) return err;
    if (negative && n) return FRAME_E_RANGE;
    *out = n;
    return FRAME_OK;
}

FRAME_API frame_errno frame_value_bool(const frame_value *v, int *out) {
    if (!v || !v->json || v->type != FRAME_TYPE_BOOL || !v->len) return FRAME_E_TYPE;
    *out = v->json[0] == 't';
    return FRAME_OK;
}

FRAME_API int frame_value_is_null(const frame_value *v) {
    return v && v->json && v->type == FRAME_TYPE_NULL;
}

FRAME_API frame_errno frame_value_string(const frame_value *v, char *buf, size_t cap, size_t *len) {
    const frame__u8 *p, *end;
    frame__sink sink;
    frame_errno err;
    if (!v || !v->json || v->type != FRAME_TYPE_STRING || !v->len || v->json[0] != '"')
        return FRAME_E_TYPE;
    p = (const frame__u8 *)v->json;
    end = p + v->len;
    /* First the length, so a short buffer is left untouched. */
    memset(&sink, 0, sizeof sink);
    err = frame__scan_string(&p, end, &sink);
    if (err) return err;
    if (len) *len = sink.len;
    if (!buf || cap < sink.len + 1) return FRAME_E_BUFFER_TOO_SMALL;
    p = (const frame__u8 *)v->json;
    memset(&sink, 0, sizeof sink);
    sink.buf = (frame__u8 *)buf;
    sink.cap = cap;
    frame__scan_string(&p, end, &sink);
    buf[sink.len] = '\0';
    return FRAME_OK;
}

FRAME_API int frame_value_string_equals(const frame_value *v, const char *s, size_t len) {
    if (!v || !v->json || v->type != FRAME_TYPE_STRING || (!s && len)) return 0;
    return frame__string_equals_bytes((const frame__u8 *)v->json,
                                      (const frame__u8 *)v->json + v->len, (const frame__u8 *)s,
                                      len);
}

FRAME_API frame_errno frame_header_find(const frame_header *h, const char *name, frame_value *out) {
    if (!h) return FRAME_E_ARGUMENT;
    return frame_value_find(&h->root, name, out);
}

FRAME_API frame_errno frame_header_get_int64(const frame_header *h, const char *name, int64_t *out) {
    frame_value v;
    frame_errno err = frame_header_find(h, name, &v);
    return err ? err : frame_value_int64(&v, out);
}

FRAME_API frame_errno frame_header_get_uint64(const frame_header *h, const char *name,
                                              uint64_t *out) {
    frame_value v;
    frame_errno err = frame_header_find(h, name, &v);
    return err ? err : frame_value_uint64(&v, out);
}

FRAME_API frame_errno frame_header_get_bool(const frame_header *h, const char *name, int *out) {
    frame_value v;
    frame_errno err = frame_header_find(h, name, &v);
    return err ? err : frame_value_bool(&v, out);
}

FRAME_API frame_errno frame_header_get_string(const frame_header *h, const char *name, char *buf,
                                              size_t cap, size_t *len) {
    frame_value v;
    frame_errno err = frame_header_find(h, name, &v);
    return err ? err : frame_value_string(&v, buf, cap, len);
}
