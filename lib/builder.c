/*
 * The header builder: prefix + canonical header (SPEC.md "Canonical
 * encoding") in a caller buffer. One byte is always kept free for the closing
 * brace, so frame_builder_finish() cannot run out of room.
 */
#include "internal.h"

/* Records a sticky error. */
static frame_errno frame__builder_fail(frame_builder *b, frame_errno err) {
    b->_errno = (unsigned char)err;
    return err;
}

/* Room left for member text (the closing brace excluded). */
static size_t frame__room(const frame_builder *b) { return b->_cap - 1 - b->_len; }

/* Appends n bytes; in a dry run only counts them. */
static frame_errno frame__put(frame_builder *b, const void *s, size_t n) {
    if (b->_dry) {
        b->_len += n;
        return FRAME_OK;
    }
    if (n > frame__room(b)) return FRAME_E_BUFFER_TOO_SMALL;
    memcpy(b->_buf + b->_len, s, n);
    b->_len += n;
    return FRAME_OK;
}

/* Appends one decoded string byte, escaped canonically (SPEC.md "Canonical
 * encoding"): only '"', '\\' and controls are escaped. */
static frame_errno frame__put_escaped(frame_builder *b, frame__u8 c) {
    static const char controls[] = "\b\f\n\r\t", letters[] = "bfnrt", hex[] = "0123456789abcdef";
    char e[6];
    size_t k = 0, i;
    if (c >= 0x20) {
        if (c == '"' || c == '\\') e[k++] = '\\';
        e[k++] = (char)c;
        return frame__put(b, e, k);
    }
    e[k++] = '\\';
    for (i = 0; i < 5; i++)
        if (c == (frame__u8)controls[i]) e[k++] = letters[i];
    if (k == 1) {
        e[k++] = 'u';
        e[k++] = '0';
        e[k++] = '0';
        e[k++] = hex[c >> 4];
        e[k++] = hex[c & 15];
    }
    return frame__put(b, e, k);
}

/* Appends `len` bytes of UTF-8 as a canonical JSON string. */
static frame_errno frame__put_string(frame_builder *b, const frame__u8 *s, size_t len) {
    const frame__u8 *p = s, *end = s + len;
    frame_errno err = frame__put(b, "\"", 1);
    while (!err && p < end) {
        const frame__u8 *run = frame__plain_end(p, end);
        if (run > p) {
            err = frame__put(b, p, (size_t)(run - p));
            p = run;
        } else if (*p >= 0x80) {
            size_t n = frame__utf8_len(p, end);
            if (!n) return FRAME_E_BAD_UTF8;
            err = frame__put(b, p, n);
            p += n;
        } else {
            err = frame__put_escaped(b, *p++);
        }
    }
    return err ? err : frame__put(b, "\"", 1);
}

/* Appends validated JSON text canonically: white space dropped, strings
 * decoded and escaped again, everything else (numbers too) as written. */
static frame_errno frame__put_canonical(frame_builder *b, const frame__u8 *p, const frame__u8 *end) {
    frame_errno err = FRAME_OK;
    while (!err && p < end) {
        const frame__u8 *q = p;
        if (*p == '"') {
            frame__siter it;
            int c;
            frame__siter_init(&it, p, end);
            err = frame__put(b, "\"", 1);
            while (!err && (c = frame__siter_next(&it)) >= 0) err = frame__put_escaped(b, (frame__u8)c);
            if (!err) err = frame__put(b, "\"", 1);
            p = it.p + 1;
            continue;
        }
        while (q < end && *q != '"' && !FRAME__IS_WS(*q)) q++;
        err = frame__put(b, p, (size_t)(q - p));
        for (p = q; p < end && FRAME__IS_WS(*p); p++) {}
    }
    return err;
}

static frame_errno frame__put_uint(frame_builder *b, uint64_t v) {
    char digits[20];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return frame__put(b, digits + i, sizeof digits - i);
}

/* Header length so far, counting the closing brace still to come. */
static uint64_t frame__header_len(const frame_builder *b) {
    return (uint64_t)(b->_len + 1 - frame__width(b->_cfg));
}

FRAME_API frame_errno frame_builder_init(frame_builder *b, const frame_config *cfg, void *buf,
                                         size_t cap, uint64_t body_size) {
    frame_errno err;
    unsigned w;
    if (!b) return FRAME_E_ARGUMENT;
    memset(b, 0, sizeof *b);
    b->_buf = (unsigned char *)buf;
    b->_cfg = cfg;
    b->_body_size = body_size;
    err = frame_config_check(cfg);
    if (err) return frame__builder_fail(b, err);
    if (!buf) return frame__builder_fail(b, FRAME_E_ARGUMENT);
    if (body_size > frame__max_body(cfg)) return frame__builder_fail(b, FRAME_E_BODY_TOO_LARGE);
    w = frame__width(cfg);
    b->_cap = cap;
    b->_len = w; /* the prefix is filled in by finish */
    if (cfg && cfg->raw) return cap < w ? frame__builder_fail(b, FRAME_E_BUFFER_TOO_SMALL) : FRAME_OK;
    if (cap < (size_t)w + 1) return frame__builder_fail(b, FRAME_E_BUFFER_TOO_SMALL);
    if (frame__put(b, "{\"", 2) || frame__put(b, frame__size_name(cfg), strlen(frame__size_name(cfg))) ||
        frame__put(b, "\":", 2) || frame__put_uint(b, body_size))
        return frame__builder_fail(b, FRAME_E_BUFFER_TOO_SMALL);
    if (frame__header_len(b) > frame__max_header(cfg))
        return frame__builder_fail(b, FRAME_E_HEADER_TOO_LARGE);
    b->_members = 1;
    return FRAME_OK;
}

