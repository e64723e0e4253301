/* Reading headers: frame_header_parse, frame_value_* and frame_header_get_*. */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

/* Parses NUL-terminated header text with the defaults, asserting success. */
static frame_header parse_ok(const char *json)
{
    frame_header h;
    size_t pos = 777;
    frame_errno e = frame_header_parse(&h, NULL, json, strlen(json), &pos);
    cr_assert_eq(e, FRAME_OK, "%s at %zu parsing %s", frame_errname(e), pos, json);
    return h;
}

/* Parses and checks the error and its position. */
static void parse_err(const frame_config *cfg, const char *json, size_t len, frame_errno want,
                      size_t want_pos)
{
    frame_header h;
    size_t pos = 777;
    frame_errno e = frame_header_parse(&h, cfg, json, len, &pos);
    cr_expect_eq(e, want, "got %s at %zu, want %s at %zu: %.*s", frame_errname(e), pos,
                 frame_errname(want), want_pos, (int)len, json);
    cr_expect_eq(pos, want_pos, "%s position: %.*s", frame_errname(want), (int)len, json);
}

static frame_value member(const frame_header *h, const char *name)
{
    frame_value v;
    frame_errno e = frame_header_find(h, name, &v);
    cr_assert_eq(e, FRAME_OK, "find %s: %s", name, frame_errname(e));
    return v;
}

/* ---- frame_header_parse ------------------------------------------------- */

Test(header, parse_gives_root_view_and_body_size)
{
    const char *j = "{\"size\":5,\"a\":1}";
    frame_header h = parse_ok(j);
    cr_expect_eq(h.body_size, 5u);
    cr_expect_eq(h.root.type, FRAME_TYPE_OBJECT);
    cr_expect_eq(h.root.json, j);
    cr_expect_eq(h.root.len, strlen(j));
}

Test(header, root_view_excludes_surrounding_white_space)
{
    const char *j = " \t\r\n{\"size\":0}\n\n ";
    frame_header h = parse_ok(j);
    cr_expect_eq(h.root.json, j + 4);
    cr_expect_eq(h.root.len, 10u);
}

Test(header, size_member_may_come_anywhere_and_nested_sizes_are_data)
{
    frame_header h = parse_ok("{\"a\":{\"size\":\"no\"},\"b\":[{\"size\":-1}],\"size\":42}");
    cr_expect_eq(h.body_size, 42u);
}

Test(header, custom_size_name)
{
    frame_config c;
    frame_header h;
    const char *j = "{\"size\":\"text\",\"file_size\":9}";
    memset(&c, 0, sizeof c);
    c.size_name = "file_size";
    cr_assert_eq(frame_header_parse(&h, &c, j, strlen(j), NULL), FRAME_OK);
    cr_expect_eq(h.body_size, 9u);
    parse_err(&c, "{\"size\":1}", 10, FRAME_E_SIZE_MISSING, 10);
}

Test(header, size_name_matches_after_unescaping)
{
    frame_header h = parse_ok("{\"\\u0073ize\":3}");
    cr_expect_eq(h.body_size, 3u);
}

Test(header, size_limits)
{
    frame_config c;
    frame_header h;
    memset(&c, 0, sizeof c);
    c.max_body = 10;
    cr_expect_eq(frame_header_parse(&h, &c, "{\"size\":10}", 11, NULL), FRAME_OK);
    parse_err(&c, "{\"size\":11}", 11, FRAME_E_BODY_TOO_LARGE, 8);
    h = parse_ok("{\"size\":9007199254740991}");
    cr_expect_eq(h.body_size, FRAME_MAX_BODY_LIMIT);
    parse_err(NULL, "{\"size\":9007199254740992}", 25, FRAME_E_BODY_TOO_LARGE, 8);
    parse_err(NULL, "{\"size\":123456789012345678901234567890}", 39, FRAME_E_BODY_TOO_LARGE, 8);
}

