/*
 * The header builder: prefix + canonical header (SPEC.md "Canonical
 * encoding") in a caller buffer. One byte is always kept free for the closing
 * brace, so frame_builder_finish() cannot run out of room.
 *
 * Speed builds (not FRAME_SMALL) add, each in functions of its own:
 * - a name table at the tail of the buffer, so that a duplicate name costs
 *   the same to find at any member count (see "The name set" below); size
 *   builds, and speed builds whose buffer has no room for the table, search
 *   the header written so far instead (frame__check_member);
 * - a lean path for members named by a C string with a string, number or
 *   literal value (frame__add_named), which writes them straight into the
 *   buffer, strings a word at a time (frame__write_string_slack);
 * - numbers two digits a step (frame__format).
 * But for bad UTF-8 met while writing, every error is still decided by
 * frame__add and frame__check_member.
 */
#include "words.h"

/* How frame__add() writes a member. FRAME__SIZE is the size member, written
 * by init without the checks. FRAME__INT64, the only kind frame__add_number()
 * takes with bit 2, is text to frame__add() once it has been read as signed.
 * From FRAME__RAW on, the value is JSON text copied canonically: raw JSON is
 * validated first, and from FRAME__COPY on it is a view of a validated
 * header, not validated again; FRAME__MEMBER's name is a view too (a JSON
 * string), and FRAME__FRESH is a member of a validated object copied into a
 * builder that held only the size member: its name cannot collide, so it is
 * compared with the size member's only. */
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
 * UTF-8 bytes) go as they are. */
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

#if !FRAME__SMALL
/* Word-at-a-time string writing (speed builds), with lib/words.h. */

/* Writes the bytes [p, end) (from a string that begins at start) at o as
 * the rest of a canonical JSON string, the closing quote included; returns
 * its end, or NULL if they are not UTF-8. The room for it is known (the caller
 * measured it, or bounded it by 6 bytes a byte): runs of 8 plain bytes are
 * stored whole, a store going up to 8 bytes past the run's end but never
 * past the string's own text (at least 8 bytes of it are still to come).
 * With `slack`, the caller has room for 8 bytes more behind the string,
 * which holds nothing (not the name table: see frame__set_kept), and the
 * last bytes go in one store too. */
static FRAME__INLINE frame__u8 *frame__write_rest(frame__u8 *o, const frame__u8 *start, const frame__u8 *p,
                                                  const frame__u8 *end, int slack) {
    /* controls: their escape letter, or 'u' for \u00XX */
    static const char letter[33] = "uuuuuuuubtnufruuuuuuuuuuuuuuuuuu";
    for (;;) {
        unsigned c;
        uint64_t m;
        while (end - p >= 8) {
            m = frame__special8(frame__load64(p));
            memcpy(o, p, 8);
            if (m) goto stop;
            p += 8;
            o += 8;
        }
        if (slack) {
            size_t r = (size_t)(end - p);
            uint64_t w;
            if (!r) break;
            w = frame__load_tail(start, end, r);
            m = frame__special8(w) & (FRAME__HIGHS >> (8 * (8 - r))); /* of the r bytes */
            frame__store8(o, w);
            if (!m) {
                o += r;
                break;
            }
        } else {
            while (p < end && !FRAME__IS_SPECIAL(*p)) *o++ = *p++;
            if (p == end) break;
            m = 0x80;
        }
    stop:
        c = frame__first_flag(m);
        p += c;
        o += c;
        c = *p;
        if (c >= 0x80) {
            /* Valid UTF-8 goes as it is; two-byte sequences (most accented
             * letters) and three-byte ones that are neither overlong nor
             * surrogates (E1-EC, EE, EF: most other scripts) are checked
             * here, the rest by frame__utf8_len. */
            size_t k = 0, left = (size_t)(end - p);
            if (c - 0xc2u < 0x1eu) {
                if (left >= 2 && (p[1] & 0xc0) == 0x80) k = 2;
            } else if (c - 0xe1u < 0x0fu && c != 0xed) {
                if (left >= 3 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) k = 3;
            }
            if (!k && (k = frame__utf8_len(p, end)) == 0) return NULL;
            o[0] = p[0];
            o[1] = p[1];
            if (k > 2) o[2] = p[2];
            if (k > 3) o[3] = p[3];
            o += k;
            p += k;
            continue;
        }
        p++;
        o[0] = '\\';
        if (c == '"' || c == '\\') {
            o[1] = (frame__u8)c;
        } else if ((o[1] = (frame__u8)letter[c & 0x1f]) == 'u') { /* c < 0x20 here */
            o[2] = o[3] = '0';
            o[4] = (frame__u8)('0' + (c >> 4));
            o[5] = (frame__u8)"0123456789abcdef"[c & 15];
            o += 4;
        }
        o += 2;
    }
    *o++ = '"';
    return o;
}

