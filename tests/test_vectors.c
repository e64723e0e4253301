/*
 * The shared conformance vectors (tests/vectors/NAME.json, format in
 * DECISIONS.md and tests/vectors/README.md), read with libframe's own
 * accessors.
 *
 * Decode vectors: each stream is fed whole, one byte at a time, at 20 seeded
 * random split points (three seeds), and paused at every callback (whole and
 * split); every way must give the identical event log (support.h), and that
 * log must match the vector's frames and error. Datagram vectors go through
 * frame_feed_datagram once. Encode vectors are built with the builder and
 * compared byte for byte, then written through an encoder and decoded again.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define MIN_VECTORS 80
#define RANDOM_RUNS 3
#define RANDOM_CUTS 20

/* ---- expectations read from a vector ------------------------------------ */

typedef struct want_frame {
    unsigned char *header_json; /* NULL in the raw profile */
    size_t header_len;
    frame_value header; /* the "header" object, if given */
    int has_header;
    unsigned char *body;
    size_t body_len;
} want_frame;

typedef struct want_error {
    int present;
    char *name;
    uint64_t offset, frame, missing, declared, limit;
    int has_offset, has_frame, has_missing, has_declared, has_limit;
} want_error;

static void want_frames_free(want_frame *f, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        free(f[i].header_json);
        free(f[i].body);
    }
    free(f);
}

