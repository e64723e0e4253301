/*
 * lib/walk_states.h: the header validator's walk over the tokens, speed
 * variant (see json.c): one label per state, so that each token is only
 * compared with what may come there. Names go to a hash table
 * (names_table.h). A header's top-level members go first through a fast
 * lane: for a short header (16 to 64 bytes) whose strings are all plain,
 * stage one marks its quotes and frame__lane_short walks from mark to mark;
 * otherwise, or where that stops, frame__lane's plain tier. A longer header
 * goes to its block tier instead: stage one by blocks of 64 bytes
 * (walk_blocks.h) marks its string ends and checks escapes and UTF-8 in
 * bulk. Where those stop, the full tier, then the general states, each
 * going on where the one before stopped.
 */
#include "names_table.h"
#include "walk_blocks.h"

/* The key of "size", the default size name, as frame__name_key_of makes
 * it: its bytes from the lowest, its length in the top byte. */
#define FRAME__SIZE_KEY ((uint64_t)4 << 56 | (uint64_t)'e' << 24 | (uint64_t)'z' << 16 | (uint64_t)'i' << 8 | 's')

/* The first byte in [p, end) that is not an ASCII digit, or end, in a
 * text that begins at start: fewer than 8 bytes before the end (the number
 * that ends a header) are read as one word too (frame__load_tail). */
static FRAME__INLINE const frame__u8 *frame__lane_digits(const frame__u8 *start, const frame__u8 *p,
                                                        const frame__u8 *end) {
    size_t left = (size_t)(end - p);
    if (left >= 8) return frame__kernel_digits(p, end);
    /* The bytes past end read as 0, which is no digit. */
    return p + frame__first_flag(~frame__digit8(frame__load_tail(start, end, left)) & FRAME__HIGHS);
}

/* Whether a number's digits that end at q go on with a fraction or an
 * exponent, which the lane leaves to the walk. */
#define FRAME__LANE_FRACTION(q) (*(q) == '.' || (*(q) | 0x20) == 'e')

/* Past the digits of an integer whose first digit is before p, or NULL
 * when a fraction or an exponent follows (the walk takes that number). */
static FRAME__INLINE const frame__u8 *frame__lane_integer(const frame__u8 *start, const frame__u8 *p,
                                                         const frame__u8 *end) {
    const frame__u8 *q = frame__lane_digits(start, p, end);
    return FRAME__LANE_FRACTION(q) ? NULL : q;
}

/* The size member's value at p, read into job->size: past it, or NULL when
 * the lane does not take it (not 1 to 16 digits, a leading zero, a
 * fraction or exponent, over the limit), for the walk's size state to
 * report. 16 digits at most are below 2^53, and no overflow. */
static FRAME__INLINE const frame__u8 *frame__lane_size(frame__json_job *job, const frame__u8 *p,
                                                      const frame__u8 *end) {
    const frame__u8 *q;
    uint64_t w, other;
    size_t n;
    if ((size_t)(end - p) >= 8) {
        /* Up to 7 digits, the common case, from one word; q is then
         * before end. The same checks as the digit scan's below: kept
         * apart, as the one-word path costs 7-10 instructions more per
         * small frame when the two share their checks. */
        w = frame__load64(p);
        if ((other = ~frame__digit8(w) & FRAME__HIGHS) != 0) {
            n = frame__first_flag(other);
            q = p + n;
            if (!n || FRAME__LANE_FRACTION(q) || (*p == '0' && n > 1)) return NULL;
            job->size = frame__digits_value8(w, n);
            return job->size > frame__body_limit(job->cfg) ? NULL : q;
        }
    }
    if (*p < '0' || *p > '9' || !(q = frame__lane_integer(job->start, p + 1, end)) || q - p > 16 ||
        (*p == '0' && q != p + 1))
        return NULL;
    job->size = frame__digits_value(p, q);
    return job->size > frame__body_limit(job->cfg) ? NULL : q;
}

