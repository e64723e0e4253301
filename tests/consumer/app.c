/*
 * A program outside the tree, as a user writes it against an installed
 * libframe: `cc app.c $(pkg-config --cflags --libs libframe)`. It builds a
 * frame, writes it to memory through the encoder, decodes it one byte at a
 * time and checks what comes out. Prints "ok <version>" and exits 0.
 */
#include <frame.h>
#include <stdio.h>
#include <string.h>

struct out {
    unsigned char buf[256];
    size_t len;
};

static long put(void *ctx, const void *data, size_t len) {
    struct out *o = (struct out *)ctx;
    if (len > sizeof o->buf - o->len) return -1;
    memcpy(o->buf + o->len, data, len);
    o->len += len;
    return (long)len;
}

struct seen {
    char name[32];
    unsigned long body_bytes, frames;
};

static int on_header(frame_decoder *d, const frame_header *h) {
    struct seen *s = (struct seen *)d->data;
    size_t n = 0;
    if (frame_header_get_string(h, "file_name", s->name, sizeof s->name, &n) != FRAME_OK) return -1;
    return h->body_size == 5 ? FRAME_CONTINUE : -2;
}

static int on_body(frame_decoder *d, const void *at, size_t len) {
    (void)at;
    ((struct seen *)d->data)->body_bytes += (unsigned long)len;
    return FRAME_CONTINUE;
}

static int on_end(frame_decoder *d) {
    ((struct seen *)d->data)->frames++;
    return FRAME_CONTINUE;
}

int main(void) {
    static const frame_callbacks cb = {on_header, on_body, on_end};
    static const char want[] = "{\"size\":5,\"file_name\":\"a.txt\"}";
    unsigned char head[128], hbuf[FRAME_DEFAULT_MAX_HEADER];
    frame_builder b;
    frame_encoder e;
    frame_decoder d;
    struct out o;
    struct seen s;
    size_t i;

    memset(&o, 0, sizeof o);
    memset(&s, 0, sizeof s);
    if (strcmp(frame_version(), FRAME_VERSION_STRING) != 0 ||
        frame_version_number() != FRAME_VERSION_NUMBER) {
        printf("header %s, library %s\n", FRAME_VERSION_STRING, frame_version());
        return 1;
    }
    if (frame_builder_init(&b, NULL, head, sizeof head, 5) != FRAME_OK ||
        frame_builder_add_string(&b, "file_name", "a.txt") != FRAME_OK ||
        frame_encoder_init(&e, put, &o) != FRAME_OK ||
        frame_write(&e, &b, "hello", 5) != FRAME_OK) {
        printf("encoding failed\n");
        return 1;
    }
    if (o.len != 4 + sizeof want - 1 + 5 || memcmp(o.buf + 4, want, sizeof want - 1) != 0) {
        printf("unexpected frame\n");
        return 1;
    }
    if (frame_decoder_init(&d, NULL, &cb, hbuf, sizeof hbuf, &s) != FRAME_OK) return 1;
    for (i = 0; i < o.len; i++) {
        if (frame_feed(&d, o.buf + i, 1) != 1) {
            printf("decoding failed: %s\n", frame_errname(frame_decoder_errno(&d)));
            return 1;
        }
    }
    if (frame_finish(&d, NULL) != FRAME_OK || s.frames != 1 || s.body_bytes != 5 ||
        strcmp(s.name, "a.txt") != 0) {
        printf("wrong result\n");
        return 1;
    }
    printf("ok %s\n", frame_version());
    return 0;
}
