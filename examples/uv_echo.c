/*
 * Lesson 4: libuv. `uv_echo server [PORT]` answers each frame with its
 * header plus one member and its body in capitals; `uv_echo client PORT
 * WORD...` sends one frame per word, all at once, and prints the replies.
 * frame_feed() goes in the read callback. A reply leaves in one uv_write() of
 * two buffers, head and body (one write per frame: no Nagle stall). While it
 * is being written the server pauses the decoder and calls uv_read_stop(),
 * so a client that never reads cannot make it queue replies without end.
 */
#define _POSIX_C_SOURCE 200809L /* before any #include: uv.h needs POSIX */
#include "lesson_net.h"
#include <ctype.h>
#include <frame.h>
#include <uv.h>

typedef struct peer {
    uv_tcp_t tcp; /* first, so that a uv_stream_t * to it is a peer * */
    uv_write_t wr;
    frame_decoder dec;
    char header_buf[4096], in[65536]; /* cfg.max_header; the read buffer */
    unsigned char head[4096 + 64];    /* the reply's head: one member more */
    char *body, *rest; /* the reply's body; in[]'s bytes not fed yet (after a pause) */
    size_t body_len, rest_len;
    uv_buf_t out[2]; /* the reply: head, body */
} peer;
static int due; /* the client's replies still due */
/* FRAME_CONFIG_INIT's fields, two limits lowered: headers to 4 KiB, bodies
 * (which this server holds whole) to 1 MiB. */
static const frame_config cfg = {4, 0, 0, "size", 4096, 1 << 20};
static void on_closed(uv_handle_t *h) { free(((peer *)h)->body), free(h); }
static void close_peer(peer *p) {
    if (!uv_is_closing((uv_handle_t *)&p->tcp)) uv_close((uv_handle_t *)&p->tcp, on_closed);
}
/* Feeds what is left of the last read. On a pause, reading stops (libuv
 * then reads nothing into p->in, so the rest stays) until the reply is out. */
static void feed(peer *p) {
    size_t n = frame_feed(&p->dec, p->rest, p->rest_len);
    p->rest += n, p->rest_len -= n;
    if (frame_decoder_errno(&p->dec) == FRAME_E_PAUSED) uv_read_stop((uv_stream_t *)&p->tcp);
    else if (frame_decoder_errno(&p->dec) != FRAME_OK) close_peer(p);
}
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
    *buf = uv_buf_init(((peer *)h)->in, sizeof ((peer *)h)->in);
    (void)hint;
}
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    peer *p = (peer *)s;
    if (nread < 0) { /* UV_EOF: frame_finish() says OK between frames, TRUNCATED inside one */
        printf("end of stream: %s\n", nread == UV_EOF ? frame_errname(frame_finish(&p->dec, NULL))
                                                      : uv_strerror((int)nread));
        close_peer(p);
    } else {
        p->rest = buf->base, p->rest_len = (size_t)nread;
        feed(p);
    }
}
static void on_written(uv_write_t *w, int status) {
    peer *p = (peer *)w->handle;
    free(p->body), p->body = NULL, p->body_len = 0;
    frame_decoder_resume(&p->dec);
    if (status < 0) close_peer(p);
    else feed(p); /* the rest of the last read, which may pause again; if not, read on */
    if (frame_decoder_errno(&p->dec) == FRAME_OK && !uv_is_closing((uv_handle_t *)&p->tcp))
        uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
}
/* The server's callbacks. The copy rule: a body chunk is valid only until
 * on_body returns (the next read reuses p->in), so the capitals go into a
 * buffer of the declared size. cfg.max_body caps it: the decoder refuses a
 * larger frame before anything is allocated. */
