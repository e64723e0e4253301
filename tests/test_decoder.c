/* The stream decoder: callbacks, pause/resume, skip, errors, reset, finish,
 * needed/declared/limit, datagrams, and two big streams. */
#define _DEFAULT_SOURCE 1
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "support.h"

/* ---- fixture ------------------------------------------------------------ */

typedef struct fx {
    frame_decoder d;
    recorder r;
    frame_config c;
    unsigned char *hbuf;
    size_t hcap;
} fx;

static void fx_init(fx *f, const frame_config *c)
{
    memset(f, 0, sizeof *f);
    if (c)
        f->c = *c;
    f->hcap = f->c.max_header ? (size_t)f->c.max_header : FRAME_DEFAULT_MAX_HEADER;
    f->hbuf = xmalloc(f->hcap);
    rec_init(&f->r);
    f->r.size_name = f->c.size_name;
    f->r.raw = f->c.raw;
    f->r.hdr_lo = f->hbuf;
    f->r.hdr_hi = f->hbuf + f->hcap;
    cr_assert_eq(frame_decoder_init(&f->d, &f->c, &rec_callbacks, f->hbuf, f->hcap, &f->r),
                 FRAME_OK);
}

static void fx_free(fx *f)
{
    rec_free(&f->r);
    free(f->hbuf);
}

/* Feeds the stream with the given cuts and returns the log (owned by f). */
static const char *fx_run(fx *f, const sbuf *s, const size_t *cuts, size_t ncuts, feed_stats *st)
{
    feed_stats local;
    int rc = feed_stream(&f->d, &f->r, (const unsigned char *)s->p, s->len, cuts, ncuts,
                         st ? st : &local);
    cr_assert_eq(rc, 0, "API rule broken: %s", f->r.why);
    cr_assert_not(f->r.bad, "inconsistent callback: %s", f->r.why);
    if (!st)
        feed_stats_free(&local);
    return sb_str(&f->r.log);
}

/* Expected log lines of one complete frame. */
static void expect_frame(sbuf *log, const char *header, const void *body, size_t len)
{
    sb_printf(log, "H %zu ", len);
    sb_hex(log, header, strlen(header));
    sb_adds(log, "\n");
    if (len) {
        sb_adds(log, "B ");
        sb_hex(log, body, len);
        sb_adds(log, "\n");
    }
    sb_adds(log, "E\n");
}

static void expect_skipped(sbuf *log, const char *header, size_t len)
{
    sb_printf(log, "H %zu ", len);
    sb_hex(log, header, strlen(header));
    sb_adds(log, "\nE\n");
}

/* A stream of three frames with some variety. */
static const char *const H0 = "{\"size\":5,\"name\":\"caf\\u00e9\",\"n\":[1,{\"size\":\"x\"}]}";
static const char *const H1 = "{\"size\":0}";
static const char *const H2 = "{\"t\":true,\"size\":12}";
static const char B0[] = "hello";
static const char B2[] = "\x00\x01\x02\x0b\x00\x00\x00{\"size\":0}"; /* 12 bytes incl. a NUL */

static void three_frames(sbuf *s, sbuf *log)
{
    sb_frame(s, 4, 0, H0, B0, 5);
    sb_frame(s, 4, 0, H1, "", 0);
    sb_frame(s, 4, 0, H2, B2, 12);
    if (log) {
        expect_frame(log, H0, B0, 5);
        expect_frame(log, H1, "", 0);
        expect_frame(log, H2, B2, 12);
    }
}

/* ---- callbacks and splitting -------------------------------------------- */

Test(decoder, calls_header_body_end_in_order)
{
    fx f;
    sbuf s = {0}, want = {0};
    fx_init(&f, NULL);
    sb_frame(&s, 4, 0, "{\"size\":5,\"a\":1}", "hello", 5);
    expect_frame(&want, "{\"size\":5,\"a\":1}", "hello", 5);
    sb_adds(&want, "OK\n");
    cr_expect_str_eq(fx_run(&f, &s, NULL, 0, NULL), sb_str(&want));
    cr_expect_eq(f.r.n_header, 1ul);
    cr_expect_eq(f.r.n_end, 1ul);
    cr_expect_eq(frame_decoder_frame_index(&f.d), 1u);
    cr_expect_eq(frame_decoder_offset(&f.d), (uint64_t)s.len);
    sb_free(&s);
    sb_free(&want);
    fx_free(&f);
}

Test(decoder, empty_body_has_no_body_callback)
{
    fx f;
    sbuf s = {0};
    fx_init(&f, NULL);
    sb_frame(&s, 4, 0, "{\"size\":0}", "", 0);
    fx_run(&f, &s, NULL, 0, NULL);
    cr_expect_eq(f.r.n_header, 1ul);
    cr_expect_eq(f.r.n_body, 0ul);
    cr_expect_eq(f.r.n_end, 1ul);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, decodes_concatenated_frames_and_counts_them)
{
    fx f;
    sbuf s = {0}, want = {0};
    fx_init(&f, NULL);
    three_frames(&s, &want);
    sb_adds(&want, "OK\n");
    cr_expect_str_eq(fx_run(&f, &s, NULL, 0, NULL), sb_str(&want));
    cr_expect_eq(frame_decoder_frame_index(&f.d), 3u);
    cr_expect_eq(frame_decoder_offset(&f.d), (uint64_t)s.len);
    cr_expect_eq(frame_decoder_needed(&f.d), 0u);
    sb_free(&s);
    sb_free(&want);
    fx_free(&f);
}

Test(decoder, header_view_keeps_white_space_outside_the_root)
{
    fx f;
    sbuf s = {0}, want = {0};
    fx_init(&f, NULL);
    sb_frame(&s, 4, 0, " \t\r\n{ \"size\" : 2 }\n ", "ab", 2);
    expect_frame(&want, "{ \"size\" : 2 }", "ab", 2);
    sb_adds(&want, "OK\n");
    cr_expect_str_eq(fx_run(&f, &s, NULL, 0, NULL), sb_str(&want));
    sb_free(&s);
    sb_free(&want);
    fx_free(&f);
}

Test(decoder, same_log_for_every_split_and_one_byte_at_a_time)
{
    sbuf s = {0}, want = {0};
    size_t i, j, *cuts;
    fx f;
    three_frames(&s, &want);
    sb_adds(&want, "OK\n");
    for (i = 0; i <= s.len; i++) {
        fx_init(&f, NULL);
        cr_assert_str_eq(fx_run(&f, &s, &i, 1, NULL), sb_str(&want), "split at %zu", i);
        fx_free(&f);
    }
    /* two cuts at every pair of positions 7 apart */
    for (i = 0; i + 7 <= s.len; i++) {
        size_t two[2];
        two[0] = i;
        two[1] = i + 7;
        fx_init(&f, NULL);
        cr_assert_str_eq(fx_run(&f, &s, two, 2, NULL), sb_str(&want), "split at %zu+7", i);
        fx_free(&f);
    }
    cuts = xmalloc(s.len * sizeof *cuts);
    for (j = 0; j < s.len; j++)
        cuts[j] = j;
    fx_init(&f, NULL);
    cr_assert_str_eq(fx_run(&f, &s, cuts, s.len, NULL), sb_str(&want), "byte at a time");
    fx_free(&f);
    free(cuts);
    sb_free(&s);
    sb_free(&want);
}

Test(decoder, feeding_nothing_changes_nothing)
{
    fx f;
    fx_init(&f, NULL);
    cr_expect_eq(frame_feed(&f.d, "x", 0), 0u);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_OK);
    cr_expect_eq(frame_decoder_offset(&f.d), 0u);
    cr_expect_eq(f.r.n_header + f.r.n_body + f.r.n_end, 0ul);
    fx_free(&f);
}

Test(decoder, body_chunks_point_into_the_fed_data)
{
    fx f;
    sbuf s = {0};
    unsigned char body[300];
    size_t i;
    for (i = 0; i < sizeof body; i++)
        body[i] = (unsigned char)(i * 7);
    fx_init(&f, NULL);
    sb_frame(&s, 4, 0, "{\"size\":300}", body, sizeof body);
    {
        size_t cuts[3] = {20, 100, 200};
        fx_run(&f, &s, cuts, 3, NULL); /* the recorder checks every chunk's address */
    }
    cr_assert_eq(f.r.nframes, 1u);
    cr_expect_eq(f.r.frames[0].body_len, sizeof body);
    cr_expect_arr_eq(f.r.frames[0].body, body, sizeof body);
    cr_expect_geq(f.r.n_body, 3ul, "a body fed in 4 pieces cannot arrive in fewer chunks");
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, prefix_widths_and_byte_orders)
{
    static const unsigned widths[] = {1, 2, 4, 8};
    size_t wi;
    int be;
    for (wi = 0; wi < 4; wi++) {
        for (be = 0; be <= 1; be++) {
            fx f;
            frame_config c;
            sbuf s = {0}, want = {0};
            size_t i;
            memset(&c, 0, sizeof c);
            c.prefix_width = widths[wi];
            c.big_endian = be;
            fx_init(&f, &c);
            for (i = 0; i < 3; i++)
                sb_frame(&s, widths[wi], be, "{\"size\":3,\"k\":\"v\"}", "xyz", 3);
            for (i = 0; i < 3; i++)
                expect_frame(&want, "{\"size\":3,\"k\":\"v\"}", "xyz", 3);
            sb_adds(&want, "OK\n");
            cr_expect_str_eq(fx_run(&f, &s, NULL, 0, NULL), sb_str(&want), "width %u %s",
                             widths[wi], be ? "big" : "little");
            sb_free(&s);
            sb_free(&want);
            fx_free(&f);
        }
    }
}