Test(header, size_must_be_plain_digits)
{
    parse_err(NULL, "{\"size\":-1}", 11, FRAME_E_SIZE_INVALID, 8);
    parse_err(NULL, "{\"size\":\"1\"}", 12, FRAME_E_SIZE_INVALID, 8);
    parse_err(NULL, "{\"size\":1.0}", 12, FRAME_E_SIZE_INVALID, 8);
    parse_err(NULL, "{\"size\":1e3}", 12, FRAME_E_SIZE_INVALID, 8);
    parse_err(NULL, "{\"size\":true}", 13, FRAME_E_SIZE_INVALID, 8);
    parse_err(NULL, "{\"size\":null}", 13, FRAME_E_SIZE_INVALID, 8);
    parse_err(NULL, "{\"size\":[1]}", 12, FRAME_E_SIZE_INVALID, 8);
    parse_err(NULL, "{\"size\": 01}", 12, FRAME_E_JSON_SYNTAX, 10);
    parse_err(NULL, "{\"size\":+1}", 11, FRAME_E_JSON_SYNTAX, 8);
}

Test(header, size_missing_reports_the_end)
{
    parse_err(NULL, "{\"a\":1} ", 8, FRAME_E_SIZE_MISSING, 8);
    parse_err(NULL, "{}", 2, FRAME_E_SIZE_MISSING, 2);
}

Test(header, syntax_errors_and_their_positions)
{
    parse_err(NULL, "{\"size\":0,}", 11, FRAME_E_JSON_SYNTAX, 10);
    parse_err(NULL, "{\"size\":0,\"a\":[1,]}", 19, FRAME_E_JSON_SYNTAX, 17);
    parse_err(NULL, "{\"size\":0,\"a\":\"\\x\"}", 19, FRAME_E_JSON_SYNTAX, 16);
    parse_err(NULL, "{\"size\":0,\"a\":\"\\u12g4\"}", 23, FRAME_E_JSON_SYNTAX, 19);
    parse_err(NULL, "{\"size\":0,\"a\":\"\x01\"}", 18, FRAME_E_JSON_SYNTAX, 15);
    parse_err(NULL, "{\"size\":0} x", 12, FRAME_E_JSON_SYNTAX, 11);
    parse_err(NULL, "{\"size\":0", 9, FRAME_E_JSON_SYNTAX, 9);
    parse_err(NULL, "   ", 3, FRAME_E_JSON_SYNTAX, 3);
    parse_err(NULL, "{\"size\":0,\xc3\xa9:1}", 15, FRAME_E_JSON_SYNTAX, 10);
    parse_err(NULL, "{\"size\":0,\"a\":tru}", 18, FRAME_E_JSON_SYNTAX, 17);
}

Test(header, top_level_must_be_an_object)
{
    parse_err(NULL, "[1]", 3, FRAME_E_NOT_OBJECT, 0);
    parse_err(NULL, "  \"s\"", 5, FRAME_E_NOT_OBJECT, 2);
    parse_err(NULL, "12", 2, FRAME_E_NOT_OBJECT, 0);
    parse_err(NULL, "-1", 2, FRAME_E_NOT_OBJECT, 0);
    parse_err(NULL, "true", 4, FRAME_E_NOT_OBJECT, 0);
    parse_err(NULL, "null", 4, FRAME_E_NOT_OBJECT, 0);
    parse_err(NULL, "x", 1, FRAME_E_JSON_SYNTAX, 0);
}

Test(header, bom_is_refused)
{
    parse_err(NULL, "\xef\xbb\xbf{\"size\":0}", 13, FRAME_E_BOM, 0);
}

Test(header, utf8_is_checked_inside_strings)
{
    /* overlong, surrogate, above U+10FFFF, stray continuation, cut short */
    parse_err(NULL, "{\"size\":0,\"a\":\"\xc0\x80\"}", 19, FRAME_E_BAD_UTF8, 15);
    parse_err(NULL, "{\"size\":0,\"a\":\"\xed\xa0\x80\"}", 20, FRAME_E_BAD_UTF8, 15);
    parse_err(NULL, "{\"size\":0,\"a\":\"\xf4\x90\x80\x80\"}", 21, FRAME_E_BAD_UTF8, 15);
    parse_err(NULL, "{\"size\":0,\"a\":\"x\x80\"}", 19, FRAME_E_BAD_UTF8, 16);
    parse_err(NULL, "{\"size\":0,\"a\":\"\xe2\x82\"}", 19, FRAME_E_BAD_UTF8, 15);
    parse_err(NULL, "{\"size\":0,\"\xff\":1}", 16, FRAME_E_BAD_UTF8, 11);
}

Test(header, noncharacters_are_accepted)
{
    frame_header h = parse_ok("{\"size\":0,\"a\":\"\xef\xbf\xbe\xef\xb7\x90\xf4\x8f\xbf\xbf\"}");
    cr_expect_eq(h.body_size, 0u);
}

