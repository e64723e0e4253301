/*
 * Round trips: seeded random headers (non-ASCII, control characters, escapes,
 * nesting through add_raw) and random bodies go builder -> frame_write ->
 * frame_feed, and the decoder must give back the same members and body.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define ITERATIONS 5000
#define MAX_MEMBERS 10

/* ---- random text ---------------------------------------------------------- */

static void put_utf8(sbuf *s, uint32_t cp)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sb_add(s, b, n);
}

/* A random code point; never '#' (it makes names unique), never a
 * surrogate; U+0000 only when allow_nul. */
static uint32_t random_cp(prng *g, int allow_nul)
{
    static const uint32_t special[] = {'"', '\\', '/', '\b', '\f', '\n', '\r', '\t', 0x7F,
                                       0x2028, 0x2029, 0xFFFE, 0xFFFF, 0xFDD0, 0xFEFF, 0x10FFFF};
    uint32_t cp;
    for (;;) {
        switch (prng_below(g, 8)) {
        case 0: cp = (uint32_t)prng_below(g, 0x20); break;
        case 1: cp = special[prng_below(g, sizeof special / sizeof special[0])]; break;
        case 2: cp = 0x80 + (uint32_t)prng_below(g, 0x780); break;
        case 3: cp = 0x800 + (uint32_t)prng_below(g, 0xF800); break;
        case 4: cp = 0x10000 + (uint32_t)prng_below(g, 0x100000); break;
        default: cp = 0x20 + (uint32_t)prng_below(g, 0x5F); break;
        }
        if (cp == '#' || (cp >= 0xD800 && cp <= 0xDFFF) || (cp == 0 && !allow_nul))
            continue;
        return cp;
    }
}

/* Random UTF-8 text of up to max code points. */
static void random_text(prng *g, sbuf *s, unsigned max, int allow_nul)
{
    unsigned n = (unsigned)prng_below(g, max + 1), i;
    for (i = 0; i < n; i++)
        put_utf8(s, random_cp(g, allow_nul));
}

/* A JSON string literal for the UTF-8 text t, escaped in random ways. */
static void json_string(prng *g, sbuf *out, const char *t, size_t n)
{
    static const char hexl[] = "0123456789abcdef", hexu[] = "0123456789ABCDEF";
    size_t i = 0;
    sb_adds(out, "\"");
    while (i < n) {
        unsigned char c = (unsigned char)t[i];
        uint32_t cp;
        size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        const char *hex = prng_below(g, 2) ? hexl : hexu;
        cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
        {
            size_t k;
            for (k = 1; k < len; k++)
                cp = (cp << 6) | ((unsigned char)t[i + k] & 0x3Fu);
        }
        if (prng_below(g, 4) == 0) { /* \u escape, a surrogate pair above U+FFFF */
            if (cp >= 0x10000) {
                uint32_t v = cp - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
                sb_printf(out, "\\u%c%c%c%c\\u%c%c%c%c", hex[hi >> 12], hex[(hi >> 8) & 15],
                          hex[(hi >> 4) & 15], hex[hi & 15], hex[lo >> 12], hex[(lo >> 8) & 15],
                          hex[(lo >> 4) & 15], hex[lo & 15]);
            } else {
                sb_printf(out, "\\u%c%c%c%c", hex[cp >> 12], hex[(cp >> 8) & 15],
                          hex[(cp >> 4) & 15], hex[cp & 15]);
            }
        } else if (cp == '"' || cp == '\\') {
            sb_adds(out, cp == '"' ? "\\\"" : "\\\\");
        } else if (cp == '/' && prng_below(g, 2)) {
            sb_adds(out, "\\/");
        } else if (cp < 0x20) {
            switch (cp) {
            case '\b': sb_adds(out, "\\b"); break;
            case '\f': sb_adds(out, "\\f"); break;
            case '\n': sb_adds(out, "\\n"); break;
            case '\r': sb_adds(out, "\\r"); break;
            case '\t': sb_adds(out, "\\t"); break;
            default: sb_printf(out, "\\u00%c%c", hex[cp >> 4], hex[cp & 15]);
            }
        } else {
            sb_add(out, t + i, len);
        }
        i += len;
    }
    sb_adds(out, "\"");
}

static void ws(prng *g, sbuf *s)
{
    static const char w[] = " \t\n\r";
    while (prng_below(g, 3) == 0)
        sb_add(s, &w[prng_below(g, 4)], 1);
}

