/*
 * SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and PBKDF2-HMAC-SHA256
 * (RFC 8018), written for the frame-files example. No dependency.
 *
 * On x86-64 CPUs with the SHA extensions the block function uses them
 * (chosen once at run time; set FRAME_FILES_NO_SHANI=1 in the environment to
 * force the portable C code). Both paths give identical results; the tests
 * check both against the NIST and RFC vectors.
 */
#ifndef FRAME_FILES_SHA256_H
#define FRAME_FILES_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BLOCK 64
#define SHA256_DIGEST 32

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t total;              /* bytes hashed so far */
    unsigned char buf[SHA256_BLOCK];
    size_t have;                 /* bytes waiting in buf */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_final(sha256_ctx *c, unsigned char out[SHA256_DIGEST]);
void sha256(const void *data, size_t len, unsigned char out[SHA256_DIGEST]);

/* "shani" or "portable": which block function sha256_update uses. */
const char *sha256_impl(void);
/* Forces the portable block function (1) or the automatic choice (0). */
void sha256_force_portable(int on);

void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                 unsigned char out[SHA256_DIGEST]);

/* PBKDF2-HMAC-SHA256 producing out_len bytes (any length). iterations >= 1. */
void pbkdf2_sha256(const void *password, size_t pw_len, const void *salt, size_t salt_len,
                   uint32_t iterations, unsigned char *out, size_t out_len);

/* Overwrites n bytes in a way the compiler may not drop. */
void secure_zero(void *p, size_t n);
/* 1 if a[0..n) == b[0..n), in time that depends only on n. */
int ct_equal(const void *a, const void *b, size_t n);

#endif