Test(header, lone_surrogates_are_refused)
{
    parse_err(NULL, "{\"size\":0,\"a\":\"\\ud800\"}", 23, FRAME_E_LONE_SURROGATE, 15);
    parse_err(NULL, "{\"size\":0,\"a\":\"x\\udc00\"}", 24, FRAME_E_LONE_SURROGATE, 16);
    parse_err(NULL, "{\"size\":0,\"a\":\"\\ud800\\u0041\"}", 29, FRAME_E_LONE_SURROGATE, 15);
    parse_err(NULL, "{\"size\":0,\"a\":\"\\ud800\\ud800\"}", 29, FRAME_E_LONE_SURROGATE, 15);
}

Test(header, duplicate_names_in_any_object)
{
    parse_err(NULL, "{\"size\":0,\"a\":1,\"a\":2}", 22, FRAME_E_DUPLICATE_NAME, 16);
    parse_err(NULL, "{\"size\":0,\"a\":1,\"\\u0061\":2}", 27, FRAME_E_DUPLICATE_NAME, 16);
    parse_err(NULL, "{\"size\":0,\"o\":{\"x\":1,\"x\":1}}", 28, FRAME_E_DUPLICATE_NAME, 21);
    parse_err(NULL, "{\"size\":0,\"size\":0}", 19, FRAME_E_DUPLICATE_NAME, 10);
    parse_ok("{\"size\":0,\"o\":{\"a\":1},\"p\":{\"a\":1},\"a\":[{\"a\":1},{\"a\":2}]}");
}

/* {"size":0,"a": then `levels` arrays, then closing. */
static void nested(sbuf *s, unsigned levels)
{
    unsigned i;
    sb_adds(s, "{\"size\":0,\"a\":");
    for (i = 0; i < levels; i++)
        sb_adds(s, "[");
    for (i = 0; i < levels; i++)
        sb_adds(s, "]");
    sb_adds(s, "}");
}

Test(header, depth_limit_is_32_including_the_header)
{
    sbuf s = {0};
    frame_header h;
    nested(&s, FRAME_MAX_DEPTH - 1);
    cr_expect_eq(frame_header_parse(&h, NULL, s.p, s.len, NULL), FRAME_OK);
    sb_free(&s);
    nested(&s, FRAME_MAX_DEPTH);
    /* the first '[' is at 14 and opens level 2; the one opening level 33 */
    parse_err(NULL, s.p, s.len, FRAME_E_TOO_DEEP, 14 + FRAME_MAX_DEPTH - 1);
    sb_free(&s);
}

/* {"size":0,"o":{...}} with n - 1 members inside "o": n + 1 members in all. */
static void members(sbuf *s, unsigned n)
{
    unsigned i;
    sb_adds(s, "{\"size\":0,\"o\":{");
    for (i = 0; i + 1 < n; i++)
        sb_printf(s, "%s\"m%u\":%u", i ? "," : "", i, i);
    sb_adds(s, "}}");
}

Test(header, member_limit_is_512_counting_nested_objects)
{
    sbuf s = {0}, arr = {0};
    frame_header h;
    unsigned i;
    const char *p;
    members(&s, FRAME_MAX_MEMBERS - 1); /* size + o + 510 = 512 */
    cr_expect_eq(frame_header_parse(&h, NULL, s.p, s.len, NULL), FRAME_OK);
    sb_free(&s);
    members(&s, FRAME_MAX_MEMBERS); /* 513 */
    p = strstr(s.p, "\"m510\"");
    cr_assert_not_null(p);
    parse_err(NULL, s.p, s.len, FRAME_E_TOO_MANY_MEMBERS, (size_t)(p - s.p));
    sb_free(&s);
    /* array elements are not members */
    sb_adds(&arr, "{\"size\":0,\"a\":[");
    for (i = 0; i < 3000; i++)
        sb_printf(&arr, "%s%u", i ? "," : "", i);
    sb_adds(&arr, "]}");
    cr_expect_eq(frame_header_parse(&h, NULL, arr.p, arr.len, NULL), FRAME_OK);
    sb_free(&arr);
}

Test(header, err_pos_may_be_null)
{
    frame_header h;
    cr_expect_eq(frame_header_parse(&h, NULL, "[", 1, NULL), FRAME_E_NOT_OBJECT);
}

