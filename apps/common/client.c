/* apps/common/client.c: see client.h. */
#define _GNU_SOURCE

#include "client.h"
#include "addr.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int is_ip(const char *host)
{
    unsigned char b[16];
    return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

int app_io_connect(app_io *io, const char *host, const char *port, SSL_CTX *tls, char *err,
                   size_t errcap)
{
    io->ssl = NULL;
    io->fd = app_connect_tcp(host, port, err, errcap);
    if (io->fd < 0)
        return -1;
    if (!tls)
        return 0;
    io->ssl = SSL_new(tls);
    if (!io->ssl || SSL_set_fd(io->ssl, io->fd) != 1) {
        app_tls_error(err, errcap, "TLS");
        app_io_close(io);
        return -1;
    }
    if (is_ip(host)) {
        X509_VERIFY_PARAM *p = SSL_get0_param(io->ssl);
        X509_VERIFY_PARAM_set1_ip_asc(p, host);
    } else {
        char sni[256]; /* the macro SSL_set_tlsext_host_name casts const away */
        snprintf(sni, sizeof sni, "%s", host);
        SSL_ctrl(io->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, sni);
        SSL_set1_host(io->ssl, host);
    }
    if (SSL_connect(io->ssl) != 1) {
        long v = SSL_get_verify_result(io->ssl);
        char what[400];
        if (v != X509_V_OK)
            snprintf(what, sizeof what, "%s:%s: TLS: the server's certificate is not trusted: %s",
                     host, port, X509_verify_cert_error_string(v));
        else
            snprintf(what, sizeof what, "%s:%s: TLS handshake failed", host, port);
        app_tls_error(err, errcap, what);
        app_io_close(io);
        return -1;
    }
    return 0;
}

long app_io_recv(app_io *io, void *buf, size_t len)
{
    if (io->ssl) {
        size_t got = 0;
        int rc;
        ERR_clear_error();
        rc = SSL_read_ex(io->ssl, buf, len, &got);
        if (rc == 1)
            return (long)got;
        rc = SSL_get_error(io->ssl, rc);
        if (rc == SSL_ERROR_ZERO_RETURN)
            return 0;
        /* A peer that closes without close_notify: an end, for the decoder
         * to judge (frame_finish says whether a frame was cut). */
        if (rc == SSL_ERROR_SYSCALL && errno == 0)
            return 0;
        if (rc == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return 0;
        return -1;
    }
    for (;;) {
        ssize_t n = recv(io->fd, buf, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        return (long)n;
    }
}

int app_io_write_all(app_io *io, const void *data, size_t len)
{
    const char *p = data;
    if (io->ssl) {
        size_t done = 0;
        if (len == 0)
            return 0;
        return SSL_write_ex(io->ssl, data, len, &done) == 1 && done == len ? 0 : -1;
    }
    while (len) {
        ssize_t n = send(io->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

long app_io_gather(void *ctx, const frame_span *spans, int count)
{
    app_io *io = ctx;
    size_t total = 0;
    for (int i = 0; i < count; i++)
        total += spans[i].len;
    if (io->ssl) {
        /* One SSL_write of head and body together: one record train, one
         * send(). */
        unsigned char *all = malloc(total ? total : 1), *p = all;
        int rc;
        if (!all)
            return -1;
        for (int i = 0; i < count; i++) {
            memcpy(p, spans[i].data, spans[i].len);
            p += spans[i].len;
        }
        rc = app_io_write_all(io, all, total);
        free(all);
        return rc < 0 ? -1 : (long)total;
    } else {
        struct iovec iov[2];
        struct msghdr m;
        size_t left = total;
        int n = count < 2 ? count : 2;
        for (int i = 0; i < n; i++) {
            iov[i].iov_base = (void *)(size_t)spans[i].data; /* sendmsg does not write it */
            iov[i].iov_len = spans[i].len;
        }
        memset(&m, 0, sizeof m);
        m.msg_iov = iov;
        m.msg_iovlen = (size_t)n;
        while (left) {
            ssize_t w = sendmsg(io->fd, &m, MSG_NOSIGNAL);
            size_t k;
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return -1;
            left -= (size_t)w;
            k = (size_t)w;
            while (m.msg_iovlen && k >= m.msg_iov[0].iov_len) {
                k -= m.msg_iov[0].iov_len;
                m.msg_iov++;
                m.msg_iovlen--;
            }
            if (m.msg_iovlen) {
                m.msg_iov[0].iov_base = (char *)m.msg_iov[0].iov_base + k;
                m.msg_iov[0].iov_len -= k;
            }
        }
        return (long)total;
    }
}

void app_io_shutdown_write(app_io *io)
{
    if (io->ssl)
        SSL_shutdown(io->ssl);
    else if (io->fd >= 0)
        shutdown(io->fd, SHUT_WR);
}

void app_io_close(app_io *io)
{
    if (io->ssl) {
        SSL_shutdown(io->ssl);
        SSL_free(io->ssl);
        io->ssl = NULL;
    }
    if (io->fd >= 0)
        close(io->fd);
    io->fd = -1;
}
