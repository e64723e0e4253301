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

/* Size-optimised builds (-Os, or FRAME_SMALL defined) leave out the code
 * that only buys speed: the fast header path, word-at-a-time scanning and
 * forced inlining. */
#if defined(FRAME_SMALL) || defined(__OPTIMIZE_SIZE__)
#define FRAME__SMALL 1
#else
#define FRAME__SMALL 0
#endif

/* Inlining forced either way where the compiler's guess is wrong (GCC and
 * Clang; other compilers decide alone): the one place for these
 * attributes, so that the code that uses them has no #if. */
#if defined(__GNUC__)
#define FRAME__ALWAYS_INLINE inline __attribute__((always_inline))
#define FRAME__NOINLINE __attribute__((noinline))
#else
#define FRAME__ALWAYS_INLINE inline
#define FRAME__NOINLINE
#endif

/* For the few hot helpers whose call costs more than their body; size
 * builds let the compiler choose. */
#if FRAME__SMALL
#define FRAME__INLINE inline
#else
#define FRAME__INLINE FRAME__ALWAYS_INLINE
#endif

/* Where only size builds overrule the compiler: inlined (a function
 * called from a few places whose body is smaller than the calls) or kept
 * out of line (one that would compete for the few registers of the loop it
 * sits in); speed builds let it choose. */
#if FRAME__SMALL
#define FRAME__SMALL_INLINE FRAME__ALWAYS_INLINE
#define FRAME__SMALL_OUT FRAME__NOINLINE
#else
#define FRAME__SMALL_INLINE
#define FRAME__SMALL_OUT
#endif

/* The config that every object keeps: cfg, or the defaults for NULL. So
 * that the code below never tests for NULL. */
const frame_config *frame__config(const frame_config *cfg);

/* The effective parameters of a config (zeroed fields = defaults). Inline:
 * the decoder asks for them on every frame. */
static FRAME__INLINE unsigned frame__width(const frame_config *cfg) {
    return cfg->prefix_width ? cfg->prefix_width : 4u;
}

/* The effective max_body (body != 0) or max_header of a checked config, no
 * more than the prefix can carry (max_header is then at most 2^32-1). */
uint64_t frame__limit(const frame_config *cfg, int body);
/* The effective max_body before what a raw prefix can carry (frame__limit
 * adds that). */
#define FRAME__BODY_LIMIT(cfg) ((cfg)->max_body ? (cfg)->max_body : FRAME_MAX_BODY_LIMIT)
static FRAME__INLINE uint64_t frame__max_body(const frame_config *cfg) { return frame__limit(cfg, 1); }
/* frame__max_body, read inline but in the raw profile (whose prefix may
 * carry less): the validator asks for it in every header, the builder in
 * every init. */
static FRAME__INLINE uint64_t frame__body_limit(const frame_config *cfg) {
    return cfg->raw ? frame__max_body(cfg) : FRAME__BODY_LIMIT(cfg);
}

static FRAME__INLINE const char *frame__size_name(const frame_config *cfg) {
    return cfg->size_name ? cfg->size_name : "size";
}

#define FRAME__IS_WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')
#define FRAME__IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

/* Writes the prefix bytes of `value` in the configured byte order. */
void frame__put_prefix(frame__u8 *out, const frame_config *cfg, uint64_t value);

/* One step of the member-name hash used to find duplicates. */
#define FRAME__MIX(h, w) ((h) = (((h) ^ (w)) * 0x9e3779b97f4a7c15ull) ^ ((h) >> 29))

/* Where decoded string bytes go: counted always, stored when buf is set.
 * Speed builds also hash them word by word on request (as the fast path
 * hashes plain names, so both agree). */
typedef struct frame__sink {
    frame__u8 *buf;
    size_t cap;
    size_t len;          /* decoded bytes seen (stored: at most cap) */
#if !FRAME__SMALL
    int want_hash;
    uint64_t hash, word; /* whole words mixed in, and the word being filled */
#endif
} frame__sink;

/* The value of the decimal digits in [p, end) (digits only); returns 0 and
 * saturates *out at UINT64_MAX when it does not fit in 64 bits. */
int frame__decimal(const frame__u8 *p, const frame__u8 *end, uint64_t *out);

/* Writes code point cp as UTF-8 into out (4 bytes room); returns the length. */
size_t frame__put_utf8(frame__u8 *out, uint32_t cp);
/* Decodes the escape at p (p[0] == '\\') into a code point. On success *next
 * is past it; on failure *next is the offending byte (or end). */
frame_errno frame__escape(const frame__u8 *p, const frame__u8 *end, uint32_t *cp,
                          const frame__u8 **next);

