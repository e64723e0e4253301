/*
 * lib/walk_small.h: the header validator's walk over the tokens, size
 * variant (see json.c): one loop, the next token checked against a set of
 * what may come next, so that white space, closing and commas are handled
 * at one place each. Names are compared by 16-bit tags (names_tags.h).
 */
#include "names_tags.h"

/* What the validator may meet next, one bit each; CLOSE: the innermost
 * container may also close there. The top-level value of a header must be
 * an object, and the size member's value a decimal integer (SIZE, with
 * VALUE; SIZE with COLON: the name just read is the size member's). */
#define FRAME__WANT_VALUE 2u
#define FRAME__WANT_NAME 1u
#define FRAME__WANT_COLON 8u
#define FRAME__WANT_COMMA 16u
#define FRAME__WANT_CLOSE 4u
#define FRAME__WANT_TOP 64u
#define FRAME__WANT_SIZE 32u

frame_errno frame__json_validate(frame__json_job *job) {
    const frame__u8 *p = job->start, *end = job->end, *at = p;
    /* Bit 0 of open[level]: that container is an array; the rest, the
     * number of its first name (the open object's names are first ..
     * nnames - 1). */
    frame__names names;
    uint16_t open[FRAME_MAX_DEPTH + 1];
    unsigned nnames = 0, level = 0, part = 0, want = job->header ? FRAME__WANT_TOP : FRAME__WANT_VALUE;
    /* The level whose names may still be the size member: 1 in a header
     * until it is found, else none. */
    unsigned size_level = job->header ? 1u : 0u;
    const char *lit;
    uint32_t hash;
    frame__u8 c;
    unsigned err = FRAME_OK; /* a frame_errno; unsigned: no narrowing at each step */

    if (frame__too_long((size_t)(end - p))) {
        err = FRAME_E_HEADER_TOO_LARGE;
        goto fail;
    }
    if (job->header && end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        err = FRAME_E_BOM;
        goto fail;
    }
    for (;;) {
        p = at = frame__skip_ws(p, end);
        c = p < end ? *p : 0;
        /* ']' is '}' - 32 */
        if ((want & FRAME__WANT_CLOSE) && level && c == '}' - ((open[level] & 1) << 5)) {
            p++;
            nnames = open[level--] >> 1u;
            want = FRAME__WANT_COMMA | FRAME__WANT_CLOSE;
            continue;
        }
        if (want & FRAME__WANT_COMMA) {
            if (!level) break;
            if (c != ',') goto syntax;
            p++;
            want = (open[level] & 1) ? FRAME__WANT_VALUE : FRAME__WANT_NAME;
        } else if (want & FRAME__WANT_COLON) {
            if (c != ':') goto syntax;
            p++;
            /* SIZE (with VALUE, which it implies) after the size member's name. */
            want = (want & FRAME__WANT_SIZE) | FRAME__WANT_VALUE;
        } else {
            if (want & FRAME__WANT_NAME) {
                if (c != '"') goto syntax;
                if (++job->members > FRAME_MAX_MEMBERS) {
                    err = FRAME_E_TOO_MANY_MEMBERS;
                    goto fail;
                }
            } else if ((want & FRAME__WANT_TOP) ? c != '{' : (want & FRAME__WANT_SIZE) && !FRAME__IS_DIGIT(c)) {
                /* Where only the top-level object or the size's digits may
                 * stand, another value is that error, anything else a
                 * syntax error (TOP and SIZE never come together). */
                err = (want & FRAME__WANT_TOP) ? FRAME_E_NOT_OBJECT : FRAME_E_SIZE_INVALID;
                if (!frame__is_value_start(c)) err = FRAME_E_JSON_SYNTAX;
                goto fail;
            }
            if (c == '{' || c == '[') {
                if (job->depth + level >= FRAME_MAX_DEPTH) {
                    err = FRAME_E_TOO_DEEP;
                    goto fail;
                }
                open[++level] = (uint16_t)(nnames << 1 | (c == '['));
                p++;
                want = (c == '[' ? FRAME__WANT_VALUE : FRAME__WANT_NAME) | FRAME__WANT_CLOSE;
                continue;
            }
            if (c == '"') { /* one call for names and values: one copy of the decoder */
                int k = frame__decode(&p, end, &hash);
                if (k != -1) {
                    err = (unsigned)(-1 - k);
                    at = p;
                    goto fail;
                }
                p++;
                if (!(want & FRAME__WANT_VALUE)) { /* a name: the same test, in fewer bytes here */
                    if (frame__names_check(&names, job->start, at, end, hash, open[level] >> 1u, nnames)) {
                        err = FRAME_E_DUPLICATE_NAME;
                        goto fail;
                    }
                    nnames++;
                    want = FRAME__WANT_COLON;
                    /* The size member's name, known now, is acted on after the colon. */
                    if (level == size_level) {
                        const char *size_name = frame__size_name(job->cfg);
                        if (frame__string_equals_bytes(at, end, (const frame__u8 *)size_name, strlen(size_name)))
                            want |= FRAME__WANT_SIZE;
                    }
                    continue;
                }
            } else if (c == '-' || FRAME__IS_DIGIT(c)) {
                p = frame__number(p, end, &part);
                if (!FRAME__IS_DIGIT(p[-1])) goto syntax_p;
            } else { /* a literal; anything else fails at its first byte */
                lit = frame__literals + ((c - 'f') & 15u);
                do
                    if (p >= end || *p != (frame__u8)*lit) goto syntax_p;
                while (p++, *++lit);
            }
            if (want & FRAME__WANT_SIZE) { /* checked as soon as it is read */
                size_level = 0;
                if (part) {
                    err = FRAME_E_SIZE_INVALID;
                    goto fail;
                }
                frame__decimal(at, p, &job->size); /* saturated when it does not fit */
                if (job->size > frame__max_body(job->cfg)) {
                    err = FRAME_E_BODY_TOO_LARGE;
                    goto fail;
                }
            }
            want = FRAME__WANT_COMMA | FRAME__WANT_CLOSE;
        }
    }
    if (p != end) goto syntax;
    if (size_level) {
        err = FRAME_E_SIZE_MISSING;
        goto fail;
    }
    return FRAME_OK;

syntax_p:
    at = p;
syntax:
    err = FRAME_E_JSON_SYNTAX; /* what comes here has no error of its own */
fail:
    job->err_pos = (size_t)(at - job->start);
    return (frame_errno)err;
}
