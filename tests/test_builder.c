/* The header builder: canonical encoding, escaping, errors, limits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

/* Reference for the canonical string encoding (DECISIONS.md): the string
 * between quotes, for valid UTF-8 input. */
static void canon_string(sbuf *s, const char *p, size_t n)
{
    size_t i;
    sb_adds(s, "\"");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '"': sb_adds(s, "\\\""); break;
        case '\\': sb_adds(s, "\\\\"); break;
        case '\b': sb_adds(s, "\\b"); break;
        case '\f': sb_adds(s, "\\f"); break;
        case '\n': sb_adds(s, "\\n"); break;
        case '\r': sb_adds(s, "\\r"); break;
        case '\t': sb_adds(s, "\\t"); break;
        default:
            if (c < 0x20)
                sb_printf(s, "\\u%04x", c);
            else
                sb_add(s, &c, 1);
        }
    }
    sb_adds(s, "\"");
}

/* Finishes b and returns the header text (after the prefix); checks the
 * prefix against the header length. */
static const char *finish_header(frame_builder *b, const frame_config *c, size_t *hlen)
{
    const void *out = NULL;
    size_t len = 0;
    unsigned w = c && c->prefix_width ? c->prefix_width : 4;
    unsigned char want[8];
    frame_errno e = frame_builder_finish(b, &out, &len);
    cr_assert_eq(e, FRAME_OK, "finish: %s", frame_errname(e));
    cr_assert_geq(len, (size_t)w);
    put_prefix(want, w, c ? c->big_endian : 0, len - w);
    cr_expect_arr_eq(out, want, w, "prefix holds the header length");
    *hlen = len - w;
    return (const char *)out + w;
}

static void expect_header(frame_builder *b, const frame_config *c, const char *want, size_t want_len)
{
    size_t hlen;
    const char *h = finish_header(b, c, &hlen);
    cr_expect_eq(hlen, want_len, "header %.*s, want %.*s", (int)hlen, h, (int)want_len, want);
    cr_expect_arr_eq(h, want, want_len < hlen ? want_len : hlen, "header %.*s, want %.*s", (int)hlen,
                     h, (int)want_len, want);
}

Test(builder, empty_header_is_just_the_size)
{
    frame_builder b;
    unsigned char buf[64];
    const void *out;
    size_t len;
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 5), FRAME_OK);
    expect_header(&b, NULL, "{\"size\":5}", 10);
    cr_expect_eq(frame_builder_finish(&b, &out, &len), FRAME_OK, "finish again");
    cr_expect_eq(out, (const void *)buf, "the head starts the caller's buffer");
    cr_expect_eq(len, 14u);
    cr_expect_eq(frame_builder_finish(&b, NULL, NULL), FRAME_OK, "NULL out and len");
}

Test(builder, every_add_function)
{
    frame_builder b;
    unsigned char buf[512];
    const char *want = "{\"size\":0,\"s\":\"v\",\"n\":\"a\\u0000b\",\"i\":-5,"
                       "\"u\":18446744073709551615,\"t\":true,\"f\":false,\"z\":null,"
                       "\"r\":{\"a\":[1,2]}}";
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_string(&b, "s", "v"), FRAME_OK);
    cr_expect_eq(frame_builder_add_stringn(&b, "n", "a\0b", 3), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "i", -5), FRAME_OK);
    cr_expect_eq(frame_builder_add_uint64(&b, "u", UINT64_MAX), FRAME_OK);
    cr_expect_eq(frame_builder_add_bool(&b, "t", 1), FRAME_OK);
    cr_expect_eq(frame_builder_add_bool(&b, "f", 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_null(&b, "z"), FRAME_OK);
    cr_expect_eq(frame_builder_add_raw(&b, "r", "{ \"a\" : [1, 2] }", 16), FRAME_OK);
    expect_header(&b, NULL, want, strlen(want));
}

Test(builder, integer_extremes)
{
    frame_builder b;
    unsigned char buf[512];
    const char *want = "{\"size\":9007199254740991,\"min\":-9223372036854775808,"
                       "\"max\":9223372036854775807,\"zero\":0,\"uzero\":0,\"ten\":10}";
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, FRAME_MAX_BODY_LIMIT), FRAME_OK);
    frame_builder_add_int64(&b, "min", INT64_MIN);
    frame_builder_add_int64(&b, "max", INT64_MAX);
    frame_builder_add_int64(&b, "zero", 0);
    frame_builder_add_uint64(&b, "uzero", 0);
    frame_builder_add_uint64(&b, "ten", 10);
    expect_header(&b, NULL, want, strlen(want));
}

Test(builder, any_nonzero_bool_is_true)
{
    frame_builder b;
    unsigned char buf[64];
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    frame_builder_add_bool(&b, "x", 2);
    frame_builder_add_bool(&b, "y", -1);
    expect_header(&b, NULL, "{\"size\":0,\"x\":true,\"y\":true}", 28);
}

Test(builder, strings_and_names_are_escaped_minimally)
{
    frame_builder b;
    unsigned char buf[1024];
    char all[0x20 + 16];
    sbuf want = {0};
    size_t i, n = 0;
    static const char extra[] = "\"\\/\x7f" "caf\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80";
    for (i = 0; i < 0x20; i++)
        all[n++] = (char)i;
    memcpy(all + n, extra, sizeof extra - 1);
    n += sizeof extra - 1;
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_stringn(&b, "v", all, n), FRAME_OK);
    cr_expect_eq(frame_builder_add_string(&b, "k\"\\\n\x01\xc3\xa9/", "x"), FRAME_OK);
    sb_adds(&want, "{\"size\":0,\"v\":");
    canon_string(&want, all, n);
    sb_adds(&want, ",");
    canon_string(&want, "k\"\\\n\x01\xc3\xa9/", strlen("k\"\\\n\x01\xc3\xa9/"));
    sb_adds(&want, ":\"x\"}");
    expect_header(&b, NULL, want.p, want.len);
    /* spot checks of the reference itself */
    cr_expect_not_null(strstr(want.p, "\\u0000\\u0001"));
    cr_expect_not_null(strstr(want.p, "\\u001f"));
    cr_expect_not_null(strstr(want.p, "\\b\\t\\n\\u000b\\f\\r"));
    sb_free(&want);
}

