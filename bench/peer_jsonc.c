/*
 * json-c as a peer, behind the framing loop of peers.c (in a file of its own:
 * json-c's json_object type and several of its functions share jansson's names,
 * and json_object_get and json_object_iter_next are exported by both libraries,
 * so nothing in the bench may call those two by name).
 *
 *   jsonc    json_tokener_parse_ex() with one tokener, made on the first header
 *            and reset for every header after it, allowing SPEC.md's depth
 *            (32 levels) and no more, asked to be strict
 *            (JSON_TOKENER_STRICT) and to check UTF-8
 *            (JSON_TOKENER_VALIDATE_UTF8); the root must be an object with
 *            nothing but white space after it, "size" an integer in
 *            [0, 2^53-1]. Reads "size" only.
 *
 * json-c does not refuse duplicate names (a later member replaces an earlier
 * one) and has no member limit, so it checks less than libframe.
 */
#include "bench.h"

#include <json-c/json_object.h>
#include <json-c/json_tokener.h>

#define MAX_SIZE 9007199254740991ull /* 2^53 - 1 */
/* SPEC.md's depth limit is 32 levels, the root object being the first; json-c's
 * max_depth N allows N - 1 (its default, 32, refuses the hostile-deep workload). */
#define JSONC_DEPTH 33

static struct json_tokener *tok;

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int bench_parse_jsonc(const unsigned char *json, size_t len, uint64_t *size) {
    const char *text = (const char *)json;
    struct json_object *root, *item;
    size_t end;
    int rc = -1;
    if (len > (size_t)INT32_MAX) return -1;
    if (!tok) {
        tok = json_tokener_new_ex(JSONC_DEPTH);
        if (!tok) return -1;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    }
    json_tokener_reset(tok);
    root = json_tokener_parse_ex(tok, text, (int)len);
    if (!root) return -1; /* an error, or json_tokener_continue: the header ended early */
    end = json_tokener_get_parse_end(tok);
    while (end < len && is_ws(text[end])) end++;
    if (end == len && json_object_is_type(root, json_type_object) &&
        json_object_object_get_ex(root, "size", &item) && json_object_is_type(item, json_type_int)) {
        int64_t v = json_object_get_int64(item);
        if (v >= 0 && (uint64_t)v <= MAX_SIZE) {
            *size = (uint64_t)v;
            rc = 0;
        }
    }
    json_object_put(root);
    return rc;
}
