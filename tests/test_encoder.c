/* The encoder: frame_write, the streaming form, short writes and failures. */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

/* A transport that records what it takes. */
typedef struct sink {
    sbuf out;
    size_t per_call;      /* take at most this many per call (0 = all) */
    int zero_on_odd;      /* return 0 on every other call (1st, 3rd, ...) */
    size_t fail_at;       /* fail once this many bytes were taken (0 = never) */
    long fail_code;
    unsigned long calls;
} sink;

static long sink_write(void *ctx, const void *data, size_t len)
{
    sink *s = ctx;
    size_t n = len;
    s->calls++;
    if (len == 0)
        return 0;
    if (s->zero_on_odd && (s->calls & 1))
        return 0;
    if (s->fail_at && s->out.len >= s->fail_at)
        return s->fail_code;
    if (s->per_call && n > s->per_call)
        n = s->per_call;
    if (s->fail_at && s->out.len + n > s->fail_at)
        n = s->fail_at - s->out.len;
    sb_add(&s->out, data, n);
    return (long)n;
}

/* A head with a few members for a body of `body_size`. */
static void make_head(frame_builder *b, unsigned char *buf, size_t cap, uint64_t body_size)
{
    cr_assert_eq(frame_builder_init(b, NULL, buf, cap, body_size), FRAME_OK);
    cr_assert_eq(frame_builder_add_string(b, "file_name", "r\xc3\xa9sum\xc3\xa9.txt"), FRAME_OK);
    cr_assert_eq(frame_builder_add_int64(b, "n", -1), FRAME_OK);
    cr_assert_eq(frame_builder_finish(b, NULL, NULL), FRAME_OK);
}

/* The expected bytes: head then body. */
static void expected(sbuf *want, frame_builder *b, const void *body, size_t len)
{
    const void *head;
    size_t hlen;
    cr_assert_eq(frame_builder_finish(b, &head, &hlen), FRAME_OK);
    want->len = 0;
    sb_add(want, head, hlen);
    sb_add(want, body, len);
}

static const char BODY[] = "The quick brown fox jumps over the lazy dog.";
#define BODY_LEN (sizeof BODY - 1)

Test(encoder, write_sends_the_head_then_the_body)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    sbuf want = {0};
    make_head(&b, hb, sizeof hb, BODY_LEN);
    expected(&want, &b, BODY, BODY_LEN);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_expect_eq(frame_encoder_pending(&e), 0u);
    cr_expect_eq(frame_write(&e, &b, BODY, BODY_LEN), FRAME_OK);
    cr_expect_eq(frame_encoder_pending(&e), 0u);
    cr_assert_eq(s.out.len, want.len);
    cr_expect_arr_eq(s.out.p, want.p, want.len);
    /* and again: the encoder is ready for the next frame */
    cr_expect_eq(frame_write(&e, &b, BODY, BODY_LEN), FRAME_OK);
    cr_assert_eq(s.out.len, 2 * want.len);
    cr_expect_arr_eq(s.out.p + want.len, want.p, want.len);
    sb_free(&s.out);
    sb_free(&want);
}

Test(encoder, written_frame_decodes)
{
    frame_encoder e;
    frame_builder b;
    frame_decoder d;
    recorder r;
    feed_stats st;
    unsigned char hb[128];
    static unsigned char dbuf[FRAME_DEFAULT_MAX_HEADER];
    sink s = {0};
    make_head(&b, hb, sizeof hb, BODY_LEN);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_assert_eq(frame_write(&e, &b, BODY, BODY_LEN), FRAME_OK);
    rec_init(&r);
    cr_assert_eq(frame_decoder_init(&d, NULL, &rec_callbacks, dbuf, sizeof dbuf, &r), FRAME_OK);
    cr_assert_eq(feed_stream(&d, &r, (const unsigned char *)s.out.p, s.out.len, NULL, 0, &st), 0,
                 "%s", r.why);
    cr_expect_eq(st.err, FRAME_OK);
    cr_assert_eq(r.nframes, 1u);
    cr_expect_eq(r.frames[0].body_len, BODY_LEN);
    cr_expect_arr_eq(r.frames[0].body, BODY, BODY_LEN);
    feed_stats_free(&st);
    rec_free(&r);
    sb_free(&s.out);
}

