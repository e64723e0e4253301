/*
 * lib/walk_states.h: the header validator's walk over the tokens, speed
 * variant (see json.c): one label per state, so that each token is only
 * compared with what may come there. Names go to a hash table
 * (names_table.h).
 */
#include "names_table.h"

/* The key of "size", the default size name, as frame__name_key_of makes
 * it: its bytes from the lowest, its length in the top byte. */
#define FRAME__SIZE_KEY ((uint64_t)4 << 56 | (uint64_t)'e' << 24 | (uint64_t)'z' << 16 | (uint64_t)'i' << 8 | 's')

/*
 * A walk over the tokens, each state a label that knows what may come
 * next, so that a token is compared only with what may stand there. Each
 * state starts by skipping white space; then `at` is at the token looked at
 * (where most errors point) and c is its first byte (0 at the end). A
 * container's level remembers whether it is an array (bit 0) and the number
 * of its first name: the names of the open object are first .. nnames - 1.
 */
frame_errno frame__json_validate(frame__json_job *job) {
    const frame__u8 *p = job->start, *end = job->end, *at = p;
    frame__names names;
    uint16_t open[FRAME_MAX_DEPTH + 1];
    unsigned nnames = 0, level = 0, part = 0, is_size = 0;
    /* The level whose names may still be the size member: 1 in a header
     * until it is found, else none. */
    unsigned size_level = job->header ? 1u : 0u;
    const char *size_name = frame__size_name(job->cfg), *lit;
    /* The default name's length and key are constants: most headers
     * compute neither. */
    size_t size_len = job->cfg->size_name ? strlen(size_name) : 4u;
    uint64_t size_key;
    frame__u8 c;
    frame_errno err = FRAME_OK;

    if (frame__too_long((size_t)(end - p))) {
        err = FRAME_E_HEADER_TOO_LARGE;
        goto fail;
    }
    frame__names_init(&names, p, end);
    if (!job->header) goto value;
    if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        err = FRAME_E_BOM;
        goto fail;
    }
    /* A header is an object. */
    at = p = frame__kernel_ws(p, end);
    c = p < end ? *p : 0;
    if (c != '{') {
        if (frame__is_value_start(c)) err = FRAME_E_NOT_OBJECT;
        goto syntax;
    }
    goto container;

value_or_close: /* just past '[': a value, or the end of the array */
    at = p = frame__kernel_ws(p, end);
    if (p < end && *p == ']') {
        p++;
        goto closed;
    }
value: /* a value */
    at = p = frame__kernel_ws(p, end);
    c = p < end ? *p : 0;
    if (c == '"') {
        err = frame__value_string(&p, end);
        if (err) goto syntax_p;
    } else if (c == '-' || FRAME__IS_DIGIT(c)) {
        p = frame__number(p, end, &part);
        if (!FRAME__IS_DIGIT(p[-1])) goto syntax_p;
    } else if (c == '{' || c == '[') {
    container: /* at == p, at '{' or '[' */
        if (job->depth + level >= FRAME_MAX_DEPTH) {
            err = FRAME_E_TOO_DEEP;
            goto fail;
        }
        open[++level] = (uint16_t)(nnames << 1 | (c == '['));
        p++;
        if (c == '[') goto value_or_close;
        if (level == 1 && job->header) goto lane;
    object: /* just past '{' */
        at = p = frame__kernel_ws(p, end);
        if (p < end && *p == '}') {
            p++;
            goto closed;
        }
        goto name;
    } else { /* a literal; anything else fails at its first byte */
        lit = frame__literals + ((c - 'f') & 15u);
        do
            if (p >= end || *p != (frame__u8)*lit) goto syntax_p;
        while (p++, *++lit);
    }

next: /* past a value: a comma, the end of its container, or of the text */
    at = p = frame__kernel_ws(p, end);
    if (!level) goto done;
    c = p < end ? *p : 0;
    if (c == ',') {
        p++;
        if (open[level] & 1) goto value;
        goto name;
    }
    if (c != '}' - ((open[level] & 1) << 5)) goto syntax; /* ']' is '}' - 32 */
    p++;
closed: /* past the '}' or ']' of the innermost container */
    nnames = open[level--] >> 1u;
    goto next;

