/*
 * Hostile inputs: prefix values at and around every limit, malformed size
 * members, non-object headers, nesting at and past the limit, a maximum-size
 * header of thousands of tiny members, invalid UTF-8 at every position, a
 * million empty frames, and every test vector placed right before an
 * unmapped guard page. Each decode is fed whole and byte by byte (every
 * chunk before a guard page) and must give the same events; error names and
 * offsets are the ones SPEC.md gives, and agree with the reference checker.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hardening.h"

#define MAX_BODY FRAME_MAX_BODY_LIMIT

/* prefix (4 octets, little-endian) + header + body */
static unsigned char *make_frame(const char *hdr, size_t hlen, size_t *len) {
    unsigned char *f = xmalloc(hlen + 4);
    put_prefix(f, 4, 0, hlen);
    memcpy(f + 4, hdr, hlen);
    *len = hlen + 4;
    return f;
}

/* Decodes a one-frame stream and checks the outcome; returns it. */
static outcome expect_stream(const frame_config *cfg, const unsigned char *s, size_t len,
                             frame_errno err, uint64_t offset, const char *what) {
    outcome o;
    decode_all_ways(cfg, s, len, 1u << 16, &o);
    cr_assert_eq(o.err, err, "%s: %s, expected %s", what, errname(o.err), errname(err));
    if (err != FRAME_OK)
        cr_assert_eq(o.offset, offset, "%s: %s at offset %llu, expected %llu", what, errname(err),
                     (unsigned long long)o.offset, (unsigned long long)offset);
    return o;
}

/* A header checked three ways: frame_header_parse before a guard page, the
 * reference, and the decoder (as a frame whose body is absent: a valid
 * header then ends the stream early). */
static void expect_header(const char *hdr, size_t hlen, frame_errno err, size_t pos,
                          uint64_t declared, const char *what) {
    size_t p = 0, flen;
    uint64_t body = 0;
    ref_result ref;
    int ok = ref_header_check((const unsigned char *)hdr, hlen, (const unsigned char *)"size", 4, 0, &ref);
    frame_errno e = parse_guarded(NULL, hdr, hlen, &p, &body);
    unsigned char *f;
    outcome o;
    cr_assert_eq(e, err, "%s: %s at %zu, expected %s at %zu", what, errname(e), p, errname(err), pos);
    if (err != FRAME_OK) cr_assert_eq(p, pos, "%s: %s at %zu, expected at %zu", what, errname(e), p, pos);
    cr_assert_eq(ok, err == FRAME_OK, "%s: the reference says %s", what, ok ? "OK" : ref.err);
    if (!ok) cr_assert(!strcmp(ref.err, errname(err)) && ref.pos == pos, "%s: reference %s at %zu", what, ref.err, ref.pos);
    f = make_frame(hdr, hlen, &flen);
    o = expect_stream(NULL, f, flen, err == FRAME_OK && body ? FRAME_E_TRUNCATED : err,
                      err == FRAME_OK ? flen : 4 + pos, what);
    if (err == FRAME_OK && body) cr_assert_eq(o.missing, body, "%s: missing %llu", what, (unsigned long long)o.missing);
    if (err == FRAME_E_BODY_TOO_LARGE) {
        cr_assert_eq(o.declared, declared, "%s: declared %llu, expected %llu", what,
                     (unsigned long long)o.declared, (unsigned long long)declared);
        cr_assert_eq(o.limit, MAX_BODY);
    }
    free(f);
}

static void expect_header_str(const char *hdr, frame_errno err, const char *at, uint64_t declared) {
    const char *p = at ? strstr(hdr, at) : NULL;
    size_t pos = p ? (size_t)(p - hdr) : strlen(hdr);
    expect_header(hdr, strlen(hdr), err, pos, declared, hdr);
}

/* ---- prefix values ------------------------------------------------------ */

/* A header of exactly n octets: {"size":0,"p":"xxx..."} */
static char *header_of_length(size_t n) {
    char *h = xmalloc(n + 1);
    static const char head[] = "{\"size\":0,\"p\":\"";
    size_t hl = sizeof head - 1;
    cr_assert(n >= hl + 2);
    memcpy(h, head, hl);
    memset(h + hl, 'x', n - hl - 2);
    memcpy(h + n - 2, "\"}", 2);
    h[n] = 0;
    return h;
}

