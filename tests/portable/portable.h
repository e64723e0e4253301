/*
 * The portable test runner: the vector checks and the 64-bit size checks of
 * libframe without Criterion, for targets where Criterion does not exist
 * (s390x under qemu-user) or is not installed (gcc -m32). Plain C99 + stdio.
 */
#ifndef PORTABLE_H
#define PORTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "frame.h"

typedef struct pv_bytes {
    const unsigned char *p;
    size_t len;
} pv_bytes;

/* A frame the decoder must report: header text (absent in the raw profile)
 * and body. */
typedef struct pv_frame {
    pv_bytes header_json;
    int has_header_json;
    pv_bytes body;
} pv_frame;

enum { PV_STRING, PV_INT, PV_UINT, PV_BOOL, PV_NULL, PV_RAW };

typedef struct pv_member {
    pv_bytes name;
    int type;
    pv_bytes str; /* PV_STRING, PV_RAW */
    int64_t i;
    uint64_t u;
    int b;
} pv_member;

/* One vector of tests/vectors (see tests/vectors/README.md). */
typedef struct pv_vector {
    const char *name;
    int encode;
    int has_config;
    frame_config config;
    int datagram;
    pv_bytes stream;
    const pv_frame *frames;
    size_t nframes;
    const pv_member *members;
    size_t nmembers;
    pv_bytes body;
    pv_bytes frame;
    const char *error; /* NULL: no error */
    int has_offset;
    uint64_t offset;
    int has_frame;
    uint64_t frame_index;
    int has_missing;
    uint64_t missing;
} pv_vector;

extern const pv_vector pv_vectors[];
extern const size_t pv_vector_count;

/* Counting checks: every check is counted; a failed one is printed. */
typedef struct pv_ctx {
    unsigned long checks, failures;
    const char *where; /* name of the vector or case being checked */
    FILE *emit;        /* where results are written for cross-platform comparison */
} pv_ctx;

int pv_check(pv_ctx *t, int ok, const char *what, const char *file, int line);
#define PV_CHECK(t, cond, what) pv_check((t), (cond) ? 1 : 0, (what), __FILE__, __LINE__)
void pv_fail_detail(pv_ctx *t, const char *fmt, ...);

/* The checks of bigsize.c: bodies and declared sizes over 4 GiB. */
void pv_run_bigsize(pv_ctx *t);

#endif /* PORTABLE_H */