name: /* a member's name */
    at = p = frame__kernel_ws(p, end);
    if (p >= end || *p != '"') goto syntax;
    if (++job->members > FRAME_MAX_MEMBERS) {
        err = FRAME_E_TOO_MANY_MEMBERS;
        goto fail;
    }
    err = frame__names_add(&names, &p, end, open[level] >> 1u, nnames, 1);
    if (err) goto syntax_p; /* a duplicate leaves p at its quote */
    nnames++;
    is_size = level == size_level && frame__name_is(at, p, end, size_name, size_len);
colon: /* past a name; is_size: the size member's */
    at = p = frame__kernel_ws(p, end);
    if (p >= end || *p != ':') goto syntax;
    p++;
    if (is_size) goto size;
    goto value;

lane: /* just past a header's '{' */
    /*
     * The fast lane: members as compact text commonly has them (a plain
     * name, a plain string, an integer, no white space), with no state per
     * token. At anything else the walk goes on in the state that takes it
     * from there, with what the lane recorded: nothing is read twice.
     */
    size_key = job->cfg->size_name ? frame__name_key_of(size_name, size_len) : FRAME__SIZE_KEY;
    for (;;) {
        const frame__u8 *q;
        uint64_t key;
        size_t len;
        if (nnames == FRAME__LANE || p >= end || *p != '"') break;
        q = frame__plain_run(p + 1, end);
        len = (size_t)(q - p - 1);
        if (q >= end || *q != '"') break;
        key = frame__name_key(p + 1, len, end);
        if (frame__names_lane(&names, p + 1, len, key, nnames)) break;
        job->members++; /* no more than FRAME__LANE here */
        nnames++;
        /* A plain name is the size member's when its key is (and, past 8
         * bytes, its bytes are). */
        is_size = size_level && key == size_key && (len < 8 || memcmp(p + 1, size_name, len) == 0);
        at = p;
        p = q + 1;
        if (p >= end || *p != ':') goto colon;
        at = ++p;
        c = p < end ? *p : 0;
        if (is_size) {
            /* 16 digits at most: below 2^53, and no overflow */
            if (c < '1' || c > '9' || (q = frame__kernel_digits(p, end)) - p > 16 ||
                (q < end && (*q == '.' || (*q | 0x20) == 'e')))
                goto size;
            frame__decimal(p, q, &job->size);
            if (job->size > FRAME__BODY_LIMIT(job->cfg)) goto size;
            is_size = size_level = 0;
        } else if (c == '"') {
            q = frame__plain_run(p + 1, end);
            if (q >= end || *q != '"') goto value;
            q++;
        } else if (c >= '1' && c <= '9') {
            q = frame__kernel_digits(p + 1, end);
            if (q < end && (*q == '.' || (*q | 0x20) == 'e')) goto value;
        } else {
            goto value;
        }
        p = q;
        if (p >= end || *p != ',') goto next;
        p++;
    }
    if (!nnames) goto object;
    goto name;

size: /* the size member's value: a decimal integer, checked as soon as read */
    at = p = frame__kernel_ws(p, end);
    c = p < end ? *p : 0;
    if (!FRAME__IS_DIGIT(c)) {
        if (frame__is_value_start(c)) err = FRAME_E_SIZE_INVALID;
        goto syntax;
    }
    p = frame__number(p, end, &part);
    if (!FRAME__IS_DIGIT(p[-1])) goto syntax_p;
    is_size = size_level = 0;
    if (part) {
        err = FRAME_E_SIZE_INVALID;
        goto fail;
    }
    frame__decimal(at, p, &job->size); /* saturated when it does not fit */
    if (job->size > FRAME__BODY_LIMIT(job->cfg)) {
        err = FRAME_E_BODY_TOO_LARGE;
        goto fail;
    }
    goto next;

done: /* past the top-level value and the white space after it */
    if (p != end) goto syntax;
    if (size_level) {
        err = FRAME_E_SIZE_MISSING;
        goto fail;
    }
    return FRAME_OK;

syntax_p:
    at = p;
syntax:
    if (!err) err = FRAME_E_JSON_SYNTAX;
fail:
    job->err_pos = (size_t)(at - job->start);
    return err;
}