Test(decoder, prefix_byte_order_matters)
{
    /* 0x000b little-endian is 0x0b00 = 2816 big-endian: a different frame */
    fx f;
    frame_config c;
    sbuf s = {0};
    memset(&c, 0, sizeof c);
    c.prefix_width = 2;
    c.big_endian = 1;
    fx_init(&f, &c);
    sb_frame(&s, 2, 0, "{\"size\":0}", "", 0);
    fx_run(&f, &s, NULL, 0, NULL);
    cr_expect_eq(f.r.n_header, 0ul);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_TRUNCATED);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, custom_size_name)
{
    fx f;
    frame_config c;
    sbuf s = {0}, want = {0};
    memset(&c, 0, sizeof c);
    c.size_name = "data_size";
    fx_init(&f, &c);
    sb_frame(&s, 4, 0, "{\"size\":\"not me\",\"data_size\":3}", "abc", 3);
    expect_frame(&want, "{\"size\":\"not me\",\"data_size\":3}", "abc", 3);
    sb_adds(&want, "OK\n");
    cr_expect_str_eq(fx_run(&f, &s, NULL, 0, NULL), sb_str(&want));
    sb_free(&s);
    sb_free(&want);
    fx_free(&f);
}

Test(decoder, header_of_exactly_max_header_bytes)
{
    fx f;
    frame_config c;
    sbuf s = {0}, want = {0};
    const char *h20 = "{\"size\":1,\"a\":\"xxx\"}"; /* 20 bytes */
    cr_assert_eq(strlen(h20), 20u);
    memset(&c, 0, sizeof c);
    c.max_header = 20;
    fx_init(&f, &c);
    sb_frame(&s, 4, 0, h20, "z", 1);
    expect_frame(&want, h20, "z", 1);
    sb_adds(&want, "OK\n");
    cr_expect_str_eq(fx_run(&f, &s, NULL, 0, NULL), sb_str(&want));
    fx_free(&f);
    sb_free(&s);
    sb_free(&want);
}

Test(decoder, raw_profile_prefix_is_the_body_length)
{
    fx f;
    frame_config c;
    sbuf s = {0}, want = {0};
    unsigned char p[4];
    memset(&c, 0, sizeof c);
    c.raw = 1;
    fx_init(&f, &c);
    put_prefix(p, 4, 0, 5);
    sb_add(&s, p, 4);
    sb_add(&s, "hello", 5);
    put_prefix(p, 4, 0, 0);
    sb_add(&s, p, 4);
    sb_adds(&want, "H 5 \nB 68656c6c6f\nE\nH 0 \nE\nOK\n");
    cr_expect_str_eq(fx_run(&f, &s, NULL, 0, NULL), sb_str(&want));
    cr_expect_eq(frame_decoder_frame_index(&f.d), 2u);
    fx_free(&f);
    sb_free(&s);
    sb_free(&want);
}

/* ---- pause and resume --------------------------------------------------- */

Test(decoder, pauses_after_header_callback)
{
    fx f;
    sbuf s = {0};
    size_t n, len0 = 4 + strlen(H0);
    fx_init(&f, NULL);
    f.r.pause_mask = REC_HEADER;
    three_frames(&s, NULL);
    f.r.feed_lo = (const unsigned char *)s.p;
    f.r.feed_hi = f.r.feed_lo + s.len;
    n = frame_feed(&f.d, s.p, s.len);
    cr_expect_eq(n, len0, "consumed prefix and header only");
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_PAUSED);
    cr_expect_eq(frame_decoder_offset(&f.d), (uint64_t)len0);
    cr_expect_eq(f.r.n_header, 1ul);
    cr_expect_eq(f.r.n_body, 0ul);
    cr_expect_eq(frame_decoder_needed(&f.d), 5u);
    frame_decoder_resume(&f.d);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_OK);
    n += frame_feed(&f.d, s.p + n, s.len - n);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_PAUSED);
    cr_expect_eq(n, len0 + 5 + 4 + strlen(H1), "then the rest of frame 0 and frame 1's head");
    cr_expect_eq(f.r.n_header, 2ul);
    cr_expect_eq(f.r.n_end, 1ul);
    cr_assert_not(f.r.bad, "%s", f.r.why);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, pauses_after_body_callback)
{
    fx f;
    sbuf s = {0};
    size_t n, head = 4 + strlen("{\"size\":10}");
    fx_init(&f, NULL);
    f.r.pause_mask = REC_BODY;
    sb_frame(&s, 4, 0, "{\"size\":10}", "0123456789", 10);
    f.r.feed_lo = (const unsigned char *)s.p;
    f.r.feed_hi = f.r.feed_lo + s.len;
    n = frame_feed(&f.d, s.p, head + 4);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_PAUSED);
    cr_expect_eq(n, head + f.r.cur.body_len, "consumed through the delivered chunk");
    cr_expect_gt(f.r.cur.body_len, 0u);
    cr_expect_eq(f.r.n_end, 0ul);
    cr_expect_eq(frame_decoder_needed(&f.d), 10u - f.r.cur.body_len);
    frame_decoder_resume(&f.d);
    for (;;) { /* the rest is fed again after each pause, even when empty */
        n += frame_feed(&f.d, s.p + n, s.len - n);
        if (frame_decoder_errno(&f.d) != FRAME_E_PAUSED)
            break;
        frame_decoder_resume(&f.d);
    }
    cr_expect_eq(n, s.len);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_OK);
    cr_assert_eq(f.r.nframes, 1u);
    cr_expect_arr_eq(f.r.frames[0].body, "0123456789", 10);
    cr_assert_not(f.r.bad, "%s", f.r.why);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, pauses_after_frame_end_callback)
{
    fx f;
    sbuf s = {0};
    size_t n, len0 = 4 + strlen(H0) + 5, len1 = 4 + strlen(H1);
    fx_init(&f, NULL);
    f.r.pause_mask = REC_END;
    three_frames(&s, NULL);
    n = frame_feed(&f.d, s.p, s.len);
    cr_expect_eq(n, len0);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_PAUSED);
    cr_expect_eq(f.r.n_end, 1ul);
    cr_expect_eq(f.r.n_header, 1ul);
    cr_expect_eq(frame_decoder_needed(&f.d), 0u);
    fx_free(&f);

    fx_init(&f, NULL);
    f.r.pause_mask = REC_END;
    n = frame_feed(&f.d, s.p, s.len);
    frame_decoder_resume(&f.d);
    n += frame_feed(&f.d, s.p + n, s.len - n);
    cr_expect_eq(n, len0 + len1);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_PAUSED);
    cr_expect_eq(f.r.n_end, 2ul);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, pause_at_every_callback_gives_the_same_log)
{
    sbuf s = {0}, want = {0};
    fx f;
    feed_stats st;
    size_t cuts[5] = {3, 20, 61, 62, 70};
    three_frames(&s, &want);
    sb_adds(&want, "OK\n");
    fx_init(&f, NULL);
    f.r.pause_mask = REC_HEADER | REC_BODY | REC_END;
    cr_expect_str_eq(fx_run(&f, &s, NULL, 0, &st), sb_str(&want));
    cr_expect_eq(st.pauses, f.r.n_header + f.r.n_body + f.r.n_end);
    cr_assert_eq(st.n_header_pause, 3u);
    cr_assert_eq(st.n_end_pause, 3u);
    cr_expect_eq(st.header_pause_at[0], 4 + strlen(H0));
    cr_expect_eq(st.end_pause_at[0], 4 + strlen(H0) + 5);
    cr_expect_eq(st.header_pause_at[1], st.end_pause_at[0] + 4 + strlen(H1));
    cr_expect_eq(st.end_pause_at[1], st.header_pause_at[1]);
    cr_expect_eq(st.end_pause_at[2], (uint64_t)s.len);
    feed_stats_free(&st);
    fx_free(&f);
    fx_init(&f, NULL);
    f.r.pause_mask = REC_HEADER | REC_BODY | REC_END;
    cr_expect_str_eq(fx_run(&f, &s, cuts, 5, NULL), sb_str(&want), "paused and split");
    fx_free(&f);
    sb_free(&s);
    sb_free(&want);
}

Test(decoder, finish_delivers_a_frame_end_left_due_by_a_pause)
{
    /* on_body pauses on the last body byte: on_frame_end is still due when
     * the stream ends; frame_finish must deliver it and say so consistently. */
    sbuf s = {0};
    fx f;
    frame_errno e;
    sb_frame(&s, 4, 0, "{\"size\":3}", "abc", 3);
    fx_init(&f, NULL);
    f.r.pause_mask = REC_BODY;
    cr_assert_eq(frame_feed(&f.d, s.p, s.len), s.len);
    cr_assert_eq(frame_decoder_errno(&f.d), FRAME_E_PAUSED);
    frame_decoder_resume(&f.d);
    e = frame_finish(&f.d, NULL);
    cr_expect_eq(e, FRAME_OK);
    cr_expect_eq(f.r.n_end, 1ul, "on_frame_end ran once");
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_OK);
    fx_free(&f);

    fx_init(&f, NULL);
    f.r.pause_mask = REC_BODY | REC_END;
    cr_assert_eq(frame_feed(&f.d, s.p, s.len), s.len);
    frame_decoder_resume(&f.d);
    e = frame_finish(&f.d, NULL);
    cr_expect_eq(f.r.n_end, 1ul, "on_frame_end ran once");
    cr_expect_eq(frame_decoder_errno(&f.d), e,
                 "finish returned %s but the decoder says %s", frame_errname(e),
                 frame_errname(frame_decoder_errno(&f.d)));
    fx_free(&f);
    sb_free(&s);
}

