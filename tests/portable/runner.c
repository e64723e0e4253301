/*
 * Portable runner: every vector of tests/vectors (compiled in by
 * gen_vectors.py) and the >4 GiB size checks of bigsize.c, with nothing but
 * the C library. Exit status 0 when every check passed.
 *
 *   runner [--emit FILE] [--expect-endian big|little] [--expect-size-t N]
 *
 * Decode vectors are fed whole, one byte at a time, and (for short streams)
 * split in two at every position; the frames reported by the callbacks
 * (header text and body bytes) and the error (name, offset, frame index,
 * missing) must match the vector. Encode vectors are built with
 * frame_builder, written through frame_write, through the streaming calls
 * and through a transport that takes 3 bytes at a time; every result must be
 * the vector's frame byte for byte (or its error). --emit writes one line
 * per vector (the frames in hex), to compare two platforms with cmp(1).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "portable.h"

/* Streams up to this long are also split in two at every position. */
#define PV_SPLIT_MAX 512
/* Largest header buffer the runner allocates for a decoder. */
#define PV_HEADER_BUF_MAX ((uint64_t)64 * 1024 * 1024)

int pv_check(pv_ctx *t, int ok, const char *what, const char *file, int line) {
    t->checks++;
    if (!ok) {
        t->failures++;
        printf("FAIL %s: %s (%s:%d)\n", t->where ? t->where : "?", what, file, line);
    }
    return ok;
}

void pv_fail_detail(pv_ctx *t, const char *fmt, ...) {
    va_list ap;
    (void)t;
    printf("     ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static void emit_hex(FILE *f, const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) fprintf(f, "%02x", p[i]);
}

static frame_errno errno_by_name(const char *name) {
    int e;
    for (e = 0; e < 64; e++) {
        if (strcmp(frame_errname((frame_errno)e), name) == 0) return (frame_errno)e;
    }
    return (frame_errno)-1;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */
/* ------------------------------------------------------------------------ */

#define PV_MAX_FRAMES 64

typedef struct dec_log {
    unsigned char *hdr; /* header texts, back to back */
    size_t hdr_len, hdr_cap;
    unsigned char *body; /* bodies, back to back */
    size_t body_len, body_cap;
    size_t nframes;      /* frames ended */
    size_t headers;      /* on_header calls */
    size_t hdr_off[PV_MAX_FRAMES], hdr_n[PV_MAX_FRAMES];
    size_t body_off[PV_MAX_FRAMES], body_n[PV_MAX_FRAMES];
    uint64_t body_size[PV_MAX_FRAMES];
    int overflow;        /* more frames or bytes than the log holds */
    int order_error;     /* callbacks out of order */
    int in_frame;
} dec_log;

static int on_header(frame_decoder *d, const frame_header *h) {
    dec_log *log = (dec_log *)d->data;
    size_t k = log->headers;
    if (log->in_frame) log->order_error = 1;
    log->in_frame = 1;
    if (k >= PV_MAX_FRAMES || h->root.len > log->hdr_cap - log->hdr_len) {
        log->overflow = 1;
        return -1;
    }
    log->hdr_off[k] = log->hdr_len;
    log->hdr_n[k] = h->root.len;
    if (h->root.len) memcpy(log->hdr + log->hdr_len, h->root.json, h->root.len);
    log->hdr_len += h->root.len;
    log->body_off[k] = log->body_len;
    log->body_n[k] = 0;
    log->body_size[k] = h->body_size;
    log->headers++;
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *d, const void *at, size_t len) {
    dec_log *log = (dec_log *)d->data;
    size_t k = log->headers - 1;
    if (!log->in_frame || log->headers == 0) {
        log->order_error = 1;
        return -2;
    }
    if (len == 0) log->order_error = 1; /* chunks are never empty */
    if (len > log->body_cap - log->body_len) {
        log->overflow = 1;
        return -3;
    }
    memcpy(log->body + log->body_len, at, len);
    log->body_len += len;
    log->body_n[k] += len;
    return FRAME_CONTINUE;
}

static int on_frame_end(frame_decoder *d) {
    dec_log *log = (dec_log *)d->data;
    if (!log->in_frame) log->order_error = 1;
    log->in_frame = 0;
    log->nframes++;
    return FRAME_CONTINUE;
}

static const frame_callbacks pv_callbacks = {on_header, on_body, on_frame_end};

/* The header buffer a decoder needs for this config (SPEC.md: max_header,
 * no more than the prefix can hold); 0 in the raw profile. */
static uint64_t header_need(const frame_config *cfg) {
    unsigned w = cfg && cfg->prefix_width ? cfg->prefix_width : 4;
    uint64_t max = cfg && cfg->max_header ? cfg->max_header : FRAME_DEFAULT_MAX_HEADER;
    uint64_t wmax = w >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * w)) - 1;
    if (cfg && cfg->raw) return 0;
    return max < wmax ? max : wmax;
}

