/*
 * Compact headers: speed builds read the top-level members of a header
 * written without white space (plain names, plain strings, integers) in a
 * fast lane, and hand anything else to the general walk, which goes on
 * from where the lane stopped. These tests hold the lane to the general
 * walk's verdicts: every header is also checked with a space after it,
 * which the lane never takes (it runs only when a header's last byte is
 * its closing brace), and both must agree on the error, its position (one
 * byte later with the space for an error at the end of the text) and the
 * body size.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

/* Parses json as is and with a space after it; both must agree, and the
 * first must say `want` (at the first occurrence of the text want_at, or
 * with body size `size` when want is FRAME_OK). */
static void agree(const frame_config *cfg, const char *json, frame_errno want, const char *want_at,
                  uint64_t size)
{
    char spaced[512];
    size_t len = strlen(json), pos = 777, spaced_pos = 777;
    frame_header h, hs;
    frame_errno e, es;
    cr_assert_lt(len + 1, sizeof spaced);
    memcpy(spaced, json, len);
    spaced[len] = ' ';
    memset(&h, 0, sizeof h);
    memset(&hs, 0, sizeof hs);
    e = frame_header_parse(&h, cfg, json, len, &pos);
    es = frame_header_parse(&hs, cfg, spaced, len + 1, &spaced_pos);
    cr_expect_eq(e, want, "got %s at %zu, want %s: %s", frame_errname(e), pos, frame_errname(want), json);
    cr_expect_eq(e, es, "lane %s, general walk %s: %s", frame_errname(e), frame_errname(es), json);
    /* An error at the end of the text is one byte later with the space. */
    cr_expect(pos == spaced_pos || (pos == len && spaced_pos == len + 1), "lane at %zu, general walk at %zu: %s",
              pos, spaced_pos, json);
    if (want_at) {
        const char *at = strstr(json, want_at);
        cr_assert_not_null(at, "%s not in %s", want_at, json);
        cr_expect_eq(pos, (size_t)(at - json), "%s at %zu, want %zu: %s", frame_errname(e), pos,
                     (size_t)(at - json), json);
    }
    if (!want) {
        cr_expect_eq(h.body_size, size, "body size %llu, want %llu: %s", (unsigned long long)h.body_size,
                     (unsigned long long)size, json);
        cr_expect_eq(hs.body_size, size, "general walk's body size %llu: %s", (unsigned long long)hs.body_size,
                     json);
    }
}

Test(lane, duplicate_short_names_are_found_at_the_second)
{
    agree(NULL, "{\"size\":1,\"a\":1,\"a\":2}", FRAME_E_DUPLICATE_NAME, "\"a\":2", 0);
    agree(NULL, "{\"a\":\"x\",\"size\":12,\"b\":3,\"a\":4}", FRAME_E_DUPLICATE_NAME, "\"a\":4", 0);
    agree(NULL, "{\"size\":1,\"size\":2}", FRAME_E_DUPLICATE_NAME, "\"size\":2", 0);
}

Test(lane, long_names_alike_in_their_first_eight_bytes_are_told_apart)
{
    agree(NULL, "{\"size\":7,\"abcdefgh1\":1,\"abcdefgh2\":2}", FRAME_OK, NULL, 7);
    agree(NULL, "{\"size\":7,\"abcdefghij\":1,\"abcdefghik\":2,\"abcdefghi\":3}", FRAME_OK, NULL, 7);
    agree(NULL, "{\"size\":7,\"abcdefghi\":1,\"abcdefghi\":2}", FRAME_E_DUPLICATE_NAME, "\"abcdefghi\":2", 0);
    agree(NULL, "{\"size\":7,\"abcdefgh1\":1,\"abcdefgh2\":2,\"abcdefgh1\":3}", FRAME_E_DUPLICATE_NAME,
          "\"abcdefgh1\":3", 0);
}