/* Offsets within a header are 32-bit: a text over 4 GiB is refused at
 * offset 0 before a byte of it is read (big_reserve: a read would crash the
 * test). */
Test(header, text_over_4_gib_is_refused_unread)
{
    frame_header h;
    size_t pos = 777, len = (size_t)UINT32_MAX + 2;
    void *m;
    if (SIZE_MAX <= UINT32_MAX)
        cr_skip_test("size_t is 32-bit: no text can be that long");
    m = big_reserve(len);
    cr_assert(m != NULL, "cannot reserve %zu bytes of address space", len);
    cr_expect_eq(frame_header_parse(&h, NULL, m, len, &pos), FRAME_E_HEADER_TOO_LARGE);
    cr_expect_eq(pos, 0);
    cr_expect_eq(frame_header_parse(&h, NULL, m, len - 1, &pos), FRAME_E_HEADER_TOO_LARGE);
    big_free(m, len);
}

/* ---- find and next ------------------------------------------------------ */

Test(header, find_returns_values_of_every_type)
{
    frame_header h = parse_ok("{\"size\":1,\"s\":\"str\",\"n\":-2.5e3,\"t\":true,\"f\":false,"
                              "\"z\":null,\"o\":{\"k\":[1]},\"a\":[1,[2],{}]}");
    frame_value v;
    v = member(&h, "s");
    cr_expect_eq(v.type, FRAME_TYPE_STRING);
    cr_expect_eq(v.len, 5u);
    cr_expect_arr_eq(v.json, "\"str\"", 5);
    v = member(&h, "n");
    cr_expect_eq(v.type, FRAME_TYPE_NUMBER);
    cr_expect_arr_eq(v.json, "-2.5e3", 6);
    cr_expect_eq(v.len, 6u);
    v = member(&h, "t");
    cr_expect_eq(v.type, FRAME_TYPE_BOOL);
    cr_expect_eq(v.len, 4u);
    v = member(&h, "f");
    cr_expect_eq(v.type, FRAME_TYPE_BOOL);
    cr_expect_eq(v.len, 5u);
    v = member(&h, "z");
    cr_expect_eq(v.type, FRAME_TYPE_NULL);
    v = member(&h, "o");
    cr_expect_eq(v.type, FRAME_TYPE_OBJECT);
    cr_expect_eq(v.len, 9u);
    cr_expect_arr_eq(v.json, "{\"k\":[1]}", 9);
    v = member(&h, "a");
    cr_expect_eq(v.type, FRAME_TYPE_ARRAY);
    cr_expect_arr_eq(v.json, "[1,[2],{}]", 10);
    v = member(&h, "size");
    cr_expect_eq(v.type, FRAME_TYPE_NUMBER);
}

Test(header, find_reports_missing_and_non_objects)
{
    frame_header h = parse_ok("{\"size\":1,\"o\":{\"inner\":1},\"a\":[1]}");
    frame_value v, a;
    cr_expect_eq(frame_header_find(&h, "inner", &v), FRAME_E_NOT_FOUND, "top level only");
    cr_expect_eq(frame_header_find(&h, "", &v), FRAME_E_NOT_FOUND);
    cr_expect_eq(frame_header_find(&h, "siz", &v), FRAME_E_NOT_FOUND);
    cr_expect_eq(frame_header_find(&h, "sizes", &v), FRAME_E_NOT_FOUND);
    a = member(&h, "a");
    cr_expect_eq(frame_value_find(&a, "x", &v), FRAME_E_TYPE);
    v = member(&h, "size");
    cr_expect_eq(frame_value_find(&v, "x", &a), FRAME_E_TYPE);
    a = member(&h, "o");
    cr_expect_eq(frame_value_find(&a, "inner", &v), FRAME_OK);
    cr_expect_arr_eq(v.json, "1", 1);
}

