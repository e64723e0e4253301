/*
 * c_peer: the C side of the Python binding's interoperability tests. It uses
 * only the public libframe API (frame_builder, frame_write*, frame_feed...).
 *
 *   c_peer batch                      commands on stdin, results on stdout
 *   c_peer send PORT SPLIT SEED       connect to 127.0.0.1:PORT, send the frames
 *                                     described on stdin, then close
 *   c_peer recv PORT SPLIT SEED       connect, decode frames until EOF, report them
 *   c_peer echo PORT SPLIT SEED       connect, send every frame received back,
 *                                     re-encoded canonically, until EOF
 *
 * SPLIT: "whole" (each frame in as few writes as the kernel allows), "1" (one
 * byte per send()/recv()), "rand" (random sizes from SEED). Sockets use
 * TCP_NODELAY and 20 s send/receive timeouts; the whole run is limited to 120 s.
 *
 * stdin commands (binary-safe: counts in a text line, then the bytes):
 *   C W BIG RAW MAXH MAXB NAMELEN\n<name>   set the config of what follows
 *   E NMEMBERS BODYLEN\n then per member "T NAMELEN VALUELEN\n<name><value>",
 *     then <body>: build a frame (T: s string, i int64, u uint64, b bool, n null,
 *     r raw JSON; numbers and bools are given as decimal text)
 *   P NMEMBERS BODYLEN SEED\n + members as for E: a frame whose body is the pattern
 *     byte i = (i * 7 + SEED) % 251, streamed with frame_write_body (send only)
 *   X LEN\n<bytes>                        raw bytes, sent as they are (send only)
 *   D MODE LEN\n<stream>                  decode (batch only); MODE w whole,
 *                                         r random splits, g one datagram
 *   H LEN\n<json>                         frame_header_parse (batch only)
 *
 * Output lines (then bytes where a length is given):
 *   OK LEN\n<frame>  |  ERR NAME\n                      (E in batch)
 *   F BODYLEN CRC32 DUMPLEN\n<dump>[<body> in batch]    one per decoded frame
 *   END OK\n  |  END NAME OFFSET FRAME MISSING DECLARED LIMIT\n
 *   R NAME POS SIZE\n                                  (H)
 * The dump is the header tree read back through the frame_value_* accessors:
 *   o<count>; (name value)*  a<count>; value*  s<len>;<bytes>  n<len>;<text>  T F N
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include "frame.h"

/* ---------------------------------------------------------------- utilities */

#if defined(__GNUC__)
#define PEER_NORETURN __attribute__((noreturn))
#else
#define PEER_NORETURN
#endif

static void die(const char *what) PEER_NORETURN;