typedef struct dec_result {
    frame_errno err;       /* decoder errno after feeding, or frame_finish's */
    uint64_t offset, frame, missing;
    int finished_ok;
} dec_result;

/* Feeds the stream in pieces: step 0 = whole, 1 = byte by byte, else split
 * in two at `split`. */
static void run_decode(pv_ctx *t, const pv_vector *v, frame_decoder *d, int mode, size_t split,
                       dec_result *r) {
    const unsigned char *s = v->stream.p;
    size_t n = v->stream.len, pos = 0;
    memset(r, 0, sizeof *r);
    if (v->datagram) {
        r->err = frame_feed_datagram(d, s, n);
        PV_CHECK(t, r->err == frame_decoder_errno(d) || r->err == FRAME_E_PAUSED,
                 "frame_feed_datagram result agrees with frame_decoder_errno");
    } else if (mode == 0) {
        size_t c = frame_feed(d, s, n);
        r->err = frame_decoder_errno(d);
        PV_CHECK(t, c == n || r->err != FRAME_OK, "whole feed: stops early only on an error");
    } else if (mode == 1) {
        for (pos = 0; pos < n; pos++) {
            size_t c = frame_feed(d, s + pos, 1);
            if (c != 1) break;
        }
        r->err = frame_decoder_errno(d);
    } else {
        size_t c = frame_feed(d, s, split);
        if (c == split) c += frame_feed(d, s + split, n - split);
        r->err = frame_decoder_errno(d);
        PV_CHECK(t, c == n || r->err != FRAME_OK, "split feed: stops early only on an error");
    }
    if (r->err == FRAME_OK && !v->datagram) {
        uint64_t missing = 0;
        r->err = frame_finish(d, &missing);
        r->missing = missing;
        r->finished_ok = r->err == FRAME_OK;
        PV_CHECK(t, r->err == frame_decoder_errno(d), "frame_finish agrees with frame_decoder_errno");
    }
    r->offset = frame_decoder_offset(d);
    r->frame = frame_decoder_frame_index(d);
}

static void check_frames(pv_ctx *t, const pv_vector *v, const dec_log *log) {
    size_t k;
    PV_CHECK(t, !log->overflow, "callback log big enough");
    PV_CHECK(t, !log->order_error, "callbacks in order (header, body chunks, end)");
    if (!PV_CHECK(t, log->nframes == v->nframes, "number of completed frames")) {
        pv_fail_detail(t, "got %lu frames, want %lu", (unsigned long)log->nframes,
                       (unsigned long)v->nframes);
        return;
    }
    for (k = 0; k < v->nframes; k++) {
        const pv_frame *f = &v->frames[k];
        if (f->has_header_json) {
            int same = log->hdr_n[k] == f->header_json.len &&
                       memcmp(log->hdr + log->hdr_off[k], f->header_json.p, f->header_json.len) == 0;
            PV_CHECK(t, same, "header text of a frame");
        }
        PV_CHECK(t, log->body_size[k] == f->body.len, "body_size of a frame");
        PV_CHECK(t, log->body_n[k] == f->body.len &&
                        memcmp(log->body + log->body_off[k], f->body.p, f->body.len) == 0,
                 "body bytes of a frame");
    }
}