static frame__u8 *frame__write_string(frame__u8 *o, const frame__u8 *p, size_t n) {
    *o++ = '"';
    return frame__write_rest(o, p, p, p + n, 0);
}

static frame__u8 *frame__write_rest_slack(frame__u8 *o, const frame__u8 *start, const frame__u8 *p,
                                          const frame__u8 *end) {
    return frame__write_rest(o, start, p, end, 1);
}

/* The same with slack, inline for a string with nothing to escape or
 * check; the rest from the first word that has something. */
static FRAME__INLINE frame__u8 *frame__write_string_slack(frame__u8 *o, const frame__u8 *p, size_t n) {
    const frame__u8 *start = p, *end = p + n;
    uint64_t w;
    *o++ = '"';
    for (; n >= 8; n -= 8, p += 8, o += 8) {
        w = frame__load64(p);
        if (frame__special8(w)) return frame__write_rest_slack(o, start, p, end);
        frame__store8(o, w);
    }
    if (n) {
        w = frame__load_tail(start, end, n);
        if (frame__special8(w) & (FRAME__HIGHS >> (8 * (8 - n)))) return frame__write_rest_slack(o, start, p, end);
        frame__store8(o, w);
        o += n;
    }
    *o++ = '"';
    return o;
}
#endif

/* Appends `len` bytes of UTF-8 as a canonical JSON string; returns 1 if
 * they are not UTF-8 (and the string is then left unfinished), else 0. */
static FRAME__INLINE int frame__put_string(frame_builder *b, const frame__u8 *p, size_t len) {
    const frame__u8 *end = p + len;
#if FRAME__SMALL
    /* A character at a time, with no scanning helper to bring in: the
     * string iterator checks a UTF-8 sequence (which no quote, backslash or
     * control starts) and says where it ends. */
    frame__siter it;
    const frame__u8 *checked = p; /* the end of the sequences checked so far */
    frame__put(b, "\"", 1);
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
#else
    const frame__u8 *run = p;
    if (!b->_dry) {
        frame__u8 *o = frame__write_string(b->_buf + b->_len, p, len);
        if (!o) return 1;
        b->_len = (size_t)(o - b->_buf);
        return 0;
    }
    /* A dry run counts, a run of plain bytes at a time. */
    frame__put(b, "\"", 1);
    for (;;) {
        const frame__u8 *q = frame__plain_end(p, end);
        if (q < end && *q >= 0x80) {
            /* Valid UTF-8 goes as it is, in the run of plain bytes. */
            size_t n = frame__utf8_len(q, end);
            if (!n) return 1;
            p = q + n;
            continue;
        }
        frame__put(b, run, (size_t)(q - run));
        if (q == end) break;
        frame__put_char(b, *q);
        run = p = q + 1;
    }
#endif
    frame__put(b, "\"", 1);
    return 0;
}

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
#if !FRAME__SMALL
    if (how == FRAME__AS_IS) {
        frame__put(b, p, n);
        return 0;
    }
#endif
    /* Size builds copy literals and numbers as JSON text too: byte by
     * byte, the same bytes (no white space, no string, no member). */
    return frame__put_canonical(b, p, p + n);
}

#if FRAME__SMALL
/* Writes v in decimal, ending at end; returns its start. A digit a step,
 * each divided out bit by bit on 32-bit halves: Thumb-1 has no divide
 * instruction, and a 64-bit division would bring in about 550 bytes of
 * libgcc. Out of line: inlined, its loop would spill the caller's live
 * values. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static char *frame__format(char *end, uint64_t v) {
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
#else
/* "00" to "99": two digits a step, half the divisions (by a constant: a
 * multiplication). */
