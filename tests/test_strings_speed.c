/*
 * Strings in headers: the speed builds check a value's string without
 * decoding it and hash a name's decoded bytes from the text, taking runs of
 * plain bytes, escapes and UTF-8 a word at a time, and hand anything else to
 * the general scanner. These tests hold every build to the same verdicts:
 * names that decode alike are duplicates however they are spelled, and an
 * error in a string is reported where the rules put it, near the end of the
 * text too (each header also ends right at a guard page).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

static void check(const char *json, size_t len, frame_errno want, size_t want_pos)
{
    frame_header h;
    size_t pos = 777;
    guard g;
    const unsigned char *at;
    frame_errno e = frame_header_parse(&h, NULL, json, len, &pos);
    cr_expect_eq(e, want, "got %s at %zu, want %s at %zu: %.*s", frame_errname(e), pos,
                 frame_errname(want), want_pos, (int)len, json);
    cr_expect_eq(pos, want ? want_pos : 0, "%s position %zu, want %zu: %.*s", frame_errname(want), pos,
                 want_pos, (int)len, json);
    guard_init(&g, len + 1);
    at = guard_place(&g, json, len);
    pos = 777;
    e = frame_header_parse(&h, NULL, at, len, &pos);
    cr_expect_eq(e, want, "before a guard page: got %s at %zu: %.*s", frame_errname(e), pos, (int)len, json);
    cr_expect_eq(pos, want ? want_pos : 0, "before a guard page: position %zu: %.*s", pos, (int)len, json);
    guard_free(&g);
}

/* Checks the NUL-terminated header; want_at: where the error is, as the
 * offset of the first occurrence of that text (NULL: no error). */
static void expect(const char *json, frame_errno want, const char *want_at)
{
    size_t pos = 0;
    if (want_at) {
        const char *f = strstr(json, want_at);
        cr_assert(f != NULL, "bad test: %s not in %s", want_at, json);
        pos = (size_t)(f - json);
    }
    check(json, strlen(json), want, pos);
}

/* The characters names are made of, each with the ways JSON may spell it. */
typedef struct spelled {
    const char *way[4];
} spelled;

static const spelled chars[] = {
    {{"a", "\\u0061", "\\u0061", "a"}},
    {{"Z", "\\u005A", "\\u005a", "Z"}},
    {{"/", "\\/", "\\u002f", "\\u002F"}},
    {{"\\\"", "\\u0022", "\\\"", "\\u0022"}},
    {{"\\\\", "\\u005c", "\\\\", "\\u005C"}},
    {{"\\n", "\\u000a", "\\n", "\\u000A"}},
    {{"\\t", "\\u0009", "\\t", "\\u0009"}},
    {{"\\u0001", "\\u0001", "\\u0001", "\\u0001"}},
    {{"\xc3\xa9", "\\u00e9", "\\u00E9", "\xc3\xa9"}},           /* é */
    {{"\xe6\x97\xa5", "\\u65e5", "\\u65E5", "\xe6\x97\xa5"}},   /* 日 */
    {{"\xef\xbf\xbf", "\\uffff", "\\uFFFF", "\xef\xbf\xbf"}},   /* U+FFFF */
    {{"\xf0\x9f\x98\x80", "\\ud83d\\ude00", "\\uD83D\\uDE00", "\xf0\x9f\x98\x80"}}, /* 😀 */
    {{"\xf4\x8f\xbf\xbf", "\\udbff\\udfff", "\\uDBFF\\uDFFF", "\xf4\x8f\xbf\xbf"}}, /* U+10FFFF */
};
#define NCHARS (sizeof chars / sizeof chars[0])

/* A name of n characters, each picked from `pick`, spelled the way `how`
 * picks (0: as plainly as may be). */
static void spell(sbuf *s, const unsigned *pick, unsigned n, prng *how)
{
    unsigned i;
    sb_adds(s, "\"");
    for (i = 0; i < n; i++) sb_adds(s, chars[pick[i]].way[how ? prng_below(how, 4) : 0]);
    sb_adds(s, "\"");
}

/* {"size":0, <filler members>, <first>:1, <second>:2}: a duplicate (at the
 * second name's quote) or not. The filler makes the names go through the
 * validator's general states, with the fast lane before them full or not. */