Test(builder, invalid_utf8_is_refused_in_values_and_names)
{
    static const char *const bad[] = {"\xc0\x80", "\xc1\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
                                      "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\x80", "a\xbf",
                                      "\xe2\x82", "\xf0\x9f\x98", "\xff", "\xe0\x80\x80"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame_builder b;
        unsigned char buf[128];
        cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
        cr_expect_eq(frame_builder_add_string(&b, "a", bad[i]), FRAME_E_BAD_UTF8, "value #%zu", i);
        cr_expect_eq(frame_builder_finish(&b, NULL, NULL), FRAME_E_BAD_UTF8);
        cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
        cr_expect_eq(frame_builder_add_int64(&b, bad[i], 1), FRAME_E_BAD_UTF8, "name #%zu", i);
        cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
        cr_expect_eq(frame_builder_add_stringn(&b, "a", bad[i], strlen(bad[i])),
                     FRAME_E_BAD_UTF8, "stringn #%zu", i);
    }
}

Test(builder, errors_are_sticky)
{
    frame_builder b;
    unsigned char buf[128];
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "a", 1), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "a", 2), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_add_int64(&b, "b", 2), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_add_string(&b, "c", "x"), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_add_stringn(&b, "c", "x", 1), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_add_uint64(&b, "d", 1), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_add_bool(&b, "e", 1), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_add_null(&b, "f"), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_add_raw(&b, "g", "1", 1), FRAME_E_DUPLICATE_NAME);
    /* Arguments that are errors of their own do not replace the first error. */
    cr_expect_eq(frame_builder_add_string(&b, "h", NULL), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_add_stringn(&b, "h", NULL, 3), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_add_raw(&b, "h", NULL, 0), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_add_null(&b, NULL), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_finish(&b, NULL, NULL), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(frame_builder_finish(&b, NULL, NULL), FRAME_E_DUPLICATE_NAME);
}

Test(builder, duplicate_names_are_byte_equal_names)
{
    frame_builder b;
    unsigned char buf[256];
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "a", 1), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "A", 1), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "a ", 1), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "\"", 1), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "\xc3\xa9", 1), FRAME_OK);
    cr_expect_eq(frame_builder_add_raw(&b, "o", "{\"a\":1}", 7), FRAME_OK, "nested names are apart");
    cr_expect_eq(frame_builder_add_null(&b, "\xc3\xa9"), FRAME_E_DUPLICATE_NAME);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "\"", 1), FRAME_OK);
    cr_expect_eq(frame_builder_add_string(&b, "\"", "x"), FRAME_E_DUPLICATE_NAME,
                 "names that need escaping");
}

Test(builder, size_name_is_reserved)
{
    frame_builder b;
    frame_config c;
    unsigned char buf[256];
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "size", 1), FRAME_E_RESERVED_NAME);
    cr_expect_eq(frame_builder_finish(&b, NULL, NULL), FRAME_E_RESERVED_NAME);
    memset(&c, 0, sizeof c);
    c.size_name = "data_size";
    cr_assert_eq(frame_builder_init(&b, &c, buf, sizeof buf, 3), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "size", 1), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "data_siz", 1), FRAME_OK);
    expect_header(&b, &c, "{\"data_size\":3,\"size\":1,\"data_siz\":1}", 37);
    cr_assert_eq(frame_builder_init(&b, &c, buf, sizeof buf, 3), FRAME_OK);
    cr_expect_eq(frame_builder_add_string(&b, "data_size", "x"), FRAME_E_RESERVED_NAME);
}

Test(builder, member_limit_counts_the_size_and_nested_members)
{
    static unsigned char buf[65536];
    frame_builder b;
    sbuf raw = {0};
    unsigned i;
    char name[16];
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    for (i = 0; i + 1 < FRAME_MAX_MEMBERS; i++) {
        snprintf(name, sizeof name, "m%u", i);
        cr_assert_eq(frame_builder_add_int64(&b, name, i), FRAME_OK, "member %u", i + 2);
    }
    cr_expect_eq(frame_builder_add_null(&b, "one_more"), FRAME_E_TOO_MANY_MEMBERS);
    cr_expect_eq(frame_builder_finish(&b, NULL, NULL), FRAME_E_TOO_MANY_MEMBERS);

    /* size + "o" + 510 nested = 512 */
    sb_adds(&raw, "{");
    for (i = 0; i < FRAME_MAX_MEMBERS - 2; i++)
        sb_printf(&raw, "%s\"k%u\":%u", i ? "," : "", i, i);
    sb_adds(&raw, "}");
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_raw(&b, "o", raw.p, raw.len), FRAME_OK);
    cr_expect_eq(frame_builder_finish(&b, NULL, NULL), FRAME_OK);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_raw(&b, "o", raw.p, raw.len), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "x", 1), FRAME_E_TOO_MANY_MEMBERS);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "x", 1), FRAME_OK);
    cr_expect_eq(frame_builder_add_raw(&b, "o", raw.p, raw.len), FRAME_E_TOO_MANY_MEMBERS);
    sb_free(&raw);
}

static void nested_arrays(sbuf *s, unsigned levels)
{
    unsigned i;
    s->len = 0;
    for (i = 0; i < levels; i++)
        sb_adds(s, "[ ");
    for (i = 0; i < levels; i++)
        sb_adds(s, "]");
}

Test(builder, raw_depth_counts_the_header_level)
{
    frame_builder b;
    unsigned char buf[512];
    sbuf s = {0}, want = {0};
    nested_arrays(&s, FRAME_MAX_DEPTH - 1);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_raw(&b, "d", s.p, s.len), FRAME_OK);
    {
        unsigned i;
        sb_adds(&want, "{\"size\":0,\"d\":");
        for (i = 0; i + 1 < FRAME_MAX_DEPTH; i++)
            sb_adds(&want, "[");
        for (i = 0; i + 1 < FRAME_MAX_DEPTH; i++)
            sb_adds(&want, "]");
        sb_adds(&want, "}");
    }
    expect_header(&b, NULL, want.p, want.len);
    nested_arrays(&s, FRAME_MAX_DEPTH);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_raw(&b, "d", s.p, s.len), FRAME_E_TOO_DEEP);
    sb_free(&s);
    sb_free(&want);
}

