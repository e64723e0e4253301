/* frame-files shared helpers: see ff.h. */
#define _GNU_SOURCE
#include "ff.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

const frame_config ff_frame_config = {0, 0, 0, NULL, FF_MAX_HEADER, 0};

ff_algo ff_algo_parse(const char *s)
{
    if (strcmp(s, "sha256") == 0)
        return FF_SHA256;
    if (strcmp(s, "crc32c") == 0)
        return FF_CRC32C;
    return (ff_algo)0;
}

const char *ff_algo_name(ff_algo a) { return a == FF_CRC32C ? "crc32c" : "sha256"; }

size_t ff_algo_hexlen(ff_algo a) { return a == FF_CRC32C ? 8 : 2 * FF_SHA256_DIGEST; }

int ff_sum_init(ff_sum *s, ff_algo a)
{
    s->algo = a;
    s->crc = 0;
    s->md = NULL;
    if (a == FF_CRC32C)
        return 0;
    s->md = EVP_MD_CTX_new();
    if (!s->md)
        return -1;
    if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
        ff_sum_free(s);
        return -1;
    }
    return 0;
}

void ff_sum_update(ff_sum *s, const void *p, size_t n)
{
    if (s->algo == FF_CRC32C)
        s->crc = crc32c_update(s->crc, p, n);
    else if (s->md)
        EVP_DigestUpdate(s->md, p, n);
}

void ff_sum_final(ff_sum *s, char out[65])
{
    if (s->algo == FF_CRC32C) {
        unsigned char b[4];
        b[0] = (unsigned char)(s->crc >> 24);
        b[1] = (unsigned char)(s->crc >> 16);
        b[2] = (unsigned char)(s->crc >> 8);
        b[3] = (unsigned char)s->crc;
        ff_hex(b, 4, out);
    } else {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned dl = 0;
        if (!s->md || EVP_DigestFinal_ex(s->md, d, &dl) != 1 || dl != FF_SHA256_DIGEST)
            memset(d, 0, sizeof d); /* cannot happen once initialised; never matches a real sum */
        ff_hex(d, FF_SHA256_DIGEST, out);
        ff_sum_free(s);
    }
}

void ff_sum_free(ff_sum *s)
{
    if (s->md)
        EVP_MD_CTX_free(s->md);
    s->md = NULL;
}

void ff_sha256(const void *p, size_t n, unsigned char out[FF_SHA256_DIGEST])
{
    unsigned dl = 0;
    if (EVP_Digest(p, n, out, &dl, EVP_sha256(), NULL) != 1)
        memset(out, 0, FF_SHA256_DIGEST);
}

int ff_pbkdf2_sha256(const void *pw, size_t pwlen, const void *salt, size_t saltlen, uint32_t iterations,
                     unsigned char *out, size_t outlen)
{
    if (pwlen > INT_MAX || saltlen > INT_MAX || outlen > INT_MAX || iterations < 1 || iterations > INT_MAX)
        return -1;
    return PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, (int)saltlen, (int)iterations, EVP_sha256(), (int)outlen, out) == 1
               ? 0
               : -1;
}

void ff_wipe(void *p, size_t n) { OPENSSL_cleanse(p, n); }

