/*
 * The decoder: a state machine over prefix, header and body that accepts any
 * split of the stream. Headers are gathered in the caller's buffer only when
 * they arrive in pieces; a header that arrives whole is parsed where it lies.
 */
#include "internal.h"

/* _flags: the config's profile and byte order, kept at hand. */
enum { FRAME__RAW_PROFILE = 1, FRAME__BIG_ENDIAN = 2 };

/* Every state but FRAME__START has a part of known length still to come
 * (_remaining bytes): the prefix (its width), the header (the prefix value),
 * the body. FRAME__START (0, as init's memset leaves it): between frames, no
 * byte of the next one yet, and _remaining is 0, so that _remaining is always
 * what frame_decoder_needed() reports. A decoder whose init failed keeps
 * _width 0, which tells reset to leave it failed. */
enum { FRAME__START, FRAME__PREFIX, FRAME__HEADER, FRAME__BODY, FRAME__SKIP_BODY };

/* Stops the decoder with `err`, the error's stream offset being `offset`. */
static void frame__fail(frame_decoder *d, frame_errno err, uint64_t offset) {
    d->_errno = (unsigned char)err;
    d->_offset = offset;
}

/* Applies a callback's verdict; returns 1 when the decoder must stop.
 * Size builds inline it (GCC would not: three calls cost more than one
 * body). */
