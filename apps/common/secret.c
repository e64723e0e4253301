/* apps/common/secret.c: see secret.h. */
#define _GNU_SOURCE

#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int app_token_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    unsigned char pa[APP_TOKEN_MAX], pb[APP_TOKEN_MAX];
    int same;
    if (alen > APP_TOKEN_MAX || blen > APP_TOKEN_MAX)
        return 0;
    /* Padded to one fixed length: the comparison's time says nothing about
     * the secret's length or content. */
    memset(pa, 0, sizeof pa);
    memset(pb, 0, sizeof pb);
    memcpy(pa, a, alen);
    memcpy(pb, b, blen);
    same = CRYPTO_memcmp(pa, pb, sizeof pa) == 0;
    OPENSSL_cleanse(pa, sizeof pa);
    OPENSSL_cleanse(pb, sizeof pb);
    return same && alen == blen;
}

int app_random_hex(char *out, size_t cap, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[128];
    if (nbytes > sizeof raw || cap < 2 * nbytes + 1)
        return -1;
    if (RAND_bytes(raw, (int)nbytes) != 1)
        return -1;
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int app_token_file_write(const char *path, const char *token, char *err, size_t errcap)
{
    char tmp[4096], dirbuf[4096];
    int fd, saved;

    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        snprintf(err, errcap, "%s: path too long", path);
        return -1;
    }
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errcap, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0600) < 0 || write_all(fd, token, strlen(token)) < 0 ||
        write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
        saved = errno;
        close(fd);
        unlink(tmp);
        snprintf(err, errcap, "cannot write %s: %s", tmp, strerror(saved));
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        saved = errno;
        unlink(tmp);
        snprintf(err, errcap, "cannot save %s: %s", path, strerror(saved));
        return -1;
    }
    snprintf(dirbuf, sizeof dirbuf, "%s", path);
    fd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) < 0 && errno != EINVAL) {
            saved = errno;
            close(fd);
            snprintf(err, errcap, "cannot sync the directory of %s: %s", path, strerror(saved));
            return -1;
        }
        close(fd);
    }
    return 0;
}

int app_token_file_read(const char *path, char *buf, size_t cap, char *err, size_t errcap)
{
    struct stat st;
    FILE *f;
    size_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
        close(fd);
        snprintf(err, errcap, "%s can be read by other users (mode %03o): chmod 600 it",
                 path, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    if (!(f = fdopen(fd, "r"))) {
        close(fd);
        snprintf(err, errcap, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (!fgets(buf, (int)cap, f)) {
        fclose(f);
        snprintf(err, errcap, "%s is empty", path);
        return -1;
    }
    fclose(f);
    n = strcspn(buf, "\r\n");
    buf[n] = '\0';
    return 0;
}
