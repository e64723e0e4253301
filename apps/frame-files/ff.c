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

const char *ff_name_problem(const char *name, size_t len)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t i;
    if (len == 0)
        return "the name is empty";
    if (len > FF_NAME_MAX)
        return "the name is longer than 255 bytes";
    if (p[0] == '.')
        return "the name starts with '.' (no '.', '..' or hidden names)";
    for (i = 0; i < len; i++) {
        if (p[i] == 0)
            return "the name contains a NUL character";
        if (p[i] < 0x20 || p[i] == 0x7f)
            return "the name contains a control character";
        if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            return "the name contains a control character";
        if (p[i] == '/')
            return "the name contains '/' (a name is one path component)";
        if (p[i] == '\\')
            return "the name contains a backslash";
        if (p[i] == ':')
            return "the name contains ':' (drive letters and streams are refused)";
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
