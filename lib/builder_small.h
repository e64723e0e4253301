/*
 * lib/builder_small.h: the size builds' (FRAME_SMALL) side of the header
 * builder's interface to its speed parts (lib/builder_fast.h says what
 * each side gives lib/builder.c), included by it in one place. Private.
 * Strings go a character at a time, numbers a digit a step, and every
 * member through frame__add, which searches the header for duplicate
 * names: no name table, no lean path.
 */
#ifndef FRAME_BUILDER_SMALL_H
#define FRAME_BUILDER_SMALL_H

#if defined(__GNUC__)
#define FRAME__SIZE_NOINLINE __attribute__((noinline))
#else
#define FRAME__SIZE_NOINLINE
#endif

/* Appends `len` bytes of UTF-8 as a canonical JSON string; returns 1 if
 * they are not UTF-8 (and the string is then left unfinished), else 0. */
static FRAME__INLINE int frame__put_string(frame_builder *b, const frame__u8 *p, size_t len) {
    const frame__u8 *end = p + len;
    /* A character at a time, with no scanning helper to bring in: the
     * string iterator checks a UTF-8 sequence (which no quote, backslash or
     * control starts) and says where it ends. */
    frame__siter it;
    const frame__u8 *checked = p; /* the end of the sequences checked so far */
    frame__put_char(b, FRAME__UNESCAPED + '"');
    for (; p < end; p++) {
        if (p >= checked && *p >= 0x80) {
            it.p = p;
            it.end = end;
            it.left = 0;
            if (frame__siter_next(&it) < 0) return 1;
            checked = it.p;
        }
        /* UTF-8 bytes go as they are. */
        frame__put_char(b, *p);
    }
    frame__put_char(b, FRAME__UNESCAPED + '"');
    return 0;
}

/* Writes v in decimal, ending at end; returns its start. A digit a step,
 * each divided out bit by bit on 32-bit halves: Thumb-1 has no divide
 * instruction, and a 64-bit division would bring in about 550 bytes of
 * libgcc. Out of line: inlined, its loop would spill the caller's live
 * values. */
FRAME__SIZE_NOINLINE static char *frame__format(char *end, uint64_t v) {
    do {
        uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
        unsigned r = 0, i;
        for (i = 0; i < 64; i++) {
            r = r << 1 | hi >> 31;
            hi = hi << 1 | lo >> 31;
            lo <<= 1;
            if (r >= 10) {
                r -= 10;
                lo |= 1;
            }
        }
        *--end = (char)('0' + r);
        v = (uint64_t)hi << 32 | lo;
    } while (v);
    return end;
}

/* Nothing is decided before frame__check_member searches the header. */
static FRAME__INLINE int frame__check_quick(frame_builder *b, const char *name, size_t n, int kind, int json,
                                            uint32_t *hash) {
    (void)b, (void)name, (void)n, (void)kind, (void)json, (void)hash;
    return -1;
}

/* There is no name table to note names in, or to start. */
static FRAME__INLINE void frame__set_note(frame_builder *b, unsigned before, size_t mark, uint32_t hash) {
    (void)b, (void)before, (void)mark, (void)hash;
}

static FRAME__INLINE void frame__set_clear(frame_builder *b) { (void)b; }

/* Every member is measured before it is written. */
static FRAME__INLINE int frame__dry_needed(const frame_builder *b, size_t mark, size_t n, size_t len) {
    (void)b, (void)mark, (void)n, (void)len;
    return 1;
}

#define frame__add_named(b, name, kind, value, len) frame__add(b, name, (size_t)-1, kind, value, len)

#define frame__put_prefix_quick frame__put_prefix

#define frame__config_check_quick(given, cfg) ((void)(given), frame_config_check(cfg))

#define frame__max_body_quick frame__max_body

/* Init writes the size member with frame__add. */
static FRAME__INLINE int frame__start_quick(frame_builder *b, uint64_t body_size) {
    (void)b, (void)body_size;
    return 0;
}

/* How frame__add writes a literal or a number: as JSON text, which it is
 * (frame__put_canonical copies it byte by byte, the same bytes), so that
 * copying it as it is takes no code of its own: nothing is written
 * FRAME__AS_IS. */
#define FRAME__AS_LITERAL FRAME__AS_JSON
#define frame__put_as_is(b, p, n) 0

/* frame__add searches the whole header for duplicates, nested objects or
 * not. */
static FRAME__INLINE void frame__note_nested(frame_builder *b, int kind, const frame__u8 *s, size_t len) {
    (void)b, (void)kind, (void)s, (void)len;
}

/* Copied members are searched for as any others: the answer is the one
 * the shortcut of speed builds gives. */
static FRAME__INLINE int frame__copy_kind(const frame_builder *b) {
    (void)b;
    return FRAME__MEMBER;
}

#endif /* FRAME_BUILDER_SMALL_H */