Test(decoder, resume_does_nothing_unless_paused)
{
    fx f;
    fx_init(&f, NULL);
    frame_decoder_resume(&f.d);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_OK);
    cr_expect_eq(frame_decoder_offset(&f.d), 0u);
    cr_expect_leq(frame_feed(&f.d, "\0\0\0\0", 4), 4u);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_HEADER_EMPTY);
    frame_decoder_resume(&f.d);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_HEADER_EMPTY, "resume does not clear errors");
    fx_free(&f);
}

Test(decoder, two_decoders_sharing_callbacks_and_config_are_independent)
{
    /* interleaved byte by byte, each must give the log it gives alone */
    sbuf s1 = {0}, s2 = {0}, want1 = {0}, want2 = {0};
    fx a, b;
    frame_config c;
    size_t i;
    memset(&c, 0, sizeof c);
    three_frames(&s1, &want1);
    sb_adds(&want1, "OK\n");
    sb_frame(&s2, 4, 0, "{\"size\":2,\"other\":true}", "zz", 2);
    expect_frame(&want2, "{\"size\":2,\"other\":true}", "zz", 2);
    sb_adds(&want2, "OK\n");
    fx_init(&a, &c);
    fx_init(&b, &c);
    for (i = 0; i < s1.len || i < s2.len; i++) {
        if (i < s1.len)
            cr_assert_eq(frame_feed(&a.d, s1.p + i, 1), 1u);
        if (i < s2.len)
            cr_assert_eq(frame_feed(&b.d, s2.p + i, 1), 1u);
    }
    cr_assert_eq(frame_finish(&a.d, NULL), FRAME_OK);
    cr_assert_eq(frame_finish(&b.d, NULL), FRAME_OK);
    rec_status(&a.r, &a.d, FRAME_OK, 0);
    rec_status(&b.r, &b.d, FRAME_OK, 0);
    cr_expect_str_eq(sb_str(&a.r.log), sb_str(&want1));
    cr_expect_str_eq(sb_str(&b.r.log), sb_str(&want2));
    cr_expect_not(a.r.bad, "%s", a.r.why);
    cr_expect_not(b.r.bad, "%s", b.r.why);
    fx_free(&a);
    fx_free(&b);
    sb_free(&s1);
    sb_free(&s2);
    sb_free(&want1);
    sb_free(&want2);
}

/* ---- skip ----------------------------------------------------------------- */

Test(decoder, skip_discards_exactly_the_body_and_stays_in_sync)
{
    sbuf s = {0}, want = {0}, inner = {0};
    unsigned char big[1000];
    size_t i, *cuts;
    fx f;
    /* frame 0's body is itself a valid frame: skipping must not parse it */
    sb_simple_frame(&inner, ",\"evil\":1", "", 0);
    memset(big, 'A', sizeof big);
    memcpy(big, inner.p, inner.len);
    sb_frame(&s, 4, 0, "{\"size\":1000}", big, sizeof big);
    sb_frame(&s, 4, 0, "{\"size\":5}", "hello", 5);
    sb_frame(&s, 4, 0, "{\"size\":3}", "abc", 3);
    sb_frame(&s, 4, 0, "{\"size\":2}", "zz", 2);
    expect_skipped(&want, "{\"size\":1000}", 1000);
    expect_frame(&want, "{\"size\":5}", "hello", 5);
    expect_skipped(&want, "{\"size\":3}", 3);
    expect_frame(&want, "{\"size\":2}", "zz", 2);
    sb_adds(&want, "OK\n");
    cuts = xmalloc(s.len * sizeof *cuts);
    for (i = 0; i < s.len; i++)
        cuts[i] = i;
    for (i = 0; i < 3; i++) {
        static const size_t some[] = {5, 500, 1020, 1030, 1040};
        fx_init(&f, NULL);
        f.r.skip_bits = 1u | 4u;
        if (i == 0)
            fx_run(&f, &s, NULL, 0, NULL);
        else if (i == 1)
            fx_run(&f, &s, cuts, s.len, NULL);
        else
            fx_run(&f, &s, some, 5, NULL);
        cr_expect_str_eq(sb_str(&f.r.log), sb_str(&want), "feeding mode %zu", i);
        if (i == 1)
            cr_expect_eq(f.r.n_body, 7ul, "one chunk per byte");
        else
            cr_expect_geq(f.r.n_body, 2ul);
        cr_expect_eq(frame_decoder_frame_index(&f.d), 4u);
        fx_free(&f);
    }
    free(cuts);
    sb_free(&s);
    sb_free(&want);
    sb_free(&inner);
}

Test(decoder, needed_counts_down_while_skipping)
{
    sbuf s = {0};
    fx f;
    size_t i, head = 4 + strlen("{\"size\":50}");
    unsigned char body[50];
    memset(body, 0x5a, sizeof body);
    sb_frame(&s, 4, 0, "{\"size\":50}", body, sizeof body);
    fx_init(&f, NULL);
    f.r.header_ret = FRAME_SKIP;
    cr_assert_eq(frame_feed(&f.d, s.p, head), head);
    for (i = 0; i < 50; i++) {
        cr_expect_eq(frame_decoder_needed(&f.d), 50u - i);
        cr_assert_eq(frame_feed(&f.d, s.p + head + i, 1), 1u);
    }
    cr_expect_eq(frame_decoder_needed(&f.d), 0u);
    cr_expect_eq(f.r.n_body, 0ul);
    cr_expect_eq(f.r.n_end, 1ul);
    cr_expect_eq(frame_finish(&f.d, NULL), FRAME_OK);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, skip_of_an_empty_body_goes_to_frame_end)
{
    sbuf s = {0}, want = {0};
    fx f;
    sb_frame(&s, 4, 0, "{\"size\":0}", "", 0);
    sb_frame(&s, 4, 0, "{\"size\":1}", "q", 1);
    expect_skipped(&want, "{\"size\":0}", 0);
    expect_skipped(&want, "{\"size\":1}", 1);
    sb_adds(&want, "OK\n");
    fx_init(&f, NULL);
    f.r.header_ret = FRAME_SKIP;
    cr_expect_str_eq(fx_run(&f, &s, NULL, 0, NULL), sb_str(&want));
    sb_free(&s);
    sb_free(&want);
    fx_free(&f);
}

/* ---- callback errors ---------------------------------------------------- */

Test(decoder, header_callback_error_stops_with_its_code)
{
    sbuf s = {0};
    fx f;
    size_t head = 4 + strlen(H0), n;
    three_frames(&s, NULL);
    fx_init(&f, NULL);
    f.r.fail_kind = REC_HEADER;
    f.r.fail_at = 1;
    f.r.fail_code = -7;
    n = frame_feed(&f.d, s.p, s.len);
    cr_expect_leq(n, s.len);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_CALLBACK);
    cr_expect_eq(frame_decoder_callback_code(&f.d), -7);
    cr_expect_eq(frame_decoder_offset(&f.d), (uint64_t)head);
    cr_expect_eq(frame_decoder_frame_index(&f.d), 0u);
    cr_expect_eq(f.r.n_body, 0ul);
    cr_expect_eq(f.r.n_end, 0ul);
    cr_expect_eq(frame_feed(&f.d, s.p + head, s.len - head), 0u, "error is sticky");
    cr_expect_eq(frame_finish(&f.d, NULL), FRAME_E_CALLBACK);
    cr_expect_eq(f.r.n_body, 0ul);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, body_callback_error_offset_is_after_the_chunk)
{
    sbuf s = {0};
    fx f;
    size_t head = 4 + strlen("{\"size\":10}");
    sb_frame(&s, 4, 0, "{\"size\":10}", "0123456789", 10);
    fx_init(&f, NULL);
    f.r.fail_kind = REC_BODY;
    f.r.fail_at = 2;
    f.r.fail_code = -1;
    cr_assert_eq(frame_feed(&f.d, s.p, head + 3), head + 3);
    cr_assert_eq(frame_decoder_errno(&f.d), FRAME_OK);
    frame_feed(&f.d, s.p + head + 3, 5);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_CALLBACK);
    cr_expect_eq(frame_decoder_callback_code(&f.d), -1);
    cr_expect_eq(frame_decoder_offset(&f.d), (uint64_t)(head + f.r.cur.body_len));
    cr_expect_eq(f.r.cur.body_len, 8u, "3 + 5 bytes delivered");
    cr_expect_eq(f.r.n_end, 0ul);
    cr_expect_eq(frame_feed(&f.d, s.p + head + 8, 2), 0u);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, frame_end_callback_error_reports_the_frame)
{
    sbuf s = {0};
    fx f;
    size_t len01 = 4 + strlen(H0) + 5 + 4 + strlen(H1);
    three_frames(&s, NULL);
    fx_init(&f, NULL);
    f.r.fail_kind = REC_END;
    f.r.fail_at = 2;
    f.r.fail_code = INT_MIN;
    frame_feed(&f.d, s.p, s.len);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_CALLBACK);
    cr_expect_eq(frame_decoder_callback_code(&f.d), INT_MIN);
    cr_expect_eq(frame_decoder_offset(&f.d), (uint64_t)len01);
    cr_expect_eq(frame_decoder_frame_index(&f.d), 1u);
    cr_expect_eq(f.r.n_header, 2ul);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, callback_code_is_zero_without_callback_error)
{
    sbuf s = {0};
    fx f;
    three_frames(&s, NULL);
    fx_init(&f, NULL);
    cr_expect_eq(frame_decoder_callback_code(&f.d), 0);
    fx_run(&f, &s, NULL, 0, NULL);
    cr_expect_eq(frame_decoder_callback_code(&f.d), 0);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, every_negative_code_is_an_error_at_every_callback)
{
    static const int codes[] = {-1, -2, -100, INT_MIN};
    sbuf s = {0};
    size_t ci;
    unsigned kind;
    three_frames(&s, NULL);
    for (ci = 0; ci < 4; ci++) {
        for (kind = REC_HEADER; kind <= REC_END; kind <<= 1) {
            fx f;
            feed_stats st;
            fx_init(&f, NULL);
            f.r.fail_kind = kind;
            f.r.fail_at = 2;
            f.r.fail_code = codes[ci];
            fx_run(&f, &s, NULL, 0, &st);
            cr_expect_eq(st.err, FRAME_E_CALLBACK);
            cr_expect_eq(frame_decoder_callback_code(&f.d), codes[ci]);
            cr_expect_eq(st.frame, kind == REC_BODY ? 2u : 1u,
                         "the 2nd body chunk is frame 2's (frame 1 is empty)");
            feed_stats_free(&st);
            fx_free(&f);
        }
    }
    sb_free(&s);
}