static const char frame__pairs[201] = "00010203040506070809101112131415161718192021222324"
                                      "25262728293031323334353637383940414243444546474849"
                                      "50515253545556575859606162636465666768697071727374"
                                      "75767778798081828384858687888990919293949596979899";

/* Writes v in decimal, ending at end; returns its start. */
static FRAME__INLINE char *frame__format(char *end, uint64_t v) {
    while (v >= 100) {
        uint64_t q = v / 100;
        end -= 2;
        memcpy(end, frame__pairs + 2 * (v - q * 100), 2);
        v = q;
    }
    if (v < 10) {
        *--end = (char)('0' + v);
    } else {
        end -= 2;
        memcpy(end, frame__pairs + 2 * v, 2);
    }
    return end;
}
#endif

#if !FRAME__SMALL
/*
 * The name set: finds a duplicate name in time that does not grow with the
 * member count. An open-addressing hash table (linear probing) of the
 * top-level names written so far, kept at the tail of the caller's buffer
 * and growing downward, slot j in the 8 bytes that end (j * 8) bytes before
 * buf + cap: {the name's offset in the header (its opening quote; 0 = an
 * empty slot), the name's hash}. frame_builder is ABI, so nothing of the set
 * lives there: its capacity is derived from _members (a power of two, at
 * least twice the count, so at most half full), and whether it is kept is
 * derived from _len: it is while the header and the table both fit. Both
 * only grow, so once a member crowds the table out, it stays out, and the
 * scan below takes over (slower, same answers; never an error of its own).
 * Members may use the whole buffer. The table is needed until finish only:
 * after it the tail is free for frame_write() to copy the body behind the
 * head. Names of objects nested in values are not members and are not in
 * it; the size member is not either (its name has a check of its own).
 *
 * A key is the hash of the decoded name, whether it came as bytes
 * (frame_builder_add_*) or as a JSON string (add_members), so "a" and
 * "\u0061" meet; a match is confirmed by comparing decoded names. Size
 * builds keep the scan: the table would cost code.
 */
/* A slot: 8 bytes, host order, the name's hash above its offset (0: empty). */
#define FRAME__SLOT 8u
#define FRAME__GEN 0x8000000000000000ull /* see frame__set_grow */

/* The last step of a name hash over n bytes, 31 bits (the 32nd is the
 * entry's generation bit). */
static FRAME__INLINE uint32_t frame__hash_end(uint64_t h, size_t n) {
    FRAME__MIX(h, (uint64_t)n);
    return (uint32_t)(h >> 33);
}

/* The hash of the n bytes at p, a word at a time (the last one padded with
 * zeros). */
static FRAME__INLINE uint32_t frame__hash_bytes(const frame__u8 *p, size_t n) {
    uint64_t h = 0;
    size_t i = 0;
    for (; n - i >= 8; i += 8) FRAME__MIX(h, frame__load64(p + i));
    if (i < n) FRAME__MIX(h, frame__load_tail(p, p + n, n - i));
    return frame__hash_end(h, n);
}

/* The same hash of the decoded bytes of the JSON string at q (validated). */
static uint32_t frame__hash_string(const frame__u8 *q, const frame__u8 *end) {
    frame__siter it;
    uint64_t h = 0, w = 0;
    size_t n = 0;
    int c;
    frame__siter_init(&it, q, end);
    while ((c = frame__siter_next(&it)) >= 0) {
        w |= (uint64_t)c << (8 * (n & 7));
        if ((++n & 7) == 0) {
            FRAME__MIX(h, w);
            w = 0;
        }
    }
    if (n & 7) FRAME__MIX(h, w);
    return frame__hash_end(h, n);
}

/* The slots of the table for a builder of `members` members: a power of
 * 4 (fewer rehashes), at least 16 (128 bytes) and twice the count. */