Test(hostile, prefix_values_json_profile, .timeout = 60) {
    static const struct {
        uint64_t value;
        frame_errno err;
    } cases[] = {
        {0, FRAME_E_HEADER_EMPTY},
        {65537, FRAME_E_HEADER_TOO_LARGE},
        {0x7FFFFFFFu, FRAME_E_HEADER_TOO_LARGE},
        {0x80000000u, FRAME_E_HEADER_TOO_LARGE},
        {0xFFFFFFFFu, FRAME_E_HEADER_TOO_LARGE},
    };
    size_t i, len;
    unsigned char pre[4];
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        outcome o;
        char what[64];
        snprintf(what, sizeof what, "prefix %#llx", (unsigned long long)cases[i].value);
        put_prefix(pre, 4, 0, cases[i].value);
        /* decided on the prefix alone, before any header byte */
        o = expect_stream(NULL, pre, 4, cases[i].err, 0, what);
        if (cases[i].err == FRAME_E_HEADER_TOO_LARGE) {
            cr_assert_eq(o.declared, cases[i].value, "%s: declared %llu", what, (unsigned long long)o.declared);
            cr_assert_eq(o.limit, FRAME_DEFAULT_MAX_HEADER);
        }
    }
    /* 1: a one-octet header can never be valid */
    {
        unsigned char f[5] = {1, 0, 0, 0, '{'};
        expect_stream(NULL, f, 5, FRAME_E_JSON_SYNTAX, 5, "prefix 1");
    }
    /* the limit itself: a 65536-octet header is accepted */
    {
        char *h = header_of_length(FRAME_DEFAULT_MAX_HEADER);
        unsigned char *f = make_frame(h, FRAME_DEFAULT_MAX_HEADER, &len);
        outcome o;
        decode_all_ways(NULL, f, len, 0, &o);
        cr_assert_eq(o.err, FRAME_OK, "a header of exactly max_header: %s", errname(o.err));
        cr_assert_eq(o.frames, 1);
        free(f);
        free(h);
        /* and one more octet is refused at the prefix */
        h = header_of_length(FRAME_DEFAULT_MAX_HEADER + 1);
        f = make_frame(h, FRAME_DEFAULT_MAX_HEADER + 1, &len);
        expect_stream(NULL, f, len, FRAME_E_HEADER_TOO_LARGE, 0, "max_header + 1");
        free(f);
        free(h);
    }
    /* a configured limit: at it and past it */
    {
        frame_config cfg;
        char *h = header_of_length(100);
        unsigned char *f = make_frame(h, 100, &len);
        memset(&cfg, 0, sizeof cfg);
        cfg.max_header = 100;
        expect_stream(&cfg, f, len, FRAME_OK, 0, "max_header 100, header 100");
        free(f);
        free(h);
        h = header_of_length(101);
        f = make_frame(h, 101, &len);
        expect_stream(&cfg, f, len, FRAME_E_HEADER_TOO_LARGE, 0, "max_header 100, header 101");
        free(f);
        free(h);
    }
}

