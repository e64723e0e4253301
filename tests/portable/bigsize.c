/*
 * Sizes that do not fit in 32 bits: bodies over 4 GiB declared in headers and
 * prefixes, on every platform, and in particular where size_t is 32 bits
 * (gcc -m32). The library must stream them correctly or refuse them with a
 * clear error; it must never truncate a 64-bit size to size_t. Bodies are
 * never materialised: the decoder gets the same zero buffer again and again,
 * and the write callback counts bytes without keeping them.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "portable.h"

#define FIVE_G UINT64_C(5000000000)
#define CHUNK 65521u /* a prime: chunk edges fall everywhere */

static unsigned char zeros[1u << 20];

typedef struct counter {
    uint64_t body;            /* body bytes seen */
    unsigned long headers, ends, chunks;
    uint64_t body_size;       /* of the last header */
} counter;

static int c_header(frame_decoder *d, const frame_header *h) {
    counter *c = (counter *)d->data;
    c->headers++;
    c->body_size = h->body_size;
    return FRAME_CONTINUE;
}

static int c_body(frame_decoder *d, const void *at, size_t len) {
    counter *c = (counter *)d->data;
    (void)at;
    c->body += len;
    c->chunks++;
    return FRAME_CONTINUE;
}

static int c_end(frame_decoder *d) {
    ((counter *)d->data)->ends++;
    return FRAME_CONTINUE;
}

static const frame_callbacks counting = {c_header, c_body, c_end};

/* prefix (4 octets little-endian) + header text; returns the length. */
static size_t head(unsigned char *out, const char *json) {
    size_t n = strlen(json);
    out[0] = (unsigned char)(n & 0xff);
    out[1] = (unsigned char)((n >> 8) & 0xff);
    out[2] = (unsigned char)((n >> 16) & 0xff);
    out[3] = (unsigned char)((n >> 24) & 0xff);
    memcpy(out + 4, json, n);
    return 4 + n;
}

/* Feeds `n` body bytes in CHUNK pieces; returns the bytes consumed. */
static uint64_t feed_zeros(frame_decoder *d, uint64_t n) {
    uint64_t done = 0;
    while (done < n) {
        size_t k = n - done < CHUNK ? (size_t)(n - done) : CHUNK;
        size_t c = frame_feed(d, zeros, k);
        done += c;
        if (c != k) break;
    }
    return done;
}

static unsigned char hbuf[FRAME_DEFAULT_MAX_HEADER];

static void decode_5g(pv_ctx *t) {
    unsigned char h[64], h2[64];
    size_t hl = head(h, "{\"size\":5000000000}");
    size_t h2l = head(h2, "{\"size\":2}");
    counter c;
    frame_decoder d;
    uint64_t fed;
    t->where = "bigsize/decode_5g_body";
    memset(&c, 0, sizeof c);
    if (!PV_CHECK(t, frame_decoder_init(&d, NULL, &counting, hbuf, sizeof hbuf, &c) == FRAME_OK, "init"))
        return;
    PV_CHECK(t, frame_feed(&d, h, hl) == hl, "header consumed");
    PV_CHECK(t, c.headers == 1 && c.body_size == FIVE_G, "on_header: body_size 5000000000 exact");
    PV_CHECK(t, frame_decoder_declared_size(&d) == FIVE_G, "declared size 5000000000");
    fed = feed_zeros(&d, 500000000u);
    PV_CHECK(t, fed == 500000000u, "first 500 MB consumed");
    if (!PV_CHECK(t, frame_decoder_needed(&d) == FIVE_G - 500000000u, "needed = 4.5e9 (> 2^32) exact"))
        pv_fail_detail(t, "needed %" PRIu64, frame_decoder_needed(&d));
    PV_CHECK(t, frame_decoder_offset(&d) == hl + 500000000u, "offset");
    fed += feed_zeros(&d, FIVE_G - 500000000u - 1);
    PV_CHECK(t, c.ends == 0 && frame_decoder_needed(&d) == 1, "one byte short: frame not ended");
    PV_CHECK(t, frame_decoder_offset(&d) == hl + FIVE_G - 1, "offset past 2^32 exact");
    fed += feed_zeros(&d, 1);
    PV_CHECK(t, fed == FIVE_G && c.body == FIVE_G, "on_body chunks add up to 5000000000");
    PV_CHECK(t, c.ends == 1, "on_frame_end once, after the last body byte");
    PV_CHECK(t, frame_decoder_needed(&d) == 0, "at a frame boundary");
    memcpy(h2 + h2l, "xy", 2);
    PV_CHECK(t, frame_feed(&d, h2, h2l + 2) == h2l + 2, "next frame consumed");
    PV_CHECK(t, c.headers == 2 && c.ends == 2 && c.body == FIVE_G + 2, "next frame decoded whole");
    PV_CHECK(t, frame_decoder_frame_index(&d) == 2, "frame index 2");
    PV_CHECK(t, frame_finish(&d, NULL) == FRAME_OK, "finish OK");
    PV_CHECK(t, frame_decoder_offset(&d) == hl + FIVE_G + h2l + 2, "final offset exact");
}