static void random_number(prng *g, sbuf *s)
{
    if (prng_below(g, 3) == 0)
        sb_adds(s, "-");
    if (prng_below(g, 4) == 0)
        sb_adds(s, "0");
    else
        sb_printf(s, "%llu", (unsigned long long)(1 + prng_below(g, prng_below(g, 2) ? 1000 : UINT64_MAX / 2)));
    if (prng_below(g, 3) == 0)
        sb_printf(s, ".%u", (unsigned)prng_below(g, 100000));
    if (prng_below(g, 4) == 0)
        sb_printf(s, "%s%s%u", prng_below(g, 2) ? "e" : "E",
                  prng_below(g, 3) == 0 ? "-" : prng_below(g, 2) ? "+" : "", (unsigned)prng_below(g, 400));
}

/* Random JSON text; *budget limits the members and elements. */
static void random_json(prng *g, sbuf *s, unsigned depth, unsigned *budget)
{
    unsigned kind = (unsigned)prng_below(g, depth < 6 && *budget > 0 ? 7 : 5), i, n;
    sbuf t = {0};
    switch (kind) {
    case 0:
        random_text(g, &t, 8, 1);
        json_string(g, s, t.p ? t.p : "", t.len);
        break;
    case 1: random_number(g, s); break;
    case 2: sb_adds(s, "true"); break;
    case 3: sb_adds(s, prng_below(g, 2) ? "false" : "null"); break;
    case 4: random_number(g, s); break;
    case 5:
        n = (unsigned)prng_below(g, 5);
        sb_adds(s, "[");
        for (i = 0; i < n && *budget > 0; i++, --*budget) {
            if (i)
                sb_adds(s, ",");
            ws(g, s);
            random_json(g, s, depth + 1, budget);
            ws(g, s);
        }
        sb_adds(s, "]");
        break;
    default:
        n = (unsigned)prng_below(g, 5);
        sb_adds(s, "{");
        for (i = 0; i < n && *budget > 0; i++, --*budget) {
            if (i)
                sb_adds(s, ",");
            ws(g, s);
            t.len = 0;
            random_text(g, &t, 5, 1);
            sb_printf(&t, "#%u", i); /* unique within the object */
            json_string(g, s, t.p, t.len);
            ws(g, s);
            sb_adds(s, ":");
            ws(g, s);
            random_json(g, s, depth + 1, budget);
            ws(g, s);
        }
        sb_adds(s, "}");
    }
    sb_free(&t);
}

/* ---- one round trip ---------------------------------------------------- */

enum { T_STRING, T_INT, T_UINT, T_BOOL, T_NULL, T_RAW, T_COUNT };

typedef struct gen_member {
    sbuf name;  /* NUL-free UTF-8 */
    int type;
    sbuf text;  /* string bytes, or raw JSON text */
    int64_t i;
    uint64_t u;
    int b;
} gen_member;

typedef struct gen_frame {
    gen_member m[MAX_MEMBERS];
    unsigned n;
    unsigned char *body;
    size_t body_len;
} gen_frame;

static void gen(prng *g, gen_frame *f)
{
    unsigned k;
    size_t i;
    memset(f, 0, sizeof *f);
    f->n = (unsigned)prng_below(g, MAX_MEMBERS + 1);
    for (k = 0; k < f->n; k++) {
        gen_member *m = &f->m[k];
        random_text(g, &m->name, 6, 0);
        sb_printf(&m->name, "#%u", k);
        m->type = (int)prng_below(g, T_COUNT);
        switch (m->type) {
        case T_STRING: random_text(g, &m->text, 12, 1); break;
        case T_INT:
            m->i = prng_below(g, 4) == 0 ? (prng_below(g, 2) ? INT64_MIN : INT64_MAX)
                                         : (int64_t)prng_next(g);
            break;
        case T_UINT: m->u = prng_below(g, 4) == 0 ? UINT64_MAX : prng_next(g) >> prng_below(g, 64); break;
        case T_BOOL: m->b = (int)prng_below(g, 2); break;
        case T_NULL: break;
        default: {
            unsigned budget = 30;
            ws(g, &m->text);
            random_json(g, &m->text, 2, &budget);
            ws(g, &m->text);
        }
        }
    }
    f->body_len = prng_below(g, 8) == 0 ? (size_t)prng_below(g, 5000) : (size_t)prng_below(g, 300);
    f->body = xmalloc(f->body_len);
    for (i = 0; i < f->body_len; i++)
        f->body[i] = (unsigned char)prng_next(g);
}

static void gen_free(gen_frame *f)
{
    unsigned k;
    for (k = 0; k < f->n; k++) {
        sb_free(&f->m[k].name);
        sb_free(&f->m[k].text);
    }
    free(f->body);
}