Test(encoder, write_with_an_empty_body)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    sbuf want = {0};
    make_head(&b, hb, sizeof hb, 0);
    expected(&want, &b, "", 0);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_expect_eq(frame_write(&e, &b, NULL, 0), FRAME_OK);
    cr_assert_eq(s.out.len, want.len);
    cr_expect_arr_eq(s.out.p, want.p, want.len);
    sb_free(&s.out);
    sb_free(&want);
}

Test(encoder, write_refuses_a_body_of_another_size)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    make_head(&b, hb, sizeof hb, BODY_LEN);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_expect_eq(frame_write(&e, &b, BODY, BODY_LEN - 1), FRAME_E_SIZE_MISMATCH);
    cr_expect_eq(frame_write(&e, &b, BODY, BODY_LEN + 1), FRAME_E_SIZE_MISMATCH);
    cr_expect_eq(s.out.len, 0u, "nothing written");
    cr_expect_eq(s.calls, 0ul);
    sb_free(&s.out);
}

Test(encoder, write_returns_the_builders_error)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    cr_assert_eq(frame_builder_init(&b, NULL, hb, sizeof hb, 3), FRAME_OK);
    frame_builder_add_int64(&b, "a", 1);
    frame_builder_add_int64(&b, "a", 2);
    cr_assert_eq(frame_builder_finish(&b, NULL, NULL), FRAME_E_DUPLICATE_NAME);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_expect_eq(frame_write(&e, &b, "abc", 3), FRAME_E_DUPLICATE_NAME);
    cr_expect_eq(s.out.len, 0u, "nothing written");
    sb_free(&s.out);
}

Test(encoder, streaming_matches_frame_write)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    sbuf want = {0};
    make_head(&b, hb, sizeof hb, BODY_LEN);
    expected(&want, &b, BODY, BODY_LEN);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_expect_eq(frame_write_begin(&e, &b), FRAME_OK);
    cr_expect_eq(frame_write_body(&e, BODY, 10), FRAME_OK);
    cr_expect_eq(frame_write_body(&e, BODY + 10, 0), FRAME_OK);
    cr_expect_eq(frame_write_body(&e, BODY + 10, 1), FRAME_OK);
    cr_expect_eq(frame_write_body(&e, BODY + 11, BODY_LEN - 11), FRAME_OK);
    cr_expect_eq(frame_write_end(&e), FRAME_OK);
    cr_assert_eq(s.out.len, want.len);
    cr_expect_arr_eq(s.out.p, want.p, want.len);
    /* a second streamed frame, empty body */
    make_head(&b, hb, sizeof hb, 0);
    cr_expect_eq(frame_write_begin(&e, &b), FRAME_OK);
    cr_expect_eq(frame_write_end(&e), FRAME_OK);
    sb_free(&s.out);
    sb_free(&want);
}

Test(encoder, streaming_end_with_too_few_bytes_is_a_size_mismatch)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    make_head(&b, hb, sizeof hb, BODY_LEN);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_assert_eq(frame_write_begin(&e, &b), FRAME_OK);
    cr_assert_eq(frame_write_body(&e, BODY, BODY_LEN - 1), FRAME_OK);
    cr_expect_eq(frame_write_end(&e), FRAME_E_SIZE_MISMATCH);
    sb_free(&s.out);
}

