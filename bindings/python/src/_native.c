/*
 * libframe._native: the CPython extension of libframe's Python package.
 *
 * libframe's C sources (the .c files of lib/) are compiled into this module, so nothing
 * else has to be found at run time. It decodes with frame_feed() and builds
 * each header dict straight from the validated header (frame_value_next):
 * no JSON text is parsed twice and no json.loads runs. It encodes with
 * frame_builder. The Python side (libframe/native.py) adds FrameWriter.
 *
 * Values come out as json.loads gives them: integers of any size (int),
 * numbers with a fraction or exponent as float (1e400 is inf, -0.0 stays
 * -0.0; or parse_float(text) when given), strings with escapes and surrogate
 * pairs decoded, U+0000 included.
 *
 * The GIL: everything here touches Python objects except copying bodies;
 * copies of at least GIL_FREE_COPY bytes run with the GIL released (the
 * source is a buffer held for the call, the target a bytes object nobody
 * else sees yet). A Decoder or Builder refuses a second thread that enters
 * it meanwhile (RuntimeError).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "frame.h"

#define GIL_FREE_COPY (256 * 1024)

/* Objects of the pure-Python package that the extension shares. */
static PyObject *g_error;        /* _errors.error(name, message=None, **where) */
static PyObject *g_frame;        /* _types.Frame */
static PyObject *g_header_event; /* _types.HeaderEvent */
static PyObject *g_body_chunk;   /* _types.BodyChunk */
static PyObject *g_frame_end;    /* _types.FrameEnd */
static PyObject *g_rawjson;      /* _types.RawJSON */
static PyObject *g_big_int;      /* _types._big_int(text) */
static PyObject *g_int_text;     /* _types.int_text(int) */
static PyObject *g_make_config;  /* _config.make_config(config, params) */
static PyObject *g_config_type;  /* _config.Config */
static PyObject *g_raise_after;  /* _decode._raise_after(items, err) */
static PyObject *g_value_json;   /* _encode.value_json(value) */
static PyObject *g_pure_head;    /* _encode.build_head */
static PyObject *g_empty_bytes;

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* Raises (and returns a new reference to) the FrameError for `err`, with the
 * given attributes (those < 0 are left out). */
static PyObject *frame_exc(frame_errno err, const char *message, long long offset, long long frame,
                           PyObject *declared, PyObject *limit, PyObject *missing) {
    PyObject *args = NULL, *kw = NULL, *exc = NULL, *v;
    kw = PyDict_New();
    if (!kw) goto out;
#define SETKW(key, obj)                                                    \
    do {                                                                   \
        if ((obj) && PyDict_SetItemString(kw, key, (obj)) < 0) goto out; \
    } while (0)
    if (offset >= 0) {
        v = PyLong_FromLongLong(offset);
        if (!v || PyDict_SetItemString(kw, "offset", v) < 0) { Py_XDECREF(v); goto out; }
        Py_DECREF(v);
    }
    if (frame >= 0) {
        v = PyLong_FromLongLong(frame);
        if (!v || PyDict_SetItemString(kw, "frame", v) < 0) { Py_XDECREF(v); goto out; }
        Py_DECREF(v);
    }
    SETKW("declared", declared);
    SETKW("limit", limit);
    SETKW("missing", missing);
#undef SETKW
    if (message) args = Py_BuildValue("(ss)", frame_errname(err), message);
    else args = Py_BuildValue("(s)", frame_errname(err));
    if (!args) goto out;
    exc = PyObject_Call(g_error, args, kw);
out:
    Py_XDECREF(args);
    Py_XDECREF(kw);
    return exc;
}

static PyObject *raise_frame_error(frame_errno err, const char *message) {
    PyObject *exc = frame_exc(err, message, -1, -1, NULL, NULL, NULL);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Config                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
    frame_config c;
    char size_name[FRAME_MAX_SIZE_NAME + 1];
    unsigned width;
    int raw;
    uint64_t header_limit; /* what a header may take: min(max_header, prefix) */
    uint64_t body_limit;
} cconfig;

static int attr_u64(PyObject *o, const char *name, uint64_t *out) {
    PyObject *v = PyObject_GetAttrString(o, name);
    if (!v) return -1;
    *out = (uint64_t)PyLong_AsUnsignedLongLong(v);
    Py_DECREF(v);
    return PyErr_Occurred() ? -1 : 0;
}

static int attr_is(PyObject *o, const char *name, const char *want, int *out) {
    PyObject *v = PyObject_GetAttrString(o, name);
    const char *s;
    if (!v) return -1;
    s = PyUnicode_AsUTF8(v);
    if (s) *out = strcmp(s, want) == 0;
    Py_DECREF(v);
    return s ? 0 : -1;
}

/* The frame_config of a (checked) libframe.Config. */
static int cconfig_from(PyObject *cfg, cconfig *out) {
    uint64_t width, max_header, max_body, wmax;
    int big, raw;
    PyObject *name;
    const char *s;
    Py_ssize_t n;
    memset(out, 0, sizeof *out);
    if (attr_u64(cfg, "prefix_width", &width) || attr_u64(cfg, "max_header", &max_header) ||
        attr_u64(cfg, "max_body", &max_body) || attr_is(cfg, "byte_order", "big", &big) ||
        attr_is(cfg, "profile", "raw", &raw))
        return -1;
    name = PyObject_GetAttrString(cfg, "size_name");
    if (!name) return -1;
    s = PyUnicode_AsUTF8AndSize(name, &n);
    if (!s || n < 1 || n > FRAME_MAX_SIZE_NAME) {
        Py_DECREF(name);
        if (s) raise_frame_error(FRAME_E_CONFIG, "bad size_name");
        return -1;
    }
    memcpy(out->size_name, s, (size_t)n + 1);
    Py_DECREF(name);
    wmax = width == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * width)) - 1;
    /* A header is never longer than its prefix can say; the C library takes
     * max_header up to 2^32-1, which is also the most a header buffer is. */
    if (max_header > wmax) max_header = wmax;
    if (max_header > 0xFFFFFFFFu) max_header = 0xFFFFFFFFu;
    out->c.prefix_width = (unsigned)width;
    out->c.big_endian = big;
    out->c.raw = raw;
    out->c.size_name = out->size_name;
    out->c.max_header = max_header;
    out->c.max_body = max_body;
    out->width = (unsigned)width;
    out->raw = raw;
    out->header_limit = max_header;
    out->body_limit = raw && wmax < max_body ? wmax : max_body;
    if (frame_config_check(&out->c) != FRAME_OK) {
        raise_frame_error(FRAME_E_CONFIG, "the C library refused the config");
        return -1;
    }
    return 0;
}

/* make_config(config, kwargs) -> a new reference to a Config. */
static PyObject *make_config(PyObject *config, PyObject *kwargs) {
    return PyObject_CallFunctionObjArgs(g_make_config, config ? config : Py_None,
                                        kwargs ? kwargs : Py_None, NULL);
}

/* The cconfig for a call's config= and keyword arguments; the defaults and
 * the last Config seen are kept. */
static cconfig g_default_cc, g_last_cc;
static PyObject *g_last_config; /* owned */

