/*
 * One write per frame: how many transport calls each write path makes, and
 * short gathered writes resumed at every byte offset.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

/* A transport of either kind that records its calls and what it takes. */
typedef struct tap {
    sbuf out;
    unsigned long calls;
    int spans[8];          /* span count of the first calls (gathering) */
    size_t first_take;     /* the first call takes at most this (SIZE_MAX: all) */
    int first_done;
} tap;

static size_t tap_take(tap *t, size_t offered)
{
    size_t n = offered;
    if (!t->first_done) {
        t->first_done = 1;
        if (t->first_take < n) n = t->first_take;
    }
    return n;
}

static long tap_one(void *ctx, const void *data, size_t len)
{
    tap *t = ctx;
    size_t n = tap_take(t, len);
    t->calls++;
    sb_add(&t->out, data, n);
    return (long)n;
}

static long tap_gather(void *ctx, const frame_span *s, int count)
{
    tap *t = ctx;
    size_t total = 0, n, i;
    cr_assert(count == 1 || count == 2, "count %d", count);
    for (i = 0; i < (size_t)count; i++) {
        cr_assert_gt(s[i].len, 0u, "empty span");
        total += s[i].len;
    }
    if (t->calls < 8) t->spans[t->calls] = count;
    t->calls++;
    n = tap_take(t, total);
    total = n;
    for (i = 0; i < (size_t)count && n; i++) {
        size_t k = s[i].len < n ? s[i].len : n;
        sb_add(&t->out, s[i].data, k);
        n -= k;
    }
    return (long)total;
}

static void tap_init(tap *t)
{
    memset(t, 0, sizeof *t);
    t->first_take = (size_t)-1;
}

static unsigned char BODY[20000];

/* A head with one member for body_size, in buf[cap]; returns its length. */
static size_t head(frame_builder *b, unsigned char *buf, size_t cap, uint64_t body_size)
{
    const void *h;
    size_t len;
    cr_assert_eq(frame_builder_init(b, NULL, buf, cap, body_size), FRAME_OK);
    cr_assert_eq(frame_builder_add_string(b, "file_name", "a.txt"), FRAME_OK);
    cr_assert_eq(frame_builder_finish(b, &h, &len), FRAME_OK);
    return len;
}

static void init_body(void)
{
    size_t i;
    for (i = 0; i < sizeof BODY; i++) BODY[i] = (unsigned char)(i * 7 + 3);
}

/* The stream a frame of `len` body bytes must give. */
static void expect_stream(const tap *t, const unsigned char *h, size_t hlen, size_t len)
{
    cr_assert_eq(t->out.len, hlen + len);
    cr_expect_arr_eq(t->out.p, h, hlen);
    if (len) cr_expect_arr_eq(t->out.p + hlen, BODY, len);
}

/* The rule: a one-buffer transport gets one call when the body fits in the
 * builder's buffer behind the head (len <= cap - head), two otherwise. Checked
 * at the edge: room - 1, room, room + 1, and for an empty body. */
Test(one_write, one_buffer_transport_gets_one_call_when_the_body_fits)
{
    static const size_t rooms[] = {0, 1, 100, 10240};
    size_t r, d;
    init_body();
    for (r = 0; r < sizeof rooms / sizeof rooms[0]; r++) {
        for (d = 0; d < 3; d++) {
            unsigned char buf[64 + 10240];
            unsigned char copy[64];
            frame_builder b;
            frame_encoder e;
            tap t;
            size_t hlen, len;
            if (rooms[r] + d == 0) continue;
            len = rooms[r] + d - 1; /* room - 1, room, room + 1 */
            /* The cap leaves exactly rooms[r] bytes behind the head. */
            hlen = head(&b, buf, 64, len);
            hlen = head(&b, buf, hlen + rooms[r], len);
            memcpy(copy, buf, hlen);
            tap_init(&t);
            cr_assert_eq(frame_encoder_init(&e, tap_one, &t), FRAME_OK);
            cr_assert_eq(frame_write(&e, &b, BODY, len), FRAME_OK);
            cr_expect_eq(t.calls, len <= rooms[r] ? 1u : 2u, "room %zu, body %zu: %lu calls", rooms[r],
                         len, t.calls);
            expect_stream(&t, copy, hlen, len);
            sb_free(&t.out);
        }
    }
}

Test(one_write, gathering_transport_gets_one_call_with_head_and_body)
{
    static const size_t lens[] = {0, 1, 100, 20000};
    size_t i;
    init_body();
    for (i = 0; i < 4; i++) {
        unsigned char buf[64], copy[64];
        frame_builder b;
        frame_encoder e;
        tap t;
        size_t hlen = head(&b, buf, sizeof buf, lens[i]);
        memcpy(copy, buf, hlen);
        tap_init(&t);
        cr_assert_eq(frame_encoder_init_gather(&e, tap_gather, &t), FRAME_OK);
        cr_assert_eq(frame_write(&e, &b, BODY, lens[i]), FRAME_OK);
        cr_expect_eq(t.calls, 1u, "body %zu: %lu calls", lens[i], t.calls);
        cr_expect_eq(t.spans[0], lens[i] ? 2 : 1);
        cr_expect_arr_eq(buf, copy, hlen, "the builder's buffer is not written to");
        expect_stream(&t, copy, hlen, lens[i]);
        sb_free(&t.out);
    }
}

