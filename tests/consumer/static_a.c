/*
 * FRAME_STATIC: this file carries its own private copy of the library
 * (static_b.c another one); both link into one program without a clash and
 * export no frame_* symbol.
 */
#define FRAME_STATIC
#include "frame.h"

int static_a_roundtrip(void);

/* Builds a frame and parses its header back; returns the body size read. */
int static_a_roundtrip(void) {
    unsigned char buf[64];
    const void *head;
    size_t len;
    frame_builder b;
    frame_header h;
    if (frame_builder_init(&b, NULL, buf, sizeof buf, 7) != FRAME_OK ||
        frame_builder_finish(&b, &head, &len) != FRAME_OK)
        return -1;
    if (frame_header_parse(&h, NULL, (const unsigned char *)head + 4, len - 4, NULL) != FRAME_OK)
        return -2;
    return (int)h.body_size;
}
