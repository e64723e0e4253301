/*
 * tools/frame/net.h: what send.c and listen.c share (net.c).
 */
#ifndef TOOL_NET_H
#define TOOL_NET_H

#include <sys/socket.h>
#include <time.h>

#include "tool.h"

#define DGRAM_MAX 65536 /* the largest UDP payload, rounded up */

/* "HOST:PORT", "[IPv6]:PORT", "PORT" (host 127.0.0.1), ":PORT" (every
 * interface: host ""). Returns 0 or EXIT_USAGE after a message. */
int split_addr(const char *text, char *host, size_t hcap, char *port, size_t pcap);
/* "127.0.0.1:9000" or "[::1]:9000" into buf. */
void addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap);
/* What an errno means for a user of send/listen. */
const char *net_reason(int e);
/* poll(2) on one descriptor, EINTR retried: > 0 ready, 0 timed out. */
int wait_fd(int fd, short events, int timeout_ms);
/* A connected non-blocking socket (name gets the address), or -1 after a message. */
int connect_to(const char *host, const char *port, int dgram, int timeout_ms, char *name, size_t ncap);
/* A bound (TCP: listening) blocking socket with SO_REUSEADDR, or -1 after a
 * message; says "frame: listening on ADDRESS (tcp|udp)" on stderr. */
int listen_on(const char *host, const char *port, int dgram);
long elapsed_ms(const struct timespec *since);

/* How frames that arrive are shown and answered. */
typedef struct session {
    const params *p;
    int body_mode;
    /* listen: the answer to each frame */
    int echo;
    const unsigned char *reply_head, *reply_body;
    size_t reply_head_len, reply_body_len;
    unsigned char *out; /* queued replies (TCP) */
    size_t out_len, out_cap, out_done;
    unsigned char *dgram_reply; /* the reply to the datagram just decoded (UDP) */
    size_t dgram_reply_len;
} session;

/* A done_fn (reader.c): prints the frame like decode and queues the answer
 * (listen: the same frame with --echo, or the fixed reply) in s->out. */
int arrived(reader *r, void *ctx);

#endif /* TOOL_NET_H */
