/*
 * Copying parsed headers into a builder: frame_builder_add_members,
 * frame_builder_add_value and frame_builder_add_rawn (names with a length).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

enum { CAP = 3 * FRAME_DEFAULT_MAX_HEADER };

/* The finished head of b as a fresh sbuf. */
static void head_of(frame_builder *b, sbuf *out)
{
    const void *head;
    size_t len;
    cr_assert_eq(frame_builder_finish(b, &head, &len), FRAME_OK);
    out->len = 0;
    sb_add(out, head, len);
}

/* Parses the header of the head built with cfg (prefix skipped). */
static void parse_head(const frame_config *cfg, const sbuf *head, frame_header *h)
{
    unsigned w = cfg && cfg->prefix_width ? cfg->prefix_width : 4;
    cr_assert_eq(frame_header_parse(h, cfg, head->p + w, head->len - w, NULL), FRAME_OK);
}

/* The top-level names of obj but the size member's, unescaped, in order. */
static size_t names_of(const frame_value *obj, const char *size_name, char **names, size_t *lens,
                       size_t max)
{
    size_t c = 0, n = 0;
    frame_member m;
    while (frame_value_next(obj, &c, &m)) {
        size_t len;
        char *s = json_str(&m.name, &len);
        cr_assert_not_null(s);
        if (len == strlen(size_name) && memcmp(s, size_name, len) == 0) {
            free(s);
            continue;
        }
        cr_assert_lt(n, max);
        names[n] = s;
        lens[n++] = len;
    }
    return n;
}

/* Every encode vector's frame: decoding its head and copying the members
 * into a fresh builder gives the vector's head back, byte for byte. */
Test(copy, members_of_every_encode_vector_give_its_canonical_head)
{
    char **paths;
    size_t n = vector_list(&paths), i, done = 0;
    static unsigned char buf[CAP];
    for (i = 0; i < n; i++) {
        vector v;
        sbuf why = {0}, want = {0}, got = {0};
        frame_header h;
        frame_builder b;
        char *hex, *err;
        unsigned char *frame;
        size_t hexlen, flen, bodylen;
        unsigned w;
        cr_assert_eq(vector_load(&v, paths[i], &why), 0, "%s", sb_str(&why));
        hex = json_get_str(&v.root, "frame", &hexlen);
        err = json_get_str(&v.root, "body", &bodylen);
        if (!hex || !err || v.config.raw) {
            free(hex);
            free(err);
            vector_free(&v);
            sb_free(&why);
            continue;
        }
        bodylen /= 2;
        frame = hex_decode_alloc(hex, hexlen, &flen);
        w = v.config.prefix_width ? v.config.prefix_width : 4;
        sb_add(&want, frame, flen - bodylen);
        cr_assert_eq(frame_header_parse(&h, &v.config, frame + w, flen - bodylen - w, NULL), FRAME_OK,
                     "%s", v.file_name);
        cr_assert_eq(frame_builder_init(&b, &v.config, buf, sizeof buf, h.body_size), FRAME_OK);
        cr_assert_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_OK, "%s", v.file_name);
        head_of(&b, &got);
        cr_assert_eq(got.len, want.len, "%s: %zu bytes, want %zu", v.file_name, got.len, want.len);
        cr_expect_arr_eq(got.p, want.p, want.len, "%s", v.file_name);
        done++;
        free(hex);
        free(err);
        free(frame);
        sb_free(&want);
        sb_free(&got);
        sb_free(&why);
        vector_free(&v);
    }
    cr_expect_gt(done, 20, "only %zu encode vectors copied", done);
    vector_list_free(paths, n);
}

/* Every header of every valid decode frame: the copy holds the same members
 * in the same order (values equal, numbers as written), copying the copy
 * changes nothing, and it is what the validating add_rawn writes. Then each
 * name left out in turn is missing and the rest are unchanged. */
