/*
 * lib/names_tags.h: the validator's name set of FRAME_SMALL builds (see
 * json.c): each name's offset and a 16-bit hash of its decoded bytes;
 * names are compared only when their tags agree.
 */

typedef struct frame__names {
    uint16_t tags[FRAME_MAX_MEMBERS];
    uint32_t off[FRAME_MAX_MEMBERS]; /* from the start of the text */
} frame__names;

/* Inline: the size walker decodes every string through one call site. */

/* Decodes the string at *pp through the string iterator, hashing its bytes
 * into *hash, and leaves *pp at its closing quote, or at the offending byte.
 * Returns the iterator's last answer: -1 at the closing quote, else -1 - the
 * error. Through the iterator, so that a decoder links no
 * frame__scan_string (header access needs that). */
static FRAME__ALWAYS_INLINE int frame__decode(const frame__u8 **pp, const frame__u8 *end, uint32_t *hash) {
    frame__siter it;
    uint32_t h = 0;
    int c;
    frame__siter_init(&it, *pp, end);
    /* h * 31 + c: a multiplier that needs no literal (a weaker hash only
     * costs a few more name comparisons). */
    while ((c = frame__siter_next(&it)) >= 0) h = h * 31 + (unsigned)c;
    *hash = h;
    *pp = it.p;
    return c;
}

/* Whether the name at `at` in the text from `start` (decoded, its hash
 * `hash`) is one of the names
 * first .. count - 1: 1; else records it as name `count` and
 * returns 0. */
static FRAME__INLINE int frame__names_check(frame__names *s, const frame__u8 *start, const frame__u8 *at,
                                                    const frame__u8 *end, uint32_t hash, unsigned first,
                                                    unsigned count) {
    unsigned i;
    for (i = first; i < count; i++)
        if (s->tags[i] == (uint16_t)hash && frame__string_equals_string(start + s->off[i], end, at, end))
            return 1;
    s->tags[count] = (uint16_t)hash;
    s->off[count] = (uint32_t)(at - start);
    return 0;
}
