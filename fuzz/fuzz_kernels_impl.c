/*
 * One copy of libframe with one string kernel, for fuzz_kernels (see
 * fuzz/fuzz_kernels.h). Compiled once per kernel with
 *   -DFZK_NAME=<name> -DFRAME_KERNEL_<NAME> -I<dir of build/dist/frame.h>
 * so that "frame.h" is the single header: FRAME_STATIC makes this file's copy
 * private, so several copies link into one program. Only the public API is
 * used, besides the two kernel primitives of lib/scan.h.
 */
#define FRAME_STATIC
#define FRAME_IMPLEMENTATION
#include "frame.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_kernels.h"

#ifndef FZK_NAME
#error "compile with -DFZK_NAME=<kernel> -DFRAME_KERNEL_<KERNEL>"
#endif
#define FZK_PASTE2(a, b) a##b
#define FZK_PASTE(a, b) FZK_PASTE2(a, b)


static void lg_put(fzk_log *l, const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        l->hash = (l->hash ^ (unsigned char)s[i]) * 0x100000001b3ull;
        if (l->len + i < l->cap) l->text[l->len + i] = s[i];
    }
    l->len += n;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void lg(fzk_log *l, const char *fmt, ...) {
    char buf[512];
    int n;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
    lg_put(l, buf, (size_t)n);
}

static unsigned long long ull(uint64_t v) { return (unsigned long long)v; }

/* A value's views, depth first (nesting is bounded by the validator). */
static void walk(fzk_log *l, const frame_value *v, const char *base, unsigned depth) {
    static char sbuf[65536 + 1];
    lg(l, "%*sv t%d @%lld +%zu", (int)depth, "", (int)v->type, (long long)(v->json - base), v->len);
    switch (v->type) {
    case FRAME_TYPE_OBJECT:
    case FRAME_TYPE_ARRAY: {
        size_t cursor = 0;
        frame_member m;
        lg(l, "\n");
        while (frame_value_next(v, &cursor, &m)) {
            lg(l, "%*sm t%d @%lld +%zu c%zu\n", (int)depth, "", (int)m.name.type,
               m.name.len ? (long long)(m.name.json - base) : -1, m.name.len, cursor);
            walk(l, &m.value, base, depth + 1);
        }
        break;
    }
    case FRAME_TYPE_STRING: {
        size_t n = 0;
        frame_errno e = frame_value_string(v, sbuf, sizeof sbuf, &n);
        lg(l, " s%s %zu ", frame_errname(e), n);
        if (e == FRAME_OK) lg_put(l, sbuf, n);
        lg(l, "\n");
        break;
    }
    case FRAME_TYPE_NUMBER: {
        int64_t i = 0;
        uint64_t u = 0;
        frame_errno ei = frame_value_int64(v, &i), eu = frame_value_uint64(v, &u);
        lg(l, " n%s %lld %s %llu\n", frame_errname(ei), (long long)i, frame_errname(eu), ull(u));
        break;
    }
    case FRAME_TYPE_BOOL: {
        int b = -1;
        frame_errno e = frame_value_bool(v, &b);
        lg(l, " b%s %d\n", frame_errname(e), b);
        break;
    }
    default:
        lg(l, " null%d\n", frame_value_is_null(v));
        break;
    }
}

static void parse(const frame_config *cfg, const unsigned char *json, size_t n, fzk_log *l) {
    frame_header h;
    size_t pos = (size_t)-1;
    frame_errno e = frame_header_parse(&h, cfg, json, n, &pos);
    lg(l, "parse %s", frame_errname(e));
    if (e != FRAME_OK) {
        lg(l, " at %zu\n", pos);
        return;
    }
    lg(l, " body %llu\n", ull(h.body_size));
    walk(l, &h.root, (const char *)json, 0);
}

/* ---- decoding ----------------------------------------------------------- */

typedef struct dstate {
    fzk_log *log;
    const unsigned char *stream, *hdrbuf;
    size_t hdrcap;
} dstate;

