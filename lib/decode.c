/*
 * The decoder: a state machine over prefix, header and body that accepts any
 * split of the stream. Headers are gathered in the caller's buffer only when
 * they arrive in pieces; a header that arrives whole is parsed where it lies.
 */
#include "internal.h"

/* FRAME__BROKEN: init failed, and reset cannot mend that. */
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

/* The header is known: enter the body and tell the application. */
static int frame__begin_body(frame_decoder *d, const frame_header *h) {
    d->_declared = d->_remaining = h->body_size;
    d->_state = FRAME__BODY;
    return d->_cb->on_header && frame__stop(d, d->_cb->on_header(d, h), 1);
}

/* A whole prefix has arrived; returns 1 when the decoder must stop. */
static int frame__prefix_done(frame_decoder *d, uint64_t value) {
    frame_errno err;
    d->_declared = value;
    d->_prefix_have = 0;
    err = frame__check_prefix(d, value);
    if (err) {
        frame__fail(d, err, d->_offset - frame__width(d->_cfg));
        return 1;
    }
    if (d->_cfg && d->_cfg->raw) {
        frame_header h;
        memset(&h, 0, sizeof h);
        h.body_size = value;
        return frame__begin_body(d, &h);
    }
    d->_state = FRAME__HEADER;
    d->_have = 0;
    return 0;
}

/* A whole header has arrived (the offset is already past it). */
static int frame__header_done(frame_decoder *d, const frame__u8 *json, size_t len) {
    frame_header h;
    size_t pos;
    frame_errno err = frame__parse_header(d->_cfg, json, len, &h, &pos);
    if (err) {
        if (err == FRAME_E_BODY_TOO_LARGE) d->_declared = h.body_size;
        frame__fail(d, err, d->_offset - len + pos);
        return 1;
    }
    return frame__begin_body(d, &h);
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
    if (err) d->_state = FRAME__BROKEN;
    return err;
}

FRAME_API void frame_decoder_reset(frame_decoder *d) {
    if (!d || d->_state == FRAME__BROKEN) return;
    d->_offset = d->_remaining = d->_frame = d->_declared = 0;
    d->_have = 0;
    d->_callback_code = 0;
    d->_state = FRAME__PREFIX;
    d->_errno = FRAME_OK;
    d->_prefix_have = 0;
}

FRAME_API size_t frame_feed(frame_decoder *d, const void *data, size_t len) {
    const frame__u8 *p = data ? (const frame__u8 *)data : (const frame__u8 *)"";
    const frame__u8 *start = p, *end = p + (data ? len : 0);
    if (!d || d->_errno) return 0;
    for (;;) {
        size_t avail = (size_t)(end - p);
        switch (d->_state) {
        case FRAME__PREFIX: {
            unsigned w = frame__width(d->_cfg);
            uint64_t value;
            if (!avail) goto out;
            if (d->_prefix_have == 0 && avail >= w) {
                value = frame__get_prefix(p, d->_cfg);
                p += w;
                d->_offset += w;
            } else {
                /* A prefix in pieces: gather its value a byte at a time. */
                if (d->_cfg && d->_cfg->big_endian)
                    d->_declared = (d->_prefix_have ? d->_declared << 8 : 0) | *p;
                else
                    d->_declared = (d->_prefix_have ? d->_declared : 0) |
                                   ((uint64_t)*p << (8 * d->_prefix_have));
                p++;
                d->_offset++;
                if (++d->_prefix_have < w) continue;
                value = d->_declared;
            }
            if (frame__prefix_done(d, value)) goto out;
            break;
        }
        case FRAME__HEADER: {
            size_t want = (size_t)d->_declared - d->_have;
            if (d->_have == 0 && avail >= want) {
                p += want;
                d->_offset += want;
                if (frame__header_done(d, p - want, want)) goto out;
                break;
            }
            if (!avail) goto out;
            if (avail > want) avail = want;
            memcpy(d->_buf + d->_have, p, avail);
            d->_have += (uint32_t)avail;
            p += avail;
            d->_offset += avail;
            if (avail < want) goto out;
            if (frame__header_done(d, d->_buf, (size_t)d->_declared)) goto out;
            break;
        }
        default: { /* FRAME__BODY, FRAME__SKIP_BODY */
            if (d->_remaining == 0) {
                d->_state = FRAME__PREFIX;
                if (d->_cb->on_frame_end && frame__stop(d, d->_cb->on_frame_end(d), 0) &&
                    d->_errno != FRAME_E_PAUSED)
                    goto out;
                d->_frame++;
                if (d->_errno) goto out;
                break;
            }
            if (!avail) goto out;
            if (avail > d->_remaining) avail = (size_t)d->_remaining;
            d->_remaining -= avail;
            d->_offset += avail;
            p += avail;
            if (d->_state == FRAME__BODY && d->_cb->on_body &&
                frame__stop(d, d->_cb->on_body(d, p - avail, avail), 0))
                goto out;
        }
        }
    }
out:
    return (size_t)(p - start);
}