static void check_copy(const frame_config *cfg, const char *json, size_t len, const char *what)
{
    static unsigned char buf[CAP], buf2[CAP], buf3[CAP];
    const char *size = cfg->size_name ? cfg->size_name : "size";
    frame_header h, hc;
    frame_builder b, b2, b3;
    sbuf copy = {0}, again = {0}, ref = {0}, why = {0};
    char *names[FRAME_MAX_MEMBERS];
    size_t lens[FRAME_MAX_MEMBERS], nnames, k, c = 0;
    frame_member m;
    cr_assert_eq(frame_header_parse(&h, cfg, json, len, NULL), FRAME_OK, "%s", what);
    cr_assert_eq(frame_builder_init(&b, cfg, buf, sizeof buf, h.body_size), FRAME_OK);
    cr_assert_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_OK, "%s", what);
    head_of(&b, &copy);
    parse_head(cfg, &copy, &hc);
    cr_expect_eq(hc.body_size, h.body_size);
    /* The validating path, member by member, with names given by length. */
    cr_assert_eq(frame_builder_init(&b3, cfg, buf3, sizeof buf3, h.body_size), FRAME_OK);
    while (frame_value_next(&h.root, &c, &m)) {
        size_t nl;
        char *name = json_str(&m.name, &nl);
        if (!(nl == strlen(size) && memcmp(name, size, nl) == 0))
            cr_assert_eq(frame_builder_add_rawn(&b3, name, nl, m.value.json, m.value.len), FRAME_OK,
                         "%s", what);
        free(name);
    }
    head_of(&b3, &ref);
    cr_assert_eq(copy.len, ref.len, "%s", what);
    cr_expect_arr_eq(copy.p, ref.p, ref.len, "%s", what);
    /* A fixed point. */
    cr_assert_eq(frame_builder_init(&b2, cfg, buf2, sizeof buf2, h.body_size), FRAME_OK);
    cr_assert_eq(frame_builder_add_members(&b2, &hc.root, NULL), FRAME_OK);
    head_of(&b2, &again);
    cr_assert_eq(again.len, copy.len, "%s", what);
    cr_expect_arr_eq(again.p, copy.p, copy.len, "%s", what);
    /* Same members, same order, same values (numbers as written). */
    {
        size_t ca = 0, cb = 0;
        frame_member ma, mb;
        int more_a, more_b;
        do {
            do more_a = frame_value_next(&h.root, &ca, &ma);
            while (more_a && frame_value_string_equals(&ma.name, size, strlen(size)));
            do more_b = frame_value_next(&hc.root, &cb, &mb);
            while (more_b && frame_value_string_equals(&mb.name, size, strlen(size)));
            cr_assert_eq(more_a, more_b, "%s: member counts differ", what);
            if (more_a) {
                cr_expect(json_equal(&ma.name, &mb.name, 1, &why), "%s: %s", what, sb_str(&why));
                cr_expect(json_equal(&ma.value, &mb.value, 1, &why), "%s: %s", what, sb_str(&why));
            }
        } while (more_a);
    }
    /* Left out, one name at a time. */
    nnames = names_of(&h.root, size, names, lens, FRAME_MAX_MEMBERS);
    for (k = 0; k < nnames && k < 8; k++) {
        char *cname = malloc(lens[k] + 1);
        const char *omit[2];
        char *left[FRAME_MAX_MEMBERS];
        size_t llen[FRAME_MAX_MEMBERS], nleft, j, x;
        memcpy(cname, names[k], lens[k] + 1);
        omit[0] = cname;
        omit[1] = NULL;
        if (memchr(names[k], 0, lens[k])) { /* a NUL-terminated list cannot name it */
            free(cname);
            continue;
        }
        cr_assert_eq(frame_builder_init(&b2, cfg, buf2, sizeof buf2, h.body_size), FRAME_OK);
        cr_assert_eq(frame_builder_add_members(&b2, &h.root, omit), FRAME_OK);
        head_of(&b2, &again);
        parse_head(cfg, &again, &hc);
        nleft = names_of(&hc.root, size, left, llen, FRAME_MAX_MEMBERS);
        cr_assert_eq(nleft, nnames - 1, "%s: leaving out %s", what, cname);
        for (j = 0, x = 0; j < nnames; j++) {
            if (j == k) continue;
            cr_expect(llen[x] == lens[j] && memcmp(left[x], names[j], lens[j]) == 0, "%s", what);
            x++;
        }
        for (j = 0; j < nleft; j++) free(left[j]);
        free(cname);
    }
    for (k = 0; k < nnames; k++) free(names[k]);
    sb_free(&copy);
    sb_free(&again);
    sb_free(&ref);
    sb_free(&why);
}

Test(copy, members_of_every_decoded_header, .timeout = 120)
{
    char **paths;
    size_t n = vector_list(&paths), i, headers = 0;
    for (i = 0; i < n; i++) {
        vector v;
        sbuf why = {0};
        frame_value frames, f, hj;
        size_t c = 0;
        frame_member m;
        cr_assert_eq(vector_load(&v, paths[i], &why), 0, "%s", sb_str(&why));
        if (!v.config.raw && frame_config_check(&v.config) == FRAME_OK &&
            json_get(&v.root, "frames", &frames)) {
            while (frame_value_next(&frames, &c, &m)) {
                size_t len;
                char *text;
                f = m.value;
                if (!json_get(&f, "header_json", &hj)) continue;
                text = json_str(&hj, &len);
                check_copy(&v.config, text, len, v.file_name);
                headers++;
                free(text);
            }
        }
        sb_free(&why);
        vector_free(&v);
    }
    cr_expect_gt(headers, 40, "only %zu headers", headers);
    vector_list_free(paths, n);
}

