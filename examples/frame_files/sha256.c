/* SHA-256, HMAC-SHA256 and PBKDF2-HMAC-SHA256 for frame-files: see sha256.h. */
#include "sha256.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define HAVE_SHANI 0
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

static uint32_t load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t ror(uint32_t x, unsigned n) { return x >> n | x << (32 - n); }

/* The portable block function: FIPS 180-4 section 6.2.2, n blocks. */
static void blocks_portable(uint32_t h[8], const unsigned char *p, size_t n)
{
    uint32_t w[64];
    while (n--) {
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
        int t;
        for (t = 0; t < 16; t++)
            w[t] = load_be32(p + 4 * t);
        for (t = 16; t < 64; t++) {
            uint32_t s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        for (t = 0; t < 64; t++) {
            uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
            uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            k = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += k;
        p += SHA256_BLOCK;
    }
}

#if HAVE_SHANI
/*
 * The same function with the x86 SHA extensions. The state lives in two
 * registers as the instructions want it: ABEF and CDGH. Each group of four
 * rounds adds K to four message words; sha256rnds2 does two rounds with the
 * low half, and again with the high half after a shuffle. Message words 16..63
 * come from sha256msg1/sha256msg2 (sigma0 and sigma1) plus w[t-7] taken with
 * alignr from the two groups before.
 */
__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_shani(uint32_t h[8],
                                                                      const unsigned char *p,
                                                                      size_t n)
{
    const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    __m128i abef, cdgh, t;

    t = _mm_loadu_si128((const __m128i *)(const void *)&h[0]);    /* a b c d (lane 0 = a) */
    cdgh = _mm_loadu_si128((const __m128i *)(const void *)&h[4]); /* e f g h */
    t = _mm_shuffle_epi32(t, 0xB1);                               /* b a d c */
    cdgh = _mm_shuffle_epi32(cdgh, 0x1B);                         /* h g f e */
    abef = _mm_alignr_epi8(t, cdgh, 8);                           /* f e b a */
    cdgh = _mm_blend_epi16(cdgh, t, 0xF0);                        /* h g d c */

    while (n--) {
        __m128i w[4], msg, save_abef = abef, save_cdgh = cdgh;
        int g;
        for (g = 0; g < 4; g++)
            w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * g)), bswap);
        for (g = 0; g < 16; g++) {
            msg = _mm_add_epi32(w[g & 3], _mm_loadu_si128((const __m128i *)(const void *)&K[4 * g]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, msg);
            msg = _mm_shuffle_epi32(msg, 0x0E);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, msg);
            if (g < 12) {
                /* words of group g+4 = msg2(msg1(w[g], w[g+1]) + alignr(w[g+3], w[g+2]), w[g+3]) */
                __m128i x = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
                x = _mm_add_epi32(x, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
                w[g & 3] = _mm_sha256msg2_epu32(x, w[(g + 3) & 3]);
            }
        }
        abef = _mm_add_epi32(abef, save_abef);
        cdgh = _mm_add_epi32(cdgh, save_cdgh);
        p += SHA256_BLOCK;
    }

    t = _mm_shuffle_epi32(abef, 0x1B);      /* a b e f */
    cdgh = _mm_shuffle_epi32(cdgh, 0xB1);   /* g h c d */
    abef = _mm_blend_epi16(t, cdgh, 0xF0);  /* a b c d */
    cdgh = _mm_alignr_epi8(cdgh, t, 8);     /* e f g h */
    _mm_storeu_si128((__m128i *)(void *)&h[0], abef);
    _mm_storeu_si128((__m128i *)(void *)&h[4], cdgh);
}

static int cpu_has_shani(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 19)) || !(c & (1u << 9)))
        return 0; /* SSE4.1 and SSSE3 */
    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 29) & 1u;
}
#endif

typedef void (*blocks_fn)(uint32_t h[8], const unsigned char *p, size_t n);

/* 0 = not chosen yet, 1 = portable, 2 = SHA-NI. Written once; a race only
 * stores the same value twice. */
static volatile int impl_choice;
static int impl_forced;

static blocks_fn pick(void)
{
    int c = impl_choice;
    if (!c) {
        c = 1;
#if HAVE_SHANI
        {
            const char *env = getenv("FRAME_FILES_NO_SHANI");
            if (!impl_forced && !(env && *env && strcmp(env, "0") != 0) && cpu_has_shani())
                c = 2;
        }
#endif
        impl_choice = c;
    }
#if HAVE_SHANI
    if (c == 2)
        return blocks_shani;
#endif
    return blocks_portable;
}

const char *sha256_impl(void) { return pick() == blocks_portable ? "portable" : "shani"; }

void sha256_force_portable(int on)
{
    impl_forced = on;
    impl_choice = 0;
}

void sha256_init(sha256_ctx *c)
{
    memcpy(c->h, H0, sizeof H0);
    c->total = 0;
    c->have = 0;
}

void sha256_update(sha256_ctx *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    blocks_fn fn = pick();
    c->total += len;
    if (c->have) {
        size_t take = SHA256_BLOCK - c->have;
        if (take > len)
            take = len;
        memcpy(c->buf + c->have, p, take);
        c->have += take;
        p += take;
        len -= take;
        if (c->have < SHA256_BLOCK)
            return;
        fn(c->h, c->buf, 1);
        c->have = 0;
    }
    if (len >= SHA256_BLOCK) {
        size_t n = len / SHA256_BLOCK;
        fn(c->h, p, n);
        p += n * SHA256_BLOCK;
        len -= n * SHA256_BLOCK;
    }
    if (len) {
        memcpy(c->buf, p, len);
        c->have = len;
    }
}