Test(lane, a_duplicate_of_an_escaped_spelling_is_found_after_the_lane)
{
    agree(NULL, "{\"size\":1,\"ab\":1,\"a\\u0062\":2}", FRAME_E_DUPLICATE_NAME, "\"a\\u0062\"", 0);
    agree(NULL, "{\"size\":1,\"a\\u0062\":1,\"ab\":2}", FRAME_E_DUPLICATE_NAME, "\"ab\":2", 0);
}

/* Over 64 bytes, the block tier keys a name with escapes by the first 8
 * bytes and the length of what it decodes to (lib/walk_blocks.h). */
#define PAD "{\"pad\":\"0123456789012345678901234567890123456789012345678901234567890123456789\","
Test(lane, escaped_names_over_64_bytes_are_keyed_by_their_decoded_bytes)
{
    agree(NULL, PAD "\"\\u0073ize\":5,\"a\":1}", FRAME_OK, NULL, 5);
    agree(NULL, PAD "\"size\":5,\"\\u0073ize\":6}", FRAME_E_DUPLICATE_NAME, "\"\\u0073ize\":6", 0);
    agree(NULL, PAD "\"size\":5,\"long\\u005fname_one\":1,\"long_name_one\":2}", FRAME_E_DUPLICATE_NAME,
          "\"long_name_one\":2", 0);
    agree(NULL, PAD "\"size\":5,\"long\\u005fname_one\":1,\"long_name_two\":2}", FRAME_OK, NULL, 5);
    agree(NULL, PAD "\"size\":5,\"emoji_\\ud83d\\ude00\":1,\"emoji_\xf0\x9f\x98\x80\":2}", FRAME_E_DUPLICATE_NAME,
          "\"emoji_\xf0", 0);
    agree(NULL, PAD "\"size\":5,\"abcdefghij\\n\":1,\"abcdefghij\\u000a\":2}", FRAME_E_DUPLICATE_NAME,
          "\"abcdefghij\\u000a", 0);
    agree(NULL, PAD "\"size\":5,\"abcdefghi\\tx\":1,\"abcdefghi\\ty\":2}", FRAME_OK, NULL, 5);
    /* a two-byte sequence across the key's 8 bytes */
    agree(NULL, PAD "\"size\":5,\"abcdefg\\u00e9\":1,\"abcdefg\xc3\xa9\":2}", FRAME_E_DUPLICATE_NAME,
          "\"abcdefg\xc3", 0);
    agree(NULL, PAD "\"size\":5,\"abcdef\\u00e9x\":1,\"abcdef\\u00e9y\":2,\"\\\"q\":3,\"\\\"q\\/\":4}", FRAME_OK,
          NULL, 5);
    agree(NULL, PAD "\"size\":5,\"a\\\\b\":1,\"a\\u005cb\":2}", FRAME_E_DUPLICATE_NAME, "\"a\\u005cb", 0);
    /* plain bytes after an escape within 8 bytes of the text's end */
    agree(NULL, PAD "\"size\":5,\"\\nab\":1,\"\\u000aab\":2}", FRAME_E_DUPLICATE_NAME, "\"\\u000aab", 0);
    agree(NULL, PAD "\"size\":5,\"\\nab\":1,\"\\u000aac\":2}", FRAME_OK, NULL, 5);
}
#undef PAD

