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

static frame_errno frame__put(frame_builder *b, const void *s, size_t n) {
    if (n > frame__room(b)) return FRAME_E_BUFFER_TOO_SMALL;
    memcpy(b->_buf + b->_len, s, n);
    b->_len += n;
    return FRAME_OK;
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
    if (cap < (size_t)w + 1) return frame__builder_fail(b, FRAME_E_BUFFER_TOO_SMALL);
    b->_cap = cap;
    b->_len = w; /* the prefix is filled in by finish */
    if (cfg && cfg->raw) return FRAME_OK;
    if (frame__put(b, "{\"", 2) || frame__put(b, frame__size_name(cfg), strlen(frame__size_name(cfg))) ||
        frame__put(b, "\":", 2) || frame__put_uint(b, body_size))
        return frame__builder_fail(b, FRAME_E_BUFFER_TOO_SMALL);
    if (frame__header_len(b) > frame__max_header(cfg))
        return frame__builder_fail(b, FRAME_E_HEADER_TOO_LARGE);
    b->_members = 1;
    return FRAME_OK;
}

/* Writes `,"name":` after checking the name; *mark is where the member starts. */
static frame_errno frame__begin_member(frame_builder *b, const char *name, size_t *mark) {
    frame_value obj;
    frame_member m;
    size_t cursor = 0, len, pos;
    frame_errno err;
    if (b->_errno) return (frame_errno)b->_errno;
    if (!name || b->_finished || (b->_cfg && b->_cfg->raw)) return frame__builder_fail(b, FRAME_E_ARGUMENT);
    len = strlen(name);
    if (strcmp(name, frame__size_name(b->_cfg)) == 0) return frame__builder_fail(b, FRAME_E_RESERVED_NAME);
    if (b->_members + 1 > FRAME_MAX_MEMBERS)
        return frame__builder_fail(b, FRAME_E_TOO_MANY_MEMBERS);
    /* The object so far (not yet closed) holds the names to compare with. */
    obj.json = (const char *)b->_buf + frame__width(b->_cfg);
    obj.len = b->_len - frame__width(b->_cfg);
    obj.type = FRAME_TYPE_OBJECT;
    while (frame_value_next(&obj, &cursor, &m))
        if (frame_value_string_equals(&m.name, name, len))
            return frame__builder_fail(b, FRAME_E_DUPLICATE_NAME);
    *mark = b->_len;
    err = frame__put(b, ",", 1);
    pos = b->_len;
    if (!err) err = frame__put_string(b->_buf, b->_cap - 1, &pos, (const frame__u8 *)name, len);
    if (!err) {
        b->_len = pos;
        err = frame__put(b, ":", 1);
    }
    if (err) {
        b->_len = *mark;
        return frame__builder_fail(b, err);
    }
    return FRAME_OK;
}

/* Completes a member, or takes all of it back on error. */
static frame_errno frame__end_member(frame_builder *b, size_t mark, frame_errno err) {
    if (!err && frame__header_len(b) > frame__max_header(b->_cfg)) err = FRAME_E_HEADER_TOO_LARGE;
    if (err) {
        b->_len = mark;
        return frame__builder_fail(b, err);
    }
    b->_members++;
    return FRAME_OK;
}

FRAME_API frame_errno frame_builder_add_stringn(frame_builder *b, const char *name, const char *value,
                                                size_t len) {
    size_t mark, pos;
    frame_errno err;
    if (!b) return FRAME_E_ARGUMENT;
    if (!value && len) return frame__builder_fail(b, FRAME_E_ARGUMENT);
    err = frame__begin_member(b, name, &mark);
    if (err) return err;
    pos = b->_len;
    err = frame__put_string(b->_buf, b->_cap - 1, &pos, (const frame__u8 *)(value ? value : ""), len);
    if (!err) b->_len = pos;
    return frame__end_member(b, mark, err);
}

FRAME_API frame_errno frame_builder_add_string(frame_builder *b, const char *name, const char *value) {
    if (!value) return b ? frame__builder_fail(b, FRAME_E_ARGUMENT) : FRAME_E_ARGUMENT;
    return frame_builder_add_stringn(b, name, value, strlen(value));
}

FRAME_API frame_errno frame_builder_add_uint64(frame_builder *b, const char *name, uint64_t value) {
    size_t mark;
    frame_errno err;
    if (!b) return FRAME_E_ARGUMENT;
    err = frame__begin_member(b, name, &mark);
    return err ? err : frame__end_member(b, mark, frame__put_uint(b, value));
}

FRAME_API frame_errno frame_builder_add_int64(frame_builder *b, const char *name, int64_t value) {
    size_t mark;
    frame_errno err;
    /* The magnitude of INT64_MIN does not fit in int64_t, so negate unsigned. */
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    if (!b) return FRAME_E_ARGUMENT;
    err = frame__begin_member(b, name, &mark);
    if (err) return err;
    if (value < 0) err = frame__put(b, "-", 1);
    if (!err) err = frame__put_uint(b, magnitude);
    return frame__end_member(b, mark, err);
}

static frame_errno frame__add_literal(frame_builder *b, const char *name, const char *lit) {
    size_t mark;
    frame_errno err;
    if (!b) return FRAME_E_ARGUMENT;
    err = frame__begin_member(b, name, &mark);
    return err ? err : frame__end_member(b, mark, frame__put(b, lit, strlen(lit)));
}

FRAME_API frame_errno frame_builder_add_bool(frame_builder *b, const char *name, int value) {
    return frame__add_literal(b, name, value ? "true" : "false");
}

FRAME_API frame_errno frame_builder_add_null(frame_builder *b, const char *name) {
    return frame__add_literal(b, name, "null");
}

FRAME_API frame_errno frame_builder_add_raw(frame_builder *b, const char *name, const char *json,
                                            size_t len) {
    frame__json_job job;
    size_t mark;
    frame_errno err;
    if (!b) return FRAME_E_ARGUMENT;
    if (!json) return frame__builder_fail(b, FRAME_E_ARGUMENT);
    err = frame__begin_member(b, name, &mark);
    if (err) return err;
    memset(&job, 0, sizeof job);
    job.start = (const frame__u8 *)json;
    job.end = job.start + len;
    job.depth = 1; /* inside the header object */
    job.members = b->_members + 1;
    job.cfg = b->_cfg;
    job.out = b->_buf + b->_len;
    job.out_cap = frame__room(b);
    err = frame__json_validate(&job);
    if (!err && job.out_len > job.out_cap) err = FRAME_E_BUFFER_TOO_SMALL;
    if (!err) {
        b->_len += job.out_len;
        b->_members = job.members - 1; /* frame__end_member counts this member */
    }
    return frame__end_member(b, mark, err);
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
