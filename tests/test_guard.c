/*
 * The string kernels (lib/scan.h) read many bytes at a time; these tests make
 * any read past the end of what the library was given either crash or show.
 * (tests/test_vectors.c already feeds every decode vector whole, byte by byte
 * and at random splits with each chunk ending at an unmapped guard page.)
 *
 *  - Every header of every decode vector, cut at every length (so that its
 *    end falls at every offset of a 16- or 64-byte block), is parsed right
 *    before an unmapped guard page, and again followed by bytes that a scan
 *    stops at or runs over: the result must be the same.
 *  - Each of those cuts, as a frame of its own fed in two chunks (so that
 *    the header is assembled in the decoder's header buffer), gives the same
 *    event log whatever bytes lie in the header buffer past the header.
 * `make test-kernels` runs them with every kernel of the host.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* Headers up to this long are cut at every length; longer ones only near
 * their end (the cuts are quadratic in the length). */
#define CUT_ALL_MAX 1024
#define CUT_TAIL 200
/* The same for the decodes, which cost more (a decoder and a guard mapping
 * each). */
#define DECODE_CUT_ALL_MAX 256
#define DECODE_CUT_TAIL 64
#define DECODE_POISONS 3

/* Bytes after the input: scan stops (quote, backslash, control, high) and
 * plain bytes (a letter, space, a closing brace). The first DECODE_POISONS
 * of them (a stop, a plain byte, a control) are the ones the decodes use. */
static const unsigned char poisons[] = {'"', 'a', 0x00, '\\', 0xff, ' ', '}'};
#define NPOISON (sizeof poisons / sizeof poisons[0])

typedef struct parse_result {
    frame_errno err;
    size_t pos, root_len;
    uint64_t body;
} parse_result;

static parse_result parse_at(const frame_config *cfg, const unsigned char *p, size_t len)
{
    parse_result r;
    frame_header h;
    memset(&r, 0, sizeof r);
    r.err = frame_header_parse(&h, cfg, p, len, &r.pos);
    if (r.err == FRAME_OK) {
        r.pos = 0;
        r.body = h.body_size;
        r.root_len = h.root.len;
    }
    return r;
}

/* A decode vector's stream and config; 0 when the file is not one. */
static int load_decode_vector(vector *v, const char *path, unsigned char **stream, size_t *len,
                              int *datagram)
{
    sbuf why;
    char *kind, *hex;
    size_t n;
    memset(&why, 0, sizeof why);
    if (vector_load(v, path, &why) < 0) {
        sb_free(&why);
        return 0;
    }
    sb_free(&why);
    kind = json_get_str(&v->root, "kind", &n);
    hex = json_get_str(&v->root, "stream", &n);
    if (!kind || strcmp(kind, "decode") != 0 || !hex || frame_config_check(&v->config) != FRAME_OK) {
        free(kind);
        free(hex);
        vector_free(v);
        return 0;
    }
    *stream = hex_decode_alloc(hex, n, len);
    *datagram = 0;
    json_get_bool(&v->root, "datagram", datagram);
    free(kind);
    free(hex);
    return 1;
}

/* Calls fn for every header of every decode vector (frame by frame while the
 * prefixes say where the headers are); fn returns the cuts it made, which
 * are counted as `what`. */
typedef size_t (*header_fn)(const vector *v, const unsigned char *hdr, size_t h);
static void for_each_vector_header(header_fn fn, const char *what)
{
    char **paths;
    size_t np = vector_list(&paths), f, headers = 0, cuts = 0;
    cr_assert(np > 0, "no vectors in %s", vector_dir());
    for (f = 0; f < np; f++) {
        vector v;
        unsigned char *stream;
        size_t len, at = 0;
        int datagram;
        unsigned w;
        if (!load_decode_vector(&v, paths[f], &stream, &len, &datagram))
            continue;
        w = v.config.prefix_width ? v.config.prefix_width : 4;
        while (!v.config.raw && at + w <= len) {
            uint64_t h = 0;
            unsigned i;
            parse_result whole;
            for (i = 0; i < w; i++)
                h = h << 8 | stream[at + (v.config.big_endian ? i : w - 1 - i)];
            if (h == 0 || h > len - at - w)
                break;
            cuts += fn(&v, stream + at + w, (size_t)h);
            headers++;
            whole = parse_at(&v.config, stream + at + w, (size_t)h);
            if (whole.err != FRAME_OK || whole.body > len - at - w - h)
                break;
            at += w + (size_t)h + (size_t)whole.body;
        }
        free(stream);
        vector_free(&v);
    }
    vector_list_free(paths, np);
    cr_log_info("guard: %zu vector headers, %zu cuts %s", headers, cuts, what);
    cr_assert(headers > 100, "only %zu headers found in the vectors", headers);
}

