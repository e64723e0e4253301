/*
 * The header builder: prefix + canonical header (SPEC.md "Canonical
 * encoding") in a caller buffer. One byte is always kept free for the closing
 * brace, so frame_builder_finish() cannot run out of room.
 *
 * What only buys speed - a name table, a lean path for the common members,
 * strings a word at a time, numbers two digits a step - is in
 * lib/builder_fast.h; lib/builder_small.h is the size builds' side of the
 * same small interface (described in builder_fast.h), and this file
 * includes one of them, in one place.
 */
/* Included here, outside the #if below, by every build: the single header
 * inlines a private header where it is first included, and builder.c comes
 * first. */
#include "utf8_seq.h"
#include "words.h"

/* How frame__add() writes a member. FRAME__SIZE is the size member, written
 * by init without the checks. FRAME__INT64, the only kind frame__add_number()
 * takes with bit 2, is text to frame__add() once it has been read as signed.
 * From FRAME__RAW on, the value is JSON text copied canonically: raw JSON is
 * validated first, and from FRAME__COPY on it is a view of a validated
 * header, not validated again; FRAME__MEMBER's name is a view too (a JSON
 * string), and FRAME__FRESH is a member of a validated object copied into a
 * builder that held only the size member: its name cannot collide, so it is
 * compared with the size member's only (speed builds: frame__copy_kind). */
enum { FRAME__TEXT, FRAME__SIZE, FRAME__STRING, FRAME__INT64 = 4, FRAME__RAW,
       FRAME__COPY, FRAME__MEMBER, FRAME__FRESH };

/* Records a sticky error. */
static frame_errno frame__builder_fail(frame_builder *b, frame_errno err) {
    b->_errno = (unsigned char)err;
    return err;
}

/* Header bytes so far (the closing brace not counted). */
static size_t frame__header_len(const frame_builder *b) { return b->_len - frame__width(b->_cfg); }

/* Appends n bytes. A dry run only counts them, saturating: a huge string,
 * escaped at 6 bytes a byte, must not wrap a 32-bit count. */
static FRAME__INLINE void frame__put(frame_builder *b, const void *s, size_t n) {
    size_t end = b->_len + n;
    if (!b->_dry) memcpy(b->_buf + b->_len, s, n);
    else if (end < n) end = (size_t)-1;
    b->_len = end;
}

/* Appends one byte, escaped as string content is (SPEC.md "Canonical
 * encoding"): only '"', '\\' and controls are; the others (',', ':', '}',
 * UTF-8 bytes) go as they are. A byte plus FRAME__UNESCAPED goes as it is
 * too: a string's own quotes, in fewer bytes of code than frame__put's
 * call with a pointer. */
#define FRAME__UNESCAPED 0x100u
static FRAME__INLINE void frame__put_char(frame_builder *b, unsigned c) {
    /* 7 bytes, their letters, the hex digits */
    static const char esc[] = "\"\\\b\f\n\r\t\"\\bfnrt0123456789abcdef";
    char e[6];
    size_t n = 1;
    e[0] = (char)c;
    if (c < 0x20 || c == '"' || c == '\\') {
        const char *k = (const char *)memchr(esc, (int)c, 7);
        e[0] = '\\';
        e[1] = 'u';
        e[2] = e[3] = '0';
        e[4] = (char)('0' + (c >> 4));
        e[5] = esc[14 + (c & 15)];
        n = 6;
        if (k) {
            e[1] = k[7];
            n = 2;
        }
    }
    frame__put(b, e, n);
}

/* The one way members are added but for the lean path of speed builds,
 * which hands it all it does not do itself (below). */
static frame_errno frame__add(frame_builder *b, const char *name, size_t n, int kind, const void *value,
                              size_t len);

#if FRAME__SMALL
#include "builder_small.h"
#else
#include "builder_fast.h"
#endif

/* Appends validated JSON text canonically: white space dropped, strings
 * decoded and escaped again, everything else (numbers too) as written.
 * Returns the number of members in it (colons outside strings). */
static unsigned frame__put_canonical(frame_builder *b, const frame__u8 *p, const frame__u8 *end) {
    unsigned members = 0;
    while (p < end) {
        const frame__u8 *q = p++;
        if (*q == '"') {
            frame__siter it;
            int c;
            frame__siter_init(&it, q, end);
            frame__put(b, q, 1);
            while ((c = frame__siter_next(&it)) >= 0) frame__put_char(b, (unsigned)c);
            /* The closing quote goes below, as any other byte. */
            q = it.p;
            p = q + 1;
        }
        /* Outside strings, only white space is at or below ' '. */
        if (*q > ' ') frame__put(b, q, 1);
        members += *q == ':';
    }
    return members;
}

