/*
 * lib/string_small.h: frame__scan_string of size builds (see json.c): a
 * byte at a time through the string iterator, the least code.
 */
frame_errno frame__scan_string(const frame__u8 **pp, const frame__u8 *end, frame__sink *sink) {
    frame__siter it;
    frame__sink none = {NULL, 0, 0};
    int c;
    if (!sink) sink = &none;
    frame__siter_init(&it, *pp, end);
    while ((c = frame__siter_next(&it)) >= 0) {
        if (sink->len < sink->cap) sink->buf[sink->len] = (frame__u8)c;
        sink->len++;
    }
    *pp = it.p + (c == -1);
    return c == -1 ? FRAME_OK : (frame_errno)(-1 - c);
}