Test(copy, names_holding_nul_are_copied_and_can_be_added)
{
    static const char json[] = "{\"size\":0,\"a\\u0000b\":1,\"a\":[true,{\"x\\u0000\":null}]}";
    unsigned char buf[256];
    frame_header h;
    frame_builder b;
    frame_value v;
    sbuf head = {0};
    static const char want[] = "{\"size\":0,\"a\\u0000b\":1,\"a\":[true,{\"x\\u0000\":null}],\"c\\u0000\":1}";
    cr_assert_eq(frame_header_parse(&h, NULL, json, sizeof json - 1, NULL), FRAME_OK);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_OK);
    cr_assert_eq(frame_header_find(&h, "a", &v), FRAME_OK);
    /* "a\0b" is taken; "c\0" is new. */
    cr_expect_eq(frame_builder_add_value(&b, "a\0b", 3, &v), FRAME_E_DUPLICATE_NAME);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_OK);
    cr_expect_eq(frame_builder_add_value(&b, "a", 1, &v), FRAME_E_DUPLICATE_NAME, "after a copy, names are searched");
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_OK);
    cr_assert_eq(frame_builder_add_rawn(&b, "c\0", 2, "1", 1), FRAME_OK);
    head_of(&b, &head);
    cr_assert_eq(head.len, 4 + sizeof want - 1);
    cr_expect_arr_eq(head.p + 4, want, sizeof want - 1);
    sb_free(&head);
}

Test(copy, one_value_with_a_new_name_and_one_member_replaced)
{
    static const char json[] = "{ \"size\" : 5 , \"id\" : 42 , \"status\" : \"new\" , \"tags\" : [ 1 , \"\\u00e9\" ] }";
    static const char want[] = "{\"size\":3,\"id\":42,\"tags\":[1,\"\xc3\xa9\"],\"status\":\"done\",\"was\":\"new\"}";
    const char *const omit[] = {"status", NULL};
    unsigned char buf[256];
    frame_header h;
    frame_builder b;
    frame_value v;
    sbuf head = {0};
    cr_assert_eq(frame_header_parse(&h, NULL, json, sizeof json - 1, NULL), FRAME_OK);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 3), FRAME_OK);
    cr_assert_eq(frame_builder_add_members(&b, &h.root, omit), FRAME_OK);
    cr_assert_eq(frame_builder_add_string(&b, "status", "done"), FRAME_OK);
    cr_assert_eq(frame_header_find(&h, "status", &v), FRAME_OK);
    cr_assert_eq(frame_builder_add_value(&b, "was", 3, &v), FRAME_OK);
    head_of(&b, &head);
    cr_assert_eq(head.len, 4 + sizeof want - 1, "%zu", head.len);
    cr_expect_arr_eq(head.p + 4, want, sizeof want - 1);
    sb_free(&head);
}