Test(header, find_compares_names_after_unescaping)
{
    frame_header h = parse_ok("{\"size\":0,\"a\\\"b\":1,\"caf\\u00e9\":2,\"\\ud83d\\ude00\":3,"
                              "\"t\\tab\":4,\"sl\\/\":5}");
    int64_t n;
    cr_expect_eq(frame_header_get_int64(&h, "a\"b", &n), FRAME_OK);
    cr_expect_eq(n, 1);
    cr_expect_eq(frame_header_get_int64(&h, "caf\xc3\xa9", &n), FRAME_OK);
    cr_expect_eq(n, 2);
    cr_expect_eq(frame_header_get_int64(&h, "\xf0\x9f\x98\x80", &n), FRAME_OK);
    cr_expect_eq(n, 3);
    cr_expect_eq(frame_header_get_int64(&h, "t\tab", &n), FRAME_OK);
    cr_expect_eq(n, 4);
    cr_expect_eq(frame_header_get_int64(&h, "sl/", &n), FRAME_OK);
    cr_expect_eq(n, 5);
    cr_expect_eq(frame_header_get_int64(&h, "caf\\u00e9", &n), FRAME_E_NOT_FOUND);
}

Test(header, next_iterates_object_members_in_order)
{
    const char *j = "{ \"size\" : 0 , \"b\\n\" : [ 1 , 2 ] , \"c\" : { \"d\" : null } , \"e\":\"x\" }";
    frame_header h = parse_ok(j);
    size_t c = 0, n;
    frame_member m;
    static const char *const names[] = {"\"size\"", "\"b\\n\"", "\"c\"", "\"e\""};
    static const char *const values[] = {"0", "[ 1 , 2 ]", "{ \"d\" : null }", "\"x\""};
    static const frame_type types[] = {FRAME_TYPE_NUMBER, FRAME_TYPE_ARRAY, FRAME_TYPE_OBJECT,
                                       FRAME_TYPE_STRING};
    for (n = 0; frame_value_next(&h.root, &c, &m); n++) {
        cr_assert_lt(n, 4u);
        cr_expect_eq(m.name.type, FRAME_TYPE_STRING);
        cr_expect_eq(m.name.len, strlen(names[n]), "name %zu", n);
        cr_expect_arr_eq(m.name.json, names[n], strlen(names[n]));
        cr_expect_eq(m.value.type, types[n]);
        cr_expect_eq(m.value.len, strlen(values[n]), "value %zu", n);
        cr_expect_arr_eq(m.value.json, values[n], strlen(values[n]));
    }
    cr_expect_eq(n, 4u);
    cr_expect_eq(frame_value_next(&h.root, &c, &m), 0, "stays at the end");
}

Test(header, next_iterates_array_elements_with_empty_names)
{
    frame_header h = parse_ok("{\"size\":0,\"a\":[ true,\"s\" , [[]], {\"x\":[1,2]}, -0.5 ,null]}");
    frame_value a = member(&h, "a");
    size_t c = 0, n = 0;
    frame_member m;
    static const frame_type types[] = {FRAME_TYPE_BOOL,   FRAME_TYPE_STRING, FRAME_TYPE_ARRAY,
                                       FRAME_TYPE_OBJECT, FRAME_TYPE_NUMBER, FRAME_TYPE_NULL};
    static const char *const values[] = {"true", "\"s\"", "[[]]", "{\"x\":[1,2]}", "-0.5", "null"};
    while (frame_value_next(&a, &c, &m)) {
        cr_assert_lt(n, 6u);
        cr_expect_eq(m.name.len, 0u);
        cr_expect_eq(m.value.type, types[n]);
        cr_expect_eq(m.value.len, strlen(values[n]));
        cr_expect_arr_eq(m.value.json, values[n], strlen(values[n]));
        n++;
    }
    cr_expect_eq(n, 6u);
}

Test(header, next_walks_nested_containers)
{
    frame_header h = parse_ok("{\"size\":0,\"o\":{\"a\":[{\"b\":[[\"deep\"]]}]}}");
    frame_value v = member(&h, "o");
    size_t c;
    frame_member m;
    c = 0;
    cr_assert(frame_value_next(&v, &c, &m));
    cr_expect_arr_eq(m.name.json, "\"a\"", 3);
    v = m.value;
    c = 0;
    cr_assert(frame_value_next(&v, &c, &m));
    cr_expect_eq(m.value.type, FRAME_TYPE_OBJECT);
    cr_expect_not(frame_value_next(&v, &c, &(frame_member){{0, 0, 0}, {0, 0, 0}}));
    {
        frame_value obj = m.value;
        cr_expect_eq(frame_value_find(&obj, "b", &v), FRAME_OK);
    }
    c = 0;
    cr_assert(frame_value_next(&v, &c, &m));
    v = m.value;
    c = 0;
    cr_assert(frame_value_next(&v, &c, &m));
    cr_expect(frame_value_string_equals(&m.value, "deep", 4));
}

