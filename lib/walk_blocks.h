/*
 * lib/walk_blocks.h: stage one of the validator for headers of more than 64
 * bytes (speed builds; walk_states.h is stage two). It reads the text a
 * block of 64 bytes at a time through the kernel (frame__kernel_marks16,
 * frame__kernel_utf8_16), and marks in each a bit per byte:
 *   quotes  the quotes that open or close a string (not escaped ones);
 *   marks   those and backslashes: a name with none but its quotes is
 *           its own decoded bytes (its UTF-8 is well-formed), and has its
 *           key taken from them as they stand.
 * At once it checks, for the whole block, every rule of strings that needs
 * no structure: no control byte, every escape well-formed (string_fast.h's
 * table and frame__u_escape), every UTF-8 sequence well-formed (utf8_seq.h's
 * rule: continuation bytes exactly where leads want them, and each lead's
 * second byte in its range). So stage two finds a string's end as its next
 * quote mark and never looks at its bytes, and decodes a name's escapes
 * without checking them again (frame__blocks_name_key). Stage one runs a
 * chunk of 8 blocks ahead of stage two. A block that breaks a rule is not
 * used: the lane hands over where it is, and the full tier or the walk
 * reports the error where it lies. Outside strings the rules are stricter
 * than the text needs (no white space): such headers go to the walk.
 */

/* The blocks that stage one marks ahead of stage two: a chunk of 512
 * bytes, whose marks stage two reads 64 bits from any bit on, so that a
 * string that ends in the next block costs no branch of its own. */
#define FRAME__CHUNK 8

/* The cursor: the marks of one chunk, and what a block passes to the next. */
typedef struct frame__blocks {
    const frame__u8 *base, *end; /* the chunk's first byte; the text's end */
    size_t taken;                /* the chunk's bytes in blocks that stage one took */
    uint64_t escaped;            /* 1: an escape takes the next block's first byte */
    uint64_t pairs;              /* the low halves of surrogate pairs that start there */
    uint64_t wanted;             /* continuation bytes the next block starts with */
    /* Bit i (bit i % 8 of byte i / 8) for base[i]: the quotes that open or
     * close a string (not escaped ones); marks: those and backslashes. 0
     * past `taken`, and in the 8 bytes after the chunk's. */
    frame__u8 quotes[8 * (FRAME__CHUNK + 1)], marks[8 * (FRAME__CHUNK + 1)];
} frame__blocks;

/* Bits at even offsets in a word. */
#define FRAME__EVEN 0x5555555555555555ull

/* The marks of four windows of 16 bytes as those of their 64. */
#define FRAME__JOIN64(a, b, c, d) ((uint64_t)(a) | (uint64_t)(b) << 16 | (uint64_t)(c) << 32 | (uint64_t)(d) << 48)

/* After lead c (0xe0..0xff), the second byte's lowest value, and how far
 * above it the highest is; no byte is in range after a byte that leads no
 * well-formed sequence (utf8_seq.h). Leads below 0xe0 need no look-up:
 * any continuation byte follows them, and 0xc0, 0xc1 are refused by mask. */
#define FRAME__UL(c) (frame__u8)(FRAME__UTF8_IS_LEAD(c) ? FRAME__UTF8_LO(c) : 0xffu)
#define FRAME__US(c) (frame__u8)(FRAME__UTF8_IS_LEAD(c) ? FRAME__UTF8_HI(c) - FRAME__UTF8_LO(c) : 0u)
#define FRAME__U4(F, c) F(c), F((c) + 1), F((c) + 2), F((c) + 3)
#define FRAME__U16(F, c) FRAME__U4(F, c), FRAME__U4(F, (c) + 4), FRAME__U4(F, (c) + 8), FRAME__U4(F, (c) + 12)
#define FRAME__U32(F) FRAME__U16(F, 0xe0), FRAME__U16(F, 0xf0)
static const frame__u8 frame__utf8_low[32] = {FRAME__U32(FRAME__UL)};
static const frame__u8 frame__utf8_span[32] = {FRAME__U32(FRAME__US)};
#undef FRAME__U32
#undef FRAME__U16
#undef FRAME__U4
#undef FRAME__US
#undef FRAME__UL

/* Whether the UTF-8 of the block at base is well-formed, given its bytes
 * >= 0x80 (highs), read from `at` (its bytes shifted down by `shift`, as
 * the block's marks are). */