int ff_ct_equal(const void *a, const void *b, size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

/* Decodes one UTF-8 sequence (the frame decoder has validated the text). */
static unsigned long utf8_at(const unsigned char *p, size_t len, size_t *used)
{
    if (p[0] < 0x80 || len < 2) {
        *used = 1;
        return p[0];
    }
    if (p[0] < 0xe0) {
        *used = 2;
        return (unsigned long)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
    }
    if (p[0] < 0xf0 || len < 4) {
        *used = len < 3 ? len : 3;
        return len < 3 ? 0xfffd : (unsigned long)(p[0] & 0x0f) << 12 | (unsigned long)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
    }
    *used = 4;
    return (unsigned long)(p[0] & 0x07) << 18 | (unsigned long)(p[1] & 0x3f) << 12 | (unsigned long)(p[2] & 0x3f) << 6 |
           (p[3] & 0x3f);
}

/* Code points that make a listing lie about a name: what they are called. */
static const char *spoofing_char(unsigned long cp)
{
    static const struct {
        unsigned long lo, hi;
        const char *what;
    } table[] = {
        {0x061c, 0x061c, "the name contains a bidirectional control (U+061C ARABIC LETTER MARK)"},
        {0x115f, 0x1160, "the name contains an invisible Hangul filler"},
        {0x180e, 0x180e, "the name contains an invisible character (U+180E MONGOLIAN VOWEL SEPARATOR)"},
        {0x200b, 0x200d, "the name contains a zero-width character (U+200B..U+200D)"},
        {0x200e, 0x200f, "the name contains a bidirectional mark (U+200E/U+200F)"},
        {0x2028, 0x2029, "the name contains a line or paragraph separator"},
        {0x202a, 0x202e, "the name contains a bidirectional override or embedding (U+202A..U+202E)"},
        {0x2044, 0x2044, "the name contains a slash look-alike (U+2044 FRACTION SLASH)"},
        {0x2060, 0x2064, "the name contains an invisible character (U+2060..U+2064)"},
        {0x2066, 0x2069, "the name contains a bidirectional isolate (U+2066..U+2069)"},
        {0x206a, 0x206f, "the name contains a deprecated format character (U+206A..U+206F)"},
        {0x2215, 0x2215, "the name contains a slash look-alike (U+2215 DIVISION SLASH)"},
        {0x29f8, 0x29f8, "the name contains a slash look-alike (U+29F8 BIG SOLIDUS)"},
        {0x3164, 0x3164, "the name contains an invisible Hangul filler"},
        {0xfe00, 0xfe0f, "the name contains a variation selector"},
        {0xfeff, 0xfeff, "the name contains a zero-width character (U+FEFF ZERO WIDTH NO-BREAK SPACE)"},
        {0xff0f, 0xff0f, "the name contains a slash look-alike (U+FF0F FULLWIDTH SOLIDUS)"},
        {0xff3c, 0xff3c, "the name contains a backslash look-alike (U+FF3C FULLWIDTH REVERSE SOLIDUS)"},
        {0xffa0, 0xffa0, "the name contains an invisible Hangul filler"},
        {0xfff9, 0xfffb, "the name contains an interlinear annotation character"},
        {0xe0000, 0xe007f, "the name contains a tag character (U+E0000..U+E007F)"},
    };
    size_t i;
    for (i = 0; i < sizeof table / sizeof table[0]; i++)
        if (cp >= table[i].lo && cp <= table[i].hi)
            return table[i].what;
    return NULL;
}

const char *ff_name_problem(const char *name, size_t len)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t i, used;
    if (len == 0)
        return "the name is empty";
    if (len > FF_NAME_MAX)
        return "the name is longer than 255 bytes";
    if (p[0] == '.')
        return "the name starts with '.' (no '.', '..' or hidden names)";
    if (p[len - 1] == '.' || p[len - 1] == ' ')
        return "the name ends with a dot or a space (Windows drops them: two names would look the same)";
    if (p[0] == ' ')
        return "the name starts with a space";
    for (i = 0; i < len; i += used) {
        unsigned long cp = utf8_at(p + i, len - i, &used);
        const char *what;
        if (cp == 0)
            return "the name contains a NUL character";
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
            return "the name contains a control character";
        if (cp == '/')
            return "the name contains '/' (a name is one path component)";
        if (cp == '\\')
            return "the name contains a backslash";
        if (cp == ':')
            return "the name contains ':' (drive letters and streams are refused)";
        if ((what = spoofing_char(cp)) != NULL)
            return what;
    }
    return NULL;
}

const char *ff_user_problem(const char *name, size_t len)
{
    size_t i;
    if (len == 0 || len > FF_USER_MAX)
        return "a user name has 1 to 32 characters";
    for (i = 0; i < len; i++) {
        char ch = name[i];
        int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || (ch != '_' && ch != '-')))
            return "a user name is letters, digits, '_' and '-', starting with a letter or digit";
    }
    return NULL;
}

void ff_hex(const unsigned char *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ff_unhex(const char *s, size_t slen, unsigned char *out, size_t n)
{
    size_t i;
    if (slen != 2 * n)
        return -1;
    for (i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int ff_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        int k = n > 1u << 20 ? 1 << 20 : (int)n;
        if (RAND_bytes(p, k) != 1) {
            errno = EIO;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

double ff_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void ff_human_bytes(double v, char *out, size_t cap)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%.0f B", v);
    else
        snprintf(out, cap, "%.1f %s", v, unit[u]);
}