/* Where the walk goes on after the fast lane: a state of the walk, or
 * (from the lane's plain and block tiers) the full tier, at a name or at a
 * value; or, for a header of more than 64 bytes, the block tier. */
enum {
    FRAME__TO_NAME,
    FRAME__TO_COLON,
    FRAME__TO_SIZE,
    FRAME__TO_VALUE,
    FRAME__TO_NEXT,
    FRAME__TO_DONE,
    FRAME__TO_FULL_NAME,
    FRAME__TO_FULL_VALUE,
    FRAME__TO_BLOCKS
};

/* What the fast lane starts from and leaves for the walk: the walk's
 * variables of the same names. */
typedef struct frame__lane_state {
    const frame__u8 *p, *at;
    unsigned nnames, size_level, is_size;
    uint64_t size_key; /* the size name's key (frame__name_key) */
    const char *size_name;
} frame__lane_state;

/* Past a name at p that ends at q (its closing quote): 1 with p and at
 * past its colon, else 0 with p past the name and at at its quote, where
 * the walk's colon state reports what stands there. */
static FRAME__INLINE int frame__lane_colon(const frame__u8 **p, const frame__u8 **at, const frame__u8 *q) {
    *at = *p;
    *p = q + 1;
    if (q[1] != ':') return 0;
    *at = *p = q + 2;
    return 1;
}

/* Whether a plain name at p, of len bytes and key `key`, is the size
 * member's: its key is (and, past 8 bytes, its bytes are). */
static FRAME__INLINE int frame__lane_is_size(const frame__lane_state *l, const frame__u8 *p, size_t len,
                                             uint64_t key) {
    return key == l->size_key && (len < 8 || memcmp(p + 1, l->size_name, len) == 0);
}

/* Past a member's value, which ends at q: FRAME__TO_NAME with p past its
 * comma when a member follows, else the walk's state after a value, or
 * the header's end (p past its closing brace) when that brace is its last
 * byte. */
static FRAME__INLINE unsigned frame__lane_next(const frame__u8 **p, const frame__u8 *q, const frame__u8 *end) {
    if (*q == ',') {
        *p = q + 1;
        return FRAME__TO_NAME;
    }
    *p = q + 1 == end ? end : q;
    return q + 1 == end ? FRAME__TO_DONE : FRAME__TO_NEXT;
}

/* What a lane leaves for the walk (the walk's variables of these names),
 * having counted its members (no more than FRAME__LANE). */
static FRAME__INLINE void frame__lane_leave(frame__json_job *job, frame__lane_state *l, const frame__u8 *p,
                                            const frame__u8 *at, unsigned first, unsigned nnames, unsigned is_size,
                                            unsigned size_level) {
    job->members += nnames - first;
    l->p = p;
    l->at = at;
    l->nnames = nnames;
    l->is_size = is_size;
    l->size_level = size_level;
}

/*
 * The fast lane, from just past a header's '{': members as compact text
 * commonly has them (no white space), with no state per token. At
 * anything else it returns the state of the walk that takes it from there,
 * with what it recorded: nothing is read twice but a string found wrong,
 * which the walk then reports. It runs only when the header's last byte is
 * '}', which stops every scan but a string's before the end: where it reads
 * a byte after a name, a string, a number or a literal, there is one.
 *
 * In two tiers, both this loop and both for up to FRAME__LANE names. The
 * plain tier (full = 0, inline in the walk) takes plain names, plain
 * strings and positive integers, and hands anything else to the full tier
 * (full = 1, out of line: frame__lane_full), which goes on from that name
 * or value (from_value) with strings with escapes or UTF-8, negative
 * integers and literals too. The block tier (full = 1 with blocks, out of
 * line: frame__lane_blocks) takes what the full tier takes, each string's
 * end found in stage one's marks; it hands the full tier a string that
 * runs into a block stage one did not take, and any value it does not
 * take.
 */
