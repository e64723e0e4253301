/*
 * lib/scan.h: the string kernel, the one place where libframe reads more
 * than one byte at a time to find the end of a run of plain string bytes.
 * Private; included by the lib/ files that scan strings.
 *
 * Interface (every kernel defines exactly this):
 *
 *   const frame__u8 *frame__kernel_special(const frame__u8 *p, const frame__u8 *end);
 *
 *   The first byte in [p, end) that a string scan must look at - '"',
 *   '\\', a control byte (< 0x20) or a byte >= 0x80 - or end when there is
 *   none. It never reads a byte outside [p, end): inputs may end just
 *   before an unmapped page.
 *
 *   const frame__u8 *frame__kernel_digits(const frame__u8 *p, const frame__u8 *end);
 *
 *   The first byte in [p, end) that is not an ASCII digit, or end.
 *
 *   const frame__u8 *frame__kernel_ws(const frame__u8 *p, const frame__u8 *end);
 *
 *   The first byte in [p, end) that is not JSON white space, or end.
 *
 *   unsigned frame__kernel_special16(const frame__u8 *p);
 *
 *   The bytes of p[0..15] that a string scan must look at, as above, one
 *   bit each (bit i for p[i]), exactly: the marks of a window of the
 *   string scans (string_fast.h). Reads exactly those 16 bytes.
 *
 *   unsigned frame__kernel_quotes16(const frame__u8 *p);
 *
 *   The quotes ('"') of p[0..15], a bit each in the same way: with
 *   special16, the marks of a short header (walk_states.h). Reads exactly
 *   those 16 bytes.
 *
 *   void frame__kernel_marks16(const frame__u8 *p, unsigned m[4]);
 *
 *   The classes of p[0..15] that stage one (walk_blocks.h) marks in a
 *   block, a bit each in the same way: m[0] quotes, m[1] backslashes, m[2]
 *   controls (below 0x20), m[3] bytes >= 0x80. Reads exactly those 16 bytes.
 *
 *   void frame__kernel_utf8_16(const frame__u8 *p, unsigned m[4]);
 *
 *   The UTF-8 classes of p[0..15], for a block with bytes >= 0x80: m[0]
 *   continuation bytes (0x80..0xbf), m[1] bytes >= 0xe0, m[2] bytes >=
 *   0xf0, m[3] bytes 0xc0 and 0xc1. Reads exactly those 16 bytes.
 *
 * The kernels, one file each:
 *   kernel_sse2.h   16 bytes per step; x86-64, whose baseline has SSE2 (no
 *                   run-time dispatch)
 *   kernel_neon.h   16 bytes per step; AArch64
 *   kernel_word.h   8 bytes per step in plain C99; any other target
 *   kernel_small.h  a byte per step, the least code; FRAME_SMALL builds
 * The target picks one at build time, below. FRAME_KERNEL_SSE2,
 * FRAME_KERNEL_NEON, FRAME_KERNEL_WORD or FRAME_KERNEL_SMALL (defined when
 * lib/ is compiled) forces any one the target can run, so that each runs
 * the whole test suite on one machine. All give identical results.
 */
#ifndef FRAME_SCAN_H
#define FRAME_SCAN_H

#include "internal.h"


#include "words.h"

/* The kernel: forced, else the target's. Each file is included at one place
 * only (the single-header generator inlines a file where it first sees it). */
#if defined(FRAME_KERNEL_SSE2)
#define FRAME__KERNEL 1
#elif defined(FRAME_KERNEL_NEON)
#define FRAME__KERNEL 2
#elif defined(FRAME_KERNEL_WORD)
#define FRAME__KERNEL 3
#elif defined(FRAME_KERNEL_SMALL) || FRAME__SMALL
#define FRAME__KERNEL 4
#elif defined(__SSE2__) && defined(__x86_64__)
#define FRAME__KERNEL 1
#elif defined(__aarch64__) && defined(__ARM_NEON)
#define FRAME__KERNEL 2
#else
#define FRAME__KERNEL 3
#endif

#if FRAME__KERNEL == 1
#include "kernel_sse2.h"
#elif FRAME__KERNEL == 2
#include "kernel_neon.h"
#elif FRAME__KERNEL == 3
#include "kernel_word.h"
#else
#include "kernel_small.h"
#endif

#endif /* FRAME_SCAN_H */