/* A size of 2^32 + 5 must not behave like 5. */
static void decode_2p32_plus_5(pv_ctx *t) {
    unsigned char s[128];
    size_t n = head(s, "{\"size\":4294967301}"), n2;
    counter c;
    frame_decoder d;
    uint64_t missing = 0;
    t->where = "bigsize/decode_size_2p32_plus_5";
    memset(&c, 0, sizeof c);
    memcpy(s + n, "12345", 5);
    n += 5;
    n2 = head(s + n, "{\"size\":0}");
    n += n2;
    if (!PV_CHECK(t, frame_decoder_init(&d, NULL, &counting, hbuf, sizeof hbuf, &c) == FRAME_OK, "init"))
        return;
    PV_CHECK(t, frame_feed(&d, s, n) == n, "all consumed (as body)");
    PV_CHECK(t, c.ends == 0 && c.headers == 1, "the frame does not end after 5 bytes");
    PV_CHECK(t, c.body == 5 + n2, "what follows is body");
    PV_CHECK(t, frame_finish(&d, &missing) == FRAME_E_TRUNCATED, "TRUNCATED");
    if (!PV_CHECK(t, missing == UINT64_C(4294967301) - 5 - n2, "missing exact"))
        pv_fail_detail(t, "missing %" PRIu64, missing);
    PV_CHECK(t, frame_decoder_offset(&d) == n, "offset = stream length");
}

static void decode_truncated_5g(pv_ctx *t) {
    unsigned char s[128];
    size_t n = head(s, "{\"size\":5000000000}");
    counter c;
    frame_decoder d;
    uint64_t missing = 0;
    t->where = "bigsize/truncated_in_5g_body";
    memset(&c, 0, sizeof c);
    if (!PV_CHECK(t, frame_decoder_init(&d, NULL, &counting, hbuf, sizeof hbuf, &c) == FRAME_OK, "init"))
        return;
    PV_CHECK(t, frame_feed(&d, s, n) == n && feed_zeros(&d, 100) == 100, "fed");
    PV_CHECK(t, frame_finish(&d, &missing) == FRAME_E_TRUNCATED, "TRUNCATED");
    PV_CHECK(t, missing == FIVE_G - 100, "missing = 4999999900 exact");
    PV_CHECK(t, frame_decoder_errno(&d) == FRAME_E_TRUNCATED, "errno stays TRUNCATED");
}

/* Header with a size value; expects `want` and, for BODY_TOO_LARGE, the
 * declared size reported. */
static void size_case(pv_ctx *t, const char *where, const char *json, frame_errno want,
                      uint64_t declared, uint64_t limit) {
    unsigned char s[128];
    size_t n = head(s, json);
    counter c;
    frame_decoder d;
    t->where = where;
    memset(&c, 0, sizeof c);
    if (!PV_CHECK(t, frame_decoder_init(&d, NULL, &counting, hbuf, sizeof hbuf, &c) == FRAME_OK, "init"))
        return;
    frame_feed(&d, s, n);
    if (!PV_CHECK(t, frame_decoder_errno(&d) == want, "errno"))
        pv_fail_detail(t, "got %s", frame_errname(frame_decoder_errno(&d)));
    if (!PV_CHECK(t, frame_decoder_declared_size(&d) == declared, "declared size exact"))
        pv_fail_detail(t, "got %" PRIu64 ", want %" PRIu64, frame_decoder_declared_size(&d), declared);
    if (want == FRAME_E_BODY_TOO_LARGE) {
        PV_CHECK(t, frame_decoder_limit(&d) == limit, "limit = max_body");
        /* offset of the value's first byte: 4 + index of the value in the header */
        PV_CHECK(t, frame_decoder_offset(&d) == 4 + (uint64_t)(strchr(json, ':') + 1 - json),
                 "offset at the value");
        PV_CHECK(t, c.headers == 0, "no on_header for a refused frame");
    }
}