/* ---- frames that lie whole in the data ---------------------------------- */

/* Speed builds take a frame whose prefix and header lie whole in the data
 * fed by a path of their own, and leave the rest to the state machine. The
 * tests below feed the same streams whole (that path), cut one byte into
 * every frame (the machine for every frame) and a byte at a time, and
 * want the same log, in which every callback notes what the decoder then
 * reports (offset, needed, declared size, frame index). */

typedef struct probe {
    sbuf log;
    size_t body;            /* body bytes since the last note: chunks depend on the cuts */
    unsigned long calls;    /* on_header and on_frame_end calls so far (on_body's depend on the cuts) */
    unsigned long reset_at; /* the one of them (from 1) that resets the decoder; 0: none */
    int verdict;            /* on_header's: FRAME_CONTINUE or FRAME_SKIP */
    int pause;              /* every callback pauses (after the verdict's effect) */
} probe;

static void probe_flush(probe *pr)
{
    if (pr->body)
        sb_printf(&pr->log, "B %zu\n", pr->body);
    pr->body = 0;
}

static void probe_note(frame_decoder *d, const char *what)
{
    probe *pr = d->data;
    probe_flush(pr);
    sb_printf(&pr->log, "%s off=%llu needed=%llu declared=%llu frame=%llu\n", what,
              (unsigned long long)frame_decoder_offset(d),
              (unsigned long long)frame_decoder_needed(d),
              (unsigned long long)frame_decoder_declared_size(d),
              (unsigned long long)frame_decoder_frame_index(d));
}

static int probe_verdict(frame_decoder *d, int verdict, int counts)
{
    probe *pr = d->data;
    if (counts && ++pr->calls == pr->reset_at) {
        frame_decoder_reset(d);
        sb_adds(&pr->log, "reset\n");
    }
    return pr->pause ? FRAME_PAUSE : verdict;
}

static int probe_header(frame_decoder *d, const frame_header *h)
{
    probe *pr = d->data;
    probe_note(d, "H");
    sb_adds(&pr->log, "  ");
    sb_hex(&pr->log, h->root.json, h->root.len);
    sb_adds(&pr->log, "\n");
    return probe_verdict(d, pr->verdict, 1);
}

static int probe_body(frame_decoder *d, const void *at, size_t len)
{
    probe *pr = d->data;
    (void)at;
    pr->body += len;
    return probe_verdict(d, FRAME_CONTINUE, 0);
}

static int probe_end(frame_decoder *d)
{
    probe_note(d, "E");
    return probe_verdict(d, FRAME_CONTINUE, 1);
}

static const frame_callbacks probe_callbacks = {probe_header, probe_body, probe_end};

/* Decodes s fed in pieces that end at the cuts (each before the guard
 * page), resuming after every pause; returns the log, ending with the
 * status (free it). */
static char *probe_run(const frame_config *c, const probe *how, const sbuf *s, const size_t *cuts,
                       size_t ncuts)
{
    frame_decoder d;
    unsigned char hbuf[200];
    probe pr = *how;
    guard g;
    size_t pos = 0, ci;
    memset(&pr.log, 0, sizeof pr.log);
    pr.body = 0;
    pr.calls = 0;
    cr_assert_eq(frame_decoder_init(&d, c, &probe_callbacks, hbuf, sizeof hbuf, &pr), FRAME_OK);
    guard_init(&g, s->len);
    for (ci = 0; ci <= ncuts && !frame_decoder_errno(&d); ci++) {
        size_t end = ci < ncuts && cuts[ci] < s->len ? cuts[ci] : s->len;
        if (end < pos)
            continue;
        for (;;) {
            const unsigned char *p = guard_place(&g, s->p + pos, end - pos);
            pos += frame_feed(&d, p, end - pos);
            if (frame_decoder_errno(&d) != FRAME_E_PAUSED)
                break;
            frame_decoder_resume(&d);
        }
    }
    if (!frame_decoder_errno(&d))
        frame_finish(&d, NULL);
    probe_flush(&pr);
    sb_printf(&pr.log, "%s off=%llu frame=%llu fed=%zu\n", frame_errname(frame_decoder_errno(&d)),
              (unsigned long long)frame_decoder_offset(&d),
              (unsigned long long)frame_decoder_frame_index(&d), pos);
    guard_free(&g);
    sb_str(&pr.log);
    return pr.log.p;
}

/* Feeds s whole, cut one byte into each frame (`starts`, n of them) and a
 * byte at a time: the three logs must be the same. */
static void probe_expect_same(const frame_config *c, const probe *how, const sbuf *s,
                              const size_t *starts, size_t n, const char *what)
{
    size_t i, *cuts = xmalloc((s->len + 1) * sizeof *cuts);
    char *whole = probe_run(c, how, s, NULL, 0), *other;
    for (i = 0; i < n; i++)
        cuts[i] = starts[i] + 1;
    other = probe_run(c, how, s, cuts, n);
    cr_expect_str_eq(whole, other, "%s: whole vs cut into each frame", what);
    free(other);
    for (i = 0; i < s->len; i++)
        cuts[i] = i;
    other = probe_run(c, how, s, cuts, s->len);
    cr_expect_str_eq(whole, other, "%s: whole vs a byte at a time", what);
    free(other);
    free(whole);
    free(cuts);
}

/* Four good frames, then one of the endings below; *n frame starts. */
static void probe_stream(sbuf *s, unsigned width, int be, unsigned ending, size_t *starts, size_t *n)
{
    static const char *const headers[] = {
        "{\"size\":3}", " {\"size\":0}\r\n",
        "{\"a\":[1,{\"b\":null}],\"size\":5,\"s\":\"caf\\u00e9\"}", "{\"size\":2}"};
    static const char *const bodies[] = {"abc", "", "hello", "\0\1"};
    static const size_t lens[] = {3, 0, 5, 2};
    unsigned char prefix[8];
    size_t i;
    *n = 0;
    for (i = 0; i < 4; i++) {
        starts[(*n)++] = s->len;
        sb_frame(s, width, be, headers[i], bodies[i], lens[i]);
    }
    starts[(*n)++] = s->len;
    switch (ending) {
    case 0: /* none: the stream ends at a frame boundary */
        (*n)--;
        break;
    case 1: /* a JSON error */
        sb_frame(s, width, be, "{\"size\":1,}", "x", 1);
        break;
    case 2: /* an empty header */
        put_prefix(prefix, width, be, 0);
        sb_add(s, prefix, width);
        sb_adds(s, "{}");
        break;
    case 3: /* a header over max_header (200), valid and all there */
        put_prefix(prefix, width, be, 201);
        sb_add(s, prefix, width);
        sb_adds(s, "{\"size\":0,\"pad\":\"");
        for (i = 0; i < 201 - 19; i++)
            sb_add(s, "x", 1);
        sb_adds(s, "\"}");
        break;
    case 4: /* a body over max_body (1000) */
        sb_frame(s, width, be, "{\"size\":1001}", "", 0);
        break;
    case 5: /* a header cut short */
        put_prefix(prefix, width, be, 10);
        sb_add(s, prefix, width);
        sb_adds(s, "{\"siz");
        break;
    case 6: /* a body cut short */
        sb_frame(s, width, be, "{\"size\":9}", "abcd", 4);
        break;
    case 7: /* a byte order mark */
        sb_frame(s, width, be, "\xef\xbb\xbf{\"size\":0}", "", 0);
        break;
    default: /* a prefix cut short */
        sb_add(s, "\x01", 1);
        break;
    }
}