static int read_hex_member(const frame_value *obj, const char *name, unsigned char **out,
                           size_t *len, sbuf *why)
{
    size_t slen;
    char *hex = json_get_str(obj, name, &slen);
    if (!hex) {
        sb_printf(why, "\"%s\" is missing or not a string", name);
        return -1;
    }
    *out = hex_decode_alloc(hex, slen, len);
    free(hex);
    if (*len == (size_t)-1) {
        sb_printf(why, "\"%s\" is not hex", name);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static int read_error(const frame_value *root, want_error *e, sbuf *why)
{
    frame_value v;
    memset(e, 0, sizeof *e);
    if (!json_get(root, "error", &v)) {
        sb_adds(why, "no \"error\" member");
        return -1;
    }
    if (frame_value_is_null(&v))
        return 0;
    if (v.type != FRAME_TYPE_OBJECT) {
        sb_adds(why, "\"error\" is neither null nor an object");
        return -1;
    }
    e->present = 1;
    e->name = json_get_str(&v, "name", NULL);
    if (!e->name) {
        sb_adds(why, "error.name missing");
        return -1;
    }
    e->has_offset = json_get_u64(&v, "offset", &e->offset);
    e->has_frame = json_get_u64(&v, "frame", &e->frame);
    e->has_missing = json_get_u64(&v, "missing", &e->missing);
    e->has_declared = json_get_u64(&v, "declared", &e->declared);
    e->has_limit = json_get_u64(&v, "limit", &e->limit);
    return 0;
}

static int read_frames(const frame_value *root, want_frame **out, size_t *n, sbuf *why)
{
    frame_value arr;
    size_t c = 0;
    frame_member m;
    *out = NULL;
    *n = 0;
    if (!json_get(root, "frames", &arr) || arr.type != FRAME_TYPE_ARRAY) {
        sb_adds(why, "\"frames\" missing or not an array");
        return -1;
    }
    while (frame_value_next(&arr, &c, &m)) {
        want_frame *f;
        frame_value hj;
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        f = &(*out)[(*n)++];
        memset(f, 0, sizeof *f);
        if (m.value.type != FRAME_TYPE_OBJECT) {
            sb_printf(why, "frames[%zu] is not an object", *n - 1);
            return -1;
        }
        if (json_get(&m.value, "header_json", &hj)) {
            f->header_json = (unsigned char *)json_str(&hj, &f->header_len);
            if (!f->header_json) {
                sb_printf(why, "frames[%zu].header_json is not a string", *n - 1);
                return -1;
            }
        }
        f->has_header = json_get(&m.value, "header", &f->header);
        if (read_hex_member(&m.value, "body", &f->body, &f->body_len, why) < 0)
            return -1;
    }
    return 0;
}

/* ---- decode vectors ------------------------------------------------------ */

typedef struct decode_run {
    frame_decoder d;
    recorder r;
    feed_stats st;
    unsigned char *hbuf;
    size_t hmap, hcap;
    int mapped;
} decode_run;

static int run_init(decode_run *run, const vector *v, size_t stream_len, sbuf *why)
{
    uint64_t mh = v->config.max_header ? v->config.max_header : FRAME_DEFAULT_MAX_HEADER;
    frame_errno e;
    memset(run, 0, sizeof *run);
    rec_init(&run->r);
    run->r.size_name = v->config.size_name;
    run->r.raw = v->config.raw;
    if (v->config.raw) {
        run->hbuf = NULL;
        run->hcap = 0;
    } else if (mh <= (1u << 20)) {
        run->hcap = run->hmap = (size_t)mh;
        run->hbuf = xmalloc(run->hcap);
    } else if (mh <= (1ull << 40)) {
        run->hcap = run->hmap = (size_t)mh;
        run->hbuf = big_alloc(run->hmap);
        run->mapped = 1;
        if (!run->hbuf) {
            sb_printf(why, "cannot map a %llu-byte header buffer", (unsigned long long)mh);
            return -1;
        }
    } else {
        /* Headers cannot be longer than the stream: a buffer of the stream's
         * size is enough, whatever cap the decoder is told. */
        run->hmap = stream_len + 1;
        run->hbuf = big_alloc(run->hmap);
        run->mapped = 1;
        run->hcap = mh > SIZE_MAX ? SIZE_MAX : (size_t)mh;
    }
    if (run->hbuf) {
        run->r.hdr_lo = run->hbuf;
        run->r.hdr_hi = run->hbuf + run->hmap;
    }
    e = frame_decoder_init(&run->d, &v->config, &rec_callbacks, run->hbuf, run->hcap, &run->r);
    if (e != FRAME_OK) {
        sb_printf(why, "frame_decoder_init: %s", frame_errname(e));
        return -1;
    }
    return 0;
}

static void run_free(decode_run *run)
{
    rec_free(&run->r);
    feed_stats_free(&run->st);
    if (run->mapped)
        big_free(run->hbuf, run->hmap);
    else
        free(run->hbuf);
}

static void random_cuts(size_t *cuts, size_t len, uint64_t seed)
{
    prng g;
    size_t i, j;
    g.s = seed;
    for (i = 0; i < RANDOM_CUTS; i++)
        cuts[i] = (size_t)prng_below(&g, (uint64_t)len + 1);
    for (i = 1; i < RANDOM_CUTS; i++) /* insertion sort */
        for (j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            size_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
}

/* The first line where two logs differ. */
static void log_diff(sbuf *why, const char *a, const char *b)
{
    size_t line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    sb_printf(why, "logs differ at line %zu: \"%.*s\" vs \"%.*s\"", line,
              (int)(strcspn(la, "\n") > 120 ? 120 : strcspn(la, "\n")), la,
              (int)(strcspn(lb, "\n") > 120 ? 120 : strcspn(lb, "\n")), lb);
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Compares what the decoder delivered with the vector's frames and error. */
static int check_result(const vector *v, const decode_run *run, const want_frame *wf, size_t nwf,
                        const want_error *we, int datagram, sbuf *why)
{
    size_t i;
    const feed_stats *st = &run->st;
    if (run->r.nframes != nwf) {
        sb_printf(why, "%zu frames completed, want %zu", run->r.nframes, nwf);
        return -1;
    }
    for (i = 0; i < nwf; i++) {
        const rec_frame *got = &run->r.frames[i];
        if (got->body_len != wf[i].body_len || got->body_size != wf[i].body_len ||
            (wf[i].body_len && memcmp(got->body, wf[i].body, wf[i].body_len) != 0)) {
            sb_printf(why, "frame %zu: body differs (%zu bytes, want %zu)", i, got->body_len,
                      wf[i].body_len);
            return -1;
        }
        if (v->config.raw) {
            if (got->header_len != 0) {
                sb_printf(why, "frame %zu: raw profile with a header", i);
                return -1;
            }
            continue;
        }
        if (!wf[i].header_json) {
            sb_printf(why, "frame %zu: vector has no header_json", i);
            return -1;
        }
        {
            /* The root view is the object without surrounding white space
             * (frame.h: a value's first to last byte). The exact header
             * length is checked through the pause positions. This accepts
             * the untrimmed header too; test_header/test_decoder have the
             * dedicated white-space tests. */
            const unsigned char *h = wf[i].header_json;
            size_t a = 0, b = wf[i].header_len;
            while (a < b && is_ws(h[a]))
                a++;
            while (b > a && is_ws(h[b - 1]))
                b--;
            if (!((got->header_len == b - a && memcmp(got->header, h + a, b - a) == 0) ||
                  (got->header_len == wf[i].header_len &&
                   memcmp(got->header, h, wf[i].header_len) == 0))) {
                sb_printf(why, "frame %zu: header %.*s, want %.*s", i, (int)got->header_len,
                          (const char *)got->header, (int)wf[i].header_len, (const char *)h);
                return -1;
            }
        }
        if (wf[i].has_header) {
            frame_value gv;
            sbuf d = {0};
            gv.json = (const char *)got->header;
            gv.len = got->header_len;
            gv.type = FRAME_TYPE_OBJECT;
            if (!json_equal(&gv, &wf[i].header, 1, &d)) {
                sb_printf(why, "frame %zu: header does not match \"header\": %s", i, sb_str(&d));
                sb_free(&d);
                return -1;
            }
            sb_free(&d);
        }
    }
    if (!we->present) {
        if (st->err != FRAME_OK) {
            sb_printf(why, "ended with %s at %llu (frame %llu), want OK", frame_errname(st->err),
                      (unsigned long long)st->offset, (unsigned long long)st->frame);
            return -1;
        }
        return 0;
    }
    if (strcmp(frame_errname(st->err), we->name) != 0) {
        sb_printf(why, "ended with %s at %llu (frame %llu), want %s at %llu", frame_errname(st->err),
                  (unsigned long long)st->offset, (unsigned long long)st->frame, we->name,
                  (unsigned long long)we->offset);
        return -1;
    }
    if (!we->has_offset || !we->has_frame) {
        sb_adds(why, "vector error lacks offset or frame");
        return -1;
    }
    if (st->offset != we->offset || st->frame != we->frame) {
        sb_printf(why, "%s at offset %llu frame %llu, want offset %llu frame %llu", we->name,
                  (unsigned long long)st->offset, (unsigned long long)st->frame,
                  (unsigned long long)we->offset, (unsigned long long)we->frame);
        return -1;
    }
    if (st->err == FRAME_E_TRUNCATED && !datagram) {
        if (!we->has_missing || st->missing != we->missing) {
            sb_printf(why, "TRUNCATED missing %llu, want %llu", (unsigned long long)st->missing,
                      (unsigned long long)we->missing);
            return -1;
        }
    }
    if (we->has_declared && frame_decoder_declared_size(&run->d) != we->declared) {
        sb_printf(why, "declared %llu, want %llu",
                  (unsigned long long)frame_decoder_declared_size(&run->d),
                  (unsigned long long)we->declared);
        return -1;
    }
    if (we->has_limit && frame_decoder_limit(&run->d) != we->limit) {
        sb_printf(why, "limit %llu, want %llu", (unsigned long long)frame_decoder_limit(&run->d),
                  (unsigned long long)we->limit);
        return -1;
    }
    return 0;
}

/* Pauses right after on_header / on_frame_end happen at known offsets. */
static int check_pauses(const vector *v, const decode_run *run, const want_frame *wf, size_t nwf,
                        sbuf *why)
{
    uint64_t at = 0;
    unsigned w = v->config.prefix_width ? v->config.prefix_width : 4;
    size_t i;
    if (run->st.n_header_pause < nwf || run->st.n_end_pause < nwf) {
        sb_printf(why, "paused %zu times after on_header and %zu after on_frame_end for %zu frames",
                  run->st.n_header_pause, run->st.n_end_pause, nwf);
        return -1;
    }
    for (i = 0; i < nwf; i++) {
        uint64_t head = at + w + (v->config.raw ? 0 : wf[i].header_len);
        if (run->st.header_pause_at[i] != head) {
            sb_printf(why, "frame %zu: paused after on_header at %llu, want %llu", i,
                      (unsigned long long)run->st.header_pause_at[i], (unsigned long long)head);
            return -1;
        }
        at = head + wf[i].body_len;
        if (run->st.end_pause_at[i] != at) {
            sb_printf(why, "frame %zu: paused after on_frame_end at %llu, want %llu", i,
                      (unsigned long long)run->st.end_pause_at[i], (unsigned long long)at);
            return -1;
        }
    }
    return 0;
}

static int run_decode_vector(vector *v, sbuf *why)
{
    unsigned char *stream = NULL;
    size_t len = 0, nwf = 0, mode;
    want_frame *wf = NULL;
    want_error we;
    frame_value dg;
    int datagram = 0, rc = -1;
    decode_run base;
    int have_base = 0;
    frame_errno ce = frame_config_check(&v->config);

    memset(&we, 0, sizeof we);
    if (read_error(&v->root, &we, why) < 0)
        goto out;
    if (we.present && strcmp(we.name, "CONFIG") == 0) {
        frame_decoder d;
        unsigned char hb[16];
        frame_errno e = frame_decoder_init(&d, &v->config, &rec_callbacks, hb, sizeof hb, NULL);
        if (ce != FRAME_E_CONFIG || e != FRAME_E_CONFIG || frame_decoder_errno(&d) != FRAME_E_CONFIG) {
            sb_printf(why, "config_check %s, init %s, want CONFIG", frame_errname(ce),
                      frame_errname(e));
            goto out;
        }
        rc = 0;
        goto out;
    }
    if (ce != FRAME_OK) {
        sb_printf(why, "config_check: %s", frame_errname(ce));
        goto out;
    }
    if (json_get(&v->root, "datagram", &dg) && dg.type == FRAME_TYPE_BOOL)
        frame_value_bool(&dg, &datagram);
    if (read_hex_member(&v->root, "stream", &stream, &len, why) < 0 ||
        read_frames(&v->root, &wf, &nwf, why) < 0)
        goto out;

    if (datagram) {
        if (run_init(&base, v, len, why) < 0) {
            run_free(&base);
            goto out;
        }
        have_base = 1;
        if (feed_datagram(&base.d, &base.r, stream, len, &base.st) < 0 || base.r.bad) {
            sb_printf(why, "datagram: %s", base.r.why);
            goto out;
        }
        rc = check_result(v, &base, wf, nwf, &we, 1, why);
        goto out;
    }

    /* mode 0 whole, 1 byte at a time, 2.. random cuts, then paused */
    for (mode = 0; mode < 2 + RANDOM_RUNS + 2; mode++) {
        decode_run run;
        size_t *cuts = NULL, ncuts = 0, i;
        const char *what;
        int paused = mode >= 2 + RANDOM_RUNS;
        if (run_init(&run, v, len, why) < 0) {
            run_free(&run);
            goto out;
        }
        if (mode == 1) {
            what = "one byte at a time";
            cuts = xmalloc((len + 1) * sizeof *cuts);
            for (i = 0; i < len; i++)
                cuts[i] = i;
            ncuts = len;
        } else if (mode >= 2 && !paused) {
            what = "random splits";
            cuts = xmalloc(RANDOM_CUTS * sizeof *cuts);
            random_cuts(cuts, len, hash_str(v->file_name) + mode);
            ncuts = RANDOM_CUTS;
        } else if (paused && mode == 2 + RANDOM_RUNS + 1) {
            what = "paused at every callback, random splits";
            cuts = xmalloc(RANDOM_CUTS * sizeof *cuts);
            random_cuts(cuts, len, hash_str(v->file_name) ^ 0x5a5a5a5aull);
            ncuts = RANDOM_CUTS;
        } else {
            what = paused ? "paused at every callback" : "whole";
        }
        if (paused)
            run.r.pause_mask = REC_HEADER | REC_BODY | REC_END;
        if (feed_stream(&run.d, &run.r, stream, len, cuts, ncuts, &run.st) < 0 || run.r.bad) {
            sb_printf(why, "%s: %s", what, run.r.why);
            free(cuts);
            run_free(&run);
            goto out;
        }
        free(cuts);
        if (mode == 0) {
            base = run;
            have_base = 1;
            if (check_result(v, &base, wf, nwf, &we, 0, why) < 0)
                goto out;
            continue;
        }
        if (strcmp(sb_str(&run.r.log), sb_str(&base.r.log)) != 0) {
            sb_printf(why, "%s vs whole: ", what);
            log_diff(why, sb_str(&run.r.log), sb_str(&base.r.log));
            run_free(&run);
            goto out;
        }
        if (paused && mode == 2 + RANDOM_RUNS && check_pauses(v, &run, wf, nwf, why) < 0) {
            run_free(&run);
            goto out;
        }
        run_free(&run);
    }
    rc = 0;
out:
    if (have_base)
        run_free(&base);
    free(stream);
    want_frames_free(wf, nwf);
    free(we.name);
    return rc;
}

/* ---- encode vectors ------------------------------------------------------ */

typedef struct sink {
    sbuf out;
} sink;

static long sink_write(void *ctx, const void *data, size_t len)
{
    sink *s = ctx;
    size_t n = len > 7 ? len / 2 : len; /* short writes on purpose */
    sb_add(&s->out, data, n);
    return (long)n;
}

/* Reads name and bytes of one member; returns 0 or -1. */
static int member_parts(const frame_value *m, char **name, char **type, frame_value *value,
                        char **bytes, size_t *blen, int *has_bytes, sbuf *why)
{
    size_t nlen = 0;
    *name = *type = *bytes = NULL;
    *has_bytes = 0;
    if (m->type == FRAME_TYPE_ARRAY) {
        size_t c = 0;
        frame_member e[3];
        int k;
        for (k = 0; k < 3; k++)
            if (!frame_value_next(m, &c, &e[k])) {
                sb_adds(why, "member array with fewer than 3 elements");
                return -1;
            }
        *name = json_str(&e[0].value, &nlen);
        *type = json_str(&e[1].value, NULL);
        *value = e[2].value;
    } else if (m->type == FRAME_TYPE_OBJECT) {
        frame_value nh, vh;
        *type = json_get_str(m, "type", NULL);
        if (json_get(m, "name_hex", &nh)) {
            unsigned char *raw;
            if (read_hex_member(m, "name_hex", &raw, &nlen, why) < 0)
                return -1;
            *name = xrealloc(raw, nlen + 1);
            (*name)[nlen] = '\0';
        } else {
            *name = json_get_str(m, "name", &nlen);
        }
        if (json_get(m, "value_hex", &vh)) {
            unsigned char *raw;
            if (read_hex_member(m, "value_hex", &raw, blen, why) < 0)
                return -1;
            *bytes = (char *)raw;
            *has_bytes = 1;
        } else if (!json_get(m, "value", value)) {
            memset(value, 0, sizeof *value);
        }
    } else {
        sb_adds(why, "member is neither an array nor an object");
        return -1;
    }
    if (!*name || !*type) {
        sb_adds(why, "member without a name or type");
        return -1;
    }
    if (strlen(*name) != nlen) {
        sb_adds(why, "member name holds U+0000 (names are NUL-terminated in C)");
        return -1;
    }
    return 0;
}

/* Adds one member; `plain` uses add_string instead of add_stringn when the
 * string has no NUL. Returns the builder's result, or -1 on a bad vector. */
static int add_one(frame_builder *b, const frame_value *m, int plain, frame_errno *res, sbuf *why)
{
    char *name, *type, *bytes;
    size_t blen = 0;
    int has_bytes, rc = 0;
    frame_value value;
    memset(&value, 0, sizeof value);
    if (member_parts(m, &name, &type, &value, &bytes, &blen, &has_bytes, why) < 0) {
        rc = -1;
        goto out;
    }
    if (strcmp(type, "string") == 0 || strcmp(type, "raw") == 0) {
        if (!has_bytes) {
            bytes = json_str(&value, &blen);
            if (!bytes) {
                sb_printf(why, "member %s: %s value is not a string", name, type);
                rc = -1;
                goto out;
            }
        }
        if (strcmp(type, "raw") == 0)
            *res = frame_builder_add_raw(b, name, bytes, blen);
        else if (plain && memchr(bytes, 0, blen) == NULL)
            *res = frame_builder_add_string(b, name, bytes);
        else
            *res = frame_builder_add_stringn(b, name, bytes, blen);
    } else if (strcmp(type, "int") == 0) {
        int64_t i;
        if (frame_value_int64(&value, &i) != FRAME_OK) {
            sb_printf(why, "member %s: bad int", name);
            rc = -1;
            goto out;
        }
        *res = frame_builder_add_int64(b, name, i);
    } else if (strcmp(type, "uint") == 0) {
        uint64_t u;
        if (frame_value_uint64(&value, &u) != FRAME_OK) {
            sb_printf(why, "member %s: bad uint", name);
            rc = -1;
            goto out;
        }
        *res = frame_builder_add_uint64(b, name, u);
    } else if (strcmp(type, "bool") == 0) {
        int t;
        if (frame_value_bool(&value, &t) != FRAME_OK) {
            sb_printf(why, "member %s: bad bool", name);
            rc = -1;
            goto out;
        }
        *res = frame_builder_add_bool(b, name, t);
    } else if (strcmp(type, "null") == 0) {
        *res = frame_builder_add_null(b, name);
    } else {
        sb_printf(why, "member %s: unknown type %s", name, type);
        rc = -1;
    }
out:
    free(name);
    free(type);
    free(bytes);
    return rc;
}

/* Builds the vector's frame head; *first gets the first non-OK result. */
static int build(vector *v, unsigned char *buf, size_t cap, uint64_t body_size, int plain,
                 frame_builder *b, frame_errno *first, frame_errno *fin, sbuf *why)
{
    frame_value members;
    size_t c = 0;
    frame_member m;
    frame_errno e = frame_builder_init(b, &v->config, buf, cap, body_size);
    *first = e;
    *fin = FRAME_OK;
    if (!json_get(&v->root, "members", &members) || members.type != FRAME_TYPE_ARRAY) {
        sb_adds(why, "\"members\" missing or not an array");
        return -1;
    }
    if (e != FRAME_OK) {
        *fin = e;
        return 0;
    }
    while (frame_value_next(&members, &c, &m)) {
        if (add_one(b, &m.value, plain, &e, why) < 0)
            return -1;
        if (*first == FRAME_OK)
            *first = e;
    }
    *fin = frame_builder_finish(b, NULL, NULL);
    if (*first == FRAME_OK)
        *first = *fin;
    return 0;
}

static int run_encode_vector(vector *v, sbuf *why)
{
    unsigned char *body = NULL, *frame = NULL, *buf = NULL, *buf2 = NULL;
    size_t blen = 0, flen = 0, cap;
    want_error we;
    frame_builder b, b2;
    frame_errno first, fin, first2, fin2;
    const void *head;
    size_t hlen;
    int rc = -1;

    memset(&we, 0, sizeof we);
    if (read_error(&v->root, &we, why) < 0 ||
        read_hex_member(&v->root, "body", &body, &blen, why) < 0)
        goto out;
    if (!we.present && read_hex_member(&v->root, "frame", &frame, &flen, why) < 0)
        goto out;
    cap = flen + 64 > (1u << 20) ? flen + 64 : (1u << 20);
    buf = xmalloc(cap);
    buf2 = xmalloc(cap);
    if (build(v, buf, cap, blen, 0, &b, &first, &fin, why) < 0)
        goto out;
    if (we.present) {
        if (strcmp(frame_errname(first), we.name) != 0) {
            sb_printf(why, "first error %s, want %s", frame_errname(first), we.name);
            goto out;
        }
        if (strcmp(frame_errname(fin), we.name) != 0) {
            sb_printf(why, "finish returned %s after %s: not sticky", frame_errname(fin), we.name);
            goto out;
        }
        rc = 0;
        goto out;
    }
    if (first != FRAME_OK) {
        sb_printf(why, "builder: %s", frame_errname(first));
        goto out;
    }
    cr_assert_eq(frame_builder_finish(&b, &head, &hlen), FRAME_OK);
    if (hlen + blen != flen || memcmp(head, frame, hlen) != 0 ||
        (blen && memcmp(frame + hlen, body, blen) != 0)) {
        sbuf got = {0}, want = {0};
        sb_hex(&got, head, hlen);
        sb_hex(&want, frame, flen > hlen ? hlen : flen);
        sb_printf(why, "built head %s (+%zu body bytes), want %s... (%zu bytes in all)", got.p,
                  blen, want.p, flen);
        sb_free(&got);
        sb_free(&want);
        goto out;
    }
    /* add_string gives the same bytes as add_stringn */
    if (build(v, buf2, cap, blen, 1, &b2, &first2, &fin2, why) < 0)
        goto out;
    {
        const void *head2;
        size_t hlen2;
        if (first2 != FRAME_OK || frame_builder_finish(&b2, &head2, &hlen2) != FRAME_OK ||
            hlen2 != hlen || memcmp(head2, head, hlen) != 0) {
            sb_adds(why, "add_string and add_stringn differ");
            goto out;
        }
    }
    /* written through an encoder with short writes */
    {
        frame_encoder e;
        sink s = {{0}};
        frame_errno r;
        unsigned long spins = 0;
        cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
        r = frame_write(&e, &b, body, blen);
        while (r == FRAME_E_WOULD_BLOCK && spins++ < 10000000ul)
            r = frame_encoder_resume(&e);
        if (r != FRAME_OK || s.out.len != flen || memcmp(s.out.p, frame, flen) != 0) {
            sb_printf(why, "frame_write: %s, %zu bytes", frame_errname(r), s.out.len);
            sb_free(&s.out);
            goto out;
        }
        sb_free(&s.out);
    }
    /* and the decoder takes it back */
    {
        decode_run run;
        if (run_init(&run, v, flen, why) < 0) {
            run_free(&run);
            goto out;
        }
        if (feed_stream(&run.d, &run.r, frame, flen, NULL, 0, &run.st) < 0 || run.r.bad ||
            run.st.err != FRAME_OK || run.r.nframes != 1 || run.r.frames[0].body_len != blen ||
            (blen && memcmp(run.r.frames[0].body, body, blen) != 0)) {
            sb_printf(why, "decoding the built frame: %s %s", frame_errname(run.st.err),
                      run.r.why);
            run_free(&run);
            goto out;
        }
        run_free(&run);
    }
    rc = 0;
out:
    free(body);
    free(frame);
    free(buf);
    free(buf2);
    free(we.name);
    return rc;
}

/* ---- the tests ------------------------------------------------------------- */

Test(vectors, every_file_is_a_well_formed_vector)
{
    char **paths;
    size_t n = vector_list(&paths), i, decode = 0, encode = 0;
    cr_assert_geq(n, (size_t)MIN_VECTORS, "only %zu vectors in %s", n, vector_dir());
    for (i = 0; i < n; i++) {
        vector v;
        sbuf why = {0};
        char *name, *kind;
        if (vector_load(&v, paths[i], &why) < 0) {
            cr_expect_fail("%s: %s", paths[i], sb_str(&why));
            vector_free(&v);
            sb_free(&why);
            continue;
        }
        name = json_get_str(&v.root, "name", NULL);
        kind = json_get_str(&v.root, "kind", NULL);
        cr_expect(name && strcmp(name, v.file_name) == 0, "%s: name is %s", v.file_name,
                  name ? name : "(missing)");
        cr_expect(kind && (strcmp(kind, "decode") == 0 || strcmp(kind, "encode") == 0),
                  "%s: kind %s", v.file_name, kind ? kind : "(missing)");
        if (kind && strcmp(kind, "decode") == 0)
            decode++;
        if (kind && strcmp(kind, "encode") == 0)
            encode++;
        free(name);
        free(kind);
        vector_free(&v);
        sb_free(&why);
    }
    cr_expect_gt(decode, 0u);
    cr_expect_gt(encode, 0u);
    cr_log_info("%zu vectors: %zu decode, %zu encode", n, decode, encode);
    vector_list_free(paths, n);
}

/* Every vector is a test of its own, so that one crash cannot hide the
 * others. The parameters live in Criterion's shared memory. */
typedef struct vector_param {
    char path[1024];
} vector_param;

static void free_params(struct criterion_test_params *ctp)
{
    cr_free(ctp->params);
}

ParameterizedTestParameters(vectors, conforms)
{
    char **paths;
    size_t n = vector_list(&paths), i, k = 0;
    vector_param *params = cr_malloc(sizeof *params * (n ? n : 1));
    for (i = 0; i < n; i++) {
        if (strlen(paths[i]) >= sizeof params[k].path)
            continue; /* the format test reports it */
        strcpy(params[k++].path, paths[i]);
    }
    vector_list_free(paths, n);
    return cr_make_param_array(vector_param, params, k, free_params);
}

ParameterizedTest(vector_param *p, vectors, conforms, .timeout = 120)
{
    vector v;
    sbuf why = {0};
    char *kind;
    int rc = -1;
    cr_log_info("vector %s", p->path); /* names the vector of a crash (--verbose) */
    cr_assert_eq(vector_load(&v, p->path, &why), 0, "%s: %s", p->path, sb_str(&why));
    kind = json_get_str(&v.root, "kind", NULL);
    cr_assert_not_null(kind, "%s: no kind", v.file_name);
    if (strcmp(kind, "decode") == 0)
        rc = run_decode_vector(&v, &why);
    else if (strcmp(kind, "encode") == 0)
        rc = run_encode_vector(&v, &why);
    else
        cr_assert_fail("%s: kind %s", v.file_name, kind);
    cr_expect_eq(rc, 0, "%s: %s", v.file_name, sb_str(&why));
    free(kind);
    vector_free(&v);
    sb_free(&why);
}
