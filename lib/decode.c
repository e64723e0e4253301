/*
 * The decoder: a state machine over prefix, header and body that accepts any
 * split of the stream. Headers are gathered in the caller's buffer only when
 * they arrive in pieces; a header that arrives whole is parsed where it lies.
 */
#include "internal.h"

/* Every state has a part of known length still to come (_remaining bytes):
 * the prefix (its width), the header (the prefix value), the body.
 * FRAME__BROKEN: init failed, and reset cannot mend that. */
enum { FRAME__PREFIX, FRAME__HEADER, FRAME__BODY, FRAME__SKIP_BODY, FRAME__BROKEN };

/* Stops the decoder with `err`, the error's stream offset being `offset`. */
static void frame__fail(frame_decoder *d, frame_errno err, uint64_t offset) {
    d->_errno = (unsigned char)err;
    d->_offset = offset;
}

/* Applies a callback's verdict; returns 1 when the decoder must stop. */
static int frame__stop(frame_decoder *d, int rc, int may_skip) {
    if (rc == FRAME_CONTINUE) return 0;
    if (rc == FRAME_SKIP && may_skip) {
        d->_state = FRAME__SKIP_BODY;
        return 0;
    }
    if (rc == FRAME_PAUSE) {
        d->_errno = FRAME_E_PAUSED;
        return 1;
    }
    d->_callback_code = rc;
    d->_errno = FRAME_E_CALLBACK;
    return 1;
}

/* Waits for the next frame's prefix. */
static void frame__expect_prefix(frame_decoder *d) {
    d->_state = FRAME__PREFIX;
    d->_remaining = frame__width(d->_cfg);
}

/* Between frames: a whole prefix still to come. */
static int frame__at_boundary(const frame_decoder *d) {
    return d->_state == FRAME__PREFIX && d->_remaining == frame__width(d->_cfg);
}

/* Checks a complete prefix; FRAME_OK or the error (SPEC.md "Errors"). */
static frame_errno frame__check_prefix(const frame_decoder *d, uint64_t value) {
    const frame_config *cfg = d->_cfg;
    frame__u8 bytes[8];
    int raw = cfg && cfg->raw;
    uint64_t limit = raw ? frame__max_body(cfg) : frame__max_header(cfg);
    if (!raw && value == 0) return FRAME_E_HEADER_EMPTY;
    if (value <= limit) return FRAME_OK;
    frame__put_prefix(bytes, cfg, value);
    return frame__foreign_prefix(bytes, frame__width(cfg),
                                 raw ? FRAME_E_BODY_TOO_LARGE : FRAME_E_HEADER_TOO_LARGE);
}

/* The body of `size` bytes comes next: tell the application. */
static int frame__begin_body(frame_decoder *d, const frame_header *h) {
    d->_declared = d->_remaining = h->body_size;
    d->_state = FRAME__BODY;
    return d->_cb && d->_cb->on_header && frame__stop(d, d->_cb->on_header(d, h), 1);
}

/* The current part is complete; returns 1 when the decoder must stop.
 * `header_end` is where a header that arrived whole ends. */
static int frame__part_done(frame_decoder *d, const frame__u8 *header_end) {
    frame_header h;
    frame_errno err;
    size_t pos;
    switch (d->_state) {
    case FRAME__PREFIX:
        err = frame__check_prefix(d, d->_declared);
        if (err) {
            frame__fail(d, err, d->_offset - frame__width(d->_cfg));
            return 1;
        }
        if (d->_cfg && d->_cfg->raw) {
            memset(&h, 0, sizeof h);
            h.body_size = d->_declared;
            return frame__begin_body(d, &h);
        }
        d->_state = FRAME__HEADER;
        d->_remaining = d->_declared;
        d->_have = 0;
        return 0;
    case FRAME__HEADER:
        /* A header that came in pieces is in the buffer; a whole one is
         * parsed where it lies. */
        err = frame__parse_header(d->_cfg, d->_have ? d->_buf : header_end - d->_declared,
                                  (size_t)d->_declared, &h, &pos);
        if (err) {
            frame__fail(d, err, d->_offset - d->_declared + pos);
            if (err == FRAME_E_BODY_TOO_LARGE) d->_declared = h.body_size;
            return 1;
        }
        return frame__begin_body(d, &h);
    default: /* the body: the frame is complete */
        frame__expect_prefix(d);
        /* No callbacks at all: the checking pass of a datagram, which stops here. */
        if (frame__stop(d, !d->_cb                 ? FRAME_PAUSE
                           : d->_cb->on_frame_end ? d->_cb->on_frame_end(d)
                                                  : FRAME_CONTINUE, 0) &&
            d->_errno != FRAME_E_PAUSED)
            return 1; /* an error belongs to the frame that ends; a pause does not */
        d->_frame++;
        return d->_errno != FRAME_OK;
    }
}