Test(hostile, prefix_values_wide_and_raw, .timeout = 60) {
    static const uint64_t values[] = {0, 1, 65536, 65537, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu,
                                      MAX_BODY, MAX_BODY + 1, UINT64_MAX};
    size_t i;
    for (i = 0; i < sizeof values / sizeof values[0]; i++) {
        frame_config cfg;
        unsigned char pre[8];
        char what[80];
        outcome o;
        uint64_t v = values[i];
        /* JSON profile, 8-octet big-endian prefix */
        memset(&cfg, 0, sizeof cfg);
        cfg.prefix_width = 8;
        cfg.big_endian = 1;
        put_prefix(pre, 8, 1, v);
        snprintf(what, sizeof what, "w8 json prefix %#llx", (unsigned long long)v);
        decode_all_ways(&cfg, pre, 8, 64, &o);
        if (v == 0) cr_assert_eq(o.err, FRAME_E_HEADER_EMPTY, "%s: %s", what, errname(o.err));
        else if (v <= FRAME_DEFAULT_MAX_HEADER) cr_assert_eq(o.err, FRAME_E_TRUNCATED, "%s: %s", what, errname(o.err));
        else {
            cr_assert_eq(o.err, FRAME_E_HEADER_TOO_LARGE, "%s: %s", what, errname(o.err));
            cr_assert_eq(o.offset, 0);
            cr_assert_eq(o.declared, v);
        }
        /* raw profile: the prefix is the body length */
        cfg.raw = 1;
        snprintf(what, sizeof what, "w8 raw prefix %#llx", (unsigned long long)v);
        decode_all_ways(&cfg, pre, 8, 64, &o);
        if (v == 0) {
            cr_assert_eq(o.err, FRAME_OK, "%s: %s", what, errname(o.err));
            cr_assert_eq(o.frames, 1);
        } else if (v <= MAX_BODY) {
            cr_assert_eq(o.err, FRAME_E_TRUNCATED, "%s: %s", what, errname(o.err));
            cr_assert_eq(o.missing, v, "%s: missing %llu", what, (unsigned long long)o.missing);
        } else {
            cr_assert_eq(o.err, FRAME_E_BODY_TOO_LARGE, "%s: %s", what, errname(o.err));
            cr_assert_eq(o.offset, 0);
            cr_assert_eq(o.declared, v);
            cr_assert_eq(o.limit, MAX_BODY);
        }
    }
}

/* ---- the size member ---------------------------------------------------- */

Test(hostile, size_member_values, .timeout = 60) {
    expect_header_str("{\"size\":-1}", FRAME_E_SIZE_INVALID, "-1", 0);
    expect_header_str("{\"size\":+1}", FRAME_E_JSON_SYNTAX, "+1", 0);
    expect_header_str("{\"size\":\" 1\"}", FRAME_E_SIZE_INVALID, "\" 1", 0);
    expect_header_str("{\"size\": 1}", FRAME_OK, NULL, 0);
    expect_header_str("{\"size\":1.0}", FRAME_E_SIZE_INVALID, "1.0", 0);
    expect_header_str("{\"size\":1e3}", FRAME_E_SIZE_INVALID, "1e3", 0);
    expect_header_str("{\"size\":\"1\"}", FRAME_E_SIZE_INVALID, "\"1\"", 0);
    expect_header_str("{\"size\":-0}", FRAME_E_SIZE_INVALID, "-0", 0);
    expect_header_str("{\"size\":01}", FRAME_E_JSON_SYNTAX, "1}", 0);
    expect_header_str("{\"size\":true}", FRAME_E_SIZE_INVALID, "true", 0);
    expect_header_str("{\"size\":null}", FRAME_E_SIZE_INVALID, "null", 0);
    expect_header_str("{\"size\":[1]}", FRAME_E_SIZE_INVALID, "[1]", 0);
    expect_header_str("{\"size\":{}}", FRAME_E_SIZE_INVALID, "{}}", 0);
    expect_header_str("{\"size\":9007199254740991}", FRAME_OK, NULL, 0);
    expect_header_str("{\"size\":9007199254740992}", FRAME_E_BODY_TOO_LARGE, "9007", 9007199254740992ull);
    expect_header_str("{\"size\":18446744073709551615}", FRAME_E_BODY_TOO_LARGE, "1844", UINT64_MAX);
    expect_header_str("{\"size\":18446744073709551616}", FRAME_E_BODY_TOO_LARGE, "1844", UINT64_MAX);
    expect_header_str("{\"size\":1000000000000000000000}", FRAME_E_BODY_TOO_LARGE, "1000", UINT64_MAX);
    expect_header_str("{\"size\":1,\"size\":1}", FRAME_E_DUPLICATE_NAME, "\"size\":1}", 0);
    expect_header_str("{\"size\":1,\"\\u0073ize\":2}", FRAME_E_DUPLICATE_NAME, "\"\\u0073", 0);
    expect_header_str("{\"a\":1}", FRAME_E_SIZE_MISSING, NULL, 0);
    expect_header_str("{}", FRAME_E_SIZE_MISSING, NULL, 0);
    expect_header_str("{\"o\":{\"size\":1}}", FRAME_E_SIZE_MISSING, NULL, 0);
    expect_header_str("{\"Size\":1}", FRAME_E_SIZE_MISSING, NULL, 0);
    /* the size is checked where it stands, before later errors */
    expect_header_str("{\"size\":1.5,\"a\":\"\xff\"}", FRAME_E_SIZE_INVALID, "1.5", 0);
}

