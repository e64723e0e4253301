/*
 * lib/names_tags.h: the validator's name set of FRAME_SMALL builds (see
 * names.h): each name's offset and a 16-bit hash of its decoded bytes;
 * names are compared only when their tags agree.
 */

/* Inline: the validator decodes through it with no sink to fill, so that a
 * decoder links no frame__scan_string (header access needs that). */
#if defined(__GNUC__)
#define FRAME__DECODE_INLINE inline __attribute__((always_inline))
#else
#define FRAME__DECODE_INLINE inline
#endif

typedef struct frame__names {
    const frame__u8 *start, *end;
    uint32_t off[FRAME_MAX_MEMBERS];
    uint16_t tags[FRAME_MAX_MEMBERS];
} frame__names;

static FRAME__INLINE void frame__names_init(frame__names *s, const frame__u8 *start, const frame__u8 *end) {
    s->start = start;
    s->end = end;
}

/* Decodes the string at *pp through the string iterator, hashing its bytes
 * into *hash. FRAME_OK with *pp past it, or the error with *pp at the
 * offending byte. */
static FRAME__DECODE_INLINE frame_errno frame__decode(const frame__u8 **pp, const frame__u8 *end, uint32_t *hash) {
    frame__siter it;
    uint32_t h = 0;
    int c;
    frame__siter_init(&it, *pp, end);
    /* h * 31 + c: a multiplier that needs no literal (a weaker hash only
     * costs a few more name comparisons). */
    while ((c = frame__siter_next(&it)) >= 0) h = h * 31 + (unsigned)c;
    *hash = h;
    *pp = it.p + (c == -1);
    return c == -1 ? FRAME_OK : (frame_errno)(-1 - c);
}

static FRAME__INLINE frame_errno frame__value_string(const frame__u8 **pp, const frame__u8 *end) {
    uint32_t hash;
    return frame__decode(pp, end, &hash);
}

static FRAME__INLINE frame_errno frame__names_add(frame__names *s, const frame__u8 **pp, unsigned first,
                                                  unsigned count) {
    const frame__u8 *at = *pp;
    uint32_t hash;
    unsigned i;
    frame_errno err = frame__decode(pp, s->end, &hash);
    if (err) return err;
    for (i = first; i < count; i++)
        if (s->tags[i] == (uint16_t)hash && frame__string_equals_string(s->start + s->off[i], s->end, at, s->end)) {
            *pp = at;
            return FRAME_E_DUPLICATE_NAME;
        }
    s->tags[count] = (uint16_t)hash;
    s->off[count] = (uint32_t)(at - s->start);
    return FRAME_OK;
}
