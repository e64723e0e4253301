/*
 * libframe benchmark: what the parts of bench/ share. See docs/BENCH.md.
 *
 * Workloads are generated in memory from a fixed seed (workload.c); the
 * decoders and encoders under test live in bench.c (libframe), peers.c
 * (cJSON, jansson, the no-validation floor), peer_jsonc.c and peer_simdjson.cpp
 * (json-c; simdjson, C++ behind extern "C").
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_SEED 0x6c69626672616d65ull /* "libframe" */
#define BENCH_MAX_HEADER 65536u          /* SPEC.md default max_header */
#define BENCH_LARGE_BODY (4u << 20)      /* 4 MiB */
#define BENCH_LARGE_DISTINCT 16u         /* large: distinct frames held in memory */

/* A deterministic PRNG (splitmix64). */
typedef struct bench_rng {
    uint64_t s;
} bench_rng;
uint64_t bench_next(bench_rng *r);
/* Uniform in [lo, hi]. */
unsigned bench_range(bench_rng *r, unsigned lo, unsigned hi);

/* A decode workload: whole frames back to back, fed `repeat` times. */
typedef struct bench_stream {
    unsigned char *buf;
    size_t len;
    unsigned repeat;
    uint64_t frames;       /* frames in buf (one pass) */
    uint64_t header_bytes; /* header octets in buf (prefixes excluded) */
    uint64_t body_bytes;   /* body octets in buf */
} bench_stream;

/* A member of an encoder record: decoded values, escaped by the encoders. */
typedef enum bench_type { BT_STRING, BT_INT, BT_BOOL, BT_NULL } bench_type;
typedef struct bench_member {
    const char *name; /* NUL-terminated UTF-8 */
    bench_type type;
    const char *str; /* BT_STRING: UTF-8, may hold control characters */
    size_t str_len;
    int64_t num; /* BT_INT value, BT_BOOL 0/1 */
} bench_member;

/* One frame to encode: members in order (the size member not included). */
typedef struct bench_record {
    const bench_member *m;
    unsigned n;
    const unsigned char *body;
    size_t body_len;
} bench_record;

typedef struct bench_records {
    bench_record *rec;
    size_t n;
    void *mem[2]; /* members, string arena */
} bench_records;

/* Workload names: "small", "medium", "large", "hostile-max", "hostile-members",
 * "hostile-deep". Returns 0 on success, -1 for an unknown name. For "large",
 * `frames` is the total over all passes: the buffer holds at most
 * BENCH_LARGE_DISTINCT frames and repeat makes up the rest. */
int bench_make_stream(const char *workload, uint64_t frames, bench_stream *out);
void bench_free_stream(bench_stream *s);

/* Encoder records for "small" and "medium" (the same values the decode
 * streams carry). Returns 0, or -1 for a workload without records. */
int bench_make_records(const char *workload, size_t n, bench_records *out);
void bench_free_records(bench_records *r);

/* Appends the JSON string for `len` bytes at s (canonical: SPEC.md section 8).
 * Returns the bytes written to out (which must hold 6 * len + 2). */
size_t bench_json_string(char *out, const char *s, size_t len);

/* ---- the generic framing loop that the peers and the floor share ---- */

/* Validates a header and returns its size member in *size; 0 if accepted. */
typedef int (*bench_parse_fn)(const unsigned char *json, size_t len, uint64_t *size);

typedef struct bench_framer {
    bench_parse_fn parse;
    unsigned char *hbuf; /* BENCH_MAX_HEADER bytes */
    int state, failed;
    unsigned prefix_have;
    uint32_t prefix;
    size_t have;      /* header bytes buffered */
    uint64_t need;    /* header or body bytes still to come */
    uint64_t frames;  /* frames whose header was accepted */
    uint64_t body;    /* body octets seen */
} bench_framer;

void bench_framer_init(bench_framer *f, bench_parse_fn parse, unsigned char *hbuf);
/* Consumes len bytes; returns what it consumed (len unless a header failed). */
size_t bench_framer_feed(bench_framer *f, const unsigned char *p, size_t len);
/* 1 at a frame boundary. */
int bench_framer_done(const bench_framer *f);

/* Header validators of the peers (peers.c). */
int bench_parse_floor(const unsigned char *json, size_t len, uint64_t *size);
int bench_parse_cjson(const unsigned char *json, size_t len, uint64_t *size);
int bench_parse_jansson(const unsigned char *json, size_t len, uint64_t *size);
int bench_parse_jsonc(const unsigned char *json, size_t len, uint64_t *size);
/* peer_simdjson.cpp: the DOM parser (reads "size"), the On-Demand parser
 * (reads every member), and UTF-8 validation alone (+ the floor's size scan). */
int bench_parse_simdjson_dom(const unsigned char *json, size_t len, uint64_t *size);
int bench_parse_simdjson_ondemand(const unsigned char *json, size_t len, uint64_t *size);
int bench_parse_simdjson_utf8(const unsigned char *json, size_t len, uint64_t *size);
/* The simdjson kernel chosen at run time for this CPU ("haswell", "icelake",
 * "westmere", "fallback"...): valgrind's CPU may make it choose another. */
const char *bench_simdjson_impl(void);

/* Encoders of the peers: prefix + header into out (cap bytes); returns the
 * length, 0 on failure. */
size_t bench_encode_cjson(const bench_record *r, unsigned char *out, size_t cap);
size_t bench_encode_jansson(const bench_record *r, unsigned char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
