/*
 * apps/common/client.h: the blocking connection of the clients in apps/,
 * plain TCP or TLS (OpenSSL on the socket). Not part of libframe.
 *
 * Replies are read with app_io_recv() and fed to a frame_decoder exactly as
 * bytes from recv() would be; requests leave with app_io_gather(), a
 * frame_gather_fn, so each frame goes out in one write (one sendmsg(), or
 * one SSL_write() of head and body copied together).
 */
#ifndef APP_CLIENT_H
#define APP_CLIENT_H

#include "frame.h"

#include <openssl/ssl.h>
#include <stddef.h>

typedef struct app_io {
    int fd;   /* -1 when closed */
    SSL *ssl; /* NULL for plain TCP */
} app_io;

/*
 * Connects to host:port; with `tls` (from app_tls_client_ctx) runs the TLS
 * handshake and verifies that the certificate is valid for `host` (a name or
 * an IP address). 0, or -1 with a one-line message in err.
 */
int app_io_connect(app_io *io, const char *host, const char *port, SSL_CTX *tls, char *err,
                   size_t errcap);

/* Like recv(): bytes read (> 0), 0 at the end of the stream (a TLS
 * close_notify or, plain, the peer's FIN), -1 on an error (errno or the
 * TLS error queue). EINTR is retried. */
long app_io_recv(app_io *io, void *buf, size_t len);

/* A frame_gather_fn for an app_io (ctx = the app_io *): writes every span,
 * blocking, and returns their total, or -1. */
long app_io_gather(void *ctx, const frame_span *spans, int count);

/* Writes len bytes (blocking). 0 or -1. */
int app_io_write_all(app_io *io, const void *data, size_t len);

/* Half-close for writing (plain TCP only; TLS sends close_notify). */
void app_io_shutdown_write(app_io *io);

/* Ends the TLS session (close_notify) and closes the socket. */
void app_io_close(app_io *io);

#endif /* APP_CLIENT_H */
