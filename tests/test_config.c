/* frame_config_check and the errors of the init functions. */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include "support.h"

static frame_config zero_config(void)
{
    frame_config c;
    memset(&c, 0, sizeof c);
    return c;
}

static const frame_callbacks no_callbacks = {NULL, NULL, NULL};

Test(config, null_and_zeroed_configs_are_the_valid_defaults)
{
    frame_config c = zero_config();
    cr_expect_eq(frame_config_check(NULL), FRAME_OK);
    cr_expect_eq(frame_config_check(&c), FRAME_OK);
}

Test(config, accepts_widths_1_2_4_8)
{
    static const unsigned ok[] = {0, 1, 2, 4, 8};
    size_t i;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        frame_config c = zero_config();
        c.prefix_width = ok[i];
        cr_expect_eq(frame_config_check(&c), FRAME_OK, "width %u", ok[i]);
        c.big_endian = 1;
        cr_expect_eq(frame_config_check(&c), FRAME_OK, "width %u big-endian", ok[i]);
    }
}

Test(config, rejects_other_widths)
{
    static const unsigned bad[] = {3, 5, 6, 7, 9, 16, 32, 64, UINT_MAX};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame_config c = zero_config();
        c.prefix_width = bad[i];
        cr_expect_eq(frame_config_check(&c), FRAME_E_CONFIG, "width %u", bad[i]);
    }
}

Test(config, max_body_up_to_2_pow_53_minus_1)
{
    frame_config c = zero_config();
    c.max_body = FRAME_MAX_BODY_LIMIT;
    cr_expect_eq(frame_config_check(&c), FRAME_OK);
    c.max_body = 1;
    cr_expect_eq(frame_config_check(&c), FRAME_OK);
    c.max_body = FRAME_MAX_BODY_LIMIT + 1;
    cr_expect_eq(frame_config_check(&c), FRAME_E_CONFIG);
    c.max_body = UINT64_MAX;
    cr_expect_eq(frame_config_check(&c), FRAME_E_CONFIG);
    c.raw = 1;
    cr_expect_eq(frame_config_check(&c), FRAME_E_CONFIG, "raw profile too");
}

Test(config, size_name_of_1_to_64_printable_bytes)
{
    char name[FRAME_MAX_SIZE_NAME + 2];
    frame_config c = zero_config();
    memset(name, 'n', sizeof name);
    name[FRAME_MAX_SIZE_NAME] = '\0';
    c.size_name = name;
    cr_expect_eq(frame_config_check(&c), FRAME_OK, "64 bytes");
    name[FRAME_MAX_SIZE_NAME] = 'n';
    name[FRAME_MAX_SIZE_NAME + 1] = '\0';
    cr_expect_eq(frame_config_check(&c), FRAME_E_CONFIG, "65 bytes");
    c.size_name = "x";
    cr_expect_eq(frame_config_check(&c), FRAME_OK, "1 byte");
    c.size_name = " ~data size!/";
    cr_expect_eq(frame_config_check(&c), FRAME_OK, "space, tilde and punctuation");
    c.size_name = "";
    cr_expect_eq(frame_config_check(&c), FRAME_E_CONFIG, "empty");
}

Test(config, size_name_needing_escapes_or_non_ascii_is_rejected)
{
    static const char *const bad[] = {"a\"b", "a\\b", "tab\there", "nl\n", "\x1f", "del\x7f",
                                      "caf\xc3\xa9", "\x80", "\xff"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame_config c = zero_config();
        c.size_name = bad[i];
        cr_expect_eq(frame_config_check(&c), FRAME_E_CONFIG, "size_name #%zu", i);
    }
}

Test(config, flags_other_than_0_or_1_are_rejected)
{
    frame_config c;
    memset(&c, 0, sizeof c);
    c.big_endian = 2;
    cr_expect_eq(frame_config_check(&c), FRAME_E_CONFIG);
    c.big_endian = 1;
    cr_expect_eq(frame_config_check(&c), FRAME_OK);
    c.raw = -1;
    cr_expect_eq(frame_config_check(&c), FRAME_E_CONFIG);
    c.raw = 1;
    cr_expect_eq(frame_config_check(&c), FRAME_OK);
}

Test(config, a_decoder_that_failed_init_needs_nothing_and_stays_failed)
{
    frame_config c;
    frame_decoder d;
    static const frame_callbacks cb = {NULL, NULL, NULL};
    memset(&c, 0, sizeof c);
    c.prefix_width = 3;
    cr_assert_eq(frame_decoder_init(&d, &c, &cb, NULL, 0, NULL), FRAME_E_CONFIG);
    cr_expect_eq(frame_decoder_needed(&d), 0u);
    frame_decoder_reset(&d);
    cr_expect_eq(frame_decoder_errno(&d), FRAME_E_CONFIG, "reset cannot mend a failed init");
    cr_expect_eq(frame_feed(&d, "\x0a\0\0\0", 4), 0u);
}

Test(config, decoder_init_reports_config_errors_and_stays_failed)
{
    frame_decoder d;
    frame_config c = zero_config();
    static unsigned char buf[FRAME_DEFAULT_MAX_HEADER];
    c.prefix_width = 3;
    cr_assert_eq(frame_decoder_init(&d, &c, &no_callbacks, buf, sizeof buf, NULL), FRAME_E_CONFIG);
    cr_expect_eq(frame_decoder_errno(&d), FRAME_E_CONFIG);
    cr_expect_eq(frame_feed(&d, "\x0b\0\0\0{\"size\":0}", 15), 0u);
    cr_expect_eq(frame_decoder_errno(&d), FRAME_E_CONFIG);
    cr_expect_eq(frame_finish(&d, NULL), FRAME_E_CONFIG);
}