static unsigned char hdrbuf[65536];

/* Where a view lies: in the stream (offset from its start) or in the header
 * buffer (offset from its start, as "b"). */
static int on_header(frame_decoder *d, const frame_header *h) {
    dstate *st = d->data;
    const unsigned char *at = (const unsigned char *)h->root.json;
    int in_buf = at && at >= st->hdrbuf && at < st->hdrbuf + st->hdrcap;
    lg(st->log, "H frame %llu body %llu root %s\n", ull(frame_decoder_frame_index(d)), ull(h->body_size),
       at ? (in_buf ? "buffer" : "stream") : "none");
    if (at) walk(st->log, &h->root, (const char *)(in_buf ? st->hdrbuf : st->stream), 1);
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *d, const void *at, size_t len) {
    dstate *st = d->data;
    lg(st->log, "B @%lld +%zu\n", (long long)((const unsigned char *)at - st->stream), len);
    return FRAME_CONTINUE;
}

static int on_end(frame_decoder *d) {
    dstate *st = d->data;
    lg(st->log, "E frame %llu\n", ull(frame_decoder_frame_index(d)));
    return FRAME_CONTINUE;
}

static const frame_callbacks cbs = {on_header, on_body, on_end};

static void decode(const frame_config *cfg, const unsigned char *data, size_t n, unsigned split,
                   uint32_t seed, fzk_log *l) {
    frame_decoder d;
    dstate st;
    size_t off = 0;
    uint64_t missing = 0;
    uint32_t r = seed * 2654435761u + 0x9E3779B9u;
    frame_errno e;
    st.log = l;
    st.stream = data;
    st.hdrbuf = hdrbuf;
    st.hdrcap = sizeof hdrbuf;
    e = frame_decoder_init(&d, cfg, &cbs, hdrbuf, sizeof hdrbuf, &st);
    lg(l, "init %s\n", frame_errname(e));
    if (e != FRAME_OK) return;
    if (!r) r = 1;
    while (off < n) {
        size_t chunk = n - off, c;
        if (split == 1) chunk = 1;
        else if (split > 1) {
            r ^= r << 13, r ^= r >> 17, r ^= r << 5;
            chunk = 1 + r % split;
        }
        if (chunk > n - off) chunk = n - off;
        c = frame_feed(&d, data + off, chunk);
        off += c;
        if (frame_decoder_errno(&d) != FRAME_OK) break;
    }
    e = frame_decoder_errno(&d);
    if (e == FRAME_OK) e = frame_finish(&d, &missing);
    lg(l, "X %s at %llu frame %llu declared %llu limit %llu needed %llu missing %llu consumed %zu\n",
       frame_errname(e), ull(frame_decoder_offset(&d)), ull(frame_decoder_frame_index(&d)),
       ull(frame_decoder_declared_size(&d)), ull(frame_decoder_limit(&d)), ull(frame_decoder_needed(&d)),
       ull(missing), off);
}

/* ---- the primitives ------------------------------------------------------ */

static const unsigned char *special(const unsigned char *p, const unsigned char *end) {
    return frame__kernel_special(p, end);
}

static unsigned special16(const unsigned char *p) {
    return frame__kernel_special16(p);
}

static unsigned quotes16(const unsigned char *p) {
    return frame__kernel_quotes16(p);
}

static void marks16(const unsigned char *p, unsigned m[4]) {
    frame__kernel_marks16(p, m);
}

static void utf8_16(const unsigned char *p, unsigned m[4]) {
    frame__kernel_utf8_16(p, m);
}

/* The name is the kernel's own (scan.h): the harness checks that each copy
 * has the kernel it was meant to have. */
const fzk_kernel FZK_PASTE(fzk_, FZK_NAME) = {FRAME__KERNEL_NAME, parse, decode, special, special16, quotes16,
                                                  marks16, utf8_16};