Test(hostile, size_against_configured_max_body, .timeout = 60) {
    frame_config cfg;
    size_t len;
    unsigned char *f;
    outcome o;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_body = 100;
    f = make_frame("{\"size\":100}", 12, &len);
    o = expect_stream(&cfg, f, len, FRAME_E_TRUNCATED, len, "size 100 of 100");
    cr_assert_eq(o.missing, 100);
    free(f);
    f = make_frame("{\"size\":101}", 12, &len);
    o = expect_stream(&cfg, f, len, FRAME_E_BODY_TOO_LARGE, 4 + 8, "size 101 of 100");
    cr_assert_eq(o.declared, 101);
    cr_assert_eq(o.limit, 100);
    free(f);
}

/* ---- the header's shape ------------------------------------------------- */

Test(hostile, header_not_an_object, .timeout = 60) {
    expect_header_str("[{\"size\":0}]", FRAME_E_NOT_OBJECT, "[", 0);
    expect_header_str("\"size\"", FRAME_E_NOT_OBJECT, "\"", 0);
    expect_header_str("  [1]", FRAME_E_NOT_OBJECT, "[", 0);
    expect_header_str("0", FRAME_E_NOT_OBJECT, "0", 0);
    expect_header_str("-", FRAME_E_NOT_OBJECT, "-", 0);
    expect_header_str("true", FRAME_E_NOT_OBJECT, "t", 0);
    expect_header_str("null", FRAME_E_NOT_OBJECT, "n", 0);
    expect_header_str("x", FRAME_E_JSON_SYNTAX, "x", 0);
    expect_header_str("   ", FRAME_E_JSON_SYNTAX, NULL, 0);
    expect_header_str("{\"size\":0}{}", FRAME_E_JSON_SYNTAX, "{}", 0);
}

/* {"size":0,"d":OPEN...CLOSE} with n levels inside the header object */
static char *nested(size_t n, const char *open, const char *close) {
    size_t ol = strlen(open), cl = strlen(close), i, k = 0;
    char *h = xmalloc(16 + n * (ol + cl) + 2);
    memcpy(h, "{\"size\":0,\"d\":", 14);
    k = 14;
    for (i = 0; i < n; i++, k += ol) memcpy(h + k, open, ol);
    h[k++] = '0';
    for (i = 0; i < n; i++, k += cl) memcpy(h + k, close, cl);
    h[k++] = '}';
    h[k] = 0;
    return h;
}

Test(hostile, nesting_at_and_past_the_limit, .timeout = 60) {
    static const struct {
        const char *open, *close;
    } kinds[] = {{"[", "]"}, {"{\"a\":", "}"}, {"[{\"a\":", "}]"}};
    size_t k;
    for (k = 0; k < 3; k++) {
        size_t per = strlen(kinds[k].open), levels = k == 2 ? 2 : 1;
        /* the header object is level 1: 31 more levels are allowed */
        size_t ok_n = 31 / levels;
        char *h = nested(ok_n, kinds[k].open, kinds[k].close);
        expect_header(h, strlen(h), FRAME_OK, 0, 0, "depth 32");
        free(h);
        /* one level more: TOO_DEEP at the bracket that opens level 33 */
        h = nested(32 / levels, kinds[k].open, kinds[k].close);
        if (levels == 1) {
            expect_header(h, strlen(h), FRAME_E_TOO_DEEP, 14 + 31 * per, 0, "depth 33");
        } else {
            /* 16 pairs = levels 2..33: the '{' of the 16th pair opens level 33 */
            expect_header(h, strlen(h), FRAME_E_TOO_DEEP, 14 + 15 * per + 1, 0, "depth 33");
        }
        free(h);
    }
    /* far past it: 100000 levels cost no more than 33 */
    {
        frame_config cfg;
        char *h = nested(100000, "[", "]");
        size_t p = 0, len, flen;
        unsigned char *f;
        outcome o;
        len = strlen(h);
        memset(&cfg, 0, sizeof cfg);
        cfg.max_header = 1u << 20;
        cr_assert_eq(parse_guarded(&cfg, h, len, &p, NULL), FRAME_E_TOO_DEEP);
        cr_assert_eq(p, 14 + 31);
        f = make_frame(h, len, &flen);
        decode_all_ways(&cfg, f, flen, 0, &o);
        cr_assert_eq(o.err, FRAME_E_TOO_DEEP);
        cr_assert_eq(o.offset, 4 + 14 + 31);
        free(f);
        free(h);
    }
}