Test(builder, raw_values_are_validated)
{
    static const struct {
        const char *json;
        frame_errno want;
    } bad[] = {
        {"", FRAME_E_JSON_SYNTAX},
        {"   ", FRAME_E_JSON_SYNTAX},
        {"{\"a\":}", FRAME_E_JSON_SYNTAX},
        {"[1,]", FRAME_E_JSON_SYNTAX},
        {"{\"a\":1", FRAME_E_JSON_SYNTAX},
        {"1 2", FRAME_E_JSON_SYNTAX},
        {"01", FRAME_E_JSON_SYNTAX},
        {"tru", FRAME_E_JSON_SYNTAX},
        {"'x'", FRAME_E_JSON_SYNTAX},
        {"\"\\x\"", FRAME_E_JSON_SYNTAX},
        {"\"a\nb\"", FRAME_E_JSON_SYNTAX},
        {"{\"a\":1,\"a\":2}", FRAME_E_DUPLICATE_NAME},
        {"[{\"a\":1,\"\\u0061\":2}]", FRAME_E_DUPLICATE_NAME},
        {"\"\\ud800\"", FRAME_E_LONE_SURROGATE},
        {"\"\\udc00\\ud800\"", FRAME_E_LONE_SURROGATE},
        {"\"\xc0\x80\"", FRAME_E_BAD_UTF8},
        {"[\"\xed\xa0\x80\"]", FRAME_E_BAD_UTF8},
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame_builder b;
        unsigned char buf[128];
        frame_errno e;
        cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
        e = frame_builder_add_raw(&b, "r", bad[i].json, strlen(bad[i].json));
        cr_expect_eq(e, bad[i].want, "raw '%s': got %s, want %s", bad[i].json, frame_errname(e),
                     frame_errname(bad[i].want));
        cr_expect_eq(frame_builder_finish(&b, NULL, NULL), bad[i].want);
    }
}

Test(builder, raw_values_are_canonicalised)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"{ \"a\" : [1, 2] }", "{\"a\":[1,2]}"},
        {" \t\r\n{ } ", "{}"},
        {"[ ]", "[]"},
        {"\"\\u0041\\/\\u00e9\"", "\"A/\xc3\xa9\""},
        {"\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\""},
        {"\"\\u001F\\u000a\\u0008\\u000C\\u000d\\u0009\\u0000\\u001b\"",
         "\"\\u001f\\n\\b\\f\\r\\t\\u0000\\u001b\""},
        {"\"\\u007f\\u2028\\u2029\"", "\"\x7f\xe2\x80\xa8\xe2\x80\xa9\""},
        {"\"\\\"\\\\\"", "\"\\\"\\\\\""},
        {"\"\\u0022\\u005C\"", "\"\\\"\\\\\""},
        {" 1.50E+3 ", "1.50E+3"},
        {"-0", "-0"},
        {"[ 1e5 , -0.0 , 12345678901234567890123 ]", "[1e5,-0.0,12345678901234567890123]"},
        {"true", "true"},
        {" null", "null"},
        {"false ", "false"},
        {"{\"b\" :{ \"c\":[ {} ,[ ] ,\"\" ] } , \"\\u00e9\" : \"\xc3\xa9\" }",
         "{\"b\":{\"c\":[{},[],\"\"]},\"\xc3\xa9\":\"\xc3\xa9\"}"},
        {"{\"size\":\"nested size is data\"}", "{\"size\":\"nested size is data\"}"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frame_builder b;
        unsigned char buf[256];
        sbuf want = {0};
        frame_errno e;
        cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
        e = frame_builder_add_raw(&b, "r", cases[i].in, strlen(cases[i].in));
        cr_expect_eq(e, FRAME_OK, "raw '%s': %s", cases[i].in, frame_errname(e));
        if (e != FRAME_OK)
            continue;
        sb_printf(&want, "{\"size\":0,\"r\":%s}", cases[i].out);
        expect_header(&b, NULL, want.p, want.len);
        sb_free(&want);
    }
}