FRAME_API frame_errno frame_decoder_init(frame_decoder *d, const frame_config *cfg,
                                         const frame_callbacks *cb, void *header_buf,
                                         size_t header_cap, void *data) {
    frame_errno err;
    if (!d) return FRAME_E_ARGUMENT;
    memset(d, 0, sizeof *d);
    d->data = data;
    d->_cb = cb;
    d->_cfg = cfg;
    d->_buf = (unsigned char *)header_buf;
    err = frame_config_check(cfg);
    if (!err && (!cb || (!(cfg && cfg->raw) && (!header_buf || header_cap < frame__max_header(cfg)))))
        err = FRAME_E_ARGUMENT;
    d->_errno = (unsigned char)err;
    d->_state = FRAME__BROKEN;
    if (!err) frame__expect_prefix(d);
    return err;
}

FRAME_API void frame_decoder_reset(frame_decoder *d) {
    if (!d || d->_state == FRAME__BROKEN) return;
    d->_offset = d->_frame = d->_declared = 0;
    d->_callback_code = 0;
    d->_errno = FRAME_OK;
    frame__expect_prefix(d);
}

FRAME_API size_t frame_feed(frame_decoder *d, const void *data, size_t len) {
    const frame__u8 *p = data ? (const frame__u8 *)data : (const frame__u8 *)"";
    const frame__u8 *start = p, *end = p + (data ? len : 0);
    size_t n, i;
    if (!d || d->_errno) return 0;
    for (;;) {
        if (!d->_remaining) {
            if (frame__part_done(d, p)) break;
            continue;
        }
        n = (size_t)(end - p);
        if (!n) break;
        if (n > d->_remaining) n = (size_t)d->_remaining;
        d->_remaining -= n;
        d->_offset += n;
        p += n;
        switch (d->_state) {
        case FRAME__PREFIX:
#if !FRAME__SMALL
            if (n == 4 && !d->_remaining && frame__width(d->_cfg) == 4 && !(d->_cfg && d->_cfg->big_endian)) {
                /* the usual prefix, whole */
                d->_declared = (uint32_t)p[-4] | (uint32_t)p[-3] << 8 | (uint32_t)p[-2] << 16 | (uint32_t)p[-1] << 24;
                break;
            }
#endif
            for (i = 0; i < n; i++) {
                /* the byte's position in the prefix */
                unsigned at = frame__width(d->_cfg) - (unsigned)d->_remaining - (unsigned)(n - i);
                frame__u8 c = (p - n)[i];
                if (!at) d->_declared = 0;
                if (d->_cfg && d->_cfg->big_endian)
                    d->_declared = d->_declared << 8 | c;
                else
                    d->_declared |= (uint64_t)c << (8 * at);
            }
            break;
        case FRAME__HEADER:
            if (d->_have || d->_remaining) {
                memcpy(d->_buf + d->_have, p - n, n);
                d->_have += (uint32_t)n;
            }
            break;
        case FRAME__BODY:
            if (d->_cb && d->_cb->on_body && frame__stop(d, d->_cb->on_body(d, p - n, n), 0)) goto out;
            break;
        default: /* FRAME__SKIP_BODY */
            break;
        }
    }
out:
    return (size_t)(p - start);
}