Test(config, decoder_init_rejects_null_decoder_or_callbacks)
{
    frame_decoder d;
    static unsigned char buf[FRAME_DEFAULT_MAX_HEADER];
    cr_expect_eq(frame_decoder_init(NULL, NULL, &no_callbacks, buf, sizeof buf, NULL),
                 FRAME_E_ARGUMENT);
    cr_expect_eq(frame_decoder_init(&d, NULL, NULL, buf, sizeof buf, NULL), FRAME_E_ARGUMENT);
    cr_expect_eq(frame_decoder_errno(&d), FRAME_E_ARGUMENT);
}

Test(config, decoder_init_needs_a_header_buffer_of_max_header)
{
    frame_decoder d;
    frame_config c = zero_config();
    static unsigned char buf[FRAME_DEFAULT_MAX_HEADER];
    int marker = 7;
    cr_expect_eq(frame_decoder_init(&d, NULL, &no_callbacks, buf, sizeof buf - 1, NULL),
                 FRAME_E_ARGUMENT);
    cr_expect_eq(frame_decoder_errno(&d), FRAME_E_ARGUMENT);
    cr_expect_eq(frame_decoder_init(&d, NULL, &no_callbacks, NULL, 0, NULL), FRAME_E_ARGUMENT);
    cr_expect_eq(frame_decoder_init(&d, NULL, &no_callbacks, buf, sizeof buf, &marker), FRAME_OK);
    cr_expect_eq(frame_decoder_errno(&d), FRAME_OK);
    cr_expect_eq(d.data, &marker);
    c.max_header = 100;
    cr_expect_eq(frame_decoder_init(&d, &c, &no_callbacks, buf, 99, NULL), FRAME_E_ARGUMENT);
    cr_expect_eq(frame_decoder_init(&d, &c, &no_callbacks, buf, 100, NULL), FRAME_OK);
    cr_expect_eq(frame_decoder_offset(&d), 0u);
    cr_expect_eq(frame_decoder_frame_index(&d), 0u);
    cr_expect_eq(frame_decoder_needed(&d), 0u);
}

Test(config, raw_profile_decoder_needs_no_header_buffer)
{
    frame_decoder d;
    frame_config c = zero_config();
    c.raw = 1;
    cr_expect_eq(frame_decoder_init(&d, &c, &no_callbacks, NULL, 0, NULL), FRAME_OK);
    cr_expect_eq(frame_decoder_errno(&d), FRAME_OK);
}

Test(config, builder_init_errors)
{
    frame_builder b;
    frame_config c = zero_config();
    unsigned char buf[256];
    c.prefix_width = 5;
    cr_expect_eq(frame_builder_init(&b, &c, buf, sizeof buf, 0), FRAME_E_CONFIG);
    cr_expect_eq(frame_builder_init(NULL, NULL, buf, sizeof buf, 0), FRAME_E_ARGUMENT);
    cr_expect_eq(frame_builder_init(&b, NULL, NULL, sizeof buf, 0), FRAME_E_ARGUMENT);
    c = zero_config();
    c.max_body = 10;
    cr_expect_eq(frame_builder_init(&b, &c, buf, sizeof buf, 10), FRAME_OK);
    cr_expect_eq(frame_builder_init(&b, &c, buf, sizeof buf, 11), FRAME_E_BODY_TOO_LARGE);
    cr_expect_eq(frame_builder_init(&b, NULL, buf, sizeof buf, FRAME_MAX_BODY_LIMIT), FRAME_OK);
    cr_expect_eq(frame_builder_init(&b, NULL, buf, sizeof buf, FRAME_MAX_BODY_LIMIT + 1),
                 FRAME_E_BODY_TOO_LARGE);
    /* 4-octet prefix + {"size":0 needs 13 bytes */
    cr_expect_eq(frame_builder_init(&b, NULL, buf, 5, 0), FRAME_E_BUFFER_TOO_SMALL);
}

Test(config, builder_init_error_is_sticky)
{
    frame_builder b;
    frame_config c = zero_config();
    unsigned char buf[256];
    c.max_body = 10;
    cr_assert_eq(frame_builder_init(&b, &c, buf, sizeof buf, 11), FRAME_E_BODY_TOO_LARGE);
    cr_expect_eq(frame_builder_add_int64(&b, "a", 1), FRAME_E_BODY_TOO_LARGE);
    cr_expect_eq(frame_builder_finish(&b, NULL, NULL), FRAME_E_BODY_TOO_LARGE);
    c.prefix_width = 7;
    cr_assert_eq(frame_builder_init(&b, &c, buf, sizeof buf, 1), FRAME_E_CONFIG);
    cr_expect_eq(frame_builder_finish(&b, NULL, NULL), FRAME_E_CONFIG);
}

Test(config, encoder_init_needs_a_write_function)
{
    frame_encoder e;
    cr_expect_eq(frame_encoder_init(&e, NULL, NULL), FRAME_E_ARGUMENT);
    cr_expect_eq(frame_encoder_init(NULL, NULL, NULL), FRAME_E_ARGUMENT);
}
