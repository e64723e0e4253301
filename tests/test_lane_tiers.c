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
