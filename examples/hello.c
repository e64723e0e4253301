/* Three frames into one byte stream, read back one byte at a time. */
#include <frame.h>
#include <stdio.h>
#include <string.h>

static unsigned char wire[1024];
static size_t wire_len;
static long to_wire(void *ctx, const void *data, size_t len) {
    (void)ctx;
    memcpy(wire + wire_len, data, len);
    wire_len += len;
    return (long)len;
}
static int on_header(frame_decoder *d, const frame_header *h) {
    char from[32];
    (void)d;
    frame_header_get_string(h, "from", from, sizeof from, NULL);
    printf("%s sent %llu bytes: ", from, (unsigned long long)h->body_size);
    return FRAME_CONTINUE;
}
static int on_body(frame_decoder *d, const void *at, size_t len) {
    (void)d;
    fwrite(at, 1, len, stdout);
    return FRAME_CONTINUE;
}
static int on_end(frame_decoder *d) {
    (void)d;
    putchar('\n');
    return FRAME_CONTINUE;
}

int main(void) {
    static const char *msgs[] = {"hello", "sticky packets, unstuck", ""};
    static const frame_callbacks cb = {on_header, on_body, on_end};
    static char header_buf[FRAME_DEFAULT_MAX_HEADER];
    unsigned char head[128];
    frame_encoder enc;
    frame_decoder dec;
    size_t i;
    frame_encoder_init(&enc, to_wire, NULL);
    for (i = 0; i < 3; i++) { /* prefix + {"size":N,"from":"alice"} + body */
        frame_builder b;
        frame_builder_init(&b, NULL, head, sizeof head, strlen(msgs[i]));
        frame_builder_add_string(&b, "from", "alice");
        if (frame_write(&enc, &b, msgs[i], strlen(msgs[i])) != FRAME_OK) return 1;
    }
    frame_decoder_init(&dec, NULL, &cb, header_buf, sizeof header_buf, NULL);
    for (i = 0; i < wire_len; i++) /* the worst split a stream can have */
        frame_feed(&dec, wire + i, 1);
    printf("%zu bytes, %llu frames, end of stream: %s\n", wire_len,
           (unsigned long long)frame_decoder_frame_index(&dec), frame_errname(frame_finish(&dec, NULL)));
    return 0;
}