static void pair(const unsigned *a, unsigned na, const unsigned *b, unsigned nb, prng *r, unsigned filler,
                 int dup)
{
    sbuf s = {0};
    size_t at;
    unsigned i;
    sb_adds(&s, "{\"size\":0");
    for (i = 0; i < filler; i++) sb_printf(&s, ",\"f%u\":%u", i, i);
    if (filler & 1) sb_adds(&s, ",\"esc\":\"\\n\"");
    sb_adds(&s, ",");
    spell(&s, a, na, r);
    sb_adds(&s, ":1,");
    at = s.len;
    spell(&s, b, nb, r);
    sb_adds(&s, ":2}");
    check(s.p, s.len, dup ? FRAME_E_DUPLICATE_NAME : FRAME_OK, dup ? at : 0);
    sb_free(&s);
}

Test(strings_speed, names_spelled_differently_are_duplicates)
{
    prng r = {0x5eed};
    unsigned a[24], b[24], n, i, k;
    for (k = 0; k < 3000; k++) {
        n = (unsigned)prng_below(&r, 24);
        for (i = 0; i < n; i++) a[i] = (unsigned)prng_below(&r, NCHARS);
        pair(a, n, a, n, &r, (unsigned)prng_below(&r, 20), 1);
        if (!n) continue;
        /* One character different: not a duplicate. */
        memcpy(b, a, sizeof a);
        i = (unsigned)prng_below(&r, n);
        b[i] = (b[i] + 1 + (unsigned)prng_below(&r, NCHARS - 1)) % NCHARS;
        pair(a, n, b, n, &r, (unsigned)prng_below(&r, 20), 0);
        /* One character more or less: not a duplicate. */
        pair(a, n, a, n - 1, &r, (unsigned)prng_below(&r, 20), 0);
    }
}

Test(strings_speed, a_plain_name_and_its_escaped_spellings_at_every_length)
{
    static const char *const forms[] = {"\"%.*s\\u0071\"", "\"%.*sq\"", "\"%.*s\\u0071\"", "\"%.*s\\/\""};
    const char *base = "abcdefghijklmnopqrstuvwxyz";
    unsigned n, i, j;
    for (n = 0; n < 26; n++)
        for (i = 0; i < 4; i++)
            for (j = 0; j < 4; j++) {
                sbuf s = {0};
                size_t at;
                sb_adds(&s, "{\"size\":0,\"v\":\"\\t\",");
                sb_printf(&s, forms[i], (int)n, base);
                sb_adds(&s, ":1,");
                at = s.len;
                sb_printf(&s, forms[j], (int)n, base);
                sb_adds(&s, ":2}");
                check(s.p, s.len, (i == 3) == (j == 3) ? FRAME_E_DUPLICATE_NAME : FRAME_OK,
                      (i == 3) == (j == 3) ? at : 0);
                sb_free(&s);
            }
}

Test(strings_speed, values_with_escapes_and_utf8_are_accepted)
{
    expect("{\"size\":0,\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", FRAME_OK, NULL);
    expect("{\"size\":0,\"a\":\"x\\u0000\\uFFFF\\uabcd\\uD7FF\\uE000y\"}", FRAME_OK, NULL);
    expect("{\"size\":0,\"a\":\"\\ud800\\udc00\\uDBFF\\uDFFF\"}", FRAME_OK, NULL);
    expect("{\"size\":0,\"a\":\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\"}",
           FRAME_OK, NULL);
    expect("{\"size\":0,\"a\":[\"\\n\",\"\xc3\xa9\",{\"b\":\"\\u00e9\"}]}", FRAME_OK, NULL);
    expect("{\"a\":\"\\u00e9\",\"size\":0}", FRAME_OK, NULL);
    check("{\"a\":\"\\n\"}", 10, FRAME_E_SIZE_MISSING, 10); /* at the end */
}

