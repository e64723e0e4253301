/*
 * Compiled (not run) by `make test-baremetal` for Cortex-M0: the decoder
 * state must stay within 64 bytes there (issue 8); the header buffer is the
 * caller's and comes on top. A failing build names the array below.
 */
#include "frame.h"

typedef char frame_decoder_is_at_most_64_bytes[sizeof(frame_decoder) <= 64 ? 1 : -1];

/* Keeps the translation unit non-empty and the typedef used. */
extern const unsigned frame_ram_budget_decoder_bytes;
const unsigned frame_ram_budget_decoder_bytes = (unsigned)sizeof(frame_decoder_is_at_most_64_bytes) * 0u +
                                                (unsigned)sizeof(frame_decoder);
