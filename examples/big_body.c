/*
 * Lesson 6: a body larger than memory. A file goes over TCP as the body of
 * one frame, read and sent in 64 KiB chunks, received and written in the
 * chunks the socket delivers: memory stays the same for 1 KiB or 1 TiB.
 *   big_body recv PORT OUTFILE    (PORT 0: any free one; takes one file)
 *   big_body send PORT FILE
 * Sending: frame_write_begin() declares the size (the file's: it must be
 * known before the first byte); frame_write_body() sends each chunk;
 * frame_write_end() checks that the chunks added up (a file that grew or
 * shrank meanwhile gives FRAME_E_SIZE_MISMATCH, never a frame that lies).
 * Receiving: on_body gets zero-copy chunks, views of our read buffer, and
 * writes each to the file before it returns: nothing is copied or kept. The
 * file goes where the receiver was told, never to the sender's "name".
 * The checksum is known only after the last chunk, so it follows in a
 * second frame, {"size":0,"fnv1a64":"..."}, as a string: JSON numbers above
 * 2^53 do not survive every decoder. FNV-1a catches accidents, not attacks:
 * for that, a cryptographic hash (SHA-256) or an authenticated channel.
 */
#define _POSIX_C_SOURCE 200809L
#include "lesson_net.h"
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

static uint64_t fnv1a(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    while (len--) h = (h ^ *p++) * 0x100000001b3u; /* the FNV-1a 64-bit prime */
    return h;
}
#define FNV_START 0xcbf29ce484222325u

/* The most memory this program has held: VmHWM on Linux. (getrusage()'s
 * ru_maxrss would do elsewhere, but on Linux it also counts what the parent
 * process held before it started this program.) */
static void report_memory(void) {
    char line[128];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && kib < 0 && fgets(line, sizeof line, f)) sscanf(line, "VmHWM: %ld", &kib);
    if (f) fclose(f);
    printf("peak resident memory: %.1f MiB\n", (double)kib / 1024);
}

static int send_file(const char *port, const char *path) {
    static char chunk[65536];
    unsigned char head[256];
    char hex[17];
    struct stat st;
    frame_encoder enc;
    frame_builder b;
    frame_errno e;
    uint64_t sum = FNV_START;
    ssize_t n;
    int fd = open(path, O_RDONLY), sock;
    if (fd < 0 || fstat(fd, &st) < 0) lesson_die(path);
    sock = lesson_connect(port, SOCK_STREAM);
    frame_encoder_init_gather(&enc, lesson_writev, &sock); /* one writev() a call */
    frame_builder_init(&b, NULL, head, sizeof head, (uint64_t)st.st_size);
    frame_builder_add_string(&b, "name", path);
    e = frame_write_begin(&enc, &b); /* the head waits, to leave with the first chunk */
    while (e == FRAME_OK && (n = read(fd, chunk, sizeof chunk)) > 0) {
        sum = fnv1a(sum, chunk, (size_t)n);
        e = frame_write_body(&enc, chunk, (size_t)n);
        while (e == FRAME_E_WOULD_BLOCK) e = frame_encoder_resume(&enc); /* a short write */
    }
    if (e == FRAME_OK) e = frame_write_end(&enc);
    snprintf(hex, sizeof hex, "%016" PRIx64, sum);
    frame_builder_init(&b, NULL, head, sizeof head, 0); /* the trailer */
    frame_builder_add_string(&b, "fnv1a64", hex);
    if (e == FRAME_OK) e = frame_write(&enc, &b, NULL, 0);
    if (e != FRAME_OK) return fprintf(stderr, "big_body: %s\n", frame_strerror(e)), 1;
    printf("sent %s: %lld bytes, fnv1a64 %s\n", path, (long long)st.st_size, hex);
    report_memory();
    return 0;
}

typedef struct receiver {
    int out;                    /* the file written */
    uint64_t size, got, sum;    /* declared, received so far, checksum so far */
    unsigned percent;           /* last progress shown */
    char sent_sum[17];          /* the sender's, from the trailer */
} receiver;

static int on_header(frame_decoder *d, const frame_header *h) {
    receiver *r = d->data;
    char name[256];
    if (frame_header_get_string(h, "fnv1a64", r->sent_sum, sizeof r->sent_sum, NULL) == FRAME_OK)
        return FRAME_CONTINUE; /* the trailer */
    if (frame_header_get_string(h, "name", name, sizeof name, NULL) != FRAME_OK) return -1;
    printf("receiving \"%s\": %" PRIu64 " bytes\n", name, h->body_size);
    r->size = h->body_size;
    return FRAME_CONTINUE;
}
/* A zero-copy chunk, valid until we return: written out, summed, gone. */
static int on_body(frame_decoder *d, const void *at, size_t len) {
    receiver *r = d->data;
    unsigned percent;
    if (write(r->out, at, len) != (ssize_t)len) return -1; /* a regular file: all or error */
    r->sum = fnv1a(r->sum, at, len);
    r->got += len;
    percent = (unsigned)(r->got * 100 / r->size);
    if (percent != r->percent) { /* the progress line, redrawn in place (\r) */
        r->percent = percent;
        fprintf(stderr, "\r%3u%% %8.1f of %.1f MiB", percent, (double)r->got / 1048576,
                (double)r->size / 1048576);
    }
    return FRAME_CONTINUE;
}

static int recv_file(const char *port, const char *path) {
    static const frame_callbacks cb = {on_header, on_body, NULL};
    static unsigned char in[65536];
    static char header_buf[4096];
    char hex[17];
    frame_config cfg = FRAME_CONFIG_INIT;
    receiver r = {-1, 0, 0, FNV_START, 0, ""};
    frame_decoder dec;
    ssize_t n;
    int lfd = lesson_listen(port, SOCK_STREAM), sock = accept(lfd, NULL, NULL);
    if (sock < 0 || (r.out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) lesson_die(path);
    cfg.max_header = sizeof header_buf;
    frame_decoder_init(&dec, &cfg, &cb, header_buf, sizeof header_buf, &r);
    while ((n = read(sock, in, sizeof in)) > 0) { /* the only buffer the body passes */
        frame_feed(&dec, in, (size_t)n);
        if (frame_decoder_errno(&dec) != FRAME_OK) break;
    }
    fputc('\n', stderr);
    if (n < 0 || frame_finish(&dec, NULL) != FRAME_OK || frame_decoder_frame_index(&dec) != 2)
        return fprintf(stderr, "big_body: the transfer stopped after %llu frames: %s\n",
                       (unsigned long long)frame_decoder_frame_index(&dec),
                       n < 0 ? "read error" : frame_errname(frame_decoder_errno(&dec))), 1;
    snprintf(hex, sizeof hex, "%016" PRIx64, r.sum);
    printf("received %" PRIu64 " bytes, fnv1a64 %s: %s\n", r.got, hex,
           strcmp(hex, r.sent_sum) == 0 ? "matches the sender's" : "DOES NOT MATCH");
    report_memory();
    return strcmp(hex, r.sent_sum) != 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && strcmp(argv[1], "send") == 0) return send_file(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "recv") == 0) return recv_file(argv[2], argv[3]);
    fprintf(stderr, "usage: big_body recv PORT OUTFILE | big_body send PORT FILE\n");
    return 2;
}