Test(builder, header_too_large)
{
    frame_builder b;
    frame_config c;
    unsigned char buf[70000];
    frame_errno e;
    memset(&c, 0, sizeof c);
    c.max_header = 20;
    cr_assert_eq(frame_builder_init(&b, &c, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_string(&b, "a", "xxx"), FRAME_OK);
    expect_header(&b, &c, "{\"size\":0,\"a\":\"xxx\"}", 20);
    cr_assert_eq(frame_builder_init(&b, &c, buf, sizeof buf, 0), FRAME_OK);
    e = frame_builder_add_string(&b, "a", "xxxx");
    cr_expect(e == FRAME_OK || e == FRAME_E_HEADER_TOO_LARGE, "%s", frame_errname(e));
    cr_expect_eq(frame_builder_finish(&b, NULL, NULL), FRAME_E_HEADER_TOO_LARGE);
    /* {"size":123456789 alone is longer than 10 */
    c.max_header = 10;
    e = frame_builder_init(&b, &c, buf, sizeof buf, 123456789);
    if (e == FRAME_OK)
        e = frame_builder_finish(&b, NULL, NULL);
    cr_expect_eq(e, FRAME_E_HEADER_TOO_LARGE);
}

/* A header of exactly `hlen` bytes: {"size":0,"a":"xxx..."} */
static frame_errno build_len(const frame_config *c, unsigned char *buf, size_t cap, size_t hlen)
{
    frame_builder b;
    static char pad[70000];
    memset(pad, 'x', sizeof pad);
    cr_assert_eq(frame_builder_init(&b, c, buf, cap, 0), FRAME_OK);
    frame_builder_add_stringn(&b, "a", pad, hlen - 17);
    return frame_builder_finish(&b, NULL, NULL);
}

Test(builder, header_length_is_limited_by_the_prefix_width)
{
    static unsigned char buf[70000];
    frame_config c;
    memset(&c, 0, sizeof c);
    c.prefix_width = 1;
    cr_expect_eq(build_len(&c, buf, sizeof buf, 255), FRAME_OK);
    cr_expect_eq(build_len(&c, buf, sizeof buf, 256), FRAME_E_HEADER_TOO_LARGE);
    c.prefix_width = 2;
    cr_expect_eq(build_len(&c, buf, sizeof buf, 65535), FRAME_OK);
    cr_expect_eq(build_len(&c, buf, sizeof buf, 65536), FRAME_E_HEADER_TOO_LARGE,
                 "max_header is 65536 but 2 octets hold 65535");
    c.prefix_width = 4;
    cr_expect_eq(build_len(&c, buf, sizeof buf, 65536), FRAME_OK);
    cr_expect_eq(build_len(&c, buf, sizeof buf, 65537), FRAME_E_HEADER_TOO_LARGE);
}

Test(builder, prefix_widths_and_byte_orders)
{
    static const unsigned widths[] = {1, 2, 4, 8};
    size_t wi;
    int be;
    for (wi = 0; wi < 4; wi++) {
        for (be = 0; be <= 1; be++) {
            frame_builder b;
            frame_config c;
            unsigned char buf[128];
            memset(&c, 0, sizeof c);
            c.prefix_width = widths[wi];
            c.big_endian = be;
            cr_assert_eq(frame_builder_init(&b, &c, buf, sizeof buf, 300), FRAME_OK);
            frame_builder_add_string(&b, "k", "v");
            expect_header(&b, &c, "{\"size\":300,\"k\":\"v\"}", 20);
        }
    }
}

Test(builder, raw_profile_writes_only_the_prefix)
{
    static const unsigned widths[] = {1, 2, 4, 8};
    size_t wi;
    for (wi = 0; wi < 4; wi++) {
        frame_builder b;
        frame_config c;
        unsigned char buf[16], want[8];
        const void *out;
        size_t len;
        memset(&c, 0, sizeof c);
        c.raw = 1;
        c.prefix_width = widths[wi];
        c.big_endian = (int)(wi & 1);
        cr_assert_eq(frame_builder_init(&b, &c, buf, sizeof buf, 200), FRAME_OK);
        cr_expect_eq(frame_builder_add_int64(&b, "a", 1), FRAME_E_ARGUMENT);
        cr_assert_eq(frame_builder_init(&b, &c, buf, sizeof buf, 200), FRAME_OK);
        cr_assert_eq(frame_builder_finish(&b, &out, &len), FRAME_OK);
        cr_expect_eq(len, (size_t)widths[wi]);
        put_prefix(want, widths[wi], c.big_endian, 200);
        cr_expect_arr_eq(out, want, widths[wi]);
    }
}

Test(builder, raw_profile_body_must_fit_the_prefix)
{
    frame_builder b;
    frame_config c;
    unsigned char buf[16];
    frame_errno e;
    memset(&c, 0, sizeof c);
    c.raw = 1;
    c.prefix_width = 1;
    cr_expect_eq(frame_builder_init(&b, &c, buf, sizeof buf, 255), FRAME_OK);
    e = frame_builder_init(&b, &c, buf, sizeof buf, 256);
    if (e == FRAME_OK)
        e = frame_builder_finish(&b, NULL, NULL);
    cr_expect_eq(e, FRAME_E_BODY_TOO_LARGE);
}

Test(builder, adding_after_finish_is_an_argument_error)
{
    frame_builder b;
    unsigned char buf[64];
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_builder_finish(&b, NULL, NULL), FRAME_OK);
    cr_expect_eq(frame_builder_add_int64(&b, "late", 1), FRAME_E_ARGUMENT);
}

/* The members used by the buffer-size test, added in order. */
static frame_errno add_member(frame_builder *b, int k)
{
    switch (k) {
    case 0: return frame_builder_add_string(b, "name", "caf\xc3\xa9 \"q\"\n");
    case 1: return frame_builder_add_int64(b, "i", -1234567);
    case 2: return frame_builder_add_uint64(b, "u", 987654321);
    case 3: return frame_builder_add_bool(b, "b", 1);
    case 4: return frame_builder_add_null(b, "z");
    case 5: return frame_builder_add_raw(b, "r", "{ \"x\" : [ 1 , \"\\u0041\" ] }", 26);
    default: return frame_builder_add_stringn(b, "\x01", "\0\x1f", 2);
    }
}
#define NMEMBERS 7

Test(builder, buffer_too_small_leaves_nothing_partial)
{
    unsigned char ref[512], buf[512];
    size_t committed[NMEMBERS + 1], full, cap, partial = 0;
    frame_builder b;
    const void *out;
    int k;
    /* committed[k]: buffer bytes in use after k members (no closing brace) */
    for (k = 0; k <= NMEMBERS; k++) {
        int j;
        cr_assert_eq(frame_builder_init(&b, NULL, ref, sizeof ref, 42), FRAME_OK);
        for (j = 0; j < k; j++)
            cr_assert_eq(add_member(&b, j), FRAME_OK);
        cr_assert_eq(frame_builder_finish(&b, &out, &full), FRAME_OK);
        committed[k] = full - 1;
    }
    for (cap = 0; cap <= full + 1; cap++) {
        frame_errno e;
        size_t i, keep;
        memset(buf, 0xA5, sizeof buf);
        e = frame_builder_init(&b, NULL, buf, cap, 42);
        if (e != FRAME_OK) {
            cr_expect_eq(e, FRAME_E_BUFFER_TOO_SMALL, "cap %zu", cap);
            cr_expect_lt(cap, committed[0] + 1, "cap %zu", cap);
            continue;
        }
        for (k = 0; k < NMEMBERS; k++) {
            e = add_member(&b, k);
            if (e != FRAME_OK)
                break;
        }
        if (e == FRAME_OK)
            e = frame_builder_finish(&b, &out, &full);
        if (e == FRAME_OK) {
            cr_expect_geq(cap, committed[NMEMBERS] + 1, "cap %zu fits everything", cap);
            continue;
        }
        cr_expect_eq(e, FRAME_E_BUFFER_TOO_SMALL, "cap %zu: %s", cap, frame_errname(e));
        cr_expect_lt(cap, committed[NMEMBERS] + 1);
        /* members 0..k-1 are in place (after the prefix, filled by finish) */
        keep = committed[k];
        cr_expect_arr_eq(buf + 4, ref + 4, keep - 4, "cap %zu: members before #%d", cap, k);
        /* Behind the header, speed builds may keep their name table (at the
         * end of buf[0..cap), in binary): what must not be there is the
         * start of member #k, which would begin at `keep` (`,"`, or just
         * `,` with one byte of room). Nothing is written past cap. */
        if (memcmp(buf + keep, ref + keep, cap - keep < 2 ? cap - keep : 2) == 0 && ++partial <= 3)
            cr_expect_fail("cap %zu: member #%d left bytes at %zu", cap, k, keep);
        for (i = cap; i < sizeof buf; i++)
            if (buf[i] != 0xA5) {
                if (++partial <= 3) /* say it a few times, not for every cap */
                    cr_expect_fail("cap %zu: byte %zu written past the buffer", cap, i);
                break;
            }
        cr_expect_eq(frame_builder_finish(&b, NULL, NULL), FRAME_E_BUFFER_TOO_SMALL, "sticky");
    }
    cr_expect_eq(partial, 0u, "%zu buffer sizes left part of a member behind", partial);
}