static FRAME__INLINE unsigned frame__lane(frame__json_job *job, frame__names *names, frame__lane_state *l,
                                          const frame__u8 *end, int full, int from_value, frame__blocks *blocks) {
    const frame__u8 *p = l->p, *q, *at = l->at, *special;
    unsigned first = l->nnames, nnames = first, go = FRAME__TO_NAME, is_size = 0, size_level = l->size_level;
    uint64_t key = 0;
    uint32_t hash;
    size_t len, n;
    frame__u8 c;
    if (from_value) goto value;
    for (;;) {
        if (nnames == FRAME__LANE || *p != '"') break;
        q = blocks ? frame__blocks_find(blocks, p + 1, 1) : frame__plain_run(p + 1, end);
        if (!q) {
            go = FRAME__TO_FULL_NAME;
            break;
        }
        len = (size_t)(q - p - 1);
        if (q < end && *q == '"') {
            key = frame__name_key(p + 1, len, end);
            if (frame__names_lane(names, p, key, nnames)) break;
            is_size = size_level && frame__lane_is_size(l, p, len, key);
        } else if (!full) {
            go = FRAME__TO_FULL_NAME;
            break;
        } else {
            /* Escapes or UTF-8: the key of its decoded bytes, q its closing
             * quote; escapes that stage one took are decoded unchecked */
            if (blocks) {
                if (!(q = frame__blocks_name_key(blocks, p, q, &key))) {
                    go = FRAME__TO_FULL_NAME;
                    break;
                }
            } else {
                special = q;
                q = p;
                if (frame__string_hash_from(&q, special, end, &hash, &key)) break;
                q--;
            }
            if (frame__names_lane(names, p, key, nnames)) break;
            is_size = size_level && key == l->size_key &&
                      frame__string_equals_bytes(p, end, (const frame__u8 *)l->size_name, strlen(l->size_name));
        }
        nnames++;
        if (!frame__lane_colon(&p, &at, q)) {
            go = FRAME__TO_COLON;
            break;
        }
    value: /* at == p */
        c = *p;
        if (is_size) {
            if (!(q = frame__lane_size(job, p, end))) {
                go = FRAME__TO_SIZE;
                break;
            }
            is_size = size_level = 0;
        } else if (c == '"') {
            if (blocks) {
                q = frame__blocks_find(blocks, p + 1, 0);
                if (q) q++;
            } else if (full) {
                q = p;
                if (frame__string_check(&q, end)) q = NULL;
            } else {
                q = frame__plain_run(p + 1, end);
                q = q < end && *q == '"' ? q + 1 : NULL;
            }
        } else if (*(q = p + (full & (c == '-'))) >= '1' && *q <= '9') {
            /* an integer; negative in the full tiers (p[1] is before the
             * end, as '}' ends the text) */
            q = frame__lane_integer(job->start, q + 1, end);
        } else if (!full) {
            q = NULL;
        } else {
            /* a literal (frame__literals); anything else is no literal */
            n = c == 'f' ? 5u : 4u;
            q = (size_t)(end - p) >= n &&
                        frame__load4(p) == frame__load4((const frame__u8 *)frame__literals + ((c - 'f') & 15u)) &&
                        (n == 4 || p[4] == 'e')
                    ? p + n
                    : NULL;
        }
        if (!q) { /* a value this tier does not take */
            go = full && !blocks ? FRAME__TO_VALUE : FRAME__TO_FULL_VALUE;
            break;
        }
        if ((go = frame__lane_next(&p, q, end)) != FRAME__TO_NAME) break;
    }
    frame__lane_leave(job, l, p, at, first, nnames, is_size, size_level);
    return go;
}

/* The lane's full tier, out of line: most headers never need it. A copy of
 * the lane's state comes here, so that the walk keeps its own in
 * registers. */
static FRAME__NOINLINE unsigned frame__lane_full(frame__json_job *job, frame__names *names, frame__lane_state *l,
                                                 const frame__u8 *end, int from_value) {
    return from_value ? frame__lane(job, names, l, end, 1, 1, NULL) : frame__lane(job, names, l, end, 1, 0, NULL);
}