Test(header, next_on_empty_containers_and_scalars_ends_at_once)
{
    frame_header h = parse_ok("{\"size\":0,\"o\":{ },\"a\":[ ],\"s\":\"x\",\"n\":1}");
    static const char *const names[] = {"o", "a", "s", "n"};
    size_t i;
    for (i = 0; i < 4; i++) {
        frame_value v = member(&h, names[i]);
        size_t c = 0;
        frame_member m;
        cr_expect_eq(frame_value_next(&v, &c, &m), 0, "%s", names[i]);
    }
}

/* ---- numbers ------------------------------------------------------------ */

static frame_value num(frame_header *h, sbuf *s, const char *text)
{
    s->len = 0;
    sb_printf(s, "{\"size\":0,\"v\":%s}", text);
    *h = parse_ok(s->p);
    return member(h, "v");
}

Test(header, int64_boundaries)
{
    sbuf s = {0};
    frame_header h;
    frame_value v;
    int64_t n = 5;
    v = num(&h, &s, "9223372036854775807");
    cr_expect_eq(frame_value_int64(&v, &n), FRAME_OK);
    cr_expect_eq(n, INT64_MAX);
    v = num(&h, &s, "-9223372036854775808");
    cr_expect_eq(frame_value_int64(&v, &n), FRAME_OK);
    cr_expect_eq(n, INT64_MIN);
    v = num(&h, &s, "9223372036854775808");
    cr_expect_eq(frame_value_int64(&v, &n), FRAME_E_RANGE);
    v = num(&h, &s, "-9223372036854775809");
    cr_expect_eq(frame_value_int64(&v, &n), FRAME_E_RANGE);
    v = num(&h, &s, "100000000000000000000000000000");
    cr_expect_eq(frame_value_int64(&v, &n), FRAME_E_RANGE);
    v = num(&h, &s, "0");
    cr_expect_eq(frame_value_int64(&v, &n), FRAME_OK);
    cr_expect_eq(n, 0);
    v = num(&h, &s, "-0");
    cr_expect_eq(frame_value_int64(&v, &n), FRAME_OK);
    cr_expect_eq(n, 0);
    v = num(&h, &s, "-42");
    cr_expect_eq(frame_value_int64(&v, &n), FRAME_OK);
    cr_expect_eq(n, -42);
    sb_free(&s);
}

Test(header, uint64_boundaries)
{
    sbuf s = {0};
    frame_header h;
    frame_value v;
    uint64_t n = 5;
    v = num(&h, &s, "18446744073709551615");
    cr_expect_eq(frame_value_uint64(&v, &n), FRAME_OK);
    cr_expect_eq(n, UINT64_MAX);
    v = num(&h, &s, "18446744073709551616");
    cr_expect_eq(frame_value_uint64(&v, &n), FRAME_E_RANGE);
    v = num(&h, &s, "99999999999999999999");
    cr_expect_eq(frame_value_uint64(&v, &n), FRAME_E_RANGE);
    v = num(&h, &s, "-1");
    cr_expect_eq(frame_value_uint64(&v, &n), FRAME_E_RANGE);
    v = num(&h, &s, "0");
    cr_expect_eq(frame_value_uint64(&v, &n), FRAME_OK);
    cr_expect_eq(n, 0u);
    sb_free(&s);
}

Test(header, fractions_exponents_and_non_numbers_are_type_errors)
{
    static const char *const bad[] = {"1.0", "1e2", "1E+2", "-0.5", "10e-1", "\"1\"", "true",
                                      "null", "[1]", "{}"};
    sbuf s = {0};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame_header h;
        frame_value v = num(&h, &s, bad[i]);
        int64_t a;
        uint64_t b;
        cr_expect_eq(frame_value_int64(&v, &a), FRAME_E_TYPE, "int64 of %s", bad[i]);
        cr_expect_eq(frame_value_uint64(&v, &b), FRAME_E_TYPE, "uint64 of %s", bad[i]);
    }
    sb_free(&s);
}