static FRAME__SMALL_INLINE int frame__stop(frame_decoder *d, int rc, int may_skip) {
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

/* The value of a prefix: its `width` octets at o, in wire order, read in
 * the byte order `big` says. The one reading of SPEC.md 3.1, for the state
 * machine (the octets it gathered) and the straight path (the octets where
 * they lie). In two 32-bit halves, which Cortex-M0 shifts in fewer
 * instructions; unrolled, the default prefix (width 4, little-endian,
 * constants) is one load. */
static FRAME__INLINE uint64_t frame__prefix_value(const frame__u8 *o, unsigned width, int big) {
    uint32_t hi = 0, lo = 0;
    unsigned i;
    FRAME__UNROLL for (i = 0; i < width; i++) {
        hi = hi << 8 | lo >> 24;
        lo = lo << 8 | o[big ? i : width - 1 - i];
    }
    return (uint64_t)hi << 32 | lo;
}

/* Classifies a prefix over its limit from its `width` octets at o, in wire
 * order: LOOKS_LIKE_TLS, LOOKS_LIKE_TEXT, or `otherwise`. */
static frame_errno frame__foreign_prefix(const frame__u8 *o, unsigned width, frame_errno otherwise) {
    unsigned i;
    /* A TLS record starts with content type 22 (handshake), version major 3. */
    if (width >= 2 && o[0] == 0x16 && o[1] == 0x03) return FRAME_E_LOOKS_LIKE_TLS;
    for (i = 0; i < width; i++) {
        frame__u8 c = o[i];
        if (!((c >= 0x20 && c <= 0x7e) || c == '\t' || c == '\r' || c == '\n')) return otherwise;
    }
    return FRAME_E_LOOKS_LIKE_TEXT;
}

/* The body is complete, and so is the frame; returns 1 when the decoder
 * must stop. */
static FRAME__INLINE int frame__frame_end(frame_decoder *d) {
    d->_state = FRAME__START;
    /* No callbacks at all: the checking pass of a datagram, which stops
     * here and leaves the frame to the pass that decodes it. */
    if (!d->_cb) {
        d->_errno = FRAME_E_PAUSED;
        return 1;
    }
    if (frame__stop(d, d->_cb->on_frame_end ? d->_cb->on_frame_end(d) : FRAME_CONTINUE, 0) &&
        d->_errno != FRAME_E_PAUSED)
        return 1; /* an error belongs to the frame that ends; a pause does not */
    d->_frame++;
    return d->_errno != 0;
}

/* The straight path for frames that lie whole in the data: each of the
 * two files is one build's side of it (decode_fast.h says what they give),
 * and empty in the other build. */
#include "decode_fast.h"
#include "decode_small.h"

/*
 * The current part is complete; returns 1 when the decoder must stop. *pp
 * is what is left of the data fed, up to end; a header that arrived whole
 * ends at *pp (it is parsed where it lies). At a frame's start the frames
 * that lie whole in the data are taken at once (frame__whole_frames).
 */
static FRAME__PART_OUT int frame__part_done(frame_decoder *d, const frame__u8 **pp, const frame__u8 *end) {
    frame_header h;
    frame_errno err = FRAME_OK;
    size_t pos;
    uint64_t v;
    const frame__u8 *p = *pp;
    /* The prefix octets, gathered in wire order (see frame_feed). */
    const frame__u8 *octets = (const frame__u8 *)&d->_declared;
    int raw = d->_flags & FRAME__RAW_PROFILE;
    switch (d->_state) {
    case FRAME__PREFIX:
        v = frame__prefix_value(octets, d->_width, d->_flags & FRAME__BIG_ENDIAN);
        if (!raw && v == 0) err = FRAME_E_HEADER_EMPTY;
        else if (v > frame__limit(d->_cfg, raw))
            err = frame__foreign_prefix(octets, d->_width, raw ? FRAME_E_BODY_TOO_LARGE : FRAME_E_HEADER_TOO_LARGE);
        if (err) {
            d->_declared = v;
            frame__fail(d, err, d->_offset - d->_width);
            return 1;
        }
        if (raw) {
            memset(&h, 0, sizeof h);
            h.body_size = v;
            goto body;
        }
        d->_state = FRAME__HEADER;
        d->_have = 0;
        d->_declared = d->_remaining = v;
        return 0;
    case FRAME__HEADER:
        /* A header that came in pieces is in the buffer; a whole one is
         * parsed where it lies. */
        err = frame__parse_header(d->_cfg, d->_have ? d->_buf : p - d->_declared,
                                  (size_t)d->_declared, &h, &pos);
        if (err) {
            frame__fail(d, err, d->_offset - d->_declared + pos);
            if (err == FRAME_E_BODY_TOO_LARGE) d->_declared = h.body_size;
            return 1;
        }
    body: /* the body of h.body_size bytes comes next: tell the application */
        d->_declared = d->_remaining = h.body_size;
        d->_state = FRAME__BODY;
        return d->_cb && d->_cb->on_header && frame__stop(d, d->_cb->on_header(d, &h), 1);
    default: /* the body: the frame is complete */
        if (frame__frame_end(d)) return 1;
        /* The next frame may follow at once. */
        /* fall through */
    case FRAME__START:
        if (p == end) return 1; /* nothing of the next frame yet */
        if (frame__whole_frames(d, pp, end)) return 1;
        d->_state = FRAME__PREFIX;
        d->_declared = 0; /* its octets gather there */
        d->_remaining = d->_width;
        return 0;
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
    d->_cfg = cfg = frame__config(cfg);
    d->_buf = (unsigned char *)header_buf;
    err = frame_config_check(cfg);
    if (!err && (!cb || (!cfg->raw && (!header_buf || header_cap < (size_t)frame__limit(cfg, 0)))))
        err = FRAME_E_ARGUMENT;
    if (err) {
        d->_errno = (unsigned char)err;
    } else {
        d->_width = (unsigned char)frame__width(cfg);
        d->_flags = (unsigned char)(cfg->raw | cfg->big_endian << 1);
    }
    return err;
}

FRAME_API void frame_decoder_reset(frame_decoder *d) {
    if (!d || !d->_width) return; /* init failed */
    d->_callback_code = 0;
    d->_errno = FRAME_OK;
    d->_state = FRAME__START;
    /* _offset, _remaining, _frame, _declared: the struct's last fields. */
    memset((unsigned char *)d + offsetof(frame_decoder, _offset), 0,
           sizeof *d - offsetof(frame_decoder, _offset));
}

FRAME_API size_t frame_feed(frame_decoder *d, const void *data, size_t len) {
    const frame__u8 *p, *start, *end;
    size_t n;
    if (!d || d->_errno) return 0;
    if (!data) data = d, len = 0; /* any valid pointer: none of it is read */
    p = start = (const frame__u8 *)data;
    end = p + len;
    for (;;) {
        uint64_t rem = d->_remaining;
        if (!rem) {
            if (frame__part_done(d, &p, end)) break;
            continue;
        }
        if (p == end) break;
        if (rem > (size_t)(end - p)) rem = (size_t)(end - p);
        n = (size_t)rem;
        d->_offset += rem;
        d->_remaining -= rem;
        p += n;
        switch (d->_state) {
        case FRAME__PREFIX:
            /* Gathered in wire order, whatever the byte order, in the octets
             * of _declared (_remaining of them still to come): the prefix
             * may come one octet at a time. */
            memcpy((frame__u8 *)&d->_declared + d->_width - (size_t)d->_remaining - n, p - n, n);
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
    size_t fed;
    frame_errno paused = FRAME_OK;
    if (!d || (!data && len)) return FRAME_E_ARGUMENT;
    if (d->_errno) return (frame_errno)d->_errno;
    if (d->_state != FRAME__START) return FRAME_E_ARGUMENT;
    /* Offsets count from the datagram's start. A first pass without the
     * application's callbacks (_cb NULL) checks everything and stops at the
     * frame's end, so a bad datagram never produces a partial frame. */
    cb = d->_cb;
    d->_cb = NULL;
    d->_offset = 0;
    fed = frame_feed(d, data, len);
    d->_cb = cb;
    /* Not stopped: all of it was fed (fed == len), yet the frame goes on. */
    if (!d->_errno || (d->_errno == FRAME_E_PAUSED && fed < len))
        frame__fail(d, d->_errno ? FRAME_E_DATAGRAM_TRAILING : FRAME_E_DATAGRAM_TRUNCATED, fed);
    if (d->_errno != FRAME_E_PAUSED) return (frame_errno)d->_errno;
    /* The frame is whole (so data is not NULL): decode it for real. A pause
     * waits for the frame's end, since a datagram cannot be fed again. */
    d->_offset = 0;
    fed = 0;
    for (;;) {
        d->_errno = FRAME_OK;
        fed += frame_feed(d, (const frame__u8 *)data + fed, len - fed);
        /* Paused in the frame's end (START): nothing is left to feed. */
        if (d->_errno != FRAME_E_PAUSED || d->_state == FRAME__START) break;
        paused = FRAME_E_PAUSED;
    }
    if (!d->_errno) d->_errno = (unsigned char)paused;
    return (frame_errno)d->_errno;
}

FRAME_API frame_errno frame_finish(frame_decoder *d, uint64_t *missing) {
    uint64_t need = 0;
    if (!d) return FRAME_E_ARGUMENT;
    /* An empty body's frame end may still be due; its callback may pause. */
    frame_feed(d, NULL, 0);
    if (!d->_errno && (need = d->_remaining) != 0) d->_errno = FRAME_E_TRUNCATED;
    if (missing) *missing = need;
    return (frame_errno)d->_errno;
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
    unsigned e = d ? d->_errno : 0;
    /* The size errors: over max_body, or over the limit of what the prefix
     * carries (max_header; max_body in the raw profile). */
    if (e != FRAME_E_BODY_TOO_LARGE && (e < FRAME_E_HEADER_TOO_LARGE || e > FRAME_E_LOOKS_LIKE_TLS))
        return 0;
    return frame__limit(d->_cfg, e == FRAME_E_BODY_TOO_LARGE || (d->_flags & FRAME__RAW_PROFILE));
}

FRAME_API int frame_decoder_callback_code(const frame_decoder *d) {
    return d ? d->_callback_code : 0;
}

FRAME_API uint64_t frame_decoder_needed(const frame_decoder *d) {
    return d ? d->_remaining : 0;
}
