/*
 * The peers libframe is measured against, all behind one framing loop so that
 * only header handling differs:
 *
 *   floor    no validation: reads the prefix, finds "size": and its digits,
 *            skips the body. What framing costs with no JSON work at all.
 *   cjson    cJSON parses the header into a tree; the root must be an object
 *            with nothing but white space after it, "size" a number that is a
 *            non-negative integer of at most 2^53-1.
 *   jansson  the same with jansson, which can also refuse duplicate names
 *            (JSON_REJECT_DUPLICATES, asked for) and checks UTF-8 (always).
 *
 * json-c is in peer_jsonc.c (its json_object type and functions clash with
 * jansson's names), simdjson in peer_simdjson.cpp (C++).
 *
 * None of these libraries checks everything SPEC.md requires (cJSON: no UTF-8
 * or duplicate check, no depth or member limits; json-c: no duplicate check, a
 * later member replaces an earlier one; all: no lone-surrogate or number-form
 * check on the size), so they do less work than libframe.
 */
#include "bench.h"

#include <cjson/cJSON.h>
#include <jansson.h>
#include <string.h>

#define MAX_SIZE 9007199254740991ull /* 2^53 - 1 */

/* ---- the framing loop ---- */

enum { BF_PREFIX, BF_HEADER, BF_BODY };

void bench_framer_init(bench_framer *f, bench_parse_fn parse, unsigned char *hbuf) {
    memset(f, 0, sizeof *f);
    f->parse = parse;
    f->hbuf = hbuf;
}

int bench_framer_done(const bench_framer *f) {
    return !f->failed && f->state == BF_PREFIX && f->prefix_have == 0;
}

/* A whole header is at h: validate it and enter its body. */
static int header_done(bench_framer *f, const unsigned char *h, size_t len) {
    uint64_t size;
    if (f->parse(h, len, &size)) return -1;
    f->frames++;
    f->need = size;
    f->state = size ? BF_BODY : BF_PREFIX;
    return 0;
}

size_t bench_framer_feed(bench_framer *f, const unsigned char *p, size_t len) {
    const unsigned char *start = p, *end = p + len;
    if (f->failed) return 0;
    while (p < end) {
        size_t avail = (size_t)(end - p);
        switch (f->state) {
        case BF_PREFIX:
            if (f->prefix_have == 0 && avail >= 4) {
                f->prefix = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                            (uint32_t)p[3] << 24;
                p += 4;
            } else {
                if (f->prefix_have == 0) f->prefix = 0;
                f->prefix |= (uint32_t)*p++ << (8 * f->prefix_have);
                if (++f->prefix_have < 4) break;
                f->prefix_have = 0;
            }
            if (f->prefix == 0 || f->prefix > BENCH_MAX_HEADER) goto fail;
            f->need = f->prefix;
            f->have = 0;
            f->state = BF_HEADER;
            break;
        case BF_HEADER:
            if (f->have == 0 && avail >= f->need) { /* whole: parse in place */
                p += f->need;
                if (header_done(f, p - f->need, (size_t)f->need)) goto fail;
                break;
            }
            if (avail > f->need - f->have) avail = (size_t)(f->need - f->have);
            memcpy(f->hbuf + f->have, p, avail);
            f->have += avail;
            p += avail;
            if (f->have == f->need && header_done(f, f->hbuf, f->have)) goto fail;
            break;
        default:
            if (avail > f->need) avail = (size_t)f->need;
            f->body += avail;
            f->need -= avail;
            p += avail;
            if (!f->need) f->state = BF_PREFIX;
        }
    }
    return (size_t)(p - start);
fail:
    f->failed = 1;
    return (size_t)(p - start);
}

/* ---- floor: find "size": and read its digits, nothing else ---- */

int bench_parse_floor(const unsigned char *json, size_t len, uint64_t *size) {
    const unsigned char *p = json, *end = json + len;
    uint64_t n = 0;
    for (; end - p >= 8; p++)
        if (p[0] == '"' && p[1] == 's' && p[2] == 'i' && p[3] == 'z' && p[4] == 'e' && p[5] == '"' &&
            p[6] == ':')
            break;
    if (end - p < 8) return -1;
    for (p += 7; p < end && *p >= '0' && *p <= '9'; p++) n = n * 10 + (unsigned)(*p - '0');
    *size = n;
    return 0;
}