Test(lane, size_values_of_every_shape_agree_with_the_general_walk)
{
    agree(NULL, "{\"size\":0}", FRAME_OK, NULL, 0);
    agree(NULL, "{\"size\":0,\"a\":1}", FRAME_OK, NULL, 0);
    agree(NULL, "{\"size\":9007199254740991}", FRAME_OK, NULL, 9007199254740991ull);
    agree(NULL, "{\"size\":9007199254740992}", FRAME_E_BODY_TOO_LARGE, NULL, 0);
    agree(NULL, "{\"size\":12345678901234567890}", FRAME_E_BODY_TOO_LARGE, NULL, 0);
    agree(NULL, "{\"size\":01}", FRAME_E_JSON_SYNTAX, NULL, 0);
    agree(NULL, "{\"size\":00,\"a\":1}", FRAME_E_JSON_SYNTAX, NULL, 0);
    agree(NULL, "{\"a\":1,\"size\":0}", FRAME_OK, NULL, 0);
    agree(NULL, "{\"size\":0.5}", FRAME_E_SIZE_INVALID, NULL, 0);
    agree(NULL, "{\"size\":0e1,\"a\":1}", FRAME_E_SIZE_INVALID, NULL, 0);
    agree(NULL, "{\"size\":0E1}", FRAME_E_SIZE_INVALID, NULL, 0);
    agree(NULL, "{\"size\":1.0}", FRAME_E_SIZE_INVALID, NULL, 0);
    agree(NULL, "{\"size\":1e3}", FRAME_E_SIZE_INVALID, NULL, 0);
    agree(NULL, "{\"size\":-1}", FRAME_E_SIZE_INVALID, NULL, 0);
    agree(NULL, "{\"size\":\"1\"}", FRAME_E_SIZE_INVALID, NULL, 0);
    agree(NULL, "{\"size\":1", FRAME_E_JSON_SYNTAX, NULL, 0);
    agree(NULL, "{\"name\":\"x\"}", FRAME_E_SIZE_MISSING, NULL, 0);
}

/* The lane reads a size of up to 7 digits from one word when 8 bytes or
 * more are left from its first digit, and longer ones digit by digit: every
 * length from 1 to 17 digits, with members after it (a word's reach) and
 * at the end, each shape that the size state refuses too. */
Test(lane, size_values_of_every_length_agree_with_the_general_walk)
{
    static const char digits[] = "12345678901234567";
    char json[128], num[32];
    unsigned n, tail;
    uint64_t v;
    for (n = 1; n <= 17; n++) {
        memcpy(num, digits, n);
        num[n] = 0;
        for (v = 0, tail = 0; tail < n; tail++) v = v * 10 + (uint64_t)(digits[tail] - '0');
        for (tail = 0; tail < 2; tail++) {
            const char *after = tail ? "}" : ",\"name\":\"x.bin\"}";
            snprintf(json, sizeof json, "{\"size\":%s%s", num, after);
            agree(NULL, json, n <= 16 ? FRAME_OK : FRAME_E_BODY_TOO_LARGE, NULL, v);
            snprintf(json, sizeof json, "{\"size\":0%s%s", num, after);
            agree(NULL, json, FRAME_E_JSON_SYNTAX, NULL, 0);
            snprintf(json, sizeof json, "{\"size\":%s.5%s", num, after);
            agree(NULL, json, FRAME_E_SIZE_INVALID, NULL, 0);
            snprintf(json, sizeof json, "{\"size\":%se2%s", num, after);
            agree(NULL, json, FRAME_E_SIZE_INVALID, NULL, 0);
            snprintf(json, sizeof json, "{\"size\":%sE2%s", num, after);
            agree(NULL, json, FRAME_E_SIZE_INVALID, NULL, 0);
            snprintf(json, sizeof json, "{\"size\":%sx%s", num, after);
            /* What stands after a size over the limit is not read. */
            agree(NULL, json, n <= 16 ? FRAME_E_JSON_SYNTAX : FRAME_E_BODY_TOO_LARGE, n <= 16 ? "x" : NULL, 0);
        }
    }
    agree(NULL, "{\"size\":0,\"name\":\"x.bin\"}", FRAME_OK, NULL, 0);
    agree(NULL, "{\"size\":-5,\"name\":\"x.bin\"}", FRAME_E_SIZE_INVALID, NULL, 0);
    agree(NULL, "{\"size\":\"5\",\"name\":\"x.bin\"}", FRAME_E_SIZE_INVALID, NULL, 0);
}

Test(lane, a_size_over_max_body_is_refused)
{
    frame_config cfg = FRAME_CONFIG_INIT;
    cfg.max_body = 99;
    agree(&cfg, "{\"size\":99,\"a\":1}", FRAME_OK, NULL, 99);
    agree(&cfg, "{\"size\":100,\"a\":1}", FRAME_E_BODY_TOO_LARGE, NULL, 0);
}

