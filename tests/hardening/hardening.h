/*
 * Helpers of the hardening tests (build/tests/hardening): conformance with
 * JSONTestSuite and hostile inputs. They build on tests/support.h (guard
 * pages, the decode recorder) and on the reference checker fuzz/ref_json.h.
 */
#ifndef TESTS_HARDENING_H
#define TESTS_HARDENING_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "ref_json.h"
#include "support.h"

/* The repository root: $HARDENING_ROOT, else "." (make runs from the root). */
const char *hardening_root(void);

/*
 * frame_header_parse() on a copy of hdr that ends right before an unmapped
 * page, so any read past the header faults. *pos gets the error offset.
 */
frame_errno parse_guarded(const frame_config *cfg, const void *hdr, size_t len, size_t *pos,
                          uint64_t *body_size);

/* The outcome of decoding a stream, as SPEC.md defines it. */
typedef struct outcome {
    frame_errno err; /* FRAME_OK after a clean frame_finish() */
    uint64_t offset, frame, missing, declared, limit;
    size_t frames;   /* frames completed */
} outcome;

/*
 * Decodes `len` bytes with cfg (NULL = defaults) through frame_feed(): fed
 * whole and, when len <= byte_split_max, one byte at a time, every chunk
 * placed before a guard page (tests/support.c feed_stream). Fails the test
 * if the two event logs differ or the recorder saw a broken API rule.
 */
void decode_all_ways(const frame_config *cfg, const void *data, size_t len, size_t byte_split_max,
                     outcome *out);

/* The same bytes as one datagram (frame_feed_datagram), before a guard page. */
void decode_datagram(const frame_config *cfg, const void *data, size_t len, outcome *out);

/* Error name for a frame_errno, "OK" for FRAME_OK. */
const char *errname(frame_errno e);

#endif
