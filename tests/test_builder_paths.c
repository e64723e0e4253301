/* The builder against itself: frame_write() handed a builder not yet
 * finished sends the frame that frame_builder_finish() then frame_write()
 * send, in one call, for every prefix, and a transport that takes less or
 * fails is answered as ever; the lean path of speed builds gives the answers
 * and bytes of the slow one. */
#include <criterion/criterion.h>
#include <stdio.h>
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

/* ---- the builder's lean path (speed builds) against its slow one ---- */

/* Adds member k of a fixed sequence: names "k<k>", values of each kind. */
static frame_errno add_kth(frame_builder *b, unsigned k)
{
    char name[16];
    snprintf(name, sizeof name, "k%u", k);
    switch (k % 4) {
    case 0: return frame_builder_add_uint64(b, name, 977u * k);
    case 1: return frame_builder_add_string(b, name, "t\xc3\xa9xt \"q\"\n");
    case 2: return frame_builder_add_bool(b, name, (int)(k & 8));
    default: return frame_builder_add_int64(b, name, -(int64_t)k * 7919);
    }
}

Test(builder_paths, every_name_is_found_across_the_growths_of_the_table)
{
    /* Header sizes on both sides of each growth of the name table (it is
     * at most three quarters full, from 32 slots): every name added is a
     * duplicate afterwards, and the size member's name is reserved. */
    static const unsigned counts[] = {1, 22, 23, 24, 25, 46, 47, 48, 49, 94, 95, 96, 97, 190, 191, 192, 193, 382, 383, 384, 385, 511};
    static unsigned char buf[65536];
    unsigned c, n, k, i;
    for (c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        n = counts[c];
        /* Every name of the small headers, every 13th and the last of the big. */
        for (k = 0; k <= n; k += n > 100 && k + 13 < n ? 13 : 1) {
            frame_builder b;
            char name[16];
            cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
            for (i = 0; i < n; i++)
                cr_assert_eq(add_kth(&b, i), FRAME_OK, "member %u of %u", i, n);
            if (k == n) {
                cr_expect_eq(frame_builder_add_null(&b, "size"), FRAME_E_RESERVED_NAME, "%u members", n);
                continue;
            }
            snprintf(name, sizeof name, "k%u", k);
            cr_expect_eq(frame_builder_add_null(&b, name), n + 1 < FRAME_MAX_MEMBERS ? FRAME_E_DUPLICATE_NAME
                                                                              : FRAME_E_TOO_MANY_MEMBERS,
                         "%s after %u members", name, n);
        }
    }
}

/* Adds members to b until one fails or `most` are in; returns the error
 * (FRAME_OK if none) and the count added in *added. */
static frame_errno fill(frame_builder *b, unsigned most, unsigned *added)
{
    frame_errno e = FRAME_OK;
    for (*added = 0; *added < most && !(e = add_kth(b, *added)); (*added)++)
        ;
    return e;
}