/* ---- members ----------------------------------------------------------- */

/* A header of `len` octets (or as many tiny members as fit, when members is
 * 0) inside `wrap_open`: {"size":0,<open>"a0":0,"a1":0,...<close>}. *count
 * gets the members written (the size member not included), *at513 the
 * offset of the quote of the header's 513th member. */
static char *tiny_members(size_t len, size_t members, const char *open, const char *close,
                          size_t *count, size_t *at513) {
    char *h = xmalloc(len + 64);
    size_t k, n = 0, ol = strlen(open), cl = strlen(close);
    size_t nested = ol > 0;
    memcpy(h, "{\"size\":0,", 10);
    k = 10;
    memcpy(h + k, open, ol);
    k += ol;
    *at513 = 0;
    for (;;) {
        char m[32];
        int ml = snprintf(m, sizeof m, "%s\"%zx\":0", n ? "," : "", n);
        if (members ? n == members : k + (size_t)ml + cl + 1 > len) break;
        /* header members: size, [the wrapper "o"], then these */
        if (n + 2 + nested == 513) *at513 = k + (n ? 1 : 0);
        memcpy(h + k, m, (size_t)ml);
        k += (size_t)ml;
        n++;
    }
    if (!members) { /* white space up to the exact length */
        memset(h + k, ' ', len - k - cl - 1);
        k = len - cl - 1;
    }
    memcpy(h + k, close, cl);
    k += cl;
    h[k++] = '}';
    h[k] = 0;
    *count = n;
    return h;
}

Test(hostile, max_size_header_of_tiny_members, .timeout = 120) {
    static const struct {
        const char *open, *close;
    } wraps[] = {{"", ""}, {"\"o\":{", "}"}};
    size_t w;
    for (w = 0; w < 2; w++) {
        size_t count, at513, len;
        char *h = tiny_members(FRAME_DEFAULT_MAX_HEADER, 0, wraps[w].open, wraps[w].close, &count,
                               &at513);
        unsigned char *f;
        outcome o;
        len = strlen(h);
        cr_assert_eq(len, FRAME_DEFAULT_MAX_HEADER, "built %zu octets", len);
        cr_assert(count > 5000, "only %zu members fit", count);
        /* the 513th member (the size member being the 1st) is refused */
        expect_header(h, len, FRAME_E_TOO_MANY_MEMBERS, at513, 0, "64 KiB of tiny members");
        /* fed in one piece: the decoder reads it where it lies */
        f = make_frame(h, len, &len);
        decode_all_ways(NULL, f, len, 0, &o);
        cr_assert_eq(o.err, FRAME_E_TOO_MANY_MEMBERS);
        cr_assert_eq(o.offset, 4 + at513);
        free(f);
        free(h);
        /* exactly 512 members pass */
        h = tiny_members(FRAME_DEFAULT_MAX_HEADER, 511 - w, wraps[w].open, wraps[w].close, &count,
                         &at513);
        expect_header(h, strlen(h), FRAME_OK, 0, 0, "512 members");
        free(h);
        h = tiny_members(FRAME_DEFAULT_MAX_HEADER, 512 - w, wraps[w].open, wraps[w].close, &count,
                         &at513);
        expect_header(h, strlen(h), FRAME_E_TOO_MANY_MEMBERS, at513, 0, "513 members");
        free(h);
    }
}

