/* Reference header checker: see ref_json.h. Recursive descent, one pass. */
#include "ref_json.h"

#include <stdlib.h>
#include <string.h>

#define REF_MAX_DEPTH 32
#define REF_MAX_MEMBERS 512
#define REF_MAX_BODY 9007199254740991ull

typedef struct name_span {
    size_t off, len; /* unescaped name in the arena */
} name_span;

typedef struct rp {
    const uint8_t *p;
    size_t n, i;
    const char *err;
    size_t epos;
    unsigned members, members_max;
    uint8_t *out; /* canonical output, or NULL */
    size_t olen;
    /* names of the objects being parsed, innermost last */
    name_span names[REF_MAX_MEMBERS + 1];
    unsigned nnames;
    uint8_t *arena;
    size_t alen;
    /* size member (whole-header mode only) */
    const uint8_t *sname;
    size_t snlen;
    uint64_t max_body;
    int have_size;
    uint64_t size;
} rp;

static int fail(rp *r, const char *err, size_t pos) {
    if (!r->err) {
        r->err = err;
        r->epos = pos;
    }
    return 0;
}

static void emit(rp *r, const uint8_t *s, size_t len) {
    if (r->out) {
        memcpy(r->out + r->olen, s, len);
        r->olen += len;
    }
}

static void emitc(rp *r, uint8_t c) { emit(r, &c, 1); }

static void skip_ws(rp *r) {
    while (r->i < r->n && (r->p[r->i] == ' ' || r->p[r->i] == '\t' || r->p[r->i] == '\n' ||
                           r->p[r->i] == '\r'))
        r->i++;
}

static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Length of the UTF-8 sequence at p[0..n) if well-formed, else 0. */
static size_t utf8_seq(const uint8_t *p, size_t n) {
    uint8_t c = p[0];
    size_t len, k;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3;
    else if (c >= 0xF0 && c <= 0xF4) len = 4;
    else return 0;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    if (n < 2 || p[1] < lo || p[1] > hi) return 0;
    for (k = 2; k < len; k++)
        if (k >= n || p[k] < 0x80 || p[k] > 0xBF) return 0;
    return len;
}