/* Each cut parsed before a guard page, and followed by each poison. */
static size_t cut_and_parse(const vector *v, const unsigned char *hdr, size_t h)
{
    guard g;
    unsigned char *padded = xmalloc(h + 64);
    size_t k, cuts = 0;
    guard_init(&g, h);
    for (k = h <= CUT_ALL_MAX ? 0 : h - CUT_TAIL; k <= h; k++) {
        parse_result want = parse_at(&v->config, guard_place(&g, hdr, k), k), got;
        unsigned i;
        cr_assert(want.err == FRAME_OK || want.pos <= k, "%s: header cut at %zu/%zu: error %s at %zu, past the end",
                  v->file_name, k, h, frame_errname(want.err), want.pos);
        memcpy(padded, hdr, k);
        for (i = 0; i < NPOISON; i++) {
            memset(padded + k, poisons[i], 64);
            got = parse_at(&v->config, padded, k);
            cr_assert(got.err == want.err && got.pos == want.pos && got.body == want.body &&
                          got.root_len == want.root_len,
                      "%s: header cut at %zu/%zu: %s at %zu before a guard page, %s at %zu followed by 0x%02x",
                      v->file_name, k, h, frame_errname(want.err), want.pos, frame_errname(got.err), got.pos,
                      poisons[i]);
        }
        cuts++;
    }
    guard_free(&g);
    free(padded);
    return cuts;
}

Test(guard, every_vector_header_cut_at_every_length, .timeout = 120)
{
    for_each_vector_header(cut_and_parse, "parsed");
}

/* One frame (prefix, then the header bytes) fed in two chunks, the second
 * starting inside the header, so that the header is assembled in the header
 * buffer; the buffer is first filled with `poison`. Returns the event log. */
static char *decode_poisoned(const vector *v, const unsigned char *frame, size_t len, size_t split,
                             unsigned char poison, unsigned char *hbuf, size_t hcap)
{
    frame_decoder d;
    recorder r;
    feed_stats st;
    char *log;
    rec_init(&r);
    r.size_name = v->config.size_name;
    r.hdr_lo = hbuf;
    r.hdr_hi = hbuf + hcap;
    memset(hbuf, poison, len + 64 < hcap ? len + 64 : hcap);
    cr_assert_eq(frame_decoder_init(&d, &v->config, &rec_callbacks, hbuf, hcap, &r), FRAME_OK, "%s: init",
                 v->file_name);
    cr_assert(feed_stream(&d, &r, frame, len, &split, 1, &st) == 0 && !r.bad, "%s: %s", v->file_name, r.why);
    log = xmalloc(strlen(sb_str(&r.log)) + 1);
    strcpy(log, sb_str(&r.log));
    feed_stats_free(&st);
    rec_free(&r);
    return log;
}

/* Each cut as a frame of its own, decoded with each poison in the buffer. */
static size_t cut_and_decode(const vector *v, const unsigned char *hdr, size_t h)
{
    unsigned w = v->config.prefix_width ? v->config.prefix_width : 4;
    uint64_t mh = v->config.max_header ? v->config.max_header : FRAME_DEFAULT_MAX_HEADER;
    unsigned char *frame = xmalloc(w + h), *hbuf;
    size_t k, cuts = 0, hcap;
    if (mh > (1u << 20) || (w < 8 && mh > (1ull << 8 * w) - 1))
        mh = w < 8 && (1ull << 8 * w) - 1 < (1u << 20) ? (1ull << 8 * w) - 1 : (1u << 20);
    hcap = (size_t)mh;
    hbuf = xmalloc(hcap);
    for (k = h <= DECODE_CUT_ALL_MAX ? 1 : h - DECODE_CUT_TAIL; k <= h && k <= hcap; k++) {
        char *want;
        unsigned i;
        put_prefix(frame, w, v->config.big_endian, k);
        memcpy(frame + w, hdr, k);
        want = decode_poisoned(v, frame, w + k, w + 1, poisons[0], hbuf, hcap);
        for (i = 1; i < DECODE_POISONS; i++) {
            char *got = decode_poisoned(v, frame, w + k, w + 1, poisons[i], hbuf, hcap);
            cr_assert_str_eq(got, want, "%s: header cut at %zu/%zu: the log changed with 0x%02x in the header buffer "
                             "instead of 0x%02x", v->file_name, k, h, poisons[i], poisons[0]);
            free(got);
        }
        free(want);
        cuts++;
    }
    free(hbuf);
    free(frame);
    return cuts;
}

Test(guard, header_buffer_bytes_past_the_header_change_nothing, .timeout = 120)
{
    for_each_vector_header(cut_and_decode, "decoded");
}