#if FRAME_MAX_MEMBERS > 512
#error "frame__set_slots() needs a step more"
#endif
static FRAME__INLINE size_t frame__set_slots(unsigned members) {
    /* members: 1 to FRAME_MAX_MEMBERS (512) */
    return members <= 8 ? 16 : members <= 32 ? 64 : members <= 128 ? 256 : 1024;
}

/* The generation bit of the entries of a table of `slots` slots: the
 * parity of log4(slots). */
static FRAME__INLINE uint64_t frame__set_gen(size_t slots) {
    return (slots & 0x44444444u) ? FRAME__GEN : 0;
}

/* Whether the table is kept: the header, 8 bytes that a member's last
 * store may go over (frame__write_string_slack), and the table fit in the
 * buffer. */
static FRAME__INLINE int frame__set_kept(const frame_builder *b, unsigned members) {
    return b->_cap - b->_len >= (frame__set_slots(members) + 1) * FRAME__SLOT;
}

/* Slot j ends j * 8 bytes before top, the end of the buffer. */
static FRAME__INLINE uint64_t frame__slot_get(const frame__u8 *top, size_t j) {
    uint64_t e;
    memcpy(&e, top - (j + 1) * FRAME__SLOT, FRAME__SLOT);
    return e;
}

static FRAME__INLINE void frame__slot_set(frame__u8 *top, size_t j, uint64_t e) {
    memcpy(top - (j + 1) * FRAME__SLOT, &e, FRAME__SLOT);
}

/* Looks the name (n bytes, or a JSON string of n bytes when json is set)
 * whose hash is `hash` up in the table of mask + 1 slots. Returns
 * FRAME__FOUND, or the empty slot where the name would go. */
#define FRAME__FOUND ((size_t)-1)
static FRAME__INLINE size_t frame__set_find(const frame_builder *b, size_t mask, uint32_t hash,
                                            const frame__u8 *name, size_t n, int json) {
    const frame__u8 *top = b->_buf + b->_cap, *end = b->_buf + b->_len;
    const frame__u8 *header = b->_buf + frame__width(b->_cfg);
    size_t j = hash & mask;
    uint64_t e;
    for (; (e = frame__slot_get(top, j)) != 0; j = (j + 1) & mask) {
        const frame__u8 *a = header + (uint32_t)e;
        if (((uint32_t)(e >> 32) & 0x7fffffffu) == hash &&
            (json ? frame__string_equals_string(a, end, name, name + n) : frame__string_equals_bytes(a, end, name, n)))
            return FRAME__FOUND;
    }
    return j;
}

/* Grows the table at top from `slots` slots to `want`, 4 times as many at
 * a step, rehashing it in place from its own entries. The new slots
 * [slots, 4 slots) start empty. An entry carries the generation bit of the
 * table it was placed in, and the bit flips at each step: the old entries
 * are the ones still to place. Each goes to the first slot of its probe
 * run that is empty or holds one still to place (which then takes its old
 * slot, and is placed next). A placed entry only ever passes placed ones,
 * so no slot it passed is emptied later: every search finds it. */
static void frame__set_grow(frame__u8 *top, size_t slots, size_t want) {
    for (; slots < want; slots *= 4) {
        size_t mask = 4 * slots - 1, i, j;
        uint64_t gen = frame__set_gen(4 * slots), e, f;
        memset(top - 4 * slots * FRAME__SLOT, 0, 3 * slots * FRAME__SLOT);
        for (i = 0; i < slots; i++) {
            e = frame__slot_get(top, i);
            while (e && (e & FRAME__GEN) != gen) {
                for (j = (uint32_t)(e >> 32) & 0x7fffffffu & mask;
                     (f = frame__slot_get(top, j)) != 0 && (f & FRAME__GEN) == gen; j = (j + 1) & mask)
                    ;
                frame__slot_set(top, j, e ^ FRAME__GEN);
                if (j == i) break;
                /* Slot i takes what was at j: nothing, or the next to place. */
                frame__slot_set(top, i, f);
                e = f;
            }
        }
    }
}

/* Puts the name at offset `off` of the header, hash `hash`, in the table,
 * which held `before` members' names: grown first to the capacity the count
 * now asks for, when that is more. Nothing when the header has crowded it
 * out. */