FRAME_API frame_errno frame_feed_datagram(frame_decoder *d, const void *data, size_t len) {
    const frame__u8 *p = (const frame__u8 *)data;
    const frame_config *cfg;
    frame_header h;
    uint64_t value, body_at, size;
    size_t fed;
    unsigned w;
    frame_errno err;
    int paused = 0;
    if (!d || (!data && len)) return FRAME_E_ARGUMENT;
    if (d->_errno) return (frame_errno)d->_errno;
    if (d->_state != FRAME__PREFIX || d->_prefix_have) return FRAME_E_ARGUMENT;
    cfg = d->_cfg;
    w = frame__width(cfg);
    if (len < w) goto truncated;
    value = frame__get_prefix(p, cfg);
    err = frame__check_prefix(d, value);
    if (err) {
        d->_declared = value;
        frame__fail(d, err, 0);
        return err;
    }
    memset(&h, 0, sizeof h);
    h.body_size = value;
    body_at = w;
    if (!(cfg && cfg->raw)) {
        size_t pos;
        if (len - w < value) goto truncated;
        err = frame__parse_header(cfg, p + w, (size_t)value, &h, &pos);
        if (err) {
            d->_declared = err == FRAME_E_BODY_TOO_LARGE ? h.body_size : value;
            frame__fail(d, err, w + pos);
            return err;
        }
        body_at += value;
    }
    size = h.body_size;
    if (len - body_at < size) goto truncated;
    if (len - body_at > size) {
        frame__fail(d, FRAME_E_DATAGRAM_TRAILING, body_at + size);
        return FRAME_E_DATAGRAM_TRAILING;
    }
    /* The frame is whole: decode it like a stream whose offsets start at the
     * datagram. A pause waits for the frame's end, since a datagram cannot be
     * fed again. */
    d->_offset = 0;
    fed = frame_feed(d, p, len);
    while (d->_errno == FRAME_E_PAUSED && (fed < len || d->_state != FRAME__PREFIX)) {
        paused = 1;
        d->_errno = FRAME_OK;
        fed += frame_feed(d, p + fed, len - fed);
    }
    if (paused && !d->_errno) d->_errno = FRAME_E_PAUSED;
    return (frame_errno)d->_errno;
truncated:
    frame__fail(d, FRAME_E_DATAGRAM_TRUNCATED, len);
    return FRAME_E_DATAGRAM_TRUNCATED;
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
    if (!d) return 0;
    switch (d->_state) {
    case FRAME__PREFIX: return d->_prefix_have ? frame__width(d->_cfg) - d->_prefix_have : 0;
    case FRAME__HEADER: return d->_declared - d->_have;
    case FRAME__BROKEN: return 0;
    default: return d->_remaining;
    }
}