FRAME_API frame_errno frame_feed_datagram(frame_decoder *d, const void *data, size_t len) {
    const frame_callbacks *cb;
    uint64_t frame;
    size_t fed;
    int paused = 0;
    if (!d || (!data && len)) return FRAME_E_ARGUMENT;
    if (d->_errno) return (frame_errno)d->_errno;
    if (!frame__at_boundary(d)) return FRAME_E_ARGUMENT;
    /* Offsets count from the datagram's start. A first pass without the
     * application's callbacks (_cb NULL) checks everything and stops at the
     * frame's end, so a bad datagram never produces a partial frame. */
    cb = d->_cb;
    frame = d->_frame;
    d->_cb = NULL;
    d->_offset = 0;
    fed = frame_feed(d, data, len);
    d->_cb = cb;
    d->_frame = frame;
    if (d->_errno != FRAME_E_PAUSED) {
        if (!d->_errno) frame__fail(d, FRAME_E_DATAGRAM_TRUNCATED, len);
        return (frame_errno)d->_errno;
    }
    if (fed < len) {
        frame__fail(d, FRAME_E_DATAGRAM_TRAILING, fed);
        return FRAME_E_DATAGRAM_TRAILING;
    }
    /* The frame is whole (so data is not NULL): decode it for real. A pause
     * waits for the frame's end, since a datagram cannot be fed again. */
    d->_errno = FRAME_OK;
    d->_offset = 0;
    fed = 0;
    for (;;) {
        fed += frame_feed(d, (const frame__u8 *)data + fed, len - fed);
        if (d->_errno != FRAME_E_PAUSED || (fed == len && frame__at_boundary(d))) break;
        paused = 1;
        d->_errno = FRAME_OK;
    }
    if (paused && !d->_errno) d->_errno = FRAME_E_PAUSED;
    return (frame_errno)d->_errno;
}

FRAME_API frame_errno frame_finish(frame_decoder *d, uint64_t *missing) {
    uint64_t need;
    if (!d) return FRAME_E_ARGUMENT;
    if (missing) *missing = 0;
    /* An empty body's frame end may still be due; its callback may pause. */
    if (!d->_errno) frame_feed(d, NULL, 0);
    if (d->_errno) return (frame_errno)d->_errno;
    need = frame_decoder_needed(d);
    if (need == 0) return FRAME_OK;
    if (missing) *missing = need;
    frame__fail(d, FRAME_E_TRUNCATED, d->_offset);
    return FRAME_E_TRUNCATED;
}

FRAME_API void frame_decoder_resume(frame_decoder *d) {
    if (d && d->_errno == FRAME_E_PAUSED) d->_errno = FRAME_OK;
}

FRAME_API frame_errno frame_decoder_errno(const frame_decoder *d) {
    return d ? (frame_errno)d->_errno : FRAME_E_ARGUMENT;
}

FRAME_API uint64_t frame_decoder_offset(const frame_decoder *d) { return d ? d->_offset : 0; }

FRAME_API uint64_t frame_decoder_frame_index(const frame_decoder *d) { return d ? d->_frame : 0; }

FRAME_API uint64_t frame_decoder_declared_size(const frame_decoder *d) {
    return d ? d->_declared : 0;
}

FRAME_API uint64_t frame_decoder_limit(const frame_decoder *d) {
    int raw;
    if (!d) return 0;
    raw = d->_cfg && d->_cfg->raw;
    switch (d->_errno) {
    case FRAME_E_HEADER_TOO_LARGE: return frame__max_header(d->_cfg);
    case FRAME_E_BODY_TOO_LARGE: return frame__max_body(d->_cfg);
    case FRAME_E_LOOKS_LIKE_TEXT:
    case FRAME_E_LOOKS_LIKE_TLS: return raw ? frame__max_body(d->_cfg) : frame__max_header(d->_cfg);
    default: return 0;
    }
}

FRAME_API int frame_decoder_callback_code(const frame_decoder *d) {
    return d ? d->_callback_code : 0;
}

FRAME_API uint64_t frame_decoder_needed(const frame_decoder *d) {
    return !d || d->_state == FRAME__BROKEN || frame__at_boundary(d) ? 0 : d->_remaining;
}
