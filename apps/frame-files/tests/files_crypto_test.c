/*
 * Checks of what frame-files hashes with: the libcrypto wrappers of ff.c
 * (SHA-256 through EVP_Digest*, PBKDF2-HMAC-SHA256 through
 * PKCS5_PBKDF2_HMAC, CRYPTO_memcmp) against the NIST/RFC vectors, and the
 * hand-written CRC-32C (a checksum, not cryptography) on both its paths.
 *   files_crypto_test                 run the vectors; exit 0 when all pass
 *   files_crypto_test sha256 FILE     print the SHA-256 of FILE ("-" = stdin),
 *   files_crypto_test crc32c FILE     ... or its CRC-32C, fed in odd pieces
 *   files_crypto_test pbkdf2 PWHEX SALTHEX ITERATIONS LEN
 *   files_crypto_test speed MIB       hashing rate
 * The modes with arguments let tests/test_files.py compare against hashlib.
 */
#define _POSIX_C_SOURCE 200809L
#include "../crc32c.h"
#include "../ff.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures, checks;

static size_t unhex(const char *s, unsigned char *out, size_t cap)
{
    size_t n = strlen(s) / 2, i;
    if (n > cap)
        exit(2);
    for (i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            exit(2);
        out[i] = (unsigned char)v;
    }
    return n;
}

static void expect(const char *what, const unsigned char *got, size_t n, const char *want)
{
    char buf[300];
    ff_hex(got, n, buf);
    checks++;
    if (strcmp(buf, want) != 0) {
        failures++;
        fprintf(stderr, "FAIL %s\n  got  %s\n  want %s\n", what, buf, want);
    }
}

static void sum_hex(const void *p, size_t n, size_t step, char out[65])
{
    ff_sum c;
    size_t off = 0;
    if (ff_sum_init(&c, FF_SHA256) != 0) {
        fprintf(stderr, "no digest context\n");
        exit(2);
    }
    while (off < n) {
        size_t k = step < n - off ? step : n - off;
        ff_sum_update(&c, (const unsigned char *)p + off, k);
        off += k;
        step = step % 200 + 1;
    }
    ff_sum_final(&c, out);
}

static void expect_str(const char *what, const char *got, const char *want)
{
    checks++;
    if (strcmp(got, want) != 0) {
        failures++;
        fprintf(stderr, "FAIL %s\n  got  %s\n  want %s\n", what, got, want);
    }
}

