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
    if ((cfg->big_endian != 0 && cfg->big_endian != 1) || (cfg->raw != 0 && cfg->raw != 1))
        return FRAME_E_CONFIG;
    /* Header positions are 32-bit inside the decoder, which keeps it small. */
    if (cfg->max_body > FRAME_MAX_BODY_LIMIT || cfg->max_header > UINT32_MAX) return FRAME_E_CONFIG;
    /* The size name is written into headers as is, so it must need no escaping. */
    name = frame__size_name(cfg);
    for (i = 0; name[i]; i++) {
        unsigned char c = (unsigned char)name[i];
        if (i >= FRAME_MAX_SIZE_NAME || c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return FRAME_E_CONFIG;
    }
    return i ? FRAME_OK : FRAME_E_CONFIG;
}

/* The largest value a prefix of `width` octets holds, for widths below 8:
 * 32-bit arithmetic, which small targets do in one instruction. */
static uint32_t frame__width_max32(unsigned width) {
    return width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

uint32_t frame__max_header(const frame_config *cfg) {
    uint32_t max = cfg && cfg->max_header ? (uint32_t)cfg->max_header : FRAME_DEFAULT_MAX_HEADER;
    uint32_t fits = frame__width_max32(frame__width(cfg));
    return max < fits ? max : fits;
}

uint64_t frame__max_body(const frame_config *cfg) {
    uint64_t max = cfg && cfg->max_body ? cfg->max_body : FRAME_MAX_BODY_LIMIT;
    unsigned w = frame__width(cfg);
    /* In the raw profile the prefix itself carries the body length. */
    if (cfg && cfg->raw && w < 8 && max > frame__width_max32(w)) max = frame__width_max32(w);
    return max;
}

void frame__put_prefix(frame__u8 *out, const frame_config *cfg, uint64_t value) {
    unsigned w = frame__width(cfg), i;
    int big = cfg && cfg->big_endian;
    for (i = 0; i < w; i++) {
        unsigned shift = 8 * (big ? w - 1 - i : i);
        out[i] = (frame__u8)(value >> shift);
    }
}

frame_errno frame__foreign_prefix(const frame__u8 *prefix, unsigned width, frame_errno otherwise) {
    unsigned i;
    /* A TLS record starts with content type 22 (handshake), version major 3. */
    if (width >= 2 && prefix[0] == 0x16 && prefix[1] == 0x03) return FRAME_E_LOOKS_LIKE_TLS;
    for (i = 0; i < width; i++) {
        frame__u8 c = prefix[i];
        if (!((c >= 0x20 && c <= 0x7e) || c == '\t' || c == '\r' || c == '\n')) return otherwise;
    }
    return FRAME_E_LOOKS_LIKE_TEXT;
}
