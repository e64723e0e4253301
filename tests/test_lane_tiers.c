/*
 * The speed builds' fast lane (lib/walk_states.h) takes compact headers in
 * two tiers: plain names and values first, then, out of line, names and
 * strings with escapes or UTF-8, negative integers and literals; both tell
 * names apart through a small table of keys, up to 32 names, and leave the
 * rest to the general walk. These tests hold both
 * tiers to the walk's verdicts and offsets (every build runs them: the size
 * builds' walk gives the same answers), each header also ending right at a
 * guard page.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

static void check(const char *json, size_t len, frame_errno want, size_t want_pos) {
    frame_header h;
    size_t pos = 777;
    guard g;
    const unsigned char *at;
    frame_errno e = frame_header_parse(&h, NULL, json, len, &pos);
    cr_expect_eq(e, want, "got %s at %zu, want %s at %zu: %.*s", frame_errname(e), pos, frame_errname(want),
                 want_pos, (int)len, json);
    cr_expect_eq(pos, want ? want_pos : 0, "%s position %zu, want %zu: %.*s", frame_errname(want), pos, want_pos,
                 (int)len, json);
    guard_init(&g, len + 1);
    at = guard_place(&g, json, len);
    pos = 777;
    e = frame_header_parse(&h, NULL, at, len, &pos);
    cr_expect_eq(e, want, "before a guard page: got %s at %zu: %.*s", frame_errname(e), pos, (int)len, json);
    cr_expect_eq(pos, want ? want_pos : 0, "before a guard page: position %zu: %.*s", pos, (int)len, json);
    guard_free(&g);
}

/* Checks the NUL-terminated header; want_at: where the error is, as the
 * offset of the last occurrence of that text (NULL: no error). */
static void expect(const char *json, frame_errno want, const char *want_at) {
    size_t pos = 0;
    if (want_at) {
        const char *f = strstr(json, want_at), *g;
        cr_assert(f != NULL, "bad test: %s not in %s", want_at, json);
        while ((g = strstr(f + 1, want_at)) != NULL) f = g;
        pos = (size_t)(f - json);
    }
    check(json, strlen(json), want, pos);
}

/* {"size":1,"m1":1,...,"m<n>":1, then tail (which closes the object). */
static void members(char *out, size_t cap, unsigned n, const char *tail) {
    size_t len = (size_t)snprintf(out, cap, "{\"size\":1");
    unsigned i;
    for (i = 1; i <= n; i++) len += (size_t)snprintf(out + len, cap - len, ",\"m%u\":%u", i, i);
    snprintf(out + len, cap - len, "%s", tail);
}

Test(lane, plain_members_within_and_past_the_lanes_names_are_accepted) {
    char json[1024];
    unsigned n;
    for (n = 6; n <= 40; n++) {
        members(json, sizeof json, n, "}");
        expect(json, FRAME_OK, NULL);
    }
}

Test(lane, a_duplicate_past_the_first_names_is_found) {
    char json[1024];
    unsigned n;
    for (n = 6; n <= 40; n++) {
        members(json, sizeof json, n, ",\"m3\":0}");
        expect(json, FRAME_E_DUPLICATE_NAME, "\"m3\"");
        members(json, sizeof json, n, ",\"\\u006d3\":0}");
        expect(json, FRAME_E_DUPLICATE_NAME, "\"\\u006d3\"");
        members(json, sizeof json, n, ",\"m\":0,\"\\u006d\":0}");
        expect(json, FRAME_E_DUPLICATE_NAME, "\"\\u006d\"");
    }
}