int ref_utf8_valid(const uint8_t *p, size_t len) {
    size_t i = 0;
    while (i < len) {
        size_t k = utf8_seq(p + i, len - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

static size_t put_utf8(uint8_t *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static uint32_t hex4(const uint8_t *p) {
    return (uint32_t)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
}

size_t ref_unescape(const uint8_t *tok, size_t len, uint8_t *out) {
    size_t i = 1, o = 0;
    while (i < len - 1) {
        if (tok[i] != '\\') {
            out[o++] = tok[i++];
            continue;
        }
        i++;
        switch (tok[i]) {
        case 'b': out[o++] = 8; i++; break;
        case 'f': out[o++] = 12; i++; break;
        case 'n': out[o++] = 10; i++; break;
        case 'r': out[o++] = 13; i++; break;
        case 't': out[o++] = 9; i++; break;
        case 'u': {
            uint32_t cp = hex4(tok + i + 1);
            i += 5;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo = hex4(tok + i + 2);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            o += put_utf8(out + o, cp);
            break;
        }
        default: out[o++] = tok[i++]; break; /* " \ / */
        }
    }
    return o;
}

size_t ref_escape(const uint8_t *s, size_t len, uint8_t *out) {
    static const char hex[] = "0123456789abcdef";
    size_t i, o = 0;
    out[o++] = '"';
    for (i = 0; i < len; i++) {
        uint8_t c = s[i];
        switch (c) {
        case '"': out[o++] = '\\'; out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
        case 8: out[o++] = '\\'; out[o++] = 'b'; break;
        case 12: out[o++] = '\\'; out[o++] = 'f'; break;
        case 10: out[o++] = '\\'; out[o++] = 'n'; break;
        case 13: out[o++] = '\\'; out[o++] = 'r'; break;
        case 9: out[o++] = '\\'; out[o++] = 't'; break;
        default:
            if (c < 0x20) {
                out[o++] = '\\';
                out[o++] = 'u';
                out[o++] = '0';
                out[o++] = '0';
                out[o++] = (uint8_t)hex[c >> 4];
                out[o++] = (uint8_t)hex[c & 15];
            } else {
                out[o++] = c;
            }
        }
    }
    out[o++] = '"';
    return o;
}

/* Is p[i..i+6) a \u escape of a low surrogate? */
static int low_escape_at(const rp *r, size_t i) {
    uint32_t v;
    size_t k;
    if (i + 6 > r->n || r->p[i] != '\\' || r->p[i + 1] != 'u') return 0;
    for (k = 2; k < 6; k++)
        if (hexval(r->p[i + k]) < 0) return 0;
    v = hex4(r->p + i + 2);
    return v >= 0xDC00 && v <= 0xDFFF;
}

/* Validates the string at r->i (a '"'); on success r->i is past it. */
static int parse_string(rp *r) {
    size_t start = r->i;
    r->i++;
    for (;;) {
        uint8_t c;
        if (r->i >= r->n) return fail(r, "JSON_SYNTAX", r->n);
        c = r->p[r->i];
        if (c == '"') {
            r->i++;
            break;
        }
        if (c < 0x20) return fail(r, "JSON_SYNTAX", r->i);
        if (c == '\\') {
            size_t bs = r->i;
            r->i++;
            if (r->i >= r->n) return fail(r, "JSON_SYNTAX", r->n);
            c = r->p[r->i];
            if (c == 'u') {
                size_t k;
                uint32_t cp;
                for (k = 1; k <= 4; k++) {
                    if (r->i + k >= r->n) return fail(r, "JSON_SYNTAX", r->n);
                    if (hexval(r->p[r->i + k]) < 0) return fail(r, "JSON_SYNTAX", r->i + k);
                }
                cp = hex4(r->p + r->i + 1);
                r->i += 5;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (!low_escape_at(r, r->i)) return fail(r, "LONE_SURROGATE", bs);
                    r->i += 6;
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return fail(r, "LONE_SURROGATE", bs);
                }
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                       c == 'r' || c == 't') {
                r->i++;
            } else {
                return fail(r, "JSON_SYNTAX", r->i);
            }
            continue;
        }
        if (c >= 0x80) {
            size_t k = utf8_seq(r->p + r->i, r->n - r->i);
            if (!k) return fail(r, "BAD_UTF8", r->i);
            r->i += k;
            continue;
        }
        r->i++;
    }
    if (r->out) {
        /* canonical: unescape, then escape minimally */
        size_t tl = r->i - start;
        uint8_t *tmp = malloc(tl);
        size_t ul;
        if (!tmp) abort();
        ul = ref_unescape(r->p + start, tl, tmp);
        r->olen += ref_escape(tmp, ul, r->out + r->olen);
        free(tmp);
    }
    return 1;
}

/* Number by RFC 8259 grammar. *frac_exp set when it has either; *value
 * gets the integer value (saturating) when it has neither. */
static int parse_number(rp *r, int *frac_exp, uint64_t *value) {
    size_t start = r->i;
    uint64_t v = 0;
    int sat = 0;
    *frac_exp = 0;
    if (r->p[r->i] == '-') r->i++;
    if (r->i >= r->n) return fail(r, "JSON_SYNTAX", r->n);
    if (r->p[r->i] == '0') {
        r->i++;
    } else if (r->p[r->i] >= '1' && r->p[r->i] <= '9') {
        while (r->i < r->n && r->p[r->i] >= '0' && r->p[r->i] <= '9') {
            unsigned d = (unsigned)(r->p[r->i] - '0');
            if (v > (UINT64_MAX - d) / 10) sat = 1;
            else v = v * 10 + d;
            r->i++;
        }
    } else {
        return fail(r, "JSON_SYNTAX", r->i);
    }
    if (r->i < r->n && r->p[r->i] == '.') {
        *frac_exp = 1;
        r->i++;
        if (r->i >= r->n) return fail(r, "JSON_SYNTAX", r->n);
        if (r->p[r->i] < '0' || r->p[r->i] > '9') return fail(r, "JSON_SYNTAX", r->i);
        while (r->i < r->n && r->p[r->i] >= '0' && r->p[r->i] <= '9') r->i++;
    }
    if (r->i < r->n && (r->p[r->i] == 'e' || r->p[r->i] == 'E')) {
        *frac_exp = 1;
        r->i++;
        if (r->i < r->n && (r->p[r->i] == '+' || r->p[r->i] == '-')) r->i++;
        if (r->i >= r->n) return fail(r, "JSON_SYNTAX", r->n);
        if (r->p[r->i] < '0' || r->p[r->i] > '9') return fail(r, "JSON_SYNTAX", r->i);
        while (r->i < r->n && r->p[r->i] >= '0' && r->p[r->i] <= '9') r->i++;
    }
    if (value) *value = sat ? UINT64_MAX : v;
    emit(r, r->p + start, r->i - start);
    return 1;
}

static int parse_literal(rp *r, const char *lit) {
    size_t k, l = strlen(lit);
    for (k = 0; k < l; k++) {
        if (r->i + k >= r->n) return fail(r, "JSON_SYNTAX", r->n);
        if (r->p[r->i + k] != (uint8_t)lit[k]) return fail(r, "JSON_SYNTAX", r->i + k);
    }
    emit(r, r->p + r->i, l);
    r->i += l;
    return 1;
}

static int parse_value(rp *r, int depth);

static int parse_array(rp *r, int depth) {
    if (depth + 1 > REF_MAX_DEPTH) return fail(r, "TOO_DEEP", r->i);
    emitc(r, '[');
    r->i++;
    skip_ws(r);
    if (r->i >= r->n) return fail(r, "JSON_SYNTAX", r->n);
    if (r->p[r->i] == ']') {
        r->i++;
        emitc(r, ']');
        return 1;
    }
    for (;;) {
        if (!parse_value(r, depth + 1)) return 0;
        skip_ws(r);
        if (r->i >= r->n) return fail(r, "JSON_SYNTAX", r->n);
        if (r->p[r->i] == ']') {
            r->i++;
            emitc(r, ']');
            return 1;
        }
        if (r->p[r->i] != ',') return fail(r, "JSON_SYNTAX", r->i);
        emitc(r, ',');
        r->i++;
        skip_ws(r);
    }
}

static int is_value_start(uint8_t c) {
    return c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
           c == 'f' || c == 'n';
}

/* The value of the top-level size member, at r->i. */
static int parse_size_value(rp *r) {
    size_t start = r->i;
    uint8_t c;
    int fe;
    uint64_t v;
    if (r->i >= r->n) return fail(r, "JSON_SYNTAX", r->n);
    c = r->p[r->i];
    if (!(c >= '0' && c <= '9')) return fail(r, is_value_start(c) ? "SIZE_INVALID" : "JSON_SYNTAX", r->i);
    if (!parse_number(r, &fe, &v)) return 0;
    if (fe) return fail(r, "SIZE_INVALID", start);
    if (v > r->max_body) return fail(r, "BODY_TOO_LARGE", start);
    r->have_size = 1;
    r->size = v;
    return 1;
}

static int parse_object(rp *r, int depth) {
    unsigned first = r->nnames;
    size_t arena0 = r->alen;
    int ok = 0;
    if (depth + 1 > REF_MAX_DEPTH) return fail(r, "TOO_DEEP", r->i);
    emitc(r, '{');
    r->i++;
    skip_ws(r);
    if (r->i >= r->n) return fail(r, "JSON_SYNTAX", r->n);
    if (r->p[r->i] == '}') {
        r->i++;
        emitc(r, '}');
        return 1;
    }
    for (;;) {
        size_t q = r->i, ul;
        unsigned k;
        if (r->p[r->i] != '"') {
            fail(r, "JSON_SYNTAX", r->i);
            break;
        }
        if (r->members >= r->members_max) {
            fail(r, "TOO_MANY_MEMBERS", r->i);
            break;
        }
        r->members++;
        if (!parse_string(r)) break;
        ul = ref_unescape(r->p + q, r->i - q, r->arena + r->alen);
        for (k = first; k < r->nnames; k++)
            if (r->names[k].len == ul && !memcmp(r->arena + r->names[k].off, r->arena + r->alen, ul))
                break;
        if (k < r->nnames) {
            fail(r, "DUPLICATE_NAME", q);
            break;
        }
        r->names[r->nnames].off = r->alen;
        r->names[r->nnames].len = ul;
        r->nnames++;
        r->alen += ul;
        skip_ws(r);
        if (r->i >= r->n) {
            fail(r, "JSON_SYNTAX", r->n);
            break;
        }
        if (r->p[r->i] != ':') {
            fail(r, "JSON_SYNTAX", r->i);
            break;
        }
        emitc(r, ':');
        r->i++;
        skip_ws(r);
        if (depth == 0 && r->sname && ul == r->snlen &&
            !memcmp(r->arena + r->names[r->nnames - 1].off, r->sname, ul)) {
            if (!parse_size_value(r)) break;
        } else if (!parse_value(r, depth + 1)) {
            break;
        }
        skip_ws(r);
        if (r->i >= r->n) {
            fail(r, "JSON_SYNTAX", r->n);
            break;
        }
        if (r->p[r->i] == '}') {
            r->i++;
            emitc(r, '}');
            ok = 1;
            break;
        }
        if (r->p[r->i] != ',') {
            fail(r, "JSON_SYNTAX", r->i);
            break;
        }
        emitc(r, ',');
        r->i++;
        skip_ws(r);
        if (r->i >= r->n) {
            fail(r, "JSON_SYNTAX", r->n);
            break;
        }
    }
    r->nnames = first;
    r->alen = arena0;
    return ok;
}

static int parse_value(rp *r, int depth) {
    uint8_t c;
    int fe;
    if (r->i >= r->n) return fail(r, "JSON_SYNTAX", r->n);
    c = r->p[r->i];
    switch (c) {
    case '{': return parse_object(r, depth);
    case '[': return parse_array(r, depth);
    case '"': return parse_string(r);
    case 't': return parse_literal(r, "true");
    case 'f': return parse_literal(r, "false");
    case 'n': return parse_literal(r, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(r, &fe, NULL);
        return fail(r, "JSON_SYNTAX", r->i);
    }
}

static int rp_init(rp *r, const uint8_t *p, size_t len) {
    memset(r, 0, sizeof *r);
    r->p = p;
    r->n = len;
    r->arena = malloc(len + 1);
    return r->arena != NULL;
}

int ref_header_check(const uint8_t *p, size_t len, const uint8_t *size_name, size_t name_len,
                     uint64_t max_body, ref_result *res) {
    rp *r = malloc(sizeof *r);
    int ok = 0;
    if (!r || !rp_init(r, p, len)) abort();
    r->members_max = REF_MAX_MEMBERS;
    r->sname = size_name;
    r->snlen = name_len;
    r->max_body = max_body ? max_body : REF_MAX_BODY;
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        fail(r, "BOM", 0);
    } else {
        skip_ws(r);
        if (r->i >= r->n) fail(r, "JSON_SYNTAX", r->n);
        else if (p[r->i] == '{') {
            if (parse_object(r, 0)) {
                skip_ws(r);
                if (r->i < r->n) fail(r, "JSON_SYNTAX", r->i);
                else if (!r->have_size) fail(r, "SIZE_MISSING", r->n);
                else ok = 1;
            }
        } else if (is_value_start(p[r->i])) {
            fail(r, "NOT_OBJECT", r->i);
        } else {
            fail(r, "JSON_SYNTAX", r->i);
        }
    }
    res->err = ok ? NULL : r->err;
    res->pos = ok ? 0 : r->epos;
    res->body_size = ok ? r->size : 0;
    res->members = r->members;
    free(r->arena);
    free(r);
    return ok;
}

int ref_value_check(const uint8_t *p, size_t len, int depth0, unsigned members_left, uint8_t *out,
                    size_t *out_len, ref_result *res) {
    rp *r = malloc(sizeof *r);
    int ok = 0;
    if (!r || !rp_init(r, p, len)) abort();
    r->members_max = members_left;
    r->out = out;
    skip_ws(r);
    if (parse_value(r, depth0)) {
        skip_ws(r);
        if (r->i < r->n) fail(r, "JSON_SYNTAX", r->i);
        else ok = 1;
    }
    res->err = ok ? NULL : r->err;
    res->pos = ok ? 0 : r->epos;
    res->body_size = 0;
    res->members = r->members;
    if (out_len) *out_len = r->olen;
    free(r->arena);
    free(r);
    return ok;
}
