/* The parameters of SPEC.md: checking a config; reading and writing prefixes. */
#include "internal.h"

FRAME_API frame_errno frame_config_check(const frame_config *cfg) {
    const char *name;
    size_t i;
    if (!cfg) return FRAME_OK;
    switch (cfg->prefix_width) {
    case 0: case 1: case 2: case 4: case 8: break;
    default: return FRAME_E_CONFIG;
    }
    /* Both are 0 or 1 exactly when their bitwise OR is. */
    if ((unsigned)(cfg->big_endian | cfg->raw) > 1) return FRAME_E_CONFIG;
    /* Header positions are 32-bit inside the decoder, which keeps it small. */
    if (cfg->max_body > FRAME_MAX_BODY_LIMIT || cfg->max_header > UINT32_MAX) return FRAME_E_CONFIG;
    /* The size name is written into headers as is, so it must need no escaping. */
    name = cfg->size_name;
    if (!name) return FRAME_OK; /* "size" */
    for (i = 0; name[i]; i++) {
        unsigned char c = (unsigned char)name[i];
        if (i >= FRAME_MAX_SIZE_NAME || c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return FRAME_E_CONFIG;
    }
    return i ? FRAME_OK : FRAME_E_CONFIG;
}

const frame_config *frame__config(const frame_config *cfg) {
    static const frame_config defaults = {0, 0, 0, NULL, 0, 0}; /* SPEC.md's defaults */
    return cfg ? cfg : &defaults;
}

uint64_t frame__limit(const frame_config *cfg, int body) {
    unsigned w = cfg->prefix_width; /* 0 = 4 */
    uint32_t max_header;
    uint64_t max_body;
    /* What the prefix holds, in 32-bit arithmetic (cheap on small targets):
     * the shift is 24 or 16 for 1 or 2 octets, else 0. Width 8 holds more,
     * but only a body's length can need that, and it returns below. */
    uint32_t fits = 0xffffffffu >> ((0u - w) * 8 & 24);
    if (!body) {
        /* All of max_header: at most 2^32-1 in a checked config. */
        max_header = (uint32_t)cfg->max_header;
        if (!max_header) max_header = FRAME_DEFAULT_MAX_HEADER;
        return max_header < fits ? max_header : fits;
    }
    max_body = FRAME__BODY_LIMIT(cfg);
    /* Only in the raw profile does the prefix carry the body's length. */
    return !cfg->raw || w == 8 || max_body < fits ? max_body : fits;
}

void frame__put_prefix(frame__u8 *out, const frame_config *cfg, uint64_t value) {
    unsigned w = frame__width(cfg), i;
    int big = cfg->big_endian;
    /* The low byte first, at the end for big-endian. */
    for (i = 0; i < w; i++, value >>= 8) out[big ? w - 1 - i : i] = (frame__u8)value;
}