Test(lane, values_of_every_kind_after_a_name_with_an_escape) {
    expect("{\"\\u0061\":-12,\"b\":true,\"c\":false,\"d\":null,\"e\":\"\\u00e9x\",\"f\":\"\xc3\xa9\",\"size\":3}",
           FRAME_OK, NULL);
    expect("{\"gr\xc3\xb6\xc3\x9f\x65\":\"a\\\"b\",\"size\":3,\"x\":[1],\"y\":{\"z\":0}}", FRAME_OK, NULL);
    expect("{\"\\u0061\":-0,\"size\":1}", FRAME_OK, NULL);
    expect("{\"\\u0061\":-1.5e3,\"size\":1}", FRAME_OK, NULL);
    expect("{\"\\u0061\":tru}", FRAME_E_JSON_SYNTAX, "}");
    expect("{\"\\u0061\":fals}", FRAME_E_JSON_SYNTAX, "}");
    expect("{\"\\u0061\":nulx,\"size\":1}", FRAME_E_JSON_SYNTAX, "x");
    expect("{\"\\u0061\":-a}", FRAME_E_JSON_SYNTAX, "a}");
    expect("{\"\\u0061\":\"\\q\",\"size\":1}", FRAME_E_JSON_SYNTAX, "q");
    expect("{\"\\u0061\":\"\xc3\",\"size\":1}", FRAME_E_BAD_UTF8, "\xc3");
    expect("{\"\\u0061\":1 ,\"size\":1}", FRAME_OK, NULL);
    expect("{\"\\u0061\"1}", FRAME_E_JSON_SYNTAX, "1}");
    expect("{\"\\u0061\" :1,\"size\":1}", FRAME_OK, NULL);
    expect("{\"\\u0061\":1,\"size\":2,\"\\u0061\":3}", FRAME_E_DUPLICATE_NAME, "\"\\u0061\"");
    expect("{\"\\q\":1,\"size\":1}", FRAME_E_JSON_SYNTAX, "q");
}

Test(lane, the_size_member_in_the_full_tier) {
    expect("{\"n\\u0061me\":\"x\",\"size\":12}", FRAME_OK, NULL);
    expect("{\"n\\u0061me\":\"x\",\"\\u0073ize\":12}", FRAME_OK, NULL);
    expect("{\"n\\u0061me\":\"x\",\"size\":1.5}", FRAME_E_SIZE_INVALID, "1.5");
    expect("{\"n\\u0061me\":\"x\",\"size\":9999999999999999}", FRAME_E_BODY_TOO_LARGE, "9999999999999999");
    expect("{\"n\\u0061me\":\"x\",\"size\":\"1\"}", FRAME_E_SIZE_INVALID, "\"1\"");
    expect("{\"n\\u0061me\":\"x\",\"siz\\u0065\":1,\"size\":2}", FRAME_E_DUPLICATE_NAME, "\"size\"");
}

/*
 * Headers of 16 to 64 bytes whose first byte is '{' take a lane of their
 * own: stage one marks the text's quotes, and each string ends at the next
 * mark. Below, each header is also parsed after 64 spaces, where the text
 * is too long for that lane and the plain lane and the walk take it: the
 * two must agree on the verdict and, 64 bytes on, on the offset; and so
 * must every prefix of it (unterminated strings, names cut short, ends
 * where a value should be).
 */
static void agree_with_the_long_lanes(const char *json) {
    char padded[256];
    size_t len = strlen(json), cut, pos, pos_long;
    frame_header h, h_long;
    frame_errno e, e_long;
    cr_assert(len + 64 < sizeof padded, "bad test: %s", json);
    memset(padded, ' ', 64);
    for (cut = 0; cut <= len; cut++) {
        memcpy(padded + 64, json, cut);
        pos = pos_long = 777;
        e = frame_header_parse(&h, NULL, json, cut, &pos);
        e_long = frame_header_parse(&h_long, NULL, padded, 64 + cut, &pos_long);
        cr_expect_eq(e, e_long, "%.*s: %s, but %s after 64 spaces", (int)cut, json, frame_errname(e),
                     frame_errname(e_long));
        cr_expect_eq(e ? pos + 64 : 0, e_long ? pos_long : 0, "%.*s: %s at %zu, after 64 spaces at %zu", (int)cut,
                     json, frame_errname(e), pos, pos_long);
        if (!e && !e_long) cr_expect_eq(h.body_size, h_long.body_size, "%.*s: body size", (int)cut, json);
        check(json, cut, e, e ? pos : 0); /* and the same before a guard page */
    }
}

