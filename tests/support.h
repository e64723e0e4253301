/*
 * Helpers shared by the libframe test files: hex, a seeded PRNG, frames made
 * by hand, memory that ends at an unmapped guard page, a callback recorder
 * that turns a decode into a text event log, a feeder that splits/pauses, and
 * JSON reading through libframe's own accessors (for vectors and round trips).
 *
 * Test code may allocate; the helpers abort the test on out-of-memory.
 */
#ifndef TESTS_SUPPORT_H
#define TESTS_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* ---- memory and text ---------------------------------------------------- */

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);

/* A growing byte string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;
void sb_add(sbuf *s, const void *data, size_t len);
void sb_adds(sbuf *s, const char *str);
void sb_printf(sbuf *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void sb_hex(sbuf *s, const void *data, size_t len);
const char *sb_str(sbuf *s); /* NUL-terminated view */
void sb_free(sbuf *s);

/* Decodes hex (upper or lower case) into out (hexlen/2 bytes). Returns the
 * number of bytes, or (size_t)-1 on an odd length or a bad digit. */
size_t hex_decode(const char *hex, size_t hexlen, unsigned char *out);
/* Same, into a new buffer (never NULL, even for ""). */
unsigned char *hex_decode_alloc(const char *hex, size_t hexlen, size_t *outlen);

/* ---- PRNG (splitmix64): deterministic from its seed --------------------- */

typedef struct prng {
    uint64_t s;
} prng;
uint64_t prng_next(prng *r);
/* Uniform in [0, n) (n > 0). */
uint64_t prng_below(prng *r, uint64_t n);
uint64_t hash_str(const char *s); /* FNV-1a, for per-name seeds */

/* ---- frames by hand ----------------------------------------------------- */

/* Writes a prefix of `width` octets holding `value`. */
void put_prefix(unsigned char *out, unsigned width, int big_endian, uint64_t value);
/* Appends prefix(strlen(header)) | header | body to s. */
void sb_frame(sbuf *s, unsigned width, int big_endian, const char *header, const void *body,
              size_t body_len);
/* Default frame (4-octet LE) with header {"size":N} (+ `extra` members text,
 * e.g. ",\"a\":1", may be "") and body. */
void sb_simple_frame(sbuf *s, const char *extra, const void *body, size_t body_len);

/* ---- guard pages -------------------------------------------------------- */

/* A region of memory followed by an unmapped page: data placed at its end
 * makes any read past the data crash the test. */
typedef struct guard {
    unsigned char *base; /* first usable byte */
    size_t cap;          /* usable bytes, right before the guard page */
    size_t map_len;
} guard;
void guard_init(guard *g, size_t cap);
/* Copies len bytes so that they end right at the guard page; returns where. */
const unsigned char *guard_place(guard *g, const void *data, size_t len);
void guard_free(guard *g);

/* Memory reserved lazily (mmap NORESERVE), for header buffers as large as a
 * configured max_header. Returns NULL if it cannot be mapped. */
void *big_alloc(size_t n);
void big_free(void *p, size_t n);
/* n bytes of address space that no byte may be read from (PROT_NONE):
 * NULL when it cannot be had; big_free releases it. */
void *big_reserve(size_t n);

/* ---- recorder: decoder callbacks -> event log --------------------------- */

enum {
    REC_HEADER = 1u,
    REC_BODY = 2u,
    REC_END = 4u
};

typedef struct rec_frame {
    unsigned char *header; /* the root value's text (no surrounding white space) */
    size_t header_len;
    uint64_t body_size;
    unsigned char *body;
    size_t body_len;
    int skipped;
} rec_frame;

/*
 * The log is text, one event per line, body chunks coalesced so that any
 * split of the input gives the same log:
 *   "H <body_size> <hex of root json>"  on_header
 *   "B <hex of body bytes>"             one or more on_body calls in a row
 *   "E"                                 on_frame_end
 * The feeder appends the end status: "OK" or "ERR <NAME> off=<o> frame=<f>"
 * (+ " missing=<m>" for TRUNCATED) (+ " code=<c>" for CALLBACK).
 */
typedef struct recorder {
    sbuf log;
    int in_body;
    /* completed frames */
    rec_frame *frames;
    size_t nframes, frames_cap;
    rec_frame cur;
    int have_cur;
    size_t cur_body_cap;
    /* behaviour: pause_mask kinds return FRAME_PAUSE; otherwise the *_ret */
    unsigned pause_mask;
    int header_ret, body_ret, end_ret;
    /* on_header returns FRAME_SKIP for frame i (counted by on_header calls,
     * from 0, i < 64) when bit i is set */
    uint64_t skip_bits;
    /* fail with `fail_code` at the fail_at-th call (1-based) of kind fail_kind */
    unsigned fail_kind;
    unsigned long fail_at;
    int fail_code;
    unsigned long n_header, n_body, n_end;
    unsigned last_kind; /* kind of the last callback */
    /* checks made inside callbacks: where pointers may point */
    const unsigned char *hdr_lo, *hdr_hi;   /* header text must lie here */
    const unsigned char *feed_lo, *feed_hi; /* body chunks must lie here */
    const char *size_name;                  /* NULL = "size" */
    int raw;                                /* raw profile */
    int keep_bodies;                        /* store body bytes in frames/log */
    int datagram;                           /* inside frame_feed_datagram */
    /* first inconsistency seen inside a callback */
    int bad;
    char why[256];
} recorder;