static frame_errno build(const gen_frame *f, const frame_config *c, unsigned char *buf, size_t cap,
                         frame_builder *b, unsigned plain_mask)
{
    unsigned k;
    cr_assert_eq(frame_builder_init(b, c, buf, cap, f->body_len), FRAME_OK);
    for (k = 0; k < f->n; k++) {
        const gen_member *m = &f->m[k];
        const char *name = m->name.p; /* "...#k": never empty, NUL-terminated */
        frame_errno e = FRAME_OK;
        switch (m->type) {
        case T_STRING:
            if ((plain_mask >> k) & 1u && !memchr(m->text.p ? m->text.p : "", 0, m->text.len))
                e = frame_builder_add_string(b, name, m->text.p ? m->text.p : "");
            else
                e = frame_builder_add_stringn(b, name, m->text.p ? m->text.p : "", m->text.len);
            break;
        case T_INT: e = frame_builder_add_int64(b, name, m->i); break;
        case T_UINT: e = frame_builder_add_uint64(b, name, m->u); break;
        case T_BOOL: e = frame_builder_add_bool(b, name, m->b); break;
        case T_NULL: e = frame_builder_add_null(b, name); break;
        default: e = frame_builder_add_raw(b, name, m->text.p, m->text.len);
        }
        /* a header over what the prefix holds may be refused at once */
        if (e == FRAME_E_HEADER_TOO_LARGE)
            return e;
        cr_assert_eq(e, FRAME_OK, "member %u (type %d): %s", k, m->type, frame_errname(e));
    }
    return frame_builder_finish(b, NULL, NULL);
}

/* Checks a decoded header against what was generated. */
static unsigned long checked[T_COUNT];

static void check_header(const gen_frame *f, const rec_frame *got, const char *size_name)
{
    frame_value root, expect;
    size_t c = 0;
    frame_member m;
    unsigned k;
    uint64_t size;
    root.json = (const char *)got->header;
    root.len = got->header_len;
    root.type = FRAME_TYPE_OBJECT;
    cr_assert(frame_value_next(&root, &c, &m));
    cr_expect(frame_value_string_equals(&m.name, size_name, strlen(size_name)), "size first");
    cr_expect_eq(frame_value_uint64(&m.value, &size), FRAME_OK);
    cr_expect_eq(size, f->body_len);
    for (k = 0; k < f->n; k++) {
        const gen_member *gm = &f->m[k];
        frame_value found;
        cr_assert(frame_value_next(&root, &c, &m), "member %u missing", k);
        cr_assert(frame_value_string_equals(&m.name, gm->name.p, gm->name.len), "name of %u", k);
        cr_assert_eq(frame_value_find(&root, gm->name.p, &found), FRAME_OK);
        cr_expect_eq(found.json, m.value.json, "find gives the same view");
        checked[gm->type]++;
        switch (gm->type) {
        case T_STRING: {
            size_t len = 0;
            char *s = json_str(&m.value, &len);
            cr_assert_not_null(s, "member %u: not a string", k);
            cr_expect_eq(len, gm->text.len, "member %u string length", k);
            cr_expect_arr_eq(s, gm->text.p ? gm->text.p : "", len < gm->text.len ? len : gm->text.len);
            free(s);
            break;
        }
        case T_INT: {
            int64_t v = 0;
            cr_expect_eq(frame_value_int64(&m.value, &v), FRAME_OK);
            cr_expect_eq(v, gm->i);
            break;
        }
        case T_UINT: {
            uint64_t v = 0;
            cr_expect_eq(frame_value_uint64(&m.value, &v), FRAME_OK);
            cr_expect_eq(v, gm->u);
            break;
        }
        case T_BOOL: {
            int v = -1;
            cr_expect_eq(frame_value_bool(&m.value, &v), FRAME_OK);
            cr_expect_eq(v, gm->b);
            break;
        }
        case T_NULL: cr_expect(frame_value_is_null(&m.value)); break;
        default: {
            char *wrap = NULL;
            sbuf why = {0};
            size_t pos = 0;
            frame_errno e = json_parse_any(gm->text.p, gm->text.len, &wrap, &expect, &pos);
            cr_assert_eq(e, FRAME_OK, "generated raw JSON refused: %s at %zu: %s",
                         frame_errname(e), pos, gm->text.p);
            cr_expect(json_equal(&m.value, &expect, 1, &why), "member %u raw: %s", k, sb_str(&why));
            free(wrap);
            sb_free(&why);
        }
        }
    }
    cr_expect_not(frame_value_next(&root, &c, &m), "no extra members");
}

typedef struct sink {
    sbuf out;
    prng g;
} sink;

static long sink_write(void *ctx, const void *data, size_t len)
{
    sink *s = ctx;
    size_t n = prng_below(&s->g, 4) == 0 ? (size_t)prng_below(&s->g, len + 1) : len;
    sb_add(&s->out, data, n);
    return (long)n;
}