Test(lane, short_headers_agree_with_the_long_lanes_at_every_length) {
    static const char *const headers[] = {
        "{\"size\":12,\"name\":\"abcdefghijk.bin\",\"seq\":1234567}",
        "{\"name\":\"a.bin\",\"size\":0}",
        "{\"a\":\"\",\"b\":\"\",\"size\":3,\"c\":\"x\"}",
        "{\"size\":1,\"abcdefgh1\":1,\"abcdefgh2\":2}",   /* keys alike, names not */
        "{\"size\":1,\"abcdefgh1\":1,\"abcdefgh1\":2}",   /* keys and names alike */
        "{\"size\":1,\"ab\":1,\"ab\":2,\"cd\":3}",
        "{\"ab\":1,\"size\":1,\"\\u0061b\":2}",             /* an escape: stage one refuses */
        "{\"size\":1,\"a\":\"\xc3\xa9\"}",                  /* UTF-8: stage one refuses */
        "{\"size\":1,\"a\":\"\x01\"}",                      /* a control byte */
        "{\"size\":1,\"a\":-1,\"b\":true,\"c\":null}",       /* values the lane hands over */
        "{\"size\":1,\"a\":1.5e3,\"b\":[1,2],\"c\":{}}",
        "{\"size\":1,\"a\" :1,\"b\": 2 }",
        "{\"size\":01,\"a\":1}",
        "{\"size\":1.5,\"a\":1}",
        "{\"size\":\"1\",\"a\":1}",
        "{\"size\":99999999999999999999}",
        "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"size\":8}",
        "{\"size\":1,\"a\":1,,\"b\":2}",
        "{\"size\":1,\"a\":1\"b\":2}",
        "{\"size\":1,\"a\"\"b\":2}",
        "{\"size\":1,\"a\":\"b\"\"c\"}",
        "{\"size\":1,\"a\":\"bb}",
        "{\"size\":1}}",
        "{\"size\":1,\"a\":1}x",
    };
    size_t i;
    for (i = 0; i < sizeof headers / sizeof headers[0]; i++) agree_with_the_long_lanes(headers[i]);
}