Test(hostile, members_with_long_shared_prefixes, .timeout = 120) {
    /* 512 names that differ only in their last octets: the duplicate check
     * must still finish (and accept them) */
    size_t n, k = 10, nl = 100;
    char *h = xmalloc(70000);
    memcpy(h, "{\"size\":0", 9);
    k = 9;
    for (n = 0; n < 511; n++) {
        h[k++] = ',';
        h[k++] = '"';
        memset(h + k, 'a', nl);
        k += nl;
        k += (size_t)sprintf(h + k, "%03zx\":0", n);
    }
    h[k++] = '}';
    expect_header(h, k, FRAME_OK, 0, 0, "511 long names");
    free(h);
}

/* ---- invalid UTF-8 everywhere ------------------------------------------ */

Test(hostile, invalid_utf8_in_every_position, .timeout = 120) {
    static const char base[] = "{\"size\":0,\"n\\u00e9m\":\"v\xc3\xa9lue\",\"a\":[\"x\",1]}";
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"\x80", 1},             {"\xbf", 1},         {"\xc0\xaf", 2},     {"\xc1\xbf", 2},
        {"\xc2", 1},             {"\xe0\x80\xaf", 3}, {"\xe0\x9f\xbf", 3}, {"\xe2\x82", 2},
        {"\xed\xa0\x80", 3},     {"\xed\xbf\xbf", 3}, {"\xf0\x80\x80\xaf", 4},
        {"\xf0\x8f\xbf\xbf", 4}, {"\xf4\x90\x80\x80", 4}, {"\xf5\x80\x80\x80", 4},
        {"\xf8\x88\x80\x80\x80", 5}, {"\xfe", 1}, {"\xff", 1}, {"\xf0\x9f\x98", 3},
    };
    size_t bl = sizeof base - 1, pos, b, tried = 0;
    char *h = xmalloc(bl + 8);
    /* where strings are: inside quotes (escapes do not matter here, the
     * inserted byte is never after a backslash: skip those positions) */
    for (pos = 0; pos <= bl; pos++) {
        int in_string = 0, after_backslash = 0;
        size_t i;
        for (i = 0; i < pos; i++) {
            if (after_backslash) {
                after_backslash = 0;
                continue;
            }
            if (in_string && base[i] == '\\') after_backslash = 1;
            else if (base[i] == '"') in_string = !in_string;
        }
        if (after_backslash) continue;
        /* not inside a well-formed sequence of the base text */
        if (pos < bl && ((unsigned char)base[pos] & 0xC0) == 0x80) continue;
        /* inside a \u escape the byte is a bad hex digit: JSON_SYNTAX too */
        for (i = pos >= 5 ? pos - 5 : 0; i < pos; i++)
            if (base[i] == '\\' && base[i + 1] == 'u') break;
        for (b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            char what[96];
            frame_errno want = in_string && i == pos ? FRAME_E_BAD_UTF8 : FRAME_E_JSON_SYNTAX;
            memcpy(h, base, pos);
            memcpy(h + pos, bad[b].bytes, bad[b].len);
            memcpy(h + pos + bad[b].len, base + pos, bl - pos);
            snprintf(what, sizeof what, "bad UTF-8 #%zu at %zu", b, pos);
            expect_header(h, bl + bad[b].len, want, pos, 0, what);
            tried++;
        }
    }
    cr_assert(tried > 500);
    /* the same sequences well-formed are accepted inside strings */
    {
        static const char good[] = "{\"size\":0,\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
                                   "\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\":\"\xef\xb7\x90\"}";
        expect_header(good, sizeof good - 1, FRAME_OK, 0, 0, "boundaries of well-formed UTF-8");
    }
    free(h);
}

/* ---- many frames ---------------------------------------------------------- */

typedef struct counter {
    uint64_t headers, bodies, ends;
} counter;

static int c_header(frame_decoder *d, const frame_header *h) {
    counter *c = d->data;
    c->headers++;
    return h->body_size == 0 ? FRAME_CONTINUE : -1;
}

static int c_body(frame_decoder *d, const void *at, size_t len) {
    counter *c = d->data;
    (void)at;
    (void)len;
    c->bodies++;
    return FRAME_CONTINUE;
}

static int c_end(frame_decoder *d) {
    counter *c = d->data;
    c->ends++;
    return FRAME_CONTINUE;
}

static const frame_callbacks counting = {c_header, c_body, c_end};

