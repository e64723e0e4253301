/*
 * The fast header path (lib/json.c) may only ever accept what the general
 * validator accepts, with the same size and member count. These tests hold it
 * to that on compact headers built to stay on the fast path and on byte-level
 * mutations of them that push it off in every way.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../lib/internal.h"
#include "support.h"

#if !FRAME__SMALL

/* Runs both paths on one header; returns 1 if the fast path accepted it. */
static int agree(const frame_config *cfg, const unsigned char *json, size_t len) {
    frame__json_job fast, slow;
    frame_errno err;
    int accepted;
    memset(&fast, 0, sizeof fast);
    fast.start = json;
    fast.end = json + len;
    fast.header = 1;
    fast.cfg = frame__config(cfg);
    slow = fast;
    accepted = frame__fast_header(&fast);
    err = frame__json_validate(&slow);
    if (accepted) {
        cr_assert_eq(err, FRAME_OK, "fast path accepted what the validator rejects (%s at %zu): %.*s",
                     frame_errname(err), slow.err_pos, (int)len, (const char *)json);
        cr_assert_eq(fast.size, slow.size, "size differs: %.*s", (int)len, (const char *)json);
        cr_assert_eq(fast.members, slow.members, "member count differs: %.*s", (int)len,
                     (const char *)json);
    }
    return accepted;
}

/* A random compact header of the shape the fast path takes. */
static void random_header(prng *r, sbuf *s, const char *size_name) {
    static const char *values[] = {"0", "-1", "12.5e3", "true", "false", "null", "\"\"",
                                   "\"file.txt\"", "\"a b c\"", "123456789012345"};
    static const char *names[] = {"name", "n", "seq", "a", "ab", "abcdefgh", "abcdefghi", "z"};
    unsigned n = (unsigned)prng_below(r, 6), i, at = (unsigned)prng_below(r, n + 1);
    sb_adds(s, "{");
    for (i = 0; i <= n; i++) {
        if (i) sb_adds(s, ",");
        if (i == at)
            sb_printf(s, "\"%s\":%llu", size_name, (unsigned long long)prng_below(r, 100000));
        else
            sb_printf(s, "\"%s\":%s", names[prng_below(r, 8)], values[prng_below(r, 10)]);
    }
    sb_adds(s, "}");
}

Test(fastpath, accepts_only_what_the_validator_accepts) {
    static const char *mutations = "{}[]\":,0123456789-+.eE \\tfnu\x01\x7f\xc3\xa9\xff";
    static const char *size_names[] = {"size", "data_size", "a_size_name_longer_than_8"};
    unsigned long accepted = 0, tried = 0;
    prng r;
    int k, m;
    r.s = 20261122;
    for (k = 0; k < 3000; k++) {
        frame_config cfg;
        sbuf s = {0};
        memset(&cfg, 0, sizeof cfg);
        cfg.size_name = size_names[k % 3];
        if (k % 5 == 0) cfg.max_body = 50000;
        random_header(&r, &s, cfg.size_name);
        accepted += (unsigned long)agree(&cfg, (const unsigned char *)s.p, s.len);
        tried++;
        for (m = 0; m < 20; m++) { /* one to three bytes changed, dropped or added */
            sbuf t = {0};
            int edits = 1 + (int)prng_below(&r, 3), e;
            sb_add(&t, s.p, s.len);
            for (e = 0; e < edits && t.len; e++) {
                size_t at = (size_t)prng_below(&r, t.len);
                char c = mutations[prng_below(&r, strlen(mutations))];
                switch (prng_below(&r, 3)) {
                case 0: t.p[at] = c; break;
                case 1: memmove(t.p + at, t.p + at + 1, t.len - at - 1); t.len--; break;
                default:
                    sb_add(&t, "", 1);
                    memmove(t.p + at + 1, t.p + at, t.len - at - 1);
                    t.p[at] = c;
                }
            }
            accepted += (unsigned long)agree(&cfg, (const unsigned char *)t.p, t.len);
            tried++;
            sb_free(&t);
        }
        sb_free(&s);
    }
    /* Both outcomes must really occur, or the test proves nothing. */
    cr_expect_gt(accepted, tried / 20, "fast path accepted %lu of %lu", accepted, tried);
    cr_expect_lt(accepted, tried / 2, "fast path accepted %lu of %lu", accepted, tried);
}

Test(fastpath, agrees_on_every_vector_header) {
    char **paths;
    size_t n = vector_list(&paths), i, headers = 0;
    for (i = 0; i < n; i++) {
        vector v;
        sbuf why = {0};
        frame_value frames;
        frame_member m;
        size_t cursor = 0;
        cr_assert_eq(vector_load(&v, paths[i], &why), 0, "%s: %s", paths[i], sb_str(&why));
        if (json_get(&v.root, "frames", &frames)) {
            while (frame_value_next(&frames, &cursor, &m)) {
                frame_value hj;
                size_t hl;
                char *h;
                if (!json_get(&m.value, "header_json", &hj)) continue;
                h = json_str(&hj, &hl);
                agree(v.config_given ? &v.config : NULL, (const unsigned char *)h, hl);
                headers++;
                free(h);
            }
        }
        vector_free(&v);
        sb_free(&why);
    }
    vector_list_free(paths, n);
    cr_expect_gt(headers, 50u, "only %zu headers found in the vectors", headers);
}

#endif