static int on_header(frame_decoder *d, const frame_header *h) {
    static const char *const omit[] = {"echoed_by", NULL};
    peer *p = d->data;
    size_t len;
    frame_builder b;
    if ((p->body = malloc(h->body_size + 1)) == NULL) return -1;
    frame_builder_init(&b, &cfg, p->head, sizeof p->head, h->body_size);
    frame_builder_add_members(&b, &h->root, omit); /* all but size and omit[] */
    frame_builder_add_string(&b, "echoed_by", "uv_echo");
    if (frame_builder_finish(&b, NULL, &len) != FRAME_OK) return -1;
    p->out[0] = uv_buf_init((char *)p->head, (unsigned)len); /* the head starts the buffer */
    return FRAME_CONTINUE;
}
static int on_body(frame_decoder *d, const void *at, size_t len) {
    peer *p = d->data;
    const unsigned char *c = at;
    while (len--) p->body[p->body_len++] = (char)toupper(*c++);
    return FRAME_CONTINUE;
}
static int on_end(frame_decoder *d) {
    peer *p = d->data;
    p->out[1] = uv_buf_init(p->body, (unsigned)p->body_len);
    uv_write(&p->wr, (uv_stream_t *)&p->tcp, p->out, 2, on_written); /* head and body */
    return FRAME_PAUSE; /* until on_written */
}
/* The client's callbacks print each reply as it comes (each chunk is used
 * at once: nothing to copy), and close after the last one. */
static int print_header(frame_decoder *d, const frame_header *h) {
    printf("%.*s ", (int)h->root.len, h->root.json);
    return (void)d, FRAME_CONTINUE;
}
static int print_body(frame_decoder *d, const void *at, size_t len) {
    fwrite(at, 1, len, stdout);
    return (void)d, FRAME_CONTINUE;
}
static int print_end(frame_decoder *d) {
    putchar('\n');
    if (--due == 0) close_peer(d->data);
    return FRAME_CONTINUE;
}
/* A peer: accepted from `server`, or on the socket `fd` (a client's). */
static peer *new_peer(uv_stream_t *server, int fd, const frame_callbacks *cb) {
    peer *p = calloc(1, sizeof *p);
    if (!p || uv_tcp_init(uv_default_loop(), &p->tcp) ||
        (server ? uv_accept(server, (uv_stream_t *)&p->tcp) : uv_tcp_open(&p->tcp, fd))) abort();
    frame_decoder_init(&p->dec, &cfg, cb, p->header_buf, sizeof p->header_buf, p);
    uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
    return p;
}
static const frame_callbacks server_cb = {on_header, on_body, on_end},
                             client_cb = {print_header, print_body, print_end};
static void on_connection(uv_stream_t *server, int status) {
    if (status == 0) new_peer(server, -1, &server_cb);
}
int main(int argc, char **argv) {
    static unsigned char heads[64][64]; /* each head lives until its write is done */
    static uv_write_t w[64];
    static uv_tcp_t server;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "server") == 0) {
        uv_tcp_init(uv_default_loop(), &server);
        uv_tcp_open(&server, lesson_listen(argc > 2 ? argv[2] : "0", SOCK_STREAM));
        uv_listen((uv_stream_t *)&server, 128, on_connection);
    } else if (argc >= 4 && argc <= 67 && strcmp(argv[1], "client") == 0) {
        peer *p = new_peer(NULL, lesson_connect(argv[2], SOCK_STREAM), &client_cb);
        for (int i = 0; i < argc - 3; i++, due++) { /* {"size":N,"n":i} + the word */
            size_t len = strlen(argv[i + 3]), head_len;
            frame_builder b;
            frame_builder_init(&b, NULL, heads[i], sizeof heads[i], len);
            frame_builder_add_int64(&b, "n", i);
            frame_builder_finish(&b, NULL, &head_len);
            p->out[0] = uv_buf_init((char *)heads[i], (unsigned)head_len);
            p->out[1] = uv_buf_init(argv[i + 3], (unsigned)len);
            uv_write(&w[i], (uv_stream_t *)&p->tcp, p->out, 2, NULL); /* it copies out[] */
        }
    } else {
        return fprintf(stderr, "usage: uv_echo server [PORT] | uv_echo client PORT WORD...\n"), 2;
    }
    return uv_run(uv_default_loop(), UV_RUN_DEFAULT) || due; /* 1: replies missing */
}
