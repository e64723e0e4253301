/*
 * fuzz_decode: arbitrary bytes into frame_feed(), with the config, the split
 * points and what the callbacks return taken from the input. Checks, on every
 * call: bytes consumed <= bytes given; body chunks lie inside the data of the
 * current frame_feed() call; body bytes per frame add up to the declared size;
 * callbacks come in order (header, body..., end); no callback after an error
 * or a pause; finish agrees with frame_decoder_needed().
 *
 * Controls (fuzz_common.h bytes 4-7):
 *   ctl[0]  low nibble: pause period (callback k pauses when k % p == p - 1; 0 never)
 *           high nibble: on_header returns SKIP when frame index % q == q - 1 (0 never)
 *   ctl[1]  the callback numbered ctl[1] (from 1) returns an error (0 never)
 *   ctl[2]  split: 0 whole, 1 byte by byte, else random chunks up to ctl[2] bytes
 *   ctl[3]  random seed for the splits
 * Built with FUZZ_MALLOC_GUARD, every library call aborts if it allocates.
 */
#include "fuzz_common.h"

static unsigned char hdrbuf[FZ_HEADER_CAP];

typedef struct dstate {
    const fz_params *par;
    const uint8_t *feed_at; /* the current frame_feed() data */
    size_t feed_len;
    int stopped;         /* a callback returned an error: no callback may follow */
    int paused;          /* a callback paused: none until resume */
    int in_frame, skipping;
    uint64_t frames_ended, declared, got;
    unsigned calls; /* callbacks so far */
} dstate;

/* What callback number st->calls returns (besides SKIP). */
static int verdict(dstate *st) {
    unsigned p = st->par->ctl[0] & 15;
    st->calls++;
    if (st->par->ctl[1] && st->calls == st->par->ctl[1]) {
        st->stopped = 1;
        return -(int)(st->calls % 100) - 1;
    }
    if (p && st->calls % p == p - 1) {
        st->paused = 1;
        return FRAME_PAUSE;
    }
    return FRAME_CONTINUE;
}

static int on_header(frame_decoder *d, const frame_header *h) {
    dstate *st = d->data;
    const fz_params *par = st->par;
    unsigned q = st->par->ctl[0] >> 4;
    int v;
    FZ_CHECK(!st->stopped && !st->paused);
    FZ_CHECK(!st->in_frame);
    FZ_CHECK(frame_decoder_frame_index(d) == st->frames_ended);
    FZ_CHECK(h->body_size <= par->max_body);
    if (par->cfg.raw) {
        FZ_CHECK(h->root.len == 0);
    } else {
        frame_header again;
        uint64_t sz = 0;
        FZ_CHECK(h->root.type == FRAME_TYPE_OBJECT);
        FZ_CHECK(h->root.len >= 2 && h->root.json[0] == '{' && h->root.json[h->root.len - 1] == '}');
        FZ_CHECK(h->root.len <= fz_max_header(par));
        /* the header it hands out is one that validates on its own */
        FZ_CHECK(frame_header_parse(&again, &par->cfg, h->root.json, h->root.len, NULL) == FRAME_OK);
        FZ_CHECK(again.body_size == h->body_size);
        FZ_CHECK(frame_header_get_uint64(h, par->name, &sz) == FRAME_OK && sz == h->body_size);
    }
    st->in_frame = 1;
    st->declared = h->body_size;
    st->got = 0;
    v = verdict(st);
    if (v == FRAME_CONTINUE && q && st->frames_ended % q == q - 1) {
        st->skipping = 1;
        return FRAME_SKIP;
    }
    return v;
}

static int on_body(frame_decoder *d, const void *at, size_t len) {
    dstate *st = d->data;
    const uint8_t *p = at;
    FZ_CHECK(!st->stopped && !st->paused);
    FZ_CHECK(st->in_frame && !st->skipping);
    FZ_CHECK(len > 0);
    FZ_CHECK(p >= st->feed_at && len <= st->feed_len && p - st->feed_at <= (ptrdiff_t)(st->feed_len - len));
    FZ_CHECK(len <= st->declared - st->got);
    st->got += len;
    return verdict(st);
}

static int on_frame_end(frame_decoder *d) {
    dstate *st = d->data;
    int v;
    FZ_CHECK(!st->stopped && !st->paused);
    FZ_CHECK(st->in_frame);
    FZ_CHECK(st->skipping || st->got == st->declared);
    FZ_CHECK(frame_decoder_frame_index(d) == st->frames_ended);
    st->in_frame = 0;
    st->skipping = 0;
    v = verdict(st);
    /* a frame whose end callback fails stays the current (failed) frame */
    if (v >= 0) st->frames_ended++;
    return v;
}