/* The lane's block tier, for a header of more than 64 bytes: the full
 * tier's members, each string's end its next quote of stage one's marks
 * (walk_blocks.h). Out of line, as the full tier. When stage one does not
 * take its first block, the full tier takes the header. */
static FRAME__NOINLINE unsigned frame__lane_blocks(frame__json_job *job, frame__names *names, frame__lane_state *l,
                                                   const frame__u8 *end) {
    frame__blocks b;
    if (!frame__blocks_start(&b, l->p, end)) return FRAME__TO_FULL_NAME;
    return frame__lane(job, names, l, end, 1, 0, &b);
}

/* A short header: 16 to 64 bytes, most headers on the wire. */
static FRAME__INLINE int frame__is_short(const frame__u8 *start, const frame__u8 *end) {
    return (size_t)(end - start) - 16u <= 48u;
}

/*
 * Stage one for a short header of n bytes at p: its quotes, a bit each (bit
 * i for p[i]), into *quotes, from four windows of 16 bytes, the last ending
 * at p + n, so that no byte outside is read. Returns its other special
 * bytes ('\\', controls, non-ASCII) the same way: 0 when every string in it
 * is plain.
 */
static FRAME__INLINE uint64_t frame__short_marks(const frame__u8 *p, size_t n, uint64_t *quotes) {
    size_t last = n - 16, mid1 = last < 16 ? last : 16, mid2 = last < 32 ? last : 32;
    uint64_t q = (uint64_t)frame__kernel_quotes16(p) | (uint64_t)frame__kernel_quotes16(p + mid1) << mid1 |
                 (uint64_t)frame__kernel_quotes16(p + mid2) << mid2 |
                 (uint64_t)frame__kernel_quotes16(p + last) << last;
    uint64_t s = (uint64_t)frame__kernel_special16(p) | (uint64_t)frame__kernel_special16(p + mid1) << mid1 |
                 (uint64_t)frame__kernel_special16(p + mid2) << mid2 |
                 (uint64_t)frame__kernel_special16(p + last) << last;
    *quotes = q;
    return s & ~q;
}

/*
 * The lane for a short header whose strings are all plain (stage one says
 * so): the plain tier's members, each string's end found as the next quote
 * of stage one's marks, not by a scan of its bytes, and each name told
 * apart from the earlier ones by comparing keys, not through lane[]: a
 * member takes 5 bytes at least, so fewer than 13 fit, far from
 * FRAME__LANE. Where the plain tier would hand over, or at a
 * name whose key an earlier one has, it stops, and records its names in
 * lane[] for the lane or the walk to go on from there (a header it takes
 * to the end needs no lane[]). Returns what frame__lane returns;
 * FRAME__TO_NAME: the plain tier goes on from l->p.
 */
static FRAME__INLINE unsigned frame__lane_short(frame__json_job *job, frame__names *names, frame__lane_state *l,
                                                const frame__u8 *end) {
    const frame__u8 *start = job->start, *p = l->p, *q, *at = l->at;
    unsigned first = l->nnames, nnames = first, go = FRAME__TO_NAME, is_size = 0, size_level = l->size_level, k;
    uint64_t quotes, key;
    size_t len;
    /* Only white space and '{' before p: its quotes are the header's. */
    if (frame__short_marks(start, (size_t)(end - start), &quotes)) return FRAME__TO_NAME;
    for (;;) {
        /* A name: its quote is the first of the marks left, and its end
         * the next (none: it never ends, which the walk reports). */
        if (*p != '"' || !(quotes &= quotes - 1)) break;
        q = start + frame__lowest_bit(quotes);
        len = (size_t)(q - p - 1);
        key = frame__name_key(p + 1, len, end);
        k = first;
        while (k < nnames && names->keys[k] != key) k++;
        if (k < nnames) break;
        names->keys[nnames] = key;
        names->off[nnames] = (uint32_t)(p - start);
        is_size = size_level && frame__lane_is_size(l, p, len, key);
        nnames++;
        quotes &= quotes - 1;
        if (!frame__lane_colon(&p, &at, q)) {
            go = FRAME__TO_COLON;
            break;
        }
        if (is_size) {
            if (!(q = frame__lane_size(job, p, end))) {
                go = FRAME__TO_SIZE;
                break;
            }
            is_size = size_level = 0;
        } else if (*p == '"') {
            q = (quotes &= quotes - 1) ? start + frame__lowest_bit(quotes) + 1 : NULL;
            quotes &= quotes - 1;
        } else if (*p >= '1' && *p <= '9') {
            q = frame__lane_integer(start, p + 1, end);
        } else {
            go = FRAME__TO_FULL_VALUE;
            break;
        }
        if (!q) {
            go = FRAME__TO_VALUE;
            break;
        }
        if ((go = frame__lane_next(&p, q, end)) != FRAME__TO_NAME) break;
    }
    if (go != FRAME__TO_DONE) frame__names_lane_index(names, first, nnames);
    frame__lane_leave(job, l, p, at, first, nnames, is_size, size_level);
    return go;
}

