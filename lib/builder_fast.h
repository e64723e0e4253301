/*
 * lib/builder_fast.h: the parts of the header builder (lib/builder.c) that
 * only buy speed, included by it in speed builds (not FRAME_SMALL) in one
 * place; lib/builder_small.h is the size builds' side of the same
 * interface. Private. What each side gives builder.c:
 *
 *   frame__put_string(b, p, len)   appends a canonical JSON string (1: bad UTF-8)
 *   frame__format(end, v)          writes v in decimal, ending at end
 *   frame__check_quick(b, ...)     decides a member check it can decide
 *                                  faster than frame__check_member (-1: not)
 *   frame__set_note(b, ...)        notes the name of a member frame__add wrote
 *   frame__set_clear(b)            starts the name set (by init)
 *   frame__dry_needed(b, ...)      whether frame__add must measure a member first
 *   frame__add_named(b, ...)       frame__add for a NUL-terminated name and a
 *                                  string, number or literal value
 *   frame__start_quick(b, size)    init's {"size":N and name set at once
 *                                  (0: not done, init does it with frame__add)
 *   frame__put_prefix_quick(...)   frame__put_prefix, quicker where it can be
 *   frame__config_check_quick(given, cfg)
 *                                  frame_config_check(cfg), for cfg =
 *                                  frame__config(given)
 *   frame__max_body_quick(cfg)     frame__max_body(cfg) (frame__body_limit here)
 *   FRAME__SIZE_NOINLINE           noinline in size builds only
 *   FRAME__AS_LITERAL              how frame__put_text writes a literal or
 *                                  a number
 *   frame__put_as_is(b, p, n)      writes FRAME__AS_IS (0: not done)
 *   frame__note_nested(b, ...)     notes a value that may hold objects
 *   frame__copy_kind(b)            the kind of the members add_members
 *                                  copies (FRAME__FRESH or FRAME__MEMBER)
 *
 * Here: strings written a word at a time, numbers 8 digits a step, a name
 * table at the tail of the buffer (with two words above it for the lean
 * path), and a lean path for the frame__add_named members that surely fit,
 * which writes them straight into the buffer.
 * But for bad UTF-8 met while writing, every error is still decided by
 * frame__add and frame__check_member.
 */
#ifndef FRAME_BUILDER_FAST_H
#define FRAME_BUILDER_FAST_H

#include "words.h"

#define FRAME__SIZE_NOINLINE

/* Writes the bytes [p, end) (from a string that begins at start) at o as
 * the rest of a canonical JSON string, the closing quote included; returns
 * its end, or NULL if they are not UTF-8. The room for it is known (the caller
 * measured it, or bounded it by 6 bytes a byte): runs of 8 plain bytes are
 * stored whole, a store going up to 8 bytes past the run's end but never
 * past the string's own text (at least 8 bytes of it are still to come).
 * With `slack`, the caller has room for 8 bytes more behind the string,
 * which holds nothing (not the name table: see frame__set_kept), and the
 * last bytes go in one store too. A nonzero m is what the caller found:
 * the flags (frame__special8) of the bytes at p, which it has stored at o
 * already; it is not found twice. */