Test(builder_paths, the_lean_path_stops_where_the_slow_one_does)
{
    /* Near max_header and near the end of the buffer the lean path hands
     * members to frame__add; a buffer too small for the name table takes
     * the slow path for every member. Both give the same answer at the
     * same member, and the same bytes. */
    static unsigned char lean[4096], slow[4096];
    frame_config cfg;
    size_t limit;
    for (limit = 12; limit < 240; limit += 3) {
        frame_builder a, s;
        unsigned na, ns;
        frame_errno ea, es;
        const void *ha, *hs;
        size_t la, ls;
        memset(&cfg, 0, sizeof cfg);
        cfg.max_header = limit;
        cr_assert_eq(frame_builder_init(&a, &cfg, lean, sizeof lean, 3), FRAME_OK);
        /* 24 bytes more than the header may take: never room for the table. */
        cr_assert_eq(frame_builder_init(&s, &cfg, slow, limit + 4 + 24, 3), FRAME_OK);
        ea = fill(&a, 64, &na);
        es = fill(&s, 64, &ns);
        cr_expect_eq(ea, es, "max_header %zu: %s and %s", limit, frame_errname(ea), frame_errname(es));
        cr_expect_eq(na, ns, "max_header %zu", limit);
        if (ea)
            continue;
        cr_assert_eq(frame_builder_finish(&a, &ha, &la), FRAME_OK);
        cr_assert_eq(frame_builder_finish(&s, &hs, &ls), FRAME_OK);
        cr_assert_eq(la, ls);
        cr_expect_arr_eq(ha, hs, la, "max_header %zu", limit);
    }
    /* The same with the end of the buffer instead of max_header: the lean
     * builder stops at the first member that does not fit, by the lengths
     * of the heads of a big buffer; the bytes before it are the same. */
    for (limit = 40; limit < 900; limit += 11) {
        frame_builder a, s;
        unsigned na, ns;
        frame_errno ea;
        const void *hs;
        size_t ls, lnext = 0;
        cr_assert_eq(frame_builder_init(&a, NULL, lean, limit, 3), FRAME_OK);
        ea = fill(&a, 64, &na);
        cr_assert_eq(frame_builder_init(&s, NULL, slow, sizeof slow, 3), FRAME_OK);
        cr_assert_eq(fill(&s, na + 1, &ns), FRAME_OK);
        cr_assert_eq(frame_builder_finish(&s, &hs, &lnext), FRAME_OK);
        cr_assert_eq(frame_builder_init(&s, NULL, slow, sizeof slow, 3), FRAME_OK);
        cr_assert_eq(fill(&s, na, &ns), FRAME_OK);
        cr_assert_eq(frame_builder_finish(&s, &hs, &ls), FRAME_OK);
        cr_expect_eq(ea, na < 64 && lnext > limit ? FRAME_E_BUFFER_TOO_SMALL : FRAME_OK, "cap %zu: %s after %u",
                     limit, frame_errname(ea), na);
        cr_expect_arr_eq(lean + 4, (const unsigned char *)hs + 4, ls - 5, "cap %zu", limit);
    }
}

Test(builder_paths, numbers_are_written_alike_at_every_length)
{
    /* 1 to 20 digits, at each power of ten and one below, and 0; as
     * uint64 and int64 (both signs), and as the size member. */
    static unsigned char buf[512];
    uint64_t p = 1;
    unsigned d;
    for (d = 0; d <= 20; d++) {
        uint64_t vs[3];
        unsigned i;
        vs[0] = p;
        vs[1] = p - 1;
        vs[2] = d == 20 ? UINT64_MAX : p * 7 + 3;
        for (i = 0; i < 3; i++) {
            frame_builder b;
            const void *head;
            size_t len;
            sbuf want = {0};
            uint64_t v = vs[i];
            int64_t s = (int64_t)(v & 0x7fffffffffffffffull);
            cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, v & 0xfffffffffffull), FRAME_OK);
            cr_assert_eq(frame_builder_add_uint64(&b, "u", v), FRAME_OK);
            cr_assert_eq(frame_builder_add_int64(&b, "p", s), FRAME_OK);
            cr_assert_eq(frame_builder_add_int64(&b, "n", -s), FRAME_OK);
            cr_assert_eq(frame_builder_add_int64(&b, "m", s ? -s - 1 : INT64_MIN), FRAME_OK);
            cr_assert_eq(frame_builder_finish(&b, &head, &len), FRAME_OK);
            sb_printf(&want, "{\"size\":%llu,\"u\":%llu,\"p\":%lld,\"n\":%lld,\"m\":%lld}",
                      (unsigned long long)(v & 0xfffffffffffull), (unsigned long long)v, (long long)s,
                      (long long)-s, s ? (long long)(-s - 1) : (long long)INT64_MIN);
            cr_assert_eq(len, 4 + want.len, "%s", sb_str(&want));
            cr_expect_arr_eq((const char *)head + 4, want.p, want.len, "%s", sb_str(&want));
            sb_free(&want);
        }
        if (d < 19)
            p *= 10;
    }
}