/*
 * A walk over the tokens, each state a label that knows what may come
 * next, so that a token is compared only with what may stand there. Each
 * state starts by skipping white space; then `at` is at the token looked at
 * (where most errors point) and c is its first byte (0 at the end). A
 * container's level remembers whether it is an array (bit 0) and the number
 * of its first name: the names of the open object are first .. nnames - 1.
 */
frame_errno frame__json_validate(frame__json_job *job) {
    const frame__u8 *p = job->start, *end = job->end, *at = p;
    frame__names names;
    uint16_t open[FRAME_MAX_DEPTH + 1];
    unsigned nnames = 0, level = 0, part = 0, is_size = 0;
    /* The level whose names may still be the size member: 1 in a header
     * until it is found, else none. */
    unsigned size_level = job->header ? 1u : 0u;
    const char *size_name = frame__size_name(job->cfg), *lit;
    /* The default name's length and key are constants: most headers
     * compute neither. */
    size_t size_len = job->cfg->size_name ? strlen(size_name) : 4u;
    frame__lane_state lane;
    unsigned go;
    frame__u8 c;
    frame_errno err = FRAME_OK;

    frame__names_init(&names, p, end);
    /* A short header that starts with its '{' (so neither a BOM nor white
     * space comes first) goes straight to the lane. */
    if (job->header && frame__is_short(p, end) && *p == '{') {
        open[level = 1] = 0;
        p++;
        goto lane;
    }
    if (frame__too_long((size_t)(end - p))) {
        err = FRAME_E_HEADER_TOO_LARGE;
        goto fail;
    }
    if (!job->header) goto value;
    if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        err = FRAME_E_BOM;
        goto fail;
    }
    /* A header is an object. */
    at = p = frame__kernel_ws(p, end);
    c = p < end ? *p : 0;
    if (c != '{') {
        if (frame__is_value_start(c)) err = FRAME_E_NOT_OBJECT;
        goto syntax;
    }
    goto container;

value_or_close: /* just past '[': a value, or the end of the array */
    at = p = frame__kernel_ws(p, end);
    if (p < end && *p == ']') {
        p++;
        goto closed;
    }
value: /* a value */
    at = p = frame__kernel_ws(p, end);
    c = p < end ? *p : 0;
    if (c == '"') {
        err = frame__value_string(&p, end);
        if (err) goto syntax_p;
    } else if (c == '-' || FRAME__IS_DIGIT(c)) {
        p = frame__number(p, end, &part);
        if (!FRAME__IS_DIGIT(p[-1])) goto syntax_p;
    } else if (c == '{' || c == '[') {
    container: /* at == p, at '{' or '[' */
        if (job->depth + level >= FRAME_MAX_DEPTH) {
            err = FRAME_E_TOO_DEEP;
            goto fail;
        }
        open[++level] = (uint16_t)(nnames << 1 | (c == '['));
        p++;
        if (c == '[') goto value_or_close;
        if (level == 1 && job->header) goto lane;
    object: /* just past '{' */
        at = p = frame__kernel_ws(p, end);
        if (p < end && *p == '}') {
            p++;
            goto closed;
        }
        goto name;
    } else { /* a literal; anything else fails at its first byte */
        lit = frame__literals + ((c - 'f') & 15u);
        do
            if (p >= end || *p != (frame__u8)*lit) goto syntax_p;
        while (p++, *++lit);
    }

