/*
 * frame-files: what the client and the server share: protocol constants,
 * name checks, checksums, hex, randomness, time. See docs/APPS-files.md
 * for the protocol.
 */
#ifndef FF_FF_H
#define FF_FF_H

#include <stddef.h>
#include <stdint.h>

#include "crc32c.h"
#include "frame.h"

#define FF_DEFAULT_PORT 7417
#define FF_MAX_HEADER 16384u   /* requests and replies are small: 16 KiB headers */
#define FF_NAME_MAX 255        /* bytes in a file name, after JSON unescaping */
#define FF_USER_MAX 32         /* bytes in a user name */
#define FF_PASSWORD_MAX 1024   /* bytes in a password */
#define FF_PASSWORD_MIN 8
#define FF_TOKEN_BYTES 32      /* session token; 64 hex digits on the wire */
#define FF_DEFAULT_BUFFER (1u << 20)

#if defined(__GNUC__) || defined(__clang__)
#define FF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define FF_NORETURN __attribute__((noreturn))
#else
#define FF_PRINTF(f, a)
#define FF_NORETURN
#endif

/* The frame parameters both sides use: defaults, 16 KiB headers. */
extern const frame_config ff_frame_config;

/* Checksums a transfer can carry. */
typedef enum ff_algo { FF_SHA256 = 1, FF_CRC32C = 2 } ff_algo;

#define FF_SHA256_DIGEST 32

/* A running checksum. SHA-256 comes from OpenSSL's libcrypto (EVP_Digest*);
   CRC-32C is a checksum, not cryptography, and stays in crc32c.c. */
typedef struct ff_sum {
    ff_algo algo;
    uint32_t crc;
    void *md; /* EVP_MD_CTX *, NULL for CRC-32C or after ff_sum_final/free */
} ff_sum;

/* "sha256" / "crc32c" <-> ff_algo; ff_algo_parse returns 0 if unknown. */
ff_algo ff_algo_parse(const char *s);
const char *ff_algo_name(ff_algo a);
/* Hex digits of a finished checksum: 64 for SHA-256, 8 for CRC-32C. */
size_t ff_algo_hexlen(ff_algo a);
/* Returns 0, or -1 when libcrypto cannot allocate a digest context. */
int ff_sum_init(ff_sum *s, ff_algo a);
void ff_sum_update(ff_sum *s, const void *p, size_t n);
/* Writes the lowercase hex digest and a NUL into out[65]; frees the context. */
void ff_sum_final(ff_sum *s, char out[65]);
/* Frees an unfinished sum (an interrupted transfer); harmless when finished. */
void ff_sum_free(ff_sum *s);

/* SHA-256 of one buffer (libcrypto). */
void ff_sha256(const void *p, size_t n, unsigned char out[FF_SHA256_DIGEST]);
/* PBKDF2-HMAC-SHA256 (libcrypto's PKCS5_PBKDF2_HMAC); returns 0 or -1. */
int ff_pbkdf2_sha256(const void *pw, size_t pwlen, const void *salt, size_t saltlen, uint32_t iterations,
                     unsigned char *out, size_t outlen);
/* OPENSSL_cleanse: overwrites n bytes in a way the compiler may not drop. */
void ff_wipe(void *p, size_t n);
/* CRYPTO_memcmp: 1 if a[0..n) == b[0..n), in time that depends only on n. */
int ff_ct_equal(const void *a, const void *b, size_t n);

/*
 * Checks a file name received from the network, AFTER JSON unescaping (so
 * `len`, not strlen: it may contain NUL). A name is one path component of
 * 1..255 bytes; refused: a leading '.' (covers "." "..", hidden and
 * temporary files), '/', '\\', ':', NUL, every control character (C0,
 * DEL, C1 U+0080..U+009F), a leading space, a trailing dot or space, and the
 * characters that make a listing lie: bidirectional overrides, marks and
 * isolates, zero-width and other invisible characters, variation selectors,
 * tag characters, and slash look-alikes (U+2044, U+2215, U+29F8, U+FF0F).
 * Returns NULL when the name is acceptable, else a short English reason
 * naming the character (the server sends it with the error BAD_NAME). The caller guarantees valid UTF-8 (the frame
 * decoder does).
 */
const char *ff_name_problem(const char *name, size_t len);
/* User names: 1..32 of [A-Za-z0-9_-], starting with a letter or digit. */
const char *ff_user_problem(const char *name, size_t len);

void ff_hex(const unsigned char *p, size_t n, char *out);
/* Decodes exactly 2*n hex digits; returns 0 on success, -1 otherwise. */
int ff_unhex(const char *s, size_t slen, unsigned char *out, size_t n);

/* Fills buf from libcrypto's RAND_bytes; returns 0, or -1 (errno set to EIO). */
int ff_random(void *buf, size_t n);

/* Monotonic seconds. */
double ff_now(void);

/* "12.3 MiB" style, into out (at least 16 bytes). */
void ff_human_bytes(double v, char *out, size_t cap);

#endif