static void raw_w8(pv_ctx *t) {
    static const frame_config le = {8, 0, 1, NULL, 0, 0};
    static const frame_config be = {8, 1, 1, NULL, 0, 0};
    unsigned char p[8];
    counter c;
    frame_decoder d;
    uint64_t missing = 0, v = FIVE_G;
    unsigned i;
    t->where = "bigsize/raw_w8_5g";
    for (i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
    memset(&c, 0, sizeof c);
    if (PV_CHECK(t, frame_decoder_init(&d, &le, &counting, NULL, 0, &c) == FRAME_OK, "init raw")) {
        PV_CHECK(t, frame_feed(&d, p, 8) == 8, "prefix consumed");
        PV_CHECK(t, frame_decoder_declared_size(&d) == FIVE_G, "declared 5000000000");
        PV_CHECK(t, feed_zeros(&d, 1000) == 1000, "body bytes consumed");
        PV_CHECK(t, frame_finish(&d, &missing) == FRAME_E_TRUNCATED && missing == FIVE_G - 1000,
                 "TRUNCATED, missing exact");
    }
    t->where = "bigsize/raw_w8_be_2p63";
    v = UINT64_C(1) << 63;
    for (i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * (7 - i)));
    memset(&c, 0, sizeof c);
    if (PV_CHECK(t, frame_decoder_init(&d, &be, &counting, NULL, 0, &c) == FRAME_OK, "init raw BE")) {
        PV_CHECK(t, frame_feed(&d, p, 8) < 8 || frame_decoder_errno(&d) != FRAME_OK, "refused");
        PV_CHECK(t, frame_decoder_errno(&d) == FRAME_E_BODY_TOO_LARGE, "BODY_TOO_LARGE");
        PV_CHECK(t, frame_decoder_declared_size(&d) == v, "declared 2^63 exact");
        PV_CHECK(t, frame_decoder_limit(&d) == FRAME_MAX_BODY_LIMIT, "limit 2^53-1");
        PV_CHECK(t, frame_decoder_offset(&d) == 0, "offset 0");
    }
}

static void datagram_5g(pv_ctx *t) {
    unsigned char s[128];
    size_t n = head(s, "{\"size\":5000000000}");
    counter c;
    frame_decoder d;
    t->where = "bigsize/datagram_declares_5g";
    memset(&c, 0, sizeof c);
    memset(s + n, 'b', 10);
    n += 10;
    if (!PV_CHECK(t, frame_decoder_init(&d, NULL, &counting, hbuf, sizeof hbuf, &c) == FRAME_OK, "init"))
        return;
    PV_CHECK(t, frame_feed_datagram(&d, s, n) == FRAME_E_DATAGRAM_TRUNCATED, "DATAGRAM_TRUNCATED");
    PV_CHECK(t, frame_decoder_offset(&d) == n, "offset = datagram length");
    PV_CHECK(t, c.headers == 0 && c.body == 0 && c.ends == 0, "no callback ran");
}

static void header_values(pv_ctx *t) {
    static const char j[] = "{\"size\":5000000000,\"big\":18446744073709551615,"
                            "\"over\":18446744073709551616,\"neg\":-9223372036854775808,"
                            "\"i63\":9223372036854775807,\"i63p1\":9223372036854775808}";
    frame_header h;
    uint64_t u = 0;
    int64_t i = 0;
    t->where = "bigsize/header_values";
    if (!PV_CHECK(t, frame_header_parse(&h, NULL, j, sizeof j - 1, NULL) == FRAME_OK, "parse"))
        return;
    PV_CHECK(t, h.body_size == FIVE_G, "body_size 5000000000");
    PV_CHECK(t, frame_header_get_uint64(&h, "size", &u) == FRAME_OK && u == FIVE_G, "size as uint64");
    PV_CHECK(t, frame_header_get_uint64(&h, "big", &u) == FRAME_OK && u == UINT64_MAX, "2^64-1");
    PV_CHECK(t, frame_header_get_uint64(&h, "over", &u) == FRAME_E_RANGE, "2^64: RANGE");
    PV_CHECK(t, frame_header_get_int64(&h, "neg", &i) == FRAME_OK && i == INT64_MIN, "-2^63");
    PV_CHECK(t, frame_header_get_int64(&h, "i63", &i) == FRAME_OK && i == INT64_MAX, "2^63-1");
    PV_CHECK(t, frame_header_get_int64(&h, "i63p1", &i) == FRAME_E_RANGE, "2^63: RANGE for int64");
    PV_CHECK(t, frame_header_get_int64(&h, "big", &i) == FRAME_E_RANGE, "2^64-1: RANGE for int64");
}

typedef struct wcount {
    uint64_t bytes;
    unsigned long calls;
    int too_long; /* a call asked for more than a long can report */
    unsigned char head[64];
    size_t head_len;
} wcount;

