/*
 * Lesson 5: datagrams. Over UDP each datagram carries exactly one frame, so
 * no stream is split or glued: frame_feed_datagram() takes one datagram and
 * checks all of it before any callback, so a bad one never yields half a
 * frame. It sends six frames to itself over 127.0.0.1 and reports:
 *   datagrams
 * What UDP does that TCP does not, and what the receiver does about it:
 *  - Truncation. recv() cuts a datagram longer than its buffer and says
 *    nothing (Linux tells the real length under MSG_TRUNC). The frame then
 *    ends before the size its header declares, so frame_feed_datagram()
 *    reports DATAGRAM_TRUNCATED instead of delivering half a message.
 *  - Loss (and duplicates, and reordering): nothing is sent again. Each
 *    frame carries a sequence number, so the receiver sees the gaps and
 *    the late ones, and decides: here it counts them and goes on (right for
 *    readings, where the next one replaces the lost one); a protocol that
 *    needs every message must ask again, or use TCP.
 *  - No end of stream: the receiver decides when to stop waiting.
 * A datagram stands alone: after a bad one, reset the decoder and go on.
 * (frame-udp-demo, examples/udp_demo/, compares TCP and UDP in a table.)
 */
#define _POSIX_C_SOURCE 200809L
#include "lesson_net.h"
#include <sys/time.h>

enum { RECV_BUF = 1024 }; /* the receiver's datagram buffer, too small on purpose */
static uint64_t expected, frames, missing, late; /* the next sequence number; counts */

static int on_header(frame_decoder *d, const frame_header *h) {
    uint64_t seq;
    (void)d;
    if (frame_header_get_uint64(h, "seq", &seq) != FRAME_OK) return -1; /* not ours */
    if (seq < expected) { /* a duplicate, or one that came after a later one */
        printf("seq %llu: late or twice, skipped", (unsigned long long)seq);
        late++;
        return FRAME_SKIP; /* no on_body for this one */
    }
    if (seq > expected) {
        printf("(seq %llu to %llu missing: lost, or cut and dropped)\n",
               (unsigned long long)expected, (unsigned long long)seq - 1);
        missing += seq - expected;
    }
    expected = seq + 1;
    frames++;
    printf("seq %llu: %llu bytes", (unsigned long long)seq, (unsigned long long)h->body_size);
    return FRAME_CONTINUE;
}
/* A datagram is in memory whole, so its body comes in one chunk (none if
 * empty); the datagram buffer holds it until the next recv(). */
static int on_body(frame_decoder *d, const void *at, size_t len) {
    printf(" \"%.*s\"", (int)len, (const char *)at);
    return (void)d, FRAME_CONTINUE;
}

/* Sends six frames {"size":N,"seq":S} + body, one datagram each (the
 * gathering transport: one writev() is one datagram). Loopback loses and
 * repeats nothing, so the lesson does: seq 3 is never sent, seq 5 twice. */
static void send_all(int tx) {
    static const uint64_t seqs[] = {0, 1, 2, 4, 5, 5};
    static char big[3000]; /* larger than the receiver's buffer */
    const char *bodies[] = {"hello", "one frame, one datagram", big, "after the gap", "twice", "twice"};
    frame_encoder enc;
    int i;
    memset(big, 'x', sizeof big);
    frame_encoder_init_gather(&enc, lesson_writev, &tx);
    for (i = 0; i < 6; i++) {
        unsigned char head[64];
        size_t len = bodies[i] == big ? sizeof big : strlen(bodies[i]);
        frame_builder b;
        frame_builder_init(&b, NULL, head, sizeof head, len);
        frame_builder_add_uint64(&b, "seq", seqs[i]);
        if (frame_write(&enc, &b, bodies[i], len) != FRAME_OK) lesson_die("send");
    }
}

int main(void) {
    static const frame_callbacks cb = {on_header, on_body, NULL}; /* main ends the line */
    static char header_buf[RECV_BUF], dgram[RECV_BUF];
    frame_config cfg = FRAME_CONFIG_INIT;
    struct timeval wait = {0, 300000};
    struct sockaddr_in at;
    socklen_t at_len = sizeof at;
    frame_decoder dec;
    unsigned bad = 0;
    int rx = lesson_listen("0", SOCK_DGRAM), tx = socket(AF_INET, SOCK_DGRAM, 0);
    cfg.max_header = RECV_BUF; /* no header can be longer than the datagram */
    frame_decoder_init(&dec, &cfg, &cb, header_buf, sizeof header_buf, NULL);
    getsockname(rx, (struct sockaddr *)&at, &at_len); /* where to send: rx */
    if (tx < 0 || connect(tx, (struct sockaddr *)&at, at_len) < 0) lesson_die("connect");
    send_all(tx);
    /* No end of stream: stop when nothing has come for 300 ms. */
    setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    for (;;) {
        ssize_t n = recv(rx, dgram, sizeof dgram, MSG_TRUNC); /* n: the real length */
        size_t got = n > RECV_BUF ? RECV_BUF : (size_t)n;
        frame_errno e;
        if (n < 0) break;
        if ((e = frame_feed_datagram(&dec, dgram, got)) == FRAME_OK) {
            putchar('\n'); /* the frame's callbacks are done, all of them */
        } else {
            printf("a datagram of %zd bytes, %zu read: %s, dropped\n", n, got, frame_errname(e));
            bad++;
            frame_decoder_reset(&dec); /* the next datagram starts afresh */
        }
    }
    printf("received %llu frames; dropped %u bad datagram(s); %llu missing, %llu late or twice\n",
           (unsigned long long)frames, bad, (unsigned long long)missing, (unsigned long long)late);
    return 0;
}
