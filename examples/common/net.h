/*
 * examples/common/net.h: small socket helpers shared by the libframe examples.
 *
 * Not part of libframe. POSIX sockets only; every function is thread-safe and
 * keeps no state. Functions that can fail return -1 and, where they take an
 * `err` buffer, write a one-line English message into it (no trailing
 * newline) that names the address and the cause; errno is left set too.
 *
 * Addresses are written "HOST:PORT", "[IPv6]:PORT" or "PORT":
 *   "127.0.0.1:9000"  IPv4 loopback       "[::1]:9000"  IPv6 loopback
 *   "9000"            means 127.0.0.1:9000 ":9000"      every interface
 *   "localhost:0"     port 0 = let the kernel choose (see net_local_name)
 *
 * Every descriptor these functions create is close-on-exec, so a program
 * that spawns children does not leak sockets into them.
 */
#ifndef EXAMPLES_NET_H
#define EXAMPLES_NET_H

#include <stddef.h>
#include <sys/types.h>

/* Longest text produced by net_local_name()/net_peer_name(), NUL included. */
#define NET_NAME_MAX 64

/* Splits "HOST:PORT" (forms above) into host and port strings. "PORT" alone
 * gives host "127.0.0.1"; ":PORT" gives host "" (every interface). Returns 0,
 * or -1 if the text is malformed or a buffer is too small. */
int net_split_hostport(const char *text, char *host, size_t hostcap, char *port, size_t portcap);

/* 1 if every address `host` resolves to is a loopback address (127.0.0.0/8,
 * ::1, ::ffff:127.x.y.z), 0 if any is not ("" = every interface = 0), -1 if
 * it does not resolve. Use it to refuse exposing a service by accident. */
int net_host_is_loopback(const char *host);

/* Creates a socket of `socktype` (SOCK_STREAM or SOCK_DGRAM) bound to
 * host:port with SO_REUSEADDR, listening (stream) with `backlog`. The socket
 * is blocking unless `nonblocking`. Returns the fd, or -1 with a message such
 * as "127.0.0.1:9000 is already in use (is another server running?)". */
int net_listen(const char *host, const char *port, int socktype, int backlog, int nonblocking,
               char *err, size_t errcap);

/* A blocking socket of `socktype` connected to host:port (TCP: with
 * TCP_NODELAY). Returns the fd, or -1 with a message. */
int net_connect(const char *host, const char *port, int socktype, char *err, size_t errcap);

/* "127.0.0.1:43210" / "[::1]:43210" for the local or remote end of `fd`
 * (into buf of NET_NAME_MAX bytes). Returns 0 or -1. */
int net_local_name(int fd, char *buf, size_t cap);
int net_peer_name(int fd, char *buf, size_t cap);
/* The local port of a bound socket, or -1. */
int net_local_port(int fd);

/* Descriptor flags. Each returns 0 or -1. */
int net_set_nonblocking(int fd, int on);
int net_set_cloexec(int fd);
int net_set_nodelay(int fd); /* TCP_NODELAY: no Nagle delay for small replies */

/*
 * A frame_write_fn (see frame.h) for a file descriptor; `ctx` points to an
 * int holding the fd. Sockets are written with send(MSG_NOSIGNAL), so a
 * closed peer gives an error instead of SIGPIPE; other descriptors with
 * write(). On a blocking fd it writes everything; on a non-blocking one it
 * writes what fits and returns that count (0..len), which libframe's encoder
 * turns into FRAME_E_WOULD_BLOCK. Returns -1 on an error (errno set).
 */
long net_fd_write(void *ctx, const void *data, size_t len);

/* What net_fd_write does, on an fd given directly and with extra send()
 * flags (e.g. MSG_MORE); for a frame_write_fn of your own. */
long net_send(int fd, const void *data, size_t len, int flags);

/* Writes all `len` bytes to a blocking fd (retrying short writes and EINTR).
 * Returns 0, or -1 on error. */
int net_write_all(int fd, const void *data, size_t len);

/* Raises the soft RLIMIT_NOFILE towards `want` (capped by the hard limit).
 * Returns the soft limit in force afterwards. */
long net_raise_nofile(long want);

#endif /* EXAMPLES_NET_H */