static int call_config(PyObject *config, PyObject *kwargs, cconfig *out) {
    PyObject *cfg;
    if ((!config || config == Py_None) && (!kwargs || !PyDict_GET_SIZE(kwargs))) {
        *out = g_default_cc;
        out->c.size_name = out->size_name;
        return 0;
    }
    if (config && config == g_last_config && (!kwargs || !PyDict_GET_SIZE(kwargs))) {
        *out = g_last_cc;
        out->c.size_name = out->size_name;
        return 0;
    }
    cfg = make_config(config, kwargs);
    if (!cfg) return -1;
    if (cconfig_from(cfg, out)) {
        Py_DECREF(cfg);
        return -1;
    }
    if (config && Py_TYPE(config) == (PyTypeObject *)g_config_type && cfg == config) {
        Py_XSETREF(g_last_config, cfg);
        g_last_cc = *out;
    } else {
        Py_DECREF(cfg);
    }
    out->c.size_name = out->size_name;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Result tuples (Frame, HeaderEvent...: tuple subclasses)                  */
/* ------------------------------------------------------------------------ */

/* A tuple of type t holding the n items given (references stolen, also on
 * failure). */
static PyObject *make_tuple(PyObject *t, Py_ssize_t n, PyObject **items) {
    PyTypeObject *tp = (PyTypeObject *)t;
    PyObject *r;
    Py_ssize_t i;
    for (i = 0; i < n; i++)
        if (!items[i]) goto fail;
    r = tp->tp_alloc(tp, n);
    if (!r) goto fail;
    for (i = 0; i < n; i++) PyTuple_SET_ITEM(r, i, items[i]);
    return r;
fail:
    for (i = 0; i < n; i++) Py_XDECREF(items[i]);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Header values -> Python objects                                          */
/* ------------------------------------------------------------------------ */

/*
 * The header was validated by the C library before on_header runs (SPEC.md's
 * grammar, UTF-8, escapes, surrogate pairs, depth), so one left-to-right walk
 * builds the objects with no checks but the bounds: the walk stays inside the
 * header's bytes whatever they hold.
 *
 * Member names repeat from frame to frame: a small per-decoder cache maps a
 * name's raw bytes to its str, so a name is decoded (and its hash computed)
 * once, as json.loads does within one document.
 */
#define KEY_SLOTS 128
#define KEY_MAX 48
#define KEY_WAYS 4

typedef struct {
    PyObject *key;
    uint32_t hash;
    unsigned char len;
    unsigned char raw[KEY_MAX];
} key_slot;

typedef struct {
    const unsigned char *p, *end;
    PyObject *parse_float;
    key_slot *keys; /* KEY_SLOTS of them, or NULL */
    int root;       /* the next object is the header itself */
} walker;

static PyObject *bad_header(void) {
    return raise_frame_error(FRAME_E_JSON_SYNTAX, "unexpected bytes in a validated header");
}

static PyObject *number_of(const char *s, size_t n, PyObject *parse_float) {
    char small[64], *buf = small;
    PyObject *r;
    size_t i;
    int is_float = 0;
    for (i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') {
            is_float = 1;
            break;
        }
    if (!is_float && n <= 18) { /* fits in a long long with room */
        long long x = 0;
        i = s[0] == '-';
        for (; i < n; i++) x = x * 10 + (s[i] - '0');
        return PyLong_FromLongLong(s[0] == '-' ? -x : x);
    }
    if (n + 1 > sizeof small) {
        buf = (char *)PyMem_Malloc(n + 1);
        if (!buf) return PyErr_NoMemory();
    }
    memcpy(buf, s, n);
    buf[n] = 0;
    if (is_float && parse_float) {
        PyObject *text = PyUnicode_FromStringAndSize(buf, (Py_ssize_t)n);
        r = text ? PyObject_CallFunctionObjArgs(parse_float, text, NULL) : NULL;
        Py_XDECREF(text);
    } else if (is_float) {
        /* float(text): an overflow is +-inf, as json.loads gives it. */
        double d = PyOS_string_to_double(buf, NULL, NULL);
        r = d == -1.0 && PyErr_Occurred() ? NULL : PyFloat_FromDouble(d);
    } else {
        r = PyLong_FromString(buf, NULL, 10);
        if (!r && PyErr_ExceptionMatches(PyExc_ValueError)) {
            /* Longer than sys.get_int_max_str_digits() (Python 3.11+). */
            PyObject *text = PyUnicode_FromStringAndSize(buf, (Py_ssize_t)n);
            PyErr_Clear();
            r = text ? PyObject_CallFunctionObjArgs(g_big_int, text, NULL) : NULL;
            Py_XDECREF(text);
        }
    }
    if (buf != small) PyMem_Free(buf);
    return r;
}

static unsigned hex4(const unsigned char *p) {
    unsigned v = 0, i, c;
    for (i = 0; i < 4; i++) {
        c = p[i];
        v = v << 4 | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* The str of n code points in buf, the largest being maxchar. */
static PyObject *str_of_ucs4(const Py_UCS4 *buf, Py_ssize_t n, Py_UCS4 maxchar) {
    PyObject *r = PyUnicode_New(n, maxchar);
    Py_ssize_t i;
    if (!r) return NULL;
    switch (PyUnicode_KIND(r)) {
    case PyUnicode_1BYTE_KIND: {
        Py_UCS1 *d = PyUnicode_1BYTE_DATA(r);
        for (i = 0; i < n; i++) d[i] = (Py_UCS1)buf[i];
        break;
    }
    case PyUnicode_2BYTE_KIND: {
        Py_UCS2 *d = PyUnicode_2BYTE_DATA(r);
        for (i = 0; i < n; i++) d[i] = (Py_UCS2)buf[i];
        break;
    }
    default:
        memcpy(PyUnicode_4BYTE_DATA(r), buf, (size_t)n * sizeof(Py_UCS4));
        break;
    }
    return r;
}

/* The string whose opening quote is at w->p; w->p moves past its closing
 * quote. `*raw`/`*rawlen` (may be NULL) get the bytes between the quotes.
 * The text is valid UTF-8 with valid escapes (validated): it is decoded to
 * code points in one pass. */
static PyObject *walk_string(walker *w, const unsigned char **raw, size_t *rawlen) {
    const unsigned char *s = w->p + 1, *q = s, *end = w->end;
    unsigned char hi = 0;
    Py_UCS4 small[128], *buf = small, *o, maxchar = 0;
    PyObject *r;
    q = (const unsigned char *)memchr(s, '"', (size_t)(end - s));
    if (!q) return bad_header();
    if (!memchr(s, '\\', (size_t)(q - s))) {
        const unsigned char *t = s;
        uint64_t acc = 0, word;
        for (; q - t >= 8; t += 8) {
            memcpy(&word, t, 8);
            acc |= word;
        }
        for (; t < q; t++) acc |= *t;
        hi = (acc & 0x8080808080808080u) ? 0x80 : 0;
    } else {
        q = (const unsigned char *)memchr(s, '\\', (size_t)(q - s)); /* escapes from here */
    }
    if (q < end && *q == '"' && hi < 0x80) { /* ASCII without escapes: the text itself */
        size_t n = (size_t)(q - s);
        w->p = q + 1;
        if (raw) *raw = s, *rawlen = n;
        r = PyUnicode_New((Py_ssize_t)n, 127);
        if (r) memcpy(PyUnicode_DATA(r), s, n);
        return r;
    }
    while (q < end && *q != '"') q += *q == '\\' ? 2 : 1;
    if (q >= end) return bad_header();
    if (raw) *raw = s, *rawlen = (size_t)(q - s);
    w->p = q + 1;
    /* Never more code points than bytes. */
    if ((size_t)(q - s) > sizeof small / sizeof small[0]) {
        buf = (Py_UCS4 *)PyMem_Malloc((size_t)(q - s) * sizeof(Py_UCS4));
        if (!buf) return PyErr_NoMemory();
    }
    for (o = buf; s < q;) {
        Py_UCS4 c = *s;
        if (c < 0x80) {
            if (c == '\\') {
                if (q - s < 2) goto bad;
                c = s[1];
                s += 2;
                switch (c) {
                case 'b': c = '\b'; break;
                case 'f': c = '\f'; break;
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case 't': c = '\t'; break;
                case 'u':
                    if (q - s < 4) goto bad;
                    c = hex4(s);
                    s += 4;
                    if (c >= 0xD800 && c < 0xDC00 && q - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                        Py_UCS4 lo = hex4(s + 2);
                        if (lo >= 0xDC00 && lo < 0xE000) {
                            c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                            s += 6;
                        }
                    }
                    if (c >= 0xD800 && c < 0xE000) goto bad; /* validated: cannot happen */
                    break;
                default: break; /* '"', '\\', '/' */
                }
            } else {
                s++;
            }
        } else if (c < 0xE0) {
            if (q - s < 2) goto bad;
            c = (c & 0x1F) << 6 | (s[1] & 0x3F);
            s += 2;
        } else if (c < 0xF0) {
            if (q - s < 3) goto bad;
            c = (c & 0x0F) << 12 | (Py_UCS4)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
            s += 3;
        } else {
            if (q - s < 4) goto bad;
            c = (c & 0x07) << 18 | (Py_UCS4)(s[1] & 0x3F) << 12 | (Py_UCS4)(s[2] & 0x3F) << 6 |
                (s[3] & 0x3F);
            s += 4;
        }
        if (c > maxchar) maxchar = c;
        *o++ = c;
    }
    r = str_of_ucs4(buf, o - buf, maxchar);
    if (buf != small) PyMem_Free(buf);
    return r;
bad:
    if (buf != small) PyMem_Free(buf);
    return bad_header();
}

/* A member name, through the cache (keyed by its raw bytes, escapes and
 * all: the same bytes are the same name). */
static PyObject *walk_key(walker *w) {
    const unsigned char *s = w->p + 1, *q = s, *end = w->end, *raw;
    size_t rawlen, n;
    uint32_t h = 2166136261u;
    key_slot *slot;
    PyObject *key;
    if (!w->keys) return walk_string(w, NULL, NULL);
    /* The name ends at the first quote not escaped; one with a backslash
     * (rare) is hashed a byte at a time. */
    n = (size_t)(end - s) < KEY_MAX ? (size_t)(end - s) : KEY_MAX;
    q = (const unsigned char *)memchr(s, '"', n);
    if (q && !memchr(s, '\\', (size_t)(q - s))) {
        uint64_t a = 0, b = 0;
        size_t len = (size_t)(q - s);
        if (end - s >= 8) { /* the first 8 bytes, those past the name masked off */
            memcpy(&a, s, 8);
            if (len < 8) a &= ((uint64_t)1 << (8 * len)) - 1; /* (little-endian: exact) */
        } else {
            memcpy(&a, s, len < 8 ? len : 8);
        }
        if (len > 8) memcpy(&b, q - 8, 8); /* the last 8 bytes */
        a = (a ^ (b * 0x9E3779B97F4A7C15u) ^ len) * 0xFF51AFD7ED558CCDu;
        h = (uint32_t)(a >> 32) ^ (uint32_t)a;
    } else {
        for (q = s; q < end && *q != '"' && q - s < KEY_MAX - 1;) {
            if (*q == '\\' && q + 1 < end) h = (h ^ *q++) * 16777619u; /* the escaped byte too */
            h = (h ^ *q++) * 16777619u;
        }
        if (q >= end || *q != '"') return walk_string(w, NULL, NULL); /* long */
    }
    n = (size_t)(q - s);
    /* Up to KEY_WAYS slots from the hash's own; a miss takes an empty one,
     * else evicts by turns. */
    {
        unsigned i = (h ^ h >> 16) & (KEY_SLOTS - 1), k;
        key_slot *empty = NULL;
        for (k = 0; k < KEY_WAYS; k++) {
            key_slot *c = &w->keys[(i + k) & (KEY_SLOTS - 1)];
            if (!c->key) {
                if (!empty) empty = c;
            } else if (c->hash == h && c->len == n && memcmp(c->raw, s, n) == 0) {
                w->p = q + 1;
                Py_INCREF(c->key);
                return c->key;
            }
        }
        slot = empty ? empty : &w->keys[(i + (h >> 24) % KEY_WAYS) & (KEY_SLOTS - 1)];
    }
    key = walk_string(w, &raw, &rawlen);
    if (!key) return NULL;
    PyUnicode_InternInPlace(&key);
    Py_INCREF(key);
    Py_XSETREF(slot->key, key);
    slot->hash = h;
    slot->len = (unsigned char)n;
    memcpy(slot->raw, s, n);
    return key;
}

/* Outside strings, only white space is at or below ' ' in validated JSON. */
static void skip_ws(walker *w) {
    while (w->p < w->end && *w->p <= ' ') w->p++;
}

/* Reads the ',' between items or the closing bracket: 1 for another item. */
static int next_item(walker *w, unsigned char close) {
    skip_ws(w);
    if (w->p < w->end && *w->p == ',') {
        w->p++;
        skip_ws(w);
        return 1;
    }
    if (w->p < w->end && *w->p == close) w->p++;
    return 0;
}

/* A dict with room for about n members. */
static PyObject *new_dict(size_t n) {
#if PY_VERSION_HEX < 0x030D0000 /* private API, gone from the headers in 3.13 */
    if (n > 5) return _PyDict_NewPresized((Py_ssize_t)(n < 512 ? n : 512));
#endif
    (void)n;
    return PyDict_New();
}

static PyObject *walk_value(walker *w) {
    const unsigned char *s;
    PyObject *r, *key, *item;
    skip_ws(w);
    if (w->p >= w->end) return bad_header();
    switch (*w->p) {
    case '{':
        /* The header object is made with room for about one member per 24
         * bytes: it does not grow member by member. */
        r = w->root ? new_dict((size_t)(w->end - w->p) / 24) : PyDict_New();
        w->root = 0;
        if (!r) return NULL;
        w->p++;
        skip_ws(w);
        if (w->p < w->end && *w->p == '}') {
            w->p++;
            return r;
        }
        do {
            if (w->p >= w->end || *w->p != '"') {
                Py_DECREF(r);
                return bad_header();
            }
            key = walk_key(w);
            if (!key) goto fail;
            skip_ws(w);
            if (w->p < w->end && *w->p == ':') w->p++;
            item = walk_value(w);
            if (!item || PyDict_SetItem(r, key, item) < 0) {
                Py_DECREF(key);
                Py_XDECREF(item);
                goto fail;
            }
            Py_DECREF(key);
            Py_DECREF(item);
        } while (next_item(w, '}'));
        return r;
    case '[':
        r = PyList_New(0);
        if (!r) return NULL;
        w->p++;
        skip_ws(w);
        if (w->p < w->end && *w->p == ']') {
            w->p++;
            return r;
        }
        do {
            item = walk_value(w);
            if (!item || PyList_Append(r, item) < 0) {
                Py_XDECREF(item);
                goto fail;
            }
            Py_DECREF(item);
        } while (next_item(w, ']'));
        return r;
    case '"':
        return walk_string(w, NULL, NULL);
    case 't':
        w->p += 4;
        Py_RETURN_TRUE;
    case 'f':
        w->p += 5;
        Py_RETURN_FALSE;
    case 'n':
        w->p += 4;
        Py_RETURN_NONE;
    default: {
        /* A number: its digits are read as they are scanned; one with a
         * fraction, an exponent or 19 digits and more goes to number_of. */
        const unsigned char *p = w->p, *e = w->end;
        unsigned long long x = 0;
        int neg = *p == '-';
        s = p;
        p += neg;
        while (p < e && *p >= '0' && *p <= '9') x = x * 10 + (unsigned)(*p++ - '0');
        if (p < e && (*p == '.' || *p == 'e' || *p == 'E')) {
            while (p < e && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' ||
                             *p == 'e' || *p == 'E'))
                p++;
            w->p = p;
            return number_of((const char *)s, (size_t)(p - s), w->parse_float);
        }
        w->p = p;
        if (p == s + neg) return bad_header();
        if (p - s - neg <= 18) return PyLong_FromLongLong(neg ? -(long long)x : (long long)x);
        return number_of((const char *)s, (size_t)(p - s), w->parse_float);
    }
    }
fail:
    Py_DECREF(r);
    return NULL;
}

/* The dict of a validated header object. */
static PyObject *header_dict(const frame_value *root, PyObject *parse_float, key_slot *keys) {
    walker w;
    w.p = (const unsigned char *)root->json;
    w.end = w.p + root->len;
    w.parse_float = parse_float;
    w.keys = keys;
    w.root = 1;
    return walk_value(&w);
}

/* ------------------------------------------------------------------------ */
/* Decoder                                                                  */
/* ------------------------------------------------------------------------ */

enum { MODE_NONE, MODE_FEED, MODE_EVENTS };

typedef struct {
    PyObject_HEAD
    frame_decoder d;
    cconfig cfg;
    unsigned char *hbuf;
    PyObject *config, *parse_float, *error;
    int mode, busy;
    /* The call being served: its data and where it starts in the stream. */
    const unsigned char *data;
    uint64_t base;
    PyObject *out;
    int whole;
    int pyerr; /* a callback raised */
    key_slot *keys; /* the name cache (KEY_SLOTS), or NULL */
    /* The frame whose header arrived and whose body is not complete. */
    PyObject *header, *json, *body;
    uint64_t size, got, cap;
    uint64_t fstart; /* stream offset of the current frame's first byte */
    uint64_t done;   /* frames completed */
} DecoderObject;

static int append_steal(PyObject *list, PyObject *item) {
    int r;
    if (!item) return -1;
    r = PyList_Append(list, item);
    Py_DECREF(item);
    return r;
}

/* A new bytes object with a copy of n bytes; big copies without the GIL. */
static PyObject *copy_bytes(const void *p, size_t n) {
    PyObject *r;
    if (n < GIL_FREE_COPY) return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n);
    r = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (r) {
        char *dst = PyBytes_AS_STRING(r);
        Py_BEGIN_ALLOW_THREADS
        memcpy(dst, p, n);
        Py_END_ALLOW_THREADS
    }
    return r;
}

static int on_header(frame_decoder *fd, const frame_header *h) {
    DecoderObject *self = (DecoderObject *)fd->data;
    PyObject *header, *json;
    if (self->cfg.raw) {
        header = PyDict_New();
        json = g_empty_bytes;
        Py_INCREF(json);
    } else {
        uint64_t end = frame_decoder_offset(fd), hs = self->fstart + self->cfg.width;
        size_t hlen = (size_t)(end - hs);
        if (hs >= self->base) /* the header is in the data of this call */
            json = PyBytes_FromStringAndSize((const char *)self->data + (hs - self->base),
                                             (Py_ssize_t)hlen);
        else /* it came in pieces, gathered in the header buffer */
            json = PyBytes_FromStringAndSize((const char *)self->hbuf, (Py_ssize_t)hlen);
        header = json ? header_dict(&h->root, self->parse_float, self->keys) : NULL;
    }
    if (!header || !json) {
        Py_XDECREF(header);
        Py_XDECREF(json);
        self->pyerr = 1;
        return -1;
    }
    if (self->whole) {
        self->header = header;
        self->json = json;
        self->size = h->body_size;
        self->got = self->cap = 0;
        return FRAME_CONTINUE;
    } else {
        PyObject *items[3];
        items[0] = header;
        items[1] = PyLong_FromUnsignedLongLong(h->body_size);
        items[2] = json;
        if (append_steal(self->out, make_tuple(g_header_event, 3, items))) {
            self->pyerr = 1;
            return -1;
        }
    }
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *fd, const void *at, size_t len) {
    DecoderObject *self = (DecoderObject *)fd->data;
    if (!self->whole) {
        PyObject *items[1];
        items[0] = copy_bytes(at, len);
        if (append_steal(self->out, make_tuple(g_body_chunk, 1, items))) goto fail;
        return FRAME_CONTINUE;
    }
    if (!self->body && len == self->size) { /* the whole body at once */
        self->body = copy_bytes(at, len);
        if (!self->body) goto fail;
        self->got = self->cap = len;
        return FRAME_CONTINUE;
    }
    /* Pieces: a bytes object that grows (never past the declared size, so
     * a lying prefix cannot make it allocate what has not arrived). */
    if (self->got + len > self->cap) {
        uint64_t cap = self->cap * 2;
        if (cap < self->got + len) cap = self->got + len;
        if (cap < 65536) cap = 65536;
        if (cap > self->size) cap = self->size;
        if (cap > (uint64_t)PY_SSIZE_T_MAX) {
            PyErr_NoMemory();
            goto fail;
        }
        if (!self->body) {
            self->body = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
            if (!self->body) goto fail;
        } else if (_PyBytes_Resize(&self->body, (Py_ssize_t)cap) < 0) {
            goto fail;
        }
        self->cap = cap;
    }
    if (len >= GIL_FREE_COPY) {
        char *dst = PyBytes_AS_STRING(self->body) + self->got;
        Py_BEGIN_ALLOW_THREADS
        memcpy(dst, at, len);
        Py_END_ALLOW_THREADS
    } else {
        memcpy(PyBytes_AS_STRING(self->body) + self->got, at, len);
    }
    self->got += len;
    return FRAME_CONTINUE;
fail:
    self->pyerr = 1;
    return -1;
}

static void drop_frame(DecoderObject *self) {
    Py_CLEAR(self->header);
    Py_CLEAR(self->json);
    Py_CLEAR(self->body);
    self->size = self->got = self->cap = 0;
}

static int on_frame_end(frame_decoder *fd) {
    DecoderObject *self = (DecoderObject *)fd->data;
    PyObject *items[3], *r;
    if (self->whole) {
        items[0] = self->header;
        items[1] = self->body ? self->body : (Py_INCREF(g_empty_bytes), g_empty_bytes);
        items[2] = self->json;
        self->header = self->body = self->json = NULL;
        r = make_tuple(g_frame, 3, items);
    } else {
        items[0] = PyLong_FromUnsignedLongLong(self->done);
        r = make_tuple(g_frame_end, 1, items);
    }
    self->size = self->got = self->cap = 0;
    self->done++;
    self->fstart = frame_decoder_offset(fd);
    if (append_steal(self->out, r)) {
        self->pyerr = 1;
        return -1;
    }
    return FRAME_CONTINUE;
}

static const frame_callbacks decoder_callbacks = {on_header, on_body, on_frame_end};

static int in_use(int busy) {
    if (busy) PyErr_SetString(PyExc_RuntimeError, "this libframe object is in use by another thread");
    return busy;
}

/* The FrameError for the decoder's errno (sticky: kept in self->error). */
static PyObject *decoder_error(DecoderObject *self, frame_errno err, PyObject *missing) {
    PyObject *declared = NULL, *limit = NULL, *exc;
    if (err == FRAME_E_HEADER_TOO_LARGE || err == FRAME_E_BODY_TOO_LARGE ||
        err == FRAME_E_LOOKS_LIKE_TEXT || err == FRAME_E_LOOKS_LIKE_TLS) {
        declared = PyLong_FromUnsignedLongLong(frame_decoder_declared_size(&self->d));
        limit = PyLong_FromUnsignedLongLong(frame_decoder_limit(&self->d));
        if (!declared || !limit) {
            Py_XDECREF(declared);
            Py_XDECREF(limit);
            return NULL;
        }
    }
    exc = frame_exc(err, NULL, (long long)frame_decoder_offset(&self->d),
                    (long long)frame_decoder_frame_index(&self->d), declared, limit, missing);
    Py_XDECREF(declared);
    Py_XDECREF(limit);
    if (exc) Py_XSETREF(self->error, (Py_INCREF(exc), exc));
    return exc;
}

static void raise_obj(PyObject *exc) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
}

static int Decoder_init(DecoderObject *self, PyObject *args, PyObject *kwargs) {
    PyObject *config = NULL, *parse_float = NULL, *params = NULL, *cfg;
    size_t cap;
    frame_errno err;
    if (self->config) {
        PyErr_SetString(PyExc_TypeError, "Decoder.__init__ may run once");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "|O:Decoder", &config)) return -1;
    if (kwargs && PyDict_GET_SIZE(kwargs)) {
        /* Borrowed from kwargs, which outlives this call. */
        PyObject *c = PyDict_GetItemString(kwargs, "config");
        parse_float = PyDict_GetItemString(kwargs, "parse_float");
        if (c && config) {
            PyErr_SetString(PyExc_TypeError, "Decoder() got multiple values for 'config'");
            return -1;
        }
        if (c) config = c;
        params = PyDict_Copy(kwargs);
        if (!params) return -1;
        if ((c && PyDict_DelItemString(params, "config") < 0) ||
            (parse_float && PyDict_DelItemString(params, "parse_float") < 0)) {
            Py_DECREF(params);
            return -1;
        }
    }
    cfg = make_config(config, params);
    Py_XDECREF(params);
    if (!cfg) return -1;
    self->config = cfg;
    if (cconfig_from(cfg, &self->cfg)) return -1;
    if (parse_float && parse_float != Py_None) {
        Py_INCREF(parse_float);
        self->parse_float = parse_float;
    }
    cap = self->cfg.raw ? 0 : (size_t)self->cfg.header_limit;
    if (cap) {
        /* calloc: a large buffer is address space until headers fill it. */
        self->hbuf = (unsigned char *)(cap > (1u << 20) ? PyMem_RawCalloc(1, cap) : PyMem_RawMalloc(cap));
        if (!self->hbuf) {
            PyErr_NoMemory();
            return -1;
        }
    }
    if (!self->cfg.raw) {
        self->keys = (key_slot *)PyMem_Calloc(KEY_SLOTS, sizeof(key_slot));
        if (!self->keys) {
            PyErr_NoMemory();
            return -1;
        }
    }
    err = frame_decoder_init(&self->d, &self->cfg.c, &decoder_callbacks, self->hbuf, cap, self);
    if (err) {
        raise_frame_error(err, "frame_decoder_init failed");
        return -1;
    }
    return 0;
}