Test(strings_speed, errors_in_values)
{
    /* Escapes */
    expect("{\"size\":0,\"a\":\"ab\\x\"}", FRAME_E_JSON_SYNTAX, "x\"");
    expect("{\"size\":0,\"a\":\"\\u12\"}", FRAME_E_JSON_SYNTAX, "\"}");
    expect("{\"size\":0,\"a\":\"\\u12g4\"}", FRAME_E_JSON_SYNTAX, "g4");
    expect("{\"size\":0,\"a\":\"\\uZ234 and more text\"}", FRAME_E_JSON_SYNTAX, "Z2");
    expect("{\"size\":0,\"a\":\"\\u123\xc3\xa9 and more text\"}", FRAME_E_JSON_SYNTAX, "\xc3");
    /* Surrogates: lone, reversed, or followed by something else */
    expect("{\"size\":0,\"a\":\"x\\udc00 and more text\"}", FRAME_E_LONE_SURROGATE, "\\udc00");
    expect("{\"size\":0,\"a\":\"x\\ud800 and more text\"}", FRAME_E_LONE_SURROGATE, "\\ud800");
    expect("{\"size\":0,\"a\":\"x\\ud800\\n and more text\"}", FRAME_E_LONE_SURROGATE, "\\ud800");
    expect("{\"size\":0,\"a\":\"x\\ud800\\ud800 and more text\"}", FRAME_E_LONE_SURROGATE, "\\ud800");
    expect("{\"size\":0,\"a\":\"x\\ud800\\u00e9 and more text\"}", FRAME_E_LONE_SURROGATE, "\\ud800");
    expect("{\"size\":0,\"a\":\"x\\ud800\\udcZ0 and more text\"}", FRAME_E_LONE_SURROGATE, "\\ud800");
    expect("{\"size\":0,\"a\":\"x\\ud800\\uec00 and more text\"}", FRAME_E_LONE_SURROGATE, "\\ud800");
    expect("{\"size\":0,\"a\":\"x\\ud800\"}", FRAME_E_LONE_SURROGATE, "\\ud800");
    expect("{\"size\":0,\"a\":\"x\\ud800\\udc0\"}", FRAME_E_LONE_SURROGATE, "\\ud800");
    /* UTF-8 and control bytes */
    expect("{\"size\":0,\"a\":\"\\n\xc3\x28 and more text\"}", FRAME_E_BAD_UTF8, "\xc3");
    expect("{\"size\":0,\"a\":\"\xc3\xa9\xe6\x97\xa5\xed\xa0\x80 and more\"}", FRAME_E_BAD_UTF8, "\xed");
    expect("{\"size\":0,\"a\":\"\xc3\xa9\xe6\x97\xa5\xf4\x90\x80\x80 and more\"}", FRAME_E_BAD_UTF8, "\xf4");
    expect("{\"size\":0,\"a\":\"\xc3\xa9\xc0\xaf and more\"}", FRAME_E_BAD_UTF8, "\xc0");
    expect("{\"size\":0,\"a\":\"\xc3\xa9\x80 and more\"}", FRAME_E_BAD_UTF8, "\x80");
    expect("{\"size\":0,\"a\":\"\\t\x01 and more text\"}", FRAME_E_JSON_SYNTAX, "\x01");
    expect("{\"size\":0,\"a\":\"\xc3\xa9\x1f and more text\"}", FRAME_E_JSON_SYNTAX, "\x1f");
}

Test(strings_speed, errors_in_names)
{
    expect("{\"size\":0,\"v\":\"\\n\",\"ab\\x\":1}", FRAME_E_JSON_SYNTAX, "x\"");
    expect("{\"size\":0,\"v\":\"\\n\",\"\\u00e9\\u12\":1}", FRAME_E_JSON_SYNTAX, "\":1");
    expect("{\"size\":0,\"v\":\"\\n\",\"\\u00e9\\u12g4\":1}", FRAME_E_JSON_SYNTAX, "g4");
    expect("{\"size\":0,\"v\":\"\\n\",\"x\\udc00 and more\":1}", FRAME_E_LONE_SURROGATE, "\\udc00");
    expect("{\"size\":0,\"v\":\"\\n\",\"x\\ud800\\u0041 and more\":1}", FRAME_E_LONE_SURROGATE, "\\ud800");
    expect("{\"size\":0,\"v\":\"\\n\",\"x\\ud800\\uZ041 and more\":1}", FRAME_E_LONE_SURROGATE, "\\ud800");
    expect("{\"size\":0,\"v\":\"\\n\",\"x\\ud800\\\\ and more\":1}", FRAME_E_LONE_SURROGATE, "\\ud800");
    expect("{\"size\":0,\"v\":\"\\n\",\"x\\ud800\":1}", FRAME_E_LONE_SURROGATE, "\\ud800");
    expect("{\"size\":0,\"v\":\"\\n\",\"\xc3\xa9\xe6\x97\xa5\xed\xa0\x80 and more\":1}", FRAME_E_BAD_UTF8,
           "\xed");
    expect("{\"size\":0,\"v\":\"\\n\",\"\xc3\xa9\x01 and more\":1}", FRAME_E_JSON_SYNTAX, "\x01");
    expect("{\"size\":0,\"v\":\"\\n\",\"\\n\\u00e9\x80\":1}", FRAME_E_BAD_UTF8, "\x80");
}