Test(builder, exact_buffer_fits)
{
    unsigned char buf[512];
    frame_builder b;
    const void *out;
    size_t full;
    int k;
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 42), FRAME_OK);
    for (k = 0; k < NMEMBERS; k++)
        add_member(&b, k);
    cr_assert_eq(frame_builder_finish(&b, &out, &full), FRAME_OK);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, full, 42), FRAME_OK);
    for (k = 0; k < NMEMBERS; k++)
        cr_expect_eq(add_member(&b, k), FRAME_OK, "member %d", k);
    cr_expect_eq(frame_builder_finish(&b, &out, &full), FRAME_OK);
}

Test(builder, output_parses_back_to_the_same_members)
{
    unsigned char buf[512];
    frame_builder b;
    frame_header h;
    const void *out;
    size_t len, slen;
    int k;
    int64_t i;
    uint64_t u;
    int bo;
    char s[64];
    frame_value v;
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 42), FRAME_OK);
    for (k = 0; k < NMEMBERS; k++)
        add_member(&b, k);
    cr_assert_eq(frame_builder_finish(&b, &out, &len), FRAME_OK);
    cr_assert_eq(frame_header_parse(&h, NULL, (const char *)out + 4, len - 4, NULL), FRAME_OK);
    cr_expect_eq(h.body_size, 42u);
    cr_expect_eq(frame_header_get_string(&h, "name", s, sizeof s, &slen), FRAME_OK);
    cr_expect_eq(slen, 10u);
    cr_expect_arr_eq(s, "caf\xc3\xa9 \"q\"\n", 10);
    cr_expect_eq(frame_header_get_int64(&h, "i", &i), FRAME_OK);
    cr_expect_eq(i, -1234567);
    cr_expect_eq(frame_header_get_uint64(&h, "u", &u), FRAME_OK);
    cr_expect_eq(u, 987654321u);
    cr_expect_eq(frame_header_get_bool(&h, "b", &bo), FRAME_OK);
    cr_expect_eq(bo, 1);
    cr_expect_eq(frame_header_find(&h, "z", &v), FRAME_OK);
    cr_expect(frame_value_is_null(&v));
    cr_expect_eq(frame_header_find(&h, "r", &v), FRAME_OK);
    cr_expect_eq(v.len, 13u);
    cr_expect_arr_eq(v.json, "{\"x\":[1,\"A\"]}", 13 > v.len ? v.len : 13);
    cr_expect_eq(frame_header_get_string(&h, "\x01", s, sizeof s, &slen), FRAME_OK);
    cr_expect_eq(slen, 2u);
    cr_expect_arr_eq(s, "\0\x1f", 2);
}

Test(builder, a_name_is_not_found_inside_earlier_strings)
{
    /* `,":":` occurs in `,"x,":":y"` across a name's end and a value's start,
     * but no member is named ":". (Found by fuzz_roundtrip.) */
    unsigned char buf[128];
    frame_builder b;
    const void *out;
    size_t len;
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_builder_add_string(&b, "x,", ":y"), FRAME_OK);
    cr_expect_eq(frame_builder_add_string(&b, ":", "v"), FRAME_OK);
    cr_expect_eq(frame_builder_add_string(&b, "v", "]z"), FRAME_OK);
    cr_expect_eq(frame_builder_add_string(&b, "z\",", "w"), FRAME_OK);
    cr_expect_eq(frame_builder_add_null(&b, "x,"), FRAME_E_DUPLICATE_NAME, "a real duplicate is still found");
    cr_assert_eq(frame_builder_finish(&b, &out, &len), FRAME_E_DUPLICATE_NAME);
}

/* ---- duplicate names through the name table (speed builds) or the scan ---- */

/* The name of member k of the headers below: plain, escaped or non-ASCII,
 * some of them prefixes of others. */
static void dup_name(char *out, size_t cap, unsigned k)
{
    static const char *const forms[] = {"n%u", "q\"%u", "t\t%u", "caf\xc3\xa9%u", "%u", "n%u_long_name_x"};
    snprintf(out, cap, forms[k % 6], k);
}

/* Adds members 0..n-1 (n >= 0) to b; all must be accepted. */
static void add_dup_members(frame_builder *b, unsigned n)
{
    unsigned k;
    char name[48];
    for (k = 0; k < n; k++) {
        dup_name(name, sizeof name, k);
        switch (k % 3) {
        case 0: cr_assert_eq(frame_builder_add_uint64(b, name, k), FRAME_OK, "member %u", k); break;
        case 1: cr_assert_eq(frame_builder_add_string(b, name, "v"), FRAME_OK, "member %u", k); break;
        default: cr_assert_eq(frame_builder_add_raw(b, name, "{\"z_nested\":1}", 14), FRAME_OK, "member %u", k);
        }
    }
}