void rec_init(recorder *r);
void rec_free(recorder *r);
/* The callbacks, for frame_decoder_init(..., &rec_callbacks, ..., &rec). */
extern const frame_callbacks rec_callbacks;
void rec_fail(recorder *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Result of feeding a whole stream. */
typedef struct feed_stats {
    frame_errno err; /* final: OK after a clean finish */
    uint64_t offset, frame, missing;
    unsigned long pauses;
    /* for pauses right after on_header / on_frame_end: the bytes consumed */
    uint64_t *header_pause_at, *end_pause_at;
    size_t n_header_pause, n_end_pause;
} feed_stats;
void feed_stats_free(feed_stats *s);

/*
 * Feeds `len` bytes split before each offset in cuts[0..ncuts) (ascending,
 * may repeat), each chunk copied to the end of a guard region; after every
 * pause checks the offset, resumes and feeds the rest again; then calls
 * frame_finish() if nothing failed, and appends the status line to the log.
 * Checks the sticky-error rules on the way. Returns 0, or -1 with a message
 * in r->why (and r->bad set) when the decoder broke an API rule.
 */
int feed_stream(frame_decoder *d, recorder *r, const unsigned char *data, size_t len,
                const size_t *cuts, size_t ncuts, feed_stats *st);
/* One datagram through frame_feed_datagram (placed before a guard page);
 * appends the status line ("OK" when it returned FRAME_OK). */
int feed_datagram(frame_decoder *d, recorder *r, const unsigned char *data, size_t len,
                  feed_stats *st);
/* Appends the status line for a final errno to the log. */
void rec_status(recorder *r, const frame_decoder *d, frame_errno err, uint64_t missing);

/* ---- JSON through libframe's accessors ---------------------------------- */

/* Parses arbitrary JSON text (any top-level value) by wrapping it as
 * {"size":0,"v":TEXT}. `wrap` receives the wrapper buffer (free it after
 * use). On success *out views TEXT's value. Returns the parse error
 * (positions shifted back into TEXT) and *err_pos. When the wrapper hits the
 * depth or member limits only because of the wrapping, falls back to a
 * plain view (the accessors do not need a validated value). */
frame_errno json_parse_any(const char *text, size_t len, char **wrap, frame_value *out,
                           size_t *err_pos);
/* Unescaped string of a string value (malloc'ed, NUL-terminated), or NULL
 * if not a string. */
char *json_str(const frame_value *v, size_t *len);
/* Member lookups; return 0 if absent or of another type. */
int json_get(const frame_value *obj, const char *name, frame_value *out);
char *json_get_str(const frame_value *obj, const char *name, size_t *len);
int json_get_u64(const frame_value *obj, const char *name, uint64_t *out);
int json_get_i64(const frame_value *obj, const char *name, int64_t *out);
int json_get_bool(const frame_value *obj, const char *name, int *out);
/* Number of elements/members. */
size_t json_count(const frame_value *v);
/*
 * Compares two JSON values: same types, objects with the same members in the
 * same order (names compared unescaped), arrays element by element, strings
 * unescaped, numbers by exact text (numbers_exact) or by numeric value.
 * Returns 1 if equal, else 0 and a reason in why (may be NULL).
 */
int json_equal(const frame_value *a, const frame_value *b, int numbers_exact, sbuf *why);

/* ---- files -------------------------------------------------------------- */

/* Reads a whole file (NUL-terminated for convenience); NULL on error. */
char *read_file_all(const char *path, size_t *len);
/* The vector directory: $FRAME_VECTOR_DIR, else VECTOR_DIR, else "tests/vectors". */
const char *vector_dir(void);

#endif /* TESTS_SUPPORT_H */

/* ---- test vectors (format: DECISIONS.md, tests/vectors/README.md) ------- */

typedef struct vector {
    char *path;       /* file path */
    char *file_name;  /* without directory and ".json" */
    char *text;       /* file contents */
    size_t text_len;
    char *wrap;       /* parse wrapper (json_parse_any) */
    frame_value root; /* the vector object */
    char *size_name;  /* storage for config.size_name */
    frame_config config;
    int config_given;
} vector;

/* Sorted paths of every *.json in vector_dir(); returns the count (paths
 * freed with vector_list_free). */
size_t vector_list(char ***paths);
void vector_list_free(char **paths, size_t n);
/* Reads and parses a vector file and its "config" (absent fields = 0, the
 * defaults). Returns 0, or -1 with a reason in why. */
int vector_load(vector *v, const char *path, sbuf *why);
void vector_free(vector *v);
