/*
 * fuzz_header: frame_header_parse() and every accessor on arbitrary bytes.
 *  - the verdict (and error name and offset) equals an independent reference
 *    implementation of the SPEC.md rules (fuzz/ref_json.c);
 *  - on a valid header, every member and element is visited: each string
 *    (names included) read out is valid UTF-8, equals the reference
 *    unescaping, compares equal with frame_value_string_equals(), and
 *    re-encoded as a JSON string it parses back to the same bytes;
 *  - numbers, booleans and null read out as the reference says;
 *  - frame_header_find() finds every top-level member by its name.
 * The controls (bytes 4-7) are unused; the rest of the input is the header.
 */
#include "fuzz_common.h"
#include "ref_json.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Reference reading of a number token as int64/uint64. */
static frame_errno ref_int(const char *s, size_t n, int want_signed, uint64_t *mag, int *neg) {
    size_t i = 0;
    uint64_t v = 0;
    int over = 0;
    *neg = 0;
    if (s[0] == '-') {
        *neg = 1;
        i = 1;
    }
    for (; i < n; i++) {
        unsigned d;
        if (!is_digit(s[i])) return FRAME_E_TYPE; /* fraction or exponent */
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) over = 1;
        else v = v * 10 + d;
    }
    *mag = v;
    if (over) return FRAME_E_RANGE;
    if (want_signed) {
        if (*neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX) return FRAME_E_RANGE;
    } else if (*neg && v != 0) {
        return FRAME_E_RANGE;
    }
    return FRAME_OK;
}

static void check_number(const frame_value *v) {
    uint64_t mag, u = 0;
    int64_t i = 0;
    int neg;
    int num_only;
    frame_errno want_s, want_u, got;
    size_t k;
    /* an integer token has only digits after the optional sign */
    num_only = 1;
    for (k = (v->json[0] == '-'); k < v->len; k++)
        if (!is_digit(v->json[k])) num_only = 0;
    want_s = ref_int(v->json, v->len, 1, &mag, &neg);
    got = frame_value_int64(v, &i);
    if (!num_only) FZ_CHECK(got == FRAME_E_TYPE);
    else {
        FZ_CHECK(got == want_s);
        if (got == FRAME_OK) FZ_CHECK(neg ? (uint64_t)(-(i + 1)) + 1 == mag : (uint64_t)i == mag);
    }
    want_u = ref_int(v->json, v->len, 0, &mag, &neg);
    got = frame_value_uint64(v, &u);
    if (!num_only) FZ_CHECK(got == FRAME_E_TYPE);
    else if (neg && mag == 0) FZ_CHECK(got == FRAME_E_RANGE || (got == FRAME_OK && u == 0)); /* "-0" */
    else {
        FZ_CHECK(got == want_u);
        if (got == FRAME_OK) FZ_CHECK(u == mag);
    }
}

/* Everything one can ask of a string view. */
static void check_string(const frame_value *v) {
    static uint8_t want[FZ_HEADER_CAP], got[FZ_HEADER_CAP + 1], enc[6 * FZ_HEADER_CAP + 64];
    size_t wl, gl = 12345, el, need = 0;
    frame_header h2;
    frame_value s2;
    FZ_CHECK(v->type == FRAME_TYPE_STRING && v->len >= 2 && v->json[0] == '"' &&
             v->json[v->len - 1] == '"');
    wl = ref_unescape((const uint8_t *)v->json, v->len, want);
    /* length query, then a buffer one byte too small, then the right one */
    FZ_CHECK(frame_value_string(v, NULL, 0, &need) == FRAME_E_BUFFER_TOO_SMALL && need == wl);
    memset(got, 0xA5, wl + 1);
    FZ_CHECK(frame_value_string(v, (char *)got, wl, &gl) == FRAME_E_BUFFER_TOO_SMALL && gl == wl);
    {
        size_t k;
        for (k = 0; k <= wl; k++) FZ_CHECK(got[k] == 0xA5); /* untouched */
    }
    FZ_CHECK(frame_value_string(v, (char *)got, wl + 1, &gl) == FRAME_OK);
    FZ_CHECK(gl == wl && got[gl] == 0 && !memcmp(got, want, wl));
    FZ_CHECK(ref_utf8_valid(got, gl));
    FZ_CHECK(frame_value_string_equals(v, (const char *)got, gl) == 1);
    if (gl > 0) {
        FZ_CHECK(frame_value_string_equals(v, (const char *)got, gl - 1) == 0);
        got[gl - 1] ^= 1;
        FZ_CHECK(frame_value_string_equals(v, (const char *)got, gl) == 0);
        got[gl - 1] ^= 1;
    }
    /* re-encoded, it reads back as the same bytes */
    memcpy(enc, "{\"size\":0,\"s\":", 14);
    el = 14 + ref_escape(got, gl, enc + 14);
    enc[el++] = '}';
    FZ_CHECK(frame_header_parse(&h2, NULL, enc, el, NULL) == FRAME_OK);
    FZ_CHECK(frame_header_find(&h2, "s", &s2) == FRAME_OK && s2.type == FRAME_TYPE_STRING);
    FZ_CHECK(frame_value_string_equals(&s2, (const char *)got, gl) == 1);
    /* the other readers refuse a string */
    {
        int64_t i;
        int b;
        FZ_CHECK(frame_value_int64(v, &i) == FRAME_E_TYPE);
        FZ_CHECK(frame_value_bool(v, &b) == FRAME_E_TYPE);
        FZ_CHECK(!frame_value_is_null(v));
    }
}