Test(builder, duplicates_are_found_at_every_member_count)
{
    static unsigned char buf[65536];
    frame_builder b;
    unsigned n, i, members;
    char name[48];
    /* Member k of kind 2 is an object of one member: k / 3 nested names
     * count against FRAME_MAX_MEMBERS too. Every count of added members
     * until the limit, and a duplicate of the first, a middle and the
     * last name. */
    for (n = 1;; n++) {
        const unsigned pick[3] = {0, n / 2, n - 1};
        members = 1 + n + (n + 0) / 3; /* size, added, nested */
        if (members >= FRAME_MAX_MEMBERS)
            break;
        for (i = 0; i < 3; i++) {
            frame_errno e;
            cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
            add_dup_members(&b, n);
            dup_name(name, sizeof name, pick[i]);
            e = frame_builder_add_null(&b, name);
            if (e != FRAME_E_DUPLICATE_NAME)
                cr_assert_fail("%u members: a second \"%s\" gave %s", n, name, frame_errname(e));
        }
        /* and a new name is no duplicate: not even one that is a prefix or
         * an extension of an earlier one */
        if (members + 3 > FRAME_MAX_MEMBERS)
            continue;
        cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
        add_dup_members(&b, n);
        dup_name(name, sizeof name, n + 1000);
        cr_assert_eq(frame_builder_add_null(&b, name), FRAME_OK, "%u members: \"%s\"", n, name);
        snprintf(name, sizeof name, "n%u_long_name", n - 1);
        cr_assert_eq(frame_builder_add_null(&b, name), FRAME_OK, "%u members: \"%s\"", n, name);
        /* a name only nested objects have is no member's */
        cr_assert_eq(frame_builder_add_null(&b, "z_nested"), FRAME_OK, "%u members", n);
    }
    cr_assert_gt(n, 300u, "the loop reached %u members", n);
}

Test(builder, duplicates_at_the_member_limit)
{
    static unsigned char buf[65536];
    frame_builder b;
    char name[48];
    unsigned k;
    /* FRAME_MAX_MEMBERS - 1 plain members after the size member: full. */
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    for (k = 0; k + 2 < FRAME_MAX_MEMBERS; k++) {
        snprintf(name, sizeof name, "m%u", k);
        cr_assert_eq(frame_builder_add_bool(&b, name, 1), FRAME_OK, "member %u", k);
    }
    cr_expect_eq(frame_builder_add_bool(&b, "m7", 1), FRAME_E_DUPLICATE_NAME, "one short of the limit");
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    for (k = 0; k + 1 < FRAME_MAX_MEMBERS; k++) {
        snprintf(name, sizeof name, "m%u", k);
        cr_assert_eq(frame_builder_add_bool(&b, name, 1), FRAME_OK, "member %u", k);
    }
    /* At the limit, the count is the answer (as before the table). */
    cr_expect_eq(frame_builder_add_bool(&b, "m7", 1), FRAME_E_TOO_MANY_MEMBERS);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    for (k = 0; k + 1 < FRAME_MAX_MEMBERS; k++) {
        snprintf(name, sizeof name, "m%u", k);
        cr_assert_eq(frame_builder_add_bool(&b, name, 1), FRAME_OK, "member %u", k);
    }
    cr_expect_eq(frame_builder_add_bool(&b, "size", 1), FRAME_E_RESERVED_NAME, "the size name, at the limit");
}

/* Parses `json` (a header with "size":0) into *h. */
static void parse_header(frame_header *h, const char *json)
{
    size_t pos = 0;
    frame_errno e = frame_header_parse(h, NULL, json, strlen(json), &pos);
    cr_assert_eq(e, FRAME_OK, "%s: %s at %zu", json, frame_errname(e), pos);
}

Test(builder, duplicates_in_other_spellings)
{
    /* The same decoded name, as bytes (add_*, add_rawn) and as JSON
     * strings escaped otherwise (add_members), both ways round, and after
     * enough members for the table to have grown. */
    static const struct {
        const char *json; /* the name as a header spells it */
        const char *raw;  /* the same name as bytes */
        size_t raw_len;
    } names[] = {
        {"\"\\u0061\"", "a", 1},
        {"\"\\u00e9t\\u00E9\"", "\xc3\xa9t\xc3\xa9", 5},
        {"\"tab\\u0009x\"", "tab\tx", 5},
        {"\"q\\\"\\/\"", "q\"/", 3},
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4},
        {"\"nul\\u0000x\"", "nul\0x", 5},
        {"\"plain_but_longer_than_a_word\"", "plain_but_longer_than_a_word", 28},
    };
    static unsigned char buf[16384];
    unsigned i, before;
    for (before = 0; before < 100; before += 33)
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
            frame_builder b;
            frame_header h;
            sbuf hdr = {0};
            unsigned k;
            sb_printf(&hdr, "{\"size\":0,\"other\":1,%s:2}", names[i].json);
            parse_header(&h, sb_str(&hdr));
            /* a raw name first, then the copied object */
            cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
            for (k = 0; k < before; k++) {
                char name[16];
                snprintf(name, sizeof name, "m%u", k);
                cr_assert_eq(frame_builder_add_null(&b, name), FRAME_OK);
            }
            cr_assert_eq(frame_builder_add_rawn(&b, names[i].raw, names[i].raw_len, "0", 1), FRAME_OK);
            cr_expect_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_E_DUPLICATE_NAME,
                         "%s after its raw form, %u members before", names[i].json, before);
            /* the copied object first (into a fresh builder: no search), then
             * the raw name, by add_rawn and by add_value */
            cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
            cr_assert_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_OK);
            for (k = 0; k < before; k++) {
                char name[16];
                snprintf(name, sizeof name, "m%u", k);
                cr_assert_eq(frame_builder_add_null(&b, name), FRAME_OK);
            }
            cr_expect_eq(frame_builder_add_rawn(&b, names[i].raw, names[i].raw_len, "0", 1),
                         FRAME_E_DUPLICATE_NAME, "raw form of %s after it, %u members before", names[i].json,
                         before);
            cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
            for (k = 0; k < before; k++) {
                char name[16];
                snprintf(name, sizeof name, "m%u", k);
                cr_assert_eq(frame_builder_add_null(&b, name), FRAME_OK);
            }
            cr_assert_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_OK, "%u members before", before);
            cr_expect_eq(frame_builder_add_value(&b, names[i].raw, names[i].raw_len, &h.root),
                         FRAME_E_DUPLICATE_NAME, "add_value: %s", names[i].json);
            /* and once more, the object copied twice */
            cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
            cr_assert_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_OK);
            cr_expect_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_E_DUPLICATE_NAME);
            sb_free(&hdr);
        }
}