void sha256_final(sha256_ctx *c, unsigned char out[SHA256_DIGEST])
{
    uint64_t bits = c->total * 8;
    blocks_fn fn = pick();
    int i;
    c->buf[c->have++] = 0x80;
    if (c->have > SHA256_BLOCK - 8) {
        memset(c->buf + c->have, 0, SHA256_BLOCK - c->have);
        fn(c->h, c->buf, 1);
        c->have = 0;
    }
    memset(c->buf + c->have, 0, SHA256_BLOCK - 8 - c->have);
    for (i = 0; i < 8; i++)
        c->buf[SHA256_BLOCK - 1 - i] = (unsigned char)(bits >> (8 * i));
    fn(c->h, c->buf, 1);
    for (i = 0; i < 8; i++)
        store_be32(out + 4 * i, c->h[i]);
    secure_zero(c, sizeof *c);
}

void sha256(const void *data, size_t len, unsigned char out[SHA256_DIGEST])
{
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, data, len);
    sha256_final(&c, out);
}

/* HMAC: the states after hashing key^ipad and key^opad, so that PBKDF2 can
 * restart from them for every iteration. */
typedef struct hmac_key {
    uint32_t inner[8], outer[8];
} hmac_key;

static void hmac_prepare(hmac_key *k, const void *key, size_t key_len)
{
    unsigned char block[SHA256_BLOCK], pad[SHA256_BLOCK];
    blocks_fn fn = pick();
    size_t i;
    memset(block, 0, sizeof block);
    if (key_len > SHA256_BLOCK)
        sha256(key, key_len, block);
    else if (key_len)
        memcpy(block, key, key_len);
    for (i = 0; i < SHA256_BLOCK; i++)
        pad[i] = (unsigned char)(block[i] ^ 0x36);
    memcpy(k->inner, H0, sizeof H0);
    fn(k->inner, pad, 1);
    for (i = 0; i < SHA256_BLOCK; i++)
        pad[i] = (unsigned char)(block[i] ^ 0x5c);
    memcpy(k->outer, H0, sizeof H0);
    fn(k->outer, pad, 1);
    secure_zero(block, sizeof block);
    secure_zero(pad, sizeof pad);
}

static void hmac_run(const hmac_key *k, const void *msg, size_t msg_len, unsigned char out[SHA256_DIGEST])
{
    sha256_ctx c;
    memcpy(c.h, k->inner, sizeof c.h);
    c.total = SHA256_BLOCK;
    c.have = 0;
    sha256_update(&c, msg, msg_len);
    sha256_final(&c, out);
    memcpy(c.h, k->outer, sizeof c.h);
    c.total = SHA256_BLOCK;
    c.have = 0;
    sha256_update(&c, out, SHA256_DIGEST);
    sha256_final(&c, out);
}

void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                 unsigned char out[SHA256_DIGEST])
{
    hmac_key k;
    hmac_prepare(&k, key, key_len);
    hmac_run(&k, msg, msg_len, out);
    secure_zero(&k, sizeof k);
}

/*
 * PBKDF2 (RFC 8018 section 5.2) with HMAC-SHA256. Each iteration hashes a
 * 32-byte message, so after the first one the inner and outer hashes are one
 * block each: the padded block is built once and only its first 32 bytes
 * change, which makes an iteration two block-function calls.
 */
void pbkdf2_sha256(const void *password, size_t pw_len, const void *salt, size_t salt_len,
                   uint32_t iterations, unsigned char *out, size_t out_len)
{
    hmac_key k;
    blocks_fn fn = pick();
    unsigned char block[SHA256_BLOCK], t[SHA256_DIGEST];
    uint32_t counter = 1;
    hmac_prepare(&k, password, pw_len);
    /* message (32) | 0x80 | zeros | length in bits of block + 32 bytes = 768 */
    memset(block, 0, sizeof block);
    block[32] = 0x80;
    block[62] = 0x03;
    block[63] = 0x00;
    while (out_len) {
        sha256_ctx c;
        unsigned char cnt[4];
        uint32_t st[8];
        uint32_t i;
        int j;
        size_t take = out_len < SHA256_DIGEST ? out_len : SHA256_DIGEST;
        /* U1 = HMAC(P, S || INT(counter)) */
        store_be32(cnt, counter);
        memcpy(c.h, k.inner, sizeof c.h);
        c.total = SHA256_BLOCK;
        c.have = 0;
        sha256_update(&c, salt, salt_len);
        sha256_update(&c, cnt, 4);
        sha256_final(&c, block);
        memcpy(st, k.outer, sizeof st);
        fn(st, block, 1);
        for (j = 0; j < 8; j++)
            store_be32(block + 4 * j, st[j]);
        memcpy(t, block, SHA256_DIGEST);
        for (i = 1; i < iterations; i++) {
            memcpy(st, k.inner, sizeof st);
            fn(st, block, 1);
            for (j = 0; j < 8; j++)
                store_be32(block + 4 * j, st[j]);
            memcpy(st, k.outer, sizeof st);
            fn(st, block, 1);
            for (j = 0; j < 8; j++) {
                store_be32(block + 4 * j, st[j]);
                t[4 * j] ^= block[4 * j];
                t[4 * j + 1] ^= block[4 * j + 1];
                t[4 * j + 2] ^= block[4 * j + 2];
                t[4 * j + 3] ^= block[4 * j + 3];
            }
        }
        memcpy(out, t, take);
        out += take;
        out_len -= take;
        counter++;
        secure_zero(st, sizeof st);
    }
    secure_zero(&k, sizeof k);
    secure_zero(block, sizeof block);
    secure_zero(t, sizeof t);
}

void secure_zero(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

int ct_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    unsigned char d = 0;
    size_t i;
    for (i = 0; i < n; i++)
        d |= (unsigned char)(x[i] ^ y[i]);
    return d == 0;
}