next: /* past a value: a comma, the end of its container, or of the text */
    at = p = frame__kernel_ws(p, end);
    if (!level) goto done;
    c = p < end ? *p : 0;
    if (c == ',') {
        p++;
        if (open[level] & 1) goto value;
        goto name;
    }
    if (c != '}' - ((open[level] & 1) << 5)) goto syntax; /* ']' is '}' - 32 */
    p++;
closed: /* past the '}' or ']' of the innermost container */
    nnames = open[level--] >> 1u;
    goto next;

name: /* a member's name */
    at = p = frame__kernel_ws(p, end);
    if (p >= end || *p != '"') goto syntax;
    if (++job->members > FRAME_MAX_MEMBERS) {
        err = FRAME_E_TOO_MANY_MEMBERS;
        goto fail;
    }
    err = frame__names_add(&names, &p, end, open[level] >> 1u, nnames, 1);
    if (err) goto syntax_p; /* a duplicate leaves p at its quote */
    nnames++;
    is_size = level == size_level && frame__name_is(at, p, end, size_name, size_len);
colon: /* past a name; is_size: the size member's */
    at = p = frame__kernel_ws(p, end);
    if (p >= end || *p != ':') goto syntax;
    p++;
    if (is_size) goto size;
    goto value;

lane: /* just past a header's '{' */
    if (end[-1] != '}') goto object; /* the walk takes it all */
    lane.p = p;
    lane.nnames = nnames;
    lane.size_level = size_level;
    lane.size_key = job->cfg->size_name ? frame__name_key_of(size_name, size_len) : FRAME__SIZE_KEY;
    lane.size_name = size_name;
    lane.at = p;
    go = FRAME__TO_NAME;
    if (frame__is_short(job->start, end)) go = frame__lane_short(job, &names, &lane, end);
    else if (end - job->start > 64) go = FRAME__TO_BLOCKS;
    if (go == FRAME__TO_NAME) go = frame__lane(job, &names, &lane, end, 0, 0, NULL);
    if (go >= FRAME__TO_FULL_NAME) {
        frame__lane_state full = lane;
        if (go == FRAME__TO_BLOCKS) go = frame__lane_blocks(job, &names, &full, end);
        if (go >= FRAME__TO_FULL_NAME) go = frame__lane_full(job, &names, &full, end, go == FRAME__TO_FULL_VALUE);
        lane = full;
    }
    p = lane.p;
    at = lane.at;
    nnames = lane.nnames;
    size_level = lane.size_level;
    is_size = lane.is_size;
    switch (go) {
    case FRAME__TO_NAME: if (!nnames) goto object; goto name;
    case FRAME__TO_COLON: goto colon;
    case FRAME__TO_SIZE: goto size;
    case FRAME__TO_VALUE: goto value;
    case FRAME__TO_NEXT: goto next;
    default: /* FRAME__TO_DONE: the header's closing brace was its last byte */
        level = 0;
        at = p;
        goto done;
    }

size: /* the size member's value: a decimal integer, checked as soon as read */
    at = p = frame__kernel_ws(p, end);
    c = p < end ? *p : 0;
    if (!FRAME__IS_DIGIT(c)) {
        if (frame__is_value_start(c)) err = FRAME_E_SIZE_INVALID;
        goto syntax;
    }
    p = frame__number(p, end, &part);
    if (!FRAME__IS_DIGIT(p[-1])) goto syntax_p;
    is_size = size_level = 0;
    if (part) {
        err = FRAME_E_SIZE_INVALID;
        goto fail;
    }
    frame__decimal(at, p, &job->size); /* saturated when it does not fit */
    if (job->size > frame__body_limit(job->cfg)) {
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