Test(lane, short_headers_of_every_length_from_16_to_64_bytes) {
    char json[80];
    size_t n, pad;
    for (n = 14; n <= 66; n++) {
        /* {"size":7,"a":"<pad x>"}: 16 bytes with no padding */
        pad = n >= 24 ? n - 24 : 0;
        snprintf(json, sizeof json, "{\"size\":7,\"a\":\"%.*s\"}", (int)pad,
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        expect(json, FRAME_OK, NULL);
        /* The same with its closing quote taken off: unterminated, which
         * is found at the end */
        json[strlen(json) - 2] = 'x';
        check(json, strlen(json), FRAME_E_JSON_SYNTAX, strlen(json));
        /* A duplicate name at the end */
        snprintf(json, sizeof json, "{\"size\":7,\"a\":\"%.*s\",\"a\":1}", (int)(pad > 6 ? pad - 6 : 0),
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        expect(json, FRAME_E_DUPLICATE_NAME, "\"a\":1");
    }
}

/*
 * Headers of more than 64 bytes go first through stage one by blocks of 64
 * bytes (lib/walk_blocks.h), which checks escapes, UTF-8 and control bytes
 * for a whole block, carrying what crosses into the next. Each piece below
 * is put into a string (a value, a name, the last value) at every offset
 * across the first blocks; the header must get the verdict and offset that
 * the walk alone gives it (the same text with a space after its '}', which
 * keeps the lane out), and the same before a guard page.
 */
static void agree_with_the_walk(const char *json, size_t len) {
    char spaced[1024];
    size_t pos = 777, pos_walk = 777;
    frame_header h, h_walk;
    frame_errno e, e_walk;
    cr_assert(len + 1 < sizeof spaced, "bad test");
    memcpy(spaced, json, len);
    spaced[len] = ' ';
    e = frame_header_parse(&h, NULL, json, len, &pos);
    e_walk = frame_header_parse(&h_walk, NULL, spaced, len + 1, &pos_walk);
    if (pos_walk == len + 1) pos_walk = len; /* at the end of the text (a string that never ends) */
    cr_expect_eq(e, e_walk, "%.*s: %s, but the walk says %s", (int)len, json, frame_errname(e), frame_errname(e_walk));
    cr_expect_eq(e ? pos : 0, e_walk ? pos_walk : 0, "%.*s: %s at %zu, the walk at %zu", (int)len, json,
                 frame_errname(e), pos, pos_walk);
    check(json, len, e, e ? pos : 0);
}

Test(lane, stage_one_by_blocks_agrees_with_the_walk_at_every_offset) {
    static const char *const pieces[] = {
        /* well-formed */
        "\\n", "\\\"", "\\\\", "\\\\\\\"", "\\\\\\\\", "\\/", "\\u00e9", "\\ud83d\\ude00", "\xc3\xa9",
        "\xe6\x97\xa5", "\xf0\x9f\x98\x80", "\xed\x9f\xbf", "\xe0\xa0\x80", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
        "\xe2\x80\xa8",
        /* runs of backslashes and pairs, whose escapes stage one tells apart
         * without a loop over each backslash */
        "\\\\\\\\\\\\\\\"", "\\\\u00e9", "\\\\\\ud83d\\ude00", "\\ud83d\\ude00\\ud83d\\ude00",
        /* ill-formed escapes */
        "\\x", "\\u12g4", "\\udc00", "\\\\\\udc00", "\\ud83d\\ude00\\ude00", "\\ud83d", "\\ud83dx",
        "\\ud83d\\u0041", "\\ud83d\\n", "\\u00",
        /* ill-formed UTF-8 */
        "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xf0\x80\x80\x80",
        "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\x80", "\xbf\xbf", "\xc3",
        "\xe6\x97", "\xf0\x9f\x98", "\xc3\xa9\xa9", "\xc3\xc3\xa9",
        /* control bytes, a quote that ends the string early, a backslash
         * that takes its closing quote */
        "\x01", "\x1f", "\t", "\n", "\"", "\\",
    };
    static const char *const forms[] = {
        "{\"size\":1,\"name\":\"%.*s%s\",\"z\":1}", /* a value */
        "{\"size\":1,\"n%.*s%s\":1,\"z\":1}",       /* a name */
        "{\"size\":1,\"name\":\"%.*s%s\"}",         /* the last value */
        /* a value, then members that cross the next 64 or 512 bytes */
        "{\"size\":1,\"name\":\"%.*s%s\",\"n\":123456789012345678,\"m\":\"abcdefgh\",\"z\":\"x\"}",
    };
    /* Offsets across the first blocks, and across the end of the first 512
     * bytes: stage one marks that many ahead of stage two. */
    static const size_t from[] = {40, 440}, to[] = {180, 620};
    char json[1024], pads[700];
    size_t i, f, r, pad;
    int n;
    for (i = 0; i + 1 < sizeof pads; i++) pads[i] = (char)('a' + i % 26);
    pads[i] = '\0';
    for (i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        for (f = 0; f < sizeof forms / sizeof forms[0]; f++)
            for (r = 0; r < 2; r++)
                for (pad = from[r]; pad < to[r]; pad++) {
                    n = snprintf(json, sizeof json, forms[f], (int)pad, pads, pieces[i]);
                    agree_with_the_walk(json, (size_t)n);
                }
}

Test(lane, stage_one_by_blocks_takes_escapes_and_utf8_in_every_member) {
    /* Each accepted through the block tier: a string's escapes and UTF-8
     * in names and values, literals and negative numbers, across blocks. */
    static const char *const good =
        "{\"size\":5,\"gr\xc3\xb6\xc3\x9f" "e\":\"\\u00e9t\xc3\xa9\",\"tab\\tname\":true,\"quote\\\"d\":-12,"
        "\"emoji_\xf0\x9f\x98\x80\":\"\\ud83d\\ude00\\\\\",\"n\":null,\"f\":false,\"long name of a member\":\"x\"}";
    char json[512];
    expect(good, FRAME_OK, NULL);
    /* and a duplicate: the escaped name is the plain one */
    snprintf(json, sizeof json, "%.*s,\"tab\\u0009name\":1}", (int)strlen(good) - 1, good);
    expect(json, FRAME_E_DUPLICATE_NAME, "\"tab\\u0009name\":1");
    snprintf(json, sizeof json, "%.*s,\"gr\\u00f6\\u00dfe\":1}", (int)strlen(good) - 1, good);
    expect(json, FRAME_E_DUPLICATE_NAME, "\"gr\\u00f6\\u00dfe\":1");
}