static int frame__blocks_utf8(frame__blocks *b, const frame__u8 *base, const frame__u8 *at, unsigned shift,
                              uint64_t highs) {
    uint64_t cont, ge3, ge4, lead, want;
    unsigned a[4], b1[4], c[4], d[4], i, bad = 0;
    frame__kernel_utf8_16(at, a);
    frame__kernel_utf8_16(at + 16, b1);
    frame__kernel_utf8_16(at + 32, c);
    frame__kernel_utf8_16(at + 48, d);
    cont = FRAME__JOIN64(a[0], b1[0], c[0], d[0]) >> shift;
    ge3 = FRAME__JOIN64(a[1], b1[1], c[1], d[1]) >> shift;
    ge4 = FRAME__JOIN64(a[2], b1[2], c[2], d[2]) >> shift;
    /* A lead wants one continuation byte after it, two from 0xe0, three
     * from 0xf0: exactly the continuation bytes there are. A sequence that
     * would run past the text's end wants its last byte, the '}'. */
    lead = highs & ~cont;
    want = lead << 1 | ge3 << 2 | ge4 << 3 | b->wanted;
    if (want != cont) return 0;
    b->wanted = lead >> 63 | ge3 >> 62 | ge4 >> 61;
    /* 0xc0 and 0xc1 lead no well-formed sequence; after leads from 0xe0
     * on, the second byte's range matters. (Bytes of the window before
     * the block, the last block's, passed an earlier block: none is 0xc0
     * or 0xc1, nor below, a control.) */
    if (a[3] | b1[3] | c[3] | d[3]) return 0;
    for (lead &= ge3; lead; lead &= lead - 1) {
        i = frame__lowest_bit(lead);
        bad |= (unsigned)(frame__u8)(base[i + 1] - frame__utf8_low[base[i] - 0xe0]) >
               frame__utf8_span[base[i] - 0xe0];
    }
    return !bad;
}

/* The backslashes that start an escape, of a block's backslashes bs whose
 * first byte an escape of the block before takes when `escaped` is 1: in a
 * run of backslashes, the first, third, fifth... Adding a run's first bit
 * to the run clears it, so runs that start at an even offset are told from
 * the others without a loop over them. */
static FRAME__INLINE uint64_t frame__escape_starts(uint64_t bs, uint64_t escaped) {
    uint64_t even_runs;
    bs &= ~escaped;
    even_runs = bs & ~(bs + (bs & ~(bs << 1) & FRAME__EVEN));
    return (even_runs & FRAME__EVEN) | (bs & ~even_runs & ~FRAME__EVEN);
}

/* Whether the escapes that start at the bits `starts` of the block at base
 * are well-formed (string_fast.h's table and frame__u_escape's rule), without
 * a branch on what each one is: a surrogate is rare, and is checked out
 * of line. A pair's high half marks where its low half starts in b->pairs
 * (or, past the block, in *next): a low half elsewhere is refused. */
static int frame__blocks_escapes(frame__blocks *b, const frame__u8 *base, uint64_t starts, uint64_t *next) {
    const frame__u8 *end = b->end, *p;
    size_t left = (size_t)(end - base);
    unsigned i, c, bad = 0;
    /* The text's last 6 bytes leave no room for a \uXXXX escape and a
     * quote: there only two-character escapes are well-formed. (A
     * backslash is never the text's last byte: that is the '}'.) */
    if (left < 64 + 6) {
        uint64_t near = starts & ~(left > 6 ? (1ull << (left - 6)) - 1 : 0);
        starts &= ~near;
        for (; near; near &= near - 1) bad |= frame__escaped[base[frame__lowest_bit(near) + 1]] <= 1;
    }
    for (; starts; starts &= starts - 1) {
        i = frame__lowest_bit(starts);
        p = base + i;
        c = p[1];
        bad |= (frame__escaped[c] == 0) | ((c == 'u') & (frame__hex4_bad(p + 2) != 0));
        /* A surrogate: \ud800 to \udfff */
        if ((c == 'u') & ((unsigned)(frame__hex[p[2]] << 4 | frame__hex[p[3]]) - 0xd8u < 8u)) {
            if (frame__hex[p[3]] >= 0xc) {
                if (!(b->pairs >> i & 1)) return 0; /* a low half alone */
            } else if (frame__u_escape(p, end) != 12) {
                return 0;
            } else if (i + 6 < 64) {
                b->pairs |= 1ull << (i + 6);
            } else {
                *next |= 1ull << (i + 6 - 64);
            }
        }
    }
    return !bad;
}

/* Stage one for block k of the chunk, at base (before b->end, which is
 * preceded by 64 bytes of text at least): 0 when it breaks a rule. */
static FRAME__INLINE int frame__blocks_load(frame__blocks *b, const frame__u8 *base, unsigned k) {
    const frame__u8 *end = b->end, *at = base;
    size_t left = (size_t)(end - base);
    uint64_t quotes, backslashes, highs, starts, next = 0;
    unsigned m0[4], m1[4], m2[4], m3[4], shift = 0;
    /* The last block is read as the text's last 64 bytes, its marks then
     * shifted down: no byte outside the text is read. */
    if (left < 64) {
        shift = 64 - (unsigned)left;
        at = end - 64;
    }
    frame__kernel_marks16(at, m0);
    frame__kernel_marks16(at + 16, m1);
    frame__kernel_marks16(at + 32, m2);
    frame__kernel_marks16(at + 48, m3);
    if (m0[2] | m1[2] | m2[2] | m3[2]) return 0; /* a control byte (see frame__blocks_utf8) */
    quotes = FRAME__JOIN64(m0[0], m1[0], m2[0], m3[0]) >> shift;
    backslashes = FRAME__JOIN64(m0[1], m1[1], m2[1], m3[1]) >> shift;
    highs = FRAME__JOIN64(m0[3], m1[3], m2[3], m3[3]) >> shift;
    if ((highs | b->wanted) && !frame__blocks_utf8(b, base, at, shift, highs)) return 0;
    /* Each escape takes the byte after its backslash: a quote or backslash
     * there is no mark (a surrogate pair's hex digits are none). */
    starts = frame__escape_starts(backslashes, b->escaped);
    if (starts && !frame__blocks_escapes(b, base, starts, &next)) return 0;
    quotes &= ~(starts << 1 | b->escaped);
    frame__store8(b->quotes + 8 * k, quotes);
    frame__store8(b->marks + 8 * k, backslashes | quotes);
    b->escaped = starts >> 63;
    b->pairs = next;
    return 1;
}