/* The literals true, false and null, each at (its first byte - 'f') % 16
 * (false 0, null 8, true 14) and followed by a NUL and its frame_type:
 * every other byte finds a byte unlike itself at its index (a letter's
 * place, a NUL or a type below 0x20 that no byte mapped there equals), so
 * that the validator and the accessors pick a literal with no comparisons
 * and anything else fails at its first byte. 20 bytes: 4 can be read from
 * any index up to 15. A table's initializer, for each file that reads it
 * (a static table each: no data symbol to share between copies of the
 * library). */
#define FRAME__LITERALS                                                                                    \
    {'f', 'a', 'l', 's', 'e', 0, FRAME_TYPE_BOOL, 0, 'n', 'u', 'l', 'l', 0, FRAME_TYPE_NULL, 't', 'r', 'u', \
     'e', 0, FRAME_TYPE_BOOL}

/* The first byte at or after p that is not JSON white space, or end. */
const frame__u8 *frame__skip_ws(const frame__u8 *p, const frame__u8 *end);

/* The first byte at or after p that a string scan must look at ('"', '\\',
 * control, non-ASCII), or end. */
const frame__u8 *frame__plain_end(const frame__u8 *p, const frame__u8 *end);

/*
 * Scans the JSON string starting at the quote *p. On success returns FRAME_OK
 * and *p is past the closing quote; on failure returns the error and *p points
 * at the offending byte (`end` when the text ends too early). Validates
 * escapes, surrogates and UTF-8; feeds decoded bytes to sink (may be NULL).
 */
frame_errno frame__scan_string(const frame__u8 **p, const frame__u8 *end, frame__sink *sink);

/* Yields the decoded bytes of a JSON string one at a time. */
typedef struct frame__siter {
    const frame__u8 *p, *end;
    const frame__u8 *more; /* the rest of a character: in buf or in the text */
    size_t left;           /* bytes at `more` still to yield */
    frame__u8 buf[4];      /* an escape, decoded */
} frame__siter;
/* Starts at the opening quote; inline: a call would take as many bytes. */
static FRAME__INLINE void frame__siter_init(frame__siter *it, const frame__u8 *quote, const frame__u8 *end) {
    it->p = quote + 1;
    it->end = end;
    it->left = 0;
}
/* The next decoded byte (0..255), -1 at the closing quote, or -1 - the error
 * on malformed text (it->p then at the offending byte, or end). Checks what
 * frame__scan_string checks. */
int frame__siter_next(frame__siter *it);

/*
 * Compares the decoded content of the JSON string at `a` (its opening quote,
 * within [a, a_end)) with the `len` bytes at s. Malformed text is unequal.
 */
int frame__string_equals_bytes(const frame__u8 *a, const frame__u8 *a_end, const frame__u8 *s,
                               size_t len);
/* Compares the decoded content of two JSON strings. */
int frame__string_equals_string(const frame__u8 *a, const frame__u8 *a_end, const frame__u8 *b,
                                const frame__u8 *b_end);

/* What the validator is asked to check, and what it reports. */
typedef struct frame__json_job {
    const frame__u8 *start, *end;
    int header;          /* 1: a header (object, size member, BOM); 0: any one value */
    unsigned depth;      /* nesting levels already used around this text */
    unsigned members;    /* members already counted against FRAME_MAX_MEMBERS; updated */
    const frame_config *cfg;
    uint64_t size;       /* the size member's value (saturated on BODY_TOO_LARGE) */
    size_t err_pos;      /* offset of the error from start */
} frame__json_job;

frame_errno frame__json_validate(frame__json_job *job);

/* Validates a header (config already checked) and fills *out; on error
 * *err_pos is the offset within it. */
frame_errno frame__parse_header(const frame_config *cfg, const void *json, size_t len,
                                frame_header *out, size_t *err_pos);

/* Fills *out for the header [start, end) that frame__json_validate checked
 * with verdict err, its size member's value being size: the root view is
 * the object itself, without the white space around it (a valid header
 * holds nothing else), or the whole text (FRAME_TYPE_INVALID) on an error.
 * The one filling of a header view, for frame__parse_header and the
 * decoder's straight path, which calls the validator itself. */
static FRAME__INLINE void frame__header_view(frame_header *out, const frame__u8 *start, const frame__u8 *end,
                                             uint64_t size, frame_errno err) {
    if (!err) {
        while (*start != '{') start++;
        while (end[-1] != '}') end--;
    }
    out->root.json = (const char *)start;
    out->root.len = (size_t)(end - start);
    out->root.type = err ? FRAME_TYPE_INVALID : FRAME_TYPE_OBJECT;
    out->body_size = size;
}

/* Unrolls the loop that follows it in full where its count is a constant
 * (GCC 8 and later, Clang; elsewhere nothing): a loop over the octets of a
 * prefix of known width then becomes a load. */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define FRAME__UNROLL _Pragma("GCC unroll 8")
#else
#define FRAME__UNROLL
#endif

#endif /* FRAME_INTERNAL_H */