static const frame_callbacks cbs = {on_header, on_body, on_frame_end};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_params par;
    dstate st;
    frame_decoder d;
    fz_rng rng;
    frame_errno e, init;
    size_t used = fz_params_read(&par, data, size), off, n, rounds = 0;
    uint64_t missing = 0, needed;
    if (!used) return 0;
    data += used;
    n = size - used;
    memset(&st, 0, sizeof st);
    st.par = &par;
    fz_seed(&rng, par.ctl[3]);

    fz_guard_begin();
    init = frame_decoder_init(&d, &par.cfg, &cbs, hdrbuf, sizeof hdrbuf, &st);
    fz_guard_end();
    FZ_CHECK((init == FRAME_OK) == fz_config_valid(&par));
    if (init != FRAME_OK) {
        FZ_CHECK(init == FRAME_E_CONFIG);
        FZ_CHECK(frame_decoder_errno(&d) == FRAME_E_CONFIG);
        fz_guard_begin();
        FZ_CHECK(frame_feed(&d, data, n) == 0);
        fz_guard_end();
        return 0;
    }

    off = 0;
    while (off < n) {
        size_t chunk = n - off, c;
        FZ_CHECK(++rounds <= 4 * n + 8);
        if (par.ctl[2] == 1) chunk = 1;
        else if (par.ctl[2] > 1) chunk = 1 + fz_rand(&rng) % par.ctl[2];
        if (chunk > n - off) chunk = n - off;
        st.feed_at = data + off;
        st.feed_len = chunk;
        fz_guard_begin();
        c = frame_feed(&d, data + off, chunk);
        e = frame_decoder_errno(&d);
        fz_guard_end();
        FZ_CHECK(c <= chunk);
        if (st.paused) {
            FZ_CHECK(e == FRAME_E_PAUSED);
            FZ_CHECK(frame_decoder_offset(&d) == off + c);
            FZ_CHECK(frame_feed(&d, data + off + c, chunk - c) == 0);
            FZ_CHECK(frame_decoder_errno(&d) == FRAME_E_PAUSED);
            frame_decoder_resume(&d);
            FZ_CHECK(frame_decoder_errno(&d) == FRAME_OK);
            st.paused = 0;
            off += c;
            continue;
        }
        if (st.stopped) {
            FZ_CHECK(e == FRAME_E_CALLBACK);
            FZ_CHECK(frame_decoder_callback_code(&d) == -(int)(st.calls % 100) - 1);
            FZ_CHECK(frame_decoder_offset(&d) == off + c);
        }
        if (e != FRAME_OK) {
            uint64_t eoff = frame_decoder_offset(&d);
            FZ_CHECK(e != FRAME_E_PAUSED);
            FZ_CHECK(eoff <= off + chunk);
            FZ_CHECK(frame_decoder_frame_index(&d) == st.frames_ended);
            /* a failed decoder consumes nothing and calls nothing */
            fz_guard_begin();
            FZ_CHECK(frame_feed(&d, data + off + c, n - off - c) == 0);
            FZ_CHECK(frame_finish(&d, NULL) == e);
            fz_guard_end();
            FZ_CHECK(frame_decoder_errno(&d) == e && frame_decoder_offset(&d) == eoff);
            return 0;
        }
        FZ_CHECK(c == chunk);
        FZ_CHECK(frame_decoder_offset(&d) == off + c);
        off += c;
    }
    for (;;) {
        /* an empty body's frame end may still be due, and may pause or fail */
        needed = frame_decoder_needed(&d);
        fz_guard_begin();
        e = frame_finish(&d, &missing);
        fz_guard_end();
        if (e != FRAME_E_PAUSED) break;
        FZ_CHECK(st.paused);
        frame_decoder_resume(&d);
        st.paused = 0;
    }
    FZ_CHECK(!st.paused);
    if (st.stopped) {
        FZ_CHECK(e == FRAME_E_CALLBACK);
    } else if (e == FRAME_OK) {
        FZ_CHECK(needed == 0 && !st.in_frame);
    } else {
        FZ_CHECK(e == FRAME_E_TRUNCATED);
        FZ_CHECK(needed > 0 && missing == needed);
        FZ_CHECK(frame_decoder_offset(&d) == n);
        FZ_CHECK(frame_decoder_frame_index(&d) == st.frames_ended);
    }
    /* a new stream after reset: the first frame is frame 0 again */
    frame_decoder_reset(&d);
    FZ_CHECK(frame_decoder_errno(&d) == FRAME_OK && frame_decoder_offset(&d) == 0 &&
             frame_decoder_frame_index(&d) == 0 && frame_decoder_needed(&d) == 0);
    return 0;
}