/* A member's value as the add functions hand it to frame__add(). */
enum { FRAME__STRING, FRAME__NUMBER, FRAME__LITERAL, FRAME__RAW };
typedef struct frame__value_in {
    int kind;
    const frame__u8 *s; /* string bytes, literal or raw JSON text */
    size_t len;
    uint64_t magnitude; /* numbers */
    int negative;
} frame__value_in;

/* Checks that a member named `name` may be added next. */
static frame_errno frame__check_member(frame_builder *b, const char *name) {
    frame_value obj;
    frame_member m;
    size_t cursor = 0, len;
    if (b->_errno) return (frame_errno)b->_errno;
    if (!name || b->_finished || (b->_cfg && b->_cfg->raw)) return frame__builder_fail(b, FRAME_E_ARGUMENT);
    len = strlen(name);
    if (strcmp(name, frame__size_name(b->_cfg)) == 0) return frame__builder_fail(b, FRAME_E_RESERVED_NAME);
    if (b->_members + 1 > FRAME_MAX_MEMBERS) return frame__builder_fail(b, FRAME_E_TOO_MANY_MEMBERS);
    if (!b->_nested && (!len || !strchr(":,}]", name[0])) &&
        frame__plain_end((const frame__u8 *)name, (const frame__u8 *)name + len) ==
            (const frame__u8 *)name + len) {
        /* In canonical text every '"' inside a string is escaped. So, without
         * nested objects, `,"name":` can start inside an earlier string only
         * where that string's closing quote is followed by the name's first
         * byte: ':' after a name, ',' or ']' after a value. For other names
         * it stands only where the member does. */
        const frame__u8 *p = b->_buf + frame__width(b->_cfg), *end = b->_buf + b->_len;
        while ((p = (const frame__u8 *)memchr(p, ',', (size_t)(end - p))) != NULL) {
            if ((size_t)(end - p) >= len + 4 && p[1] == '"' && memcmp(p + 2, name, len) == 0 &&
                p[2 + len] == '"' && p[3 + len] == ':')
                return frame__builder_fail(b, FRAME_E_DUPLICATE_NAME);
            p++;
        }
        return FRAME_OK;
    }
    /* The object so far (not yet closed) holds the names to compare with. */
    obj.json = (const char *)b->_buf + frame__width(b->_cfg);
    obj.len = b->_len - frame__width(b->_cfg);
    obj.type = FRAME_TYPE_OBJECT;
    while (frame_value_next(&obj, &cursor, &m))
        if (frame_value_string_equals(&m.name, name, len)) return frame__builder_fail(b, FRAME_E_DUPLICATE_NAME);
    return FRAME_OK;
}

/* Writes `,"name":value`. */
static frame_errno frame__put_member(frame_builder *b, const char *name, const frame__value_in *v) {
    frame_errno err = frame__put(b, ",", 1);
    if (!err) err = frame__put_string(b, (const frame__u8 *)name, strlen(name));
    if (!err) err = frame__put(b, ":", 1);
    if (err) return err;
    switch (v->kind) {
    case FRAME__STRING: return frame__put_string(b, v->s, v->len);
    case FRAME__NUMBER:
        err = v->negative ? frame__put(b, "-", 1) : FRAME_OK;
        return err ? err : frame__put_uint(b, v->magnitude);
    case FRAME__RAW: return frame__put_canonical(b, v->s, v->s + v->len);
    default: return frame__put(b, v->s, v->len);
    }
}

/* The most bytes `,"name":value` can take: escaping makes a byte 6 at worst,
 * and the canonical copy of raw JSON is never longer than the raw text.
 * Saturates instead of wrapping (a 32-bit size_t and a huge string). */
static size_t frame__times6_plus(size_t n, size_t plus) {
    size_t max = (size_t)-1;
    return n > (max - plus) / 6 ? max : 6 * n + plus;
}

static size_t frame__member_bound(const char *name, const frame__value_in *v) {
    size_t value = v->kind == FRAME__STRING ? frame__times6_plus(v->len, 2)
                   : v->kind == FRAME__NUMBER ? 21
                                              : v->len;
    return frame__times6_plus(strlen(name), 4 + (value < (size_t)-1 - 4 ? value : (size_t)-1 - 4));
}

/* Adds a checked member that brings `members` members into the header. When
 * it might not fit, a dry run measures it first, so one that does not fit
 * leaves no byte behind. */
