/*
 * lib/names_table.h: the validator's name set of speed builds (see
 * json.c): a hash table over the names' decoded bytes, so that checking a
 * name costs O(1), not O(members).
 */

/*
 * Scans the name at p (its opening quote) and returns its end; *hash is the
 * hash of its decoded content (frame__string_hash). On error sets *err and
 * returns the offending byte.
 */
static FRAME__INLINE const frame__u8 *frame__name_token(const frame__u8 *p, const frame__u8 *end, uint32_t *hash,
                                                        frame_errno *err) {
    uint64_t key;
    *err = frame__string_hash(&p, end, hash, &key);
    return p;
}

/* Entries: a 6-bit hash tag and the name's number + 1. Entries of closed
 * objects stay behind: a number outside the open object is skipped, and one
 * that was reused names a member of the open object, so comparing with it
 * is still right. At most FRAME_MAX_MEMBERS entries ever go in, so the
 * table is never more than half full. The table is made when a name first
 * needs it: the first FRAME__LANE names of a header (the walker's fast
 * lane) are told apart by 8-byte keys of their decoded bytes, found
 * through a small table of their own (lane[], eight times as many slots as
 * names, so that a name seldom finds its slot taken; each taken slot a bit
 * of `used`), and a header that needs no more
 * never hashes a name whole. */
#define FRAME__LANE 32u
#define FRAME__LANE_SLOTS (8 * FRAME__LANE) /* a power of two: 256 */

typedef struct frame__names {
    const frame__u8 *start, *end;
    unsigned mask; /* 0: no table yet */
    uint32_t off[FRAME_MAX_MEMBERS];
    uint64_t keys[FRAME__LANE];
    uint64_t used[FRAME__LANE_SLOTS / 64]; /* the slots of lane[] in use, a bit each (frame__lane_find) */
    frame__u8 lane[FRAME__LANE_SLOTS]; /* the lane's names by key: their numbers */
    uint16_t table[2 * FRAME_MAX_MEMBERS];
} frame__names;

static FRAME__INLINE void frame__names_init(frame__names *s, const frame__u8 *start, const frame__u8 *end) {
    s->start = start;
    s->end = end;
    s->mask = 0;
    s->used[0] = s->used[1] = s->used[2] = s->used[3] = 0;
}

/* A plain name's key: its first 8 bytes with its length in the top byte; a
 * name of up to 7 bytes is its key. The name and its closing quote lie
 * before end: with fewer than 8 bytes left, it has fewer than 7. */
static FRAME__INLINE uint64_t frame__name_key(const frame__u8 *name, size_t len, const frame__u8 *end) {
    /* The low bytes of a word: as many as a name has, 8 at most. */
    static const uint64_t low[9] = {0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffffull, 0xffffffffffffull,
                                    0xffffffffffffffull, ~0ull};
    uint64_t w = 0;
    size_t i;
    /* Below 8 bytes a key's top byte is 0 but for the length: ^ is |. */
    if (end - name >= 8) return (frame__load64(name) & low[len < 8 ? len : 8]) ^ (uint64_t)len << 56;
    for (i = 0; i < len; i++) w |= (uint64_t)name[i] << (8 * i);
    return w | (uint64_t)len << 56;
}

/* The key of the n bytes of a C string (the size member's name): the same
 * as frame__name_key's for a name of those bytes. */
static FRAME__INLINE uint64_t frame__name_key_of(const char *s, size_t n) {
    const frame__u8 *b = (const frame__u8 *)s;
    if (n >= 8) return frame__load64(b) ^ ((uint64_t)n << 56);
    return frame__load_tail(b, b + n, n) | (uint64_t)n << 56;
}

/* The free slot of lane[] for a key, or FRAME__LANE_SLOTS when a name
 * recorded there has that key. */
static FRAME__INLINE unsigned frame__lane_find(const frame__names *s, uint64_t key) {
    unsigned i = (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 56); /* FRAME__LANE_SLOTS: 256 */
    while (s->used[i >> 6] >> (i & 63) & 1) {
        if (s->keys[s->lane[i]] == key) return FRAME__LANE_SLOTS;
        i = (i + 1) & (FRAME__LANE_SLOTS - 1);
    }
    return i;
}

/*
 * The fast lane's names: the name at `quote`, whose key is `key`, number
 * `count` < FRAME__LANE of a header's top level. Returns 1 when an earlier
 * one has the same key, so may have the same decoded bytes (the walker's
 * general states then decide), else records it and returns 0.
 */