static void Decoder_reset_state(DecoderObject *self) {
    drop_frame(self);
    Py_CLEAR(self->error);
    self->mode = MODE_NONE;
    self->fstart = self->done = 0;
    self->pyerr = 0;
}

static int Decoder_traverse(DecoderObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->config);
    Py_VISIT(self->parse_float);
    Py_VISIT(self->error);
    Py_VISIT(self->header);
    return 0;
}

static int Decoder_clear(DecoderObject *self) {
    int i;
    if (self->keys)
        for (i = 0; i < KEY_SLOTS; i++) Py_CLEAR(self->keys[i].key);
    Py_CLEAR(self->config);
    Py_CLEAR(self->parse_float);
    Py_CLEAR(self->error);
    drop_frame(self);
    return 0;
}

static void Decoder_dealloc(DecoderObject *self) {
    PyObject_GC_UnTrack(self);
    Decoder_clear(self);
    PyMem_RawFree(self->hbuf);
    PyMem_Free(self->keys);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int at_boundary(DecoderObject *self) {
    return !self->error && !self->header && frame_decoder_errno(&self->d) == FRAME_OK &&
           frame_decoder_needed(&self->d) == 0;
}

static PyObject *raise_after(PyObject *out, PyObject *err) {
    return PyObject_CallFunctionObjArgs(g_raise_after, out, err, NULL);
}

/* Runs frame_feed over `data` in `whole` (feed) or events mode. */
static PyObject *Decoder_run(DecoderObject *self, PyObject *data, int whole) {
    Py_buffer view;
    PyObject *out, *exc, *r;
    frame_errno err;
    int want = whole ? MODE_FEED : MODE_EVENTS;
    if (in_use(self->busy)) return NULL;
    if (self->error) {
        out = PyList_New(0);
        r = out ? raise_after(out, self->error) : NULL;
        Py_XDECREF(out);
        return r;
    }
    if (PyUnicode_Check(data)) {
        PyErr_Format(PyExc_TypeError, "data must be bytes-like, not %s", Py_TYPE(data)->tp_name);
        return NULL;
    }
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyObject *b = PyObject_CallMethod(data, "tobytes", NULL);
        if (!b) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "data must be bytes-like, not %s", Py_TYPE(data)->tp_name);
            return NULL;
        }
        r = Decoder_run(self, b, whole);
        Py_DECREF(b);
        return r;
    }
    if (self->mode != want) {
        if (self->mode != MODE_NONE && !at_boundary(self)) {
            PyBuffer_Release(&view);
            return raise_frame_error(FRAME_E_ARGUMENT,
                                     whole ? "this decoder is in the middle of a frame read with "
                                             "feed_events(); finish it with the same method"
                                           : "this decoder is in the middle of a frame read with "
                                             "feed(); finish it with the same method");
        }
        self->mode = want;
    }
    out = PyList_New(0);
    if (!out) {
        PyBuffer_Release(&view);
        return NULL;
    }
    self->busy = 1;
    self->data = (const unsigned char *)view.buf;
    self->base = frame_decoder_offset(&self->d);
    self->out = out;
    self->whole = whole;
    frame_feed(&self->d, view.buf, (size_t)view.len);
    self->data = NULL;
    self->out = NULL;
    self->busy = 0;
    PyBuffer_Release(&view);
    if (self->pyerr) { /* a Python error in a callback: it stays the decoder's error */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyErr_NormalizeException(&t, &v, &tb);
        if (v) Py_XSETREF(self->error, (Py_INCREF(v), v));
        PyErr_Restore(t, v, tb);
        drop_frame(self);
        Py_DECREF(out);
        return NULL;
    }
    err = frame_decoder_errno(&self->d);
    if (err != FRAME_OK && err != FRAME_E_PAUSED) {
        drop_frame(self);
        exc = decoder_error(self, err, NULL);
        if (!exc) {
            Py_DECREF(out);
            return NULL;
        }
        r = raise_after(out, exc);
        Py_DECREF(exc);
        Py_DECREF(out);
        return r;
    }
    r = PyObject_GetIter(out);
    Py_DECREF(out);
    return r;
}

