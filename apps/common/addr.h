/*
 * apps/common/addr.h: addresses for the servers and clients in apps/.
 * Not part of libframe.
 *
 * Addresses are written "HOST:PORT", "[IPv6]:PORT" or "PORT":
 *   "127.0.0.1:9000"  IPv4 loopback       "[::1]:9000"  IPv6 loopback
 *   "9000"            127.0.0.1:9000      ":9000"       every interface
 *   port 0 lets the kernel choose (the servers print the port they got).
 */
#ifndef APP_ADDR_H
#define APP_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Longest text of app_addr_name()/app_addr_key(), NUL included. */
#define APP_ADDR_MAX 64

/* Splits "HOST:PORT" (forms above) into host and port. "PORT" alone gives
 * host "127.0.0.1"; ":PORT" gives host "" (every interface). 0, or -1 when
 * malformed or a buffer is too small. */
int app_split_hostport(const char *text, char *host, size_t hostcap, char *port, size_t portcap);

/* 1 if every address `host` resolves to is loopback (127/8, ::1,
 * ::ffff:127.x.y.z), 0 if any is not ("" = every interface = 0), -1 if it
 * does not resolve. */
int app_host_is_loopback(const char *host);

/* 1 if the socket address is a loopback address, else 0. */
int app_sockaddr_is_loopback(const struct sockaddr *sa);

/* "127.0.0.1:43210" or "[::1]:43210" into buf (APP_ADDR_MAX bytes). 0 / -1. */
int app_addr_name(const struct sockaddr *sa, char *buf, size_t cap);

/* The key that per-address limits count by: the IPv4 address, or the /64
 * prefix of an IPv6 address ("2001:db8:1:2::/64"), since one host usually
 * owns a whole /64; an IPv4-mapped IPv6 address counts as its IPv4 address.
 * Into buf (APP_ADDR_MAX bytes). 0 / -1. */
int app_addr_key(const struct sockaddr *sa, char *buf, size_t cap);

/*
 * The exposure rule of both servers: listening on a non-loopback address
 * without TLS is refused, unless `insecure_no_tls`, because tokens,
 * passwords and data would cross the network in clear text, readable and
 * alterable by anyone on the path. Returns 0 when allowed (printing a
 * warning to stderr for an insecure non-loopback listener), -1 after
 * printing why it is refused (or that the host does not resolve).
 * `what` names the listener in messages ("--listen", "--classic-listen").
 */
int app_check_exposure(const char *what, const char *hostport, int have_tls, int insecure_no_tls);

/* A blocking TCP socket connected to host:port, with TCP_NODELAY and
 * close-on-exec. Returns the fd, or -1 with a one-line message in err. */
int app_connect_tcp(const char *host, const char *port, char *err, size_t errcap);

#endif /* APP_ADDR_H */