static long w_count(void *ctx, const void *data, size_t len) {
    wcount *w = (wcount *)ctx;
    w->calls++;
    if (len > (size_t)LONG_MAX) {
        w->too_long = 1;
        return -1;
    }
    /* keep the first bytes (the head), never read the body */
    if (w->head_len < sizeof w->head) {
        size_t k = sizeof w->head - w->head_len;
        if (k > len) k = len;
        if (w->bytes == w->head_len) {
            memcpy(w->head + w->head_len, data, k);
            w->head_len += k;
        }
    }
    w->bytes += len;
    return (long)len;
}

static void encode_5g(pv_ctx *t) {
    unsigned char buf[128];
    frame_builder b;
    frame_encoder e;
    wcount w;
    const void *hp = NULL;
    size_t hl = 0;
    uint64_t left;
    static const char want[] = "{\"size\":5000000000}";

    t->where = "bigsize/encode_5g_head";
    memset(&w, 0, sizeof w);
    if (!PV_CHECK(t, frame_builder_init(&b, NULL, buf, sizeof buf, FIVE_G) == FRAME_OK, "builder init"))
        return;
    PV_CHECK(t, frame_builder_finish(&b, &hp, &hl) == FRAME_OK, "finish");
    PV_CHECK(t, hl == 4 + sizeof want - 1 && memcmp((const unsigned char *)hp + 4, want, sizeof want - 1) == 0,
             "head says 5000000000");

    t->where = "bigsize/encode_5g_frame_write_len_mismatch";
    frame_encoder_init(&e, w_count, &w);
    /* On a 32-bit size_t, 5000000000 does not fit: the length given is
     * 705032704 and must be refused, not written. Elsewhere a length one
     * short is refused the same way. */
    if (sizeof(size_t) < 8)
        PV_CHECK(t, frame_write(&e, &b, zeros, (size_t)FIVE_G) == FRAME_E_SIZE_MISMATCH,
                 "(size_t)5000000000 truncated by the caller: SIZE_MISMATCH");
    else
        PV_CHECK(t, frame_write(&e, &b, zeros, (size_t)(FIVE_G - 1)) == FRAME_E_SIZE_MISMATCH,
                 "one byte short: SIZE_MISMATCH");
    PV_CHECK(t, w.calls == 0, "nothing written");

    t->where = "bigsize/encode_5g_streamed";
    memset(&w, 0, sizeof w);
    frame_builder_init(&b, NULL, buf, sizeof buf, FIVE_G);
    frame_encoder_init(&e, w_count, &w);
    if (!PV_CHECK(t, frame_write_begin(&e, &b) == FRAME_OK, "begin"))
        return;
    left = FIVE_G;
    while (left > sizeof zeros) {
        if (frame_write_body(&e, zeros, sizeof zeros) != FRAME_OK) break;
        left -= sizeof zeros;
    }
    PV_CHECK(t, left <= sizeof zeros, "streamed up to the last chunk");
    {
        uint64_t before = w.bytes;
        PV_CHECK(t, frame_write_body(&e, zeros, (size_t)left + 1) == FRAME_E_SIZE_MISMATCH,
                 "one byte too many: SIZE_MISMATCH");
        PV_CHECK(t, w.bytes == before, "the refused chunk was not written at all");
    }
    PV_CHECK(t, frame_write_body(&e, zeros, (size_t)left) == FRAME_OK, "last chunk");
    PV_CHECK(t, frame_write_end(&e) == FRAME_OK, "end OK after exactly 5000000000 bytes");
    PV_CHECK(t, w.bytes == hl + FIVE_G, "bytes written = head + 5000000000");
    PV_CHECK(t, w.head_len >= hl && memcmp(w.head + 4, want, sizeof want - 1) == 0, "head on the wire");

    t->where = "bigsize/encode_2p32_plus_5_short";
    memset(&w, 0, sizeof w);
    frame_builder_init(&b, NULL, buf, sizeof buf, UINT64_C(4294967301));
    frame_encoder_init(&e, w_count, &w);
    PV_CHECK(t, frame_write_begin(&e, &b) == FRAME_OK, "begin");
    PV_CHECK(t, frame_write_body(&e, zeros, 5) == FRAME_OK, "5 bytes");
    PV_CHECK(t, frame_write_end(&e) == FRAME_E_SIZE_MISMATCH, "end after 5 of 2^32+5: SIZE_MISMATCH");

    t->where = "bigsize/encode_limits";
    PV_CHECK(t, frame_builder_init(&b, NULL, buf, sizeof buf, FRAME_MAX_BODY_LIMIT) == FRAME_OK,
             "body 2^53-1 accepted");
    PV_CHECK(t, frame_builder_init(&b, NULL, buf, sizeof buf, FRAME_MAX_BODY_LIMIT + 1) ==
                    FRAME_E_BODY_TOO_LARGE,
             "body 2^53: BODY_TOO_LARGE");
    {
        static const frame_config raw4 = {4, 0, 1, NULL, 0, 0};
        PV_CHECK(t, frame_builder_init(&b, &raw4, buf, sizeof buf, UINT64_C(4294967296)) ==
                        FRAME_E_BODY_TOO_LARGE,
                 "raw width 4, body 2^32: BODY_TOO_LARGE");
        PV_CHECK(t, frame_builder_init(&b, &raw4, buf, sizeof buf, UINT64_C(4294967295)) == FRAME_OK,
                 "raw width 4, body 2^32-1 accepted");
    }
}