Test(copy, the_builders_size_name_is_left_out_and_reserved)
{
    static const char json[] = "{\"size\":1,\"data_size\":7,\"x\":1}";
    static const char want[] = "{\"data_size\":0,\"size\":1,\"x\":1}";
    frame_config cfg = FRAME_CONFIG_INIT;
    unsigned char buf[128];
    frame_header h;
    frame_builder b;
    frame_value v;
    sbuf head = {0};
    cfg.size_name = "data_size";
    cr_assert_eq(frame_header_parse(&h, NULL, json, sizeof json - 1, NULL), FRAME_OK);
    cr_assert_eq(frame_builder_init(&b, &cfg, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_OK);
    head_of(&b, &head);
    cr_assert_eq(head.len, 4 + sizeof want - 1);
    cr_expect_arr_eq(head.p + 4, want, sizeof want - 1);
    cr_assert_eq(frame_builder_init(&b, &cfg, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_header_find(&h, "x", &v), FRAME_OK);
    cr_expect_eq(frame_builder_add_value(&b, "data_size", 9, &v), FRAME_E_RESERVED_NAME);
    cr_assert_eq(frame_builder_init(&b, &cfg, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_rawn(&b, "data_size\0", 10, "1", 1), FRAME_OK, "another name");
    sb_free(&head);
}

Test(copy, errors_are_named_and_leave_no_partial_member)
{
    static const char json[] = "{\"size\":0,\"a\":\"0123456789\",\"b\":2}";
    unsigned char buf[64];
    frame_header h;
    frame_builder b;
    frame_value v;
    const void *head;
    size_t len;
    frame_config small = FRAME_CONFIG_INIT;
    cr_assert_eq(frame_header_parse(&h, NULL, json, sizeof json - 1, NULL), FRAME_OK);
    /* Not an object; NULL. */
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_header_find(&h, "a", &v), FRAME_OK);
    cr_expect_eq(frame_builder_add_members(&b, &v, NULL), FRAME_E_TYPE);
    cr_expect_eq(frame_builder_add_members(&b, NULL, NULL), FRAME_E_TYPE, "sticky");
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_members(&b, NULL, NULL), FRAME_E_ARGUMENT);
    cr_expect_eq(frame_builder_add_members(NULL, &h.root, NULL), FRAME_E_ARGUMENT);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_value(&b, "v", 1, NULL), FRAME_E_ARGUMENT);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_value(&b, NULL, 0, &v), FRAME_E_ARGUMENT);
    /* A buffer too small for the second member: the first stays, whole. */
    cr_assert_eq(frame_builder_init(&b, NULL, buf, 4 + 30, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_E_BUFFER_TOO_SMALL);
    cr_expect_eq(b._len, 4 + strlen("{\"size\":0,\"a\":\"0123456789\""));
    /* Over max_header. */
    small.max_header = 20;
    cr_assert_eq(frame_builder_init(&b, &small, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_E_HEADER_TOO_LARGE);
    cr_expect_eq(frame_builder_finish(&b, &head, &len), FRAME_E_HEADER_TOO_LARGE);
    /* The raw profile has no members. */
    small = (frame_config)FRAME_CONFIG_INIT;
    small.raw = 1;
    cr_assert_eq(frame_builder_init(&b, &small, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_E_ARGUMENT);
}

/* Nested members count against FRAME_MAX_MEMBERS as the decoder counts them. */
Test(copy, nested_members_count_against_the_limit)
{
    static char json[8192];
    static unsigned char buf[CAP];
    size_t n = 0, i;
    frame_header h;
    frame_builder b;
    frame_value v;
    /* 1 (size) + 1 (o) + 509 inside: 511 members. */
    n += (size_t)sprintf(json + n, "{\"size\":0,\"o\":{");
    for (i = 0; i < 509; i++) n += (size_t)sprintf(json + n, "%s\"k%zu\":0", i ? "," : "", i);
    n += (size_t)sprintf(json + n, "}}");
    cr_assert_eq(frame_header_parse(&h, NULL, json, n, NULL), FRAME_OK);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_OK);
    cr_expect_eq(frame_builder_add_null(&b, "z"), FRAME_OK, "512th");
    cr_expect_eq(frame_builder_add_null(&b, "y"), FRAME_E_TOO_MANY_MEMBERS, "513th");
    /* The nested object again under another name: 510 more. */
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_builder_add_members(&b, &h.root, NULL), FRAME_OK);
    cr_assert_eq(frame_header_find(&h, "o", &v), FRAME_OK);
    cr_expect_eq(frame_builder_add_value(&b, "p", 1, &v), FRAME_E_TOO_MANY_MEMBERS);
    cr_expect_eq(b._len, 4 + n - 1, "nothing of p is left");
}

Test(copy, config_init_holds_the_spec_defaults)
{
    frame_config a = FRAME_CONFIG_INIT, zero;
    unsigned char b1[64], b2[64];
    frame_builder x, y;
    const void *h1, *h2;
    size_t l1, l2;
    memset(&zero, 0, sizeof zero);
    cr_expect_eq(frame_config_check(&a), FRAME_OK);
    cr_expect_eq(a.prefix_width, 4u);
    cr_expect_str_eq(a.size_name, "size");
    cr_expect_eq(a.max_header, FRAME_DEFAULT_MAX_HEADER);
    cr_expect_eq(a.max_body, FRAME_MAX_BODY_LIMIT);
    cr_assert_eq(frame_builder_init(&x, &a, b1, sizeof b1, 9), FRAME_OK);
    cr_assert_eq(frame_builder_init(&y, &zero, b2, sizeof b2, 9), FRAME_OK);
    cr_assert_eq(frame_builder_finish(&x, &h1, &l1), FRAME_OK);
    cr_assert_eq(frame_builder_finish(&y, &h2, &l2), FRAME_OK);
    cr_assert_eq(l1, l2);
    cr_expect_arr_eq(h1, h2, l1);
}

/* A NULL string of no bytes is the empty string (the value pointer is never
 * read); with bytes it is an argument error. */
Test(copy, null_string_of_no_bytes_is_empty)
{
    static const char want[] = "{\"size\":0,\"e\":\"\"}";
    unsigned char buf[64];
    frame_builder b;
    sbuf head = {0};
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_assert_eq(frame_builder_add_stringn(&b, "e", NULL, 0), FRAME_OK);
    head_of(&b, &head);
    cr_assert_eq(head.len, 4 + sizeof want - 1);
    cr_expect_arr_eq(head.p + 4, want, sizeof want - 1);
    cr_assert_eq(frame_builder_init(&b, NULL, buf, sizeof buf, 0), FRAME_OK);
    cr_expect_eq(frame_builder_add_stringn(&b, "e", NULL, 1), FRAME_E_ARGUMENT);
    sb_free(&head);
}