/* How frame__put_text() writes its bytes, and what it returns for bad UTF-8
 * (more than any count of members). */
enum { FRAME__AS_JSON, FRAME__AS_STRING, FRAME__AS_IS, FRAME__BAD = 0x10000 };

/* Appends the byte sep (',' or ':'), then the n bytes at p: as they are, as a canonical string, or as
 * validated JSON text in canonical form. Returns FRAME__BAD if they are
 * not UTF-8, else the number of members in JSON text (0 for the others). */
static unsigned frame__put_text(frame_builder *b, unsigned sep, const frame__u8 *p, size_t n, int how) {
    frame__put_char(b, sep);
    if (how == FRAME__AS_STRING) return frame__put_string(b, p, n) ? FRAME__BAD : 0;
    if (how == FRAME__AS_IS && frame__put_as_is(b, p, n)) return 0;
    return frame__put_canonical(b, p, p + n);
}

/* Checks that a member named by the n bytes at `name` may be added next;
 * for kind FRAME__MEMBER and FRAME__FRESH, `name` is a JSON string. Returns
 * the error for the caller to record (an earlier one is the builder's). */
static frame_errno frame__check_member(frame_builder *b, const char *name, size_t n, int kind,
                                       uint32_t *hash) {
    const frame__u8 *u = (const frame__u8 *)name;
    size_t cursor = 0;
    frame_value obj;
    frame_member m;
    frame_errno err = FRAME_OK;
    int json = kind >= FRAME__MEMBER, first = 1, quick;
    if (b->_errno) return (frame_errno)b->_errno;
    /* _members is 0 in the raw profile, which has none. */
    if (!name || b->_finished || !b->_members) return frame__builder_fail(b, FRAME_E_ARGUMENT);
    quick = frame__check_quick(b, name, n, kind, json, hash);
    if (quick >= 0) return (frame_errno)quick;
    /* The object so far (not yet closed) holds the names to compare with;
     * the first is the size member's: the reserved name, which is that
     * whatever the count. A duplicate is that only within the count. A
     * fresh name is compared with the size member's only. */
    obj.len = frame__header_len(b);
    obj.json = (const char *)b->_buf + b->_len - obj.len;
    obj.type = FRAME_TYPE_OBJECT;
    while (frame_value_next(&obj, &cursor, &m)) {
        const frame__u8 *a = (const frame__u8 *)m.name.json;
        int same;
        if (json) same = frame__string_equals_string(a, a + m.name.len, u, u + n);
        else same = frame__string_equals_bytes(a, a + m.name.len, u, n);
        if (same) {
            err = first ? FRAME_E_RESERVED_NAME : FRAME_E_DUPLICATE_NAME;
            break;
        }
        if (kind == FRAME__FRESH) cursor = obj.len; /* no more names */
        first = 0;
    }
    if (err != FRAME_E_RESERVED_NAME && b->_members >= FRAME_MAX_MEMBERS) err = FRAME_E_TOO_MANY_MEMBERS;
    return err ? frame__builder_fail(b, err) : FRAME_OK;
}

/* Adds `,"name":value`, `kind` telling how value and len are read. The
 * member goes in whole or leaves no byte behind: one that might not fit is
 * measured by a dry run first, which also tells HEADER_TOO_LARGE from
 * BUFFER_TOO_SMALL. */
