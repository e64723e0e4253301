/* CRC-32C for frame-files: see crc32c.h. */
#include "crc32c.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_SSE42 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define HAVE_SSE42 0
#endif

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static int use_hw = -1;
static int forced_table;

/*
 * The CRC register is linear over GF(2): the register after A||B, started
 * from s, is Z(|B|)(register after A) XOR (register after B started from 0),
 * where Z(n) is the 32x32 matrix "append n zero bytes". With Z(STREAM) as four
 * byte tables, three independent streams of STREAM bytes can be computed at
 * once (the crc32 instruction has a latency of 3 cycles and a throughput of
 * 1) and joined with two table look-ups each.
 */
#define STREAM 8192
static uint32_t shift_stream[4][256];

/* Matrices are 32 columns: m[i] is the image of bit i. */
static uint32_t gf2_times(const uint32_t m[32], uint32_t v)
{
    uint32_t r = 0;
    int i;
    for (i = 0; v; i++, v >>= 1)
        if (v & 1)
            r ^= m[i];
    return r;
}

/* out = b after a (both powers of one matrix, so the order does not matter). */
static void gf2_compose(uint32_t out[32], const uint32_t a[32], const uint32_t b[32])
{
    uint32_t t[32];
    int i;
    for (i = 0; i < 32; i++)
        t[i] = gf2_times(b, a[i]);
    memcpy(out, t, sizeof t);
}

/* Z(n): the operator that appends n zero bytes to a (reflected) register. */
static void zero_bytes_op(uint32_t out[32], size_t n)
{
    uint32_t step[32];
    int i;
    /* one zero bit: shift right, and fold the polynomial in when bit 0 falls out */
    step[0] = POLY;
    for (i = 1; i < 32; i++)
        step[i] = 1u << (i - 1);
    gf2_compose(step, step, step); /* 2 bits */
    gf2_compose(step, step, step); /* 4 bits */
    gf2_compose(step, step, step); /* 8 bits: one byte */
    for (i = 0; i < 32; i++)
        out[i] = 1u << i; /* identity */
    while (n) {
        if (n & 1)
            gf2_compose(out, out, step);
        n >>= 1;
        if (n)
            gf2_compose(step, step, step);
    }
}

void crc32c_init(void)
{
    uint32_t n, k;
    for (n = 0; n < 256; n++) {
        uint32_t c = n;
        for (k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[0][n] = c;
    }
    for (n = 0; n < 256; n++)
        for (k = 1; k < 8; k++)
            table[k][n] = (table[k - 1][n] >> 8) ^ table[0][table[k - 1][n] & 0xff];
    {
        uint32_t z[32];
        zero_bytes_op(z, STREAM);
        for (k = 0; k < 4; k++)
            for (n = 0; n < 256; n++)
                shift_stream[k][n] = gf2_times(z, n << (8 * k));
    }
    use_hw = 0;
#if HAVE_SSE42
    {
        unsigned a, b, c, d;
        const char *env = getenv("FRAME_FILES_NO_SSE42");
        if (!forced_table && !(env && *env && strcmp(env, "0") != 0) && __get_cpuid(1, &a, &b, &c, &d) &&
            (c & (1u << 20)))
            use_hw = 1;
    }
#endif
}

void crc32c_force_table(int on)
{
    forced_table = on;
    crc32c_init();
}

const char *crc32c_impl(void)
{
    if (use_hw < 0)
        crc32c_init();
    return use_hw ? "sse4.2" : "table";
}

static uint32_t update_table(uint32_t c, const unsigned char *p, size_t len)
{
    while (len && ((uintptr_t)p & 7)) {
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
            table[4][lo >> 24] ^ table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^ table[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
    return c;
}

#if HAVE_SSE42
__attribute__((target("sse4.2"))) static uint32_t update_hw(uint32_t c, const unsigned char *p, size_t len)
{
    uint64_t c64;
    while (len && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8(c, *p++);
        len--;
    }
    c64 = c;
    while (len >= 3 * STREAM) {
        uint64_t c1 = 0, c2 = 0;
        const unsigned char *end = p + STREAM;
        uint32_t r;
        while (p < end) {
            uint64_t w0, w1, w2;
            memcpy(&w0, p, 8);
            memcpy(&w1, p + STREAM, 8);
            memcpy(&w2, p + 2 * STREAM, 8);
            c64 = _mm_crc32_u64(c64, w0);
            c1 = _mm_crc32_u64(c1, w1);
            c2 = _mm_crc32_u64(c2, w2);
            p += 8;
        }
        r = (uint32_t)c64;
        r = (shift_stream[0][r & 0xff] ^ shift_stream[1][(r >> 8) & 0xff] ^ shift_stream[2][(r >> 16) & 0xff] ^
             shift_stream[3][r >> 24]) ^ (uint32_t)c1;
        r = (shift_stream[0][r & 0xff] ^ shift_stream[1][(r >> 8) & 0xff] ^ shift_stream[2][(r >> 16) & 0xff] ^
             shift_stream[3][r >> 24]) ^ (uint32_t)c2;
        c64 = r;
        p += 2 * STREAM;
        len -= 3 * STREAM;
    }
    while (len >= 32) {
        uint64_t w[4];
        memcpy(w, p, sizeof w);
        c64 = _mm_crc32_u64(c64, w[0]);
        c64 = _mm_crc32_u64(c64, w[1]);
        c64 = _mm_crc32_u64(c64, w[2]);
        c64 = _mm_crc32_u64(c64, w[3]);
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c64 = _mm_crc32_u64(c64, w);
        p += 8;
        len -= 8;
    }
    c = (uint32_t)c64;
    while (len--)
        c = _mm_crc32_u8(c, *p++);
    return c;
}
#endif

uint32_t crc32c_update(uint32_t crc, const void *data, size_t len)
{
    uint32_t c = ~crc;
    if (use_hw < 0)
        crc32c_init();
#if HAVE_SSE42
    if (use_hw)
        return ~update_hw(c, data, len);
#endif
    return ~update_table(c, data, len);
}