/* Each header cut short at every length: the error is where the text ends
 * (or where the cut leaves a bad sequence or a lone surrogate), as the
 * general scanner has it. */
Test(strings_speed, strings_cut_short)
{
    static const char *const headers[] = {
        "{\"size\":0,\"a\":\"x\\u00e9\\ud83d\\ude00\\n\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\"}",
        "{\"size\":0,\"v\":\"\\n\",\"x\\u00e9\\ud83d\\ude00\\n\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\":1}",
    };
    unsigned i;
    size_t len, full;
    for (i = 0; i < 2; i++) {
        full = strlen(headers[i]);
        for (len = 16; len < full - 1; len++) {
            frame_header h;
            size_t pos = 777, want = len;
            frame_errno e = frame_header_parse(&h, NULL, headers[i], len, &pos), w = FRAME_E_JSON_SYNTAX;
            const char *hi = strstr(headers[i], "\\ud83d");
            /* A high surrogate cut off from its low half is lone. */
            if (len > (size_t)(hi - headers[i]) + 5 && len < (size_t)(hi - headers[i]) + 12) {
                w = FRAME_E_LONE_SURROGATE;
                want = (size_t)(hi - headers[i]);
            } else if (len < full - 2 && (unsigned char)headers[i][len - 1] >= 0x80) {
                /* Cut inside a UTF-8 sequence: bad at its lead byte. */
                want = len - 1;
                while ((unsigned char)headers[i][want] < 0xc0) want--;
                if (want + (headers[i][want] & 0x20 ? (headers[i][want] & 0x10 ? 4u : 3u) : 2u) > len)
                    w = FRAME_E_BAD_UTF8;
                else
                    want = len;
            }
            (void)e;
            check(headers[i], len, w, want);
        }
    }
}

/* A value's string is checked through 16-byte windows whose special bytes
 * are marked once: the next special byte may lie in the same window, in the
 * next one, or past a window with none, and the string may end within 16
 * bytes of the text's end. Two special bytes `gap` letters apart, `lead`
 * letters into the string, the second one wrong or not, with `tail` bytes
 * of members after the string. */
Test(strings_speed, special_bytes_at_every_spacing_in_and_across_windows)
{
    static const char *const firsts[] = {"\\n", "\xc3\xa9", "\\u00e9", "\\ud83d\\ude00", "\xf0\x9f\x98\x80"};
    static const struct {
        const char *text;
        frame_errno err;
    } seconds[] = {
        {"\\t", FRAME_OK},       {"\xe6\x97\xa5", FRAME_OK},  {"\\\"", FRAME_OK},
        {"\x01", FRAME_E_JSON_SYNTAX}, {"\xc3(", FRAME_E_BAD_UTF8}, {"\\q", FRAME_E_JSON_SYNTAX},
    };
    const char *letters = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";
    unsigned lead, gap, tail, f, k;
    for (lead = 0; lead < 20; lead += 3)
        for (gap = 0; gap < 40; gap++)
            for (tail = 0; tail < 3; tail++)
                for (f = 0; f < sizeof firsts / sizeof firsts[0]; f++)
                    for (k = 0; k < sizeof seconds / sizeof seconds[0]; k++) {
                        sbuf s = {0};
                        size_t at;
                        sb_adds(&s, "{\"size\":0,\"a\":\"");
                        sb_printf(&s, "%.*s%s%.*s", (int)lead, letters, firsts[f], (int)gap, letters);
                        at = s.len + (seconds[k].text[0] == '\\'); /* a bad escape: at its letter */
                        sb_printf(&s, "%s%.*s\"", seconds[k].text, (int)(gap % 7), letters);
                        sb_adds(&s, tail == 0 ? "}" : tail == 1 ? ",\"b\":1}" : ",\"b\":\"0123456789abcdef\"}");
                        check(s.p, s.len, seconds[k].err, seconds[k].err ? at : 0);
                        sb_free(&s);
                    }
}