static frame_errno frame__add(frame_builder *b, const char *name, size_t n, int kind,
                              const void *value, size_t len) {
    const frame__u8 *s = (const frame__u8 *)value;
    size_t mark;
    unsigned members = 0, before = 0;
    uint32_t hash = 0;
    frame_errno err;
    /* (size_t)-1: NUL-terminated (a NULL name fails the check below before
     * n is read). */
    if (n == (size_t)-1 && name) n = strlen(name);
    if (kind != FRAME__SIZE) {
        if (!b) return FRAME_E_ARGUMENT;
        err = frame__check_member(b, name, n, kind, &hash); /* first: an earlier error is sticky */
        if (err) return err;
        before = b->_members;
        /* The count may run ahead of a member that then fails: the error is
         * sticky, so nothing reads the count again. */
        b->_members++;
        if (!s) {
            /* NULL with no bytes is the empty string, read from any pointer
             * but NULL; NULL JSON text is refused. */
            if (len || kind >= FRAME__RAW) return frame__builder_fail(b, FRAME_E_ARGUMENT);
            s = (const frame__u8 *)name;
        }
        if (kind == FRAME__RAW) {
            /* The members it holds are counted as it is copied, below. */
            /* Any one value, inside the header object. */
            /* Zeroed first (header 0; size and err_pos are answers, set
             * for cppcheck's sake): a call, less code than each field. */
            frame__json_job job;
            memset(&job, 0, sizeof job);
            job.start = s;
            job.end = s + len;
            job.depth = 1;
            job.members = b->_members;
            job.cfg = b->_cfg;
            err = frame__json_validate(&job);
            if (err) return frame__builder_fail(b, err);
        }
        frame__note_nested(b, kind, s, len);
    }
    mark = b->_len;
    b->_dry = (unsigned char)frame__dry_needed(b, mark, n, len);
    for (;;) {
        /* Bad UTF-8 in the name or the value: the member is written (or
         * measured) whole all the same, then taken back. A name has no
         * members. */
        members = frame__put_text(b, ',', (const frame__u8 *)name, n,
                                  kind >= FRAME__MEMBER ? FRAME__AS_JSON : FRAME__AS_STRING);
        /* Literals and numbers are canonical as they are. */
        members += frame__put_text(b, ':', s, len,
                                   kind == FRAME__STRING ? FRAME__AS_STRING
                                   : kind < FRAME__RAW   ? FRAME__AS_LITERAL
                                                         : FRAME__AS_JSON);
        /* A copied value's members count as the validator counts them. */
        err = members >= FRAME__BAD ? FRAME_E_BAD_UTF8
              : b->_members + members > FRAME_MAX_MEMBERS ? FRAME_E_TOO_MANY_MEMBERS : FRAME_OK;
        if (err || !b->_dry) break;
        /* Over max_header is the answer whatever the buffer, so it comes first. */
        if (frame__header_len(b) >= (size_t)frame__limit(b->_cfg, 0)) err = FRAME_E_HEADER_TOO_LARGE;
        else if (b->_len >= b->_cap) err = FRAME_E_BUFFER_TOO_SMALL;
        if (err) break;
        b->_dry = 0;
        b->_len = mark;
    }
    if (!err) {
        b->_members += members;
        if (before) frame__set_note(b, before, mark, hash);
        return FRAME_OK;
    }
    b->_dry = 0;
    b->_len = mark;
    return frame__builder_fail(b, err);
}

/* Adds a member whose value is v in decimal (an int64_t for FRAME__INT64). */
static FRAME__INLINE frame_errno frame__add_number(frame_builder *b, const char *name, uint64_t v, int kind) {
    /* The magnitude of INT64_MIN does not fit in int64_t, so negate unsigned. */
    unsigned negative = (unsigned)(v >> 63) & (unsigned)kind >> 2;
    char t[21], *d;
    if (negative) v = 0 - v;
    d = frame__format(t + sizeof t, v);
    if (negative) *--d = '-';
    return frame__add_named(b, name, kind, d, (size_t)(t + sizeof t - d));
}

FRAME_API frame_errno frame_builder_init(frame_builder *b, const frame_config *cfg, void *buf,
                                         size_t cap, uint64_t body_size) {
    const frame_config *given = cfg;
    frame_errno err;
    unsigned w;
    if (!b) return FRAME_E_ARGUMENT;
    /* Every field is set here, with no memset: its call would keep the
     * arguments alive across it, which costs more code than these. */
    b->_members = 0;
    b->_errno = b->_finished = b->_dry = b->_nested = 0;
    b->_buf = (unsigned char *)buf;
    b->_cfg = cfg = frame__config(cfg);
    b->_body_size = body_size;
    b->_cap = cap;
    b->_len = w = frame__width(cfg); /* the prefix is filled in by finish */
    err = frame__config_check_quick(given, cfg);
    if (!err && !buf) err = FRAME_E_ARGUMENT;
    if (!err && body_size > frame__max_body_quick(cfg)) err = FRAME_E_BODY_TOO_LARGE;
    if (!err && cap < w) err = FRAME_E_BUFFER_TOO_SMALL;
    if (err) return frame__builder_fail(b, err);
    if (cfg->raw || frame__start_quick(b, body_size)) return FRAME_OK;
    /* {"size":N is written as the member ,"size":N with its comma replaced. */
    err = frame__add_number(b, frame__size_name(cfg), body_size, FRAME__SIZE);
    if (err) return err;
    b->_buf[w] = '{';
    b->_members = 1;
    frame__set_clear(b);
    return FRAME_OK;
}