static PyObject *Decoder_feed(DecoderObject *self, PyObject *data) {
    return Decoder_run(self, data, 1);
}

static PyObject *Decoder_feed_events(DecoderObject *self, PyObject *data) {
    return Decoder_run(self, data, 0);
}

static PyObject *Decoder_finish(DecoderObject *self, PyObject *unused) {
    uint64_t missing = 0;
    frame_errno err;
    PyObject *out, *m, *exc;
    (void)unused;
    if (in_use(self->busy)) return NULL;
    if (self->error) {
        raise_obj(self->error);
        return NULL;
    }
    out = PyList_New(0);
    if (!out) return NULL;
    self->out = out;
    self->data = NULL;
    self->base = frame_decoder_offset(&self->d);
    self->whole = self->mode != MODE_EVENTS;
    err = frame_finish(&self->d, &missing);
    self->out = NULL;
    Py_DECREF(out);
    if (err == FRAME_OK) Py_RETURN_NONE;
    drop_frame(self);
    m = err == FRAME_E_TRUNCATED ? PyLong_FromUnsignedLongLong(missing) : NULL;
    exc = decoder_error(self, err, m);
    Py_XDECREF(m);
    if (exc) {
        raise_obj(exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *Decoder_feed_datagram(DecoderObject *self, PyObject *data) {
    Py_buffer view;
    PyObject *out, *r = NULL, *exc;
    frame_errno err;
    if (in_use(self->busy)) return NULL;
    if (self->error) {
        raise_obj(self->error);
        return NULL;
    }
    if (!at_boundary(self))
        return raise_frame_error(FRAME_E_ARGUMENT, "feed_datagram() needs a decoder at a frame boundary");
    if (PyUnicode_Check(data) || PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "data must be bytes-like, not %s", Py_TYPE(data)->tp_name);
        return NULL;
    }
    out = PyList_New(0);
    if (!out) {
        PyBuffer_Release(&view);
        return NULL;
    }
    self->busy = 1;
    self->data = (const unsigned char *)view.buf;
    self->base = self->fstart = 0; /* offsets count from the datagram's start */
    self->out = out;
    self->whole = 1;
    err = frame_feed_datagram(&self->d, view.buf, (size_t)view.len);
    self->data = NULL;
    self->out = NULL;
    self->busy = 0;
    PyBuffer_Release(&view);
    if (self->pyerr) {
        drop_frame(self);
        Py_DECREF(out);
        return NULL;
    }
    if (err != FRAME_OK && err != FRAME_E_PAUSED) {
        drop_frame(self);
        exc = decoder_error(self, err, NULL);
        if (exc) {
            raise_obj(exc);
            Py_DECREF(exc);
        }
    } else if (PyList_GET_SIZE(out) == 1) {
        r = PyList_GET_ITEM(out, 0);
        Py_INCREF(r);
    } else {
        raise_frame_error(FRAME_E_ARGUMENT, "the datagram gave no frame");
    }
    Py_DECREF(out);
    return r;
}

static PyObject *Decoder_reset(DecoderObject *self, PyObject *unused) {
    (void)unused;
    if (in_use(self->busy)) return NULL;
    frame_decoder_reset(&self->d);
    Decoder_reset_state(self);
    Py_RETURN_NONE;
}

static PyObject *Decoder_repr(DecoderObject *self) {
    char tail[64] = "";
    if (self->error) {
        PyObject *name = PyObject_GetAttrString(self->error, "name");
        const char *s = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : "?";
        PyErr_Clear();
        PyOS_snprintf(tail, sizeof tail, " error=%s", s ? s : "?");
        Py_XDECREF(name);
    }
    return PyUnicode_FromFormat("<libframe.native.Decoder offset=%llu frame=%llu%s>",
                                (unsigned long long)frame_decoder_offset(&self->d),
                                (unsigned long long)frame_decoder_frame_index(&self->d), tail);
}

static PyObject *Decoder_get_offset(DecoderObject *self, void *c) {
    (void)c;
    return PyLong_FromUnsignedLongLong(frame_decoder_offset(&self->d));
}
static PyObject *Decoder_get_frame_index(DecoderObject *self, void *c) {
    (void)c;
    return PyLong_FromUnsignedLongLong(frame_decoder_frame_index(&self->d));
}
static PyObject *Decoder_get_needed(DecoderObject *self, void *c) {
    (void)c;
    return PyLong_FromUnsignedLongLong(self->error ? 0 : frame_decoder_needed(&self->d));
}
static PyObject *Decoder_get_declared(DecoderObject *self, void *c) {
    (void)c;
    return PyLong_FromUnsignedLongLong(frame_decoder_declared_size(&self->d));
}
static PyObject *Decoder_get_limit(DecoderObject *self, void *c) {
    (void)c;
    return PyLong_FromUnsignedLongLong(frame_decoder_limit(&self->d));
}
static PyObject *Decoder_get_error(DecoderObject *self, void *c) {
    (void)c;
    if (!self->error) Py_RETURN_NONE;
    Py_INCREF(self->error);
    return self->error;
}
static PyObject *Decoder_get_at_boundary(DecoderObject *self, void *c) {
    (void)c;
    return PyBool_FromLong(at_boundary(self));
}
static PyObject *Decoder_get_config(DecoderObject *self, void *c) {
    (void)c;
    if (!self->config) Py_RETURN_NONE;
    Py_INCREF(self->config);
    return self->config;
}

static PyGetSetDef Decoder_getset[] = {
    {"offset", (getter)Decoder_get_offset, NULL, "Bytes consumed so far; after an error, the error's offset.", NULL},
    {"frame_index", (getter)Decoder_get_frame_index, NULL, "Index (from 0) of the frame being decoded, or of the one that failed.", NULL},
    {"needed", (getter)Decoder_get_needed, NULL, "The least number of bytes still needed to complete the current frame; 0 at a frame boundary.", NULL},
    {"declared_size", (getter)Decoder_get_declared, NULL, "The prefix value until the header is parsed, then the body size.", NULL},
    {"limit", (getter)Decoder_get_limit, NULL, "The limit a HEADER_TOO_LARGE / BODY_TOO_LARGE broke, else 0.", NULL},
    {"error", (getter)Decoder_get_error, NULL, "The error that stopped the decoder, or None.", NULL},
    {"at_boundary", (getter)Decoder_get_at_boundary, NULL, "True between frames (nothing of a frame consumed yet).", NULL},
    {"config", (getter)Decoder_get_config, NULL, "The decoder's Config.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef Decoder_methods[] = {
    {"feed", (PyCFunction)Decoder_feed, METH_O,
     "feed(data) -> iterator of Frame(header, body, header_json) completed by data; raises the "
     "data's error after the frames before it."},
    {"feed_events", (PyCFunction)Decoder_feed_events, METH_O,
     "feed_events(data) -> iterator of HeaderEvent, BodyChunk and FrameEnd events."},
    {"feed_datagram", (PyCFunction)Decoder_feed_datagram, METH_O,
     "feed_datagram(data) -> Frame: one datagram holding exactly one frame."},
    {"finish", (PyCFunction)Decoder_finish, METH_NOARGS,
     "finish(): the stream has ended; TruncatedError inside a frame."},
    {"reset", (PyCFunction)Decoder_reset, METH_NOARGS,
     "reset(): back to the start of a new stream (offset 0, frame 0, no error)."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject DecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libframe.native.Decoder",
    .tp_basicsize = sizeof(DecoderObject),
};

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */
/* ------------------------------------------------------------------------ */

enum { ADD_ANY, ADD_STRING, ADD_INT, ADD_BOOL, ADD_NULL, ADD_RAW };
#define NEEDS_PURE (-2) /* a name holding U+0000: the C API cannot take it */

/* A growing buffer for a frame_builder. */
typedef struct {
    frame_builder b;
    unsigned char *buf;
    size_t cap, bound;
    unsigned char small[512];
} hbuf;

static void hbuf_init(hbuf *h, const cconfig *cc) {
    h->buf = h->small;
    h->cap = sizeof h->small;
    /* Room for the largest header the config allows (and the brace the
     * builder keeps free): there, BUFFER_TOO_SMALL cannot happen. */
    h->bound = (size_t)cc->width + (cc->raw ? 1 : (size_t)cc->header_limit) + 16;
}

static void hbuf_free(hbuf *h) {
    if (h->buf != h->small) PyMem_Free(h->buf);
    h->buf = h->small;
}

/* Grows the buffer; 0, or -1 with MemoryError/HEADER_TOO_LARGE set. */
static int hbuf_grow(hbuf *h, const cconfig *cc) {
    size_t cap = h->cap * 4;
    unsigned char *p;
    if (h->cap >= h->bound) {
        PyObject *limit = PyLong_FromUnsignedLongLong(cc->header_limit);
        PyObject *exc = limit ? frame_exc(FRAME_E_HEADER_TOO_LARGE, NULL, -1, -1, NULL, limit, NULL) : NULL;
        Py_XDECREF(limit);
        if (exc) {
            raise_obj(exc);
            Py_DECREF(exc);
        }
        return -1;
    }
    if (cap > h->bound) cap = h->bound;
    p = (unsigned char *)PyMem_Malloc(cap);
    if (!p) {
        PyErr_NoMemory();
        return -1;
    }
    hbuf_free(h);
    h->buf = p;
    h->cap = cap;
    return 0;
}

/* UTF-8 of a str (lone surrogates passed through for the C library to
 * refuse as BAD_UTF8) or bytes of a bytes-like object, as a new bytes
 * reference (NUL-terminated by bytes' own guarantee), or NULL. */
static PyObject *text_bytes(PyObject *o, const char *what) {
    if (PyUnicode_Check(o)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(o, &n);
        if (s) return PyBytes_FromStringAndSize(s, n);
        PyErr_Clear();
        return PyUnicode_AsEncodedString(o, "utf-8", "surrogatepass");
    }
    if (PyBytes_Check(o)) {
        Py_INCREF(o);
        return o;
    }
    if (PyObject_CheckBuffer(o)) return PyBytes_FromObject(o);
    PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not %s", what, Py_TYPE(o)->tp_name);
    return NULL;
}

/* The UTF-8 of a str without a copy when it has no lone surrogate: *keep is
 * then NULL; otherwise *keep owns the bytes. */
static const char *utf8_of(PyObject *o, Py_ssize_t *n, PyObject **keep, const char *what) {
    *keep = NULL;
    if (PyUnicode_Check(o)) {
        const char *s = PyUnicode_AsUTF8AndSize(o, n);
        if (s) return s;
        PyErr_Clear();
    }
    *keep = text_bytes(o, what);
    if (!*keep) return NULL;
    *n = PyBytes_GET_SIZE(*keep);
    return PyBytes_AS_STRING(*keep);
}

static int is_rawjson(PyObject *v) {
    return Py_TYPE(v) == (PyTypeObject *)g_rawjson || PyObject_TypeCheck(v, (PyTypeObject *)g_rawjson);
}

/* Adds one member. Returns a frame_errno (>= 0), -1 with a Python
 * exception set, or NEEDS_PURE. */
static int add_member(frame_builder *b, PyObject *name, PyObject *value, int kind) {
    PyObject *nkeep = NULL, *vkeep = NULL;
    const char *ns, *vs;
    Py_ssize_t nn, vn;
    int rc;
    if (!PyUnicode_Check(name) && !PyBytes_Check(name) && !PyByteArray_Check(name) &&
        !PyMemoryView_Check(name)) {
        PyErr_Format(PyExc_TypeError, "a member name must be str or bytes, not %s",
                     Py_TYPE(name)->tp_name);
        return -1;
    }
    ns = utf8_of(name, &nn, &nkeep, "a member name");
    if (!ns) return -1;
    if (memchr(ns, 0, (size_t)nn)) {
        Py_XDECREF(nkeep);
        return NEEDS_PURE;
    }
    if (kind == ADD_ANY) {
        if (value == Py_None) kind = ADD_NULL;
        else if (value == Py_True || value == Py_False) kind = ADD_BOOL;
        else if (PyUnicode_Check(value)) kind = ADD_STRING;
        else if (PyLong_Check(value)) kind = ADD_INT;
    }
    switch (kind) {
    case ADD_NULL:
        rc = frame_builder_add_null(b, ns);
        break;
    case ADD_BOOL: {
        int t = PyObject_IsTrue(value);
        rc = t < 0 ? -1 : (int)frame_builder_add_bool(b, ns, t);
        break;
    }
    case ADD_STRING:
        vs = utf8_of(value, &vn, &vkeep, "the value");
        rc = vs ? (int)frame_builder_add_stringn(b, ns, vs, (size_t)vn) : -1;
        break;
    case ADD_INT: {
        int overflow = 0;
        long long x;
        if (!PyLong_Check(value)) {
            PyErr_Format(PyExc_TypeError, "add_int() takes an int, not %s", Py_TYPE(value)->tp_name);
            rc = -1;
            break;
        }
        x = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (x == -1 && PyErr_Occurred()) {
            rc = -1;
        } else if (!overflow) {
            rc = frame_builder_add_int64(b, ns, (int64_t)x);
        } else {
            unsigned long long u = overflow > 0 ? PyLong_AsUnsignedLongLong(value) : 0;
            if (overflow > 0 && !PyErr_Occurred()) {
                rc = frame_builder_add_uint64(b, ns, (uint64_t)u);
            } else {
                PyErr_Clear();
                vkeep = PyObject_CallFunctionObjArgs(g_int_text, value, NULL);
                vs = vkeep ? PyUnicode_AsUTF8AndSize(vkeep, &vn) : NULL;
                rc = vs ? (int)frame_builder_add_raw(b, ns, vs, (size_t)vn) : -1;
            }
        }
        break;
    }
    case ADD_RAW:
        vs = utf8_of(value, &vn, &vkeep, "raw JSON");
        rc = vs ? (int)frame_builder_add_raw(b, ns, vs, (size_t)vn) : -1;
        break;
    default: /* ADD_ANY: float, RawJSON, containers */
        if (PyFloat_Check(value)) {
            double d = PyFloat_AS_DOUBLE(value);
            char *text;
            if (!isfinite(d)) {
                PyErr_Format(PyExc_ValueError, "JSON has no %R", value);
                rc = -1;
                break;
            }
            text = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
            if (!text) {
                rc = -1;
                break;
            }
            rc = frame_builder_add_raw(b, ns, text, strlen(text));
            PyMem_Free(text);
        } else if (is_rawjson(value)) {
            PyObject *t = PyObject_GetAttrString(value, "text");
            vs = t ? utf8_of(t, &vn, &vkeep, "raw JSON") : NULL;
            rc = vs ? (int)frame_builder_add_raw(b, ns, vs, (size_t)vn) : -1;
            Py_XDECREF(t);
        } else if (PyDict_Check(value) || PyList_Check(value) || PyTuple_Check(value) ||
                   PyMapping_Check(value)) {
            /* Serialised by the pure encoder (its limits, its TypeErrors),
             * then checked and copied canonically by the C builder. */
            vkeep = PyObject_CallFunctionObjArgs(g_value_json, value, NULL);
            if (vkeep && !PyBytes_Check(vkeep)) {
                PyErr_SetString(PyExc_TypeError, "value_json did not return bytes");
                rc = -1;
                break;
            }
            rc = vkeep ? (int)frame_builder_add_raw(b, ns, PyBytes_AS_STRING(vkeep),
                                               (size_t)PyBytes_GET_SIZE(vkeep))
                       : -1;
        } else {
            PyErr_Format(PyExc_TypeError, "cannot encode %s as JSON", Py_TYPE(value)->tp_name);
            rc = -1;
        }
        break;
    }
    Py_XDECREF(nkeep);
    Py_XDECREF(vkeep);
    return rc;
}

/* Raises the exception for a builder error rc. */
static void builder_raise(frame_errno rc, const cconfig *cc, uint64_t body_size) {
    PyObject *exc = NULL, *declared, *limit;
    if (rc == FRAME_E_BODY_TOO_LARGE) {
        declared = PyLong_FromUnsignedLongLong(body_size);
        limit = PyLong_FromUnsignedLongLong(cc->body_limit);
        exc = declared && limit ? frame_exc(rc, NULL, -1, -1, declared, limit, NULL) : NULL;
        Py_XDECREF(declared);
        Py_XDECREF(limit);
    } else if (rc == FRAME_E_HEADER_TOO_LARGE || rc == FRAME_E_BUFFER_TOO_SMALL) {
        limit = PyLong_FromUnsignedLongLong(cc->header_limit);
        exc = limit ? frame_exc(FRAME_E_HEADER_TOO_LARGE, NULL, -1, -1, NULL, limit, NULL) : NULL;
        Py_XDECREF(limit);
    } else {
        exc = frame_exc(rc, NULL, -1, -1, NULL, NULL, NULL);
    }
    if (exc) {
        raise_obj(exc);
        Py_DECREF(exc);
    }
}

/* A body size from a Python int: -1 with ArgumentError unless it is a
 * non-negative int; sizes beyond 64 bits read as UINT64_MAX. */
static int body_size_of(PyObject *o, uint64_t *out) {
    int overflow = 0;
    long long x = -1;
    if (PyLong_Check(o) && !PyBool_Check(o)) {
        x = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (x == -1 && PyErr_Occurred()) return -1;
        if (overflow > 0) {
            *out = UINT64_MAX;
            return 0;
        }
        if (!overflow && x >= 0) {
            *out = (uint64_t)x;
            return 0;
        }
    }
    raise_frame_error(FRAME_E_ARGUMENT, "body_size must be a non-negative int");
    return -1;
}

/* prefix + header for `header` (a mapping or None) and body_size, then
 * `body_len` bytes of `body` after it. Returns a new bytes object, NULL with
 * an exception, or Py_None (borrowed) when a name needs the pure encoder. */
static PyObject *build_frame(PyObject *header, uint64_t body_size, const cconfig *cc,
                             const char *body, size_t body_len) {
    hbuf h;
    PyObject *items = NULL, *r = NULL;
    Py_ssize_t i, n = 0, pos;
    const void *head;
    size_t head_len;
    int rc;
    hbuf_init(&h, cc);
    if (header != Py_None && !PyDict_Check(header)) {
        int truth = PyObject_IsTrue(header);
        if (truth < 0) return NULL;
        if (truth) {
            if (!PyMapping_Check(header) || PyList_Check(header) || PyTuple_Check(header) ||
                PyUnicode_Check(header) || PyBytes_Check(header)) {
                PyErr_Format(PyExc_TypeError, "header must be a dict, not %s", Py_TYPE(header)->tp_name);
                return NULL;
            }
            items = PyMapping_Items(header);
            if (!items) return NULL;
            n = PyList_GET_SIZE(items);
        }
    }
    for (;;) {
        rc = frame_builder_init(&h.b, &cc->c, h.buf, h.cap, body_size);
        if (rc == FRAME_OK) {
            if (items) {
                for (i = 0; i < n && rc == FRAME_OK; i++) {
                    PyObject *kv = PyList_GET_ITEM(items, i);
                    rc = add_member(&h.b, PyTuple_GET_ITEM(kv, 0), PyTuple_GET_ITEM(kv, 1), ADD_ANY);
                }
            } else if (header != Py_None && PyDict_Check(header)) {
                PyObject *k, *v;
                pos = 0;
                while (rc == FRAME_OK && PyDict_Next(header, &pos, &k, &v)) {
                    Py_INCREF(k);
                    Py_INCREF(v);
                    rc = add_member(&h.b, k, v, ADD_ANY);
                    Py_DECREF(k);
                    Py_DECREF(v);
                }
            }
        }
        if (rc == FRAME_OK) rc = frame_builder_finish(&h.b, &head, &head_len);
        if (rc != FRAME_E_BUFFER_TOO_SMALL) break;
        if (hbuf_grow(&h, cc)) goto out;
    }
    if (rc == NEEDS_PURE) {
        r = Py_None;
        goto out;
    }
    if (rc == -1) goto out;
    if (rc) {
        builder_raise((frame_errno)rc, cc, body_size);
        goto out;
    }
    r = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(head_len + body_len));
    if (!r) goto out;
    memcpy(PyBytes_AS_STRING(r), head, head_len);
    if (body_len >= GIL_FREE_COPY) {
        char *dst = PyBytes_AS_STRING(r) + head_len;
        Py_BEGIN_ALLOW_THREADS
        memcpy(dst, body, body_len);
        Py_END_ALLOW_THREADS
    } else if (body_len) {
        memcpy(PyBytes_AS_STRING(r) + head_len, body, body_len);
    }
out:
    Py_XDECREF(items);
    hbuf_free(&h);
    return r;
}

/* Splits (header, size-or-body, config=None, **params) arguments. */
static int parse_call(PyObject *args, PyObject *kwargs, const char *fname, PyObject **header,
                      PyObject **second, PyObject **config, PyObject **params) {
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    *header = *second = *config = NULL;
    *params = NULL;
    if (n > 3) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most 3 positional arguments", fname);
        return -1;
    }
    if (n > 0) *header = PyTuple_GET_ITEM(args, 0);
    if (n > 1) *second = PyTuple_GET_ITEM(args, 1);
    if (n > 2) *config = PyTuple_GET_ITEM(args, 2);
    if (kwargs && PyDict_GET_SIZE(kwargs)) {
        static const char *names[] = {"header", NULL, "config"};
        const char *second_name = strcmp(fname, "encode") == 0 ? "body" : "body_size";
        int k;
        *params = PyDict_Copy(kwargs);
        if (!*params) return -1;
        for (k = 0; k < 3; k++) {
            const char *key = k == 1 ? second_name : names[k];
            PyObject *v = PyDict_GetItemString(*params, key);
            PyObject **slot = k == 0 ? header : k == 1 ? second : config;
            if (!v) continue;
            if (*slot) {
                PyErr_Format(PyExc_TypeError, "%s() got multiple values for '%s'", fname, key);
                Py_CLEAR(*params);
                return -1;
            }
            *slot = v; /* borrowed: kwargs outlives the call */
            if (PyDict_DelItemString(*params, key) < 0) {
                Py_CLEAR(*params);
                return -1;
            }
        }
    }
    if (!*header) {
        PyErr_Format(PyExc_TypeError, "%s() missing the header argument", fname);
        Py_CLEAR(*params);
        return -1;
    }
    return 0;
}

static PyObject *pure_head(PyObject *header, PyObject *size, PyObject *config, PyObject *params) {
    PyObject *args = PyTuple_Pack(3, header, size, config ? config : Py_None), *r;
    if (!args) return NULL;
    r = PyObject_Call(g_pure_head, args, params);
    Py_DECREF(args);
    return r;
}

static PyObject *mod_build_head(PyObject *mod, PyObject *args, PyObject *kwargs) {
    PyObject *header, *size, *config, *params, *r = NULL;
    cconfig cc;
    uint64_t body_size;
    (void)mod;
    if (parse_call(args, kwargs, "build_head", &header, &size, &config, &params)) return NULL;
    if (!size) {
        PyErr_SetString(PyExc_TypeError, "build_head() missing body_size");
        goto out;
    }
    if (call_config(config, params, &cc) || body_size_of(size, &body_size)) goto out;
    r = build_frame(header, body_size, &cc, NULL, 0);
    if (r == Py_None) r = pure_head(header, size, config, params);
out:
    Py_XDECREF(params);
    return r;
}

static PyObject *mod_encode(PyObject *mod, PyObject *args, PyObject *kwargs) {
    PyObject *header, *body, *config, *params, *r = NULL;
    Py_buffer view;
    cconfig cc;
    (void)mod;
    if (parse_call(args, kwargs, "encode", &header, &body, &config, &params)) return NULL;
    if (call_config(config, params, &cc)) goto out;
    if (!body) body = g_empty_bytes;
    if (PyUnicode_Check(body) || PyObject_GetBuffer(body, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "body must be bytes-like, not %s", Py_TYPE(body)->tp_name);
        goto out;
    }
    r = build_frame(header, (uint64_t)view.len, &cc, (const char *)view.buf, (size_t)view.len);
    if (r == Py_None) {
        PyObject *size = PyLong_FromSsize_t(view.len), *head;
        head = size ? pure_head(header, size, config, params) : NULL;
        Py_XDECREF(size);
        r = head ? PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(head) + view.len) : NULL;
        if (r) {
            memcpy(PyBytes_AS_STRING(r), PyBytes_AS_STRING(head), (size_t)PyBytes_GET_SIZE(head));
            memcpy(PyBytes_AS_STRING(r) + PyBytes_GET_SIZE(head), view.buf, (size_t)view.len);
        }
        Py_XDECREF(head);
    }
    PyBuffer_Release(&view);
out:
    Py_XDECREF(params);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Builder                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    hbuf h;
    cconfig cc;
    PyObject *config, *body_size, *ops, *error, *head;
    uint64_t size;
    int busy;
} BuilderObject;

static int Builder_start(BuilderObject *self) {
    int rc = frame_builder_init(&self->h.b, &self->cc.c, self->h.buf, self->h.cap, self->size);
    Py_ssize_t i;
    for (i = 0; rc == FRAME_OK && self->ops && i < PyList_GET_SIZE(self->ops); i++) {
        PyObject *op = PyList_GET_ITEM(self->ops, i);
        rc = add_member(&self->h.b, PyTuple_GET_ITEM(op, 1), PyTuple_GET_ITEM(op, 2),
                        (int)PyLong_AsLong(PyTuple_GET_ITEM(op, 0)));
    }
    return rc;
}

static int Builder_init(BuilderObject *self, PyObject *args, PyObject *kwargs) {
    static const char *kwlist[] = {"body_size", "config", NULL};
    PyObject *size = NULL, *config = Py_None, *params = NULL, *cfg;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    int rc;
    if (self->config) {
        PyErr_SetString(PyExc_TypeError, "Builder.__init__ may run once");
        return -1;
    }
    if (n > 2) {
        PyErr_SetString(PyExc_TypeError, "Builder() takes at most 2 positional arguments");
        return -1;
    }
    if (n > 0) size = PyTuple_GET_ITEM(args, 0);
    if (n > 1) config = PyTuple_GET_ITEM(args, 1);
    if (kwargs) {
        int k;
        params = PyDict_Copy(kwargs);
        if (!params) return -1;
        for (k = 0; k < 2; k++) {
            PyObject *v = PyDict_GetItemString(params, kwlist[k]);
            if (!v) continue;
            if ((k == 0 && size) || (k == 1 && n > 1)) {
                PyErr_Format(PyExc_TypeError, "Builder() got multiple values for '%s'", kwlist[k]);
                Py_DECREF(params);
                return -1;
            }
            if (k == 0) size = v;
            else config = v;
        }
        /* size and config stay alive in kwargs */
        PyDict_DelItemString(params, "body_size");
        PyErr_Clear();
        PyDict_DelItemString(params, "config");
        PyErr_Clear();
    }
    if (!size) {
        Py_XDECREF(params);
        PyErr_SetString(PyExc_TypeError, "Builder() missing body_size");
        return -1;
    }
    cfg = make_config(config, params);
    Py_XDECREF(params);
    if (!cfg) return -1;
    self->config = cfg;
    if (cconfig_from(cfg, &self->cc)) return -1;
    self->cc.c.size_name = self->cc.size_name;
    if (body_size_of(size, &self->size)) return -1;
    Py_INCREF(size);
    self->body_size = size;
    self->ops = PyList_New(0);
    if (!self->ops) return -1;
    hbuf_init(&self->h, &self->cc);
    while ((rc = Builder_start(self)) == FRAME_E_BUFFER_TOO_SMALL)
        if (hbuf_grow(&self->h, &self->cc)) return -1;
    if (rc) {
        builder_raise((frame_errno)rc, &self->cc, self->size);
        return -1;
    }
    return 0;
}

static PyObject *Builder_do(BuilderObject *self, PyObject *name, PyObject *value, int kind) {
    int rc;
    PyObject *op;
    if (in_use(self->busy)) return NULL;
    if (self->error) {
        raise_obj(self->error);
        return NULL;
    }
    if (self->head) return raise_frame_error(FRAME_E_ARGUMENT, "finish() was called: the header is closed");
    if (self->cc.raw) return raise_frame_error(FRAME_E_ARGUMENT, "the raw profile has no header members");
    if (kind == ADD_INT && (!PyLong_Check(value))) {
        PyErr_Format(PyExc_TypeError, "add_int() takes an int, not %s", Py_TYPE(value)->tp_name);
        return NULL;
    }
    self->busy = 1;
    for (;;) {
        rc = add_member(&self->h.b, name, value, kind);
        if (rc != FRAME_E_BUFFER_TOO_SMALL) break;
        /* Start again in a larger buffer, replaying the members so far. */
        do {
            if (hbuf_grow(&self->h, &self->cc)) {
                rc = -1;
                break;
            }
        } while ((rc = Builder_start(self)) == FRAME_E_BUFFER_TOO_SMALL);
        if (rc) break;
    }
    self->busy = 0;
    if (rc == NEEDS_PURE)
        return raise_frame_error(FRAME_E_ARGUMENT, "the C builder cannot take a name holding U+0000");
    if (rc == -1) {
        /* Python errors (TypeError...) are not sticky, as in the pure Builder;
         * the C builder is rebuilt from the members that went in. */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        while ((rc = Builder_start(self)) == FRAME_E_BUFFER_TOO_SMALL)
            if (hbuf_grow(&self->h, &self->cc)) break;
        PyErr_Clear();
        PyErr_Restore(t, v, tb);
        return NULL;
    }
    if (rc) {
        builder_raise((frame_errno)rc, &self->cc, self->size);
        if (rc != FRAME_E_ARGUMENT) {
            PyObject *t, *v, *tb;
            PyErr_Fetch(&t, &v, &tb);
            PyErr_NormalizeException(&t, &v, &tb);
            Py_XINCREF(v);
            Py_XSETREF(self->error, v);
            PyErr_Restore(t, v, tb);
        }
        return NULL;
    }
    op = Py_BuildValue("(iOO)", kind, name, value ? value : Py_None);
    if (!op || PyList_Append(self->ops, op) < 0) {
        Py_XDECREF(op);
        return NULL;
    }
    Py_DECREF(op);
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *Builder_add(BuilderObject *self, PyObject *args) {
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "OO:add", &name, &value)) return NULL;
    return Builder_do(self, name, value, ADD_ANY);
}
static PyObject *Builder_add_string(BuilderObject *self, PyObject *args) {
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "OO:add_string", &name, &value)) return NULL;
    return Builder_do(self, name, value, ADD_STRING);
}
static PyObject *Builder_add_int(BuilderObject *self, PyObject *args) {
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "OO:add_int", &name, &value)) return NULL;
    return Builder_do(self, name, value, ADD_INT);
}
static PyObject *Builder_add_bool(BuilderObject *self, PyObject *args) {
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "OO:add_bool", &name, &value)) return NULL;
    return Builder_do(self, name, value, ADD_BOOL);
}
static PyObject *Builder_add_null(BuilderObject *self, PyObject *args) {
    PyObject *name;
    if (!PyArg_ParseTuple(args, "O:add_null", &name)) return NULL;
    return Builder_do(self, name, Py_None, ADD_NULL);
}
static PyObject *Builder_add_raw(BuilderObject *self, PyObject *args) {
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "OO:add_raw", &name, &value)) return NULL;
    return Builder_do(self, name, value, ADD_RAW);
}