Test(decoder, whole_frames_give_the_machine_log_for_every_width_and_ending)
{
    static const unsigned widths[] = {1, 2, 4, 8};
    size_t wi, starts[8], n;
    unsigned ending;
    int be;
    for (wi = 0; wi < 4; wi++) {
        for (be = 0; be <= 1; be++) {
            for (ending = 0; ending <= 8; ending++) {
                frame_config c;
                probe how;
                sbuf s = {0};
                char what[64];
                memset(&c, 0, sizeof c);
                c.prefix_width = widths[wi];
                c.big_endian = be;
                c.max_header = 200;
                c.max_body = 1000;
                memset(&how, 0, sizeof how);
                probe_stream(&s, widths[wi], be, ending, starts, &n);
                snprintf(what, sizeof what, "width %u %s, ending %u", widths[wi],
                         be ? "big" : "little", ending);
                probe_expect_same(&c, &how, &s, starts, n, what);
                how.pause = 1;
                probe_expect_same(&c, &how, &s, starts, n, what);
                how.pause = 0;
                how.verdict = FRAME_SKIP;
                probe_expect_same(&c, &how, &s, starts, n, what);
                sb_free(&s);
            }
        }
    }
}

Test(decoder, whole_frames_keep_the_first_error_and_its_offset)
{
    /* The good frames are taken whole; the bad one is the machine's, with
     * the offset and frame index it would give had every frame come in
     * pieces. */
    static const frame_errno want[] = {FRAME_OK, FRAME_E_JSON_SYNTAX, FRAME_E_HEADER_EMPTY,
                                       FRAME_E_HEADER_TOO_LARGE, FRAME_E_BODY_TOO_LARGE,
                                       FRAME_E_TRUNCATED, FRAME_E_TRUNCATED, FRAME_E_BOM,
                                       FRAME_E_TRUNCATED};
    unsigned ending;
    for (ending = 0; ending <= 8; ending++) {
        frame_config c;
        probe how;
        sbuf s = {0};
        size_t starts[8], n;
        char *log, status[64];
        memset(&c, 0, sizeof c);
        c.max_header = 200;
        c.max_body = 1000;
        memset(&how, 0, sizeof how);
        probe_stream(&s, 4, 0, ending, starts, &n);
        log = probe_run(&c, &how, &s, NULL, 0);
        snprintf(status, sizeof status, "%s off=", frame_errname(want[ending]));
        cr_expect(strstr(log, status) != NULL, "ending %u: %s", ending, log);
        cr_expect(strstr(log, "frame=4 fed=") != NULL, "ending %u: four frames before it: %s",
                  ending, log);
        free(log);
        sb_free(&s);
    }
}

Test(decoder, reset_in_a_callback_gives_the_same_log_whole_or_split)
{
    /* Not a use anyone needs, but what a callback sees and what follows it
     * must not depend on how the stream was cut. */
    unsigned long k;
    for (k = 1; k <= 8; k++) {
        frame_config c;
        probe how;
        sbuf s = {0};
        size_t starts[8], n;
        char what[32];
        memset(&c, 0, sizeof c);
        c.max_header = 200;
        c.max_body = 1000;
        memset(&how, 0, sizeof how);
        how.reset_at = k;
        probe_stream(&s, 4, 0, 0, starts, &n);
        snprintf(what, sizeof what, "reset at callback %lu", k);
        probe_expect_same(&c, &how, &s, starts, n, what);
        sb_free(&s);
    }
}

/* ---- errors, reset, finish ---------------------------------------------- */

Test(decoder, error_in_a_later_frame_has_its_index_and_stream_offset)
{
    sbuf s = {0};
    fx f;
    feed_stats st;
    size_t f1;
    three_frames(&s, NULL);
    f1 = s.len;
    sb_frame(&s, 4, 0, "{\"size\":0,}", "", 0);
    fx_init(&f, NULL);
    fx_run(&f, &s, NULL, 0, &st);
    cr_expect_eq(st.err, FRAME_E_JSON_SYNTAX);
    cr_expect_eq(st.offset, (uint64_t)(f1 + 4 + 10), "at the '}' after the comma");
    cr_expect_eq(st.frame, 3u);
    cr_expect_eq(frame_decoder_limit(&f.d), 0u);
    cr_expect_eq(f.r.nframes, 3u);
    feed_stats_free(&st);
    fx_free(&f);
    sb_free(&s);
}

Test(decoder, reset_clears_the_error_and_starts_a_new_stream)
{
    sbuf good = {0}, want = {0};
    fx f;
    int marker;
    three_frames(&good, &want);
    sb_adds(&want, "OK\n");
    fx_init(&f, NULL);
    f.r.fail_kind = REC_BODY;
    f.r.fail_at = 1;
    f.r.fail_code = -3;
    frame_feed(&f.d, good.p, good.len);
    cr_assert_eq(frame_decoder_errno(&f.d), FRAME_E_CALLBACK);
    f.d.data = &marker;
    frame_decoder_reset(&f.d);
    cr_expect_eq(f.d.data, &marker, "reset keeps data");
    f.d.data = &f.r;
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_OK);
    cr_expect_eq(frame_decoder_offset(&f.d), 0u);
    cr_expect_eq(frame_decoder_frame_index(&f.d), 0u);
    cr_expect_eq(frame_decoder_callback_code(&f.d), 0);
    cr_expect_eq(frame_decoder_needed(&f.d), 0u);
    cr_expect_eq(frame_decoder_limit(&f.d), 0u);
    rec_free(&f.r);
    rec_init(&f.r);
    f.r.hdr_lo = f.hbuf;
    f.r.hdr_hi = f.hbuf + f.hcap;
    cr_expect_str_eq(fx_run(&f, &good, NULL, 0, NULL), sb_str(&want));
    cr_expect_eq(frame_decoder_frame_index(&f.d), 3u);
    sb_free(&good);
    sb_free(&want);
    fx_free(&f);
}

Test(decoder, reset_in_the_middle_of_a_header_forgets_it)
{
    sbuf good = {0}, want = {0};
    fx f;
    three_frames(&good, &want);
    sb_adds(&want, "OK\n");
    fx_init(&f, NULL);
    cr_assert_eq(frame_feed(&f.d, good.p, 9), 9u);
    frame_decoder_reset(&f.d);
    cr_expect_eq(frame_decoder_offset(&f.d), 0u);
    cr_expect_str_eq(fx_run(&f, &good, NULL, 0, NULL), sb_str(&want));
    sb_free(&good);
    sb_free(&want);
    fx_free(&f);
}

Test(decoder, reset_clears_a_pause)
{
    sbuf good = {0};
    fx f;
    three_frames(&good, NULL);
    fx_init(&f, NULL);
    f.r.pause_mask = REC_HEADER;
    frame_feed(&f.d, good.p, good.len);
    cr_assert_eq(frame_decoder_errno(&f.d), FRAME_E_PAUSED);
    frame_decoder_reset(&f.d);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_OK);
    cr_expect_eq(frame_decoder_offset(&f.d), 0u);
    sb_free(&good);
    fx_free(&f);
}

Test(decoder, finish_at_a_frame_boundary_is_ok)
{
    sbuf s = {0};
    fx f;
    uint64_t missing = 99;
    fx_init(&f, NULL);
    cr_expect_eq(frame_finish(&f.d, NULL), FRAME_OK, "empty stream");
    three_frames(&s, NULL);
    cr_assert_eq(frame_feed(&f.d, s.p, s.len), s.len);
    cr_expect_eq(frame_finish(&f.d, &missing), FRAME_OK);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_OK);
    sb_free(&s);
    fx_free(&f);
}

/* Feeds the first `cut` bytes of s, then checks finish's TRUNCATED report. */
static void check_truncated(const sbuf *s, size_t cut, uint64_t want_missing, uint64_t want_frame)
{
    fx f;
    uint64_t missing = 0;
    fx_init(&f, NULL);
    cr_assert_eq(frame_feed(&f.d, s->p, cut), cut);
    cr_expect_eq(frame_decoder_needed(&f.d), want_missing, "needed after %zu bytes", cut);
    cr_expect_eq(frame_finish(&f.d, &missing), FRAME_E_TRUNCATED, "after %zu bytes", cut);
    cr_expect_eq(missing, want_missing, "missing after %zu bytes", cut);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_TRUNCATED);
    cr_expect_eq(frame_decoder_offset(&f.d), (uint64_t)cut);
    cr_expect_eq(frame_decoder_frame_index(&f.d), want_frame);
    cr_expect_eq(frame_feed(&f.d, s->p + cut, 1), 0u, "failed decoder consumes nothing");
    cr_expect_eq(frame_finish(&f.d, NULL), FRAME_E_TRUNCATED);
    fx_free(&f);
}