static FRAME__INLINE int frame__names_lane(frame__names *s, const frame__u8 *quote, uint64_t key, unsigned count) {
    unsigned i = frame__lane_find(s, key);
    if (i == FRAME__LANE_SLOTS) return 1;
    s->used[i >> 6] |= 1ull << (i & 63);
    s->lane[i] = (frame__u8)count;
    s->keys[count] = key;
    s->off[count] = (uint32_t)(quote - s->start);
    return 0;
}

/* Records in lane[] the names first .. count - 1, whose keys are in keys[]
 * and are not alike (frame__lane_short told them apart): what
 * frame__names_lane would have recorded. */
static FRAME__INLINE void frame__names_lane_index(frame__names *s, unsigned first, unsigned count) {
    unsigned k, i;
    for (k = first; k < count; k++) {
        i = frame__lane_find(s, s->keys[k]);
        s->used[i >> 6] |= 1ull << (i & 63);
        s->lane[i] = (frame__u8)k;
    }
}

/* The slot for a name of this hash in the table; *dup set when it holds an
 * earlier name of the open object (first .. count - 1) with the same bytes. */
static FRAME__INLINE unsigned frame__names_slot(const frame__names *s, const frame__u8 *at, uint32_t hash,
                                                unsigned first, unsigned count, int *dup) {
    unsigned i;
    for (i = hash & s->mask; s->table[i]; i = (i + 1) & s->mask) {
        unsigned k = (s->table[i] & 1023u) - 1u;
        if (s->table[i] >> 10 == hash >> 26 && k >= first && k < count &&
            frame__string_equals_string(s->start + s->off[k], s->end, at, s->end)) {
            *dup = 1;
            break;
        }
    }
    return i;
}

/* Makes the table, with the `count` names the fast lane recorded (plain,
 * and no two alike). Out of line: most headers never need it. */
static void frame__names_make(frame__names *s, unsigned count) {
    size_t most = (size_t)(s->end - s->start) / 5 + 1; /* a member takes 5 bytes at least: "":0, */
    frame_errno err = FRAME_OK;
    uint32_t hash = 0;
    unsigned k, m;
    int dup = 0;
    /* Room for twice that many, a power of two from 16 to twice
     * FRAME_MAX_MEMBERS: the bits below the highest of 2 * most - 1 all
     * set. */
    m = most < FRAME_MAX_MEMBERS ? 2 * (unsigned)most - 1 : 2 * FRAME_MAX_MEMBERS - 1;
    m |= m >> 1;
    m |= m >> 2;
    m |= m >> 4;
    m |= m >> 8;
    s->mask = m | 15;
    memset(s->table, 0, (s->mask + 1) * sizeof s->table[0]);
    for (k = 0; k < count; k++) {
        const frame__u8 *at = s->start + s->off[k];
        frame__name_token(at, s->end, &hash, &err);
        s->table[frame__names_slot(s, at, hash, 0, 0, &dup)] = (uint16_t)((hash >> 26) << 10 | (k + 1));
    }
}

static FRAME__INLINE frame_errno frame__value_string(const frame__u8 **pp, const frame__u8 *end) {
    return frame__string_check(pp, end);
}

static FRAME__INLINE frame_errno frame__names_add(frame__names *s, const frame__u8 **pp, const frame__u8 *end,
                                                  unsigned first, unsigned count, int name) {
    const frame__u8 *at = *pp;
    frame_errno err = FRAME_OK;
    uint32_t hash = 0;
    unsigned i;
    int dup = 0;
    if (!name) return frame__value_string(pp, end);
    *pp = frame__name_token(at, end, &hash, &err);
    if (err) return err;
    if (!s->mask) frame__names_make(s, count);
    i = frame__names_slot(s, at, hash, first, count, &dup);
    if (dup) {
        *pp = at;
        return FRAME_E_DUPLICATE_NAME;
    }
    s->table[i] = (uint16_t)((hash >> 26) << 10 | (count + 1));
    s->off[count] = (uint32_t)(at - s->start);
    return FRAME_OK;
}

/* A name's text is at least as long as its content, and as long only when
 * it holds no escape: most names are told apart by their length, and one
 * of the same length by its bytes (no backslash among them, or it would be
 * an escape). */
static FRAME__INLINE int frame__name_is(const frame__u8 *at, const frame__u8 *past, const frame__u8 *end,
                                        const char *s, size_t n) {
    size_t len = (size_t)(past - at) - 2, i;
    if (len < n) return 0;
    if (len > n) return frame__string_equals_bytes(at, end, (const frame__u8 *)s, n);
    for (i = 0; i < n; i++)
        if (at[1 + i] != (frame__u8)s[i] || at[1 + i] == '\\') return 0;
    return 1;
}