Test(builder, size_name_is_reserved_at_any_count)
{
    static unsigned char buf[16384];
    frame_builder b;
    frame_header h;
    frame_value v;
    unsigned n, k;
    parse_header(&h, "{\"size\":0,\"x\":1}");
    cr_assert_eq(frame_header_find(&h, "x", &v), FRAME_OK);
    for (n = 0; n < 300; n += 37) {
        char name[16];
        cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
        for (k = 0; k < n; k++) {
            snprintf(name, sizeof name, "s%u", k);
            cr_assert_eq(frame_builder_add_null(&b, name), FRAME_OK);
        }
        cr_expect_eq(frame_builder_add_rawn(&b, "size", 4, "1", 1), FRAME_E_RESERVED_NAME, "%u members", n);
        cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
        for (k = 0; k < n; k++) {
            snprintf(name, sizeof name, "s%u", k);
            cr_assert_eq(frame_builder_add_null(&b, name), FRAME_OK);
        }
        cr_expect_eq(frame_builder_add_value(&b, "size", 4, &v), FRAME_E_RESERVED_NAME, "%u members", n);
        cr_expect_eq(frame_builder_add_string(&b, "sizes", "x"), FRAME_E_RESERVED_NAME, "sticky");
        cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
        cr_expect_eq(frame_builder_add_string(&b, "siz", "x"), FRAME_OK);
        cr_expect_eq(frame_builder_add_string(&b, "sizes", "x"), FRAME_OK);
        cr_expect_eq(frame_builder_add_uint64(&b, "size", 1), FRAME_E_RESERVED_NAME);
    }
}

/* Runs the same adds into buf[0..cap): 40 members, then (dup) a duplicate
 * of member 20 or (!dup) a new name and finish. Returns the error of the
 * last step; *out / *len get the head when it is finished. */
static frame_errno table_run(unsigned char *buf, size_t cap, int dup, const void **out, size_t *len)
{
    frame_builder b;
    char name[48];
    frame_errno e = frame_builder_init(&b, NULL, buf, cap, 7);
    if (e)
        return e;
    add_dup_members(&b, 40);
    dup_name(name, sizeof name, dup ? 20 : 4000);
    e = frame_builder_add_string(&b, name, "last");
    if (e || dup)
        return e;
    return frame_builder_finish(&b, out, len);
}

Test(builder, without_room_for_the_name_table_the_results_are_the_same)
{
    /* Buffers from the exact length of the head up: the table does not fit,
     * then fits until some member crowds it out, then fits throughout. The
     * answers and the bytes are those of a big buffer every time. */
    static unsigned char big[65536], buf[65536], ref[65536];
    const void *out;
    size_t ref_len, len, cap;
    cr_assert_eq(table_run(big, sizeof big, 0, &out, &ref_len), FRAME_OK);
    memcpy(ref, out, ref_len);
    cr_assert_eq(table_run(big, sizeof big, 1, NULL, NULL), FRAME_E_DUPLICATE_NAME);
    cr_assert_eq(table_run(buf, ref_len - 1, 0, &out, &len), FRAME_E_BUFFER_TOO_SMALL, "one byte short");
    for (cap = ref_len; cap < ref_len + 2048; cap++) {
        frame_errno e = table_run(buf, cap, 0, &out, &len);
        cr_assert_eq(e, FRAME_OK, "cap %zu: %s", cap, frame_errname(e));
        cr_assert_eq(len, ref_len, "cap %zu", cap);
        cr_assert_arr_eq(out, ref, len, "cap %zu", cap);
        e = table_run(buf, cap, 1, NULL, NULL);
        cr_assert_eq(e, FRAME_E_DUPLICATE_NAME, "cap %zu: %s", cap, frame_errname(e));
    }
}

/* A one-buffer transport that keeps what it is given and counts its calls. */
typedef struct one_sink {
    sbuf out;
    int calls;
} one_sink;

static long one_write_sink(void *ctx, const void *data, size_t len)
{
    one_sink *s = ctx;
    sb_add(&s->out, data, len);
    s->calls++;
    return (long)len;
}

Test(builder, one_write_copies_the_body_over_the_name_table)
{
    /* After finish the tail of the buffer is free again: a body that fits
     * behind the head is copied there and goes out in the same call as the
     * head, after a header big enough for the table to have grown. */
    static unsigned char buf[8192], body[2048], copy[8192];
    frame_builder b;
    frame_encoder e;
    one_sink sent = {{0}, 0};
    const void *head;
    size_t head_len, i;
    for (i = 0; i < sizeof body; i++)
        body[i] = (unsigned char)(i * 7 + 1);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, sizeof body), FRAME_OK);
    add_dup_members(&b, 60);
    cr_assert_eq(frame_builder_finish(&b, &head, &head_len), FRAME_OK);
    cr_assert_leq(head_len + sizeof body, sizeof buf, "the body fits behind the head");
    memcpy(copy, head, head_len);
    cr_assert_eq(frame_encoder_init(&e, one_write_sink, &sent), FRAME_OK);
    cr_assert_eq(frame_write(&e, &b, body, sizeof body), FRAME_OK);
    cr_expect_eq(sent.calls, 1, "one call for head and body");
    cr_assert_eq(sent.out.len, head_len + sizeof body);
    cr_expect_arr_eq(sent.out.p, copy, head_len);
    cr_expect_arr_eq(sent.out.p + head_len, body, sizeof body);
    sb_free(&sent.out);
}

