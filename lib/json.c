/*
 * The header validator of SPEC.md: one left-to-right pass, the first error in
 * byte order wins. No recursion: nesting is a fixed array of levels, so a
 * hostile `[[[[...` costs neither stack nor more than FRAME_MAX_DEPTH levels.
 * Strings, digits and white space are scanned by the kernel of the target
 * (scan.h). This file holds the rules the walks share (strings, numbers,
 * literals); walk.h picks the walk and the string scans of the build
 * (string_fast.h or string_small.h).
 */
#include "scan.h"

/* A run of plain string bytes: the string kernel's (scan.h). */
static FRAME__INLINE const frame__u8 *frame__plain_run(const frame__u8 *p, const frame__u8 *end) {
    return frame__kernel_special(p, end);
}

const frame__u8 *frame__skip_ws(const frame__u8 *p, const frame__u8 *end) {
    while (p < end && FRAME__IS_WS(*p)) p++;
    return p;
}

const frame__u8 *frame__plain_end(const frame__u8 *p, const frame__u8 *end) {
    return frame__plain_run(p, end);
}

/* The rules the string scans share with string.c (the single-header
 * generator inlines a file where it first sees it, and every build needs
 * them). */
#include "string_escapes.h"
#include "utf8_seq.h"

/* Scans a number by the RFC 8259 grammar and returns where it stops: past its
 * last digit when it is well-formed, else at the byte that should have been a
 * digit (or end), so a number is well-formed when it ends in a digit. *part
 * says how far it went: 0 integer, 1 fraction, 2 exponent. A leading zero
 * ends the integer part, so `01` stops at the `1`, which the caller then
 * refuses. Size builds keep it out of line: inside the validator it would
 * compete with the token loop for the few registers there are. */
static FRAME__SMALL_OUT const frame__u8 *frame__number(const frame__u8 *p, const frame__u8 *end, unsigned *part) {
    const frame__u8 *q;
    *part = 0;
    p += *p == '-';
    for (;;) {
        q = p;
        p = frame__kernel_digits(p, end);
        if (p == q) return p;
        if (!*part && *q == '0') p = q + 1;
        if (p >= end) return p;
        if (!*part && *p == '.') {
            *part = 1;
        } else if (*part < 2 && (*p | 0x20) == 'e') {
            *part = 2;
            if (p + 1 < end && (p[1] == '+' || p[1] == '-')) p++;
        } else {
            return p;
        }
        p++;
    }
}

/* The literals (FRAME__LITERALS). */
static const char frame__literals[20] = FRAME__LITERALS;

/* A byte that starts a JSON value (for NOT_OBJECT and SIZE_INVALID). */
static int frame__is_value_start(frame__u8 c) {
    static const char starts[] = "{[\"-0123456789tfn";
    return memchr(starts, c, sizeof starts - 1) != NULL; /* not the NUL */
}

/* Name offsets are 32-bit: a longer text is refused (where size_t is no
 * wider, none can be longer). */
static FRAME__INLINE int frame__too_long(size_t n) {
    return (n >> 16 >> 16) != 0; /* two shifts: also where size_t is 32-bit */
}

/*
 * The walk over the tokens, in two variants that agree on every verdict and
 * offset (the test suite runs both; fuzz/fuzz_kernels compares them), with
 * the string scans of the same build; walk.h picks them:
 *   walk_states.h  a label per state: each token is compared only with
 *                  what may come there (speed builds);
 *   walk_small.h   one loop over a set of what may come next: the least
 *                  code (size builds, whatever their kernel, and the small
 *                  kernel).
 * Each comes with its set of member names, where the duplicate rule lives:
 *   names_table.h  8-byte keys for the fast lane's plain names, then a hash
 *                  table of the names' decoded bytes: O(1) a name;
 *   names_tags.h   16-bit tags compared with each earlier name of the
 *                  object: the least code.
 * A name is a duplicate when it decodes to the same bytes as an earlier
 * name of the same object; names are numbered in the order they come, and
 * an object's are first .. count - 1.
 */
#include "walk.h"

frame_errno frame__parse_header(const frame_config *cfg, const void *json, size_t len,
                                frame_header *out, size_t *err_pos) {
    frame__json_job job;
    frame_errno err;
    const frame__u8 *start = (const frame__u8 *)json, *end = start + len;
    memset(&job, 0, sizeof job);
    job.start = start;
    job.end = end;
    job.header = 1;
    job.cfg = cfg;
    err = frame__json_validate(&job);
    frame__header_view(out, start, end, job.size, err);
    *err_pos = job.err_pos; /* 0 unless an error set it */
    return err;
}

FRAME_API frame_errno frame_header_parse(frame_header *out, const frame_config *cfg,
                                         const void *json, size_t len, size_t *err_pos) {
    size_t pos = 0;
    frame_errno err;
    if (!out || (!json && len)) return FRAME_E_ARGUMENT;
    err = frame_config_check(cfg);
    if (!err) err = frame__parse_header(frame__config(cfg), json ? json : "", len, out, &pos);
    if (err_pos) *err_pos = pos; /* 0 unless the header is wrong */
    return err;
}