/* ---- cJSON ---- */

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int bench_parse_cjson(const unsigned char *json, size_t len, uint64_t *size) {
    const char *text = (const char *)json, *after = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &after, 0), *item;
    int rc = -1;
    if (!root) return -1;
    while (after < text + len && is_ws(*after)) after++;
    if (after == text + len && cJSON_IsObject(root)) {
        item = cJSON_GetObjectItemCaseSensitive(root, "size");
        if (cJSON_IsNumber(item) && item->valuedouble >= 0 && item->valuedouble <= (double)MAX_SIZE &&
            (double)(uint64_t)item->valuedouble == item->valuedouble) {
            *size = (uint64_t)item->valuedouble;
            rc = 0;
        }
    }
    cJSON_Delete(root);
    return rc;
}

size_t bench_encode_cjson(const bench_record *r, unsigned char *out, size_t cap) {
    cJSON *o = cJSON_CreateObject();
    size_t len = 0;
    unsigned i;
    int ok = o && cJSON_AddNumberToObject(o, "size", (double)r->body_len);
    for (i = 0; ok && i < r->n; i++) {
        const bench_member *m = &r->m[i];
        switch (m->type) {
        case BT_STRING: ok = cJSON_AddStringToObject(o, m->name, m->str) != NULL; break;
        case BT_INT: ok = cJSON_AddNumberToObject(o, m->name, (double)m->num) != NULL; break;
        case BT_BOOL: ok = cJSON_AddBoolToObject(o, m->name, (cJSON_bool)m->num) != NULL; break;
        case BT_NULL: ok = cJSON_AddNullToObject(o, m->name) != NULL; break;
        }
    }
    if (ok && cJSON_PrintPreallocated(o, (char *)out + 4, (int)(cap - 4), 0)) {
        len = strlen((char *)out + 4);
        out[0] = (unsigned char)len;
        out[1] = (unsigned char)(len >> 8);
        out[2] = (unsigned char)(len >> 16);
        out[3] = (unsigned char)(len >> 24);
        len += 4;
    }
    cJSON_Delete(o);
    return len;
}

/* ---- jansson ---- */

int bench_parse_jansson(const unsigned char *json, size_t len, uint64_t *size) {
    json_error_t error;
    json_t *root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &error), *item;
    int rc = -1;
    if (!root) return -1;
    /* json_object_getn: what jansson's json_object_get() calls, under a name
     * that json-c does not also export (json_object_get is in both). */
    item = json_object_getn(root, "size", 4);
    if (json_is_integer(item) && json_integer_value(item) >= 0 &&
        (uint64_t)json_integer_value(item) <= MAX_SIZE) {
        *size = (uint64_t)json_integer_value(item);
        rc = 0;
    }
    json_decref(root);
    return rc;
}

size_t bench_encode_jansson(const bench_record *r, unsigned char *out, size_t cap) {
    json_t *o = json_object();
    size_t len = 0;
    unsigned i;
    int ok = o && json_object_set_new(o, "size", json_integer((json_int_t)r->body_len)) == 0;
    for (i = 0; ok && i < r->n; i++) {
        const bench_member *m = &r->m[i];
        json_t *v = NULL;
        switch (m->type) {
        case BT_STRING: v = json_stringn(m->str, m->str_len); break;
        case BT_INT: v = json_integer((json_int_t)m->num); break;
        case BT_BOOL: v = json_boolean(m->num); break;
        case BT_NULL: v = json_null(); break;
        }
        ok = v && json_object_set_new(o, m->name, v) == 0;
    }
    if (ok) {
        len = json_dumpb(o, (char *)out + 4, cap - 4, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (len == 0 || len > cap - 4) {
            len = 0;
        } else {
            out[0] = (unsigned char)len;
            out[1] = (unsigned char)(len >> 8);
            out[2] = (unsigned char)(len >> 16);
            out[3] = (unsigned char)(len >> 24);
            len += 4;
        }
    }
    json_decref(o);
    return len;
}