static void check_error(pv_ctx *t, const pv_vector *v, const dec_result *r) {
    if (!v->error) {
        if (!PV_CHECK(t, r->err == FRAME_OK, "valid stream decodes without error"))
            pv_fail_detail(t, "got %s at offset %" PRIu64, frame_errname(r->err), r->offset);
        PV_CHECK(t, v->datagram || r->finished_ok, "frame_finish OK at the end of a valid stream");
        return;
    }
    if (!PV_CHECK(t, r->err == errno_by_name(v->error), "error name")) {
        pv_fail_detail(t, "got %s at offset %" PRIu64 ", want %s", frame_errname(r->err), r->offset,
                       v->error);
        return;
    }
    if (v->has_offset && !PV_CHECK(t, r->offset == v->offset, "error offset"))
        pv_fail_detail(t, "got %" PRIu64 ", want %" PRIu64, r->offset, v->offset);
    if (v->has_frame && !PV_CHECK(t, r->frame == v->frame_index, "error frame index"))
        pv_fail_detail(t, "got %" PRIu64 ", want %" PRIu64, r->frame, v->frame_index);
    if (v->has_missing && !PV_CHECK(t, r->missing == v->missing, "missing bytes of TRUNCATED"))
        pv_fail_detail(t, "got %" PRIu64 ", want %" PRIu64, r->missing, v->missing);
}