Test(header, bool_and_null)
{
    frame_header h = parse_ok("{\"size\":0,\"t\":true,\"f\":false,\"z\":null,\"n\":1,\"s\":\"true\"}");
    frame_value v;
    int b = 7;
    v = member(&h, "t");
    cr_expect_eq(frame_value_bool(&v, &b), FRAME_OK);
    cr_expect_eq(b, 1);
    cr_expect_eq(frame_value_is_null(&v), 0);
    v = member(&h, "f");
    cr_expect_eq(frame_value_bool(&v, &b), FRAME_OK);
    cr_expect_eq(b, 0);
    v = member(&h, "z");
    cr_expect_eq(frame_value_bool(&v, &b), FRAME_E_TYPE);
    cr_expect_eq(frame_value_is_null(&v), 1);
    v = member(&h, "n");
    cr_expect_eq(frame_value_bool(&v, &b), FRAME_E_TYPE);
    cr_expect_eq(frame_value_is_null(&v), 0);
    v = member(&h, "s");
    cr_expect_eq(frame_value_bool(&v, &b), FRAME_E_TYPE);
    cr_expect_eq(frame_value_is_null(&v), 0);
}

/* ---- strings ------------------------------------------------------------ */

static void check_string(const char *json_string, const char *want, size_t want_len)
{
    sbuf s = {0};
    frame_header h;
    frame_value v;
    char buf[128];
    size_t len = 999;
    sb_printf(&s, "{\"size\":0,\"v\":%s}", json_string);
    h = parse_ok(s.p);
    v = member(&h, "v");
    cr_assert_eq(frame_value_string(&v, buf, sizeof buf, &len), FRAME_OK, "%s", json_string);
    cr_expect_eq(len, want_len, "length of %s", json_string);
    cr_expect_arr_eq(buf, want, want_len, "bytes of %s", json_string);
    cr_expect_eq(buf[want_len], '\0', "NUL after %s", json_string);
    cr_expect(frame_value_string_equals(&v, want, want_len), "equals %s", json_string);
    sb_free(&s);
}

