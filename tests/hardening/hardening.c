/* Helpers of the hardening tests; see hardening.h. */
#include "hardening.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

const char *hardening_root(void) {
    const char *r = getenv("HARDENING_ROOT");
    return r && *r ? r : ".";
}

const char *errname(frame_errno e) { return e == FRAME_OK ? "OK" : frame_errname(e); }

frame_errno parse_guarded(const frame_config *cfg, const void *hdr, size_t len, size_t *pos,
                          uint64_t *body_size) {
    guard g;
    frame_header h;
    frame_errno e;
    size_t p = 0;
    guard_init(&g, len);
    e = frame_header_parse(&h, cfg, guard_place(&g, hdr, len), len, &p);
    guard_free(&g);
    if (pos) *pos = e == FRAME_OK ? 0 : p;
    if (body_size) *body_size = e == FRAME_OK ? h.body_size : 0;
    return e;
}

/* A header buffer as large as the config's max_header (mapped lazily). */
static uint64_t header_cap(const frame_config *cfg) {
    uint64_t m = cfg && cfg->max_header ? cfg->max_header : FRAME_DEFAULT_MAX_HEADER;
    return cfg && cfg->raw ? 1 : m;
}

static void run_once(const frame_config *cfg, const unsigned char *data, size_t len,
                     const size_t *cuts, size_t ncuts, outcome *out, sbuf *log) {
    frame_decoder d;
    recorder r;
    feed_stats st;
    uint64_t cap = header_cap(cfg);
    void *buf = big_alloc((size_t)cap);
    int rc;
    cr_assert(buf != NULL, "cannot map a %llu-byte header buffer", (unsigned long long)cap);
    rec_init(&r);
    r.size_name = cfg ? cfg->size_name : NULL;
    r.raw = cfg && cfg->raw;
    r.keep_bodies = len <= (1u << 20);
    r.hdr_lo = buf;
    r.hdr_hi = (const unsigned char *)buf + cap;
    cr_assert_eq(frame_decoder_init(&d, cfg, &rec_callbacks, buf, (size_t)cap, &r), FRAME_OK);
    rc = feed_stream(&d, &r, data, len, cuts, ncuts, &st);
    cr_assert(rc == 0 && !r.bad, "decoder broke an API rule: %s", r.why);
    out->err = st.err;
    out->offset = st.offset;
    out->frame = st.frame;
    out->missing = st.err == FRAME_E_TRUNCATED ? st.missing : 0;
    out->declared = frame_decoder_declared_size(&d);
    out->limit = frame_decoder_limit(&d);
    out->frames = r.nframes;
    if (log) sb_add(log, r.log.p, r.log.len);
    feed_stats_free(&st);
    rec_free(&r);
    big_free(buf, (size_t)cap);
}

void decode_all_ways(const frame_config *cfg, const void *data, size_t len, size_t byte_split_max,
                     outcome *out) {
    sbuf whole, bytes;
    memset(&whole, 0, sizeof whole);
    memset(&bytes, 0, sizeof bytes);
    memset(out, 0, sizeof *out);
    run_once(cfg, data, len, NULL, 0, out, &whole);
    if (len > 1 && len <= byte_split_max) {
        outcome o2;
        size_t *cuts = xmalloc((len - 1) * sizeof *cuts), i;
        for (i = 0; i < len - 1; i++) cuts[i] = i + 1;
        run_once(cfg, data, len, cuts, len - 1, &o2, &bytes);
        free(cuts);
        cr_assert(whole.len == bytes.len && !memcmp(whole.p, bytes.p, whole.len),
                  "fed whole and byte by byte, the logs differ:\n%s\n---\n%s", sb_str(&whole),
                  sb_str(&bytes));
    }
    sb_free(&whole);
    sb_free(&bytes);
}

void decode_datagram(const frame_config *cfg, const void *data, size_t len, outcome *out) {
    frame_decoder d;
    recorder r;
    feed_stats st;
    uint64_t cap = header_cap(cfg);
    void *buf = big_alloc((size_t)cap);
    cr_assert(buf != NULL);
    memset(out, 0, sizeof *out);
    rec_init(&r);
    r.size_name = cfg ? cfg->size_name : NULL;
    r.raw = cfg && cfg->raw;
    cr_assert_eq(frame_decoder_init(&d, cfg, &rec_callbacks, buf, (size_t)cap, &r), FRAME_OK);
    cr_assert(feed_datagram(&d, &r, data, len, &st) == 0 && !r.bad, "datagram: %s", r.why);
    out->err = st.err;
    out->offset = st.offset;
    out->frame = st.frame;
    out->declared = frame_decoder_declared_size(&d);
    out->limit = frame_decoder_limit(&d);
    out->frames = r.nframes;
    feed_stats_free(&st);
    rec_free(&r);
    big_free(buf, (size_t)cap);
}
