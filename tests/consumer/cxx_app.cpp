/*
 * libframe from C++: the header's declarations inside extern "C", linked
 * against the library compiled as C (libframe.a), or against the single
 * header's implementation compiled as C++ (cxx_impl.cpp). Prints "ok".
 */
#include <cstdio>
#include <cstring>

#include "frame.h"

namespace {

struct Seen {
    unsigned frames;
    std::size_t body;
    int64_t n;
};

int on_header(frame_decoder *d, const frame_header *h) {
    Seen *s = static_cast<Seen *>(d->data);
    return frame_header_get_int64(h, "n", &s->n) == FRAME_OK ? FRAME_CONTINUE : -1;
}

int on_body(frame_decoder *d, const void *, std::size_t len) {
    static_cast<Seen *>(d->data)->body += len;
    return FRAME_CONTINUE;
}

int on_end(frame_decoder *d) {
    static_cast<Seen *>(d->data)->frames++;
    return FRAME_CONTINUE;
}

} // namespace

int main() {
    const frame_callbacks cb = {on_header, on_body, on_end};
    unsigned char buf[64];
    static unsigned char hbuf[FRAME_DEFAULT_MAX_HEADER];
    const void *head = nullptr;
    std::size_t len = 0;
    frame_builder b;
    frame_decoder d;
    Seen seen = {0, 0, 0};
    if (frame_builder_init(&b, nullptr, buf, sizeof buf, 2) != FRAME_OK ||
        frame_builder_add_int64(&b, "n", -7) != FRAME_OK ||
        frame_builder_finish(&b, &head, &len) != FRAME_OK)
        return 1;
    if (frame_decoder_init(&d, nullptr, &cb, hbuf, sizeof hbuf, &seen) != FRAME_OK ||
        frame_feed(&d, head, len) != len || frame_feed(&d, "xy", 2) != 2 ||
        frame_finish(&d, nullptr) != FRAME_OK)
        return 1;
    if (seen.frames != 1 || seen.body != 2 || seen.n != -7) return 1;
    if (std::strcmp(frame_errname(FRAME_E_BOM), "BOM") != 0) return 1;
    if (FRAME_MAX_BODY_LIMIT != 9007199254740991ull) return 1;
    std::printf("ok %s\n", frame_version());
    return 0;
}