static void frame__set_put(frame_builder *b, unsigned before, uint32_t off, uint32_t hash) {
    size_t slots = frame__set_slots(b->_members), mask = slots - 1, j;
    frame__u8 *top = b->_buf + b->_cap;
    if (!frame__set_kept(b, b->_members)) return;
    frame__set_grow(top, frame__set_slots(before), slots);
    for (j = hash & mask; frame__slot_get(top, j); j = (j + 1) & mask)
        ;
    frame__slot_set(top, j, frame__set_gen(slots) | (uint64_t)hash << 32 | off);
}

/* Starts the table empty, when there is room for it (by init). */
static void frame__set_clear(frame_builder *b) {
    size_t bytes = frame__set_slots(b->_members) * FRAME__SLOT;
    if (frame__set_kept(b, b->_members)) memset(b->_buf + b->_cap - bytes, 0, bytes);
}

/* Notes the member frame__add wrote at `mark` (its comma), named as hashed
 * by frame__check_member: kept now, the table was kept then. */
static void frame__set_note(frame_builder *b, unsigned before, size_t mark, uint32_t hash) {
    frame__set_put(b, before, (uint32_t)(mark + 1 - frame__width(b->_cfg)), hash);
}
#else
/* Size builds keep no name table. */
static FRAME__INLINE void frame__set_clear(frame_builder *b) { (void)b; }

static FRAME__INLINE void frame__set_note(frame_builder *b, unsigned before, size_t mark, uint32_t hash) {
    (void)b, (void)before, (void)mark, (void)hash;
}
#endif

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
    int json = kind >= FRAME__MEMBER, first = 1;
    (void)hash; /* size builds search the header */
    if (b->_errno) return (frame_errno)b->_errno;
    /* _members is 0 in the raw profile, which has none. */
    if (!name || b->_finished || !b->_members) return frame__builder_fail(b, FRAME_E_ARGUMENT);
#if !FRAME__SMALL
    {
        const char *size = frame__size_name(b->_cfg);
        size_t size_len = strlen(size);
        if (json ? frame__string_equals_bytes(u, u + n, (const frame__u8 *)size, size_len)
                 : n == size_len && memcmp(name, size, n) == 0)
            return frame__builder_fail(b, FRAME_E_RESERVED_NAME);
    }
    if (b->_members >= FRAME_MAX_MEMBERS) return frame__builder_fail(b, FRAME_E_TOO_MANY_MEMBERS);
    if (frame__set_kept(b, b->_members)) {
        /* A fresh name is put in the table all the same. */
        *hash = json ? frame__hash_string(u, u + n) : frame__hash_bytes(u, n);
        if (kind != FRAME__FRESH &&
            frame__set_find(b, frame__set_slots(b->_members) - 1, *hash, u, n, json) == FRAME__FOUND)
            return frame__builder_fail(b, FRAME_E_DUPLICATE_NAME);
        return FRAME_OK;
    }
    if (kind == FRAME__FRESH) return FRAME_OK;
    if (!json && !b->_nested && (!n || !strchr(":,}]", name[0])) && frame__plain_end(u, u + n) == u + n) {
        /* In canonical text every '"' inside a string is escaped. So,
         * without nested objects, `,"name":` can start inside an earlier
         * string only where that string's closing quote is followed by
         * the name's first byte: ':' after a name, ',' or ']' after a
         * value. For other names it stands only where the member does. */
        const frame__u8 *end = b->_buf + b->_len, *p = end - frame__header_len(b);
        while ((p = (const frame__u8 *)memchr(p, ',', (size_t)(end - p))) != NULL) {
            if ((size_t)(end - p) >= n + 4 && p[1] == '"' && memcmp(p + 2, name, n) == 0 &&
                p[2 + n] == '"' && p[3 + n] == ':')
                return frame__builder_fail(b, FRAME_E_DUPLICATE_NAME);
            p++;
        }
        return FRAME_OK;
    }
