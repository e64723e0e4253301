/* Error names, descriptions and the version: frame_errname, frame_strerror,
 * frame_version, frame_version_number. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

typedef struct entry {
    int number;
    frame_errno value;
    const char *name, *desc;
} entry;

#define ENTRY(n, name, desc) {n, FRAME_E_##name, #name, desc},
static const entry table[] = {FRAME_ERRNO_MAP(ENTRY)};
#undef ENTRY
#define NENTRIES (sizeof table / sizeof table[0])

Test(errors, enum_values_are_the_table_numbers)
{
    size_t i;
    for (i = 0; i < NENTRIES; i++)
        cr_expect_eq((int)table[i].value, table[i].number, "%s", table[i].name);
    cr_expect_eq(FRAME_OK, 0);
    cr_expect_eq(FRAME_OK, FRAME_E_OK);
}

Test(errors, numbers_are_dense_from_zero_and_unique)
{
    size_t i, j;
    for (i = 0; i < NENTRIES; i++) {
        cr_expect_eq(table[i].number, (int)i, "entry %zu (%s) has number %d", i, table[i].name,
                     table[i].number);
        for (j = 0; j < i; j++)
            cr_expect_str_neq(table[i].name, table[j].name);
    }
}

Test(errors, errname_gives_the_table_name_for_every_entry)
{
    size_t i;
    for (i = 0; i < NENTRIES; i++) {
        const char *n = frame_errname(table[i].value);
        cr_assert_not_null(n, "errname(%d) is NULL", table[i].number);
        cr_expect_str_eq(n, table[i].name, "errname(%d)", table[i].number);
    }
}

Test(errors, strerror_gives_the_table_description_for_every_entry)
{
    size_t i;
    for (i = 0; i < NENTRIES; i++) {
        const char *s = frame_strerror(table[i].value);
        cr_assert_not_null(s, "strerror(%d) is NULL", table[i].number);
        cr_expect_str_eq(s, table[i].desc, "strerror(%d)", table[i].number);
        cr_expect_gt(strlen(s), 0u);
    }
}

Test(errors, errname_is_unknown_for_numbers_outside_the_table)
{
    static const int unknown[] = {-1, -2, (int)NENTRIES, (int)NENTRIES + 1, 100, 255, 256, 65535,
                                  0x7fffffff};
    size_t i;
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        frame_errno e = (frame_errno)unknown[i];
        cr_expect_str_eq(frame_errname(e), "UNKNOWN", "errname(%d)", unknown[i]);
        cr_expect_str_eq(frame_strerror(e), "unknown error", "strerror(%d)", unknown[i]);
    }
}

Test(errors, names_are_upper_case_identifiers)
{
    size_t i;
    for (i = 0; i < NENTRIES; i++) {
        const char *p = frame_errname(table[i].value);
        for (; *p; p++)
            cr_expect((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_', "%s",
                      table[i].name);
    }
}

Test(version, string_matches_the_header_macros)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", FRAME_VERSION_MAJOR, FRAME_VERSION_MINOR,
             FRAME_VERSION_PATCH);
    cr_expect_str_eq(FRAME_VERSION_STRING, buf);
    cr_assert_not_null(frame_version());
    cr_expect_str_eq(frame_version(), FRAME_VERSION_STRING);
}

Test(version, number_matches_the_header_macros)
{
    cr_expect_eq(FRAME_VERSION_NUMBER,
                 FRAME_VERSION_MAJOR * 10000 + FRAME_VERSION_MINOR * 100 + FRAME_VERSION_PATCH);
    cr_expect_eq(frame_version_number(), (unsigned)FRAME_VERSION_NUMBER);
}

Test(version, number_and_string_of_the_library_agree)
{
    unsigned major = 0, minor = 0, patch = 0;
    cr_assert_eq(sscanf(frame_version(), "%u.%u.%u", &major, &minor, &patch), 3);
    cr_expect_eq(frame_version_number(), major * 10000 + minor * 100 + patch);
    cr_expect_lt(minor, 100u);
    cr_expect_lt(patch, 100u);
}
