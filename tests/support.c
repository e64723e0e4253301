/* Shared test helpers; see support.h. */
#define _DEFAULT_SOURCE 1
#include "support.h"

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef VECTOR_DIR
#define VECTOR_DIR "tests/vectors"
#endif

/* ---- memory and text ---------------------------------------------------- */

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

static void sb_reserve(sbuf *s, size_t more)
{
    if (s->len + more + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->len + more + 1)
            cap *= 2;
        s->p = xrealloc(s->p, cap);
        s->cap = cap;
    }
}

void sb_add(sbuf *s, const void *data, size_t len)
{
    sb_reserve(s, len);
    if (len)
        memcpy(s->p + s->len, data, len);
    s->len += len;
    s->p[s->len] = '\0';
}

void sb_adds(sbuf *s, const char *str)
{
    sb_add(s, str, strlen(str));
}

void sb_printf(sbuf *s, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    sb_reserve(s, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

void sb_hex(sbuf *s, const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    size_t i;
    sb_reserve(s, 2 * len);
    for (i = 0; i < len; i++) {
        s->p[s->len++] = digits[p[i] >> 4];
        s->p[s->len++] = digits[p[i] & 15];
    }
    s->p[s->len] = '\0';
}

const char *sb_str(sbuf *s)
{
    sb_reserve(s, 0);
    s->p[s->len] = '\0';
    return s->p;
}

void sb_free(sbuf *s)
{
    free(s->p);
    s->p = NULL;
    s->len = s->cap = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t hex_decode(const char *hex, size_t hexlen, unsigned char *out)
{
    size_t i;
    if (hexlen % 2)
        return (size_t)-1;
    for (i = 0; i < hexlen; i += 2) {
        int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return (size_t)-1;
        out[i / 2] = (unsigned char)(hi * 16 + lo);
    }
    return hexlen / 2;
}

unsigned char *hex_decode_alloc(const char *hex, size_t hexlen, size_t *outlen)
{
    unsigned char *out = xmalloc(hexlen / 2 + 1);
    *outlen = hex_decode(hex, hexlen, out);
    return out;
}

/* ---- PRNG --------------------------------------------------------------- */

uint64_t prng_next(prng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t prng_below(prng *r, uint64_t n)
{
    return prng_next(r) % n;
}

uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ---- frames by hand ----------------------------------------------------- */

void put_prefix(unsigned char *out, unsigned width, int big_endian, uint64_t value)
{
    unsigned i;
    for (i = 0; i < width; i++) {
        unsigned char byte = (unsigned char)(value >> (8 * i));
        out[big_endian ? width - 1 - i : i] = byte;
    }
}

void sb_frame(sbuf *s, unsigned width, int big_endian, const char *header, const void *body,
              size_t body_len)
{
    unsigned char prefix[8];
    size_t hlen = strlen(header);
    put_prefix(prefix, width, big_endian, hlen);
    sb_add(s, prefix, width);
    sb_add(s, header, hlen);
    sb_add(s, body, body_len);
}

void sb_simple_frame(sbuf *s, const char *extra, const void *body, size_t body_len)
{
    sbuf h = {0};
    sb_printf(&h, "{\"size\":%zu%s}", body_len, extra);
    sb_frame(s, 4, 0, sb_str(&h), body, body_len);
    sb_free(&h);
}

/* ---- guard pages -------------------------------------------------------- */

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

void guard_init(guard *g, size_t cap)
{
    size_t ps = page_size();
    size_t usable = (cap + ps - 1) / ps * ps;
    void *m;
    if (usable == 0)
        usable = ps;
    m = mmap(NULL, usable + ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        abort();
    }
    if (mprotect((unsigned char *)m + usable, ps, PROT_NONE) != 0) {
        perror("mprotect");
        abort();
    }
    g->base = m;
    g->cap = usable;
    g->map_len = usable + ps;
}

const unsigned char *guard_place(guard *g, const void *data, size_t len)
{
    unsigned char *at;
    if (len > g->cap)
        abort();
    at = g->base + g->cap - len;
    if (len)
        memmove(at, data, len);
    return at;
}

void guard_free(guard *g)
{
    if (g->base)
        munmap(g->base, g->map_len);
    g->base = NULL;
}

void *big_alloc(size_t n)
{
    void *m = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

void *big_reserve(size_t n)
{
    void *m = mmap(NULL, n ? n : 1, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

void big_free(void *p, size_t n)
{
    if (p)
        munmap(p, n ? n : 1);
}

/* ---- recorder ----------------------------------------------------------- */

void rec_init(recorder *r)
{
    memset(r, 0, sizeof *r);
    r->keep_bodies = 1;
    sb_adds(&r->log, "");
}

static void frame_free(rec_frame *f)
{
    free(f->header);
    free(f->body);
    f->header = f->body = NULL;
}

void rec_free(recorder *r)
{
    size_t i;
    for (i = 0; i < r->nframes; i++)
        frame_free(&r->frames[i]);
    free(r->frames);
    if (r->have_cur)
        frame_free(&r->cur);
    sb_free(&r->log);
    memset(r, 0, sizeof *r);
}

void rec_fail(recorder *r, const char *fmt, ...)
{
    va_list ap;
    if (r->bad)
        return; /* keep the first */
    r->bad = 1;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

static int rec_decide(recorder *r, unsigned kind, unsigned long n, int dflt)
{
    r->last_kind = kind;
    if (r->fail_kind == kind && r->fail_at == n)
        return r->fail_code;
    if (r->pause_mask & kind)
        return FRAME_PAUSE;
    return dflt;
}

static int rec_on_header(frame_decoder *d, const frame_header *h)
{
    recorder *r = d->data;
    int ret;
    const char *name;
    if (!r || !h)
        abort();
    r->n_header++;
    if (r->have_cur) {
        rec_fail(r, "on_header while frame %zu is still open", r->nframes);
        frame_free(&r->cur);
    }
    memset(&r->cur, 0, sizeof r->cur);
    r->have_cur = 1;
    r->cur_body_cap = 0;
    r->cur.body_size = h->body_size;
    name = r->size_name ? r->size_name : "size";
    if (r->raw) {
        if (h->root.json != NULL || h->root.len != 0)
            rec_fail(r, "raw profile: root is not empty");
        r->cur.header = xmalloc(1);
    } else {
        uint64_t sz = 0;
        const unsigned char *j = (const unsigned char *)h->root.json;
        if (h->root.type != FRAME_TYPE_OBJECT || !j || h->root.len < 2 || j[0] != '{' ||
            j[h->root.len - 1] != '}') {
            rec_fail(r, "on_header: root is not an object view");
            r->cur.header = xmalloc(1);
        } else {
            /* The header may be gathered in the header buffer, or read
             * where it lies in the fed data when it arrived whole. */
            int in_hdr = r->hdr_lo && j >= r->hdr_lo && j + h->root.len <= r->hdr_hi;
            int in_feed = r->feed_lo && j >= r->feed_lo && j + h->root.len <= r->feed_hi;
            if ((r->hdr_lo || r->feed_lo) && !in_hdr && !in_feed)
                rec_fail(r, "on_header: root points neither into the header buffer nor "
                            "into the fed data");
            r->cur.header = xmalloc(h->root.len);
            memcpy(r->cur.header, j, h->root.len);
            r->cur.header_len = h->root.len;
            if (frame_header_get_uint64(h, name, &sz) != FRAME_OK || sz != h->body_size)
                rec_fail(r, "on_header: size member does not read back as body_size");
        }
    }
    if (frame_decoder_declared_size(d) != h->body_size)
        rec_fail(r, "on_header: declared_size %llu != body_size %llu",
                 (unsigned long long)frame_decoder_declared_size(d),
                 (unsigned long long)h->body_size);
    if (!r->datagram && frame_decoder_needed(d) != h->body_size)
        rec_fail(r, "on_header: needed %llu != body_size %llu",
                 (unsigned long long)frame_decoder_needed(d), (unsigned long long)h->body_size);
    if (r->in_body) {
        sb_adds(&r->log, "\n");
        r->in_body = 0;
    }
    sb_printf(&r->log, "H %llu ", (unsigned long long)h->body_size);
    sb_hex(&r->log, r->cur.header, r->cur.header_len);
    sb_adds(&r->log, "\n");
    ret = r->header_ret;
    if (r->n_header <= 64 && ((r->skip_bits >> (r->n_header - 1)) & 1u))
        ret = FRAME_SKIP;
    ret = rec_decide(r, REC_HEADER, r->n_header, ret);
    if (ret == FRAME_SKIP)
        r->cur.skipped = 1;
    return ret;
}

static int rec_on_body(frame_decoder *d, const void *at, size_t len)
{
    recorder *r = d->data;
    const unsigned char *p = at;
    r->n_body++;
    if (!r->have_cur)
        rec_fail(r, "on_body outside a frame");
    else if (r->cur.skipped)
        rec_fail(r, "on_body for a skipped frame");
    if (len == 0)
        rec_fail(r, "on_body with an empty chunk");
    if (!p)
        rec_fail(r, "on_body with NULL");
    else if (r->feed_lo && (p < r->feed_lo || p + len > r->feed_hi))
        rec_fail(r, "on_body chunk does not point into the fed data");
    if (r->have_cur) {
        if (r->cur.body_len + len > r->cur.body_size)
            rec_fail(r, "on_body: more than body_size bytes");
        if (r->keep_bodies && p) {
            if (r->cur.body_len + len > r->cur_body_cap) {
                size_t cap = r->cur_body_cap ? r->cur_body_cap : 64;
                while (cap < r->cur.body_len + len)
                    cap *= 2;
                r->cur.body = xrealloc(r->cur.body, cap);
                r->cur_body_cap = cap;
            }
            memcpy(r->cur.body + r->cur.body_len, p, len);
        }
        r->cur.body_len += len;
    }
    if (!r->in_body) {
        sb_adds(&r->log, "B ");
        r->in_body = 1;
    }
    if (r->keep_bodies && p)
        sb_hex(&r->log, p, len);
    return rec_decide(r, REC_BODY, r->n_body, r->body_ret);
}

static int rec_on_frame_end(frame_decoder *d)
{
    recorder *r = d->data;
    r->n_end++;
    if (r->in_body) {
        sb_adds(&r->log, "\n");
        r->in_body = 0;
    }
    sb_adds(&r->log, "E\n");
    if (!r->have_cur) {
        rec_fail(r, "on_frame_end outside a frame");
    } else {
        if (!r->cur.skipped && r->cur.body_len != r->cur.body_size)
            rec_fail(r, "on_frame_end after %zu of %llu body bytes", r->cur.body_len,
                     (unsigned long long)r->cur.body_size);
        if (r->nframes == r->frames_cap) {
            r->frames_cap = r->frames_cap ? 2 * r->frames_cap : 8;
            r->frames = xrealloc(r->frames, r->frames_cap * sizeof *r->frames);
        }
        r->frames[r->nframes++] = r->cur;
        memset(&r->cur, 0, sizeof r->cur);
        r->have_cur = 0;
    }
    return rec_decide(r, REC_END, r->n_end, r->end_ret);
}

const frame_callbacks rec_callbacks = {rec_on_header, rec_on_body, rec_on_frame_end};

void rec_status(recorder *r, const frame_decoder *d, frame_errno err, uint64_t missing)
{
    if (r->in_body) {
        sb_adds(&r->log, "\n");
        r->in_body = 0;
    }
    if (err == FRAME_OK) {
        sb_adds(&r->log, "OK\n");
        return;
    }
    sb_printf(&r->log, "ERR %s off=%llu frame=%llu", frame_errname(err),
              (unsigned long long)frame_decoder_offset(d),
              (unsigned long long)frame_decoder_frame_index(d));
    if (err == FRAME_E_TRUNCATED)
        sb_printf(&r->log, " missing=%llu", (unsigned long long)missing);
    if (err == FRAME_E_CALLBACK)
        sb_printf(&r->log, " code=%d", frame_decoder_callback_code(d));
    sb_adds(&r->log, "\n");
}

void feed_stats_free(feed_stats *s)
{
    free(s->header_pause_at);
    free(s->end_pause_at);
    s->header_pause_at = s->end_pause_at = NULL;
}

static void push_u64(uint64_t **arr, size_t *n, uint64_t v)
{
    *arr = xrealloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = v;
}

/* After an error: everything must stay as it is. */
static int check_sticky(frame_decoder *d, recorder *r, frame_errno err, const unsigned char *rest,
                        size_t rest_len, guard *g)
{
    uint64_t off = frame_decoder_offset(d), idx = frame_decoder_frame_index(d), m = 12345;
    unsigned long nh = r->n_header, nb = r->n_body, ne = r->n_end;
    frame_errno e2;
    if (rest_len) {
        const unsigned char *p = guard_place(g, rest, rest_len);
        size_t n = frame_feed(d, p, rest_len);
        if (n != 0) {
            rec_fail(r, "a failed decoder (%s) consumed %zu more bytes", frame_errname(err), n);
            return -1;
        }
    }
    frame_decoder_resume(d);
    e2 = frame_finish(d, &m);
    if (e2 != err || frame_decoder_errno(d) != err) {
        rec_fail(r, "error %s not sticky: finish gave %s, errno %s", frame_errname(err),
                 frame_errname(e2), frame_errname(frame_decoder_errno(d)));
        return -1;
    }
    if (frame_decoder_offset(d) != off || frame_decoder_frame_index(d) != idx) {
        rec_fail(r, "error %s: offset/frame index moved after the error", frame_errname(err));
        return -1;
    }
    if (r->n_header != nh || r->n_body != nb || r->n_end != ne) {
        rec_fail(r, "callbacks ran after error %s", frame_errname(err));
        return -1;
    }
    return 0;
}

int feed_stream(frame_decoder *d, recorder *r, const unsigned char *data, size_t len,
                const size_t *cuts, size_t ncuts, feed_stats *st)
{
    guard g;
    size_t pos = 0, ci;
    frame_errno err = FRAME_OK;
    uint64_t missing = 0, needed;
    int rc = 0;

    memset(st, 0, sizeof *st);
    guard_init(&g, len);
    for (ci = 0; ci <= ncuts && err == FRAME_OK; ci++) {
        size_t end = ci < ncuts ? cuts[ci] : len;
        if (end > len)
            end = len;
        if (end < pos)
            end = pos;
        /* After a pause the rest is fed again, even when it is empty: a
         * pause can leave callbacks due (e.g. on_frame_end after the last
         * body chunk), and feeding is what delivers them. */
        for (;;) {
            size_t want = end - pos, n;
            const unsigned char *p = guard_place(&g, data + pos, want);
            r->feed_lo = p;
            r->feed_hi = p + want;
            n = frame_feed(d, p, want);
            if (n > want) {
                rec_fail(r, "frame_feed consumed %zu of %zu bytes", n, want);
                rc = -1;
                goto out;
            }
            pos += n;
            err = frame_decoder_errno(d);
            if (err == FRAME_E_PAUSED) {
                st->pauses++;
                if (frame_decoder_offset(d) != pos) {
                    rec_fail(r, "paused at offset %llu after consuming %zu",
                             (unsigned long long)frame_decoder_offset(d), pos);
                    rc = -1;
                    goto out;
                }
                if (r->last_kind == REC_HEADER)
                    push_u64(&st->header_pause_at, &st->n_header_pause, pos);
                else if (r->last_kind == REC_END)
                    push_u64(&st->end_pause_at, &st->n_end_pause, pos);
                frame_decoder_resume(d);
                err = frame_decoder_errno(d);
                if (err != FRAME_OK) {
                    rec_fail(r, "resume left errno %s", frame_errname(err));
                    rc = -1;
                    goto out;
                }
                continue;
            }
            if (err != FRAME_OK)
                break;
            if (n != want) {
                rec_fail(r, "frame_feed consumed %zu of %zu without pause or error", n, want);
                rc = -1;
                goto out;
            }
            break;
        }
    }
    if (err == FRAME_E_CALLBACK && frame_decoder_offset(d) != pos) {
        /* the error offset is what was consumed (DECISIONS.md, CALLBACK) */
        rec_fail(r, "CALLBACK at offset %llu, but frame_feed consumed %zu",
                 (unsigned long long)frame_decoder_offset(d), pos);
        rc = -1;
        goto out;
    }
    if (err != FRAME_OK) {
        st->err = err;
        st->offset = frame_decoder_offset(d);
        st->frame = frame_decoder_frame_index(d);
        rec_status(r, d, err, 0);
        rc = check_sticky(d, r, err, data + pos, len - pos, &g);
        goto out;
    }
    needed = frame_decoder_needed(d);
    missing = 0xdeadbeef;
    err = frame_finish(d, &missing);
    st->err = err;
    st->offset = frame_decoder_offset(d);
    st->frame = frame_decoder_frame_index(d);
    st->missing = missing;
    if (err == FRAME_OK) {
        if (needed != 0) {
            rec_fail(r, "finish OK while needed = %llu", (unsigned long long)needed);
            rc = -1;
        }
    } else if (err == FRAME_E_TRUNCATED) {
        if (missing != needed) {
            rec_fail(r, "TRUNCATED missing %llu but needed was %llu", (unsigned long long)missing,
                     (unsigned long long)needed);
            rc = -1;
        }
        if (frame_decoder_offset(d) != len) {
            rec_fail(r, "TRUNCATED offset %llu != stream length %zu",
                     (unsigned long long)frame_decoder_offset(d), len);
            rc = -1;
        }
    } else {
        rec_fail(r, "frame_finish returned %s", frame_errname(err));
        rc = -1;
    }
    rec_status(r, d, err, missing);
    if (err != FRAME_OK && rc == 0)
        rc = check_sticky(d, r, err, NULL, 0, &g);
out:
    guard_free(&g);
    return rc;
}

int feed_datagram(frame_decoder *d, recorder *r, const unsigned char *data, size_t len,
                  feed_stats *st)
{
    guard g;
    const unsigned char *p;
    unsigned long nh = r->n_header, nb = r->n_body, ne = r->n_end;
    frame_errno err;
    int rc = 0;

    memset(st, 0, sizeof *st);
    guard_init(&g, len);
    p = guard_place(&g, data, len);
    r->feed_lo = r->hdr_lo = p;
    r->feed_hi = r->hdr_hi = p + len;
    r->datagram = 1;
    err = frame_feed_datagram(d, p, len);
    r->datagram = 0;
    if (err == FRAME_E_PAUSED) {
        st->pauses++;
        frame_decoder_resume(d);
        if (frame_decoder_errno(d) != FRAME_OK) {
            rec_fail(r, "resume after a datagram pause left %s",
                     frame_errname(frame_decoder_errno(d)));
            rc = -1;
        }
        err = FRAME_OK;
    }
    st->err = err;
    st->offset = frame_decoder_offset(d);
    st->frame = frame_decoder_frame_index(d);
    if (err != FRAME_OK) {
        if (frame_decoder_errno(d) != err) {
            rec_fail(r, "datagram returned %s but errno is %s", frame_errname(err),
                     frame_errname(frame_decoder_errno(d)));
            rc = -1;
        }
        if (err != FRAME_E_CALLBACK &&
            (r->n_header != nh || r->n_body != nb || r->n_end != ne)) {
            rec_fail(r, "callbacks ran for a datagram that failed with %s", frame_errname(err));
            rc = -1;
        }
    } else if (r->n_header != nh + 1 || r->n_end != ne + 1) {
        rec_fail(r, "a good datagram gave %lu headers and %lu ends", r->n_header - nh,
                 r->n_end - ne);
        rc = -1;
    }
    rec_status(r, d, err, 0);
    r->feed_lo = r->feed_hi = r->hdr_lo = r->hdr_hi = NULL;
    guard_free(&g);
    return rc;
}

/* ---- JSON through libframe's accessors ---------------------------------- */

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

frame_errno json_parse_any(const char *text, size_t len, char **wrap, frame_value *out,
                           size_t *err_pos)
{
    static const char head[] = "{\"size\":0,\"v\":";
    size_t hl = sizeof head - 1, pos = 0;
    frame_config cfg;
    frame_header h;
    frame_errno e;
    char *w = xmalloc(hl + len + 1);
    memcpy(w, head, hl);
    memcpy(w + hl, text, len);
    w[hl + len] = '}';
    *wrap = w;
    memset(&cfg, 0, sizeof cfg);
    e = frame_header_parse(&h, &cfg, w, hl + len + 1, &pos);
    if (e == FRAME_OK) {
        e = frame_header_find(&h, "v", out);
        if (err_pos)
            *err_pos = 0;
        return e;
    }
    if (e == FRAME_E_TOO_DEEP || e == FRAME_E_TOO_MANY_MEMBERS) {
        /* Valid JSON beyond the header limits (e.g. a vector file holding a
         * 32-deep header): view it directly. */
        size_t a = 0, b = len;
        while (a < b && is_ws(text[a]))
            a++;
        while (b > a && is_ws(text[b - 1]))
            b--;
        if (a < b && (text[a] == '{' || text[a] == '[')) {
            out->json = text + a;
            out->len = b - a;
            out->type = text[a] == '{' ? FRAME_TYPE_OBJECT : FRAME_TYPE_ARRAY;
            if (err_pos)
                *err_pos = 0;
            return FRAME_OK;
        }
    }
    if (err_pos)
        *err_pos = pos >= hl ? pos - hl : 0;
    return e;
}

char *json_str(const frame_value *v, size_t *len)
{
    size_t n = 0;
    char *s;
    frame_errno e;
    if (v->type != FRAME_TYPE_STRING)
        return NULL;
    e = frame_value_string(v, NULL, 0, &n);
    if (e != FRAME_E_BUFFER_TOO_SMALL && e != FRAME_OK)
        return NULL;
    s = xmalloc(n + 1);
    if (frame_value_string(v, s, n + 1, &n) != FRAME_OK) {
        free(s);
        return NULL;
    }
    if (len)
        *len = n;
    return s;
}

int json_get(const frame_value *obj, const char *name, frame_value *out)
{
    return frame_value_find(obj, name, out) == FRAME_OK;
}

char *json_get_str(const frame_value *obj, const char *name, size_t *len)
{
    frame_value v;
    if (!json_get(obj, name, &v))
        return NULL;
    return json_str(&v, len);
}

int json_get_u64(const frame_value *obj, const char *name, uint64_t *out)
{
    frame_value v;
    return json_get(obj, name, &v) && frame_value_uint64(&v, out) == FRAME_OK;
}

int json_get_i64(const frame_value *obj, const char *name, int64_t *out)
{
    frame_value v;
    return json_get(obj, name, &v) && frame_value_int64(&v, out) == FRAME_OK;
}

int json_get_bool(const frame_value *obj, const char *name, int *out)
{
    frame_value v;
    return json_get(obj, name, &v) && frame_value_bool(&v, out) == FRAME_OK;
}

size_t json_count(const frame_value *v)
{
    size_t c = 0, n = 0;
    frame_member m;
    while (frame_value_next(v, &c, &m))
        n++;
    return n;
}

static int numbers_equal(const frame_value *a, const frame_value *b, int exact)
{
    int64_t ia, ib;
    uint64_t ua, ub;
    char *sa, *sb;
    int eq;
    if (a->len == b->len && memcmp(a->json, b->json, a->len) == 0)
        return 1;
    if (exact)
        return 0;
    if (frame_value_int64(a, &ia) == FRAME_OK && frame_value_int64(b, &ib) == FRAME_OK)
        return ia == ib;
    if (frame_value_uint64(a, &ua) == FRAME_OK && frame_value_uint64(b, &ub) == FRAME_OK)
        return ua == ub;
    sa = xmalloc(a->len + 1);
    sb = xmalloc(b->len + 1);
    memcpy(sa, a->json, a->len);
    sa[a->len] = '\0';
    memcpy(sb, b->json, b->len);
    sb[b->len] = '\0';
    eq = strtod(sa, NULL) == strtod(sb, NULL);
    free(sa);
    free(sb);
    return eq;
}

static int strings_equal(const frame_value *a, const frame_value *b)
{
    size_t la = 0, lb = 0;
    char *sa = json_str(a, &la), *sb = json_str(b, &lb);
    int eq = sa && sb && la == lb && memcmp(sa, sb, la) == 0;
    free(sa);
    free(sb);
    return eq;
}

static void why_value(sbuf *why, const char *what, const frame_value *a, const frame_value *b)
{
    if (!why)
        return;
    sb_printf(why, "%s: %.*s <> %.*s", what, (int)(a->len > 80 ? 80 : a->len), a->json,
              (int)(b->len > 80 ? 80 : b->len), b->json);
}

int json_equal(const frame_value *a, const frame_value *b, int numbers_exact, sbuf *why)
{
    if (a->type != b->type) {
        why_value(why, "types differ", a, b);
        return 0;
    }
    switch (a->type) {
    case FRAME_TYPE_OBJECT:
    case FRAME_TYPE_ARRAY: {
        size_t ca = 0, cb = 0;
        frame_member ma, mb;
        for (;;) {
            int ha = frame_value_next(a, &ca, &ma), hb = frame_value_next(b, &cb, &mb);
            if (ha != hb) {
                why_value(why, "member counts differ", a, b);
                return 0;
            }
            if (!ha)
                return 1;
            if (a->type == FRAME_TYPE_OBJECT) {
                if (ma.name.type != FRAME_TYPE_STRING || mb.name.type != FRAME_TYPE_STRING ||
                    !strings_equal(&ma.name, &mb.name)) {
                    why_value(why, "member names differ", &ma.name, &mb.name);
                    return 0;
                }
            } else if (ma.name.len != 0 || mb.name.len != 0) {
                why_value(why, "array element with a name", a, b);
                return 0;
            }
            if (!json_equal(&ma.value, &mb.value, numbers_exact, why))
                return 0;
        }
    }
    case FRAME_TYPE_STRING:
        if (!strings_equal(a, b)) {
            why_value(why, "strings differ", a, b);
            return 0;
        }
        return 1;
    case FRAME_TYPE_NUMBER:
        if (!numbers_equal(a, b, numbers_exact)) {
            why_value(why, "numbers differ", a, b);
            return 0;
        }
        return 1;
    case FRAME_TYPE_BOOL:
    case FRAME_TYPE_NULL:
        if (a->len != b->len || memcmp(a->json, b->json, a->len) != 0) {
            why_value(why, "literals differ", a, b);
            return 0;
        }
        return 1;
    case FRAME_TYPE_INVALID:
    default:
        why_value(why, "invalid value", a, b);
        return 0;
    }
}

/* ---- files -------------------------------------------------------------- */

char *read_file_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    if (!f)
        return NULL;
    do {
        if (cap - n < 65536) {
            cap = cap ? 2 * cap : 65536;
            buf = xrealloc(buf, cap + 1);
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

const char *vector_dir(void)
{
    const char *e = getenv("FRAME_VECTOR_DIR");
    return e && *e ? e : VECTOR_DIR;
}

/* ---- test vectors ------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t vector_list(char ***paths)
{
    const char *dir = vector_dir();
    DIR *d = opendir(dir);
    struct dirent *e;
    char **list = NULL;
    size_t n = 0;
    *paths = NULL;
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        sbuf p = {0};
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        sb_printf(&p, "%s/%s", dir, e->d_name);
        list = xrealloc(list, (n + 1) * sizeof *list);
        list[n++] = p.p;
    }
    closedir(d);
    if (n)
        qsort(list, n, sizeof *list, cmp_str);
    *paths = list;
    return n;
}

void vector_list_free(char **paths, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

/* An unsigned config number; saturates above 2^64-1. */
static int cfg_u64(const frame_value *cfg, const char *name, uint64_t *out, sbuf *why)
{
    frame_value v;
    frame_errno e;
    if (!json_get(cfg, name, &v))
        return 0;
    e = frame_value_uint64(&v, out);
    if (e == FRAME_E_RANGE && v.len > 0 && v.json[0] != '-') {
        *out = UINT64_MAX;
        return 0;
    }
    if (e != FRAME_OK) {
        sb_printf(why, "config.%s is not an unsigned integer", name);
        return -1;
    }
    return 0;
}

int vector_load(vector *v, const char *path, sbuf *why)
{
    const char *base = strrchr(path, '/');
    size_t blen, pos = 0;
    frame_errno e;
    frame_value cfg, s;
    uint64_t u;
    memset(v, 0, sizeof *v);
    v->path = xmalloc(strlen(path) + 1);
    strcpy(v->path, path);
    base = base ? base + 1 : path;
    blen = strlen(base);
    if (blen > 5 && strcmp(base + blen - 5, ".json") == 0)
        blen -= 5;
    v->file_name = xmalloc(blen + 1);
    memcpy(v->file_name, base, blen);
    v->file_name[blen] = '\0';
    v->text = read_file_all(path, &v->text_len);
    if (!v->text) {
        sb_printf(why, "cannot read %s", path);
        return -1;
    }
    e = json_parse_any(v->text, v->text_len, &v->wrap, &v->root, &pos);
    if (e != FRAME_OK) {
        sb_printf(why, "not valid JSON for libframe: %s at byte %zu", frame_errname(e), pos);
        return -1;
    }
    if (v->root.type != FRAME_TYPE_OBJECT) {
        sb_adds(why, "not a JSON object");
        return -1;
    }
    if (!json_get(&v->root, "config", &cfg) || cfg.type == FRAME_TYPE_NULL)
        return 0;
    if (cfg.type != FRAME_TYPE_OBJECT) {
        sb_adds(why, "config is not an object");
        return -1;
    }
    v->config_given = 1;
    if (cfg_u64(&cfg, "prefix_width", &u, why) < 0)
        return -1;
    if (json_get(&cfg, "prefix_width", &s))
        v->config.prefix_width = u > UINT_MAX ? UINT_MAX : (unsigned)u;
    if (cfg_u64(&cfg, "max_header", &v->config.max_header, why) < 0 ||
        cfg_u64(&cfg, "max_body", &v->config.max_body, why) < 0)
        return -1;
    if (json_get(&cfg, "byte_order", &s)) {
        if (frame_value_string_equals(&s, "big", 3))
            v->config.big_endian = 1;
        else if (!frame_value_string_equals(&s, "little", 6)) {
            sb_adds(why, "config.byte_order is neither \"little\" nor \"big\"");
            return -1;
        }
    }
    if (json_get(&cfg, "profile", &s)) {
        if (frame_value_string_equals(&s, "raw", 3))
            v->config.raw = 1;
        else if (!frame_value_string_equals(&s, "json", 4)) {
            sb_adds(why, "config.profile is neither \"json\" nor \"raw\"");
            return -1;
        }
    }
    if (json_get(&cfg, "size_name", &s)) {
        v->size_name = json_str(&s, NULL);
        if (!v->size_name) {
            sb_adds(why, "config.size_name is not a string");
            return -1;
        }
        v->config.size_name = v->size_name;
    }
    return 0;
}

void vector_free(vector *v)
{
    free(v->path);
    free(v->file_name);
    free(v->text);
    free(v->wrap);
    free(v->size_name);
    memset(v, 0, sizeof *v);
}