static void many_frames(const frame_config *cfg, const unsigned char *one, size_t one_len,
                        uint64_t frames) {
    /* 64 KiB of whole and partial frames at a time, before a guard page */
    enum { CHUNK = 65536 };
    unsigned char *chunk = xmalloc(CHUNK), hbuf[64];
    guard g;
    frame_decoder d;
    counter c = {0, 0, 0};
    uint64_t total = (uint64_t)one_len * frames, off = 0;
    cr_assert_eq(frame_decoder_init(&d, cfg, &counting, hbuf, sizeof hbuf, &c), FRAME_OK);
    guard_init(&g, CHUNK);
    while (off < total) {
        size_t n = total - off < CHUNK ? (size_t)(total - off) : CHUNK, i;
        const unsigned char *p;
        for (i = 0; i < n; i++) chunk[i] = one[(off + i) % one_len];
        p = guard_place(&g, chunk, n);
        cr_assert_eq(frame_feed(&d, p, n), n, "at offset %llu: %s", (unsigned long long)off,
                     errname(frame_decoder_errno(&d)));
        off += n;
    }
    cr_assert_eq(frame_finish(&d, NULL), FRAME_OK);
    cr_assert_eq(c.headers, frames);
    cr_assert_eq(c.ends, frames);
    cr_assert_eq(c.bodies, 0);
    cr_assert_eq(frame_decoder_frame_index(&d), frames);
    cr_assert_eq(frame_decoder_offset(&d), total);
    guard_free(&g);
    free(chunk);
}

Test(hostile, one_million_empty_frames, .timeout = 300) {
    uint64_t n = 1000000;
    static const unsigned char json_frame[] = "\x0a\x00\x00\x00{\"size\":0}";
    static const unsigned char raw_frame[] = "\x00";
    frame_config raw;
    frame_config small;
    memset(&raw, 0, sizeof raw);
    raw.raw = 1;
    raw.prefix_width = 1;
    memset(&small, 0, sizeof small);
    small.max_header = 64;
    many_frames(&small, json_frame, sizeof json_frame - 1, n);
    many_frames(&raw, raw_frame, 1, n);
}

/* ---- every vector before a guard page ------------------------------------ */

static frame_errno errno_by_name(const char *name) {
    int e;
    for (e = 0; e < 64; e++)
        if (!strcmp(frame_errname((frame_errno)e), name)) return (frame_errno)e;
    return (frame_errno)-1;
}

/* Reads a vector's config into cfg (with name storage); 0 if not usable. */
static int vector_config(const frame_value *vec, frame_config *cfg, char *name, size_t cap) {
    frame_value c;
    uint64_t u;
    char *s;
    size_t n;
    memset(cfg, 0, sizeof *cfg);
    if (!json_get(vec, "config", &c)) return 1;
    if (json_get_u64(&c, "prefix_width", &u)) cfg->prefix_width = (unsigned)u;
    if ((s = json_get_str(&c, "byte_order", &n)) != NULL) {
        cfg->big_endian = !strcmp(s, "big");
        free(s);
    }
    if ((s = json_get_str(&c, "profile", &n)) != NULL) {
        cfg->raw = !strcmp(s, "raw");
        free(s);
    }
    if ((s = json_get_str(&c, "size_name", &n)) != NULL) {
        if (n >= cap) {
            free(s);
            return 0;
        }
        memcpy(name, s, n + 1);
        cfg->size_name = name;
        free(s);
    }
    if (json_get_u64(&c, "max_header", &u)) cfg->max_header = u;
    if (json_get_u64(&c, "max_body", &u)) cfg->max_body = u;
    return 1;
}

