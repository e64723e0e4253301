/*
 * Shared by the libFuzzer harnesses in fuzz/. Every fuzz input starts with an
 * 8-byte parameter block (see fuzz/README.md):
 *
 *   byte 0   bits 0-1 prefix width (0:1 1:2 2:4 3:8 octets), bit 2 big-endian,
 *            bit 3 raw profile, bits 4-5 size name (0 "size", 1 "data_size",
 *            2 "file_size", 3 explicit: after the block, one length byte and
 *            that many name bytes)
 *   byte 1-2 max_header, little-endian u16 (0 = default 65536)
 *   byte 3   max_body: 0 = default, 1..0xBF = that value,
 *            0xC0 + k = 2^k - 1 (k > 53 makes an invalid config)
 *   byte 4-7 harness controls (each harness says what they mean)
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_PARAMS 8
#define FZ_HEADER_CAP 65536u

/* Fails the run (libFuzzer reports it as a crash and saves the input). */
#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

typedef struct fz_params {
    frame_config cfg;
    char name[256 + 1];
    size_t name_len;
    uint8_t ctl[4];
    uint64_t max_body; /* effective */
} fz_params;

/* Reads the parameter block; returns the bytes it took, 0 if the input is
 * too short to hold it. */
static inline size_t fz_params_read(fz_params *p, const uint8_t *d, size_t n) {
    static const char *const names[] = {"size", "data_size", "file_size"};
    static const unsigned widths[] = {1, 2, 4, 8};
    size_t used = FZ_PARAMS;
    unsigned nc;
    if (n < FZ_PARAMS) return 0;
    memset(p, 0, sizeof *p);
    p->cfg.prefix_width = widths[d[0] & 3];
    p->cfg.big_endian = (d[0] >> 2) & 1;
    p->cfg.raw = (d[0] >> 3) & 1;
    nc = (d[0] >> 4) & 3;
    if (nc < 3) {
        p->name_len = strlen(names[nc]);
        memcpy(p->name, names[nc], p->name_len + 1);
    } else {
        size_t l;
        if (n < used + 1) return 0;
        l = d[used++];
        if (n < used + l) return 0;
        memcpy(p->name, d + used, l);
        p->name[l] = 0;
        p->name_len = strlen(p->name); /* the config sees a C string */
        used += l;
    }
    p->cfg.size_name = p->name;
    p->cfg.max_header = (uint64_t)d[1] | (uint64_t)d[2] << 8;
    if (d[3] < 0xC0) p->cfg.max_body = d[3];
    else p->cfg.max_body = (d[3] - 0xC0u) >= 64 ? UINT64_MAX : ((uint64_t)1 << (d[3] - 0xC0u)) - 1;
    p->max_body = p->cfg.max_body ? p->cfg.max_body : FRAME_MAX_BODY_LIMIT;
    memcpy(p->ctl, d + 4, 4);
    return used;
}

/* Whether the harness' own idea of the config agrees that it is valid. */
static inline int fz_config_valid(const fz_params *p) {
    size_t i;
    if (p->cfg.max_body > FRAME_MAX_BODY_LIMIT) return 0;
    if (p->name_len < 1 || p->name_len > FRAME_MAX_SIZE_NAME) return 0;
    for (i = 0; i < p->name_len; i++) {
        unsigned char c = (unsigned char)p->name[i];
        if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') return 0;
    }
    return 1;
}

static inline uint64_t fz_max_header(const fz_params *p) {
    uint64_t m = p->cfg.max_header ? p->cfg.max_header : FRAME_DEFAULT_MAX_HEADER;
    unsigned w = p->cfg.prefix_width;
    if (w < 8) {
        uint64_t wmax = ((uint64_t)1 << (8 * w)) - 1;
        if (m > wmax) m = wmax;
    }
    return m;
}

/* The prefix value of a frame whose first byte is at d (n >= width). */
static inline uint64_t fz_prefix(const fz_params *p, const uint8_t *d) {
    uint64_t v = 0;
    unsigned i, w = p->cfg.prefix_width;
    for (i = 0; i < w; i++) {
        unsigned k = p->cfg.big_endian ? i : w - 1 - i;
        v = v << 8 | d[k];
    }
    return v;
}

static inline void fz_put_prefix(const fz_params *p, uint8_t *o, uint64_t v) {
    unsigned i, w = p->cfg.prefix_width;
    for (i = 0; i < w; i++) {
        unsigned k = p->cfg.big_endian ? w - 1 - i : i;
        o[k] = (uint8_t)(v >> (8 * i));
    }
}

/* A small deterministic generator for split points and choices. */
typedef struct fz_rng {
    uint32_t s;
} fz_rng;

static inline uint32_t fz_rand(fz_rng *r) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 17;
    r->s ^= r->s << 5;
    return r->s;
}

static inline void fz_seed(fz_rng *r, uint32_t seed) { r->s = seed * 2654435761u + 0x9E3779B9u; if (!r->s) r->s = 1; }

/* Malloc guard (fuzz/malloc_guard.c): between begin and end any allocation
 * aborts. No-ops unless the harness is built with FUZZ_MALLOC_GUARD. */
#ifdef FUZZ_MALLOC_GUARD
void fz_guard_begin(void);
void fz_guard_end(void);
#else
static inline void fz_guard_begin(void) {}
static inline void fz_guard_end(void) {}
#endif

#endif
