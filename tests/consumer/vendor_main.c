/*
 * Vendoring the single header: any other file of the program includes it
 * without FRAME_IMPLEMENTATION and gets declarations only. Builds a frame,
 * decodes it, prints "ok <version>".
 */
#include <stdio.h>
#include <string.h>

#include "frame.h"

static unsigned long body_bytes, frames;
static uint64_t answer;

static int on_header(frame_decoder *d, const frame_header *h) {
    (void)d;
    return frame_header_get_uint64(h, "answer", &answer) == FRAME_OK ? FRAME_CONTINUE : -1;
}

static int on_body(frame_decoder *d, const void *at, size_t len) {
    (void)d;
    (void)at;
    body_bytes += (unsigned long)len;
    return FRAME_CONTINUE;
}

static int on_end(frame_decoder *d) {
    (void)d;
    frames++;
    return FRAME_CONTINUE;
}

int main(void) {
    static const frame_callbacks cb = {on_header, on_body, on_end};
    unsigned char buf[64], hbuf[FRAME_DEFAULT_MAX_HEADER];
    const void *head;
    size_t len;
    frame_builder b;
    frame_decoder d;
    if (frame_builder_init(&b, NULL, buf, sizeof buf, 3) != FRAME_OK ||
        frame_builder_add_uint64(&b, "answer", 42) != FRAME_OK ||
        frame_builder_finish(&b, &head, &len) != FRAME_OK)
        return 1;
    if (frame_decoder_init(&d, NULL, &cb, hbuf, sizeof hbuf, NULL) != FRAME_OK ||
        frame_feed(&d, head, len) != len || frame_feed(&d, "abc", 3) != 3 ||
        frame_finish(&d, NULL) != FRAME_OK)
        return 1;
    if (frames != 1 || body_bytes != 3 || answer != 42) return 1;
    if (strcmp(frame_version(), FRAME_VERSION_STRING) != 0) return 1;
    printf("ok %s\n", frame_version());
    return 0;
}