static void die(const char *what) {
    fprintf(stderr, "c_peer: %s (%s)\n", what, errno ? strerror(errno) : "-");
    exit(2);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory");
    return p;
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint32_t crc_table[256];

static void crc_init(void) {
    uint32_t i, k, c;
    for (i = 0; i < 256; i++) {
        c = i;
        for (k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

/* Running CRC-32 (zlib's): start with 0, feed chunks. */
static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t n) {
    size_t i;
    crc = ~crc;
    for (i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* Output buffer grown with realloc (the dump of a header). */
typedef struct {
    char *p;
    size_t len, cap;
} strbuf;

static void sb_put(strbuf *b, const void *s, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) die("out of memory");
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_printf_len(strbuf *b, char tag, size_t n) {
    char tmp[32];
    int k = snprintf(tmp, sizeof tmp, "%c%lu;", tag, (unsigned long)n);
    sb_put(b, tmp, (size_t)k);
}

/* --------------------------------------------------------------- stdin input */

static int read_line(char *buf, size_t cap) {
    size_t i = 0;
    int c;
    while ((c = getchar()) != EOF) {
        if (c == '\n') {
            buf[i] = 0;
            return 1;
        }
        if (i + 1 < cap) buf[i++] = (char)c;
    }
    return 0;
}

static unsigned char *read_bytes(size_t n) {
    unsigned char *p = xmalloc(n + 1);
    if (n && fread(p, 1, n, stdin) != n) die("short input");
    p[n] = 0;
    return p;
}

/* ------------------------------------------------------------------- config */

static frame_config cfg_store;
static char cfg_name[80];
static const frame_config *cfg = NULL;

static void read_config(const char *line) {
    unsigned w;
    int big, raw;
    unsigned long long maxh, maxb;
    unsigned long nlen;
    unsigned char *name;
    if (sscanf(line, "C %u %d %d %llu %llu %lu", &w, &big, &raw, &maxh, &maxb, &nlen) != 6)
        die("bad C line");
    if (nlen >= sizeof cfg_name) die("size name too long for c_peer");
    name = read_bytes(nlen);
    memcpy(cfg_name, name, nlen + 1);
    free(name);
    memset(&cfg_store, 0, sizeof cfg_store);
    cfg_store.prefix_width = w;
    cfg_store.big_endian = big;
    cfg_store.raw = raw;
    cfg_store.size_name = cfg_name;
    cfg_store.max_header = maxh;
    cfg_store.max_body = maxb;
    cfg = &cfg_store;
}

/* ------------------------------------------------------------------ building */

/* Reads the members of an E/P command and adds them to b. Returns the
 * builder's error (FRAME_OK if none). */
static frame_errno add_members(frame_builder *b, unsigned long n) {
    char line[128];
    unsigned long i;
    frame_errno err = FRAME_OK, e = FRAME_OK;
    for (i = 0; i < n; i++) {
        char type = 0;
        unsigned long nlen = 0, vlen = 0;
        unsigned char *name, *value;
        if (!read_line(line, sizeof line) || sscanf(line, "%c %lu %lu", &type, &nlen, &vlen) != 3)
            die("bad member line");
        name = read_bytes(nlen);
        value = read_bytes(vlen);
        switch (type) {
        case 's': e = frame_builder_add_stringn(b, (char *)name, (char *)value, vlen); break;
        case 'i': e = frame_builder_add_int64(b, (char *)name, strtoll((char *)value, NULL, 10)); break;
        case 'u': e = frame_builder_add_uint64(b, (char *)name, strtoull((char *)value, NULL, 10)); break;
        case 'b': e = frame_builder_add_bool(b, (char *)name, value[0] == '1'); break;
        case 'n': e = frame_builder_add_null(b, (char *)name); break;
        case 'r': e = frame_builder_add_raw(b, (char *)name, (char *)value, vlen); break;
        default: die("bad member type");
        }
        if (e && !err) err = e;
        free(name);
        free(value);
    }
    return err;
}

static unsigned char head_buf[1u << 20];

/* ------------------------------------------------------------- header dumps */

static void dump_value(strbuf *out, const frame_value *v);

static void dump_string(strbuf *out, const frame_value *v) {
    size_t len = 0;
    char *s;
    if (frame_value_string(v, NULL, 0, &len) != FRAME_E_BUFFER_TOO_SMALL) die("string length");
    s = xmalloc(len + 1);
    if (frame_value_string(v, s, len + 1, &len) != FRAME_OK) die("string read");
    sb_printf_len(out, 's', len);
    sb_put(out, s, len);
    free(s);
}

static void dump_value(strbuf *out, const frame_value *v) {
    size_t cursor = 0, count = 0;
    frame_member m;
    int flag;
    switch (v->type) {
    case FRAME_TYPE_OBJECT:
    case FRAME_TYPE_ARRAY:
        while (frame_value_next(v, &cursor, &m)) count++;
        sb_printf_len(out, v->type == FRAME_TYPE_OBJECT ? 'o' : 'a', count);
        cursor = 0;
        while (frame_value_next(v, &cursor, &m)) {
            if (v->type == FRAME_TYPE_OBJECT) dump_string(out, &m.name);
            dump_value(out, &m.value);
        }
        break;
    case FRAME_TYPE_STRING: dump_string(out, v); break;
    case FRAME_TYPE_NUMBER:
        sb_printf_len(out, 'n', v->len);
        sb_put(out, v->json, v->len);
        break;
    case FRAME_TYPE_BOOL:
        if (frame_value_bool(v, &flag) != FRAME_OK) die("bool read");
        sb_put(out, flag ? "T" : "F", 1);
        break;
    case FRAME_TYPE_NULL:
        if (!frame_value_is_null(v)) die("null read");
        sb_put(out, "N", 1);
        break;
    default: die("invalid value type");
    }
}

/* ------------------------------------------------------------------ decoding */

typedef struct {
    strbuf dump;
    uint64_t body_size, got;
    uint32_t crc;
    unsigned char *body; /* kept when keep_body (batch) */
    int keep_body;
    FILE *out;
} collector;

static int on_header(frame_decoder *d, const frame_header *h) {
    collector *c = d->data;
    c->dump.len = 0;
    if (h->root.json) dump_value(&c->dump, &h->root);
    c->body_size = h->body_size;
    c->got = 0;
    c->crc = 0;
    if (c->keep_body) {
        free(c->body);
        c->body = xmalloc((size_t)h->body_size);
    }
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *d, const void *at, size_t len) {
    collector *c = d->data;
    if (len == 0) die("empty body chunk");
    if (c->got + len > c->body_size) die("body chunks exceed the body size");
    c->crc = crc_update(c->crc, at, len);
    if (c->keep_body) memcpy(c->body + c->got, at, len);
    c->got += len;
    return FRAME_CONTINUE;
}

static int on_frame_end(frame_decoder *d) {
    collector *c = d->data;
    if (c->got != c->body_size) die("frame ended before its body");
    fprintf(c->out, "F %llu %lu %lu\n", (unsigned long long)c->body_size, (unsigned long)c->crc,
            (unsigned long)c->dump.len);
    if (c->dump.len) fwrite(c->dump.p, 1, c->dump.len, c->out);
    if (c->keep_body && c->body_size) fwrite(c->body, 1, (size_t)c->body_size, c->out);
    return FRAME_CONTINUE;
}

static const frame_callbacks collect_cb = {on_header, on_body, on_frame_end};

static void report_end(FILE *out, frame_decoder *d, frame_errno err, uint64_t missing) {
    if (err == FRAME_OK) {
        fprintf(out, "END OK\n");
        return;
    }
    fprintf(out, "END %s %llu %llu %llu %llu %llu\n", frame_errname(err),
            (unsigned long long)frame_decoder_offset(d), (unsigned long long)frame_decoder_frame_index(d),
            (unsigned long long)missing, (unsigned long long)frame_decoder_declared_size(d),
            (unsigned long long)frame_decoder_limit(d));
}

static unsigned char *header_space(size_t *cap) {
    static unsigned char *buf;
    static size_t have;
    uint64_t need = FRAME_DEFAULT_MAX_HEADER;
    if (cfg && !cfg->raw && cfg->max_header) need = cfg->max_header;
    if (cfg && cfg->raw) need = 0;
    if (cfg && !cfg->raw && cfg->prefix_width && cfg->prefix_width < 8) {
        uint64_t wmax = ((uint64_t)1 << (8 * cfg->prefix_width)) - 1;
        if (need > wmax) need = wmax;
    }
    if (need > ((uint64_t)1 << 26)) die("max_header too large for c_peer");
    if (have < need) {
        free(buf);
        buf = xmalloc((size_t)need);
        have = (size_t)need;
    }
    *cap = (size_t)need;
    return buf;
}

static void batch_decode(char mode, unsigned char *s, size_t len) {
    frame_decoder d;
    collector c;
    size_t cap, pos = 0;
    unsigned char *hb = header_space(&cap);
    frame_errno err;
    uint64_t missing = 0;
    memset(&c, 0, sizeof c);
    c.keep_body = 1;
    c.out = stdout;
    if (frame_decoder_init(&d, cfg, &collect_cb, hb, cap, &c) != FRAME_OK) {
        printf("END %s 0 0 0 0 0\n", frame_errname(frame_decoder_errno(&d)));
        return;
    }
    if (mode == 'g') {
        err = frame_feed_datagram(&d, s, len);
        report_end(stdout, &d, err, 0);
    } else {
        while (pos < len) {
            size_t n = mode == 'r' ? 1 + (size_t)(rnd() % 7) : len - pos, got;
            if (n > len - pos) n = len - pos;
            got = frame_feed(&d, s + pos, n);
            pos += got;
            if (got < n) break;
        }
        err = frame_decoder_errno(&d);
        if (err == FRAME_OK) err = frame_finish(&d, &missing);
        report_end(stdout, &d, err, missing);
    }
    free(c.body);
    free(c.dump.p);
}

/* ------------------------------------------------------------------ batch */

static void batch(void) {
    char line[256];
    while (read_line(line, sizeof line)) {
        unsigned long a, b;
        char mode;
        if (line[0] == 'C') {
            read_config(line);
        } else if (line[0] == 'E' && sscanf(line, "E %lu %lu", &a, &b) == 2) {
            frame_builder fb;
            frame_errno err = frame_builder_init(&fb, cfg, head_buf, sizeof head_buf, b);
            frame_errno e2 = add_members(&fb, a);
            unsigned char *body = read_bytes(b);
            const void *head;
            size_t hlen;
            if (!err) err = e2;
            if (!err) err = frame_builder_finish(&fb, &head, &hlen);
            if (err) {
                printf("ERR %s\n", frame_errname(err));
            } else {
                printf("OK %lu\n", (unsigned long)(hlen + b));
                fwrite(head, 1, hlen, stdout);
                fwrite(body, 1, b, stdout);
            }
            free(body);
        } else if (line[0] == 'D' && sscanf(line, "D %c %lu", &mode, &a) == 2) {
            unsigned char *s = read_bytes(a);
            batch_decode(mode, s, a);
            free(s);
        } else if (line[0] == 'H' && sscanf(line, "H %lu", &a) == 1) {
            unsigned char *s = read_bytes(a);
            frame_header h;
            size_t pos = 0;
            frame_errno err = frame_header_parse(&h, cfg, s, a, &pos);
            printf("R %s %lu %llu\n", frame_errname(err), (unsigned long)pos,
                   (unsigned long long)(err ? 0 : h.body_size));
            free(s);
        } else {
            die("bad command");
        }
    }
    fflush(stdout);
}

/* ------------------------------------------------------------------ sockets */

static int split_mode; /* 0 whole, 1 one byte, 2 random */

static int connect_port(const char *port) {
    struct sockaddr_in a;
    struct timeval tv;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    tv.tv_sec = 20;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
    return fd;
}

static size_t chunk_size(size_t len) {
    size_t n = len;
    if (split_mode == 1) n = 1;
    if (split_mode == 2) n = 1 + (size_t)(rnd() % (rnd() % 4 == 0 ? 65536 : 64));
    return n < len ? n : len;
}

/* The transport: in the split modes it takes only part of what it is given,
 * so the encoder reports FRAME_E_WOULD_BLOCK and is resumed. */
static long sock_write(void *ctx, const void *data, size_t len) {
    int fd = *(int *)ctx;
    size_t n = chunk_size(len), done = 0;
    while (done < n) {
        ssize_t k = send(fd, (const char *)data + done, n - done, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        done += (size_t)k;
    }
    return (long)done;
}

static void settle(frame_encoder *e, frame_errno err) {
    while (err == FRAME_E_WOULD_BLOCK) err = frame_encoder_resume(e);
    if (err != FRAME_OK) {
        fprintf(stderr, "c_peer: write failed: %s\n", frame_errname(err));
        exit(3);
    }
}

static void send_all(int fd, const unsigned char *p, size_t len) {
    while (len) {
        size_t n = chunk_size(len);
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            die("send");
        }
        p += k;
        len -= (size_t)k;
    }
}

/* Closes our side and waits for the peer to close, so that nothing is lost. */
static void linger_close(int fd) {
    char tmp[4096];
    shutdown(fd, SHUT_WR);
    while (recv(fd, tmp, sizeof tmp, 0) > 0) {
    }
    close(fd);
}

static void do_send(int fd) {
    char line[256];
    frame_encoder enc;
    unsigned long frames = 0;
    frame_encoder_init(&enc, sock_write, &fd);
    while (read_line(line, sizeof line)) {
        unsigned long a, b, seed;
        if (line[0] == 'C') {
            read_config(line);
        } else if (line[0] == 'E' && sscanf(line, "E %lu %lu", &a, &b) == 2) {
            frame_builder fb;
            frame_errno err = frame_builder_init(&fb, cfg, head_buf, sizeof head_buf, b);
            frame_errno e2 = add_members(&fb, a);
            unsigned char *body = read_bytes(b);
            if (err || e2) die("cannot build the frame to send");
            settle(&enc, frame_write(&enc, &fb, body, b));
            free(body);
            frames++;
        } else if (line[0] == 'P' && sscanf(line, "P %lu %lu %lu", &a, &b, &seed) == 3) {
            frame_builder fb;
            unsigned char chunk[65536];
            unsigned long i = 0, k;
            frame_errno err = frame_builder_init(&fb, cfg, head_buf, sizeof head_buf, b);
            frame_errno e2 = add_members(&fb, a);
            if (err || e2) die("cannot build the frame to send");
            settle(&enc, frame_write_begin(&enc, &fb));
            while (i < b) {
                unsigned long n = b - i < sizeof chunk ? b - i : (unsigned long)sizeof chunk;
                for (k = 0; k < n; k++) chunk[k] = (unsigned char)(((i + k) * 7 + seed) % 251);
                settle(&enc, frame_write_body(&enc, chunk, n));
                i += n;
            }
            settle(&enc, frame_write_end(&enc));
            frames++;
        } else if (line[0] == 'X' && sscanf(line, "X %lu", &a) == 1) {
            unsigned char *s = read_bytes(a);
            send_all(fd, s, a);
            free(s);
        } else {
            die("bad send command");
        }
    }
    linger_close(fd);
    printf("SENT %lu\n", frames);
}

static void do_recv(int fd) {
    frame_decoder d;
    collector c;
    size_t cap;
    unsigned char *hb = header_space(&cap);
    static unsigned char buf[65536];
    frame_errno err;
    uint64_t missing = 0;
    memset(&c, 0, sizeof c);
    c.out = stdout;
    if (frame_decoder_init(&d, cfg, &collect_cb, hb, cap, &c) != FRAME_OK) die("decoder init");
    for (;;) {
        size_t want = chunk_size(sizeof buf);
        ssize_t k = recv(fd, buf, want, 0);
        if (k < 0) {
            if (errno == EINTR) continue;
            die("recv");
        }
        if (k == 0) break;
        if (frame_feed(&d, buf, (size_t)k) < (size_t)k) break;
    }
    err = frame_decoder_errno(&d);
    if (err == FRAME_OK) err = frame_finish(&d, &missing);
    report_end(stdout, &d, err, missing);
    free(c.dump.p);
    close(fd);
}

/* Echo: each frame is re-encoded from its parsed header (the members copied
 * with frame_builder_add_raw, names unescaped) and written back with its body
 * by frame_write(). */
typedef struct {
    frame_encoder enc;
    frame_builder fb;
    size_t body_len, got;
    unsigned char *body;
} echo_state;

static int echo_header(frame_decoder *d, const frame_header *h) {
    echo_state *s = d->data;
    frame_member m;
    size_t cursor = 0;
    frame_errno err = frame_builder_init(&s->fb, cfg, head_buf, sizeof head_buf, h->body_size);
    while (!err && h->root.json && frame_value_next(&h->root, &cursor, &m)) {
        size_t len = 0;
        char *name;
        frame_value_string(&m.name, NULL, 0, &len);
        name = xmalloc(len + 1);
        frame_value_string(&m.name, name, len + 1, &len);
        if (strlen(name) != len) die("name holds NUL");
        if (strcmp(name, cfg && cfg->size_name ? cfg->size_name : "size") != 0)
            err = frame_builder_add_raw(&s->fb, name, m.value.json, m.value.len);
        free(name);
    }
    if (!err) err = frame_builder_finish(&s->fb, NULL, NULL);
    if (err) {
        fprintf(stderr, "c_peer: echo cannot rebuild a header: %s\n", frame_errname(err));
        exit(3);
    }
    free(s->body);
    s->body_len = (size_t)h->body_size;
    s->body = xmalloc(s->body_len);
    s->got = 0;
    return FRAME_CONTINUE;
}

static int echo_body(frame_decoder *d, const void *at, size_t len) {
    echo_state *s = d->data;
    memcpy(s->body + s->got, at, len);
    s->got += len;
    return FRAME_CONTINUE;
}

static int echo_end(frame_decoder *d) {
    echo_state *s = d->data;
    settle(&s->enc, frame_write(&s->enc, &s->fb, s->body, s->body_len));
    return FRAME_CONTINUE;
}

static const frame_callbacks echo_cb = {echo_header, echo_body, echo_end};

static void do_echo(int fd) {
    frame_decoder d;
    echo_state s;
    size_t cap;
    unsigned char *hb = header_space(&cap);
    static unsigned char buf[65536];
    frame_errno err;
    memset(&s, 0, sizeof s);
    frame_encoder_init(&s.enc, sock_write, &fd);
    if (frame_decoder_init(&d, cfg, &echo_cb, hb, cap, &s) != FRAME_OK) die("decoder init");
    for (;;) {
        ssize_t k = recv(fd, buf, chunk_size(sizeof buf), 0);
        if (k < 0) {
            if (errno == EINTR) continue;
            die("recv");
        }
        if (k == 0) break;
        if (frame_feed(&d, buf, (size_t)k) < (size_t)k) break;
    }
    err = frame_decoder_errno(&d);
    if (err == FRAME_OK) err = frame_finish(&d, NULL);
    report_end(stdout, &d, err, 0);
    linger_close(fd);
    free(s.body);
}

/* recv and echo take an optional C line on stdin. */
static void read_stdin_config(void) {
    char line[256];
    while (read_line(line, sizeof line)) {
        if (line[0] == 'C') read_config(line);
        else die("recv/echo take only a C line on stdin");
    }
}

int main(int argc, char **argv) {
    crc_init();
    alarm(120);
    if (argc >= 2 && strcmp(argv[1], "batch") == 0) {
        batch();
        return 0;
    }
    if (argc >= 3) {
        if (argc >= 4) split_mode = strcmp(argv[3], "1") == 0 ? 1 : strcmp(argv[3], "rand") == 0 ? 2 : 0;
        if (argc >= 5) rng_state ^= strtoull(argv[4], NULL, 10) * 0x9E3779B97F4A7C15ull;
        if (strcmp(argv[1], "send") == 0) {
            do_send(connect_port(argv[2]));
            return 0;
        }
        if (strcmp(argv[1], "recv") == 0) {
            read_stdin_config();
            do_recv(connect_port(argv[2]));
            return 0;
        }
        if (strcmp(argv[1], "echo") == 0) {
            read_stdin_config();
            do_echo(connect_port(argv[2]));
            return 0;
        }
    }
    fprintf(stderr, "usage: c_peer batch | send|recv|echo PORT SPLIT SEED\n");
    return 1;
}