#endif
    /* The object so far (not yet closed) holds the names to compare with;
     * the first is the size member's: the reserved name, which is that
     * whatever the count. A duplicate is that only within the count. A
     * fresh name is compared with the size member's only. */
    obj.len = frame__header_len(b);
    obj.json = (const char *)b->_buf + b->_len - obj.len;
    obj.type = FRAME_TYPE_OBJECT;
    while (frame_value_next(&obj, &cursor, &m)) {
        const frame__u8 *a = (const frame__u8 *)m.name.json;
        if (json ? frame__string_equals_string(a, a + m.name.len, u, u + n)
                 : frame__string_equals_bytes(a, a + m.name.len, u, n)) {
            err = first ? FRAME_E_RESERVED_NAME : FRAME_E_DUPLICATE_NAME;
            break;
        }
#if !FRAME__SMALL
        if (kind == FRAME__FRESH) cursor = obj.len; /* no more names */
#endif
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
            /* size and err_pos are answers, set for cppcheck's sake. */
            frame__json_job job;
            job.size = 0;
            job.err_pos = 0;
            job.start = s;
            job.end = s + len;
            job.header = 0;
            job.depth = 1;
            job.members = b->_members;
            job.cfg = b->_cfg;
            err = frame__json_validate(&job);
            if (err) return frame__builder_fail(b, err);
        }
#if !FRAME__SMALL
        /* Objects inside the value bring names the quick duplicate
         * search would mistake for members. */
        if (kind != FRAME__STRING && memchr(s, '{', len)) b->_nested = 1;
#endif
    }
    mark = b->_len;
#if !FRAME__SMALL
    {
        /* Escaping makes a byte 6 at most, so the member takes less than
         * 6 * (n + len + 5): one surely within both limits needs no dry run. */
        size_t room = b->_cap - mark;
        size_t left = (size_t)frame__limit(b->_cfg, 0) - frame__header_len(b);
        size_t q = (room < left ? room : left) / 6;
        b->_dry = !(n + 4 < q && len < q - n - 4);
    }
#else
    b->_dry = 1;