/* Streaming: begin makes no call; the head leaves with the first non-empty
 * chunk (one call when it fits, or always when gathering); every later chunk
 * is one call; end makes one only for a head still held. */
Test(one_write, streaming_sends_the_head_with_the_first_chunk)
{
    int gather, fits;
    init_body();
    for (gather = 0; gather < 2; gather++) {
        for (fits = 0; fits < 2; fits++) {
            unsigned char buf[64 + 300], copy[64];
            frame_builder b;
            frame_encoder e;
            tap t;
            size_t hlen = head(&b, buf, 64, 1000);
            hlen = head(&b, buf, hlen + (fits ? 300 : 299), 1000);
            memcpy(copy, buf, hlen);
            tap_init(&t);
            if (gather) cr_assert_eq(frame_encoder_init_gather(&e, tap_gather, &t), FRAME_OK);
            else cr_assert_eq(frame_encoder_init(&e, tap_one, &t), FRAME_OK);
            cr_assert_eq(frame_write_begin(&e, &b), FRAME_OK);
            cr_expect_eq(t.calls, 0u, "begin calls nothing");
            cr_expect_eq(frame_encoder_pending(&e), 0u, "a held head is not pending");
            cr_assert_eq(frame_write_body(&e, BODY, 0), FRAME_OK);
            cr_expect_eq(t.calls, 0u, "an empty chunk keeps the head back");
            cr_assert_eq(frame_write_body(&e, BODY, 300), FRAME_OK);
            cr_expect_eq(t.calls, gather || fits ? 1u : 2u, "gather %d fits %d: %lu", gather, fits,
                         t.calls);
            if (gather) cr_expect_eq(t.spans[0], 2);
            t.calls = 0;
            cr_assert_eq(frame_write_body(&e, BODY + 300, 700), FRAME_OK);
            cr_expect_eq(t.calls, 1u);
            cr_assert_eq(frame_write_end(&e), FRAME_OK);
            cr_expect_eq(t.calls, 1u, "end has nothing to write");
            expect_stream(&t, copy, hlen, 1000);
            sb_free(&t.out);
        }
    }
}

Test(one_write, streaming_empty_body_and_resume_send_the_held_head)
{
    int gather;
    for (gather = 0; gather < 2; gather++) {
        unsigned char buf[64], copy[64];
        frame_builder b;
        frame_encoder e;
        tap t;
        size_t hlen = head(&b, buf, sizeof buf, 0);
        memcpy(copy, buf, hlen);
        tap_init(&t);
        if (gather) cr_assert_eq(frame_encoder_init_gather(&e, tap_gather, &t), FRAME_OK);
        else cr_assert_eq(frame_encoder_init(&e, tap_one, &t), FRAME_OK);
        cr_assert_eq(frame_write_begin(&e, &b), FRAME_OK);
        cr_assert_eq(frame_write_end(&e), FRAME_OK);
        cr_expect_eq(t.calls, 1u);
        expect_stream(&t, copy, hlen, 0);
        /* resume: the head now, the chunk later. */
        hlen = head(&b, buf, sizeof buf, 5);
        memcpy(copy, buf, hlen);
        t.calls = 0;
        t.out.len = 0;
        cr_assert_eq(frame_write_begin(&e, &b), FRAME_OK);
        cr_expect_eq(frame_encoder_write_result(&e), 0, "no failure while the head is held");
        cr_assert_eq(frame_encoder_resume(&e), FRAME_OK);
        cr_expect_eq(t.calls, 1u);
        cr_expect_eq(t.out.len, hlen);
        cr_assert_eq(frame_write_body(&e, BODY, 5), FRAME_OK);
        cr_expect_eq(t.calls, 2u);
        cr_assert_eq(frame_write_end(&e), FRAME_OK);
        expect_stream(&t, copy, hlen, 5);
        sb_free(&t.out);
    }
}

/* A write cut short at every byte offset of the frame resumes to the same
 * stream, offering exactly the bytes not yet taken. For both transports,
 * whole and streaming. */