Test(decoder, finish_inside_a_frame_reports_truncated_with_missing_count)
{
    sbuf s = {0};
    size_t h0 = strlen(H0), f0 = 4 + h0 + 5, h1 = strlen(H1);
    three_frames(&s, NULL);
    check_truncated(&s, 1, 3, 0);            /* inside the prefix */
    check_truncated(&s, 4, h0, 0);           /* prefix complete */
    check_truncated(&s, 4 + 7, h0 - 7, 0);   /* inside the header */
    check_truncated(&s, 4 + h0, 5, 0);       /* header complete */
    check_truncated(&s, 4 + h0 + 2, 3, 0);   /* inside the body */
    check_truncated(&s, f0 + 3, 1, 1);       /* frame 1's prefix */
    check_truncated(&s, f0 + 4 + 1, h1 - 1, 1);
    sb_free(&s);
}

Test(decoder, needed_follows_prefix_header_and_body)
{
    sbuf s = {0};
    fx f;
    size_t i, h0 = strlen(H0);
    three_frames(&s, NULL);
    fx_init(&f, NULL);
    for (i = 0; i < 4 + h0 + 5; i++) {
        uint64_t want = i == 0 ? 0 : i < 4 ? 4 - i : i < 4 + h0 ? 4 + h0 - i : 4 + h0 + 5 - i;
        cr_expect_eq(frame_decoder_needed(&f.d), want, "after %zu bytes", i);
        cr_assert_eq(frame_feed(&f.d, s.p + i, 1), 1u);
    }
    cr_expect_eq(frame_decoder_needed(&f.d), 0u);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, declared_size_is_the_prefix_then_the_body_size)
{
    sbuf s = {0};
    fx f;
    size_t h0 = strlen(H0);
    three_frames(&s, NULL);
    fx_init(&f, NULL);
    cr_assert_eq(frame_feed(&f.d, s.p, 5), 5u);
    cr_expect_eq(frame_decoder_declared_size(&f.d), (uint64_t)h0);
    cr_assert_eq(frame_feed(&f.d, s.p + 5, h0), h0); /* rest of the header + 1 body byte */
    cr_expect_eq(frame_decoder_declared_size(&f.d), 5u);
    cr_expect_eq(frame_decoder_limit(&f.d), 0u);
    sb_free(&s);
    fx_free(&f);
}

Test(decoder, header_too_large_is_detected_at_the_prefix)
{
    fx f;
    unsigned char p[4];
    size_t n;
    fx_init(&f, NULL);
    put_prefix(p, 4, 0, FRAME_DEFAULT_MAX_HEADER + 1);
    n = frame_feed(&f.d, p, 4);
    cr_expect_leq(n, 4u);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_HEADER_TOO_LARGE);
    cr_expect_eq(frame_decoder_offset(&f.d), 0u);
    cr_expect_eq(frame_decoder_declared_size(&f.d), FRAME_DEFAULT_MAX_HEADER + 1);
    cr_expect_eq(frame_decoder_limit(&f.d), FRAME_DEFAULT_MAX_HEADER);
    fx_free(&f);
}

Test(decoder, header_too_large_with_a_small_limit_and_wide_prefix)
{
    fx f;
    frame_config c;
    sbuf s = {0};
    feed_stats st;
    unsigned char p[8];
    memset(&c, 0, sizeof c);
    c.max_header = 10;
    c.prefix_width = 8;
    c.big_endian = 1;
    fx_init(&f, &c);
    sb_frame(&s, 8, 1, "{\"size\":0}", "", 0); /* exactly 10: fine */
    put_prefix(p, 8, 1, 11);
    sb_add(&s, p, 8);
    sb_adds(&s, "{\"size\":0} ");
    fx_run(&f, &s, NULL, 0, &st);
    cr_expect_eq(st.err, FRAME_E_HEADER_TOO_LARGE);
    cr_expect_eq(st.offset, 18u);
    cr_expect_eq(st.frame, 1u);
    cr_expect_eq(frame_decoder_declared_size(&f.d), 11u);
    cr_expect_eq(frame_decoder_limit(&f.d), 10u);
    feed_stats_free(&st);
    fx_free(&f);
    sb_free(&s);

    fx_init(&f, &c);
    put_prefix(p, 8, 1, UINT64_MAX);
    cr_expect_leq(frame_feed(&f.d, p, 8), 8u);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_HEADER_TOO_LARGE);
    cr_expect_eq(frame_decoder_declared_size(&f.d), UINT64_MAX);
    fx_free(&f);
}

Test(decoder, header_empty_at_the_frame_start)
{
    sbuf s = {0};
    fx f;
    feed_stats st;
    size_t f1;
    sb_frame(&s, 4, 0, "{\"size\":0}", "", 0);
    f1 = s.len;
    sb_add(&s, "\0\0\0\0{}", 6);
    fx_init(&f, NULL);
    fx_run(&f, &s, NULL, 0, &st);
    cr_expect_eq(st.err, FRAME_E_HEADER_EMPTY);
    cr_expect_eq(st.offset, (uint64_t)f1);
    cr_expect_eq(st.frame, 1u);
    feed_stats_free(&st);
    fx_free(&f);
    sb_free(&s);
}

Test(decoder, body_too_large_reports_declared_size_and_limit)
{
    fx f;
    frame_config c;
    sbuf s = {0};
    feed_stats st;
    memset(&c, 0, sizeof c);
    c.max_body = 100;
    fx_init(&f, &c);
    sb_frame(&s, 4, 0, "{\"size\":101,\"x\":\"never looked at", "", 0);
    fx_run(&f, &s, NULL, 0, &st);
    cr_expect_eq(st.err, FRAME_E_BODY_TOO_LARGE);
    cr_expect_eq(st.offset, 4u + 8u, "at the value's first byte");
    cr_expect_eq(frame_decoder_declared_size(&f.d), 101u);
    cr_expect_eq(frame_decoder_limit(&f.d), 100u);
    feed_stats_free(&st);
    fx_free(&f);
    sb_free(&s);

    fx_init(&f, NULL);
    sb_frame(&s, 4, 0, "{\"a\":1,\"size\":99999999999999999999999}", "", 0);
    fx_run(&f, &s, NULL, 0, &st);
    cr_expect_eq(st.err, FRAME_E_BODY_TOO_LARGE);
    cr_expect_eq(st.offset, 4u + 14u);
    cr_expect_eq(frame_decoder_declared_size(&f.d), UINT64_MAX, "saturated");
    cr_expect_eq(frame_decoder_limit(&f.d), FRAME_MAX_BODY_LIMIT);
    feed_stats_free(&st);
    fx_free(&f);
    sb_free(&s);
}

Test(decoder, raw_profile_body_too_large)
{
    fx f;
    frame_config c;
    unsigned char p[8];
    memset(&c, 0, sizeof c);
    c.raw = 1;
    c.max_body = 10;
    c.prefix_width = 8;
    fx_init(&f, &c);
    put_prefix(p, 8, 0, 11);
    frame_feed(&f.d, p, 8);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_BODY_TOO_LARGE);
    cr_expect_eq(frame_decoder_offset(&f.d), 0u);
    cr_expect_eq(frame_decoder_declared_size(&f.d), 11u);
    cr_expect_eq(frame_decoder_limit(&f.d), 10u);
    fx_free(&f);
}

Test(decoder, http_request_looks_like_text)
{
    sbuf s = {0};
    fx f;
    feed_stats st;
    size_t f1;
    sb_frame(&s, 4, 0, "{\"size\":0}", "", 0);
    f1 = s.len;
    sb_adds(&s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    fx_init(&f, NULL);
    fx_run(&f, &s, NULL, 0, &st);
    cr_expect_eq(st.err, FRAME_E_LOOKS_LIKE_TEXT);
    cr_expect_eq(st.offset, (uint64_t)f1);
    cr_expect_eq(st.frame, 1u);
    feed_stats_free(&st);
    fx_free(&f);
    sb_free(&s);
}

Test(decoder, text_check_allows_tab_cr_lf)
{
    fx f;
    fx_init(&f, NULL);
    frame_feed(&f.d, "\t\r\n~", 4);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_LOOKS_LIKE_TEXT);
    fx_free(&f);
    fx_init(&f, NULL);
    frame_feed(&f.d, "ab\x7f" "c", 4); /* DEL is not text */
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_HEADER_TOO_LARGE);
    fx_free(&f);
}

Test(decoder, tls_client_hello_looks_like_tls)
{
    fx f;
    static const unsigned char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
    fx_init(&f, NULL);
    frame_feed(&f.d, hello, sizeof hello);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_LOOKS_LIKE_TLS);
    cr_expect_eq(frame_decoder_offset(&f.d), 0u);
    fx_free(&f);
}

Test(decoder, small_prefixes_are_never_text_or_tls)
{
    /* "GE" as a 2-octet little-endian prefix is 17735 <= 65536: a header length */
    fx f;
    frame_config c;
    memset(&c, 0, sizeof c);
    c.prefix_width = 2;
    fx_init(&f, &c);
    cr_expect_eq(frame_feed(&f.d, "GET", 3), 3u);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_OK, "still waiting for the header");
    cr_expect_eq(frame_decoder_declared_size(&f.d), 0x4547u);
    fx_free(&f);
}