static frame_type type_of(char c) {
    switch (c) {
    case '{': return FRAME_TYPE_OBJECT;
    case '[': return FRAME_TYPE_ARRAY;
    case '"': return FRAME_TYPE_STRING;
    case 't':
    case 'f': return FRAME_TYPE_BOOL;
    case 'n': return FRAME_TYPE_NULL;
    default: return FRAME_TYPE_NUMBER;
    }
}

static void check_value(const frame_value *v, const char *lo, const char *hi, int depth);

static void check_container(const frame_value *c, const char *lo, const char *hi, int depth) {
    size_t cur = 0, count = 0;
    frame_member m;
    const char *prev_end = c->json;
    FZ_CHECK(depth <= FRAME_MAX_DEPTH);
    while (frame_value_next(c, &cur, &m)) {
        FZ_CHECK(++count <= c->len);
        FZ_CHECK(m.value.json > prev_end && m.value.json + m.value.len <= c->json + c->len - 1);
        if (c->type == FRAME_TYPE_OBJECT) {
            frame_value found;
            FZ_CHECK(m.name.json > prev_end && m.name.json < m.value.json);
            check_string(&m.name);
            /* find it by name (names holding U+0000 cannot be passed) */
            {
                static char nb[FZ_HEADER_CAP + 1];
                size_t nl = 0;
                FZ_CHECK(frame_value_string(&m.name, nb, sizeof nb, &nl) == FRAME_OK);
                if (strlen(nb) == nl) {
                    FZ_CHECK(frame_value_find(c, nb, &found) == FRAME_OK);
                    FZ_CHECK(found.json == m.value.json && found.len == m.value.len &&
                             found.type == m.value.type);
                }
            }
        } else {
            FZ_CHECK(m.name.len == 0);
        }
        prev_end = m.value.json + m.value.len - 1;
        check_value(&m.value, lo, hi, depth);
    }
    FZ_CHECK(frame_value_next(c, &cur, &m) == 0); /* stays at the end */
    if (c->type == FRAME_TYPE_ARRAY) {
        frame_value dummy;
        FZ_CHECK(frame_value_find(c, "a", &dummy) == FRAME_E_TYPE);
    }
}

static void check_value(const frame_value *v, const char *lo, const char *hi, int depth) {
    int b;
    FZ_CHECK(v->json >= lo && v->len >= 1 && v->len <= (size_t)(hi - v->json));
    FZ_CHECK(v->type == type_of(v->json[0]));
    FZ_CHECK(frame_value_is_null(v) == (v->type == FRAME_TYPE_NULL));
    if (v->type == FRAME_TYPE_BOOL) {
        FZ_CHECK(frame_value_bool(v, &b) == FRAME_OK && b == (v->json[0] == 't'));
    } else {
        FZ_CHECK(frame_value_bool(v, &b) == FRAME_E_TYPE);
    }
    switch (v->type) {
    case FRAME_TYPE_OBJECT:
    case FRAME_TYPE_ARRAY: check_container(v, lo, hi, depth + 1); break;
    case FRAME_TYPE_STRING: check_string(v); break;
    case FRAME_TYPE_NUMBER: check_number(v); break;
    default: {
        int64_t i;
        frame_value dummy;
        size_t cur = 0;
        frame_member m;
        FZ_CHECK(frame_value_int64(v, &i) == FRAME_E_TYPE);
        FZ_CHECK(frame_value_find(v, "a", &dummy) == FRAME_E_TYPE);
        FZ_CHECK(frame_value_next(v, &cur, &m) == 0);
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_params par;
    frame_header h;
    ref_result ref;
    frame_errno e;
    size_t pos = (size_t)-1, n, used = fz_params_read(&par, data, size);
    int ok;
    if (!used || !fz_config_valid(&par) || par.cfg.raw) return 0;
    data += used;
    /* No frame carries a longer header (max_header is at most 64 KiB), and
     * the checks' buffers hold that much: a longer input is cut. */
    n = size - used < FZ_HEADER_CAP ? size - used : FZ_HEADER_CAP;
    e = frame_header_parse(&h, &par.cfg, data, n, &pos);
    ok = ref_header_check(data, n, (const uint8_t *)par.name, par.name_len, par.cfg.max_body, &ref);
    if (n == 0) {
        FZ_CHECK(e != FRAME_OK);
        return 0;
    }
    if ((e == FRAME_OK) != ok || (!ok && (strcmp(frame_errname(e), ref.err) || pos != ref.pos))) {
        fprintf(stderr, "frame_header_parse: %s at %zu; reference: %s at %zu\n", frame_errname(e),
                pos, ok ? "OK" : ref.err, ok ? (size_t)0 : ref.pos);
        abort();
    }
    if (!ok) return 0;
    FZ_CHECK(h.body_size == ref.body_size);
    FZ_CHECK(h.root.type == FRAME_TYPE_OBJECT);
    FZ_CHECK(h.root.json >= (const char *)data && h.root.json[0] == '{');
    check_value(&h.root, (const char *)data, (const char *)data + n, 0);
    {
        uint64_t sz = 0;
        FZ_CHECK(frame_header_get_uint64(&h, par.name, &sz) == FRAME_OK && sz == h.body_size);
    }
    return 0;
}
