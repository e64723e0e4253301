/*
 * lib/chars_small.h: the size builds' (FRAME_SMALL) side of
 * lib/chars_fast.h (which says what each side gives lib/string.c),
 * included by string.c in one place. Private. Less code, more
 * instructions: numbers in 16-bit limbs, UTF-8 decoded and checked, and
 * ASCII through the string iterator's general path.
 */
#ifndef FRAME_CHARS_SMALL_H
#define FRAME_CHARS_SMALL_H

int frame__decimal(const frame__u8 *p, const frame__u8 *end, uint64_t *out) {
    /* In 16-bit limbs, least significant first: a 64-bit multiplication
     * would call a library function that small targets do not otherwise
     * need, and a limb times 10 plus a carry fits in 32 bits. */
    uint16_t w[4];
    unsigned i;
    uint32_t c;
    w[0] = w[1] = w[2] = w[3] = 0;
    for (; p < end; p++) {
        c = (unsigned)(*p - '0');
        for (i = 0; i < 4; i++) {
            c += w[i] * 10u;
            w[i] = (uint16_t)c;
            c >>= 16;
        }
        if (c) {
            *out = UINT64_MAX;
            return 0;
        }
    }
    *out = (uint64_t)((uint32_t)w[3] << 16 | w[2]) << 32 | ((uint32_t)w[1] << 16 | w[0]);
    return 1;
}

/* Decodes the code point and checks it: less code, more instructions. */
static size_t frame__utf8(const frame__u8 *p, const frame__u8 *end) {
    unsigned c = p[0], n, i;
    uint32_t cp, min = 2;
    if (c < 0xc2 || c > 0xf7) return 0;
    n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if ((size_t)(end - p) < n) return 0;
    cp = c & (0x7fu >> n);
    for (i = 1; i < n; i++) {
        unsigned d = p[i] - 0x80u; /* continuation bytes are 10xxxxxx */
        if (d > 0x3f) return 0;
        cp = cp << 6 | d;
        min <<= 5;
    }
    /* n bytes must be needed (cp has more than 5n - 4 bits, at least the
     * min it was shifted to; from 0xc2 on, two always are), and cp no
     * surrogate nor above U+10FFFF. */
    if (cp < min || cp >> 11 == 0x1b || cp > 0x10ffff) return 0;
    return n;
}

/* ASCII is checked and yielded as a sequence of one byte. */
#define frame__yield_ascii(it, p) 0

#endif /* FRAME_CHARS_SMALL_H */
