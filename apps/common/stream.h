/*
 * apps/common/stream.h: the one event-loop layer of the servers in apps/:
 * a TCP listener on libuv, connections in plain TCP or TLS (OpenSSL over
 * memory BIOs), and the limits an unauthenticated peer meets before the
 * application sees a byte. Not part of libframe.
 *
 * What it enforces, so that each server does not have to:
 *   - at most `max_conns` connections, and at most the guard's
 *     max_conns_per_key per address (app_addr_key: an IPv4 address or an
 *     IPv6 /64); a refused connection gets `refuse_msg` (plain TCP only,
 *     best effort) and is closed at once; refusals are logged, at most one
 *     line per second;
 *   - `auth_timeout_ms`: a connection that has not called
 *     app_conn_authenticated() that long after it was accepted (TLS
 *     handshake included) is closed;
 *   - backoff: a new connection from an address the guard makes wait
 *     (app_guard_wait > 0, after failed logins) is not read at all (no TLS
 *     handshake, no parsing) until the wait is over; a TLS connection that
 *     ends unauthenticated counts as a failure of its address
 *     (app_guard_fail), so handshake floods back off too;
 *   - reading stops whenever the application does not consume what it was
 *     given (on_data returns less than len), so a peer cannot make the
 *     server buffer its input: what is kept is at most one read, 4 KiB
 *     before the connection is authenticated, 64 KiB after; writes are encrypted 64 KiB at a time while
 *     at most 256 KiB of ciphertext waits, so a peer that does not read
 *     costs at most that plus what the application queued.
 *
 * Bytes reach on_data exactly as recv() would give them (TLS: as SSL_read
 * returns them): feed them to a frame_decoder. Frames leave in one write:
 * app_conn_write() takes up to 4 buffers (head, body...) and hands them to
 * one uv_write (plain: one writev) or encrypts them into one.
 *
 * Everything runs on the loop's thread; no call blocks.
 */
#ifndef APP_STREAM_H
#define APP_STREAM_H

#include "guard.h"

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct app_server app_server;
typedef struct app_conn app_conn;

typedef struct app_server_config {
    const char *name;       /* for messages: "--listen" */
    const char *listen;     /* "HOST:PORT" (addr.h) */
    SSL_CTX *tls;           /* NULL = plain TCP; else from app_tls_server_ctx() */
    unsigned max_conns;     /* every connection of this listener; 0 = 1024 */
    app_guard *guard;       /* required: per-address counting (may be shared) */
    uint64_t auth_timeout_ms; /* 0 = no deadline */
    const void *refuse_msg; /* may be NULL */
    size_t refuse_len;
    /* A connection was accepted (TLS: before its handshake). */
    void (*on_open)(app_conn *c);
    /* Bytes from the peer. Return how many were used: fewer than len stops
     * reading; the rest is kept and given again (first) after
     * app_conn_read_start(). May close the connection (then return len). */
    size_t (*on_data)(app_conn *c, const void *data, size_t len);
    /* The peer ended its stream (FIN, or TLS close_notify). The connection
     * stays open for writing; close it when done. May be NULL (= close). */
    void (*on_end)(app_conn *c);
    /* The connection is going away (any cause): release your state. No
     * callback of this connection runs after it, write callbacks included. */
    void (*on_close)(app_conn *c);
    void *data;             /* yours: app_server_data() */
} app_server_config;

/*
 * Binds and listens (SO_REUSEADDR, as libuv does on every TCP bind).
 * Returns NULL with a message in err: "127.0.0.1:9000 is already in use
 * (another server is running there?)", a bad address, and so on. The
 * config is copied; its callbacks, guard, tls and refuse_msg must outlive
 * the server.
 */
app_server *app_server_new(uv_loop_t *loop, const app_server_config *cfg, char *err, size_t errcap);
/* "127.0.0.1:43210": the address really bound (port 0 resolved). */
const char *app_server_name(const app_server *s);
void *app_server_data(const app_server *s);
uv_loop_t *app_server_loop(const app_server *s);
unsigned app_server_conns(const app_server *s);
/* Stops listening and closes every connection (on_close for each). The
 * memory goes once the loop has run the handles' close callbacks. */
void app_server_close(app_server *s);

void *app_conn_data(const app_conn *c);
void app_conn_set_data(app_conn *c, void *data);
app_server *app_conn_server(const app_conn *c);
/* "127.0.0.1:43210" of the peer, and its guard key ("127.0.0.1"). */
const char *app_conn_peer(const app_conn *c);
const char *app_conn_key(const app_conn *c);
/* 1 once the TLS handshake is done (always 1 in plain TCP). */
int app_conn_secure_ready(const app_conn *c);

/* The peer proved who it is: the auth deadline no longer applies. */
void app_conn_authenticated(app_conn *c);

/* Stop / resume reading. Resuming first gives the kept bytes to on_data,
 * from the loop (never from inside this call). */
void app_conn_read_stop(app_conn *c);
void app_conn_read_start(app_conn *c);

/* status 0, or a negative libuv error (UV_ECANCELED...). */
typedef void (*app_write_cb)(app_conn *c, int status, void *arg);

/*
 * Queues `n` (1..4) buffers, at least one byte in all, as one write, in
 * order after earlier writes (never sent in the middle of another).
 * The memory they point to must stay valid and unchanged until cb(c, status,
 * arg) (cb may be NULL), which is not called if the connection closes first
 * (on_close comes instead). 0, or a negative libuv error.
 */
int app_conn_write(app_conn *c, const uv_buf_t *bufs, unsigned n, app_write_cb cb, void *arg);
/* Bytes queued and not yet handed to the kernel. */
size_t app_conn_write_queue(const app_conn *c);

/* One timer per connection, for the application: cb after ms (0 = stop).
 * Setting it again replaces it. */
void app_conn_timer(app_conn *c, uint64_t ms, void (*cb)(app_conn *c));

/* Closes now (pending writes are dropped). Safe to call twice. */
void app_conn_close(app_conn *c);
/*
 * Closes gracefully: once the queued writes are out, ends the stream (TLS
 * close_notify, then FIN) and discards what the peer still sends for up to
 * linger_ms, so that unread input cannot reset the connection (RST) and
 * destroy the last reply before the peer reads it. on_data and on_end are
 * not called any more; the callbacks of the queued writes still run, and
 * on_close comes when the connection is really closed.
 */
void app_conn_close_after_write(app_conn *c, uint64_t linger_ms);

#endif /* APP_STREAM_H */