Test(encoder, streaming_chunk_past_the_declared_size_is_refused_whole)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    size_t before;
    make_head(&b, hb, sizeof hb, 10);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_assert_eq(frame_write_begin(&e, &b), FRAME_OK);
    cr_assert_eq(frame_write_body(&e, BODY, 6), FRAME_OK);
    before = s.out.len;
    cr_expect_eq(frame_write_body(&e, BODY + 6, 5), FRAME_E_SIZE_MISMATCH);
    cr_expect_eq(s.out.len, before, "none of the refused chunk was written");
    sb_free(&s.out);

    /* the very first chunk too */
    memset(&s, 0, sizeof s);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_assert_eq(frame_write_begin(&e, &b), FRAME_OK);
    before = s.out.len;
    cr_expect_eq(frame_write_body(&e, BODY, 11), FRAME_E_SIZE_MISMATCH);
    cr_expect_eq(s.out.len, before);
    sb_free(&s.out);
}

Test(encoder, streaming_calls_out_of_order_are_argument_errors)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    make_head(&b, hb, sizeof hb, 3);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_expect_eq(frame_write_body(&e, "abc", 3), FRAME_E_ARGUMENT, "body before begin");
    cr_expect_eq(frame_write_end(&e), FRAME_E_ARGUMENT, "end before begin");
    cr_expect_eq(s.out.len, 0u);
    cr_assert_eq(frame_write_begin(&e, &b), FRAME_OK);
    cr_expect_eq(frame_write_begin(&e, &b), FRAME_E_ARGUMENT, "begin twice");
    sb_free(&s.out);

    memset(&s, 0, sizeof s);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_assert_eq(frame_write_begin(&e, &b), FRAME_OK);
    cr_assert_eq(frame_write_body(&e, "abc", 3), FRAME_OK);
    cr_assert_eq(frame_write_end(&e), FRAME_OK);
    cr_expect_eq(frame_write_body(&e, "d", 1), FRAME_E_ARGUMENT, "body after end");
    cr_expect_eq(frame_write_end(&e), FRAME_E_ARGUMENT, "end after end");
    sb_free(&s.out);
}

Test(encoder, begin_returns_the_builders_error)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    cr_assert_eq(frame_builder_init(&b, NULL, hb, sizeof hb, 3), FRAME_OK);
    frame_builder_add_string(&b, "bad", "\xff");
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_expect_eq(frame_write_begin(&e, &b), FRAME_E_BAD_UTF8);
    cr_expect_eq(s.out.len, 0u);
    sb_free(&s.out);
}

/* Drives resume until OK, checking pending shrinks; returns resume calls. */
static unsigned long resume_until_ok(frame_encoder *e, frame_errno first)
{
    unsigned long n = 0;
    frame_errno r = first;
    size_t pending = frame_encoder_pending(e);
    while (r == FRAME_E_WOULD_BLOCK) {
        cr_assert_gt(pending, 0u, "WOULD_BLOCK with nothing pending");
        cr_assert_lt(n, 1000000ul);
        r = frame_encoder_resume(e);
        n++;
        cr_assert(r == FRAME_OK || r == FRAME_E_WOULD_BLOCK, "resume: %s", frame_errname(r));
        cr_assert_leq(frame_encoder_pending(e), pending);
        pending = frame_encoder_pending(e);
    }
    cr_assert_eq(r, FRAME_OK, "%s", frame_errname(r));
    cr_expect_eq(frame_encoder_pending(e), 0u);
    return n;
}

Test(encoder, one_byte_at_a_time_transport_gives_identical_output)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    sbuf want = {0};
    frame_errno r;
    unsigned long resumes;
    make_head(&b, hb, sizeof hb, BODY_LEN);
    expected(&want, &b, BODY, BODY_LEN);
    s.per_call = 1;
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    r = frame_write(&e, &b, BODY, BODY_LEN);
    cr_expect_eq(r, FRAME_E_WOULD_BLOCK);
    cr_expect_eq(frame_encoder_pending(&e), want.len - s.out.len);
    resumes = resume_until_ok(&e, r);
    cr_expect_geq(resumes, want.len - 1 - 1, "about one byte per resume");
    cr_assert_eq(s.out.len, want.len);
    cr_expect_arr_eq(s.out.p, want.p, want.len);
    sb_free(&s.out);
    sb_free(&want);
}