#endif
    for (;;) {
        /* Bad UTF-8 in the name or the value: the member is written (or
         * measured) whole all the same, then taken back. A name has no
         * members. */
        members = frame__put_text(b, ',', (const frame__u8 *)name, n,
                                  kind >= FRAME__MEMBER ? FRAME__AS_JSON : FRAME__AS_STRING);
        /* Literals and numbers are canonical as they are. */
        members += frame__put_text(b, ':', s, len,
                                   kind == FRAME__STRING                ? FRAME__AS_STRING
                                   : !FRAME__SMALL && kind < FRAME__RAW ? FRAME__AS_IS
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

#if FRAME__SMALL
#define frame__add_named(b, name, kind, value, len) frame__add(b, name, (size_t)-1, kind, value, len)
#else
/*
 * frame__add for a NUL-terminated name and a value of kind FRAME__SIZE,
 * FRAME__TEXT, FRAME__INT64 (text as it is) or FRAME__STRING, in speed
 * builds: a member that surely fits (6 bytes a byte, the bound frame__add
 * uses too) is checked the same way and written straight into the buffer.
 * Anything else - an argument or earlier error, a member that has to be
 * measured first - goes to frame__add. Same checks, same order, same
 * answers.
 */
static frame_errno frame__add_named(frame_builder *b, const char *name, int kind, const void *value, size_t len) {
    size_t n, room, left, q, mark, slots = 0, j = 0;
    unsigned members;
    uint32_t hash = 0;
    frame__u8 *o;
    if (!b || !name || !value || b->_errno || b->_finished) return frame__add(b, name, (size_t)-1, kind, value, len);
    n = strlen(name);
    mark = b->_len;
    room = b->_cap - mark;
    left = (size_t)frame__limit(b->_cfg, 0) - frame__header_len(b);
    q = (room < left ? room : left) / 6;
    if (!(n + 4 < q && len < q - n - 4)) return frame__add(b, name, n, kind, value, len);
    members = b->_members;
    if (kind != FRAME__SIZE) {
        /* What frame__check_member would refuse, and a name it would have
         * to search the header for (the table crowded out), go there; so
         * does a duplicate, once found. */
        const char *size = frame__size_name(b->_cfg);
        if (!members || members >= FRAME_MAX_MEMBERS ||
            (name[0] == size[0] && (!name[0] || (name[1] == size[1] && strcmp(name, size) == 0))))
            return frame__add(b, name, n, kind, value, len);
        slots = frame__set_slots(members);
        if (room < (slots + 1) * FRAME__SLOT) return frame__add(b, name, n, kind, value, len);
        hash = frame__hash_bytes((const frame__u8 *)name, n);
        j = frame__set_find(b, slots - 1, hash, (const frame__u8 *)name, n, 0);
        if (j == FRAME__FOUND) return frame__add(b, name, n, kind, value, len);
        b->_members = members + 1; /* ahead of the member, as in frame__add */
    }
    /* The bound leaves more than 8 bytes of room behind the member. */
    o = frame__write_string_slack(b->_buf + mark + 1, (const frame__u8 *)name, n);
    if (o) {
        *o++ = ':';
        if (kind == FRAME__STRING) {
            o = frame__write_string_slack(o, (const frame__u8 *)value, len);
        } else {
            /* A number or a literal: 20 bytes at most. */
            const frame__u8 *v = (const frame__u8 *)value;
            size_t i;
            for (i = 0; len - i >= 8; i += 8) frame__store8(o + i, frame__load64(v + i));
            frame__store8(o + i, frame__load_tail(v, v + len, len - i));
            o += len;
        }
    }
    if (!o) return frame__builder_fail(b, FRAME_E_BAD_UTF8);
    b->_buf[mark] = ',';
    b->_len = (size_t)(o - b->_buf);
    if (kind != FRAME__SIZE) {
        uint32_t off = (uint32_t)(mark + 1 - frame__width(b->_cfg));
        /* Into the slot found empty, unless the table must grow (or is
         * crowded out by this member: frame__set_put sees to both). */
        if (2 * (size_t)(members + 1) <= slots && b->_cap - b->_len >= (slots + 1) * FRAME__SLOT)
            frame__slot_set(b->_buf + b->_cap, j, frame__set_gen(slots) | (uint64_t)hash << 32 | off);
        else
            frame__set_put(b, members, off, hash);
    }
    return FRAME_OK;
}
#endif

/* Adds a member whose value is v in decimal (an int64_t for FRAME__INT64). */
static frame_errno frame__add_number(frame_builder *b, const char *name, uint64_t v, int kind) {
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
    frame_errno err;
    unsigned w;
    if (!b) return FRAME_E_ARGUMENT;
    memset(b, 0, sizeof *b);
    b->_buf = (unsigned char *)buf;
    b->_cfg = cfg = frame__config(cfg);
    b->_body_size = body_size;
    b->_cap = cap;
    b->_len = w = frame__width(cfg); /* the prefix is filled in by finish */
    err = frame_config_check(cfg);
    if (!err && !buf) err = FRAME_E_ARGUMENT;
    if (!err && body_size > frame__max_body(cfg)) err = FRAME_E_BODY_TOO_LARGE;
    if (!err && cap < w) err = FRAME_E_BUFFER_TOO_SMALL;
    if (err) return frame__builder_fail(b, err);
    if (cfg->raw) return FRAME_OK;
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
#if FRAME__SMALL && defined(__GNUC__)
__attribute__((noinline))
#endif
static frame_errno frame__add_literal(frame_builder *b, const char *name, unsigned which) {
    static const char literals[] = "true\0null\0false";
    return frame__add_named(b, name, FRAME__TEXT, literals + 5 * which, 4 + (which >> 1));
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
    /* The names of a validated object differ from each other and, but for
     * the size member (left out), from a builder's that holds only that.
     * Size builds search all the same: the answer is the one the shortcut
     * gives. */
    kind = !FRAME__SMALL && b->_members == 1 ? FRAME__FRESH : FRAME__MEMBER;
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
        frame__put_prefix(b->_buf, b->_cfg, v);
        b->_finished = 1;
    }
    if (out) *out = b->_buf;
    if (len) *len = b->_len;
    return FRAME_OK;
}

/* This file's macros end here (the single header puts lib/ in one file). */
#undef FRAME__SLOT
#undef FRAME__GEN
#undef FRAME__FOUND
#undef frame__add_named
