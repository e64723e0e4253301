/*
 * Known-answer tests for the frame-files SHA-256, HMAC-SHA256 and
 * PBKDF2-HMAC-SHA256 (examples/frame_files/sha256.c), run on both block
 * functions (portable C and SHA-NI when the CPU has it).
 *
 *   files_crypto_test                 run the vectors; exit 0 when all pass
 *   files_crypto_test sha256 FILE     print the SHA-256 of FILE ("-" = stdin),
 *                                     hashed in chunks of varying size
 *   files_crypto_test hmac KEYHEX MSGHEX
 *   files_crypto_test pbkdf2 PWHEX SALTHEX ITERATIONS LEN
 *   files_crypto_test speed MIB       hashing rate of each block function
 * The last four let examples/tests/test_files.py compare against hashlib.
 */
#define _POSIX_C_SOURCE 200809L
#include "../frame_files/crc32c.h"
#include "../frame_files/ff.h"
#include "../frame_files/sha256.h"

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
        fprintf(stderr, "FAIL [%s] %s\n  got  %s\n  want %s\n", sha256_impl(), what, buf, want);
    }
}

static void vectors(void)
{
    unsigned char d[64], key[131];
    static unsigned char million[1000000];
    char what[64];
    sha256_ctx c;
    size_t i;

    /* FIPS 180-4 / NIST CSRC examples */
    sha256("abc", 3, d);
    expect("sha256 abc", d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256("", 0, d);
    expect("sha256 empty", d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
    expect("sha256 448 bits", d, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    memset(million, 'a', sizeof million);
    sha256(million, sizeof million, d);
    expect("sha256 million a", d, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* the same, fed in pieces of every size 1..200 in turn */
    {
        size_t off = 0, step = 1;
        sha256_init(&c);
        while (off < sizeof million) {
            size_t n = step < sizeof million - off ? step : sizeof million - off;
            sha256_update(&c, million + off, n);
            off += n;
            step = step % 200 + 1;
        }
        sha256_final(&c, d);
        expect("sha256 million a in pieces", d, 32,
               "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }

    /* RFC 4231 test cases 1, 2 and 6 */
    memset(key, 0x0b, 20);
    hmac_sha256(key, 20, "Hi There", 8, d);
    expect("hmac rfc4231 1", d, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
    expect("hmac rfc4231 2", d, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0xaa, 131);
    hmac_sha256(key, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54, d);
    expect("hmac rfc4231 6", d, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

    /* RFC 7914 section 11 (PBKDF2-HMAC-SHA256) */
    pbkdf2_sha256("passwd", 6, "salt", 4, 1, d, 64);
    expect("pbkdf2 rfc7914 1", d, 64,
           "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
           "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
    pbkdf2_sha256("Password", 8, "NaCl", 4, 80000, d, 64);
    expect("pbkdf2 rfc7914 2", d, 64,
           "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
           "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");

    /* every length 0..300 hashed whole equals hashed byte by byte */
    for (i = 0; i <= 300; i++) {
        unsigned char a[32], b[32];
        size_t j;
        sha256(million, i, a);
        sha256_init(&c);
        for (j = 0; j < i; j++)
            sha256_update(&c, million + j, 1);
        sha256_final(&c, b);
        snprintf(what, sizeof what, "length %zu split", i);
        {
            char h[65];
            ff_hex(a, 32, h);
            expect(what, b, 32, h);
        }
    }
    {
        unsigned char x[4] = {1, 2, 3, 4}, y[4] = {1, 2, 3, 5};
        checks++;
        if (!ct_equal(x, x, 4) || ct_equal(x, y, 4))
            failures++, fprintf(stderr, "FAIL ct_equal\n");
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
        sha256_ctx c;
        if (!f)
            return 2;
        sha256_init(&c);
        while ((n = fread(buf, 1, step, f)) > 0) {
            sha256_update(&c, buf, n);
            step = step * 7 % 65521 + 1;
        }
        sha256_final(&c, d);
        ff_hex(d, 32, out);
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
    if (argc == 4 && strcmp(argv[1], "hmac") == 0) {
        static unsigned char k[4096], m[65536];
        size_t kl = unhex(argv[2], k, sizeof k), ml = unhex(argv[3], m, sizeof m);
        hmac_sha256(k, kl, m, ml, d);
        ff_hex(d, 32, out);
        printf("%s\n", out);
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "pbkdf2") == 0) {
        static unsigned char p[4096], s[4096];
        size_t pl = unhex(argv[2], p, sizeof p), sl = unhex(argv[3], s, sizeof s);
        unsigned long it = strtoul(argv[4], NULL, 10), len = strtoul(argv[5], NULL, 10);
        if (it < 1 || len > sizeof d)
            return 2;
        pbkdf2_sha256(p, pl, s, sl, (uint32_t)it, d, len);
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
        for (pass = 0; pass < 2; pass++) {
            sha256_ctx c;
            double t0;
            sha256_force_portable(pass);
            t0 = now();
            sha256_init(&c);
            for (i = 0; i < mib; i++)
                sha256_update(&c, buf, 1 << 20);
            sha256_final(&c, d);
            printf("%-8s %8.1f MiB/s\n", sha256_impl(), (double)mib / (now() - t0));
            t0 = now();
            pbkdf2_sha256("password", 8, "saltsaltsaltsalt", 16, 600000, d, 32);
            printf("%-8s pbkdf2 600000 iterations: %.0f ms\n", sha256_impl(), (now() - t0) * 1000);
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
    printf("implementation %s: %d checks, %d failures\n", sha256_impl(), checks, failures);
    if (strcmp(sha256_impl(), "portable") != 0) {
        int before = failures, before_checks = checks;
        sha256_force_portable(1);
        vectors();
        printf("implementation %s: %d checks, %d failures\n", sha256_impl(), checks - before_checks,
               failures - before);
    }
    return failures ? 1 : 0;
}
