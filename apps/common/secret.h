/*
 * apps/common/secret.h: access tokens, with OpenSSL's libcrypto (vetted
 * random numbers and constant-time comparison). Not part of libframe.
 */
#ifndef APP_SECRET_H
#define APP_SECRET_H

#include <stddef.h>

/* Shortest token a server accepts, in bytes: shorter ones are guessable. */
#define APP_TOKEN_MIN 16
/* Longest token, in bytes. */
#define APP_TOKEN_MAX 255

/* 1 if the `alen` bytes at a equal the `blen` bytes at b. The time taken
 * depends on neither content nor where they differ (CRYPTO_memcmp over
 * APP_TOKEN_MAX bytes), only on nothing secret; lengths above APP_TOKEN_MAX
 * never match. */
int app_token_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Writes 2*nbytes lowercase hex digits of RAND_bytes() and a NUL into out
 * (cap >= 2*nbytes+1). 0, or -1 if the generator fails (never a weak token). */
int app_random_hex(char *out, size_t cap, size_t nbytes);

/*
 * Writes `token` and a newline to `path`, readable and writable by this
 * user only (mode 0600, whatever the umask): written aside with O_EXCL,
 * fsync'ed, renamed over path, then the directory is fsync'ed. 0, or -1 with
 * a message naming the path and errno in err.
 */
int app_token_file_write(const char *path, const char *token, char *err, size_t errcap);

/* Reads the first line of `path` into buf (cap bytes, NUL-terminated, the
 * newline dropped). Refuses a file that others can read (mode & 077), since
 * its token would be known to them. 0, or -1 with a message in err. */
int app_token_file_read(const char *path, char *buf, size_t cap, char *err, size_t errcap);

#endif /* APP_SECRET_H */
