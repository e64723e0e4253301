/* frame_write() handed a builder not yet finished: the frame is the one
 * frame_builder_finish() then frame_write() send, in one call, for every
 * prefix, and a transport that takes less or fails is answered as ever. */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

typedef struct taker {
    sbuf out;
    int calls;
    long limit; /* bytes taken per call (0: all); -1: the call fails */
} taker;

static long take_write(void *ctx, const void *data, size_t len)
{
    taker *t = ctx;
    size_t n = len;
    t->calls++;
    if (t->limit < 0)
        return -1;
    if (t->limit && n > (size_t)t->limit)
        n = (size_t)t->limit;
    sb_add(&t->out, data, n);
    return (long)n;
}

static const char BODY[] = "body bytes behind the head";
#define BODY_LEN (sizeof BODY - 1)

static void build(frame_builder *b, const frame_config *cfg, unsigned char *buf, size_t cap)
{
    cr_assert_eq(frame_builder_init(b, cfg, buf, cap, BODY_LEN), FRAME_OK);
    cr_assert_eq(frame_builder_add_string(b, "name", "x.bin"), FRAME_OK);
    cr_assert_eq(frame_builder_add_int64(b, "seq", -5), FRAME_OK);
}

/* The head finish gives for the same members and config. */
static void expected_head(sbuf *want, const frame_config *cfg)
{
    static unsigned char buf[512];
    frame_builder b;
    const void *head;
    size_t len;
    build(&b, cfg, buf, sizeof buf);
    cr_assert_eq(frame_builder_finish(&b, &head, &len), FRAME_OK);
    want->len = 0;
    sb_add(want, head, len);
    sb_add(want, BODY, BODY_LEN);
}

static void write_unfinished(const frame_config *cfg)
{
    unsigned char buf[512];
    frame_builder b;
    frame_encoder e;
    taker t = {{0}, 0, 0};
    sbuf want = {0};
    const void *head;
    size_t len;
    expected_head(&want, cfg);
    build(&b, cfg, buf, sizeof buf);
    cr_assert_eq(frame_encoder_init(&e, take_write, &t), FRAME_OK);
    cr_expect_eq(frame_write(&e, &b, BODY, BODY_LEN), FRAME_OK);
    cr_expect_eq(t.calls, 1, "one call");
    cr_assert_eq(t.out.len, want.len);
    cr_expect_arr_eq(t.out.p, want.p, want.len);
    cr_expect_eq(frame_encoder_pending(&e), 0u);
    /* The builder is finished now, with the head it sent. */
    cr_assert_eq(frame_builder_finish(&b, &head, &len), FRAME_OK);
    cr_assert_eq(len + BODY_LEN, want.len);
    cr_expect_arr_eq(head, want.p, len);
    sb_free(&t.out);
    sb_free(&want);
}

Test(builder_paths, write_finishes_a_default_builder)
{
    write_unfinished(NULL);
}

Test(builder_paths, write_finishes_with_every_prefix)
{
    static const unsigned widths[] = {1, 2, 4, 8};
    unsigned i, big;
    for (i = 0; i < 4; i++) {
        for (big = 0; big < 2; big++) {
            frame_config cfg;
            memset(&cfg, 0, sizeof cfg);
            cfg.prefix_width = widths[i];
            cfg.big_endian = (int)big;
            write_unfinished(&cfg);
        }
    }
}

Test(builder_paths, write_of_an_unfinished_builder_resumes_after_a_short_write)
{
    unsigned char buf[512];
    frame_builder b;
    frame_encoder e;
    taker t = {{0}, 0, 7};
    sbuf want = {0};
    int rounds = 0;
    frame_errno err;
    expected_head(&want, NULL);
    build(&b, NULL, buf, sizeof buf);
    cr_assert_eq(frame_encoder_init(&e, take_write, &t), FRAME_OK);
    err = frame_write(&e, &b, BODY, BODY_LEN);
    cr_expect_eq(err, FRAME_E_WOULD_BLOCK);
    cr_expect_eq(frame_encoder_pending(&e), want.len - 7);
    while (err == FRAME_E_WOULD_BLOCK && rounds++ < 100)
        err = frame_encoder_resume(&e);
    cr_expect_eq(err, FRAME_OK);
    cr_assert_eq(t.out.len, want.len);
    cr_expect_arr_eq(t.out.p, want.p, want.len);
    sb_free(&t.out);
    sb_free(&want);
}

Test(builder_paths, write_of_an_unfinished_builder_fails_with_the_transport)
{
    unsigned char buf[512];
    frame_builder b;
    frame_encoder e;
    taker t = {{0}, 0, -1};
    build(&b, NULL, buf, sizeof buf);
    cr_assert_eq(frame_encoder_init(&e, take_write, &t), FRAME_OK);
    cr_expect_eq(frame_write(&e, &b, BODY, BODY_LEN), FRAME_E_WRITE);
    cr_expect_eq(frame_encoder_write_result(&e), -1);
    cr_expect_eq(frame_write(&e, &b, BODY, BODY_LEN), FRAME_E_WRITE, "the encoder stays failed");
    sb_free(&t.out);
}

Test(builder_paths, write_of_an_empty_body_from_null)
{
    unsigned char buf[128];
    frame_builder b;
    frame_encoder e;
    taker t = {{0}, 0, 0};
    const void *head;
    size_t len;
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_encoder_init(&e, take_write, &t), FRAME_OK);
    cr_expect_eq(frame_write(&e, &b, NULL, 0), FRAME_OK);
    cr_assert_eq(frame_builder_finish(&b, &head, &len), FRAME_OK);
    cr_assert_eq(t.out.len, len);
    cr_expect_arr_eq(t.out.p, head, len);
    cr_expect_eq(t.calls, 1);
    sb_free(&t.out);
}