/* Where a long is narrower than size_t allows (32-bit), one body chunk may
 * be longer than the write callback can report: the encoder must hand it
 * over in pieces of at most LONG_MAX bytes. The chunk is never read (the
 * callback only counts), so no memory of that size is needed. */
static void encode_chunk_over_long_max(pv_ctx *t) {
    unsigned char buf[128];
    frame_builder b;
    frame_encoder e;
    wcount w;
    size_t big;
    t->where = "bigsize/encode_chunk_over_long_max";
    if (sizeof(size_t) != 4 || (unsigned long)LONG_MAX >= (unsigned long)SIZE_MAX) return;
    big = (size_t)LONG_MAX + 1000u;
    memset(&w, 0, sizeof w);
    frame_builder_init(&b, NULL, buf, sizeof buf, (uint64_t)big);
    frame_encoder_init(&e, w_count, &w);
    PV_CHECK(t, frame_write_begin(&e, &b) == FRAME_OK, "begin");
    PV_CHECK(t, frame_write_body(&e, zeros, big) == FRAME_OK, "a chunk of LONG_MAX+1000 bytes");
    PV_CHECK(t, !w.too_long, "no write call asks for more than LONG_MAX bytes");
    PV_CHECK(t, frame_write_end(&e) == FRAME_OK, "end");
}

static void decoder_big_max_header(pv_ctx *t) {
    static const frame_config c32 = {8, 0, 0, NULL, UINT64_C(4294967295), 0};
    static const frame_config c33 = {8, 0, 0, NULL, UINT64_C(8589934592), 0}; /* 2^33 */
    counter c;
    frame_decoder d;
    frame_errno e;
    t->where = "bigsize/max_header_2p32_minus_1";
    PV_CHECK(t, frame_decoder_init(&d, &c32, &counting, hbuf, sizeof hbuf, &c) == FRAME_E_ARGUMENT,
             "header buffer smaller than max_header 2^32-1: ARGUMENT");
    t->where = "bigsize/max_header_2p33";
    e = frame_decoder_init(&d, &c33, &counting, hbuf, sizeof hbuf, &c);
    PV_CHECK(t, e == FRAME_E_ARGUMENT || e == FRAME_E_CONFIG, "max_header 2^33: refused (CONFIG or ARGUMENT)");
    PV_CHECK(t, frame_feed(&d, "x", 1) == 0, "a refused decoder consumes nothing");
}

void pv_run_bigsize(pv_ctx *t) {
    decode_5g(t);
    decode_2p32_plus_5(t);
    decode_truncated_5g(t);
    size_case(t, "bigsize/size_2p53_minus_1", "{\"size\":9007199254740991}", FRAME_OK,
              FRAME_MAX_BODY_LIMIT, 0);
    size_case(t, "bigsize/size_2p53", "{\"size\":9007199254740992}", FRAME_E_BODY_TOO_LARGE,
              FRAME_MAX_BODY_LIMIT + 1, FRAME_MAX_BODY_LIMIT);
    size_case(t, "bigsize/size_2p64", "{\"size\":18446744073709551616}", FRAME_E_BODY_TOO_LARGE,
              UINT64_MAX, FRAME_MAX_BODY_LIMIT);
    size_case(t, "bigsize/size_huge", "{\"size\":123456789012345678901234567890}",
              FRAME_E_BODY_TOO_LARGE, UINT64_MAX, FRAME_MAX_BODY_LIMIT);
    raw_w8(t);
    datagram_5g(t);
    header_values(t);
    encode_5g(t);
    encode_chunk_over_long_max(t);
    decoder_big_max_header(t);
}