static void decode_vector(pv_ctx *t, const pv_vector *v, unsigned long *skipped) {
    const frame_config *cfg = v->has_config ? &v->config : NULL;
    uint64_t need = header_need(cfg);
    unsigned char *hbuf = NULL;
    dec_log log;
    frame_decoder d;
    dec_result r;
    int mode;
    size_t split;

    if (v->error && strcmp(v->error, "CONFIG") == 0) {
        PV_CHECK(t, frame_config_check(cfg) == FRAME_E_CONFIG, "frame_config_check refuses");
        PV_CHECK(t, frame_decoder_init(&d, cfg, &pv_callbacks, NULL, 0, NULL) == FRAME_E_CONFIG,
                 "frame_decoder_init refuses the config");
        if (t->emit) fprintf(t->emit, "%s CONFIG\n", v->name);
        return;
    }
    PV_CHECK(t, frame_config_check(cfg) == FRAME_OK, "frame_config_check accepts");
    if (need > PV_HEADER_BUF_MAX || need > SIZE_MAX) {
        (*skipped)++;
        printf("SKIP %s: needs a %" PRIu64 "-byte header buffer\n", v->name, need);
        if (t->emit) fprintf(t->emit, "%s SKIP\n", v->name);
        return;
    }
    memset(&log, 0, sizeof log);
    log.hdr_cap = v->stream.len + 1;
    log.body_cap = v->stream.len + 1;
    log.hdr = (unsigned char *)malloc(log.hdr_cap);
    log.body = (unsigned char *)malloc(log.body_cap);
    if (need) hbuf = (unsigned char *)malloc((size_t)need);
    if (!log.hdr || !log.body || (need && !hbuf)) {
        PV_CHECK(t, 0, "out of memory");
        free(log.hdr), free(log.body), free(hbuf);
        return;
    }
    for (mode = 0; mode < 3; mode++) {
        size_t last = mode < 2 ? 1 : (v->stream.len <= PV_SPLIT_MAX ? v->stream.len : 0);
        if (v->datagram && mode > 0) break;
        for (split = mode < 2 ? 0 : 1; split < last || (mode < 2 && split == 0); split++) {
            unsigned char *hb = log.hdr, *bb = log.body;
            size_t hc = log.hdr_cap, bc = log.body_cap;
            memset(&log, 0, sizeof log);
            log.hdr = hb, log.body = bb, log.hdr_cap = hc, log.body_cap = bc;
            if (!PV_CHECK(t, frame_decoder_init(&d, cfg, &pv_callbacks, hbuf, (size_t)need, &log) ==
                                 FRAME_OK,
                          "frame_decoder_init"))
                break;
            run_decode(t, v, &d, mode, split, &r);
            check_frames(t, v, &log);
            check_error(t, v, &r);
            if (mode == 0 && t->emit) {
                size_t k;
                fprintf(t->emit, "%s %s %" PRIu64 " %" PRIu64 " %" PRIu64, v->name,
                        frame_errname(r.err), r.offset, r.frame, r.missing);
                for (k = 0; k < log.nframes && k < PV_MAX_FRAMES; k++) {
                    fprintf(t->emit, " ");
                    emit_hex(t->emit, log.hdr + log.hdr_off[k], log.hdr_n[k]);
                    fprintf(t->emit, "/");
                    emit_hex(t->emit, log.body + log.body_off[k], log.body_n[k]);
                }
                fprintf(t->emit, "\n");
            }
            if (mode < 2) break;
        }
    }
    free(log.hdr);
    free(log.body);
    free(hbuf);
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct sink {
    unsigned char *buf;
    size_t len, cap;
    size_t per_call; /* most bytes taken per call; 0 = all */
    unsigned long calls;
} sink;

static long sink_write(void *ctx, const void *data, size_t len) {
    sink *s = (sink *)ctx;
    size_t n = len;
    s->calls++;
    if (s->per_call && n > s->per_call) n = s->per_call;
    if (n > s->cap - s->len) return -7;
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return (long)n;
}

static frame_errno add_member(frame_builder *b, const pv_member *m, char *name) {
    memcpy(name, m->name.p, m->name.len);
    name[m->name.len] = '\0';
    switch (m->type) {
    case PV_STRING:
        if (memchr(m->str.p, 0, m->str.len) == NULL) {
            /* NUL-terminated copy for the plain string call */
            char *val = (char *)malloc(m->str.len + 1);
            frame_errno e;
            if (!val) return FRAME_E_ARGUMENT;
            memcpy(val, m->str.p, m->str.len);
            val[m->str.len] = '\0';
            e = frame_builder_add_string(b, name, val);
            free(val);
            return e;
        }
        return frame_builder_add_stringn(b, name, (const char *)m->str.p, m->str.len);
    case PV_INT: return frame_builder_add_int64(b, name, m->i);
    case PV_UINT: return frame_builder_add_uint64(b, name, m->u);
    case PV_BOOL: return frame_builder_add_bool(b, name, m->b);
    case PV_NULL: return frame_builder_add_null(b, name);
    default: return frame_builder_add_raw(b, name, (const char *)m->str.p, m->str.len);
    }
}

/* Builds the head; returns the builder's final result. */
static frame_errno build(const pv_vector *v, frame_builder *b, unsigned char *buf, size_t cap,
                         char *name, frame_errno *first_add, int *init_ok) {
    const frame_config *cfg = v->has_config ? &v->config : NULL;
    frame_errno e = frame_builder_init(b, cfg, buf, cap, v->body.len);
    size_t k;
    *first_add = FRAME_OK;
    *init_ok = e == FRAME_OK;
    if (e != FRAME_OK) return e;
    for (k = 0; k < v->nmembers; k++) {
        frame_errno a = add_member(b, &v->members[k], name);
        if (a != FRAME_OK && *first_add == FRAME_OK) *first_add = a;
    }
    return frame_builder_finish(b, NULL, NULL);
}

static void encode_vector(pv_ctx *t, const pv_vector *v) {
    size_t cap = 64, k, name_max = 0;
    unsigned char *buf, *out;
    char *name;
    frame_builder b;
    frame_encoder e;
    frame_errno res, first_add;
    const void *head = NULL;
    size_t head_len = 0;
    sink s;
    int pass, init_ok;

    for (k = 0; k < v->nmembers; k++) {
        const pv_member *m = &v->members[k];
        cap += 6 * (m->name.len + m->str.len) + 48;
        if (m->name.len > name_max) name_max = m->name.len;
    }
    buf = (unsigned char *)malloc(cap);
    name = (char *)malloc(name_max + 1);
    out = (unsigned char *)malloc(cap + v->body.len);
    if (!buf || !name || !out) {
        PV_CHECK(t, 0, "out of memory");
        free(buf), free(name), free(out);
        return;
    }
    res = build(v, &b, buf, cap, name, &first_add, &init_ok);
    if (v->error) {
        frame_errno want = errno_by_name(v->error);
        if (!PV_CHECK(t, res == want, "builder error"))
            pv_fail_detail(t, "got %s, want %s", frame_errname(res), v->error);
        PV_CHECK(t, first_add == FRAME_OK || first_add == want, "first failing add gives the error");
        if (init_ok) PV_CHECK(t, frame_builder_finish(&b, NULL, NULL) == res, "finish again: same result");
        if (t->emit) fprintf(t->emit, "%s %s\n", v->name, frame_errname(res));
        free(buf), free(name), free(out);
        return;
    }
    if (!PV_CHECK(t, res == FRAME_OK && first_add == FRAME_OK, "builder succeeds")) {
        pv_fail_detail(t, "got %s", frame_errname(res != FRAME_OK ? res : first_add));
        free(buf), free(name), free(out);
        return;
    }
    frame_builder_finish(&b, &head, &head_len);
    PV_CHECK(t, head == (const void *)buf, "head starts at the caller's buffer");
    if (PV_CHECK(t, head_len + v->body.len == v->frame.len, "frame length")) {
        PV_CHECK(t, memcmp(head, v->frame.p, head_len) == 0 &&
                        memcmp(v->frame.p + head_len, v->body.p, v->body.len) == 0,
                 "frame bytes (builder)");
    } else {
        pv_fail_detail(t, "got %lu + %lu bytes, want %lu", (unsigned long)head_len,
                       (unsigned long)v->body.len, (unsigned long)v->frame.len);
    }
    if (t->emit) {
        fprintf(t->emit, "%s ", v->name);
        emit_hex(t->emit, (const unsigned char *)head, head_len);
        emit_hex(t->emit, v->body.p, v->body.len);
        fprintf(t->emit, "\n");
    }

    /* The same frame through the transport: whole, streamed, 3 bytes a call. */
    for (pass = 0; pass < 3; pass++) {
        frame_errno w;
        unsigned long rounds = 0;
        memset(&s, 0, sizeof s);
        s.buf = out;
        s.cap = cap + v->body.len;
        s.per_call = pass == 2 ? 3 : 0;
        build(v, &b, buf, cap, name, &first_add, &init_ok);
        PV_CHECK(t, frame_encoder_init(&e, sink_write, &s) == FRAME_OK, "frame_encoder_init");
        if (pass == 1) {
            size_t half = v->body.len / 2;
            w = frame_write_begin(&e, &b);
            if (w == FRAME_OK) w = frame_write_body(&e, v->body.p, half);
            if (w == FRAME_OK) w = frame_write_body(&e, v->body.p + half, v->body.len - half);
            if (w == FRAME_OK) w = frame_write_end(&e);
        } else {
            w = frame_write(&e, &b, v->body.p, v->body.len);
            while (w == FRAME_E_WOULD_BLOCK && rounds++ < 1000000) {
                PV_CHECK(t, frame_encoder_pending(&e) > 0, "bytes pending after WOULD_BLOCK");
                w = frame_encoder_resume(&e);
            }
        }
        PV_CHECK(t, w == FRAME_OK, pass == 0 ? "frame_write" : pass == 1 ? "streaming write"
                                                                         : "short-write transport");
        PV_CHECK(t, frame_encoder_pending(&e) == 0, "nothing pending at the end");
        PV_CHECK(t, s.len == v->frame.len && memcmp(s.buf, v->frame.p, s.len) == 0,
                 pass == 0 ? "frame bytes (frame_write)"
                           : pass == 1 ? "frame bytes (streaming)" : "frame bytes (3 bytes a call)");
    }

    /* And back through the decoder. */
    {
        const frame_config *cfg = v->has_config ? &v->config : NULL;
        uint64_t need = header_need(cfg);
        unsigned char *hbuf = need && need <= PV_HEADER_BUF_MAX ? (unsigned char *)malloc((size_t)need) : NULL;
        dec_log log;
        frame_decoder d;
        memset(&log, 0, sizeof log);
        log.hdr = (unsigned char *)malloc(v->frame.len + 1);
        log.body = (unsigned char *)malloc(v->frame.len + 1);
        log.hdr_cap = log.body_cap = v->frame.len + 1;
        if ((!need || hbuf) && log.hdr && log.body &&
            PV_CHECK(t, frame_decoder_init(&d, cfg, &pv_callbacks, hbuf, (size_t)need, &log) == FRAME_OK,
                     "decoder for the round trip")) {
            PV_CHECK(t, frame_feed(&d, v->frame.p, v->frame.len) == v->frame.len, "round trip feeds");
            PV_CHECK(t, frame_finish(&d, NULL) == FRAME_OK && log.nframes == 1, "round trip: one frame");
            PV_CHECK(t, log.body_n[0] == v->body.len &&
                            memcmp(log.body, v->body.p, v->body.len) == 0, "round trip: body");
            if (!(cfg && cfg->raw)) {
                size_t w = v->frame.len - v->body.len - log.hdr_n[0];
                PV_CHECK(t, memcmp(log.hdr, v->frame.p + w, log.hdr_n[0]) == 0, "round trip: header");
            }
        }
        free(log.hdr), free(log.body), free(hbuf);
    }
    free(buf), free(name), free(out);
}

/* ------------------------------------------------------------------------ */

static int host_big_endian(void) {
    union {
        uint32_t u;
        unsigned char c[4];
    } x;
    x.u = 0x01020304u;
    return x.c[0] == 1;
}

int main(int argc, char **argv) {
    pv_ctx t;
    size_t i;
    int a;
    unsigned long skipped = 0, ndec = 0, nenc = 0;
    const char *expect_endian = NULL;
    long expect_size_t = 0;

    memset(&t, 0, sizeof t);
    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--emit") == 0 && a + 1 < argc) {
            t.emit = fopen(argv[++a], "w");
            if (!t.emit) {
                perror(argv[a]);
                return 2;
            }
        } else if (strcmp(argv[a], "--expect-endian") == 0 && a + 1 < argc) {
            expect_endian = argv[++a];
        } else if (strcmp(argv[a], "--expect-size-t") == 0 && a + 1 < argc) {
            expect_size_t = strtol(argv[++a], NULL, 10);
        } else {
            fprintf(stderr, "usage: %s [--emit FILE] [--expect-endian big|little] [--expect-size-t N]\n",
                    argv[0]);
            return 2;
        }
    }
    printf("portable runner: libframe %s, %s-endian, sizeof(size_t) %u, sizeof(frame_decoder) %u\n",
           frame_version(), host_big_endian() ? "big" : "little", (unsigned)sizeof(size_t),
           (unsigned)sizeof(frame_decoder));

    t.where = "platform";
    PV_CHECK(&t, strcmp(frame_version(), FRAME_VERSION_STRING) == 0, "frame_version() = header");
    PV_CHECK(&t, frame_version_number() == FRAME_VERSION_NUMBER, "frame_version_number() = header");
    if (expect_endian)
        PV_CHECK(&t, host_big_endian() == (strcmp(expect_endian, "big") == 0),
                 "running on the expected byte order");
    if (expect_size_t) PV_CHECK(&t, (long)sizeof(size_t) == expect_size_t, "expected sizeof(size_t)");

    for (i = 0; i < pv_vector_count; i++) {
        const pv_vector *v = &pv_vectors[i];
        t.where = v->name;
        if (v->encode) {
            encode_vector(&t, v);
            nenc++;
        } else {
            decode_vector(&t, v, &skipped);
            ndec++;
        }
    }
    pv_run_bigsize(&t);
    if (t.emit) fclose(t.emit);
    printf("%lu decode vectors, %lu encode vectors, %lu skipped; %lu checks, %lu failed\n", ndec,
           nenc, skipped, t.checks, t.failures);
    return t.failures ? 1 : 0;
}