Test(roundtrip, random_headers_and_bodies_come_back_unchanged, .timeout = 120)
{
    static const char *const size_names[] = {"size", "data_size", "x", "file size!"};
    static unsigned char buf[1 << 16];
    static unsigned char hbuf[1 << 16];
    prng g;
    unsigned it;
    unsigned long frames = 0, skipped = 0, ty;
    g.s = 0x6c69626672616d65ull; /* fixed seed: failures reproduce */
    for (it = 0; it < ITERATIONS; it++) {
        gen_frame fr[3];
        unsigned nf = 1 + (unsigned)prng_below(&g, 3), i;
        frame_config c;
        frame_encoder e;
        frame_decoder d;
        recorder r;
        feed_stats st;
        sink s;
        size_t cuts[6], k;
        memset(&c, 0, sizeof c);
        c.prefix_width = 1u << prng_below(&g, 4);
        c.big_endian = (int)prng_below(&g, 2);
        c.size_name = size_names[prng_below(&g, 4)];
        memset(&s, 0, sizeof s);
        s.g.s = prng_next(&g);
        cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
        for (i = 0; i < nf; i++) {
            frame_builder b;
            frame_errno res;
            gen(&g, &fr[i]);
            res = build(&fr[i], &c, buf, sizeof buf, &b, (unsigned)prng_next(&g));
            if (res == FRAME_E_HEADER_TOO_LARGE && c.prefix_width == 1) {
                /* fine if the header really is over 255 bytes: check, then
                 * go on with a 2-octet prefix for the whole stream */
                frame_config wide = c;
                frame_builder b8;
                const void *out;
                size_t len;
                wide.prefix_width = 8;
                cr_assert_eq(build(&fr[i], &wide, buf, sizeof buf, &b8, 0), FRAME_OK);
                cr_assert_eq(frame_builder_finish(&b8, &out, &len), FRAME_OK);
                cr_assert_gt(len - 8, 255u, "HEADER_TOO_LARGE for a %zu-byte header", len - 8);
                for (k = 0; k <= i; k++)
                    gen_free(&fr[k]);
                nf = 0;
                break;
            }
            cr_assert_eq(res, FRAME_OK, "iteration %u frame %u: %s", it, i, frame_errname(res));
            res = frame_write(&e, &b, fr[i].body, fr[i].body_len);
            while (res == FRAME_E_WOULD_BLOCK)
                res = frame_encoder_resume(&e);
            cr_assert_eq(res, FRAME_OK, "write: %s", frame_errname(res));
        }
        if (nf == 0) {
            skipped++;
            sb_free(&s.out);
            continue;
        }
        for (k = 0; k < 6; k++)
            cuts[k] = (size_t)prng_below(&g, s.out.len + 1);
        for (k = 1; k < 6; k++) { /* sort */
            size_t j;
            for (j = k; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        }
        rec_init(&r);
        r.size_name = c.size_name;
        r.hdr_lo = hbuf;
        r.hdr_hi = hbuf + sizeof hbuf;
        cr_assert_eq(frame_decoder_init(&d, &c, &rec_callbacks, hbuf, sizeof hbuf, &r), FRAME_OK);
        cr_assert_eq(feed_stream(&d, &r, (const unsigned char *)s.out.p, s.out.len, cuts, 6, &st), 0,
                     "iteration %u: %s", it, r.why);
        cr_assert_not(r.bad, "iteration %u: %s", it, r.why);
        cr_assert_eq(st.err, FRAME_OK, "iteration %u: decoder said %s at %llu", it,
                     frame_errname(st.err), (unsigned long long)st.offset);
        cr_assert_eq(r.nframes, (size_t)nf);
        for (i = 0; i < nf; i++) {
            cr_assert_eq(r.frames[i].body_len, fr[i].body_len);
            if (fr[i].body_len)
                cr_expect_arr_eq(r.frames[i].body, fr[i].body, fr[i].body_len,
                                 "iteration %u body %u", it, i);
            check_header(&fr[i], &r.frames[i], c.size_name);
            frames++;
            gen_free(&fr[i]);
        }
        feed_stats_free(&st);
        rec_free(&r);
        sb_free(&s.out);
    }
    cr_log_info("%lu frames, %lu iterations over 255 bytes with a 1-octet prefix; members "
                "checked: string %lu int %lu uint %lu bool %lu null %lu raw %lu",
                frames, skipped, checked[T_STRING], checked[T_INT], checked[T_UINT],
                checked[T_BOOL], checked[T_NULL], checked[T_RAW]);
    cr_expect_gt(frames, (unsigned long)ITERATIONS, "the round trips really ran");
    for (ty = 0; ty < T_COUNT; ty++)
        cr_expect_gt(checked[ty], 500ul, "type %lu was exercised", ty);
}
