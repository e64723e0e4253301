/* Private declarations shared by the files of lib/. Not installed. */
#ifndef FRAME_INTERNAL_H
#define FRAME_INTERNAL_H

/* The shared library exports frame_* and nothing else (built with
 * -fvisibility=hidden); internal cross-file helpers are named frame__*. */
#if defined(FRAME_BUILDING) && !defined(FRAME_API) && defined(__GNUC__)
#define FRAME_API __attribute__((visibility("default")))
#endif

#include "frame.h"

#include <string.h>

#if FRAME_VERSION_MAJOR != 1
#error "lib/ and include/frame.h disagree on the version"
#endif

typedef unsigned char frame__u8;

/* For the few hot helpers whose call costs more than their body. */
#if defined(__GNUC__)
#define FRAME__INLINE inline __attribute__((always_inline))
#else
#define FRAME__INLINE
#endif

#define FRAME__IS_WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

/* The effective parameters of a config (NULL = defaults). */
const frame_config *frame__cfg(const frame_config *cfg);
unsigned frame__width(const frame_config *cfg);
uint64_t frame__width_max(unsigned width); /* largest value a prefix of `width` holds */
uint64_t frame__max_header(const frame_config *cfg);
uint64_t frame__max_body(const frame_config *cfg);
const char *frame__size_name(const frame_config *cfg);

/* Prefix bytes <-> value, in the configured byte order. */
void frame__put_prefix(frame__u8 *out, const frame_config *cfg, uint64_t value);
uint64_t frame__get_prefix(const frame__u8 *in, const frame_config *cfg);
/* Classifies a prefix whose value is over its limit: LOOKS_LIKE_TLS,
 * LOOKS_LIKE_TEXT, or `otherwise`. */
frame_errno frame__foreign_prefix(const frame__u8 *prefix, unsigned width, frame_errno otherwise);

/* Where decoded string bytes go. buf may be NULL (count only). */
typedef struct frame__sink {
    frame__u8 *buf;
    size_t cap;
    size_t len;     /* decoded bytes seen */
    size_t out_len; /* bytes stored (or that would be, past cap) */
    int want_hash;  /* hash the decoded bytes, as the plain-name fast path does */
    int escape;     /* store them escaped canonically */
    uint64_t hash, word; /* hash state: whole words mixed in, and the word being filled */
} frame__sink;


/*
 * Scans the JSON string starting at the quote *p. On success returns FRAME_OK
 * and *p is past the closing quote; on failure returns the error and *p points
 * at the offending byte (`end` when the text ends too early). Validates
 * escapes, surrogates and UTF-8; feeds decoded bytes to sink (may be NULL).
 */
frame_errno frame__scan_string(const frame__u8 **p, const frame__u8 *end, frame__sink *sink);

/*
 * Compares the decoded content of the JSON string at `a` (its opening quote,
 * within [a, a_end)) with the `len` bytes at s. Malformed text is unequal.
 */
int frame__string_equals_bytes(const frame__u8 *a, const frame__u8 *a_end, const frame__u8 *s,
                               size_t len);
/* Compares the decoded content of two JSON strings. */
int frame__string_equals_string(const frame__u8 *a, const frame__u8 *a_end, const frame__u8 *b,
                                const frame__u8 *b_end);

/* What the validator is asked to check, and where it reports. */
typedef struct frame__json_job {
    const frame__u8 *start, *end;
    int header;          /* 1: a header (object, size member, BOM); 0: any one value */
    unsigned depth;      /* nesting levels already used around this text */
    unsigned members;    /* members already counted against FRAME_MAX_MEMBERS */
    const frame_config *cfg;
    /* canonical copy of the text (white space dropped, strings re-escaped);
     * out NULL = none. On overflow `out_len` exceeds out_cap. */
    frame__u8 *out;
    size_t out_cap, out_len;
    /* results */
    uint64_t size;       /* the size member's value (saturated on BODY_TOO_LARGE) */
    size_t err_pos;      /* offset of the error from start */
} frame__json_job;

frame_errno frame__json_validate(frame__json_job *job);
/* Accepts the common compact header quickly; 0 means "ask the validator". */
int frame__fast_header(frame__json_job *job);

/* Writes the canonical JSON string for the `len` UTF-8 bytes at s.
 * Returns FRAME_OK, FRAME_E_BAD_UTF8, or FRAME_E_BUFFER_TOO_SMALL. */
frame_errno frame__put_string(frame__u8 *out, size_t cap, size_t *pos, const frame__u8 *s, size_t len);

/* Skips one value starting at *p (no validation, bounded by end); returns its
 * type, FRAME_TYPE_INVALID when no value starts there. */
frame_type frame__skip_value(const frame__u8 **p, const frame__u8 *end);

#endif /* FRAME_INTERNAL_H */
