/*
 * The simdjson peers (Debian's libsimdjson, C++17), behind the extern "C"
 * bench_parse_fn signature of bench.h, so that the framing loop of peers.c
 * hands them the same headers as every other peer:
 *
 *   simdjson-dom       simdjson::dom::parser (one, reused) parses the header
 *                      into its tape; the root must be an object, "size" an
 *                      unsigned integer of at most 2^53-1. Reads "size" only.
 *   simdjson-ondemand  simdjson::ondemand::parser (one, reused) iterates the
 *                      object and reads every member: each name unescaped,
 *                      each string value unescaped (get_string), each other
 *                      value's raw token (raw_json_token), "size" as above;
 *                      nothing may follow the object. On-Demand checks only
 *                      what it is asked to read: scalars read as raw tokens
 *                      and the inside of nested arrays and objects are skipped
 *                      by their structure, not validated. On-Demand is
 *                      compiled into this file for the kernel the compiler may
 *                      assume (bench.mk: -march=haswell where the CPU has AVX2),
 *                      not chosen at run time like the DOM parser's.
 *   simdjson-utf8      simdjson::validate_utf8() over the header bytes, then the
 *                      floor's scan for "size": the least any decoder that
 *                      validates UTF-8 can cost.
 *
 * simdjson checks UTF-8 and the JSON grammar of what it parses, but not
 * duplicate names, lone surrogates, SPEC.md's depth and member limits or the
 * size's number form: it does less than libframe.
 *
 * Padding: simdjson's parsers read up to SIMDJSON_PADDING (64) bytes past the
 * end of their input (their content does not matter). The framing loop hands
 * over a header either inside the caller's stream buffer (the last frame's
 * header may end at the buffer's end) or in its own BENCH_MAX_HEADER-byte
 * buffer (which a 65,536-byte header fills), so neither promises the padding
 * and padded_string_view cannot be used. Both parser rows therefore copy each
 * header into one padded buffer, reused, and that memcpy is counted in their
 * cost, as a user of simdjson behind such a framing loop pays it.
 * validate_utf8() needs no padding and reads the header in place.
 */
#include "bench.h"

#include <simdjson.h>

#include <cstring>
#include <string_view>

namespace {

constexpr uint64_t max_size = 9007199254740991ull; /* 2^53 - 1 */

/* The padded copy of the current header (static: zeroed, never reallocated). */
alignas(64) char padded[BENCH_MAX_HEADER + simdjson::SIMDJSON_PADDING];

/* Constructed before main(); they allocate on their first header, then reuse. */
simdjson::dom::parser dom_parser;
simdjson::ondemand::parser ondemand_parser;

/* What the On-Demand row read, so that no read can be optimised away. */
volatile size_t ondemand_touched;

} // namespace

extern "C" int bench_parse_simdjson_dom(const unsigned char *json, size_t len, uint64_t *size) {
    simdjson::dom::element root;
    simdjson::dom::object obj;
    uint64_t n;
    std::memcpy(padded, json, len); /* the padding copy (see above) */
    if (dom_parser.parse(reinterpret_cast<const uint8_t *>(padded), len, false).get(root)) return -1;
    if (root.get_object().get(obj)) return -1;
    if (obj["size"].get_uint64().get(n) || n > max_size) return -1;
    *size = n;
    return 0;
}

extern "C" int bench_parse_simdjson_ondemand(const unsigned char *json, size_t len, uint64_t *size) {
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    size_t touched = 0;
    int have_size = 0;
    std::memcpy(padded, json, len); /* the padding copy (see above) */
    if (ondemand_parser.iterate(padded, len, sizeof padded).get(doc)) return -1;
    if (doc.get_object().get(obj)) return -1;
    for (auto member : obj) { /* a simdjson_result<field>: errors flow into its getters */
        simdjson::ondemand::json_type type;
        std::string_view name, text;
        if (member.unescaped_key().get(name)) return -1;
        auto value = member.value();
        if (name == "size") {
            uint64_t n;
            if (value.get_uint64().get(n) || n > max_size) return -1;
            *size = n;
            have_size = 1;
            continue;
        }
        if (value.type().get(type)) return -1;
        if (type == simdjson::ondemand::json_type::string) {
            if (value.get_string().get(text)) return -1;
        } else if (value.raw_json_token().get(text)) {
            return -1;
        }
        touched += name.size() + text.size();
    }
    /* Nothing after the object: the iterator must be past the last token. */
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return -1;
    ondemand_touched = touched;
    return have_size ? 0 : -1;
}

extern "C" int bench_parse_simdjson_utf8(const unsigned char *json, size_t len, uint64_t *size) {
    if (!simdjson::validate_utf8(reinterpret_cast<const char *>(json), len)) return -1;
    return bench_parse_floor(json, len, size);
}

extern "C" const char *bench_simdjson_impl(void) {
    return simdjson::get_active_implementation()->name().c_str();
}
