/* libframe._native: a validated header -> Python objects (see native.h). */
#include "native.h"

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
    if (*q == '\\') /* the closing quote: the first one after an even run of backslashes */
        for (;;) {
            const unsigned char *b;
            q = (const unsigned char *)memchr(q, '"', (size_t)(end - q));
            if (!q) return bad_header();
            for (b = q; b > s && b[-1] == '\\';) b--;
            if ((q - b) % 2 == 0) break;
            q++;
        }
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
PyObject *header_dict(const frame_value *root, PyObject *parse_float, key_slot *keys) {
    walker w;
    w.p = (const unsigned char *)root->json;
    w.end = w.p + root->len;
    w.parse_float = parse_float;
    w.keys = keys;
    w.root = 1;
    return walk_value(&w);
}