static void vectors(void)
{
    unsigned char d[64];
    static unsigned char million[1000000];
    char h[65], h2[65];
    size_t i;

    /* FIPS 180-4 / NIST CSRC examples */
    ff_sha256("abc", 3, d);
    expect("sha256 abc", d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ff_sha256("", 0, d);
    expect("sha256 empty", d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sum_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 7, h);
    expect_str("sha256 448 bits", h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    memset(million, 'a', sizeof million);
    sum_hex(million, sizeof million, 1, h);
    expect_str("sha256 million a in pieces", h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    /* RFC 7914 section 11 (PBKDF2-HMAC-SHA256): the scheme of every users record */
    if (ff_pbkdf2_sha256("passwd", 6, "salt", 4, 1, d, 64) != 0)
        failures++;
    expect("pbkdf2 rfc7914 1", d, 64,
           "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
           "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
    if (ff_pbkdf2_sha256("Password", 8, "NaCl", 4, 80000, d, 64) != 0)
        failures++;
    expect("pbkdf2 rfc7914 2", d, 64,
           "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
           "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");

    /* hashed whole equals hashed in pieces */
    for (i = 0; i <= 300; i += 7) {
        char what[64];
        ff_sha256(million, i, d);
        ff_hex(d, 32, h);
        sum_hex(million, i, 1, h2);
        snprintf(what, sizeof what, "length %zu split", i);
        expect_str(what, h2, h);
    }
    {
        unsigned char x[4] = {1, 2, 3, 4}, y[4] = {1, 2, 3, 5};
        checks++;
        if (!ff_ct_equal(x, x, 4) || ff_ct_equal(x, y, 4))
            failures++, fprintf(stderr, "FAIL ff_ct_equal\n");
    }
    {
        unsigned char a[32], b[32];
        checks++;
        if (ff_random(a, sizeof a) != 0 || ff_random(b, sizeof b) != 0 || memcmp(a, b, sizeof a) == 0)
            failures++, fprintf(stderr, "FAIL ff_random\n");
    }
}

static void expect_u32(const char *what, uint32_t got, uint32_t want)
{
    checks++;
    if (got != want) {
        failures++;
        fprintf(stderr, "FAIL [%s] %s: got %08lx want %08lx\n", crc32c_impl(), what, (unsigned long)got,
                (unsigned long)want);
    }
}

/* RFC 3720 appendix B.4 and the usual check value. */
static void crc_vectors(void)
{
    unsigned char b[32];
    static unsigned char big[100003];
    uint32_t whole, c;
    size_t i, off;
    expect_u32("crc32c 123456789", crc32c_update(0, "123456789", 9), 0xE3069283u);
    memset(b, 0, 32);
    expect_u32("crc32c 32 zeros", crc32c_update(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, 32);
    expect_u32("crc32c 32 ones", crc32c_update(0, b, 32), 0x62A8AB43u);
    for (i = 0; i < 32; i++)
        b[i] = (unsigned char)i;
    expect_u32("crc32c incrementing", crc32c_update(0, b, 32), 0x46DD794Eu);
    for (i = 0; i < 32; i++)
        b[i] = (unsigned char)(31 - i);
    expect_u32("crc32c decrementing", crc32c_update(0, b, 32), 0x113FDB5Cu);
    for (i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 2654435761u >> 13);
    whole = crc32c_update(0, big, sizeof big);
    for (off = 0, c = 0, i = 1; off < sizeof big; i = i % 97 + 1) {
        size_t n = i < sizeof big - off ? i : sizeof big - off;
        c = crc32c_update(c, big + off, n);
        off += n;
    }
    expect_u32("crc32c split", c, whole);
    crc32c_force_table(1);
    c = crc32c_update(0, big + 3, sizeof big - 3);
    crc32c_force_table(0);
    expect_u32("crc32c table = automatic choice", c, crc32c_update(0, big + 3, sizeof big - 3));
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    unsigned char d[1024];
    char out[2100];
    if (argc >= 2 && strcmp(argv[1], "sha256") == 0 && argc == 3) {
        FILE *f = strcmp(argv[2], "-") == 0 ? stdin : fopen(argv[2], "rb");
        static unsigned char buf[70000];
        size_t n, step = 1;
        ff_sum c;
        if (!f || ff_sum_init(&c, FF_SHA256) != 0)
            return 2;
        while ((n = fread(buf, 1, step, f)) > 0) {
            ff_sum_update(&c, buf, n);
            step = step * 7 % 65521 + 1;
        }
        ff_sum_final(&c, out);
        printf("%s\n", out);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "crc32c") == 0) {
        FILE *f = strcmp(argv[2], "-") == 0 ? stdin : fopen(argv[2], "rb");
        static unsigned char buf[70000];
        size_t n, step = 1;
        uint32_t c = 0;
        if (!f)
            return 2;
        while ((n = fread(buf, 1, step, f)) > 0) {
            c = crc32c_update(c, buf, n);
            step = step * 7 % 65521 + 1;
        }
        printf("%08lx\n", (unsigned long)c);
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "pbkdf2") == 0) {
        static unsigned char p[4096], s[4096];
        size_t pl = unhex(argv[2], p, sizeof p), sl = unhex(argv[3], s, sizeof s);
        unsigned long it = strtoul(argv[4], NULL, 10), len = strtoul(argv[5], NULL, 10);
        if (it < 1 || len > sizeof d)
            return 2;
        if (ff_pbkdf2_sha256(p, pl, s, sl, (uint32_t)it, d, len) != 0)
            return 2;
        ff_hex(d, len, out);
        printf("%s\n", out);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "speed") == 0) {
        size_t mib = strtoul(argv[2], NULL, 10), i;
        unsigned char *buf = malloc(1 << 20);
        int pass;
        if (!buf)
            return 2;
        memset(buf, 0x5a, 1 << 20);
        {
            ff_sum c;
            double t0 = now();
            char h[65];
            if (ff_sum_init(&c, FF_SHA256) != 0)
                return 2;
            for (i = 0; i < mib; i++)
                ff_sum_update(&c, buf, 1 << 20);
            ff_sum_final(&c, h);
            printf("libcrypto sha256 %8.1f MiB/s\n", (double)mib / (now() - t0));
            t0 = now();
            if (ff_pbkdf2_sha256("password", 8, "saltsaltsaltsalt", 16, 600000, d, 32) != 0)
                return 2;
            printf("libcrypto pbkdf2 600000 iterations: %.0f ms\n", (now() - t0) * 1000);
        }
        for (pass = 0; pass < 2; pass++) {
            uint32_t c = 0;
            double t0;
            crc32c_force_table(pass);
            t0 = now();
            for (i = 0; i < mib; i++)
                c = crc32c_update(c, buf, 1 << 20);
            printf("crc32c %-8s %8.1f MiB/s (%08lx)\n", crc32c_impl(), (double)mib / (now() - t0),
                   (unsigned long)c);
        }
        free(buf);
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: see the comment at the top of files_crypto_test.c\n");
        return 2;
    }
    crc32c_init();
    crc_vectors();
    printf("crc32c: %d checks, %d failures\n", checks, failures);
    checks = 0;
    vectors();
    printf("libcrypto: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