Test(decoder, foreign_prefix_octets_are_classified_in_wire_order_for_every_width_and_order)
{
    /* SPEC.md 7.3 looks at the octets as they come, whatever the byte
     * order: 16 03 first is TLS, 03 16 first is not. Whole and one octet
     * at a time (the straight path leaves them to the machine). */
    static const unsigned char in[3][8] = {{0x16, 0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                           {0x03, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                           {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T'}};
    static const frame_errno want[3] = {FRAME_E_LOOKS_LIKE_TLS, FRAME_E_HEADER_TOO_LARGE,
                                        FRAME_E_LOOKS_LIKE_TEXT};
    unsigned run, k;
    size_t i;
    /* run: bit 0 big-endian, bit 1 one octet at a time, bits 2-3 width 2, 4, 8 */
    for (run = 0; run < 12; run++)
        for (k = 0; k < 3; k++) {
            frame_config c;
            fx f;
            memset(&c, 0, sizeof c);
            c.prefix_width = 2u << (run >> 2);
            c.big_endian = (int)(run & 1);
            c.max_header = 2; /* every prefix here is over it */
            fx_init(&f, &c);
            for (i = 0; i < c.prefix_width; i += (run & 2) ? 1 : c.prefix_width)
                frame_feed(&f.d, in[k] + i, (run & 2) ? 1 : c.prefix_width);
            cr_expect_eq(frame_decoder_errno(&f.d), want[k], "run %u, input %u", run, k);
            cr_expect_eq(frame_decoder_offset(&f.d), 0u);
            fx_free(&f);
        }
}

/* ---- datagrams ----------------------------------------------------------- */

Test(datagram, one_frame_runs_all_callbacks_in_place)
{
    sbuf s = {0}, want = {0};
    fx f;
    feed_stats st;
    sb_frame(&s, 4, 0, H0, B0, 5);
    expect_frame(&want, H0, B0, 5);
    sb_adds(&want, "OK\n");
    fx_init(&f, NULL);
    cr_assert_eq(feed_datagram(&f.d, &f.r, (const unsigned char *)s.p, s.len, &st), 0, "%s",
                 f.r.why);
    cr_assert_not(f.r.bad, "%s", f.r.why);
    cr_expect_eq(st.err, FRAME_OK);
    cr_expect_str_eq(sb_str(&f.r.log), sb_str(&want));
    cr_expect_eq(frame_decoder_frame_index(&f.d), 1u);
    cr_expect_eq(frame_finish(&f.d, NULL), FRAME_OK);
    fx_free(&f);
    sb_free(&s);
    sb_free(&want);
}

static void check_datagram(const void *data, size_t len, frame_errno want, uint64_t offset)
{
    fx f;
    feed_stats st;
    fx_init(&f, NULL);
    cr_assert_eq(feed_datagram(&f.d, &f.r, data, len, &st), 0, "%s", f.r.why);
    cr_expect_eq(st.err, want, "got %s, want %s", frame_errname(st.err), frame_errname(want));
    cr_expect_eq(st.offset, offset, "%s offset", frame_errname(want));
    cr_expect_eq(st.frame, 0u);
    cr_expect_eq(f.r.n_header + f.r.n_body + f.r.n_end, 0ul, "no callback for a bad datagram");
    fx_free(&f);
}

Test(datagram, truncated_and_trailing)
{
    sbuf s = {0};
    size_t h0 = strlen(H0), full;
    sb_frame(&s, 4, 0, H0, B0, 5);
    full = s.len;
    check_datagram(s.p, 0, FRAME_E_DATAGRAM_TRUNCATED, 0);
    check_datagram(s.p, 3, FRAME_E_DATAGRAM_TRUNCATED, 3);
    check_datagram(s.p, 4, FRAME_E_DATAGRAM_TRUNCATED, 4);
    check_datagram(s.p, 4 + h0 - 1, FRAME_E_DATAGRAM_TRUNCATED, 4 + h0 - 1);
    check_datagram(s.p, 4 + h0, FRAME_E_DATAGRAM_TRUNCATED, 4 + h0);
    check_datagram(s.p, full - 1, FRAME_E_DATAGRAM_TRUNCATED, full - 1);
    sb_adds(&s, "X");
    check_datagram(s.p, full + 1, FRAME_E_DATAGRAM_TRAILING, full);
    sb_frame(&s, 4, 0, H1, "", 0);
    check_datagram(s.p, s.len, FRAME_E_DATAGRAM_TRAILING, full);
    sb_free(&s);
}

Test(datagram, checks_run_in_order)
{
    sbuf s = {0};
    unsigned char p[4];
    /* prefix checks come before the length check against W+H */
    put_prefix(p, 4, 0, FRAME_DEFAULT_MAX_HEADER + 1);
    check_datagram(p, 4, FRAME_E_HEADER_TOO_LARGE, 0);
    check_datagram("\0\0\0\0", 4, FRAME_E_HEADER_EMPTY, 0);
    check_datagram("GET / HTTP/1.0\r\n\r\n", 18, FRAME_E_LOOKS_LIKE_TEXT, 0);
    /* the length check against W+H comes before header validation */
    sb_frame(&s, 4, 0, "{\"size\":1,\"a\":x}", "b", 1);
    check_datagram(s.p, 10, FRAME_E_DATAGRAM_TRUNCATED, 10);
    /* header validation comes before the length check against W+H+N */
    check_datagram(s.p, 4 + 16, FRAME_E_JSON_SYNTAX, 4 + 14);
    sb_adds(&s, "trailing");
    check_datagram(s.p, s.len, FRAME_E_JSON_SYNTAX, 4 + 14);
    sb_free(&s);
}

Test(datagram, counts_frames_and_offsets_restart_per_datagram)
{
    sbuf a = {0}, bad = {0};
    fx f;
    feed_stats st;
    sb_frame(&a, 4, 0, H1, "", 0);
    sb_frame(&bad, 4, 0, "{\"size\":2}", "x", 1);
    fx_init(&f, NULL);
    cr_assert_eq(feed_datagram(&f.d, &f.r, (const unsigned char *)a.p, a.len, &st), 0);
    cr_assert_eq(feed_datagram(&f.d, &f.r, (const unsigned char *)a.p, a.len, &st), 0);
    cr_assert_eq(st.err, FRAME_OK);
    cr_expect_eq(frame_decoder_frame_index(&f.d), 2u);
    cr_assert_eq(feed_datagram(&f.d, &f.r, (const unsigned char *)bad.p, bad.len, &st), 0,
                 "%s", f.r.why);
    cr_expect_eq(st.err, FRAME_E_DATAGRAM_TRUNCATED);
    cr_expect_eq(st.offset, (uint64_t)bad.len);
    cr_expect_eq(st.frame, 2u);
    /* sticky until reset */
    cr_expect_eq(frame_feed_datagram(&f.d, a.p, a.len), FRAME_E_DATAGRAM_TRUNCATED);
    cr_expect_eq(f.r.n_header, 2ul);
    frame_decoder_reset(&f.d);
    cr_expect_eq(frame_feed_datagram(&f.d, a.p, a.len), FRAME_OK);
    cr_expect_eq(frame_decoder_frame_index(&f.d), 1u);
    fx_free(&f);
    sb_free(&a);
    sb_free(&bad);
}

Test(datagram, pause_in_frame_end_returns_paused_with_the_frame_complete)
{
    sbuf a = {0};
    fx f;
    sb_frame(&a, 4, 0, H0, B0, 5);
    fx_init(&f, NULL);
    f.r.pause_mask = REC_END;
    f.r.feed_lo = (const unsigned char *)a.p;
    f.r.feed_hi = f.r.feed_lo + a.len;
    f.r.datagram = 1;
    cr_expect_eq(frame_feed_datagram(&f.d, a.p, a.len), FRAME_E_PAUSED);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_PAUSED);
    cr_expect_eq(f.r.nframes, 1u);
    frame_decoder_resume(&f.d);
    cr_expect_eq(frame_feed_datagram(&f.d, a.p, a.len), FRAME_E_PAUSED);
    cr_expect_eq(f.r.nframes, 2u);
    cr_expect_eq(frame_decoder_frame_index(&f.d), 2u);
    cr_assert_not(f.r.bad, "%s", f.r.why);
    fx_free(&f);
    sb_free(&a);
}

Test(decoder, foreign_protocol_reports_the_limit_it_broke)
{
    frame_config c;
    fx f;
    fx_init(&f, NULL);
    cr_expect_eq(frame_feed(&f.d, "GET / HTTP/1.1\r\n", 16), 4u);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_LOOKS_LIKE_TEXT);
    cr_expect_eq(frame_decoder_limit(&f.d), FRAME_DEFAULT_MAX_HEADER);
    cr_expect_eq(frame_decoder_declared_size(&f.d), 0x20544547u);
    fx_free(&f);

    memset(&c, 0, sizeof c);
    c.raw = 1;
    c.max_body = 1000;
    fx_init(&f, &c);
    cr_expect_eq(frame_feed(&f.d, "\x16\x03\x01\x02", 4), 4u);
    cr_expect_eq(frame_decoder_errno(&f.d), FRAME_E_LOOKS_LIKE_TLS);
    cr_expect_eq(frame_decoder_limit(&f.d), 1000u, "raw profile: the body limit");
    fx_free(&f);
}

Test(datagram, pause_in_header_or_body_still_delivers_the_whole_frame)
{
    /* A datagram cannot be fed again, so a pause asked for by on_header or
     * on_body takes effect at the end of the frame: every callback of the
     * frame has run when frame_feed_datagram returns FRAME_E_PAUSED. */
    static const unsigned masks[] = {REC_HEADER, REC_BODY, REC_HEADER | REC_BODY | REC_END};
    size_t i;
    for (i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        sbuf a = {0};
        fx f;
        sb_frame(&a, 4, 0, H0, B0, 5);
        fx_init(&f, NULL);
        f.r.pause_mask = masks[i];
        f.r.feed_lo = (const unsigned char *)a.p;
        f.r.feed_hi = f.r.feed_lo + a.len;
        f.r.datagram = 1;
        cr_expect_eq(frame_feed_datagram(&f.d, a.p, a.len), FRAME_E_PAUSED, "mask %u", masks[i]);
        cr_expect_eq(f.r.n_header, 1ul, "mask %u", masks[i]);
        cr_expect_eq(f.r.n_end, 1ul, "mask %u: the frame end came too", masks[i]);
        cr_expect_eq(f.r.nframes, 1u, "mask %u", masks[i]);
        cr_expect_eq(frame_decoder_frame_index(&f.d), 1u, "mask %u", masks[i]);
        cr_expect_eq(frame_decoder_needed(&f.d), 0u, "mask %u: at a frame boundary", masks[i]);
        frame_decoder_resume(&f.d);
        cr_expect_eq(frame_decoder_errno(&f.d), FRAME_OK, "mask %u", masks[i]);
        cr_assert_not(f.r.bad, "%s", f.r.why);
        fx_free(&f);
        sb_free(&a);
    }
}

Test(datagram, skip_and_callback_errors)
{
    sbuf a = {0};
    fx f;
    sb_frame(&a, 4, 0, H0, B0, 5);
    fx_init(&f, NULL);
    f.r.header_ret = FRAME_SKIP;
    cr_expect_eq(frame_feed_datagram(&f.d, a.p, a.len), FRAME_OK);
    cr_expect_eq(f.r.n_body, 0ul);
    cr_expect_eq(f.r.n_end, 1ul);
    fx_free(&f);
    fx_init(&f, NULL);
    f.r.fail_kind = REC_BODY;
    f.r.fail_at = 1;
    f.r.fail_code = -9;
    cr_expect_eq(frame_feed_datagram(&f.d, a.p, a.len), FRAME_E_CALLBACK);
    cr_expect_eq(frame_decoder_callback_code(&f.d), -9);
    cr_expect_eq(f.r.n_end, 0ul);
    fx_free(&f);
    sb_free(&a);
}

Test(datagram, header_buffer_is_not_used)
{
    sbuf a = {0};
    fx f;
    feed_stats st;
    size_t i;
    sb_frame(&a, 4, 0, H0, B0, 5);
    fx_init(&f, NULL);
    memset(f.hbuf, 0xEE, f.hcap);
    cr_assert_eq(feed_datagram(&f.d, &f.r, (const unsigned char *)a.p, a.len, &st), 0, "%s",
                 f.r.why);
    cr_expect_eq(st.err, FRAME_OK);
    for (i = 0; i < f.hcap; i++)
        if (f.hbuf[i] != 0xEE)
            cr_assert_fail("header buffer written at %zu", i);
    fx_free(&f);
    sb_free(&a);
}

Test(datagram, needs_a_frame_boundary)
{
    sbuf a = {0};
    fx f;
    sb_frame(&a, 4, 0, H0, B0, 5);
    fx_init(&f, NULL);
    cr_assert_eq(frame_feed(&f.d, a.p, 2), 2u);
    cr_expect_eq(frame_feed_datagram(&f.d, a.p, a.len), FRAME_E_ARGUMENT);
    cr_expect_eq(f.r.n_header, 0ul);
    fx_free(&f);
    sb_free(&a);
}

/* ---- big streams ------------------------------------------------------- */

typedef struct sum_state {
    uint64_t a, b, got, chunks;
    unsigned char part[8];
    unsigned plen;
    unsigned long headers, ends;
    uint64_t body_size;
} sum_state;

/* Fletcher-style sums over 64-bit little-endian words of the byte stream,
 * independent of how the stream is chunked. */
static void sum_update(sum_state *s, const unsigned char *p, size_t len)
{
    uint64_t a = s->a, b = s->b, w;
    s->got += len;
    while (len && s->plen) {
        s->part[s->plen++] = *p++;
        len--;
        if (s->plen == 8) {
            memcpy(&w, s->part, 8);
            a += w;
            b += a;
            s->plen = 0;
        }
    }
    while (len >= 8) {
        memcpy(&w, p, 8);
        a += w;
        b += a;
        p += 8;
        len -= 8;
    }
    while (len) {
        s->part[s->plen++] = *p++;
        len--;
    }
    s->a = a;
    s->b = b;
}

static int sum_on_header(frame_decoder *d, const frame_header *h)
{
    sum_state *s = d->data;
    s->headers++;
    s->body_size = h->body_size;
    return FRAME_CONTINUE;
}

static int sum_on_body(frame_decoder *d, const void *at, size_t len)
{
    sum_state *s = d->data;
    s->chunks++;
    sum_update(s, at, len);
    return FRAME_CONTINUE;
}

static int sum_on_end(frame_decoder *d)
{
    sum_state *s = d->data;
    s->ends++;
    return FRAME_CONTINUE;
}

static const frame_callbacks sum_callbacks = {sum_on_header, sum_on_body, sum_on_end};

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

Test(decoder, ten_gib_body_streams_in_constant_memory, .timeout = 240)
{
    const uint64_t total = 10ull << 30;
    const size_t chunk = 1u << 20, words = chunk / 8;
    uint64_t *buf = xmalloc(chunk), ea = 0, eb = 0, g = 0, k, nchunks = total / chunk;
    static unsigned char hbuf[FRAME_DEFAULT_MAX_HEADER];
    frame_decoder d;
    sum_state st;
    sbuf head = {0};
    long rss0;
    memset(&st, 0, sizeof st);
    sb_printf(&head, "{\"size\":%llu,\"name\":\"big\"}", (unsigned long long)total);
    {
        sbuf fr = {0};
        sb_frame(&fr, 4, 0, sb_str(&head), "", 0);
        sb_free(&head);
        head = fr;
    }
    memset(buf, 0, chunk);
    rss0 = max_rss_kib();
    cr_assert_eq(frame_decoder_init(&d, NULL, &sum_callbacks, hbuf, sizeof hbuf, &st), FRAME_OK);
    cr_assert_eq(frame_feed(&d, head.p, head.len), head.len);
    cr_assert_eq(st.headers, 1ul);
    cr_assert_eq(st.body_size, total);
    for (k = 0; k < nchunks; k++) {
        size_t j;
        for (j = 0; j < words; j++, g++) {
            uint64_t w = (g + 1) * 0x9E3779B97F4A7C15ull;
            w ^= w >> 29;
            buf[j] = w;
            ea += w;
            eb += ea;
        }
        if (frame_feed(&d, buf, chunk) != chunk)
            cr_assert_fail("chunk %llu not consumed: %s", (unsigned long long)k,
                           frame_errname(frame_decoder_errno(&d)));
        if ((k & 1023) == 0)
            cr_assert_eq(frame_decoder_needed(&d), total - (k + 1) * chunk);
    }
    cr_expect_eq(st.got, total);
    cr_expect_eq(st.plen, 0u);
    cr_expect_eq(st.a, ea, "checksum a");
    cr_expect_eq(st.b, eb, "checksum b");
    cr_expect_eq(st.ends, 1ul);
    cr_expect_geq(st.chunks, nchunks);
    cr_expect_eq(frame_decoder_offset(&d), head.len + total);
    cr_expect_eq(frame_decoder_frame_index(&d), 1u);
    cr_expect_eq(frame_finish(&d, NULL), FRAME_OK);
    cr_expect_lt(max_rss_kib() - rss0, 64L * 1024, "memory grew by %ld KiB",
                 max_rss_kib() - rss0);
    free(buf);
    sb_free(&head);
}

Test(decoder, one_million_empty_frames, .timeout = 120)
{
    const size_t nframes = 1000000;
    static unsigned char hbuf[FRAME_DEFAULT_MAX_HEADER];
    sbuf one = {0};
    unsigned char *stream;
    size_t i, pos, len;
    frame_decoder d;
    sum_state st;
    memset(&st, 0, sizeof st);
    sb_frame(&one, 4, 0, "{\"size\":0}", "", 0);
    len = one.len * nframes;
    stream = xmalloc(len);
    for (i = 0; i < nframes; i++)
        memcpy(stream + i * one.len, one.p, one.len);
    cr_assert_eq(frame_decoder_init(&d, NULL, &sum_callbacks, hbuf, sizeof hbuf, &st), FRAME_OK);
    for (pos = 0; pos < len;) {
        size_t n = len - pos < 4093 ? len - pos : 4093;
        cr_assert_eq(frame_feed(&d, stream + pos, n), n, "at %zu: %s", pos,
                     frame_errname(frame_decoder_errno(&d)));
        pos += n;
    }
    cr_expect_eq(st.headers, (unsigned long)nframes);
    cr_expect_eq(st.ends, (unsigned long)nframes);
    cr_expect_eq(st.chunks, 0u);
    cr_expect_eq(frame_decoder_frame_index(&d), (uint64_t)nframes);
    cr_expect_eq(frame_decoder_offset(&d), (uint64_t)len);
    cr_expect_eq(frame_finish(&d, NULL), FRAME_OK);
    free(stream);
    sb_free(&one);
}