static PyObject *Builder_finish(BuilderObject *self, PyObject *unused) {
    const void *head;
    size_t len;
    int rc;
    (void)unused;
    if (self->error) {
        raise_obj(self->error);
        return NULL;
    }
    if (self->head) {
        Py_INCREF(self->head);
        return self->head;
    }
    rc = frame_builder_finish(&self->h.b, &head, &len);
    if (rc) {
        builder_raise((frame_errno)rc, &self->cc, self->size);
        return NULL;
    }
    self->head = PyBytes_FromStringAndSize((const char *)head, (Py_ssize_t)len);
    Py_XINCREF(self->head);
    return self->head;
}

static int Builder_traverse(BuilderObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->config);
    Py_VISIT(self->ops);
    Py_VISIT(self->error);
    return 0;
}

static int Builder_clear(BuilderObject *self) {
    Py_CLEAR(self->config);
    Py_CLEAR(self->ops);
    Py_CLEAR(self->error);
    Py_CLEAR(self->head);
    Py_CLEAR(self->body_size);
    return 0;
}

static void Builder_dealloc(BuilderObject *self) {
    PyObject_GC_UnTrack(self);
    Builder_clear(self);
    if (self->h.buf && self->h.buf != self->h.small) PyMem_Free(self->h.buf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Builder_get_config(BuilderObject *self, void *c) {
    (void)c;
    if (!self->config) Py_RETURN_NONE;
    Py_INCREF(self->config);
    return self->config;
}
static PyObject *Builder_get_body_size(BuilderObject *self, void *c) {
    (void)c;
    if (!self->body_size) Py_RETURN_NONE;
    Py_INCREF(self->body_size);
    return self->body_size;
}

static PyGetSetDef Builder_getset[] = {
    {"config", (getter)Builder_get_config, NULL, "The builder's Config.", NULL},
    {"body_size", (getter)Builder_get_body_size, NULL, "The body length the frame declares.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef Builder_methods[] = {
    {"add", (PyCFunction)Builder_add, METH_VARARGS,
     "add(name, value): a member with any JSON-able value (None, bool, int, float, str, dict, "
     "list, tuple, RawJSON)."},
    {"add_string", (PyCFunction)Builder_add_string, METH_VARARGS,
     "add_string(name, value): a string member (str, or bytes holding UTF-8)."},
    {"add_int", (PyCFunction)Builder_add_int, METH_VARARGS, "add_int(name, value): an integer member (any magnitude)."},
    {"add_bool", (PyCFunction)Builder_add_bool, METH_VARARGS, "add_bool(name, value): true or false."},
    {"add_null", (PyCFunction)Builder_add_null, METH_VARARGS, "add_null(name): null."},
    {"add_raw", (PyCFunction)Builder_add_raw, METH_VARARGS,
     "add_raw(name, json_text): any JSON value given as text, validated and made canonical."},
    {"finish", (PyCFunction)Builder_finish, METH_NOARGS,
     "finish() -> bytes: prefix + header (the same bytes on every call)."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject BuilderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libframe.native.Builder",
    .tp_basicsize = sizeof(BuilderObject),
};

/* ------------------------------------------------------------------------ */
/* Module                                                                   */
/* ------------------------------------------------------------------------ */

static PyObject *mod_errname(PyObject *mod, PyObject *code) {
    long c = PyLong_AsLong(code);
    (void)mod;
    if (c == -1 && PyErr_Occurred()) return NULL;
    return PyUnicode_FromString(frame_errname((frame_errno)c));
}

static PyObject *mod_strerror(PyObject *mod, PyObject *code) {
    long c = PyLong_AsLong(code);
    (void)mod;
    if (c == -1 && PyErr_Occurred()) return NULL;
    return PyUnicode_FromString(frame_strerror((frame_errno)c));
}

static PyMethodDef module_methods[] = {
    {"errname", (PyCFunction)mod_errname, METH_O, "errname(code): frame_errname() of the C library."},
    {"strerror", (PyCFunction)mod_strerror, METH_O, "strerror(code): frame_strerror() of the C library."},
    {"encode", (PyCFunction)(void (*)(void))mod_encode, METH_VARARGS | METH_KEYWORDS,
     "encode(header, body=b'', config=None, **params) -> bytes: one canonical frame."},
    {"build_head", (PyCFunction)(void (*)(void))mod_build_head, METH_VARARGS | METH_KEYWORDS,
     "build_head(header, body_size, config=None, **params) -> bytes: prefix + canonical header."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "libframe._native",
    "libframe's C library compiled into a CPython extension (see libframe.native).", -1,
    module_methods, NULL, NULL, NULL, NULL};

static PyObject *import_attr(const char *module, const char *name) {
    PyObject *m = PyImport_ImportModule(module), *r;
    if (!m) return NULL;
    r = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return r;
}

/* A result type must be a tuple subclass without instance dict, so that
 * make_tuple can fill it like a tuple. */
static int check_tuple_type(PyObject *t) {
    PyTypeObject *tp = (PyTypeObject *)t;
    if (!PyType_Check(t) || !PyType_IsSubtype(tp, &PyTuple_Type) ||
        tp->tp_basicsize != PyTuple_Type.tp_basicsize || tp->tp_itemsize != PyTuple_Type.tp_itemsize) {
        PyErr_Format(PyExc_ImportError, "libframe._native: %R is not a plain tuple type", t);
        return -1;
    }
    return 0;
}

__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit__native(void);

PyMODINIT_FUNC PyInit__native(void) {
    PyObject *m, *cfg;
    if (!(g_error = import_attr("libframe._errors", "error")) ||
        !(g_frame = import_attr("libframe._types", "Frame")) ||
        !(g_header_event = import_attr("libframe._types", "HeaderEvent")) ||
        !(g_body_chunk = import_attr("libframe._types", "BodyChunk")) ||
        !(g_frame_end = import_attr("libframe._types", "FrameEnd")) ||
        !(g_rawjson = import_attr("libframe._types", "RawJSON")) ||
        !(g_big_int = import_attr("libframe._types", "_big_int")) ||
        !(g_int_text = import_attr("libframe._types", "int_text")) ||
        !(g_make_config = import_attr("libframe._config", "make_config")) ||
        !(g_config_type = import_attr("libframe._config", "Config")) ||
        !(g_raise_after = import_attr("libframe._decode", "_raise_after")) ||
        !(g_value_json = import_attr("libframe._encode", "value_json")) ||
        !(g_pure_head = import_attr("libframe._encode", "build_head")) ||
        !(g_empty_bytes = PyBytes_FromStringAndSize(NULL, 0)))
        return NULL;
    if (check_tuple_type(g_frame) || check_tuple_type(g_header_event) ||
        check_tuple_type(g_body_chunk) || check_tuple_type(g_frame_end))
        return NULL;
    cfg = make_config(Py_None, Py_None);
    if (!cfg || cconfig_from(cfg, &g_default_cc)) {
        Py_XDECREF(cfg);
        return NULL;
    }
    Py_DECREF(cfg);

    DecoderType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE;
    DecoderType.tp_doc = "Decoder(config=None, *, parse_float=None, **params): incremental frame "
                         "decoder running libframe's frame_feed (same interface as "
                         "libframe.pure.Decoder).";
    DecoderType.tp_new = PyType_GenericNew;
    DecoderType.tp_init = (initproc)Decoder_init;
    DecoderType.tp_dealloc = (destructor)Decoder_dealloc;
    DecoderType.tp_traverse = (traverseproc)Decoder_traverse;
    DecoderType.tp_clear = (inquiry)Decoder_clear;
    DecoderType.tp_methods = Decoder_methods;
    DecoderType.tp_getset = Decoder_getset;
    DecoderType.tp_repr = (reprfunc)Decoder_repr;
    if (PyType_Ready(&DecoderType) < 0) return NULL;

    BuilderType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE;
    BuilderType.tp_doc = "Builder(body_size, config=None, **params): builds prefix + canonical "
                         "header member by member with libframe's frame_builder (same interface as "
                         "libframe.pure.Builder).";
    BuilderType.tp_new = PyType_GenericNew;
    BuilderType.tp_init = (initproc)Builder_init;
    BuilderType.tp_dealloc = (destructor)Builder_dealloc;
    BuilderType.tp_traverse = (traverseproc)Builder_traverse;
    BuilderType.tp_clear = (inquiry)Builder_clear;
    BuilderType.tp_methods = Builder_methods;
    BuilderType.tp_getset = Builder_getset;
    if (PyType_Ready(&BuilderType) < 0) return NULL;

    m = PyModule_Create(&module_def);
    if (!m) return NULL;
    Py_INCREF(&DecoderType);
    Py_INCREF(&BuilderType);
    if (PyModule_AddObject(m, "Decoder", (PyObject *)&DecoderType) < 0 ||
        PyModule_AddObject(m, "Builder", (PyObject *)&BuilderType) < 0 ||
        PyModule_AddStringConstant(m, "version", frame_version()) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