static FRAME__INLINE frame__u8 *frame__write_rest(frame__u8 *o, const frame__u8 *start, const frame__u8 *p,
                                                  const frame__u8 *end, uint64_t m, int slack) {
    /* controls: their escape letter, or 'u' for \u00XX */
    static const char letter[33] = "uuuuuuuubtnufruuuuuuuuuuuuuuuuuu";
    unsigned c, i;
    if (m) goto stop;
    for (;;) {
        while (end - p >= 8) {
            m = frame__special8_exact(frame__load64(p));
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
            m = frame__special8_exact(w) & (FRAME__HIGHS >> (8 * (8 - r))); /* of the r bytes */
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
        /* m: the special bytes of the word at p, stored at o (or m = 0x80:
         * the byte at p, nothing stored) */
        i = frame__first_flag(m);
        p += i;
        o += i;
        c = *p;
        if (c >= 0x80) {
            /* Valid UTF-8 goes as it is (the rule inline: utf8_seq.h). */
            size_t k = frame__utf8_seq(p, end);
            if (!k) return NULL;
            o[0] = p[0];
            o[1] = p[1];
            if (k > 2) o[2] = p[2];
            if (k > 3) o[3] = p[3];
            o += k;
            p += k;
            /* On in the same word when it has more: the flags past the
             * first are exact until an escape (whose borrow may flag the
             * byte after it), and no byte since the load was one. */
            if (i + k < 8 && (m >>= 8 * (i + k)) != 0) goto stop;
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
    return frame__write_rest(o, p, p, p + n, 0, 0);
}

/* The same with slack, inline: a call would cost more than most strings
 * (names and values of a few words); a string with nothing to escape or
 * check in a straight line, the rest from the first word that has
 * something. */
static FRAME__INLINE frame__u8 *frame__write_string_slack(frame__u8 *o, const frame__u8 *p, size_t n) {
    const frame__u8 *start = p, *end = p + n;
    uint64_t w, m;
    *o++ = '"';
    for (; n >= 8; n -= 8, p += 8, o += 8) {
        w = frame__load64(p);
        frame__store8(o, w);
        if ((m = frame__special8_exact(w)) != 0) goto rest;
    }
    if (n) {
        w = frame__load_tail(start, end, n);
        frame__store8(o, w);
        if ((m = frame__special8_exact(w) & (FRAME__HIGHS >> (8 * (8 - n)))) != 0) goto rest;
        o += n;
    }
    *o++ = '"';
    return o;
rest:
    return frame__write_rest(o, start, p, end, m, 1);
}

/* Appends `len` bytes of UTF-8 as a canonical JSON string; returns 1 if
 * they are not UTF-8 (and the string is then left unfinished), else 0. */
static FRAME__INLINE int frame__put_string(frame_builder *b, const frame__u8 *p, size_t len) {
    const frame__u8 *end = p + len, *run = p;
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
            size_t n = frame__utf8_seq(q, end);
            if (!n) return 1;
            p = q + n;
            continue;
        }
        frame__put(b, run, (size_t)(q - run));
        if (q == end) break;
        frame__put_char(b, *q);
        run = p = q + 1;
    }
    frame__put(b, "\"", 1);
    return 0;
}

/* The 8 decimal digits of v (below 10^8) as the values 0 to 9, the first
 * digit in the lowest byte: halves, quarters, then single digits, each
 * split in all lanes of the word at once by multiplying with a reciprocal
 * (exact for these ranges: x * 10486 >> 20 is x / 100 below 43,699, and
 * x * 103 >> 10 is x / 10 below 179). Three multiplications where a digit a
 * step takes eight divisions. */
static FRAME__INLINE uint64_t frame__decimal8(uint32_t v) {
    uint64_t halves = (uint64_t)(v / 10000) | (uint64_t)(v % 10000) << 32;
    uint64_t hundreds = ((halves * 10486u) >> 20) & 0x0000007f0000007full;
    uint64_t quarters = (halves - 100u * hundreds) << 16 | hundreds;
    uint64_t tens = ((quarters * 103u) >> 10) & 0x000f000f000f000full;
    return (quarters - 10u * tens) << 8 | tens;
}

/* Writes v in decimal, ending at end (which has 20 bytes before it); returns
 * its start. 8 digits a store, leading zeros of the first group stored too,
 * in front of the start. */
static FRAME__INLINE char *frame__format(char *end, uint64_t v) {
    uint64_t d;
    if (v >= 100000000u) {
        uint64_t q = v / 100000000u;
        frame__store8((frame__u8 *)end - 8, frame__decimal8((uint32_t)(v - q * 100000000u)) | FRAME__ONES * '0');
        end -= 8;
        v = q;
        if (v >= 100000000u) {
            /* Above 10^16, 4 digits at most are left: a store of 8 would
             * go before the caller's 20 bytes. */
            q = v / 100000000u;
            frame__store8((frame__u8 *)end - 8, frame__decimal8((uint32_t)(v - q * 100000000u)) | FRAME__ONES * '0');
            end -= 8;
            do *--end = (char)('0' + q % 10);
            while ((q /= 10) != 0);
            return end;
        }
    }
    d = frame__decimal8((uint32_t)v);
    frame__store8((frame__u8 *)end - 8, d | FRAME__ONES * '0');
    /* Digits are at most 9: adding 0x7f sets a byte's top bit, with no
     * carry, exactly when it is not 0. Zero itself keeps its last digit. */
    return end - 8 + (d ? frame__first_flag((d + FRAME__ONES * 0x7f) & FRAME__HIGHS) : 7);
}

/*
 * The name set: finds a duplicate name in time that does not grow with the
 * member count. An open-addressing hash table (linear probing) of the
 * top-level names written so far, the size member's included, kept at the
 * tail of the caller's buffer and growing downward, slot j in the 8 bytes
 * that end (j + 1) * 8 bytes before top = buf + cap - 16: {the name's
 * offset in the header (its opening quote; 0 = an empty slot), the name's
 * hash}. The 16 bytes above the table hold two words for the lean path
 * (frame__add_named), so that it asks neither the config nor the count:
 *
 *   top:     the table's shape: its slots - 1, the prefix's width
 *            (which header offsets are counted from) above them, and the
 *            generation bit of its entries (frame__set_grow)
 *   top + 8: its bound: a member that ends more than 8 bytes before it
 *            fits the header's limit (frame__limit, or cap) and leaves the
 *            table where it is; 0 while the table is not kept
 *
 * frame_builder is ABI, so nothing of the set lives there: its capacity is
 * derived from _members (frame__set_slots), and whether it is kept is derived from _len: it is
 * while the header, 8 bytes that a member's last store may go over, the
 * table and the two words all fit. Both only grow, so once a member crowds
 * the table out, it stays out, and the scan below takes over (slower, same
 * answers; never an error of its own). Members may use the whole buffer.
 * The table is needed until finish only: after it the tail is free for
 * frame_write() to copy the body behind the head. Names of objects nested
 * in values are not members and are not in it.
 *
 * A key is the hash of the decoded name, whether it came as bytes
 * (frame_builder_add_*) or as a JSON string (add_members), so "a" and
 * "\u0061" meet; a match is confirmed by comparing decoded names. The size
 * member's name is found too, so that the lean path hands it to frame__add
 * (which tells RESERVED_NAME) without a check of its own. Size builds keep
 * the scan: the table would cost code.
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
 * 2, at least 32 (256 bytes: a header of up to 24 members, most, never has
 * it grow) and enough to be at most three quarters full. */
#if FRAME_MAX_MEMBERS > 768
#error "frame__set_slots() must stop at 2048"
#endif
static FRAME__INLINE size_t frame__set_slots(unsigned members) {
    /* members: 1 to FRAME_MAX_MEMBERS (512) */
    size_t slots = 32;
    while (4 * (size_t)members > 3 * slots) slots *= 2;
    return slots;
}

/* The generation bit of the entries of a table of `slots` slots: the
 * parity of log2(slots). */
static FRAME__INLINE uint64_t frame__set_gen(size_t slots) {
    return (slots & 0x55555555u) ? FRAME__GEN : 0;
}

/* Whether the table is kept: the header, 8 bytes that a member's last
 * store may go over (frame__write_string_slack), the table and the two
 * words above it fit in the buffer. */
static FRAME__INLINE int frame__set_kept(const frame_builder *b, unsigned members) {
    return b->_cap - b->_len >= (frame__set_slots(members) + 3) * FRAME__SLOT;
}

/* The top of the table: the shape word, then the bound (see above). */
static FRAME__INLINE frame__u8 *frame__set_top(const frame_builder *b) {
    return b->_buf + b->_cap - 2 * FRAME__SLOT;
}

/* Where the header (the closing brace not counted) must end, as an offset
 * in the buffer: at cap, or before max_header, whichever comes first. */
static size_t frame__set_stop(const frame_builder *b) {
    const frame_config *cfg = b->_cfg;
    /* frame__limit(cfg, 0) is the default max_header, without the call,
     * when the prefix holds 32 bits or more (widths 0 = 4, 4 and 8 of a
     * checked config). */
    uint64_t end = frame__width(cfg) + (!cfg->max_header && !(cfg->prefix_width & 3u) ? FRAME_DEFAULT_MAX_HEADER
                                                                                        : frame__limit(cfg, 0));
    return end < b->_cap ? (size_t)end : b->_cap;
}

/* Writes the two words above a kept table of `slots` slots; the header
 * must end before `stop` (frame__set_stop). */
static void frame__set_words(frame_builder *b, size_t slots, size_t stop) {
    frame__u8 *top = frame__set_top(b);
    uint64_t shape = frame__set_gen(slots) | (uint64_t)frame__width(b->_cfg) << 32 | (slots - 1);
    uint64_t bound = b->_cap - (slots + 2) * FRAME__SLOT;
    if (bound > stop) bound = stop;
    memcpy(top, &shape, FRAME__SLOT);
    memcpy(top + FRAME__SLOT, &bound, FRAME__SLOT);
}

/* Zeroes the bound, once the table is not kept, while it lies behind the
 * header: then the lean path stays off for good (it reads the bound only
 * there). */
static void frame__set_drop(frame_builder *b) {
    if (b->_cap - b->_len >= 2 * FRAME__SLOT) memset(frame__set_top(b) + FRAME__SLOT, 0, FRAME__SLOT);
}

/* Slot j ends j * 8 bytes before top. */
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
    const frame__u8 *top = frame__set_top(b), *end = b->_buf + b->_len;
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

/* The lean path's search of the table of the given shape word: the empty
 * slot where the name hashed to `hash` would go, or FRAME__FOUND when an
 * entry has the same hash (most likely the same name, which frame__add
 * then compares). No call in its loop, so that it needs no registers
 * saved. */
static FRAME__INLINE size_t frame__set_probe(const frame__u8 *top, uint64_t shape, uint32_t hash) {
    size_t mask = (uint32_t)shape, j = hash & mask;
    uint64_t e;
    for (; (e = frame__slot_get(top, j)) != 0; j = (j + 1) & mask)
        if (((uint32_t)(e >> 32) & 0x7fffffffu) == hash) return FRAME__FOUND;
    return j;
}

/* Grows the table at top from `slots` slots to `want`, twice as many at a
 * step, rehashing it in place from its own entries. The new slots
 * [slots, 2 slots) start empty. An entry carries the generation bit of the
 * table it was placed in, and the bit flips at each step: the old entries
 * are the ones still to place. Each goes to the first slot of its probe
 * run that is empty or holds one still to place (which then takes its old
 * slot, and is placed next). A placed entry only ever passes placed ones,
 * so no slot it passed is emptied later: every search finds it. */
static void frame__set_grow(frame__u8 *top, size_t slots, size_t want) {
    for (; slots < want; slots *= 2) {
        size_t mask = 2 * slots - 1, i, j;
        uint64_t gen = frame__set_gen(2 * slots), e, f;
        memset(top - 2 * slots * FRAME__SLOT, 0, slots * FRAME__SLOT);
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
 * now asks for, when that is more. Nothing but the bound's end when the
 * header has crowded it out. */
static void frame__set_put(frame_builder *b, unsigned before, uint32_t off, uint32_t hash) {
    size_t slots = frame__set_slots(b->_members), mask = slots - 1, j, old = frame__set_slots(before);
    frame__u8 *top = frame__set_top(b);
    if (!frame__set_kept(b, b->_members)) {
        frame__set_drop(b);
        return;
    }
    if (old < slots) {
        frame__set_grow(top, old, slots);
        frame__set_words(b, slots, frame__set_stop(b));
    }
    for (j = hash & mask; frame__slot_get(top, j); j = (j + 1) & mask)
        ;
    frame__slot_set(top, j, frame__set_gen(slots) | (uint64_t)hash << 32 | off);
}

/* The hash of the size member's name, the default's without a call. */
static FRAME__INLINE uint32_t frame__size_hash(const frame_config *cfg) {
    const char *name = cfg->size_name;
    return name ? frame__hash_bytes((const frame__u8 *)name, strlen(name))
                : frame__hash_bytes((const frame__u8 *)"size", 4);
}

/* Starts the table with the size member's name, which init has written
 * (its opening quote is the header's second byte), when there is room for
 * it; else only zeroes the bound. */
static void frame__set_start(frame_builder *b, size_t stop) {
    frame__u8 *top = frame__set_top(b);
    size_t slots = frame__set_slots(1);
    uint32_t hash;
    if (!frame__set_kept(b, 1)) {
        frame__set_drop(b);
        return;
    }
    memset(top - slots * FRAME__SLOT, 0, slots * FRAME__SLOT);
    frame__set_words(b, slots, stop);
    hash = frame__size_hash(b->_cfg);
    frame__slot_set(top, hash & (slots - 1), frame__set_gen(slots) | (uint64_t)hash << 32 | 1);
}

static void frame__set_clear(frame_builder *b) { frame__set_start(b, frame__set_stop(b)); }

/* Notes the member frame__add wrote at `mark` (its comma), named as hashed
 * by frame__check_member: kept now, the table was kept then. */
static void frame__set_note(frame_builder *b, unsigned before, size_t mark, uint32_t hash) {
    frame__set_put(b, before, (uint32_t)(mark + 1 - frame__width(b->_cfg)), hash);
}

/* Decides what it can of frame__check_member(b, name, n, kind, hash), for
 * a builder with no error, unfinished, with members (name not NULL), and
 * json telling whether name is a JSON string: with the name table, or by
 * a quick search of the header for most plain names. Returns the error
 * (recorded), FRAME_OK, or -1 when frame__check_member must search the
 * header the slow way. */
static int frame__check_quick(frame_builder *b, const char *name, size_t n, int kind, int json,
                              uint32_t *hash) {
    const frame__u8 *u = (const frame__u8 *)name;
    {
        const char *size = frame__size_name(b->_cfg);
        size_t size_len = strlen(size);
        if (json ? frame__string_equals_bytes(u, u + n, (const frame__u8 *)size, size_len)
                 : n == size_len && memcmp(name, size, n) == 0)
            return (int)frame__builder_fail(b, FRAME_E_RESERVED_NAME);
    }
    if (b->_members >= FRAME_MAX_MEMBERS) return (int)frame__builder_fail(b, FRAME_E_TOO_MANY_MEMBERS);
    if (frame__set_kept(b, b->_members)) {
        /* A fresh name is put in the table all the same. The size member's
         * name, there too, is not met: it was told apart above. */
        *hash = json ? frame__hash_string(u, u + n) : frame__hash_bytes(u, n);
        if (kind != FRAME__FRESH &&
            frame__set_find(b, frame__set_slots(b->_members) - 1, *hash, u, n, json) == FRAME__FOUND)
            return (int)frame__builder_fail(b, FRAME_E_DUPLICATE_NAME);
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
                return (int)frame__builder_fail(b, FRAME_E_DUPLICATE_NAME);
            p++;
        }
        return FRAME_OK;
    }
    return -1;
}

/* Whether a member of an n-byte name and a len-byte value surely fits in
 * `room` bytes: escaping makes a byte 6 at most, so the member takes less
 * than 6 * (n + len + 5), and more than 8 bytes stay free behind it. */
static FRAME__INLINE int frame__surely_fits(size_t room, size_t n, size_t len) {
    size_t q = room / 6;
    return n + 4 < q && len < q - n - 4;
}

/* Whether frame__add must measure the member it writes at mark first: it
 * may not fit the buffer or max_header. */
static FRAME__INLINE int frame__dry_needed(const frame_builder *b, size_t mark, size_t n, size_t len) {
    size_t room = b->_cap - mark;
    size_t left = (size_t)frame__limit(b->_cfg, 0) - frame__header_len(b);
    return !frame__surely_fits(room < left ? room : left, n, len);
}

/* Copies the len bytes at v to o with 8-byte stores, the last of which may
 * go up to 8 bytes past; returns the end of the copy. */
static FRAME__INLINE frame__u8 *frame__copy_slack(frame__u8 *o, const void *v, size_t len) {
    const frame__u8 *p = (const frame__u8 *)v;
    size_t i;
    for (i = 0; len - i >= 8; i += 8) frame__store8(o + i, frame__load64(p + i));
    frame__store8(o + i, frame__load_tail(p, p + len, len - i));
    return o + len;
}

/* The same for a number or a literal (20 bytes at most) whose last 8
 * bytes, or the bytes before it to make 8, may be read (frame__add_number's
 * buffer, frame__add_literal's padding): its tail in one load. */
static FRAME__INLINE frame__u8 *frame__copy_text_slack(frame__u8 *o, const void *v, size_t len) {
    const frame__u8 *p = (const frame__u8 *)v;
    size_t i;
    uint64_t w = 0;
    for (i = 0; len - i >= 8; i += 8) frame__store8(o + i, frame__load64(p + i));
    if (len > i) w = frame__load64(p + len - 8) >> (8 * (8 - (len - i)));
    frame__store8(o + i, w);
    return o + len;
}

/*
 * frame__add for a NUL-terminated name and a value of kind FRAME__TEXT,
 * FRAME__INT64 (text as it is, read as frame__copy_text_slack reads it) or
 * FRAME__STRING: a member that surely ends more than 8 bytes before the
 * bound (so while the name table is kept) is checked with the table and
 * written straight into the buffer. Anything else - an argument or earlier
 * error, init's size member, a member that has to be measured first or
 * needs the table to move, the size member's name, a duplicate - goes to
 * frame__add. Same checks, same order, same answers.
 */
static FRAME__INLINE frame_errno frame__add_named(frame_builder *b, const char *name, int kind, const void *value,
                                                  size_t len) {
    size_t n, mark, j;
    uint64_t bound, shape, w = 0;
    int short_name;
    unsigned members;
    uint32_t hash, off;
    frame__u8 *o, *top;
    if (!b || !name || !value || b->_errno || b->_finished) return frame__add(b, name, (size_t)-1, kind, value, len);
    n = strlen(name);
    mark = b->_len;
    members = b->_members; /* 0: the raw profile, or init's size member */
    /* The words above the table are read only where they are: with
     * members (else there is no table), and behind the header. */
    if (members - 1u >= FRAME_MAX_MEMBERS - 1u || b->_cap - mark < 2 * FRAME__SLOT)
        return frame__add(b, name, n, kind, value, len);
    top = frame__set_top(b);
    memcpy(&bound, top + FRAME__SLOT, FRAME__SLOT);
    /* Escaping makes a byte 6 at most; a comma, a colon and 4 quotes make
     * 6 more, then 8 bytes for the last store. (Lengths of 64 KiB and
     * more go to frame__add, and the sum is in 64 bits: it cannot wrap,
     * with a 32-bit size_t either.) */
    if ((n | len) >> 16 || (uint64_t)mark + 6 * (n + len) + 14 >= bound)
        return frame__add(b, name, n, kind, value, len);
    memcpy(&shape, top, FRAME__SLOT);
    /* A name of 1 to 8 bytes (most) is read once, as one word, for its
     * hash (frame__hash_bytes's) and for writing it. */
    short_name = n - 1 < 8;
    if (short_name) {
        uint64_t h = 0;
        w = frame__load_tail((const frame__u8 *)name, (const frame__u8 *)name + n, n);
        FRAME__MIX(h, w);
        hash = frame__hash_end(h, n);
    } else {
        hash = frame__hash_bytes((const frame__u8 *)name, n);
    }
    j = frame__set_probe(top, shape, hash);
    if (j == FRAME__FOUND) return frame__add(b, name, n, kind, value, len);
    b->_members = members + 1; /* ahead of the member, as in frame__add */
    o = b->_buf + mark + 1;
    if (short_name && !(frame__special8_exact(w) & (FRAME__HIGHS >> (8 * (8 - n))))) {
        o[0] = '"';
        frame__store8(o + 1, w);
        o += n + 1;
        *o++ = '"';
    } else {
        o = frame__write_string_slack(o, (const frame__u8 *)name, n);
    }
    if (o) {
        *o++ = ':';
        /* A number or a literal (20 bytes at most) is written as it is. */
        o = kind == FRAME__STRING ? frame__write_string_slack(o, (const frame__u8 *)value, len)
                                  : frame__copy_text_slack(o, value, len);
    }
    if (!o) return frame__builder_fail(b, FRAME_E_BAD_UTF8);
    b->_buf[mark] = ',';
    b->_len = (size_t)(o - b->_buf);
    off = (uint32_t)(mark + 1 - (size_t)(shape >> 32 & 0xff));
    /* Into the slot found empty, unless the table must grow (frame__set_put
     * sees to that, and to the words above it). */
    if (4 * (size_t)(members + 1) <= 3 * ((size_t)(uint32_t)shape + 1))
        frame__slot_set(top, j, (shape & FRAME__GEN) | (uint64_t)hash << 32 | off);
    else
        frame__set_put(b, members, off, hash);
    return FRAME_OK;
}

/* NULL stands for the defaults, which need no check. */
#define frame__config_check_quick(given, cfg) ((given) ? frame_config_check(given) : FRAME_OK)

#define frame__max_body_quick frame__body_limit

/* Writes the prefix of `value` (frame__put_prefix), at once for the
 * defaults' 4 octets, little-endian. */
static FRAME__INLINE void frame__put_prefix_quick(frame__u8 *out, const frame_config *cfg, uint64_t value) {
    if ((cfg->prefix_width | 4u) != 4u || cfg->big_endian) {
        frame__put_prefix(out, cfg, value);
        return;
    }
    out[0] = (frame__u8)value;
    out[1] = (frame__u8)(value >> 8);
    out[2] = (frame__u8)(value >> 16);
    out[3] = (frame__u8)(value >> 24);
}

/* Writes {"size":N at once and starts the name set, when that surely fits
 * (the size name needs no escaping: frame_config_check); else writes
 * nothing and returns 0, and init adds the size member with frame__add. */
static int frame__start_quick(frame_builder *b, uint64_t body_size) {
    const char *name = b->_cfg->size_name;
    size_t n = name ? strlen(name) : 4, mark = b->_len, stop = frame__set_stop(b), len;
    char t[20], *d = frame__format(t + sizeof t, body_size);
    frame__u8 *o = b->_buf + mark;
    len = (size_t)(t + sizeof t - d);
    if (!frame__surely_fits(stop - mark, n, len)) return 0;
    if (name) {
        o[0] = '{';
        o[1] = '"';
        o = frame__copy_slack(o + 2, name, n);
        o[0] = '"';
        o[1] = ':';
        o += 2;
    } else {
        /* The default's {"size": is 8 bytes: one store. */
        frame__store8(o, frame__load64((const frame__u8 *)"{\"size\":"));
        o += 8;
    }
    o = frame__copy_text_slack(o, d, len);
    b->_len = (size_t)(o - b->_buf);
    b->_members = 1;
    frame__set_start(b, stop);
    return 1;
}

/* How frame__add writes a literal or a number: as it is (it is canonical),
 * copied whole. */
#define FRAME__AS_LITERAL FRAME__AS_IS
static FRAME__INLINE int frame__put_as_is(frame_builder *b, const frame__u8 *p, size_t n) {
    frame__put(b, p, n);
    return 1;
}

/* Notes a value of the given kind that may hold objects: their names would
 * look like members to frame__check_quick's search of the header. */
static FRAME__INLINE void frame__note_nested(frame_builder *b, int kind, const frame__u8 *s, size_t len) {
    if (kind != FRAME__STRING && memchr(s, '{', len)) b->_nested = 1;
}

/* The names of a validated object differ from each other and, but for the
 * size member (left out), from a builder's that holds only that: copied
 * into such a builder, they are FRAME__FRESH, and frame__check_quick
 * compares them with the size member's name only. */
static FRAME__INLINE int frame__copy_kind(const frame_builder *b) {
    return b->_members == 1 ? FRAME__FRESH : FRAME__MEMBER;
}

#endif /* FRAME_BUILDER_FAST_H */