/* Stage one for the chunk at base (before b->end): its blocks up to the
 * first that breaks a rule. 0 when that is its first. */
static int frame__blocks_chunk(frame__blocks *b, const frame__u8 *base) {
    size_t left = (size_t)(b->end - base);
    unsigned k = 0;
    b->base = base;
    while (k < FRAME__CHUNK && 64u * k < left && frame__blocks_load(b, base + 64u * k, k)) k++;
    b->taken = 64u * k < left ? 64u * k : left;
    for (; k <= FRAME__CHUNK; k++) {
        frame__store8(b->quotes + 8 * k, 0);
        frame__store8(b->marks + 8 * k, 0);
    }
    return b->taken != 0;
}

/* Starts the cursor at p, before end (64 bytes of text at least lie before
 * end): 0 when the first block breaks a rule. */
static FRAME__INLINE int frame__blocks_start(frame__blocks *b, const frame__u8 *p, const frame__u8 *end) {
    b->end = end;
    b->escaped = b->pairs = b->wanted = 0;
    return frame__blocks_chunk(b, p);
}

/* The first byte at or after p (not before the cursor's chunk) whose bit
 * is set in the blocks' quotes (or, with any = 1, marks); NULL when none is
 * before a block that breaks a rule, or before the text's end. The marks
 * are read a word from any byte on: the search goes on past it only after
 * more than 56 bytes without a mark. */
static FRAME__INLINE const frame__u8 *frame__blocks_find(frame__blocks *b, const frame__u8 *p, int any) {
    size_t off = (size_t)(p - b->base);
    uint64_t m;
    for (;;) {
        const frame__u8 *bits = any ? b->marks : b->quotes;
        while (off < 64u * FRAME__CHUNK) {
            m = frame__load64(bits + (off >> 3)) >> (off & 7);
            if (m) return b->base + off + frame__lowest_bit(m);
            /* None in the bits read: on from the first bit after them,
             * but not past the chunk's (the bits after are no text's) */
            off = (off | 7) + 1 + 56;
            if (off > 64u * FRAME__CHUNK) off = 64u * FRAME__CHUNK;
        }
        /* Past the chunk: the next one, if this one was taken whole */
        if (b->taken < 64u * FRAME__CHUNK || !frame__blocks_chunk(b, b->base + 64u * FRAME__CHUNK)) return NULL;
        off -= 64u * FRAME__CHUNK;
    }
}

/*
 * The key (frame__name_key's) of the decoded bytes of the name whose
 * opening quote is at p and whose first mark after it, at m, is a
 * backslash: stage one took its escapes, so they are decoded here without
 * a check, and only its first 8 bytes and its length are kept. Returns its
 * closing quote; NULL when a block before it breaks a rule.
 */
static const frame__u8 *frame__blocks_name_key(frame__blocks *b, const frame__u8 *p, const frame__u8 *m,
                                               uint64_t *key) {
    const frame__u8 *s = p + 1, *end = b->end;
    uint64_t w = 0, x;
    size_t n = 0, run, k;
    uint32_t v;
    frame__u8 u[8];
    for (;;) {
        /* The plain bytes before the mark: a word of them is enough */
        if ((run = (size_t)(m - s)) != 0 && n < 8) {
            x = end - s >= 8 ? frame__load64(s) : frame__load_tail(s, m, run < 8 ? run : 8);
            w |= (run < 8 ? x & ((1ull << (8 * run)) - 1) : x) << (8 * n);
        }
        n += run;
        if (*m == '"') break;
        if (m[1] != 'u') { /* a two-character escape */
            x = frame__escaped[m[1]];
            k = 1;
            m += 2;
        } else { /* \uXXXX, or a surrogate pair */
            v = frame__hex4(m + 2);
            if (v >> 10 == 0x36) {
                v = FRAME__SURROGATE_PAIR(v, frame__hex4(m + 8));
                m += 6;
            }
            m += 6;
            memset(u, 0, sizeof u);
            k = frame__put_utf8(u, v);
            x = frame__load64(u);
        }
        if (n < 8) w |= x << (8 * n);
        n += k;
        s = m;
        if (!(m = frame__blocks_find(b, s, 1))) return NULL;
    }
    *key = w ^ (uint64_t)n << 56;
    return m;
}