/* A copy of lib/builder.c's name hash (speed builds), so that the test
 * below can choose names that collide. Should the library's hash change,
 * that test still passes, but no longer reaches the case it is for. */
static uint32_t mirror_hash(const char *s)
{
    uint64_t h = 0, w = 0;
    size_t n = strlen(s), i;
    for (i = 0; i < n; i++) {
        w |= (uint64_t)(unsigned char)s[i] << (8 * (i & 7));
        if ((i & 7) == 7) {
            h = ((h ^ w) * 0x9e3779b97f4a7c15ull) ^ (h >> 29);
            w = 0;
        }
    }
    if (n & 7)
        h = ((h ^ w) * 0x9e3779b97f4a7c15ull) ^ (h >> 29);
    h = ((h ^ (uint64_t)n) * 0x9e3779b97f4a7c15ull) ^ (h >> 29);
    return (uint32_t)(h >> 33);
}

Test(builder, names_that_wrap_around_the_table_survive_its_growth)
{
    /* Three names whose slot is the last of the 32-slot table and stays
     * that in the 64-slot one: the second and third wrap around to the
     * first slots, and when the table grows (at the 25th member, the size
     * member included: more than three quarters full) they must be moved
     * past the first, which is still to be moved itself. 21 more names fill
     * slots of their own, none of the first four, the last three or the
     * size name's. Then every name is still a duplicate. */
    static unsigned char buf[8192];
    char names[24][16];
    unsigned found = 0, fill = 0, k, i, size_slot = mirror_hash("size") & 31;
    uint32_t taken = 1u << size_slot;
    frame_builder b;
    for (k = 0; found < 3 || fill < 21; k++) {
        char s[16];
        uint32_t h;
        snprintf(s, sizeof s, "w%u", k);
        h = mirror_hash(s);
        if ((h & 63) == 63 && found < 3) {
            memcpy(names[found++], s, sizeof s);
        } else if ((h & 31) > 3 && (h & 31) < 29 && !(taken >> (h & 31) & 1) && fill < 21) {
            taken |= 1u << (h & 31);
            memcpy(names[3 + fill++], s, sizeof s);
        }
    }
    for (i = 0; i < 24; i++) {
        cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
        for (k = 0; k < 24; k++)
            cr_assert_eq(frame_builder_add_uint64(&b, names[k], k), FRAME_OK, "%s", names[k]);
        cr_expect_eq(frame_builder_add_null(&b, names[i]), FRAME_E_DUPLICATE_NAME, "%s after the growth",
                     names[i]);
    }
}

Test(builder, strings_are_escaped_alike_at_every_offset_and_length)
{
    /* Every byte that stops a word-at-a-time copy ('"', '\\', controls,
     * UTF-8 of 2, 3 and 4 bytes, DEL which does not) at every offset of
     * names and values of 0 to 40 bytes, against the reference encoder;
     * and bad UTF-8 at every offset is refused. */
    static const char *const specials[] = {"\"", "\\", "\n", "\x01", "\x1f", "\x7f", " ",
                                           "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\x9f\xbf"};
    static unsigned char buf[4096];
    unsigned len, at, k;
    for (len = 0; len <= 40; len++)
        for (at = 0; at <= len; at++)
            for (k = 0; k < sizeof specials / sizeof specials[0]; k++) {
                char s[64];
                size_t n = 0, sl = strlen(specials[k]), hlen;
                sbuf want = {0};
                frame_builder b;
                const char *h;
                unsigned i;
                for (i = 0; i < len; i++) {
                    if (i == at) {
                        memcpy(s + n, specials[k], sl);
                        n += sl;
                    }
                    s[n++] = (char)('a' + i % 26);
                }
                if (at == len) {
                    memcpy(s + n, specials[k], sl);
                    n += sl;
                }
                s[n] = '\0';
                sb_adds(&want, "{\"size\":0,");
                canon_string(&want, s, n);
                sb_adds(&want, ":");
                canon_string(&want, s, n);
                sb_adds(&want, "}");
                cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
                cr_assert_eq(frame_builder_add_stringn(&b, s, s, n), FRAME_OK, "len %u at %u special %u", len,
                             at, k);
                h = finish_header(&b, NULL, &hlen);
                cr_assert_eq(hlen, want.len, "len %u at %u special %u: %.*s", len, at, k, (int)hlen, h);
                cr_assert_arr_eq(h, want.p, hlen, "len %u at %u special %u: %.*s", len, at, k, (int)hlen, h);
                sb_free(&want);
                /* a lone continuation byte, or a lead byte cut short */
                s[at] = (char)(at & 1 ? 0x80 : 0xe2);
                cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
                cr_assert_eq(frame_builder_add_stringn(&b, "v", s, at + 1), FRAME_E_BAD_UTF8, "value, len %u at %u",
                             len, at);
                cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
                s[at + 1] = '\0';
                cr_assert_eq(frame_builder_add_null(&b, s), FRAME_E_BAD_UTF8, "name, len %u at %u", len, at);
            }
}

Test(builder, bad_utf8_sequences_are_refused_at_every_offset)
{
    /* Continuation bytes missing or out of range, overlongs, surrogates,
     * above U+10FFFF: in names and values, from a word's start to past it. */
    static const char *const bad[] = {"\xe2\x28\xa1", "\xe1\x80\x28", "\xc3\x28", "\xed\xa0\x80", "\xe0\x80\x80",
                                      "\xf4\x90\x80\x80", "\xc0\xaf", "\xef\xbf", "\xf0\x9f\x98"};
    static unsigned char buf[1024];
    unsigned at, k;
    for (at = 0; at < 18; at++)
        for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            char s[64];
            size_t n = strlen(bad[k]);
            frame_builder b;
            memset(s, 'x', at);
            memcpy(s + at, bad[k], n);
            memcpy(s + at + n, "yz", 3);
            cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
            cr_expect_eq(frame_builder_add_string(&b, "v", s), FRAME_E_BAD_UTF8, "value: %u at %u", k, at);
            cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
            cr_expect_eq(frame_builder_add_bool(&b, s, 1), FRAME_E_BAD_UTF8, "name: %u at %u", k, at);
        }
}