Test(encoder, transport_taking_nothing_then_everything)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    sbuf want = {0};
    make_head(&b, hb, sizeof hb, BODY_LEN);
    expected(&want, &b, BODY, BODY_LEN);
    s.zero_on_odd = 1;
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_expect_eq(frame_write(&e, &b, BODY, BODY_LEN), FRAME_E_WOULD_BLOCK);
    cr_expect_eq(s.out.len, 0u);
    cr_expect_eq(frame_encoder_pending(&e), want.len);
    s.zero_on_odd = 0;
    cr_expect_eq(frame_encoder_resume(&e), FRAME_OK);
    cr_expect_eq(frame_encoder_pending(&e), 0u);
    cr_assert_eq(s.out.len, want.len);
    cr_expect_arr_eq(s.out.p, want.p, want.len);
    cr_expect_eq(frame_encoder_resume(&e), FRAME_OK, "nothing pending");
    sb_free(&s.out);
    sb_free(&want);
}

Test(encoder, streaming_through_a_stalling_transport)
{
    static const size_t chunks[] = {1, 7, 0, 20, BODY_LEN - 28};
    size_t mode;
    for (mode = 0; mode < 3; mode++) {
        frame_encoder e;
        frame_builder b;
        unsigned char hb[128];
        sink s = {0};
        sbuf want = {0};
        size_t i, at = 0;
        make_head(&b, hb, sizeof hb, BODY_LEN);
        expected(&want, &b, BODY, BODY_LEN);
        s.per_call = mode == 0 ? 1 : mode == 1 ? 3 : 0;
        s.zero_on_odd = mode != 0;
        cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
        resume_until_ok(&e, frame_write_begin(&e, &b));
        for (i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
            resume_until_ok(&e, frame_write_body(&e, BODY + at, chunks[i]));
            at += chunks[i];
        }
        cr_assert_eq(at, BODY_LEN);
        resume_until_ok(&e, frame_write_end(&e));
        cr_assert_eq(s.out.len, want.len, "mode %zu", mode);
        cr_expect_arr_eq(s.out.p, want.p, want.len, "mode %zu", mode);
        sb_free(&s.out);
        sb_free(&want);
    }
}

Test(encoder, failing_transport_is_a_write_error)
{
    static const size_t fail_at[] = {1, 5, 30};
    size_t i;
    for (i = 0; i < 3; i++) {
        frame_encoder e;
        frame_builder b;
        unsigned char hb[128];
        sink s = {0};
        frame_errno r;
        make_head(&b, hb, sizeof hb, BODY_LEN);
        s.fail_at = fail_at[i];
        s.fail_code = -5 - (long)i;
        s.per_call = 4;
        cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
        r = frame_write(&e, &b, BODY, BODY_LEN);
        while (r == FRAME_E_WOULD_BLOCK)
            r = frame_encoder_resume(&e);
        cr_expect_eq(r, FRAME_E_WRITE, "fail at %zu", fail_at[i]);
        cr_expect_eq(frame_encoder_write_result(&e), -5 - (long)i);
        cr_expect_eq(s.out.len, fail_at[i]);
        cr_expect_eq(frame_encoder_resume(&e), FRAME_E_WRITE, "sticky");
        sb_free(&s.out);
    }
}

Test(encoder, failing_transport_in_streaming_body)
{
    frame_encoder e;
    frame_builder b;
    unsigned char hb[128];
    sink s = {0};
    make_head(&b, hb, sizeof hb, BODY_LEN);
    cr_assert_eq(frame_encoder_init(&e, sink_write, &s), FRAME_OK);
    cr_assert_eq(frame_write_begin(&e, &b), FRAME_OK);
    s.fail_at = s.out.len + 3;
    s.fail_code = -32;
    {
        frame_errno r = frame_write_body(&e, BODY, 10);
        while (r == FRAME_E_WOULD_BLOCK)
            r = frame_encoder_resume(&e);
        cr_expect_eq(r, FRAME_E_WRITE);
    }
    cr_expect_eq(frame_encoder_write_result(&e), -32);
    sb_free(&s.out);
}