static frame_errno frame__add(frame_builder *b, const char *name, const frame__value_in *v,
                              unsigned members) {
    size_t mark = b->_len, need = frame__member_bound(name, v);
    frame_errno err = FRAME_OK;
    if (need > frame__room(b) || frame__header_len(b) + need > frame__max_header(b->_cfg)) {
        b->_dry = 1;
        err = frame__put_member(b, name, v);
        b->_dry = 0;
        need = b->_len - mark;
        b->_len = mark;
        /* Over the limit is the answer whatever the buffer, so it is checked first. */
        if (!err && frame__header_len(b) + need > frame__max_header(b->_cfg)) err = FRAME_E_HEADER_TOO_LARGE;
        if (!err && need > frame__room(b)) err = FRAME_E_BUFFER_TOO_SMALL;
    }
    if (!err) err = frame__put_member(b, name, v); /* can only fail on bad UTF-8 now */
    if (err) {
        b->_len = mark;
        return frame__builder_fail(b, err);
    }
    b->_members += members;
    return FRAME_OK;
}

static frame_errno frame__add_simple(frame_builder *b, const char *name, const frame__value_in *v) {
    frame_errno err;
    if (!b) return FRAME_E_ARGUMENT;
    err = frame__check_member(b, name);
    return err ? err : frame__add(b, name, v, 1);
}

FRAME_API frame_errno frame_builder_add_stringn(frame_builder *b, const char *name, const char *value,
                                                size_t len) {
    frame__value_in v = {FRAME__STRING, NULL, 0, 0, 0};
    if (b && !value && len) return frame__builder_fail(b, FRAME_E_ARGUMENT);
    v.s = (const frame__u8 *)(value ? value : "");
    v.len = len;
    return frame__add_simple(b, name, &v);
}

FRAME_API frame_errno frame_builder_add_string(frame_builder *b, const char *name, const char *value) {
    if (!value) return b ? frame__builder_fail(b, FRAME_E_ARGUMENT) : FRAME_E_ARGUMENT;
    return frame_builder_add_stringn(b, name, value, strlen(value));
}

FRAME_API frame_errno frame_builder_add_uint64(frame_builder *b, const char *name, uint64_t value) {
    frame__value_in v = {FRAME__NUMBER, NULL, 0, 0, 0};
    v.magnitude = value;
    return frame__add_simple(b, name, &v);
}

FRAME_API frame_errno frame_builder_add_int64(frame_builder *b, const char *name, int64_t value) {
    frame__value_in v = {FRAME__NUMBER, NULL, 0, 0, 0};
    /* The magnitude of INT64_MIN does not fit in int64_t, so negate unsigned. */
    v.magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    v.negative = value < 0;
    return frame__add_simple(b, name, &v);
}

static frame_errno frame__add_literal(frame_builder *b, const char *name, const char *lit) {
    frame__value_in v = {FRAME__LITERAL, NULL, 0, 0, 0};
    v.s = (const frame__u8 *)lit;
    v.len = strlen(lit);
    return frame__add_simple(b, name, &v);
}

FRAME_API frame_errno frame_builder_add_bool(frame_builder *b, const char *name, int value) {
    return frame__add_literal(b, name, value ? "true" : "false");
}

FRAME_API frame_errno frame_builder_add_null(frame_builder *b, const char *name) {
    return frame__add_literal(b, name, "null");
}

FRAME_API frame_errno frame_builder_add_raw(frame_builder *b, const char *name, const char *json,
                                            size_t len) {
    frame__value_in v = {FRAME__RAW, NULL, 0, 0, 0};
    frame__json_job job;
    frame_errno err;
    if (!b) return FRAME_E_ARGUMENT;
    if (!json) return frame__builder_fail(b, FRAME_E_ARGUMENT);
    err = frame__check_member(b, name);
    if (err) return err;
    memset(&job, 0, sizeof job);
    job.start = (const frame__u8 *)json;
    job.end = job.start + len;
    job.depth = 1; /* inside the header object */
    job.members = b->_members + 1;
    job.cfg = b->_cfg;
    err = frame__json_validate(&job);
    if (err) return frame__builder_fail(b, err);
    v.s = job.start;
    v.len = len;
    err = frame__add(b, name, &v, job.members - b->_members);
    /* Objects inside the value bring names the quick duplicate search would
     * mistake for members. */
    if (!err && memchr(json, '{', len)) b->_nested = 1;
    return err;
}

FRAME_API frame_errno frame_builder_finish(frame_builder *b, const void **out, size_t *len) {
    if (!b) return FRAME_E_ARGUMENT;
    if (b->_errno) return (frame_errno)b->_errno;
    if (!b->_finished) {
        int raw = b->_cfg && b->_cfg->raw;
        if (!raw) b->_buf[b->_len++] = '}';
        frame__put_prefix(b->_buf, b->_cfg, raw ? b->_body_size : frame__header_len(b) - 1);
        b->_finished = 1;
    }
    if (out) *out = b->_buf;
    if (len) *len = b->_len;
    return FRAME_OK;
}