FRAME_API frame_errno frame_builder_add_stringn(frame_builder *b, const char *name, const char *value,
                                                size_t len) {
    return frame__add_named(b, name, FRAME__STRING, value, len);
}

FRAME_API frame_errno frame_builder_add_string(frame_builder *b, const char *name, const char *value) {
    /* NULL with a length is an argument error there. */
    return frame_builder_add_stringn(b, name, value, value ? strlen(value) : 1);
}

FRAME_API frame_errno frame_builder_add_uint64(frame_builder *b, const char *name, uint64_t value) {
    return frame__add_number(b, name, value, FRAME__TEXT);
}

FRAME_API frame_errno frame_builder_add_int64(frame_builder *b, const char *name, int64_t value) {
    return frame__add_number(b, name, (uint64_t)value, FRAME__INT64);
}

/* Adds the literal true (0), null (1) or false (2). */
FRAME__SIZE_NOINLINE static frame_errno frame__add_literal(frame_builder *b, const char *name, unsigned which) {
    /* 4 bytes ahead of the first: 8 bytes end where each literal does (as
     * frame__add_named may read them). */
    static const char literals[] = "\0\0\0\0true\0null\0false";
    return frame__add_named(b, name, FRAME__TEXT, literals + 4 + 5 * which, 4 + (which >> 1));
}

FRAME_API frame_errno frame_builder_add_bool(frame_builder *b, const char *name, int value) {
    return frame__add_literal(b, name, value ? 0 : 2);
}

FRAME_API frame_errno frame_builder_add_null(frame_builder *b, const char *name) {
    return frame__add_literal(b, name, 1);
}

FRAME_API frame_errno frame_builder_add_raw(frame_builder *b, const char *name, const char *json,
                                            size_t len) {
    return frame__add(b, name, (size_t)-1, FRAME__RAW, json, len);
}

FRAME_API frame_errno frame_builder_add_rawn(frame_builder *b, const char *name, size_t name_len,
                                             const char *json, size_t len) {
    return frame__add(b, name, name_len, FRAME__RAW, json, len);
}

FRAME_API frame_errno frame_builder_add_value(frame_builder *b, const char *name, size_t name_len,
                                              const frame_value *v) {
    /* A NULL view is a NULL value: an argument error in frame__add. */
    return frame__add(b, name, name_len, FRAME__COPY, v ? v->json : NULL, v ? v->len : 0);
}

FRAME_API frame_errno frame_builder_add_members(frame_builder *b, const frame_value *obj,
                                                const char *const *omit) {
    frame_member m;
    size_t cursor = 0;
    int kind;
    if (!b) return FRAME_E_ARGUMENT;
    /* An earlier error stays the builder's error. */
    if (!b->_errno && (!obj || !obj->json || obj->type != FRAME_TYPE_OBJECT))
        frame__builder_fail(b, obj && obj->json ? FRAME_E_TYPE : FRAME_E_ARGUMENT);
    kind = frame__copy_kind(b);
    while (!b->_errno && frame_value_next(obj, &cursor, &m)) {
        /* The size member's name first, then those of omit. */
        const char *const *o = omit;
        const char *leave = frame__size_name(b->_cfg);
        while (leave && !frame_value_string_equals(&m.name, leave, strlen(leave)))
            leave = o && *o ? *o++ : NULL;
        if (!leave) frame__add(b, m.name.json, m.name.len, kind, m.value.json, m.value.len);
    }
    return (frame_errno)b->_errno;
}

FRAME_API frame_errno frame_builder_finish(frame_builder *b, const void **out, size_t *len) {
    if (!b) return FRAME_E_ARGUMENT;
    if (b->_errno) return (frame_errno)b->_errno;
    if (!b->_finished) {
        uint64_t v = b->_body_size; /* the raw profile's prefix */
        if (b->_members) {
            frame__put_char(b, '}');
            v = frame__header_len(b);
        }
        frame__put_prefix_quick(b->_buf, b->_cfg, v);
        b->_finished = 1;
    }
    if (out) *out = b->_buf;
    if (len) *len = b->_len;
    return FRAME_OK;
}

/* This file's macros end here (the single header puts lib/ in one file). */
#undef FRAME__UNESCAPED
#undef FRAME__SLOT
#undef FRAME__GEN
#undef FRAME__FOUND
#undef frame__add_named
#undef FRAME__SIZE_NOINLINE
#undef frame__put_prefix_quick
#undef frame__config_check_quick
#undef frame__max_body_quick
#undef FRAME__AS_LITERAL
#undef frame__put_as_is