Test(hostile, every_vector_before_a_guard_page, .timeout = 300) {
    const char *dir = vector_dir();
    DIR *dp = opendir(dir);
    struct dirent *de;
    size_t done = 0, headers = 0;
    cr_assert(dp != NULL, "no vector directory %s", dir);
    while ((de = readdir(dp)) != NULL) {
        char path[2048], name[128], *text, *wrap = NULL, *kind, *hex, *ename;
        size_t len = 0, hlen, slen = 0;
        frame_value vec, err;
        frame_config cfg;
        unsigned char *stream;
        outcome o;
        int datagram = 0;
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".json")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        text = read_file_all(path, &len);
        cr_assert(text != NULL, "cannot read %s", path);
        cr_assert_eq(json_parse_any(text, len, &wrap, &vec, NULL), FRAME_OK, "%s is not JSON", path);
        kind = json_get_str(&vec, "kind", &hlen);
        hex = json_get_str(&vec, "stream", &hlen);
        if (!kind || strcmp(kind, "decode") || !hex || !hlen || !vector_config(&vec, &cfg, name, sizeof name) ||
            frame_config_check(&cfg) != FRAME_OK) {
            free(kind);
            free(hex);
            free(wrap);
            free(text);
            continue;
        }
        stream = hex_decode_alloc(hex, hlen, &slen);
        json_get_bool(&vec, "datagram", &datagram);
        if (datagram) decode_datagram(&cfg, stream, slen, &o);
        else decode_all_ways(&cfg, stream, slen, 1u << 14, &o);
        {
            frame_value frames;
            if (json_get(&vec, "frames", &frames) && frames.type == FRAME_TYPE_ARRAY)
                cr_expect_eq(o.frames, json_count(&frames), "%s: %zu frames, the vector lists %zu",
                             de->d_name, o.frames, json_count(&frames));
        }
        if (json_get(&vec, "error", &err) && err.type == FRAME_TYPE_OBJECT) {
            uint64_t off;
            ename = json_get_str(&err, "name", &hlen);
            cr_assert(ename != NULL, "%s: error without a name", de->d_name);
            cr_expect_eq(o.err, errno_by_name(ename), "%s: %s, the vector says %s", de->d_name,
                         errname(o.err), ename);
            if (json_get_u64(&err, "offset", &off))
                cr_expect_eq(o.offset, off, "%s: offset %llu, the vector says %llu", de->d_name,
                             (unsigned long long)o.offset, (unsigned long long)off);
            if (json_get_u64(&err, "frame", &off))
                cr_expect_eq(o.frame, off, "%s: frame %llu, the vector says %llu", de->d_name,
                             (unsigned long long)o.frame, (unsigned long long)off);
            if (json_get_u64(&err, "missing", &off))
                cr_expect_eq(o.missing, off, "%s: missing %llu, the vector says %llu", de->d_name,
                             (unsigned long long)o.missing, (unsigned long long)off);
            free(ename);
        } else {
            cr_expect_eq(o.err, FRAME_OK, "%s: %s, the vector says OK", de->d_name, errname(o.err));
        }
        /* each header alone, before a guard page, agrees with the reference */
        if (!cfg.raw) {
            unsigned w = cfg.prefix_width ? cfg.prefix_width : 4;
            size_t at = 0;
            while (at + w <= slen) {
                uint64_t h = 0, body = 0;
                unsigned i;
                size_t pos = 0;
                ref_result ref;
                frame_errno e;
                int ok;
                const char *sn = cfg.size_name ? cfg.size_name : "size";
                for (i = 0; i < w; i++) h = h << 8 | stream[at + (cfg.big_endian ? i : w - 1 - i)];
                if (h == 0 || h > slen - at - w) break;
                e = parse_guarded(&cfg, stream + at + w, (size_t)h, &pos, &body);
                ok = ref_header_check(stream + at + w, (size_t)h, (const unsigned char *)sn, strlen(sn),
                                      cfg.max_body, &ref);
                cr_expect(ok == (e == FRAME_OK) && (ok || (!strcmp(ref.err, errname(e)) && ref.pos == pos)),
                          "%s: header at %zu: library %s at %zu, reference %s at %zu", de->d_name, at,
                          errname(e), pos, ok ? "OK" : ref.err, ok ? (size_t)0 : ref.pos);
                headers++;
                if (e != FRAME_OK || body > slen - at - w - h) break;
                at += w + (size_t)h + (size_t)body;
            }
        }
        done++;
        free(stream);
        free(kind);
        free(hex);
        free(wrap);
        free(text);
    }
    closedir(dp);
    printf("hostile: %zu decode vectors from %s before guard pages, %zu headers checked alone\n", done,
           dir, headers);
    cr_assert(done > 0, "no decode vectors in %s", dir);
}