Test(lane, a_long_size_name_is_recognised_by_its_bytes)
{
    frame_config cfg = FRAME_CONFIG_INIT;
    cfg.size_name = "content_length";
    agree(&cfg, "{\"content_lengtX\":1,\"content_length\":5}", FRAME_OK, NULL, 5);
    agree(&cfg, "{\"content_lengthX\":1}", FRAME_E_SIZE_MISSING, NULL, 0);
}

Test(lane, values_the_lane_does_not_take_go_on_in_the_general_walk)
{
    agree(NULL, "{\"size\":3,\"a\":-1,\"b\":0,\"c\":1.5,\"d\":2e3,\"e\":true,\"f\":null,\"g\":[1,{}],\"h\":{\"a\":1}}",
          FRAME_OK, NULL, 3);
    agree(NULL, "{\"size\":3,\"a\":\"x\\n\",\"b\":\"\xc3\xa9\",\"c\":\"y\"}", FRAME_OK, NULL, 3);
    agree(NULL, "{\"size\":3,\"a\":01}", FRAME_E_JSON_SYNTAX, NULL, 0);
    agree(NULL, "{\"size\":3,\"a\":1.}", FRAME_E_JSON_SYNTAX, NULL, 0);
    agree(NULL, "{\"size\":3,\"a\":\"x\x01\"}", FRAME_E_JSON_SYNTAX, NULL, 0);
    agree(NULL, "{\"size\":3,\"a\":tru}", FRAME_E_JSON_SYNTAX, NULL, 0);
}

Test(lane, broken_punctuation_is_reported_where_the_general_walk_reports_it)
{
    agree(NULL, "{\"size\":1,\"a\"1}", FRAME_E_JSON_SYNTAX, "1}", 0);
    agree(NULL, "{\"size\":1,\"a\":1\"b\":2}", FRAME_E_JSON_SYNTAX, "\"b\"", 0);
    agree(NULL, "{\"size\":1,\"a\":1,}", FRAME_E_JSON_SYNTAX, "}", 0);
    agree(NULL, "{\"size\":1,a:1}", FRAME_E_JSON_SYNTAX, "a:1", 0);
    agree(NULL, "{\"size\":1,\"a\":\"x}", FRAME_E_JSON_SYNTAX, NULL, 0);
    agree(NULL, "{\"size\":1}}", FRAME_E_JSON_SYNTAX, NULL, 0);
    agree(NULL, "{}", FRAME_E_SIZE_MISSING, NULL, 0);
}

Test(lane, more_members_than_the_lane_holds_are_checked_alike)
{
    char json[400];
    size_t n = 0;
    unsigned i;
    n += (size_t)sprintf(json + n, "{\"size\":5");
    for (i = 0; i < 20; i++) n += (size_t)sprintf(json + n, ",\"m%u\":%u", i, i + 1);
    sprintf(json + n, "}");
    agree(NULL, json, FRAME_OK, NULL, 5);
    /* a duplicate of a name the lane recorded, met after the lane */
    sprintf(json + n, ",\"m3\":1}");
    agree(NULL, json, FRAME_E_DUPLICATE_NAME, "\"m3\":1}", 0);
}

Test(lane, the_size_member_of_a_raw_config_is_held_to_what_its_prefix_carries)
{
    /* frame_header_parse takes any config; in the raw profile a 2-octet
     * prefix carries a body of 65,535 bytes at most (fuzz_kernels found the
     * speed walk holding it to max_body alone). */
    frame_config cfg = FRAME_CONFIG_INIT;
    cfg.raw = 1;
    cfg.prefix_width = 2;
    agree(&cfg, "{\"size\":65535,\"a\":1}", FRAME_OK, NULL, 65535);
    agree(&cfg, "{\"size\":65536,\"a\":1}", FRAME_E_BODY_TOO_LARGE, "65536", 0);
    agree(&cfg, "{\"a\":1,\"size\":969599\\u}", FRAME_E_BODY_TOO_LARGE, "969599", 0);
    /* the same after a name with an escape (the lane's second tier) */
    agree(&cfg, "{\"n\\u0061me\":\"x\",\"size\":65536}", FRAME_E_BODY_TOO_LARGE, "65536", 0);
}
