/*
 * fuzz_split: one stream decoded several ways must give the same event log
 * (headers, body bytes, frame ends, error name, offset, frame index, sizes):
 *   - fed whole, - one byte at a time, - in random chunks,
 *   - in random chunks with random pauses (resumed at once).
 * Then the same bytes as one datagram: frame_feed_datagram() must agree with
 * what the stream decoder saw (the same frame, or the error SPEC.md predicts
 * from it, with no callback at all before an error).
 *
 * Controls (fuzz_common.h bytes 4-7):
 *   ctl[0]  the ctl[0]-th header or frame-end callback (from 1) fails (0 never)
 *   ctl[1]  low nibble q: on_header returns SKIP when frame index % q == q - 1
 *   ctl[2]  largest random chunk (0 = 256)
 *   ctl[3]  random seed
 */
#include "fuzz_common.h"

static unsigned char hdrbuf[FZ_HEADER_CAP];

typedef struct evlog {
    uint8_t *buf;
    size_t len, cap;
    size_t body_at; /* offset of the open 'B' record's length, or 0 */
} evlog;

static void log_put(evlog *l, const void *p, size_t n) {
    if (l->len + n > l->cap) {
        size_t c = l->cap ? l->cap : 4096;
        while (c < l->len + n) c *= 2;
        l->buf = realloc(l->buf, c);
        FZ_CHECK(l->buf != NULL);
        l->cap = c;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
}

static void log_u64(evlog *l, uint64_t v) { log_put(l, &v, sizeof v); }

static void log_tag(evlog *l, char t) {
    log_put(l, &t, 1);
    l->body_at = 0;
}

typedef struct sstate {
    const fz_params *par;
    evlog log;
    int pausing; /* pause at random callbacks */
    fz_rng rng;
    int paused, stopped;
    unsigned marks; /* header and frame-end callbacks so far */
    uint64_t frames;
} sstate;

static int verdict(sstate *st, int is_mark) {
    if (is_mark) {
        st->marks++;
        if (st->par->ctl[0] && st->marks == st->par->ctl[0]) {
            st->stopped = 1;
            return -3;
        }
    }
    if (st->pausing && (fz_rand(&st->rng) & 1)) {
        st->paused = 1;
        return FRAME_PAUSE;
    }
    return FRAME_CONTINUE;
}

static int on_header(frame_decoder *d, const frame_header *h) {
    sstate *st = d->data;
    unsigned q = st->par->ctl[1] & 15;
    int v;
    FZ_CHECK(!st->paused && !st->stopped);
    log_tag(&st->log, 'H');
    log_u64(&st->log, h->body_size);
    log_u64(&st->log, frame_decoder_frame_index(d));
    log_u64(&st->log, h->root.len);
    if (h->root.len) log_put(&st->log, h->root.json, h->root.len);
    v = verdict(st, 1);
    /* a skipped header cannot also pause: skip wins in every mode alike */
    if (v >= 0 && q && st->frames % q == q - 1) {
        log_tag(&st->log, 'S');
        st->paused = 0;
        return FRAME_SKIP;
    }
    return v;
}

static int on_body(frame_decoder *d, const void *at, size_t len) {
    sstate *st = d->data;
    FZ_CHECK(!st->paused && !st->stopped);
    if (!st->log.body_at) {
        log_tag(&st->log, 'B');
        st->log.body_at = st->log.len;
        log_u64(&st->log, 0);
    }
    {
        uint64_t n;
        size_t pos = st->log.body_at;
        log_put(&st->log, at, len);
        memcpy(&n, st->log.buf + pos, sizeof n);
        n += len;
        memcpy(st->log.buf + pos, &n, sizeof n);
        st->log.body_at = pos;
    }
    return verdict(st, 0);
}

static int on_frame_end(frame_decoder *d) {
    sstate *st = d->data;
    FZ_CHECK(!st->paused && !st->stopped);
    log_tag(&st->log, 'E');
    log_u64(&st->log, frame_decoder_frame_index(d));
    st->frames++;
    return verdict(st, 1);
}

static const frame_callbacks cbs = {on_header, on_body, on_frame_end};

/* Decodes data in the given way; fills st->log, ending with an 'X' record. */
static void run(sstate *st, const fz_params *par, const uint8_t *data, size_t n, int mode) {
    frame_decoder d;
    fz_rng split;
    size_t off = 0, max = par->ctl[2] ? par->ctl[2] : 256;
    uint64_t missing = 0;
    frame_errno e;
    memset(st, 0, sizeof *st);
    st->par = par;
    st->pausing = mode == 3;
    fz_seed(&st->rng, par->ctl[3] + 7u);
    fz_seed(&split, par->ctl[3]);
    FZ_CHECK(frame_decoder_init(&d, &par->cfg, &cbs, hdrbuf, sizeof hdrbuf, st) == FRAME_OK);
    while (off < n) {
        size_t chunk = n - off, c;
        if (mode == 1) chunk = 1;
        else if (mode >= 2) chunk = 1 + fz_rand(&split) % max;
        if (chunk > n - off) chunk = n - off;
        c = frame_feed(&d, data + off, chunk);
        FZ_CHECK(c <= chunk);
        off += c;
        if (st->paused) {
            FZ_CHECK(frame_decoder_errno(&d) == FRAME_E_PAUSED);
            frame_decoder_resume(&d);
            st->paused = 0;
            continue;
        }
        if (frame_decoder_errno(&d) != FRAME_OK) break;
        FZ_CHECK(c == chunk);
    }
    e = frame_decoder_errno(&d);
    if (e == FRAME_OK) {
        /* finish may still deliver an empty body's frame end, which may pause */
        e = frame_finish(&d, &missing);
        if (st->paused) {
            FZ_CHECK(frame_decoder_errno(&d) == FRAME_E_PAUSED);
            frame_decoder_resume(&d);
            st->paused = 0;
            e = frame_finish(&d, &missing);
        }
    }
    log_tag(&st->log, 'X');
    log_u64(&st->log, (uint64_t)e);
    log_u64(&st->log, frame_decoder_offset(&d));
    log_u64(&st->log, frame_decoder_frame_index(&d));
    log_u64(&st->log, missing);
    log_u64(&st->log, frame_decoder_declared_size(&d));
    log_u64(&st->log, frame_decoder_limit(&d));
    log_u64(&st->log, (uint64_t)(int64_t)frame_decoder_callback_code(&d));
}

static void report(const char *what, const evlog *a, const evlog *b) {
    size_t i = 0;
    while (i < a->len && i < b->len && a->buf[i] == b->buf[i]) i++;
    fprintf(stderr, "%s: logs differ at byte %zu (lengths %zu, %zu)\n", what, i, a->len, b->len);
}

/*
 * What frame_feed_datagram() must do with data, given the stream decoder's
 * log of the same bytes (no callback verdicts in play).
 */
static void check_datagram(const fz_params *par, const uint8_t *data, size_t n, const sstate *ref) {
    sstate st;
    frame_decoder d;
    frame_errno e, want;
    uint64_t want_off = 0, ref_err, ref_off, ref_frame;
    unsigned w = par->cfg.prefix_width;
    const uint8_t *x;
    memset(&st, 0, sizeof st);
    st.par = par;
    FZ_CHECK(frame_decoder_init(&d, &par->cfg, &cbs, hdrbuf, sizeof hdrbuf, &st) == FRAME_OK);
    e = frame_feed_datagram(&d, data, n);

    /* the stream's outcome: the 'X' record ends the log */
    x = ref->log.buf + ref->log.len - 7 * 8;
    memcpy(&ref_err, x, 8);
    memcpy(&ref_off, x + 8, 8);
    memcpy(&ref_frame, x + 16, 8);

    if (n < w) {
        want = FRAME_E_DATAGRAM_TRUNCATED;
        want_off = n;
    } else if (ref_frame == 0 && ref_err != FRAME_OK && ref_err != FRAME_E_TRUNCATED) {
        /* the first frame fails: the same error at the same place */
        want = (frame_errno)ref_err;
        want_off = ref_off;
    } else {
        uint64_t h = fz_prefix(par, data), end;
        uint64_t body;
        if (par->cfg.raw) {
            body = h;
            end = w + body;
        } else {
            frame_header hd;
            if (n - w < h) {
                end = UINT64_MAX;
            } else {
                FZ_CHECK(frame_header_parse(&hd, &par->cfg, data + w, (size_t)h, NULL) == FRAME_OK);
                end = w + h + hd.body_size;
            }
        }
        if (end > n) {
            want = FRAME_E_DATAGRAM_TRUNCATED;
            want_off = n;
        } else if (end < n) {
            want = FRAME_E_DATAGRAM_TRAILING;
            want_off = end;
        } else {
            want = FRAME_OK;
        }
    }
    if (e != want || (want != FRAME_OK && frame_decoder_offset(&d) != want_off)) {
        fprintf(stderr, "datagram: got %s at %llu, want %s at %llu\n", frame_errname(e),
                (unsigned long long)frame_decoder_offset(&d), frame_errname(want),
                (unsigned long long)want_off);
        abort();
    }
    if (want == FRAME_OK) {
        /* the same events as the stream's first frame */
        FZ_CHECK(st.log.len <= ref->log.len && !memcmp(st.log.buf, ref->log.buf, st.log.len));
        FZ_CHECK(st.log.len > 0 && st.log.buf[st.log.len - 9] == 'E');
        FZ_CHECK(frame_decoder_frame_index(&d) == 1);
    } else {
        FZ_CHECK(st.log.len == 0); /* nothing before all checks pass */
        FZ_CHECK(frame_decoder_frame_index(&d) == 0);
    }
    free(st.log.buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_params par;
    sstate ref, other;
    int mode;
    size_t used = fz_params_read(&par, data, size), n;
    if (!used || !fz_config_valid(&par)) return 0;
    data += used;
    n = size - used;
    run(&ref, &par, data, n, 0);
    for (mode = 1; mode <= 3; mode++) {
        run(&other, &par, data, n, mode);
        if (other.log.len != ref.log.len || memcmp(other.log.buf, ref.log.buf, ref.log.len)) {
            static const char *const names[] = {"whole", "byte by byte", "random chunks",
                                                "random chunks and pauses"};
            report(names[mode], &ref.log, &other.log);
            abort();
        }
        free(other.log.buf);
    }
    if (!par.ctl[0] && !(par.ctl[1] & 15)) check_datagram(&par, data, n, &ref);
    free(ref.log.buf);
    return 0;
}
