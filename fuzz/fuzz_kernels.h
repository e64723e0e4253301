/*
 * fuzz_kernels: one copy of the library per string kernel (lib/scan.h) in
 * one binary. fuzz/fuzz_kernels_impl.c is compiled once per kernel against
 * the single header (build/dist/frame.h) with FRAME_STATIC and
 * FRAME_KERNEL_<NAME>, and exports that copy as `fzk_<name>`; the harness
 * (fuzz/fuzz_kernels.c) runs each on the same input and compares.
 *
 * Every entry writes what it saw into a log: text (for a readable diff),
 * truncated at the buffer's capacity, plus the full length and a hash of
 * everything, so that a difference past the capacity still shows.
 */
#ifndef FUZZ_KERNELS_H
#define FUZZ_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h" /* frame_config: the same struct in both headers */

typedef struct fzk_log {
    char *text;
    size_t cap;
    size_t len;    /* of everything written, even past cap */
    uint64_t hash; /* FNV-1a of everything written */
} fzk_log;

typedef struct fzk_kernel {
    const char *name;
    /* frame_header_parse(json, n): verdict, error name and offset, body
     * size, then every value view (type, offset into json, length; strings
     * read out, numbers, booleans) depth first. */
    void (*parse)(const frame_config *cfg, const unsigned char *json, size_t n, fzk_log *log);
    /* The stream through frame_feed(): split 0 whole, 1 byte by byte, else
     * chunks of 1..split bytes from the seed. Every callback (header with its
     * views, where its memory lies, body chunk offsets and lengths, frame
     * end), then the error or frame_finish() with offset, frame, needed. */
    void (*decode)(const frame_config *cfg, const unsigned char *data, size_t n, unsigned split,
                   uint32_t seed, fzk_log *log);
    /* The kernel's primitives, as lib/scan.h declares them. */
    const unsigned char *(*special)(const unsigned char *p, const unsigned char *end);
    unsigned (*special16)(const unsigned char *p);
    unsigned (*quotes16)(const unsigned char *p);
    void (*marks16)(const unsigned char *p, unsigned m[4]);
    void (*utf8_16)(const unsigned char *p, unsigned m[4]);
} fzk_kernel;

extern const fzk_kernel fzk_sse2, fzk_neon, fzk_word, fzk_small;

#endif