Test(header, string_unescaping_into_utf8)
{
    check_string("\"\"", "", 0);
    check_string("\"plain\"", "plain", 5);
    check_string("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
    check_string("\"\\u0041\\u00e9\\u00E9\"", "A\xc3\xa9\xc3\xa9", 5);
    check_string("\"\\u20ac\\u0800\\u07ff\\u0080\\u007f\"", "\xe2\x82\xac\xe0\xa0\x80\xdf\xbf\xc2\x80\x7f", 11);
    check_string("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
    check_string("\"\\uD800\\uDC00\\uDBFF\\uDFFF\"", "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8);
    check_string("\"a\\u0000b\"", "a\0b", 3);
    check_string("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "caf\xc3\xa9 \xf0\x9f\x98\x80", 10);
    check_string("\"\\uffff\\ufdd0\"", "\xef\xbf\xbf\xef\xb7\x90", 6);
}

Test(header, string_buffer_too_small_reports_the_size_needed)
{
    frame_header h = parse_ok("{\"size\":0,\"v\":\"caf\\u00e9\"}");
    frame_value v = member(&h, "v");
    char buf[8];
    size_t len = 0;
    memset(buf, 0x55, sizeof buf);
    cr_expect_eq(frame_value_string(&v, buf, 5, &len), FRAME_E_BUFFER_TOO_SMALL);
    cr_expect_eq(len, 5u);
    for (size_t i = 0; i < sizeof buf; i++)
        cr_expect_eq((unsigned char)buf[i], 0x55u, "buf untouched at %zu", i);
    len = 0;
    cr_expect_eq(frame_value_string(&v, NULL, 0, &len), FRAME_E_BUFFER_TOO_SMALL);
    cr_expect_eq(len, 5u);
    cr_expect_eq(frame_value_string(&v, buf, 6, &len), FRAME_OK);
    cr_expect_eq(len, 5u);
    cr_expect_str_eq(buf, "caf\xc3\xa9");
}

Test(header, string_of_a_non_string_is_a_type_error)
{
    frame_header h = parse_ok("{\"size\":0,\"n\":1,\"a\":[\"x\"]}");
    frame_value v = member(&h, "n");
    char buf[8];
    size_t len;
    cr_expect_eq(frame_value_string(&v, buf, sizeof buf, &len), FRAME_E_TYPE);
    cr_expect_eq(frame_value_string_equals(&v, "1", 1), 0);
    v = member(&h, "a");
    cr_expect_eq(frame_value_string(&v, buf, sizeof buf, &len), FRAME_E_TYPE);
}

Test(header, string_equals_is_exact)
{
    frame_header h = parse_ok("{\"size\":0,\"v\":\"a\\u0000b\\n\\u00e9\"}");
    frame_value v = member(&h, "v");
    cr_expect(frame_value_string_equals(&v, "a\0b\n\xc3\xa9", 6));
    cr_expect_not(frame_value_string_equals(&v, "a\0b\n\xc3", 5), "prefix");
    cr_expect_not(frame_value_string_equals(&v, "a\0b\n\xc3\xa9x", 7), "longer");
    cr_expect_not(frame_value_string_equals(&v, "a\0b\n\xc3\xa8", 6), "last byte");
    cr_expect_not(frame_value_string_equals(&v, "a", 1));
    cr_expect_not(frame_value_string_equals(&v, "", 0));
    h = parse_ok("{\"size\":0,\"v\":\"\"}");
    v = member(&h, "v");
    cr_expect(frame_value_string_equals(&v, "", 0));
    cr_expect_not(frame_value_string_equals(&v, "\0", 1));
}

Test(header, member_names_are_escaped_string_views)
{
    frame_header h = parse_ok("{\"size\":0,\"\\u00e9t\\u00e9\":1}");
    size_t c = 0;
    frame_member m;
    char buf[16];
    size_t len;
    cr_assert(frame_value_next(&h.root, &c, &m));
    cr_assert(frame_value_next(&h.root, &c, &m));
    cr_expect_eq(m.name.type, FRAME_TYPE_STRING);
    cr_expect_eq(m.name.len, 15u);
    cr_expect_eq(frame_value_string(&m.name, buf, sizeof buf, &len), FRAME_OK);
    cr_expect_eq(len, 5u);
    cr_expect_str_eq(buf, "\xc3\xa9t\xc3\xa9");
}

/* ---- shorthands ------------------------------------------------------------ */

Test(header, get_shorthands_read_top_level_members)
{
    frame_header h = parse_ok("{\"size\":77,\"i\":-5,\"u\":18446744073709551615,\"b\":true,"
                              "\"s\":\"hi\\n\",\"f\":1.5}");
    int64_t i;
    uint64_t u;
    int b;
    char buf[8];
    size_t len;
    frame_value v;
    cr_expect_eq(frame_header_get_uint64(&h, "size", &u), FRAME_OK);
    cr_expect_eq(u, h.body_size);
    cr_expect_eq(frame_header_get_int64(&h, "i", &i), FRAME_OK);
    cr_expect_eq(i, -5);
    cr_expect_eq(frame_header_get_uint64(&h, "u", &u), FRAME_OK);
    cr_expect_eq(u, UINT64_MAX);
    cr_expect_eq(frame_header_get_int64(&h, "u", &i), FRAME_E_RANGE);
    cr_expect_eq(frame_header_get_uint64(&h, "i", &u), FRAME_E_RANGE);
    cr_expect_eq(frame_header_get_bool(&h, "b", &b), FRAME_OK);
    cr_expect_eq(b, 1);
    cr_expect_eq(frame_header_get_string(&h, "s", buf, sizeof buf, &len), FRAME_OK);
    cr_expect_eq(len, 3u);
    cr_expect_str_eq(buf, "hi\n");
    cr_expect_eq(frame_header_get_string(&h, "s", buf, 3, &len), FRAME_E_BUFFER_TOO_SMALL);
    cr_expect_eq(len, 3u);
    cr_expect_eq(frame_header_get_int64(&h, "f", &i), FRAME_E_TYPE);
    cr_expect_eq(frame_header_get_bool(&h, "s", &b), FRAME_E_TYPE);
    cr_expect_eq(frame_header_get_string(&h, "b", buf, sizeof buf, &len), FRAME_E_TYPE);
    cr_expect_eq(frame_header_get_int64(&h, "nope", &i), FRAME_E_NOT_FOUND);
    cr_expect_eq(frame_header_get_uint64(&h, "nope", &u), FRAME_E_NOT_FOUND);
    cr_expect_eq(frame_header_get_bool(&h, "nope", &b), FRAME_E_NOT_FOUND);
    cr_expect_eq(frame_header_get_string(&h, "nope", buf, sizeof buf, &len), FRAME_E_NOT_FOUND);
    cr_expect_eq(frame_header_find(&h, "nope", &v), FRAME_E_NOT_FOUND);
    cr_expect_eq(frame_header_find(&h, "b", &v), FRAME_OK);
    cr_expect_eq(v.type, FRAME_TYPE_BOOL);
}