Test(one_write, short_write_at_every_offset_resumes_byte_identical)
{
    int gather, stream;
    init_body();
    for (gather = 0; gather < 2; gather++) {
        for (stream = 0; stream < 2; stream++) {
            unsigned char buf[64 + 200], copy[64];
            frame_builder b;
            size_t hlen = head(&b, buf, sizeof buf, 150), cut;
            memcpy(copy, buf, hlen);
            for (cut = 0; cut < hlen + 150; cut++) {
                frame_encoder e;
                tap t;
                frame_errno r;
                unsigned long resumes = 0;
                head(&b, buf, sizeof buf, 150);
                tap_init(&t);
                t.first_take = cut;
                if (gather) cr_assert_eq(frame_encoder_init_gather(&e, tap_gather, &t), FRAME_OK);
                else cr_assert_eq(frame_encoder_init(&e, tap_one, &t), FRAME_OK);
                if (stream) {
                    cr_assert_eq(frame_write_begin(&e, &b), FRAME_OK);
                    r = frame_write_body(&e, BODY, 150);
                } else {
                    r = frame_write(&e, &b, BODY, 150);
                }
                cr_assert_eq(r, FRAME_E_WOULD_BLOCK, "cut %zu: %s", cut, frame_errname(r));
                cr_expect_eq(frame_encoder_pending(&e), hlen + 150 - cut, "cut %zu", cut);
                while (r == FRAME_E_WOULD_BLOCK) {
                    r = frame_encoder_resume(&e);
                    cr_assert_lt(++resumes, 3u);
                }
                cr_assert_eq(r, FRAME_OK);
                if (stream) cr_assert_eq(frame_write_end(&e), FRAME_OK);
                expect_stream(&t, copy, hlen, 150);
                cr_expect_leq(t.calls, 2u, "cut %zu: %lu calls", cut, t.calls);
                sb_free(&t.out);
            }
        }
    }
}

/* The 1.0 contract still holds when the body fits: after WOULD_BLOCK the
 * caller's body may even change, since it was copied behind the head. */
Test(one_write, copied_body_is_independent_of_the_callers_buffer)
{
    unsigned char buf[256], copy[64], body[100];
    frame_builder b;
    frame_encoder e;
    tap t;
    size_t hlen = head(&b, buf, sizeof buf, sizeof body);
    memcpy(copy, buf, hlen);
    memcpy(body, "0123456789", 10);
    memset(body + 10, 'x', sizeof body - 10);
    memcpy(BODY, body, sizeof body);
    tap_init(&t);
    t.first_take = 3;
    cr_assert_eq(frame_encoder_init(&e, tap_one, &t), FRAME_OK);
    cr_assert_eq(frame_write(&e, &b, body, sizeof body), FRAME_E_WOULD_BLOCK);
    memset(body, 0, sizeof body);
    cr_assert_eq(frame_encoder_resume(&e), FRAME_OK);
    expect_stream(&t, copy, hlen, sizeof body);
    sb_free(&t.out);
}

/* A body already in place behind the head (written there by the caller) is
 * sent as it is, in one call. */
Test(one_write, body_already_behind_the_head_is_sent_in_one_call)
{
    unsigned char buf[256], copy[300];
    frame_builder b;
    frame_encoder e;
    tap t;
    size_t hlen = head(&b, buf, sizeof buf, 50);
    memset(buf + hlen, 'q', 50);
    memcpy(copy, buf, hlen + 50);
    tap_init(&t);
    cr_assert_eq(frame_encoder_init(&e, tap_one, &t), FRAME_OK);
    cr_assert_eq(frame_write(&e, &b, buf + hlen, 50), FRAME_OK);
    cr_expect_eq(t.calls, 1u);
    cr_assert_eq(t.out.len, hlen + 50);
    cr_expect_arr_eq(t.out.p, copy, hlen + 50);
    sb_free(&t.out);
}

static long gather_fail(void *ctx, const frame_span *s, int count)
{
    (void)ctx;
    (void)s;
    (void)count;
    return -7;
}

static long gather_too_much(void *ctx, const frame_span *s, int count)
{
    (void)ctx;
    return (long)(s[0].len + (count > 1 ? s[1].len : 0)) + 1;
}

Test(one_write, gathering_transport_failures_are_write_errors)
{
    unsigned char buf[64];
    frame_builder b;
    frame_encoder e;
    head(&b, buf, sizeof buf, 3);
    cr_expect_eq(frame_encoder_init_gather(&e, NULL, NULL), FRAME_E_ARGUMENT);
    cr_expect_eq(frame_encoder_init_gather(NULL, gather_fail, NULL), FRAME_E_ARGUMENT);
    cr_assert_eq(frame_encoder_init_gather(&e, gather_fail, NULL), FRAME_OK);
    cr_expect_eq(frame_write(&e, &b, "abc", 3), FRAME_E_WRITE);
    cr_expect_eq(frame_encoder_write_result(&e), -7);
    cr_assert_eq(frame_encoder_init_gather(&e, gather_too_much, NULL), FRAME_OK);
    cr_expect_eq(frame_write(&e, &b, "abc", 3), FRAME_E_WRITE, "more than offered");
}

/* The encoder keeps the 1.0 size and layout (programs built against 1.0
 * allocate it). */
Test(one_write, encoder_struct_keeps_its_1_0_size)
{
    cr_expect_eq(sizeof(frame_encoder),
                 sizeof(void *) * 2 + sizeof(const unsigned char *) * 2 + sizeof(size_t) * 2 +
                     sizeof(long) + (sizeof(long) == 8 ? 8 : 4) + 16);
}
