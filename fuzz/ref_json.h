/*
 * An independent, deliberately simple reference for the header rules of
 * SPEC.md / notes/DECISIONS.md, used as an oracle by the fuzz harnesses and
 * the hardening tests. It is written for clarity, not speed: it recurses and
 * compares names quadratically. It shares no code with lib/.
 */
#ifndef FUZZ_REF_JSON_H
#define FUZZ_REF_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct ref_result {
    const char *err;    /* error name as frame_errname() spells it, NULL = valid */
    size_t pos;         /* offset of the error within the input */
    uint64_t body_size; /* the size member's value when valid */
    unsigned members;   /* members counted (nested objects included) */
} ref_result;

/*
 * Checks `len` bytes as a whole header: top-level object, size member named
 * `size_name` (`name_len` bytes), value <= max_body (0 = 2^53-1).
 * Returns 1 when valid, 0 otherwise; *r says which error and where.
 */
int ref_header_check(const uint8_t *p, size_t len, const uint8_t *size_name, size_t name_len,
                     uint64_t max_body, ref_result *r);

/*
 * Checks `len` bytes as one JSON value (any type, white space around it
 * allowed) that will sit at nesting level `depth0` + 1 (the header object is
 * level 1, so a member value of the header has depth0 = 1) and may hold at
 * most `members_left` object members. When `out` is not NULL, the canonical
 * form (SPEC.md "Canonical encoding") is written there; it needs at most
 * 6 * len + 2 bytes. Returns 1 when valid.
 */
int ref_value_check(const uint8_t *p, size_t len, int depth0, unsigned members_left,
                    uint8_t *out, size_t *out_len, ref_result *r);

/* 1 when p[0..len) is UTF-8 per RFC 3629 (U+0000 and noncharacters allowed). */
int ref_utf8_valid(const uint8_t *p, size_t len);

/*
 * Unescapes a JSON string token (with its quotes) that is known to be valid,
 * into out (at most len bytes needed). Returns the length written.
 */
size_t ref_unescape(const uint8_t *tok, size_t len, uint8_t *out);

/* Writes s as a canonical JSON string with quotes; out needs 6 * len + 2. */
size_t ref_escape(const uint8_t *s, size_t len, uint8_t *out);

#endif
